// net/handshake.hpp and net/record.hpp as pure state machines: who is accepted, who is
// refused and why, and the frame/record bounds.
#include <ballotchain/net/handshake.hpp>
#include <ballotchain/net/record.hpp>

#include <ballotchain/crypto/ed25519_sha256.hpp>

#include "../support/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using net::errc;

namespace {

using test::key;  // tests/unit/support/fixtures.hpp


net::handshake_context ctx(const genesis_config& g, int i) {
    return net::handshake_context::make<ed25519_sha256>(g, key(i), static_cast<std::uint32_t>(i)).value();
}

/// Runs a handshake between `a` (dialling index `to`) and `b`; returns b's error or a's, or success.
struct outcome {
    error_code initiator, responder;
    std::optional<net::refusal> refusal;
    bool done = false;
};
outcome run(const net::handshake_context& a, const net::handshake_context& b, std::uint32_t to) {
    auto i = net::handshake::initiator(a, to);
    auto r = net::handshake::responder(b);
    outcome o;
    auto m1 = i.start().value();
    REQUIRE(m1.size() == net::handshake_message_size[0]);
    auto m2 = r.on_message(m1, &o.refusal);
    if (!m2) {
        o.responder = m2.error();
        return o;
    }
    REQUIRE(m2->size() == net::handshake_message_size[1]);
    auto m3 = i.on_message(*m2);
    if (!m3) {
        o.initiator = m3.error();
        return o;
    }
    REQUIRE(m3->size() == net::handshake_message_size[2]);
    auto end = r.on_message(*m3, &o.refusal);
    if (!end) {
        o.responder = end.error();
        return o;
    }
    CHECK(end->empty());
    o.done = i.done() && r.done();
    CHECK(r.peer() == b.id_of_link(a.static_key.pub));  // the responder names the initiator by its key
    if (a.self) CHECK(r.peer() == *a.self);
    CHECK(b.self == i.peer());
    CHECK(i.handshake_hash() == r.handshake_hash());
    return o;
}

/// The first `n` test keys, as a registry (ids 0..n-1).
std::vector<public_key> keys_of(int n) {
    std::vector<public_key> r;
    for (int i = 0; i < n; ++i) r.push_back(key(i).public_key());
    return r;
}

/// Key `i`'s context on chain `g` with a registry of the first `n` keys (no id when i >= n).
net::handshake_context reg_ctx(const genesis_config& g, int n, int i) {
    return net::handshake_context::make<ed25519_sha256>(g.chain_id, genesis_hash<ed25519_sha256>(g), keys_of(n), key(i)).value();
}

/// Distinct keys beyond the fixtures' 256 (their seeds repeat mod 256).
public_key other_key(int i) {
    secret_key sk;
    for (std::size_t b = 0; b < sk.data.size(); ++b) sk.data[b] = static_cast<byte>(0xa5 ^ b);
    sk.data[0] = static_cast<byte>(i);
    sk.data[1] = static_cast<byte>(i >> 8);
    return ed25519_sha256::from_secret(sk).public_key();
}

}  // namespace

TEST_CASE("p2p handshake: two genesis validators authenticate each other; sizes are fixed", "[net]") {
    const auto g = test::genesis_of(4, 7);
    const auto c0 = ctx(g, 0), c2 = ctx(g, 2);
    auto o = run(c0, c2, 2);
    CHECK(o.done);
    CHECK_FALSE(o.initiator);
    CHECK_FALSE(o.responder);
    CHECK(net::handshake_message_size[0] == 77);
    CHECK(net::handshake_message_size[1] == 100);
    CHECK(net::handshake_message_size[2] == 68);
}

