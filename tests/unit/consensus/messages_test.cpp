// Consensus messages (consensus/messages.hpp): envelope and body codecs,
// strict decoding, allocation bounds, and what the envelope signature covers.
#include "harness.hpp"
#include "../support/alloc_probe.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using consensus::msg_type;

namespace {

constexpr std::uint8_t all_types[] = {1, 2, 3, 4, 5, 6, 7, 8};

/// Sample values of every body, built from the deterministic fixtures.
struct samples {
    test_network net{4};
    mem_chain chain = net.open_chain();
    finalized_block fb1 = net.next_block(chain, {net.vote(1), net.vote(2)});
    hash32 h1 = block_hash<S>(fb1.blk.header);
    consensus::prepared_certificate pc = prepared_cert(net, 1, 0, h1, {0, 2, 3});

    consensus::proposal_body proposal() const {
        // round 1 re-proposal justified by two round changes, one carrying a prepared certificate
        return {fb1.blk, {signed_rc(net, 1, 1, 1, pc), signed_rc(net, 3, 1, 1)}};
    }
    consensus::commit_body commit() const {
        return {h1, make_seal<S>(net.validators[2], 2, net.genesis.chain_id, 1, 0, h1).sig};
    }
    consensus::round_change_body rc_with() const { return {pc}; }
    consensus::round_change_body rc_without() const { return {}; }
    consensus::status_body status() const { return {41, S::hash(bytes{4, 1})}; }
    consensus::get_blocks_body get_blocks() const { return {7, 64}; }
    std::vector<bytes> blocks() const {
        auto c = net.open_chain();
        REQUIRE(c.append(fb1));
        auto fb2 = net.next_block(c, {net.vote(3)});
        return {encode(fb1), encode(fb2)};
    }
    std::vector<vote_tx> txs() const { return {net.vote(5), net.vote(6, 2, 1), net.vote(7, 1, 3)}; }

    /// A body of the right kind for each message type (and an attachment for ROUND-CHANGE).
    consensus::envelope envelope_of(msg_type t, std::uint32_t sender = 2) const {
        consensus::envelope e;
        e.chain_id = net.genesis.chain_id;
        e.type = t;
        e.sender = sender;
        e.height = 0x0102030405060708ull;
        e.round = 0x0a0b0c0d;
        switch (t) {
        case msg_type::proposal: e.body = consensus::encode(proposal()); break;
        case msg_type::prepare: e.body = consensus::encode_prepare(h1); break;
        case msg_type::commit: e.body = consensus::encode(commit()); break;
        case msg_type::round_change:
            e.body = consensus::encode(rc_with());
            e.attachment = encode(fb1.blk);
            break;
        case msg_type::status: e.body = consensus::encode(status()); break;
        case msg_type::get_blocks: e.body = consensus::encode(get_blocks()); break;
        case msg_type::blocks: e.body = consensus::encode_blocks(blocks()); break;
        case msg_type::txs: e.body = consensus::encode_txs(txs()); break;
        }
        consensus::sign_envelope<S>(e, net.validators[sender]);
        return e;
    }
};

/// `dec(enc)` succeeds; every strict prefix and `enc` plus one byte fail.
template <class Dec>
void check_strict(const bytes& enc, Dec dec) {
    REQUIRE(dec(byte_view(enc)));
    for (std::size_t n = 0; n < enc.size(); ++n) {
        INFO("prefix of " << n << " of " << enc.size() << " bytes");
        CHECK_FALSE(dec(byte_view(enc.data(), n)));
    }
    bytes longer = enc;
    longer.push_back(0);
    auto r = dec(byte_view(longer));
    REQUIRE_FALSE(r);
    CHECK(r.error() == make_error(core::errc::trailing_bytes));
}

bool verifies(const test_network& net, std::uint32_t v, const consensus::envelope& e) {
    return consensus::verify_envelope_sig<S>(net.validators[v].public_key(), consensus::signing_bytes(e), e.sig);
}

void put_u32(bytes& b, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<byte>(v >> (8 * i)));
}

}  // namespace

