// crypto/ristretto.hpp and crypto/elgamal.hpp: the group against RFC 9496's vectors, exponential
// ElGamal, the ballot proofs (0/1 per candidate, sum = 1) refusing every tampered field and every
// move to another candidate, voter, election or chain, and threshold decryption with any t of n
// shares (a wrong share is refused).
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/elgamal.hpp>

#include "../support/ristretto_vectors.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using ristretto::point;
using ristretto::scalar;

namespace {

point eg_point(std::string_view hex) { return point::decode(from_hex(hex).value()).value(); }

/// A ballot for `choice` among `n` candidates under `pk`: ciphertexts, their randomness, proofs.
struct eg_ballot {
    std::vector<elgamal::ciphertext> cts;
    std::vector<scalar> rs;
    std::vector<elgamal::zero_one_proof> proofs;
    elgamal::dleq_proof sum;
    elgamal::proof_context ctx;
};

eg_ballot eg_make(const point& pk, std::uint32_t n, std::uint32_t choice, std::uint64_t election = 7, std::uint8_t voter = 1) {
    eg_ballot b;
    for (std::uint32_t k = 0; k < n; ++k) {
        b.rs.push_back(scalar::random());
        b.cts.push_back(elgamal::encrypt(pk, k == choice ? 1 : 0, b.rs.back()));
    }
    b.ctx = {1337, election, pk, {}, elgamal::ballot_digest(b.cts)};
    b.ctx.voter_tag.data[0] = voter;
    scalar r_sum = scalar::zero();
    elgamal::ciphertext sum{point::identity(), point::identity()};
    for (std::uint32_t k = 0; k < n; ++k) {
        b.proofs.push_back(elgamal::prove_zero_one(b.ctx, k, b.cts[k], k == choice ? 1 : 0, b.rs[k]));
        r_sum = r_sum + b.rs[k];
        sum = sum + b.cts[k];
    }
    b.sum = elgamal::prove_sum_one(b.ctx, sum, r_sum);
    return b;
}

/// What a validator checks (verify_ballot recomputes the ballot digest from the ciphertexts).
bool eg_valid(const eg_ballot& b) { return elgamal::verify_ballot(b.ctx, {b.cts, b.proofs, b.sum}); }

}  // namespace

TEST_CASE("ristretto255: RFC 9496 A.1 multiples of the generator, A.2 bad encodings", "[crypto][ristretto]") {
    // RFC 9496, Appendix A.1: the encodings of 0·B, 1·B, ..., 15·B.
    point sum = point::identity();
    for (std::uint64_t k = 0; k < 16; ++k) {
        INFO("multiple " << k);
        const point expected = eg_point(std::string("0x") + test::ristretto_multiples[k]);
        CHECK(point::base_mul(scalar::from_u64(k)) == expected);
        CHECK(point::generator().mul(scalar::from_u64(k)) == expected);
        CHECK(sum == expected);
        sum = sum + point::generator();
    }
    // RFC 9496, Appendix A.2: non-canonical field encodings, negative field elements, a non-square.
    for (const char* bad : test::ristretto_bad_encodings) {
        INFO(bad);
        CHECK_FALSE(point::decode(from_hex(std::string("0x") + bad).value()));
    }
    CHECK_FALSE(point::decode(bytes(31, 0)));
    // Scalars: only reduced encodings decode (ℓ itself does not).
    const auto ell = from_hex("0xedd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010").value();
    CHECK_FALSE(scalar::decode(ell));
    auto ell_minus_1 = ell;
    ell_minus_1[0] -= 1;
    REQUIRE(scalar::decode(ell_minus_1));
    CHECK(*scalar::decode(ell_minus_1) + scalar::from_u64(1) == scalar::zero());
}

TEST_CASE("exponential ElGamal: decryption, homomorphic sums and the small discrete log", "[crypto][elgamal]") {
    const scalar x = scalar::random();
    const point pk = point::base_mul(x);
    elgamal::ciphertext total{point::identity(), point::identity()};
    std::uint64_t expected = 0;
    for (std::uint64_t m : {0u, 1u, 1u, 5u, 0u, 17u}) {
        const auto c = elgamal::encrypt(pk, m, scalar::random());
        CHECK(elgamal::small_log(elgamal::decrypt_to_point(c, x), 100) == m);
        total = total + c;
        expected += m;
    }
    CHECK(elgamal::small_log(elgamal::decrypt_to_point(total, x), 1000) == expected);
    CHECK_FALSE(elgamal::small_log(elgamal::decrypt_to_point(total, x), expected - 1));  // over the bound
    CHECK_FALSE(elgamal::small_log(elgamal::decrypt_to_point(total, scalar::random()), 1000));  // wrong key
}