TEST_CASE("p2p handshake: another chain, a stale address, an impostor and self are refused with their reason", "[net]") {
    const auto g = test::genesis_of(3, 7);
    SECTION("another chain id: the responder refuses message 1 and says so") {
        const auto other = test::genesis_of(3, 8);
        auto o = run(ctx(other, 0), ctx(g, 1), 1);
        CHECK(o.responder == make_error(errc::wrong_chain));
        CHECK(o.refusal == net::refusal::wrong_chain);
    }
    SECTION("the same chain id with another genesis (e.g. other validators) is another chain too") {
        auto g2 = g;
        g2.block_interval_ms += 1;
        auto o = run(ctx(g2, 0), ctx(g, 1), 1);
        CHECK(o.responder == make_error(errc::wrong_chain));
    }
    SECTION("dialling validator 2 at an address where validator 1 listens") {
        auto o = run(ctx(g, 0), ctx(g, 1), 2);
        CHECK(o.responder == make_error(errc::wrong_peer));
        CHECK(o.refusal == net::refusal::wrong_peer);
    }
    SECTION("an impostor: a key not in genesis claiming validator 0's index") {
        auto fake = ctx(g, 0);
        fake.static_key = noise::keypair_from_secret(ed25519_sha256::link_secret(key(77)));
        auto o = run(fake, ctx(g, 1), 1);
        CHECK(o.responder == make_error(errc::unknown_key));
    }
    SECTION("a responder that is not who it claims: the initiator checks its static key") {
        auto fake = ctx(g, 1);
        fake.static_key = noise::keypair_from_secret(ed25519_sha256::link_secret(key(77)));
        auto o = run(ctx(g, 0), fake, 1);
        CHECK(o.initiator == make_error(errc::unknown_key));
    }
    SECTION("a validator dialling itself") {
        auto self_as_initiator = ctx(g, 1);
        auto o = run(self_as_initiator, ctx(g, 1), 1);
        CHECK(o.responder == make_error(errc::self_connection));
    }
    SECTION("the initiator reads a refusal instead of message 2") {
        const auto c0 = ctx(g, 0);
        auto i = net::handshake::initiator(c0, 1);
        (void)i.start().value();
        auto r = i.on_message(bytes{static_cast<byte>(net::refusal::wrong_chain)});
        CHECK(r.error() == make_error(errc::refused));
        CHECK(i.refused() == net::refusal::wrong_chain);
    }
    SECTION("a message of the wrong size is refused before any crypto") {
        const auto c1 = ctx(g, 1);
        auto r = net::handshake::responder(c1);
        CHECK(r.on_message(bytes(76)).error() == make_error(errc::bad_handshake));
        CHECK(r.on_message(bytes(78)).error() == make_error(errc::bad_handshake));
    }
}

TEST_CASE("p2p handshake: a relay between two validators gets nowhere", "[net]") {
    const auto g = test::genesis_of(3, 7);
    const auto c0 = ctx(g, 0), c1 = ctx(g, 1), c2 = ctx(g, 2);
    SECTION("forwarding 0's message 1 for validator 1 to validator 2: refused (wrong peer)") {
        auto i = net::handshake::initiator(c0, 1);
        auto r = net::handshake::responder(c2);
        CHECK(r.on_message(i.start().value()).error() == make_error(errc::wrong_peer));
    }
    SECTION("rewriting the dialled index in message 1 on the way: message 2 fails at the initiator") {
        auto i = net::handshake::initiator(c0, 1);
        auto r = net::handshake::responder(c2);
        auto m1 = i.start().value();
        m1.back() = 2;  // u32 index, big-endian: 1 -> 2
        auto m2 = r.on_message(m1);
        REQUIRE(m2.has_value());  // validator 2 answers ...
        CHECK(i.on_message(*m2).error() == make_error(errc::bad_handshake));  // ... but the transcripts differ
    }
    SECTION("the relay's own ephemeral key towards each side: it can complete neither") {
        // The relay answers 0 as "validator 1" using its own key: 0 refuses the static key.
        auto fake1 = c1;
        fake1.static_key = noise::keypair_from_secret(ed25519_sha256::link_secret(key(66)));
        auto i = net::handshake::initiator(c0, 1);
        auto relay_as_1 = net::handshake::responder(fake1);
        auto m2 = relay_as_1.on_message(i.start().value()).value();
        CHECK(i.on_message(m2).error() == make_error(errc::unknown_key));
    }
    SECTION("replaying a whole recorded handshake of 0 to 1 to a fresh responder 1") {
        auto i = net::handshake::initiator(c0, 1);
        auto r = net::handshake::responder(c1);
        auto m1 = i.start().value();
        auto m2 = r.on_message(m1).value();
        auto m3 = i.on_message(m2).value();
        REQUIRE(r.on_message(m3).has_value());
        auto again = net::handshake::responder(c1);
        REQUIRE(again.on_message(m1).has_value());  // message 1 is a replayable hello ...
        CHECK(again.on_message(m3).error() == make_error(errc::bad_handshake));  // ... message 3 never fits again
        CHECK_FALSE(again.done());
    }
}