// ---- round trips -------------------------------------------------------------------

TEST_CASE("envelope of every msg_type round-trips through encode/decode", "[consensus][messages]") {
    const samples s;
    for (auto t : all_types) {
        const auto type = static_cast<msg_type>(t);
        INFO(consensus::to_string(type));
        const auto e = s.envelope_of(type);
        const bytes enc = consensus::encode(e);
        std::size_t signed_len = 0;
        auto d = consensus::decode_envelope(enc, &signed_len);
        REQUIRE(d);
        CHECK(*d == e);
        CHECK(d->type == type);
        CHECK(consensus::encode(*d) == enc);
        // the signed prefix is exactly signing_bytes(), followed by sig and var(attachment)
        const bytes sb = consensus::signing_bytes(e);
        CHECK(signed_len == sb.size());
        CHECK(bytes(enc.begin(), enc.begin() + static_cast<std::ptrdiff_t>(signed_len)) == sb);
        CHECK(enc.size() == sb.size() + 64 + 4 + e.attachment.size());
        CHECK(enc[0] == consensus::envelope_tag);
    }
}

TEST_CASE("proposal body with justification round-trips", "[consensus][messages]") {
    const samples s;
    const auto p = s.proposal();
    REQUIRE(p.justification.size() == 2);
    REQUIRE(p.justification[0].body.prepared);
    REQUIRE_FALSE(p.justification[1].body.prepared);
    auto d = consensus::decode_proposal(consensus::encode(p));
    REQUIRE(d);
    CHECK(*d == p);
    // round 0 form: no justification
    const consensus::proposal_body p0{s.fb1.blk, {}};
    CHECK(consensus::decode_proposal(consensus::encode(p0)).value() == p0);
}

TEST_CASE("commit, status, get_blocks and prepare bodies round-trip", "[consensus][messages]") {
    const samples s;
    const auto c = s.commit();
    const auto dc = consensus::decode_commit(consensus::encode(c)).value();
    CHECK(dc.block_hash == c.block_hash);
    CHECK(dc.seal == c.seal);
    const auto st = s.status();
    const auto ds = consensus::decode_status(consensus::encode(st)).value();
    CHECK(ds.height == st.height);
    CHECK(ds.head_hash == st.head_hash);
    const auto g = s.get_blocks();
    const auto dg = consensus::decode_get_blocks(consensus::encode(g)).value();
    CHECK(dg.from == g.from);
    CHECK(dg.count == g.count);
    CHECK(consensus::decode_prepare(consensus::encode_prepare(s.h1)).value() == s.h1);
}

TEST_CASE("round change body round-trips with and without a prepared certificate", "[consensus][messages]") {
    const samples s;
    const auto with = s.rc_with();
    const auto without = s.rc_without();
    CHECK(consensus::decode_round_change(consensus::encode(with)).value() == with);
    CHECK(consensus::decode_round_change(consensus::encode(without)).value() == without);
    CHECK(consensus::encode(without) == bytes{0});
    CHECK(consensus::encode(with).size() == 1 + 4 + 32 + 4 + 3 * (4 + 64));
}

TEST_CASE("blocks and txs bodies round-trip", "[consensus][messages]") {
    const samples s;
    const auto raw = s.blocks();
    auto d = consensus::decode_blocks(consensus::encode_blocks(raw));
    REQUIRE(d);
    REQUIRE(d->size() == 2);
    CHECK((*d)[0] == s.fb1);
    CHECK(encode((*d)[1]) == raw[1]);
    CHECK(consensus::decode_blocks(consensus::encode_blocks({})).value().empty());
    const auto txs = s.txs();
    CHECK(consensus::decode_txs(consensus::encode_txs(txs)).value() == txs);
    CHECK(consensus::decode_txs(consensus::encode_txs({})).value().empty());
}

// ---- strict decoding -----------------------------------------------------------------

