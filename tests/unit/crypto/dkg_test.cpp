// crypto/dkg.hpp: the key ceremony. Three trustees (threshold 2) deal to each other; every
// share opens and matches its commitments; the election key and every trustee's public share
// follow from the commitments alone; any two trustees decrypt together; a dealer's bad share is
// found by the complaint (and an unfounded or unproven complaint is refused); every proof is
// bound to its chain, election, trustee and the whole dealing.
#include <ballotchain/crypto/dkg.hpp>

#include <catch2/catch.hpp>

using namespace ballotchain;
using ristretto::point;
using ristretto::scalar;

namespace {

/// n trustees (1-based) with their secrets and published keys.
struct dkg_world {
    static constexpr std::uint64_t chain = 1337;
    dkg::ceremony_id ceremony{chain, 42};
    std::vector<dkg::trustee_secrets> secrets;
    std::map<std::uint32_t, point> keys;

    explicit dkg_world(std::uint32_t n) {
        for (std::uint32_t i = 1; i <= n; ++i) {
            secret_key sk;
            sk.data.fill(static_cast<byte>(i * 17));
            secrets.emplace_back(sk);
            keys[i] = dkg::make_trustee_key(chain, i, x(i)).key;
        }
    }
    scalar x(std::uint32_t i) const { return secrets[i - 1].key(chain); }
    dkg::dealing deal(std::uint32_t i, std::uint32_t t) const { return dkg::deal(ceremony, i, t, secrets[i - 1], keys); }
    /// Trustee j's secret share over `dealers`: its own f_j(j) plus every share it opens.
    scalar secret_share(std::uint32_t j, const std::map<std::uint32_t, dkg::dealing>& dealers) const {
        scalar s = scalar::zero();
        for (const auto& [i, d] : dealers) {
            if (i == j) {
                std::vector<scalar> coeffs;
                for (std::uint32_t k = 0; k < d.commitments.size(); ++k) coeffs.push_back(secrets[j - 1].coefficient(ceremony, k));
                s = s + dkg::evaluate(coeffs, j);
            } else {
                s = s + dkg::open_share(ceremony, i, j, x(j), d).value();
            }
        }
        return s;
    }
};

std::vector<const dkg::dealing*> all_of(const std::map<std::uint32_t, dkg::dealing>& m) {
    std::vector<const dkg::dealing*> out;
    for (const auto& [_, d] : m) out.push_back(&d);
    return out;
}

}  // namespace

TEST_CASE("trustee key: proof of knowledge bound to chain and trustee", "[crypto][dkg]") {
    dkg_world w(3);
    const auto k = dkg::make_trustee_key(dkg_world::chain, 2, w.x(2));
    CHECK(dkg::verify_trustee_key(dkg_world::chain, 2, k));
    CHECK_FALSE(dkg::verify_trustee_key(dkg_world::chain, 3, k));
    CHECK_FALSE(dkg::verify_trustee_key(dkg_world::chain + 1, 2, k));
    auto other = k;
    other.key = w.keys[3];
    CHECK_FALSE(dkg::verify_trustee_key(dkg_world::chain, 2, other));
    auto bad_z = k;
    bad_z.pok.z = bad_z.pok.z + scalar::from_u64(1);
    CHECK_FALSE(dkg::verify_trustee_key(dkg_world::chain, 2, bad_z));
    // The identity is no key.
    CHECK_FALSE(dkg::verify_trustee_key(dkg_world::chain, 2, {point::identity(), k.pok}));
}

TEST_CASE("key ceremony: 2 of 3 trustees decrypt, the keys follow from the commitments", "[crypto][dkg]") {
    dkg_world w(3);
    std::map<std::uint32_t, dkg::dealing> dealings;
    for (std::uint32_t i = 1; i <= 3; ++i) {
        dealings[i] = w.deal(i, 2);
        CHECK(dkg::verify_dealing(w.ceremony, i, dealings[i]));
        CHECK(dealings[i].commitments.size() == 2);
        CHECK(dealings[i].shares.size() == 2);  // never to itself
        CHECK(dealings[i].share_for(i) == nullptr);
    }
    // Deterministic from the trustee's key: dealing again gives the same polynomial and shares.
    const auto again = w.deal(1, 2);
    CHECK(again.commitments == dealings[1].commitments);
    CHECK(again.shares == dealings[1].shares);

    const auto q = all_of(dealings);
    const point y = dkg::election_key(q);
    std::vector<scalar> xs;
    for (std::uint32_t j = 1; j <= 3; ++j) {
        xs.push_back(w.secret_share(j, dealings));
        CHECK(point::base_mul(xs.back()) == dkg::public_share(q, j));
    }
    // The secret no one holds: Σ a_i0 = any two shares interpolated at 0.
    scalar x = scalar::zero();
    for (std::uint32_t i = 1; i <= 3; ++i) x = x + w.secrets[i - 1].coefficient(w.ceremony, 0);
    CHECK(point::base_mul(x) == y);
    const scalar from_12 = elgamal::lagrange_at_zero(1, {1, 2}) * xs[0] + elgamal::lagrange_at_zero(2, {1, 2}) * xs[1];
    CHECK(from_12 == x);

    // Votes under Y decrypt with any 2 trustees' decryption shares.
    elgamal::ciphertext agg{point::identity(), point::identity()};
    for (int v = 0; v < 10; ++v) agg = agg + elgamal::encrypt(y, v % 2, scalar::random());
    const auto ctx = elgamal::tally_context(dkg_world::chain, 42, y, {agg});
    std::vector<elgamal::decryption_share> ds;
    for (std::uint32_t j = 1; j <= 3; ++j) {
        ds.push_back(elgamal::make_share(ctx, 0, j, xs[j - 1], agg));
        CHECK(elgamal::verify_share(ctx, 0, ds.back(), dkg::public_share(q, j), agg));
    }
    CHECK(elgamal::small_log(elgamal::combine_shares(agg, {ds[0], ds[2]}), 10) == 5u);
    CHECK(elgamal::small_log(elgamal::combine_shares(agg, {ds[1], ds[2]}), 10) == 5u);
}

