// The Ed25519 rule of docs/data-format.md §1, pinned: what is refused, and that the equation is
// the cofactorless one. Every signature in the chain (tx, proposer, seal) goes through it.
#include <ballotchain/crypto/ed25519.hpp>

#include "../support/fixtures.hpp"

using namespace ballotchain;
using namespace ballotchain::test;

namespace {
public_key pk(std::string_view h) { return from_hex_fixed<32>("0x" + std::string(h)).value(); }
signature sg(std::string_view h) { return from_hex_fixed<64>("0x" + std::string(h)).value(); }
bytes msg(std::string_view h) { return from_hex_or_die("0x" + std::string(h)); }
}  // namespace

// Vectors made with the RFC 8032 reference arithmetic of tests/tools/verify_golden.py:
// a = SHA-512("ballotchain mixed-order key") mod L, T = the order-8 point 26e8958f…6d53fc05,
// A = aB + T; r_i = SHA-512("nonce i") mod L, R = r_i·B, k = SHA-512(R ‖ A ‖ m) mod L,
// S = r_i + k·a mod L — an "honest" signature under a key with a small-order component.
TEST_CASE("Ed25519 strictness (data-format.md §1): S < L, no small-order A or R, cofactorless equation",
          "[chain][crypto]") {
    SECTION("a key with a small-order component is accepted as a key, and the equation is cofactorless") {
        const auto A = pk("6a93265935b716ca80d52db527a9b5f01dfde50ccb147cf9a4e334ec911ec547");
        CHECK_FALSE(ed25519::has_small_order(A.data.data()));
        CHECK(ed25519_canonical(A));
        // k ≢ 0 (mod 8): R' = R − [k]T ≠ R. A cofactored verifier would accept this signature.
        CHECK_FALSE(ed25519::verify(
            A, msg("74f2bab0f7b496db35967b365a4bedc0f6378888dea671ec307ee99e677fe21d"),
            sg("37285765143dc0515fa280e6edc1609c9c22f5b74c353c0c3344f257463a16f98cb14af91c9f76aed82def24cd4f85d6488cd18c494d888cc4c27da980c0df07")));
        // k ≡ 0 (mod 8): [k]T = 0, so the cofactorless equation holds too.
        CHECK(ed25519::verify(
            A, msg("cbf60d481316d37e4dab07483a809806bac7164e8c063a263c183c30098f90b3"),
            sg("914756cd5ecf7b2491cb1b81a9baa2b2d9a309fde9a8b40406e9719292df2bf92a158eb830014db8aa1af748ac9fe99409e711ab62b425886a6a2f8a9f7e5307")));
    }
    SECTION("S must be below L: S + L (still below 2^253, which donna alone lets through) is refused") {
        const auto A = pk("b27940469ee7a7b7f7d57841a446a057332fd7a07bfd79ccaf08896c4d0ca1fc");
        const auto m = msg("bf5b6382c2ea46ede3117c0250a9abf431ddf38fca4d50462e5834d09b1b33ef");
        const auto good = sg("5fc27b9c1d65c83c3ef3231e93099a806a9024174226900574abb2a5d010b0aed07c529c7c17907c8edde6d19ebcc2673dec844187174b76925b0ddd8219c907");
        const auto s_plus_l = sg("5fc27b9c1d65c83c3ef3231e93099a806a9024174226900574abb2a5d010b0aebd5048f9967aa2d4647ade747db6a17c3dec844187174b76925b0ddd8219c917");
        CHECK(ed25519::verify(A, m, good));
        CHECK_FALSE(ed25519::verify(A, m, s_plus_l));
        CHECK(CryptoPP::Donna::ed25519_sign_open(m.data(), m.size(), A.data.data(), s_plus_l.data.data()) == 0);
    }
    SECTION("small-order A and R are refused, sign bit ignored: with A = R = identity and S = 0 every message verifies") {
        public_key identity;
        identity.data[0] = 1;
        signature forged;
        forged.data[0] = 1;  // R = identity, S = 0
        const bytes m = to_bytes("any message at all");
        CHECK(CryptoPP::Donna::ed25519_sign_open(m.data(), m.size(), identity.data.data(), forged.data.data()) == 0);
        CHECK_FALSE(ed25519::verify(identity, m, forged));
        const auto kp = key(3);
        const auto honest = ed25519::sign(kp, m);
        CHECK(ed25519::verify(kp.public_key(), m, honest));
        // every small-order encoding (and its sign-bit twin) as R or as A
        const std::string_view small[] = {
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0100000000000000000000000000000000000000000000000000000000000000",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        };
        for (auto h : small)
            for (byte sign : {byte{0}, byte{0x80}}) {
                auto p = pk(h);
                p.data[31] |= sign;
                INFO(to_hex(p));
                CHECK(ed25519::has_small_order(p.data.data()));
                signature s = honest;
                std::copy(p.data.begin(), p.data.end(), s.data.begin());
                CHECK_FALSE(ed25519::verify(kp.public_key(), m, s));
                CHECK_FALSE(ed25519::verify(p, m, honest));
            }
    }
}