TEST_CASE("strict decoding: every truncation and a trailing byte fail, for the envelope and every body",
          "[consensus][messages]") {
    const samples s;
    for (auto t : all_types) {
        INFO(consensus::to_string(static_cast<msg_type>(t)));
        check_strict(consensus::encode(s.envelope_of(static_cast<msg_type>(t))),
                     [](byte_view b) { return consensus::decode_envelope(b); });
    }
    check_strict(consensus::encode(s.proposal()), [](byte_view b) { return consensus::decode_proposal(b); });
    check_strict(consensus::encode_prepare(s.h1), [](byte_view b) { return consensus::decode_prepare(b); });
    check_strict(consensus::encode(s.commit()), [](byte_view b) { return consensus::decode_commit(b); });
    check_strict(consensus::encode(s.rc_with()), [](byte_view b) { return consensus::decode_round_change(b); });
    check_strict(consensus::encode(s.rc_without()), [](byte_view b) { return consensus::decode_round_change(b); });
    check_strict(consensus::encode(s.status()), [](byte_view b) { return consensus::decode_status(b); });
    check_strict(consensus::encode(s.get_blocks()), [](byte_view b) { return consensus::decode_get_blocks(b); });
    check_strict(consensus::encode_blocks(s.blocks()), [](byte_view b) { return consensus::decode_blocks(b); });
    check_strict(consensus::encode_txs(s.txs()), [](byte_view b) { return consensus::decode_txs(b); });
}

TEST_CASE("strict decoding: a wrong envelope tag or an unknown msg_type fails", "[consensus][messages]") {
    const samples s;
    const bytes enc = consensus::encode(s.envelope_of(msg_type::prepare));
    REQUIRE(consensus::decode_envelope(enc));
    for (int tag = 0; tag < 256; ++tag) {
        if (tag == consensus::envelope_tag) continue;
        bytes b = enc;
        b[0] = static_cast<byte>(tag);
        auto r = consensus::decode_envelope(b);
        REQUIRE_FALSE(r);
        CHECK(r.error() == make_error(core::errc::bad_tag));
    }
    constexpr std::size_t type_offset = 1 + 8;
    for (int type = 0; type < 256; ++type) {
        if (type >= 1 && type <= 8) continue;
        bytes b = enc;
        b[type_offset] = static_cast<byte>(type);
        auto r = consensus::decode_envelope(b);
        REQUIRE_FALSE(r);
        CHECK(r.error() == make_error(core::errc::bad_tag));
    }
    // a body's own flag byte: the round change "has prepared" flag is 0 or 1 only
    bytes rc = consensus::encode(s.rc_without());
    rc[0] = 2;
    CHECK_FALSE(consensus::decode_round_change(rc));
    // a chain object is not a message: an encoded block or tx never decodes as an envelope
    CHECK_FALSE(consensus::decode_envelope(encode(s.fb1.blk)));
    CHECK_FALSE(consensus::decode_envelope(encode(s.net.vote(1))));
}

TEST_CASE("strict decoding: prepared certificate seals must be strictly ascending", "[consensus][messages]") {
    const samples s;
    auto swapped = s.rc_with();
    std::swap(swapped.prepared->prepares[0], swapped.prepared->prepares[1]);  // 2, 0, 3
    auto dup = s.rc_with();
    dup.prepared->prepares[1].validator = dup.prepared->prepares[0].validator;  // 0, 0, 3
    for (const auto& bad : {swapped, dup}) {
        auto r = consensus::decode_round_change(consensus::encode(bad));
        REQUIRE_FALSE(r);
        CHECK(r.error() == make_error(core::errc::non_canonical));
        // the same certificate inside a proposal's justification
        auto p = s.proposal();
        p.justification[0].body = bad;
        CHECK_FALSE(consensus::decode_proposal(consensus::encode(p)));
        // and inside the signed-state record
        consensus::signed_record rec;
        rec.prepared = bad.prepared;
        CHECK_FALSE(consensus::decode_signed_record(consensus::encode(rec)));
    }
}

