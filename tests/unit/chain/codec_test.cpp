// chain/codec.hpp: round trips, strict decoding (truncation, trailing bytes,
// tags, bounds, canonical form), hash coverage, no large allocation on lies.
#include <ballotchain/chain/codec.hpp>

#include "../support/golden.hpp"
#include "../support/alloc_probe.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using core::errc;

namespace {
template <class Decode>
error_code decode_error(Decode decode, const bytes& in) {
    auto r = decode(byte_view(in));
    return r ? error_code{} : r.error();
}

const auto dec_tx = [](byte_view b) { return decode_tx(b); };
const auto dec_header = [](byte_view b) { return decode_header(b); };
const auto dec_block = [](byte_view b) { return decode_block(b); };
const auto dec_cert = [](byte_view b) { return decode_certificate(b); };
const auto dec_genesis = [](byte_view b) { return decode_genesis(b); };
const auto dec_fb = [](byte_view b) { return decode_finalized_block(b); };

/// Every proper prefix fails as truncated; one extra byte fails as trailing.
template <class Decode>
void check_strict_length(const bytes& enc, Decode decode) {
    for (std::size_t n = 0; n < enc.size(); ++n) {
        INFO("prefix of " << n << " of " << enc.size() << " bytes");
        auto r = decode(byte_view(enc.data(), n));
        REQUIRE_FALSE(r);
        CHECK(r.error() == make_error(errc::truncated));
    }
    REQUIRE(decode(byte_view(enc)));
    for (byte extra : {byte{0x00}, byte{0x01}, byte{0xff}}) {
        bytes longer = enc;
        longer.push_back(extra);
        CHECK(decode_error(decode, longer) == make_error(errc::trailing_bytes));
    }
}

/// Any single-byte change either fails to decode or decodes to a value whose
/// encoding is exactly the changed bytes: one encoding per value.
template <class Decode>
void check_canonical_under_mutation(const bytes& enc, Decode decode) {
    for (std::size_t i = 0; i < enc.size(); ++i)
        for (byte mask : {byte{0x01}, byte{0x80}, byte{0xff}}) {
            bytes m = enc;
            m[i] ^= mask;
            auto r = decode(byte_view(m));
            if (r) {
                INFO("byte " << i << " ^ " << int(mask));
                CHECK(encode(*r) == m);
            }
        }
}

void put_u32(bytes& b, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[off + static_cast<std::size_t>(i)] = static_cast<byte>(v >> (24 - 8 * i));
}

/// Offsets inside encodings (docs/data-format.md).
constexpr std::size_t tx_vote_len_at = 1 + 8 + 8 + 8;
constexpr std::size_t header_tx_count_at = 97;
constexpr std::size_t block_first_tx_at = 1 + 101 + 64;
constexpr std::size_t cert_count_at = 1 + 8 + 4 + 32;
constexpr std::size_t genesis_validator_count_at = 1 + 8 + 8;
}  // namespace

TEST_CASE("codec: every value round-trips through its encoding", "[chain][codec]") {
    golden_values g;
    CHECK(decode_tx(encode(g.tx)).value() == g.tx);
    CHECK(decode_header(encode(g.fb.blk.header)).value() == g.fb.blk.header);
    CHECK(decode_block(encode(g.fb.blk)).value() == g.fb.blk);
    CHECK(decode_certificate(encode(g.fb.cert)).value() == g.fb.cert);
    CHECK(decode_finalized_block(encode(g.fb)).value() == g.fb);
    CHECK(decode_genesis(encode(g.net.genesis)).value() == g.net.genesis);
    CHECK(decode_finalized_block(encode(g.g0)).value() == g.g0);
    CHECK(encode(g.fb.blk.header).size() == codec::header_size);
    CHECK(g.tx.auth.path.size() == 1);
    CHECK(encode(g.tx).size() == codec::min_vote_tx_size + g.tx.encrypted_vote.size() + 32);
    CHECK(encode_tx_payload(g.tx).size() == encode(g.tx).size() - codec::min_auth_size - 32);
    CHECK(g.seal_msg().size() == codec::seal_message_size);
}

