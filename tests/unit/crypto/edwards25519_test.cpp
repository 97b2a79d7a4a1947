// crypto/edwards25519.hpp, the variable-time arithmetic the proof checks use, against RFC 9496's
// vectors and against libsodium (ristretto.hpp) on random inputs: field encoding, decoding and
// encoding of points (every bad encoding refused), addition, doubling, and a·P − b·Q.
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/edwards25519.hpp>

#include "../support/ristretto_vectors.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using edwards25519::fe;
using edwards25519::ge;
using ristretto::point;
using ristretto::scalar;

namespace {

std::array<byte, 32> ed_bytes(std::string_view hex) {
    const auto b = from_hex(std::string("0x") + std::string(hex)).value();
    std::array<byte, 32> out{};
    std::copy(b.begin(), b.end(), out.begin());
    return out;
}

}  // namespace

TEST_CASE("edwards25519: RFC 9496 A.1 multiples decode, encode and add up; A.2 bad encodings are refused",
          "[crypto][ristretto]") {
    ge sum = ge::identity();
    for (std::uint64_t k = 0; k < 16; ++k) {
        INFO("multiple " << k);
        const auto enc = ed_bytes(test::ristretto_multiples[k]);
        const auto p = ge::decode(enc);
        REQUIRE(p);
        CHECK(p->encode() == enc);
        CHECK(sum.encode() == enc);
        if (k > 0 && k % 2 == 0) CHECK(ge::decode(ed_bytes(test::ristretto_multiples[k / 2]))->dbl().encode() == enc);
        CHECK(edwards25519::lincomb(scalar::from_u64(k), edwards25519::base(), scalar::zero(), ge::identity()).encode() == enc);
        sum = sum + edwards25519::base();
    }
    for (const char* bad : test::ristretto_bad_encodings) {
        INFO(bad);
        CHECK_FALSE(ge::decode(ed_bytes(bad)));
    }
    // Canonical, odd: a negative field element.
    for (const char* bad : {"01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
        INFO(bad);
        CHECK_FALSE(ge::decode(ed_bytes(bad)));
    }
}

TEST_CASE("edwards25519: field encoding is canonical; arithmetic agrees with its inverse operations",
          "[crypto][ristretto]") {
    // p − 1 and p + 2 (not canonical: reads as 2).
    const auto p_minus_1 = ed_bytes("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    CHECK(fe::from_bytes(p_minus_1).to_bytes() == p_minus_1);
    CHECK((fe::from_bytes(p_minus_1) + fe::one()).is_zero());
    const auto p_plus_2 = ed_bytes("efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    CHECK(fe::from_bytes(p_plus_2) == fe::one() + fe::one());
    CHECK(fe::from_bytes(p_plus_2).to_bytes() != p_plus_2);
    for (int i = 0; i < 50; ++i) {
        std::array<byte, 32> r1{}, r2{};
        const auto s1 = scalar::random(), s2 = scalar::random();
        std::copy(s1.b.begin(), s1.b.end(), r1.begin());
        std::copy(s2.b.begin(), s2.b.end(), r2.begin());
        const fe a = fe::from_bytes(r1), b = fe::from_bytes(r2);
        CHECK((a + b) - b == a);
        CHECK(a * b == b * a);
        CHECK((a + b) * (a - b) == a.square() - b.square());
        // a^(p−5)/8 squared twice and times a^3·a: a^((p−1)/2)·a^... checks the chain: (a^(2^252−3))^8 · a^5 = a^(2^255 − 19) = a.
        CHECK(a.pow22523().pow2k(3) * a.square().square() * a == a);
    }
}

TEST_CASE("edwards25519: a·P − b·Q, sums and differences agree with libsodium on random points",
          "[crypto][ristretto]") {
    for (int i = 0; i < 40; ++i) {
        const scalar a = scalar::random(), b = scalar::random(), x = scalar::random(), y = scalar::random();
        const point p = point::base_mul(x), q = point::base_mul(y);
        const auto gp = ge::decode(p), gq = ge::decode(q);
        REQUIRE(gp);
        REQUIRE(gq);
        CHECK(gp->encode() == p.b);
        CHECK((*gp + *gq).to_point() == p + q);
        CHECK((*gp - *gq).to_point() == p - q);
        CHECK(gp->dbl().to_point() == p + p);
        CHECK(edwards25519::lincomb(a, *gp, b, *gq).to_point() == p.mul(a) - q.mul(b));
        CHECK(edwards25519::lincomb(a, edwards25519::base(), b, *gq).to_point() == point::base_mul(a) - q.mul(b));
    }
    // Edge scalars: 0, 1, ℓ − 1, and the identity as a point.
    const point p = point::base_mul(scalar::random());
    const auto gp = *ge::decode(p);
    const scalar minus_one = -scalar::from_u64(1);
    CHECK(edwards25519::lincomb(minus_one, gp, scalar::zero(), gp).to_point() == point::identity() - p);
    CHECK(edwards25519::lincomb(scalar::from_u64(1), gp, scalar::from_u64(1), gp).to_point() == point::identity());
    CHECK(edwards25519::lincomb(scalar::zero(), gp, scalar::zero(), ge::identity()).to_point() == point::identity());
    CHECK(edwards25519::lincomb(scalar::from_u64(5), ge::identity(), minus_one, gp).to_point() == p);
}
