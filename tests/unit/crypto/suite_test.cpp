// crypto/suite.hpp and its two models: the production suite (crypto/ed25519_sha256.hpp)
// and the simulator's INSECURE stand-in (tests/sim, target ballotchain_sim). Both keep
// the contract the chain relies on; only the production suite is a secure_suite.
#include <ballotchain/crypto/suite.hpp>

#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/noise.hpp>
#include <ballotchain/sim/insecure_suite.hpp>

#include "../support/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;

using test::seed;  // the deterministic secret keys of tests/unit/support/fixtures.hpp

static_assert(secure_suite<ed25519_sha256>);
static_assert(suite<sim::insecure_sim_suite>);
static_assert(!secure_suite<sim::insecure_sim_suite>, "the transport and handshake must refuse the INSECURE suite");
static_assert(!suite<sha256> && !suite<ed25519>, "a hasher or a signer alone is not a suite");

TEMPLATE_TEST_CASE("suite: sign/verify round trip; a changed message, signature or key is refused", "[crypto][suite]",
                   ed25519_sha256, sim::insecure_sim_suite) {
    using Suite = TestType;
    const auto a = Suite::from_secret(seed(1)), b = Suite::from_secret(seed(2));
    CHECK(a.public_key() != b.public_key());
    CHECK(Suite::from_secret(seed(1)).public_key() == a.public_key());  // deterministic
    const bytes msg{1, 2, 3, 4};
    const signature sig = Suite::sign(a, msg);
    CHECK(Suite::sign(a, msg) == sig);
    CHECK(Suite::verify(a.public_key(), msg, sig));
    CHECK_FALSE(Suite::verify(b.public_key(), msg, sig));
    CHECK_FALSE(Suite::verify(a.public_key(), bytes{1, 2, 3, 5}, sig));
    for (std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
        signature bad = sig;
        bad.data[i] ^= 0x01;
        CHECK_FALSE(Suite::verify(a.public_key(), msg, bad));
    }
    CHECK(Suite::hash(msg) == sha256::hash(msg));  // both hash with SHA-256: the chain's hashes are the same
}

TEMPLATE_TEST_CASE("suite: link keys agree: link_public(pk) is the X25519 key of link_secret(kp), DH matches",
                   "[crypto][suite]", ed25519_sha256, sim::insecure_sim_suite) {
    using Suite = TestType;
    const auto a = Suite::from_secret(seed(3)), b = Suite::from_secret(seed(4));
    const auto xa = noise::keypair_from_secret(Suite::link_secret(a)), xb = noise::keypair_from_secret(Suite::link_secret(b));
    REQUIRE(Suite::link_public(a.public_key()));
    CHECK(*Suite::link_public(a.public_key()) == xa.pub);
    CHECK(*Suite::link_public(b.public_key()) == xb.pub);
    noise::key32 ab, ba;
    REQUIRE(noise::dh(xa.secret, xb.pub, ab));
    REQUIRE(noise::dh(xb.secret, xa.pub, ba));
    CHECK(ab == ba);
}

TEST_CASE("suite: the production suite maps Ed25519 keys to X25519 and refuses a small-order key", "[crypto][suite]") {
    const auto e = ed25519::generate();
    CHECK(ed25519_sha256::verify(e.public_key(), bytes{7}, ed25519::sign(e, bytes{7})));  // it is Ed25519
    public_key small{};  // the identity point's encoding (0x01 00..00)
    small.data[0] = 1;
    CHECK_FALSE(ed25519_sha256::link_public(small));
}

TEST_CASE("suite: the INSECURE suite's signatures can be forged by anyone who knows the public key",
          "[crypto][suite]") {
    // What makes it unfit for anything but simulation, shown rather than stated: a
    // signature made from public data alone verifies.
    using Suite = sim::insecure_sim_suite;
    const auto victim = Suite::from_secret(seed(9));
    const bytes msg{0xba, 0xd0};
    sha256 h;
    h.update(as_bytes("ballotchain/INSECURE-sim/sig"));
    h.update(victim.public_key().view());
    h.update(msg);
    const hash32 d = h.finish();
    signature forged;
    std::copy(d.begin(), d.end(), forged.begin());
    std::copy(d.begin(), d.end(), forged.begin() + 32);
    CHECK(Suite::verify(victim.public_key(), msg, forged));
    CHECK(Suite::name == "INSECURE-sim");
    CHECK(Suite::insecure);
    CHECK_FALSE(ed25519_sha256::insecure);
}