TEST_CASE("codec: extreme values round-trip", "[chain][codec]") {
    constexpr auto u64max = ~std::uint64_t{0};
    constexpr auto u32max = ~std::uint32_t{0};
    vote_tx tx;  // all zero, empty vote
    CHECK(decode_tx(encode(tx)).value() == tx);
    CHECK(encode(tx).size() == codec::min_vote_tx_size);
    tx.chain_id = tx.election_id = tx.candidate_id = tx.timestamp_ms = u64max;
    tx.encrypted_vote.assign(limits::max_encrypted_vote_bytes, 0xab);  // the codec's hard bound
    tx.voter_tag.data.fill(0xff);
    tx.submitter.data.fill(0xfe);
    tx.auth.sig.data.fill(0xfd);
    CHECK(decode_tx(encode(tx)).value() == tx);
    tx.encrypted_vote.push_back(0);
    CHECK(decode_error(dec_tx, encode(tx)) == make_error(errc::length_too_large));

    block_header h{u64max, u64max, u32max, {}, u64max, u32max, {}, 0};
    CHECK(decode_header(encode(h)).value() == h);
    block empty_block{h, {}, {}};
    CHECK(decode_block(encode(empty_block)).value() == empty_block);

    commit_certificate c{u64max, u32max, {}, {}};
    CHECK(decode_certificate(encode(c)).value() == c);  // no seals
    for (std::uint32_t v = 0; v < limits::max_validators; ++v) c.seals.push_back({v * 3, {}});
    CHECK(decode_certificate(encode(c)).value() == c);
    c.seals.push_back({u32max, {}});
    CHECK(decode_error(dec_cert, encode(c)) == make_error(errc::length_too_large));

    genesis_config g;
    g.chain_id = u64max;
    g.empty_blocks = true;
    for (std::size_t i = 0; i < limits::max_validators; ++i)
        g.validators.push_back({std::string(i % (limits::max_name_bytes + 1), 'v'), key(static_cast<int>(i)).public_key()});
    g.submitters.assign(limits::max_submitters, key(100).public_key());
    CHECK(decode_genesis(encode(g)).value() == g);
    auto g2 = g;
    g2.validators.push_back({"x", {}});
    CHECK(decode_error(dec_genesis, encode(g2)) == make_error(errc::length_too_large));
    g2 = g;
    g2.submitters.push_back({});
    CHECK(decode_error(dec_genesis, encode(g2)) == make_error(errc::length_too_large));
    g2 = g;
    g2.validators[0].name.assign(limits::max_name_bytes + 1, 'n');
    CHECK(decode_error(dec_genesis, encode(g2)) == make_error(errc::length_too_large));
}

TEST_CASE("codec: every truncation fails as truncated; any trailing byte fails", "[chain][codec]") {
    golden_values g;
    SECTION("tx") { check_strict_length(encode(g.tx), dec_tx); }
    SECTION("header") { check_strict_length(encode(g.fb.blk.header), dec_header); }
    SECTION("block") { check_strict_length(encode(g.fb.blk), dec_block); }
    SECTION("certificate") { check_strict_length(encode(g.fb.cert), dec_cert); }
    SECTION("finalized block") { check_strict_length(encode(g.fb), dec_fb); }
    SECTION("genesis") { check_strict_length(encode(g.net.genesis), dec_genesis); }
    SECTION("block 0") { check_strict_length(encode(g.g0), dec_fb); }
}