TEST_CASE("key ceremony with a trustee that never deals: the other two suffice", "[crypto][dkg]") {
    dkg_world w(3);
    std::map<std::uint32_t, dkg::dealing> dealings{{1, w.deal(1, 2)}, {2, w.deal(2, 2)}};
    const auto q = all_of(dealings);
    const point y = dkg::election_key(q);
    const scalar x1 = w.secret_share(1, dealings), x2 = w.secret_share(2, dealings), x3 = w.secret_share(3, dealings);
    CHECK(point::base_mul(x3) == dkg::public_share(q, 3));  // trustee 3 still got its shares
    elgamal::ciphertext c = elgamal::encrypt(y, 1, scalar::random());
    const auto ctx = elgamal::tally_context(dkg_world::chain, 42, y, {c});
    CHECK(elgamal::small_log(elgamal::combine_shares(c, {elgamal::make_share(ctx, 0, 1, x1, c),
                                                          elgamal::make_share(ctx, 0, 2, x2, c)}), 1) == 1u);
}

TEST_CASE("dealing proof: bound to chain, election, dealer and every field", "[crypto][dkg]") {
    dkg_world w(3);
    const auto d = w.deal(1, 2);
    CHECK(dkg::verify_dealing(w.ceremony, 1, d));
    CHECK_FALSE(dkg::verify_dealing(w.ceremony, 2, d));
    CHECK_FALSE(dkg::verify_dealing({dkg_world::chain, 43}, 1, d));
    CHECK_FALSE(dkg::verify_dealing({dkg_world::chain + 1, 42}, 1, d));
    auto t = d;
    t.commitments[0] = t.commitments[0] + point::generator();
    CHECK_FALSE(dkg::verify_dealing(w.ceremony, 1, t));
    t = d;
    t.commitments[1] = t.commitments[1] + point::generator();
    CHECK_FALSE(dkg::verify_dealing(w.ceremony, 1, t));
    t = d;
    t.commitments.pop_back();
    CHECK_FALSE(dkg::verify_dealing(w.ceremony, 1, t));
    t = d;
    t.ephemeral = t.ephemeral + point::generator();
    CHECK_FALSE(dkg::verify_dealing(w.ceremony, 1, t));
    t = d;
    t.shares[0].value = t.shares[0].value + scalar::from_u64(1);
    CHECK_FALSE(dkg::verify_dealing(w.ceremony, 1, t));
    t = d;
    t.shares[0].recipient = 9;
    CHECK_FALSE(dkg::verify_dealing(w.ceremony, 1, t));
    t = d;
    t.pok.c = t.pok.c + scalar::from_u64(1);
    CHECK_FALSE(dkg::verify_dealing(w.ceremony, 1, t));
    t = d;
    t.commitments.clear();
    CHECK_FALSE(dkg::verify_dealing(w.ceremony, 1, t));
}

TEST_CASE("complaints: a bad share is upheld, a good one is unfounded, an unproven one refused", "[crypto][dkg]") {
    dkg_world w(3);
    auto d = w.deal(1, 2);
    // Dealer 1 cheats trustee 2: the share no longer matches the commitments. To keep its proof
    // valid it must re-prove the dealing, which a cheating dealer can do (it knows a_10).
    d.shares[0].value = d.shares[0].value + scalar::from_u64(5);
    REQUIRE(d.shares[0].recipient == 2);
    CHECK_FALSE(dkg::open_share(w.ceremony, 1, 2, w.x(2), d).has_value());
    CHECK(dkg::open_share(w.ceremony, 1, 3, w.x(3), d).has_value());

    const auto c2 = dkg::make_complaint(w.ceremony, 1, w.x(2), d);
    CHECK(dkg::judge(w.ceremony, 2, w.keys[2], d, c2) == dkg::complaint_outcome::upheld);
    // Trustee 3 got a good share: its complaint is unfounded.
    const auto c3 = dkg::make_complaint(w.ceremony, 1, w.x(3), d);
    CHECK(dkg::judge(w.ceremony, 3, w.keys[3], d, c3) == dkg::complaint_outcome::unfounded);
    // A revealed K that is not the real one, or a proof made with another key, is refused.
    auto forged = c2;
    forged.k = forged.k + point::generator();
    CHECK(dkg::judge(w.ceremony, 2, w.keys[2], d, forged) == dkg::complaint_outcome::bad_proof);
    CHECK(dkg::judge(w.ceremony, 2, w.keys[2], d, c3) == dkg::complaint_outcome::bad_proof);
    CHECK(dkg::judge({dkg_world::chain, 43}, 2, w.keys[2], d, c2) == dkg::complaint_outcome::bad_proof);
    auto wrong_dealer = c2;
    wrong_dealer.dealer = 3;
    CHECK(dkg::judge(w.ceremony, 2, w.keys[2], d, wrong_dealer) == dkg::complaint_outcome::bad_proof);
    // The dealer has no share for itself to complain about.
    CHECK(dkg::judge(w.ceremony, 1, w.keys[1], d, dkg::make_complaint(w.ceremony, 1, w.x(1), d)) ==
          dkg::complaint_outcome::no_share);
}