TEST_CASE("ballot proofs accept honest ballots and refuse every tampering", "[crypto][elgamal]") {
    const point pk = point::base_mul(scalar::random());
    for (std::uint32_t choice = 0; choice < 3; ++choice) CHECK(eg_valid(eg_make(pk, 3, choice)));
    CHECK(eg_valid(eg_make(pk, 10, 9)));
    // the library's own sealing, as clients will call it
    const elgamal::proof_context ctx{1337, 7, pk, {}, {}};
    for (std::uint32_t choice = 0; choice < 4; ++choice) CHECK(elgamal::verify_ballot(ctx, elgamal::seal_ballot(ctx, 4, choice)));
    CHECK_FALSE(elgamal::verify_ballot({1337, 8, pk, {}, {}}, elgamal::seal_ballot(ctx, 4, 0)));  // another election
    CHECK_FALSE(elgamal::verify_ballot(ctx, elgamal::ballot{}));  // no ciphertexts
    const eg_ballot good = eg_make(pk, 3, 1);

    SECTION("each ciphertext component") {
        for (std::size_t k = 0; k < 3; ++k) {
            auto b = good;
            b.cts[k].a = b.cts[k].a + point::generator();
            CHECK_FALSE(eg_valid(b));
            b = good;
            b.cts[k].b = b.cts[k].b + point::generator();  // also: now encrypts 2 or 1 elsewhere
            CHECK_FALSE(eg_valid(b));
        }
    }
    SECTION("each challenge and response") {
        const scalar one = scalar::from_u64(1);
        for (std::size_t k = 0; k < 3; ++k)
            for (int f = 0; f < 4; ++f) {
                auto b = good;
                auto& p = b.proofs[k];
                (f == 0 ? p.c0 : f == 1 ? p.c1 : f == 2 ? p.z0 : p.z1) = (f == 0 ? p.c0 : f == 1 ? p.c1 : f == 2 ? p.z0 : p.z1) + one;
                CHECK_FALSE(eg_valid(b));
            }
        auto b = good;
        b.sum.c = b.sum.c + one;
        CHECK_FALSE(eg_valid(b));
        b = good;
        b.sum.z = b.sum.z + one;
        CHECK_FALSE(eg_valid(b));
    }
    SECTION("swapped candidates") {
        auto b = good;
        std::swap(b.cts[0], b.cts[1]);
        std::swap(b.proofs[0], b.proofs[1]);
        CHECK_FALSE(eg_valid(b));  // the proofs name their positions
    }
    SECTION("a ballot with two 1s, or none, has no valid sum proof") {
        for (std::uint64_t second : {0u, 2u}) {
            auto b = good;
            // second == 2: candidate 2 re-encrypted as a 1 (two 1s); 0: candidate 1 re-encrypted as a 0 (no 1)
            const scalar r = scalar::random();
            if (second == 2) {
                b.cts[2] = elgamal::encrypt(pk, 1, r);
                b.rs[2] = r;
            } else {
                b.cts[1] = elgamal::encrypt(pk, 0, r);
                b.rs[1] = r;
            }
            b.ctx.ballot_digest = elgamal::ballot_digest(b.cts);
            elgamal::ciphertext sum{point::identity(), point::identity()};
            scalar rs = scalar::zero();
            for (std::uint32_t k = 0; k < 3; ++k) {
                sum = sum + b.cts[k];
                rs = rs + b.rs[k];
            }
            for (std::uint32_t k = 0; k < 3; ++k) {
                const bool is_one = (second == 2) ? (k == 1 || k == 2) : false;
                b.proofs[k] = elgamal::prove_zero_one(b.ctx, k, b.cts[k], is_one ? 1 : 0, b.rs[k]);
            }
            b.sum = elgamal::prove_sum_one(b.ctx, sum, rs);  // an honest prover's attempt: the statement is false
            CHECK_FALSE(eg_valid(b));
        }
    }
    SECTION("a ciphertext of 2 with a proof made as if it were 1") {
        auto b = good;
        const scalar r = scalar::random();
        b.cts[1] = elgamal::encrypt(pk, 2, r);
        b.ctx.ballot_digest = elgamal::ballot_digest(b.cts);
        b.proofs[1] = elgamal::prove_zero_one(b.ctx, 1, b.cts[1], 1, r);
        CHECK_FALSE(elgamal::verify_zero_one(b.ctx, 1, b.cts[1], b.proofs[1]));
    }
    SECTION("a proof copied to another voter, election or chain, or another ballot") {
        auto b = good;
        b.ctx.voter_tag.data[0] ^= 1;
        CHECK_FALSE(eg_valid(b));
        b = good;
        b.ctx.election_id += 1;
        CHECK_FALSE(eg_valid(b));
        b = good;
        b.ctx.chain_id += 1;
        CHECK_FALSE(eg_valid(b));
        b = good;
        b.ctx.election_key = point::base_mul(scalar::random());
        CHECK_FALSE(eg_valid(b));
        // candidate 0's valid ciphertext and proof, moved into another ballot of the same voter
        auto other = eg_make(pk, 3, 0);
        other.cts[0] = good.cts[0];
        other.proofs[0] = good.proofs[0];
        CHECK_FALSE(eg_valid(other));
    }
}