TEST_CASE("codec: a wrong type tag fails, at the top and inside", "[chain][codec]") {
    golden_values g;
    const std::pair<bytes, std::function<error_code(const bytes&)>> cases[] = {
        {encode(g.tx), [](const bytes& b) { return decode_error(dec_tx, b); }},
        {encode(g.fb.blk.header), [](const bytes& b) { return decode_error(dec_header, b); }},
        {encode(g.fb.blk), [](const bytes& b) { return decode_error(dec_block, b); }},
        {encode(g.fb.cert), [](const bytes& b) { return decode_error(dec_cert, b); }},
        {encode(g.net.genesis), [](const bytes& b) { return decode_error(dec_genesis, b); }},
    };
    for (const auto& [enc, err] : cases) {
        for (int t = 0; t < 256; ++t) {
            if (t == enc[0]) continue;
            bytes b = enc;
            b[0] = static_cast<byte>(t);
            INFO("tag " << t << " instead of " << int(enc[0]));
            CHECK(err(b) == make_error(errc::bad_tag));
        }
    }
    bytes b = encode(g.fb.blk);
    b[1] = static_cast<byte>(tag::tx);  // the header inside the block
    CHECK(decode_error(dec_block, b) == make_error(errc::bad_tag));
    b = encode(g.fb.blk);
    b[block_first_tx_at] = static_cast<byte>(tag::header);  // the first tx
    CHECK(decode_error(dec_block, b) == make_error(errc::bad_tag));
    b = encode(g.fb);
    b[encode(g.fb.blk).size()] = static_cast<byte>(tag::block);  // the certificate after the block
    CHECK(decode_error(dec_fb, b) == make_error(errc::bad_tag));
    // a value of one kind is never accepted as another
    CHECK_FALSE(decode_header(encode(g.fb.cert)));
    CHECK_FALSE(decode_tx(encode(g.fb.blk)));
    CHECK_FALSE(decode_block(encode(g.fb.blk.header)));
}

TEST_CASE("codec: lying length and count prefixes fail without a large allocation", "[chain][codec]") {
    golden_values g;
    struct lie {
        const char* what;
        bytes input;
        std::function<error_code(const bytes&)> decode;
        error_code expected;
    };
    std::vector<lie> lies;
    auto add = [&](const char* what, bytes b, std::size_t off, std::uint32_t v, auto decode, errc why) {
        put_u32(b, off, v);
        lies.push_back({what, std::move(b), [decode](const bytes& in) { return decode_error(decode, in); }, make_error(why)});
    };
    add("tx vote length 4 GiB", encode(g.tx), tx_vote_len_at, 0xffffffffu, dec_tx, errc::length_too_large);
    add("tx vote length 64 KiB + 1", encode(g.tx), tx_vote_len_at, 65537, dec_tx, errc::length_too_large);
    add("tx vote length 64 KiB, 3 bytes there", encode(g.tx), tx_vote_len_at, 65536, dec_tx, errc::truncated);
    add("block tx_count 4 billion", encode(g.fb.blk), 1 + header_tx_count_at, 0xffffffffu, dec_block,
        errc::length_too_large);
    add("block tx_count 100000, 3 txs there", encode(g.fb.blk), 1 + header_tx_count_at, 100'000, dec_block,
        errc::truncated);
    add("block tx_count 4, 3 txs there", encode(g.fb.blk), 1 + header_tx_count_at, 4, dec_block, errc::truncated);
    add("certificate 4 billion seals", encode(g.fb.cert), cert_count_at, 0xffffffffu, dec_cert, errc::length_too_large);
    add("certificate 256 seals, 2 there", encode(g.fb.cert), cert_count_at, 256, dec_cert, errc::truncated);
    add("genesis 4 billion validators", encode(g.net.genesis), genesis_validator_count_at, 0xffffffffu, dec_genesis,
        errc::length_too_large);
    add("genesis 256 validators, 3 there", encode(g.net.genesis), genesis_validator_count_at, 256, dec_genesis,
        errc::truncated);
    add("genesis name length 4 GiB", encode(g.net.genesis), genesis_validator_count_at + 4, 0xffffffffu, dec_genesis,
        errc::length_too_large);
    {
        // the submitter count follows the validators
        std::size_t off = genesis_validator_count_at + 4;
        for (const auto& v : g.net.genesis.validators) off += 4 + v.name.size() + 32;
        add("genesis 4 billion submitters", encode(g.net.genesis), off, 0xffffffffu, dec_genesis, errc::length_too_large);
        add("genesis 1024 submitters, 1 there", encode(g.net.genesis), off, 1024, dec_genesis, errc::truncated);
    }
    for (const auto& l : lies) {
        INFO(l.what);
        std::size_t largest = 0;
        error_code ec;
        {
            alloc_probe probe;
            ec = l.decode(l.input);
            largest = probe.largest();
        }
        CHECK(ec == l.expected);
        if (alloc_probe::enabled()) CHECK(largest < 4096);
    }
}

