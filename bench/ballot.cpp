// Secret-ballot primitives (crypto/elgamal.hpp): a ballot of 3 or 10 candidates encrypted and
// proven (a 0/1 proof per candidate, the sum proof), then verified, next to one libsodium
// ristretto255 scalar multiplication measured in the same run (the unit of cost).
#include <ballotchain/crypto/elgamal.hpp>

#include <benchmark/benchmark.h>

#include <thread>

using namespace ballotchain;
using ristretto::point;
using ristretto::scalar;

namespace {
elgamal::proof_context bench_context(const point& pk) { return {1337, 1, pk, {}, {}}; }
}  // namespace

static void BM_ristretto_scalarmult(benchmark::State& st) {
    const point p = point::base_mul(scalar::random());
    const scalar s = scalar::random();
    for (auto _ : st) benchmark::DoNotOptimize(p.mul(s));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ristretto_scalarmult);

// a·P − b·Q on decoded points (crypto/edwards25519.hpp), what each proof commitment costs when
// verifying; libsodium would take two scalar multiplications, a subtraction and their encodings.
static void BM_edwards_lincomb(benchmark::State& st) {
    const auto p = *edwards25519::ge::decode(point::base_mul(scalar::random()));
    const auto q = *edwards25519::ge::decode(point::base_mul(scalar::random()));
    const auto tp = edwards25519::odd_multiples(p), tq = edwards25519::odd_multiples(q);
    const scalar a = scalar::random(), b = scalar::random();
    for (auto _ : st) benchmark::DoNotOptimize(edwards25519::lincomb(a, tp, b, tq).encode());
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_edwards_lincomb);

static void BM_ballot_encrypt_prove(benchmark::State& st) {
    const point pk = point::base_mul(scalar::random());
    const auto n = static_cast<std::uint32_t>(st.range(0));
    for (auto _ : st) benchmark::DoNotOptimize(elgamal::seal_ballot(bench_context(pk), n, 1));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ballot_encrypt_prove)->Arg(3)->Arg(10)->Unit(benchmark::kMicrosecond);

static void BM_ballot_verify(benchmark::State& st) {
    const point pk = point::base_mul(scalar::random());
    const auto b = elgamal::seal_ballot(bench_context(pk), static_cast<std::uint32_t>(st.range(0)), 1);
    for (auto _ : st)
        if (!elgamal::verify_ballot(bench_context(pk), b)) st.SkipWithError("ballot refused");
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ballot_verify)->Arg(3)->Arg(10)->Unit(benchmark::kMicrosecond);

// The tally of an encrypted election, the validators' way (chain/election.hpp): the homomorphic
// sum of every ballot's ciphertexts, t = 2 trustees' decryption shares with their proofs, each
// share verified, the Lagrange combination and the discrete log bounded by the ballot count.
// range(0) ballots of 3 candidates, summed on range(1) threads (each sums its share of the
// ballots, then the partial sums are added). The ballots are made outside the timed part by adding
// encryptions of 0 to encryptions of the choice (valid ciphertexts, cheap to make; their proofs
// are the admission's cost, BM_ballot_verify).
static void BM_tally(benchmark::State& st) {
    const auto n = static_cast<std::uint64_t>(st.range(0));
    constexpr std::uint32_t k = 3;
    const auto shares = elgamal::shamir_split(scalar::random(), 2, 3);
    std::vector<point> public_shares;
    for (const auto& s : shares) public_shares.push_back(point::base_mul(s));
    // Y from shares 1 and 2 (any two interpolate to the secret).
    const scalar x = elgamal::lagrange_at_zero(1, {1, 2}) * shares[0] + elgamal::lagrange_at_zero(2, {1, 2}) * shares[1];
    const point y = point::base_mul(x);
    const elgamal::ciphertext zero = elgamal::encrypt(y, 0, scalar::random());
    std::array<elgamal::ciphertext, k> one;
    for (auto& c : one) c = elgamal::encrypt(y, 1, scalar::random());
    std::vector<std::array<elgamal::ciphertext, k>> ballots(n);
    std::array<std::uint64_t, k> cast{};
    elgamal::ciphertext noise = zero;
    for (std::uint64_t v = 0; v < n; ++v) {
        const auto choice = static_cast<std::uint32_t>(v % 7 == 0 ? 2 : v % 2);
        for (std::uint32_t c = 0; c < k; ++c) ballots[v][c] = c == choice ? one[c] + noise : noise;
        noise = noise + zero;
        ++cast[choice];
    }
    const auto threads = static_cast<std::size_t>(st.range(1));
    for (auto _ : st) {
        std::vector<std::vector<elgamal::ciphertext>> part(threads, std::vector<elgamal::ciphertext>(k, {point::identity(), point::identity()}));
        {
            std::vector<std::jthread> pool;
            for (std::size_t t = 0; t < threads; ++t)
                pool.emplace_back([&, t] {
                    for (std::size_t v = t * n / threads; v < (t + 1) * n / threads; ++v)
                        for (std::uint32_t c = 0; c < k; ++c) part[t][c] = part[t][c] + ballots[v][c];
                });
        }
        std::vector<elgamal::ciphertext> agg = part[0];
        for (std::size_t t = 1; t < threads; ++t)
            for (std::uint32_t c = 0; c < k; ++c) agg[c] = agg[c] + part[t][c];
        const auto ctx = elgamal::tally_context(1337, 1, y, agg);
        for (std::uint32_t c = 0; c < k; ++c) {
            std::vector<elgamal::decryption_share> ds;
            for (std::uint32_t j = 1; j <= 2; ++j) {
                ds.push_back(elgamal::make_share(ctx, c, j, shares[j - 1], agg[c]));
                if (!elgamal::verify_share(ctx, c, ds.back(), public_shares[j - 1], agg[c])) st.SkipWithError("share refused");
            }
            if (elgamal::small_log(elgamal::combine_shares(agg[c], ds), n) != cast[c]) st.SkipWithError("wrong tally");
        }
    }
    st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_tally)
    ->Args({10'000, 1})
    ->Args({1'000'000, 1})
    ->Args({1'000'000, 2})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