TEST_CASE("strict decoding: oversize counts and lengths fail without allocating", "[consensus][messages]") {
    const samples s;
    std::vector<std::pair<std::string, bytes>> cases;
    auto header = [&](msg_type t) {
        bytes b = consensus::signing_bytes(1337, t, 0, 1, 0, {});
        b.resize(b.size() - 4);  // drop the empty body's length: the case writes its own
        return b;
    };
    for (std::uint32_t len : {0xffffffffu, std::uint32_t{64u << 20}, 1000000u}) {
        bytes b = header(msg_type::txs);
        put_u32(b, len);  // body length far beyond the 8 bytes that follow
        b.insert(b.end(), 8, 0);
        cases.emplace_back("envelope body length " + std::to_string(len), b);
        bytes a = consensus::signing_bytes(1337, msg_type::txs, 0, 1, 0, {});
        a.insert(a.end(), 64, 0);  // sig
        put_u32(a, len);           // attachment length
        a.insert(a.end(), 8, 0);
        cases.emplace_back("attachment length " + std::to_string(len), a);
    }
    for (std::uint32_t n : {0xffffffffu, 100'001u, 100'000u, 2u}) {
        bytes b;
        put_u32(b, n);  // tx count, then one byte
        b.push_back(0);
        cases.emplace_back("txs count " + std::to_string(n), b);
    }
    for (std::uint32_t n : {0xffffffffu, 257u, 256u}) {
        bytes b;
        put_u32(b, n);
        b.insert(b.end(), 16, 0);
        cases.emplace_back("blocks count " + std::to_string(n), b);
    }
    for (std::uint32_t n : {0xffffffffu, 257u, 256u, 1u}) {
        bytes b{1, 0, 0, 0, 0};  // has prepared, round 0
        b.insert(b.end(), 32, 0);  // block hash
        put_u32(b, n);             // seal count, then 10 bytes
        b.insert(b.end(), 10, 0);
        cases.emplace_back("prepared seals count " + std::to_string(n), b);
    }
    for (std::uint32_t n : {0xffffffffu, 257u, 256u, 1u}) {
        bytes b = encode(s.fb1.blk);
        put_u32(b, n);  // justification count, then 10 bytes
        b.insert(b.end(), 10, 0);
        cases.emplace_back("justification count " + std::to_string(n), b);
    }
    if (alloc_probe::enabled()) {  // control: the probe does see a decoder's allocations
        const bytes ok = consensus::encode_txs(s.txs());
        alloc_probe probe;
        REQUIRE(consensus::decode_txs(ok));
        CHECK(probe.largest() >= 3 * sizeof(vote_tx));
    }
    for (auto& [name, b] : cases) {
        INFO(name);
        alloc_probe probe;
        bool failed = false;
        if (name.starts_with("envelope") || name.starts_with("attachment"))
            failed = !consensus::decode_envelope(b);
        else if (name.starts_with("txs"))
            failed = !consensus::decode_txs(b);
        else if (name.starts_with("blocks"))
            failed = !consensus::decode_blocks(b);
        else if (name.starts_with("prepared"))
            failed = !consensus::decode_round_change(b);
        else
            failed = !consensus::decode_proposal(b);
        CHECK(failed);
        // every claimed size here would need well over 4 KiB; the decoder must refuse before allocating it
        if (alloc_probe::enabled()) CHECK(probe.largest() <= 4096);
    }
    // exact reasons: over the hard bound vs. more than the bytes left
    bytes over;
    put_u32(over, 100'001);
    over.push_back(0);
    CHECK(consensus::decode_txs(over).error() == make_error(core::errc::length_too_large));
    bytes left;
    put_u32(left, 2);
    left.push_back(0);
    CHECK(consensus::decode_txs(left).error() == make_error(core::errc::truncated));
    bytes blocks_over;
    put_u32(blocks_over, 257);
    CHECK(consensus::decode_blocks(blocks_over).error() == make_error(core::errc::length_too_large));
    const bytes too_big(consensus::msg_limits::max_message_bytes + 1, 0);
    CHECK(consensus::decode_envelope(too_big).error() == make_error(core::errc::length_too_large));
}

// ---- signatures ------------------------------------------------------------------------

TEST_CASE("sign_envelope + verify_envelope_sig accept the signed envelope of every type", "[consensus][messages]") {
    const samples s;
    for (auto t : all_types) {
        INFO(consensus::to_string(static_cast<msg_type>(t)));
        const auto e = s.envelope_of(static_cast<msg_type>(t), 3);
        CHECK(verifies(s.net, 3, e));
        // the engine's path: the received bytes, cut at the signed length the decoder reports
        const bytes enc = consensus::encode(e);
        std::size_t signed_len = 0;
        REQUIRE(consensus::decode_envelope(enc, &signed_len));
        CHECK(consensus::verify_envelope_sig<S>(s.net.validators[3].public_key(),
                                                   byte_view(enc.data(), signed_len), e.sig));
        // another validator's key does not verify it
        CHECK_FALSE(verifies(s.net, 1, e));
    }
}

TEST_CASE("the envelope signature fails when chain id, type, sender, height, round or any body byte changes",
          "[consensus][messages]") {
    const samples s;
    const auto e = s.envelope_of(msg_type::proposal, 2);
    REQUIRE(verifies(s.net, 2, e));
    auto x = e;
    x.chain_id ^= 1;
    CHECK_FALSE(verifies(s.net, 2, x));
    for (auto t : all_types) {
        if (static_cast<msg_type>(t) == e.type) continue;
        x = e;
        x.type = static_cast<msg_type>(t);
        CHECK_FALSE(verifies(s.net, 2, x));
    }
    for (std::uint32_t sender : {0u, 1u, 3u, 0x80000002u}) {
        x = e;
        x.sender = sender;  // still checked against validator 2's key: the claim of authorship is signed
        CHECK_FALSE(verifies(s.net, 2, x));
    }
    for (int bit = 0; bit < 64; ++bit) {
        x = e;
        x.height ^= std::uint64_t{1} << bit;
        CHECK_FALSE(verifies(s.net, 2, x));
    }
    for (int bit = 0; bit < 32; ++bit) {
        x = e;
        x.round ^= std::uint32_t{1} << bit;
        CHECK_FALSE(verifies(s.net, 2, x));
    }
    std::size_t body_failures = 0;
    for (std::size_t i = 0; i < e.body.size(); ++i) {
        x = e;
        x.body[i] ^= 0x01;
        if (!verifies(s.net, 2, x)) ++body_failures;
    }
    CHECK(body_failures == e.body.size());
    x = e;
    x.body.push_back(0);
    CHECK_FALSE(verifies(s.net, 2, x));
    x = e;
    x.body.pop_back();
    CHECK_FALSE(verifies(s.net, 2, x));
    for (std::size_t i = 0; i < x.sig.data.size(); i += 7) {
        x = e;
        x.sig.data[i] ^= 0x80;
        CHECK_FALSE(verifies(s.net, 2, x));
    }
}

TEST_CASE("the attachment is NOT covered by the envelope signature (checked against the signed prepared hash instead)",
          "[consensus][messages]") {
    const samples s;
    const auto e = s.envelope_of(msg_type::round_change, 1);
    REQUIRE_FALSE(e.attachment.empty());
    REQUIRE(verifies(s.net, 1, e));
    for (const bytes& other : {bytes{}, bytes{1, 2, 3}, encode(s.net.next_block(s.chain, {}).blk)}) {
        auto x = e;
        x.attachment = other;
        CHECK(consensus::signing_bytes(x) == consensus::signing_bytes(e));
        CHECK(verifies(s.net, 1, x));
        // also through the encoded bytes, as the engine checks it
        const bytes enc = consensus::encode(x);
        std::size_t signed_len = 0;
        REQUIRE(consensus::decode_envelope(enc, &signed_len));
        CHECK(consensus::verify_envelope_sig<S>(s.net.validators[1].public_key(),
                                                   byte_view(enc.data(), signed_len), x.sig));
    }
}