TEST_CASE("codec: the probe does see a large allocation when the input is really large", "[chain][codec]") {
    if (!alloc_probe::enabled()) return;  // ASan build: no probe
    vote_tx tx;
    tx.encrypted_vote.assign(60'000, 1);
    const bytes enc = encode(tx);
    std::size_t largest = 0;
    {
        alloc_probe probe;
        CHECK(decode_tx(enc));
        largest = probe.largest();
    }
    CHECK(largest >= 60'000);
}

TEST_CASE("codec: seals must be strictly ascending; booleans are 0 or 1", "[chain][codec]") {
    golden_values g;
    auto cert = g.fb.cert;
    REQUIRE(cert.seals.size() == 2);
    std::swap(cert.seals[0], cert.seals[1]);
    CHECK(decode_error(dec_cert, encode(cert)) == make_error(errc::non_canonical));
    cert = g.fb.cert;
    cert.seals[1] = cert.seals[0];
    CHECK(decode_error(dec_cert, encode(cert)) == make_error(errc::non_canonical));
    cert = g.fb.cert;
    cert.seals[1].validator = cert.seals[0].validator;  // same validator, other signature
    CHECK(decode_error(dec_cert, encode(cert)) == make_error(errc::non_canonical));
    auto fb = g.fb;
    std::swap(fb.cert.seals[0], fb.cert.seals[1]);
    CHECK(decode_error(dec_fb, encode(fb)) == make_error(errc::non_canonical));

    bytes gen = encode(g.net.genesis);
    const std::size_t empty_at = gen.size() - (4 + 8 + 8 + 1);
    REQUIRE(gen[empty_at] == 0);
    gen[empty_at] = 1;
    CHECK(decode_genesis(gen).value().empty_blocks);
    for (int v : {2, 0x80, 0xff}) {
        gen[empty_at] = static_cast<byte>(v);
        CHECK(decode_error(dec_genesis, gen) == make_error(errc::non_canonical));
    }
}

TEST_CASE("codec: a changed byte never decodes to a value with another encoding", "[chain][codec]") {
    golden_values g;
    check_canonical_under_mutation(encode(g.tx), dec_tx);
    check_canonical_under_mutation(encode(g.fb.blk.header), dec_header);
    check_canonical_under_mutation(encode(g.fb.blk), dec_block);
    check_canonical_under_mutation(encode(g.fb.cert), dec_cert);
    check_canonical_under_mutation(encode(g.net.genesis), dec_genesis);
}

TEST_CASE("codec: the tx hash covers every field but the signature", "[chain][codec]") {
    golden_values g;
    const hash32 th = tx_hash<S>(g.tx);
    CHECK(th == sha256::hash(encode_tx_payload(g.tx)));
    const std::vector<std::pair<const char*, std::function<void(vote_tx&)>>> changes = {
        {"chain_id", [](vote_tx& t) { t.chain_id++; }},
        {"election_id", [](vote_tx& t) { t.election_id++; }},
        {"candidate_id", [](vote_tx& t) { t.candidate_id++; }},
        {"encrypted_vote byte", [](vote_tx& t) { t.encrypted_vote[0] ^= 1; }},
        {"encrypted_vote length", [](vote_tx& t) { t.encrypted_vote.push_back(0); }},
        {"voter_tag", [](vote_tx& t) { t.voter_tag.data[31] ^= 1; }},
        {"timestamp_ms", [](vote_tx& t) { t.timestamp_ms++; }},
        {"submitter", [](vote_tx& t) { t.submitter.data[0] ^= 1; }},
    };
    for (const auto& [name, change] : changes) {
        auto t = g.tx;
        change(t);
        INFO(name);
        CHECK(tx_hash<S>(t) != th);
    }
    auto t = g.tx;
    t.auth.sig.data[0] ^= 1;
    CHECK(tx_hash<S>(t) == th);
}

TEST_CASE("codec: the block hash covers every header field; seal messages bind chain, height, round, block", "[chain][codec]") {
    golden_values g;
    const auto& h0 = g.fb.blk.header;
    const hash32 bh = block_hash<S>(h0);
    CHECK(bh == sha256::hash(encode(h0)));
    const std::vector<std::pair<const char*, std::function<void(block_header&)>>> changes = {
        {"chain_id", [](block_header& h) { h.chain_id++; }},
        {"height", [](block_header& h) { h.height++; }},
        {"round", [](block_header& h) { h.round++; }},
        {"parent", [](block_header& h) { h.parent.data[7] ^= 1; }},
        {"timestamp_ms", [](block_header& h) { h.timestamp_ms++; }},
        {"proposer", [](block_header& h) { h.proposer++; }},
        {"tx_root", [](block_header& h) { h.tx_root.data[5] ^= 1; }},
        {"tx_count", [](block_header& h) { h.tx_count++; }},
    };
    for (const auto& [name, change] : changes) {
        auto h = h0;
        change(h);
        INFO(name);
        CHECK(block_hash<S>(h) != bh);
    }
    const bytes m = seal_message(1337, 1, 0, bh);
    CHECK(m != seal_message(1338, 1, 0, bh));
    CHECK(m != seal_message(1337, 2, 0, bh));
    CHECK(m != seal_message(1337, 1, 1, bh));
    CHECK(m != seal_message(1337, 1, 0, sha256::hash(bytes{})));
    CHECK(m[0] == static_cast<byte>(tag::seal));
}

TEST_CASE("codec: the genesis hash covers every genesis field", "[chain][codec]") {
    golden_values g;
    const hash32 gh = genesis_hash<S>(g.net.genesis);
    const std::vector<std::pair<const char*, std::function<void(genesis_config&)>>> changes = {
        {"chain_id", [](genesis_config& x) { x.chain_id++; }},
        {"timestamp_ms", [](genesis_config& x) { x.timestamp_ms++; }},
        {"validator name", [](genesis_config& x) { x.validators[0].name += "x"; }},
        {"validator key", [](genesis_config& x) { x.validators[0].key.data[0] ^= 1; }},
        {"validator order", [](genesis_config& x) { std::swap(x.validators[0], x.validators[1]); }},
        {"submitters", [](genesis_config& x) { x.submitters.push_back({}); }},
        {"block_interval_ms", [](genesis_config& x) { x.block_interval_ms++; }},
        {"max_block_txs", [](genesis_config& x) { x.max_block_txs++; }},
        {"empty_blocks", [](genesis_config& x) { x.empty_blocks = !x.empty_blocks; }},
        {"round_timeout_ms", [](genesis_config& x) { x.round_timeout_ms++; }},
        {"round_timeout_max_ms", [](genesis_config& x) { x.round_timeout_max_ms++; }},
        {"max_encrypted_vote_bytes", [](genesis_config& x) { x.max_encrypted_vote_bytes++; }},
    };
    for (const auto& [name, change] : changes) {
        auto x = g.net.genesis;
        change(x);
        INFO(name);
        CHECK(genesis_hash<S>(x) != gh);
    }
}

TEST_CASE("codec: decode_tx_at finds one tx of an encoded block without decoding the others", "[chain][codec]") {
    test_network net(3);
    auto c = net.open_chain();
    std::vector<vote_tx> txs;
    for (std::uint64_t v = 0; v < 5; ++v) {
        auto tx = net.vote(v);
        tx.encrypted_vote.resize(v * 37, static_cast<byte>(v));  // lengths differ, so skipping must read them
        sign_tx<S>(tx, net.submitter);
        txs.push_back(tx);
    }
    const auto fb = net.next_block(c, txs);
    for (const bytes& enc : {encode(fb), encode(fb.blk)}) {
        for (std::uint32_t i = 0; i < txs.size(); ++i) {
            auto tx = decode_tx_at(enc, i);
            REQUIRE(tx.has_value());
            CHECK(*tx == txs[i]);
        }
        CHECK(decode_tx_at(enc, 5).error() == make_error(core::errc::length_too_large));
        CHECK(decode_tx_at(byte_view(enc).first(200), 3).error() == make_error(core::errc::truncated));
    }
    bytes wrong = encode(fb);
    wrong[0] = 0x01;
    CHECK(decode_tx_at(wrong, 0).error() == make_error(core::errc::bad_tag));
    CHECK(decode_tx_at(bytes(10, 0), 0).error() == make_error(core::errc::truncated));
}