TEST_CASE("records: frames of every size round-trip; tampering, replay and oversize frames are refused", "[net]") {
    const auto g = test::genesis_of(2, 7);
    const auto c0 = ctx(g, 0), c1 = ctx(g, 1);
    auto i = net::handshake::initiator(c0, 1);
    auto r = net::handshake::responder(c1);
    auto m2 = r.on_message(i.start().value()).value();
    REQUIRE(r.on_message(i.on_message(m2).value()).has_value());
    auto [is, ir] = i.ciphers();
    auto [rs, rr] = r.ciphers();
    net::frame_sealer seal(is);
    net::frame_opener open(rr, 1u << 20);

    // splits a byte stream of records and opens each
    auto open_all = [](net::frame_opener& o, const bytes& wire, std::vector<bytes>& frames) -> error_code {
        std::size_t at = 0;
        while (at < wire.size()) {
            const std::size_t n = (std::size_t{wire[at]} << 8) | wire[at + 1];
            if (auto ec = o.open(byte_view(wire).subspan(at + 2, n), frames)) return ec;
            at += 2 + n;
        }
        return {};
    };

    SECTION("sizes around the record boundary, and several frames in a row") {
        bytes wire;
        std::vector<bytes> sent;
        for (std::size_t n : {std::size_t{1}, net::max_record_plaintext - 4, net::max_record_plaintext - 3,
                              net::max_record_plaintext, std::size_t{200'000}}) {
            bytes f(n);
            for (std::size_t k = 0; k < n; ++k) f[k] = static_cast<byte>(k * 7 + n);
            REQUIRE(seal.seal(f, wire));
            sent.push_back(std::move(f));
        }
        std::size_t expected = 0;
        for (auto& f : sent) expected += net::frame_sealer::sealed_size(f.size());
        CHECK(wire.size() == expected);
        std::vector<bytes> got;
        REQUIRE_FALSE(open_all(open, wire, got));
        CHECK(got == sent);
    }
    SECTION("a flipped bit, a replayed record, a dropped record") {
        bytes w1, w2;
        REQUIRE(seal.seal(bytes{1}, w1));
        REQUIRE(seal.seal(bytes{2}, w2));
        std::vector<bytes> got;
        auto bad = w1;
        bad[5] ^= 1;
        CHECK(open_all(open, bad, got) == make_error(errc::bad_record));
        net::frame_opener fresh(rr, 1u << 20);
        CHECK(open_all(fresh, w2, got) == make_error(errc::bad_record));  // w1 was dropped: nonce mismatch
    }
    SECTION("a frame above the bound is refused when its 4-byte length arrives, before any body is kept") {
        net::frame_opener small(rr, 1000);
        bytes wire;
        REQUIRE(seal.seal(bytes(5000, 1), wire));
        std::vector<bytes> got;
        CHECK(open_all(small, wire, got) == make_error(errc::frame_too_large));
        CHECK(small.buffered() == 0);
    }
    SECTION("a large frame is held only as far as it has arrived") {
        bytes wire;
        REQUIRE(seal.seal(bytes(300'000, 3), wire));
        std::vector<bytes> got;
        const std::size_t n = (std::size_t{wire[0]} << 8) | wire[1];
        REQUIRE_FALSE(open.open(byte_view(wire).subspan(2, n), got));
        CHECK(got.empty());
        CHECK(open.buffered() == net::max_record_plaintext - 4);
    }
    SECTION("record lengths outside 17..65535 are not records") {
        CHECK_FALSE(net::frame_opener::valid_record_size(16));
        CHECK(net::frame_opener::valid_record_size(17));
        CHECK(net::frame_opener::valid_record_size(65535));
    }
}

TEST_CASE("p2p handshake: registry ids; a node without an id claims 0xFFFFFFFF and is known by its key", "[net]") {
    const auto g = test::genesis_of(3, 7);
    const auto newcomer = reg_ctx(g, 3, 3);  // key 3 knows only the genesis registry: no id yet
    REQUIRE_FALSE(newcomer.self);
    const auto knows4 = reg_ctx(g, 4, 1);  // validator 1 after the change that added key 3 as id 3
    const auto knows3 = reg_ctx(g, 3, 1);  // validator 1 before it
    SECTION("the genesis convenience gives the same context as the registry form") {
        CHECK(ctx(g, 1).validator_keys == knows3.validator_keys);
        CHECK(ctx(g, 1).self == std::optional<std::uint32_t>(1));
        CHECK(net::handshake_context::make<ed25519_sha256>(g, key(5)).value().self == std::nullopt);
        CHECK(net::handshake_context::make<ed25519_sha256>(g, key(5), 0).error() == make_error(errc::unknown_key));
    }
    SECTION("a 0xFFFFFFFF claim from a key in the registry: accepted as that key's id") {
        auto o = run(newcomer, knows4, 1);
        CHECK(o.done);
        CHECK_FALSE(o.responder);
        auto i = net::handshake::initiator(newcomer, 1);
        auto r = net::handshake::responder(knows4);
        auto m2 = r.on_message(i.start().value()).value();
        REQUIRE(r.on_message(i.on_message(m2).value()).has_value());
        CHECK(r.peer() == 3);
    }
    SECTION("a 0xFFFFFFFF claim from a key not in the registry: refused") {
        auto o = run(newcomer, knows3, 1);
        CHECK_FALSE(o.done);
        CHECK(o.responder == make_error(errc::unknown_key));
    }
    SECTION("a claim of the right id is accepted; a wrong id for a known key is refused") {
        auto right = reg_ctx(g, 4, 3);
        REQUIRE(right.self == std::optional<std::uint32_t>(3));
        CHECK(run(right, knows4, 1).done);
        auto wrong = right;
        wrong.self = 2;  // key 3 claiming validator 2's id
        CHECK(run(wrong, knows4, 1).responder == make_error(errc::unknown_key));
        wrong.self = 0;  // ... or validator 0's
        CHECK(run(wrong, knows4, 1).responder == make_error(errc::unknown_key));
        wrong.self = 4;  // ... or an id nobody has
        CHECK(run(wrong, knows4, 1).responder == make_error(errc::unknown_key));
    }
    SECTION("a responder without an id refuses every dial as not the validator dialled") {
        auto o = run(reg_ctx(g, 4, 0), newcomer, 3);
        CHECK(o.responder == make_error(errc::wrong_peer));
        CHECK(o.refusal == net::refusal::wrong_peer);
    }
}

TEST_CASE("p2p handshake: the registry grows; ids never move; bad updates change nothing", "[net]") {
    const auto g = test::genesis_of(3, 7);
    auto c = reg_ctx(g, 3, 4);  // key 4: added second, after key 3
    const auto before = c.validator_keys;
    REQUIRE_FALSE(c.self);
    const auto k3 = key(3).public_key(), k4 = key(4).public_key();
    REQUIRE_FALSE(c.extend<ed25519_sha256>(std::vector<public_key>{k3}));
    CHECK_FALSE(c.self);
    REQUIRE_FALSE(c.extend<ed25519_sha256>(std::vector<public_key>{k4}));
    CHECK(c.self == std::optional<std::uint32_t>(4));
    REQUIRE(c.registry.size() == 5);
    CHECK(std::equal(before.begin(), before.end(), c.validator_keys.begin()));  // ids 0..2 kept
    CHECK(c.registry == keys_of(5));
    CHECK(c.id_of_link(*ed25519_sha256::link_public(k3)) == std::optional<std::uint32_t>(3));

    public_key identity;  // a small-order point: no link form
    identity.data[0] = 0x01;
    REQUIRE_FALSE(ed25519_sha256::link_public(identity));
    CHECK(c.extend<ed25519_sha256>(std::vector<public_key>{key(9).public_key(), identity}) == make_error(errc::bad_registry));
    CHECK(c.extend<ed25519_sha256>(std::vector<public_key>{key(1).public_key()}) == make_error(errc::bad_registry));  // re-added
    CHECK(c.extend<ed25519_sha256>(std::vector<public_key>{key(9).public_key(), key(9).public_key()}) ==
          make_error(errc::bad_registry));
    CHECK(c.registry.size() == 5);  // all or nothing
    CHECK(c.validator_keys.size() == 5);

    // at most limits::max_registry keys
    std::vector<public_key> many;
    for (int i = 0; many.size() < limits::max_registry - 5; ++i) many.push_back(other_key(i));
    REQUIRE_FALSE(c.extend<ed25519_sha256>(many));
    CHECK(c.registry.size() == limits::max_registry);
    CHECK(c.extend<ed25519_sha256>(std::vector<public_key>{other_key(5000)}) == make_error(errc::bad_registry));
    CHECK(net::handshake_context::make<ed25519_sha256>(1, hash32{}, c.registry, key(0)).has_value());
    auto over = c.registry;
    over.push_back(other_key(5000));
    CHECK(net::handshake_context::make<ed25519_sha256>(1, hash32{}, over, key(0)).error() == make_error(errc::bad_registry));
}