TEST_CASE("threshold decryption: any t of n shares give the tally; a wrong share is refused", "[crypto][elgamal]") {
    const scalar x = scalar::random();
    const auto shares = elgamal::shamir_split(x, 2, 3);  // 2 of 3
    const point pk = point::base_mul(x);
    std::vector<point> public_shares;
    for (const auto& s : shares) public_shares.push_back(point::base_mul(s));
    elgamal::ciphertext agg{point::identity(), point::identity()};
    for (int v = 0; v < 25; ++v) agg = agg + elgamal::encrypt(pk, v % 3 == 0 ? 1 : 0, scalar::random());  // 9 ones
    const auto ctx = elgamal::tally_context(7, 42, pk, {agg});
    std::vector<elgamal::decryption_share> ds;
    for (std::uint32_t i = 1; i <= 3; ++i) {
        ds.push_back(elgamal::make_share(ctx, 0, i, shares[i - 1], agg));
        CHECK(elgamal::verify_share(ctx, 0, ds.back(), public_shares[i - 1], agg));
    }
    for (auto [i, j] : {std::pair{0, 1}, std::pair{0, 2}, std::pair{1, 2}}) {
        INFO("trustees " << i + 1 << " and " << j + 1);
        CHECK(elgamal::small_log(elgamal::combine_shares(agg, {ds[static_cast<std::size_t>(i)], ds[static_cast<std::size_t>(j)]}), 25) == 9u);
    }
    // One share alone says nothing usable.
    CHECK(elgamal::small_log(elgamal::combine_shares(agg, {ds[0]}), 25) != std::optional<std::uint64_t>(9));
    // A wrong share (another trustee's key, or a tampered point) fails its proof against the public share.
    auto bad = elgamal::make_share(ctx, 0, 1, shares[1], agg);
    CHECK_FALSE(elgamal::verify_share(ctx, 0, bad, public_shares[0], agg));
    auto tampered = ds[2];
    tampered.d = tampered.d + point::generator();
    CHECK_FALSE(elgamal::verify_share(ctx, 0, tampered, public_shares[2], agg));
    // Presented as another trustee's share, it fails against that trustee's public share.
    CHECK_FALSE(elgamal::verify_share(ctx, 0, ds[2], public_shares[0], agg));
    // Bound to its election, its aggregates and its candidate.
    CHECK_FALSE(elgamal::verify_share(elgamal::tally_context(7, 43, pk, {agg}), 0, ds[2], public_shares[2], agg));
    CHECK_FALSE(elgamal::verify_share(elgamal::tally_context(8, 42, pk, {agg}), 0, ds[2], public_shares[2], agg));
    CHECK_FALSE(elgamal::verify_share(elgamal::tally_context(7, 42, pk, {agg, agg}), 0, ds[2], public_shares[2], agg));
    CHECK_FALSE(elgamal::verify_share(ctx, 1, ds[2], public_shares[2], agg));
}
