// Secret-ballot primitives (crypto/elgamal.hpp): a ballot of 3 or 10 candidates encrypted and
// proven (a 0/1 proof per candidate, the sum proof), then verified, next to one libsodium
// ristretto255 scalar multiplication measured in the same run (the unit of cost).
#include <ballotchain/crypto/elgamal.hpp>

#include <benchmark/benchmark.h>

using namespace ballotchain;
using ristretto::point;
using ristretto::scalar;

namespace {
struct sealed_ballot {
    std::vector<elgamal::ciphertext> cts;
    std::vector<elgamal::zero_one_proof> proofs;
    elgamal::dleq_proof sum;
    elgamal::proof_context ctx;
};

sealed_ballot seal(const point& pk, std::uint32_t n, std::uint32_t choice) {
    sealed_ballot b;
    std::vector<scalar> rs;
    for (std::uint32_t k = 0; k < n; ++k) {
        rs.push_back(scalar::random());
        b.cts.push_back(elgamal::encrypt(pk, k == choice, rs.back()));
    }
    b.ctx = {1337, 1, pk, {}, elgamal::ballot_digest(b.cts)};
    elgamal::ciphertext sum{point::identity(), point::identity()};
    scalar r_sum = scalar::zero();
    for (std::uint32_t k = 0; k < n; ++k) {
        b.proofs.push_back(elgamal::prove_zero_one(b.ctx, k, b.cts[k], k == choice, rs[k]));
        sum = sum + b.cts[k];
        r_sum = r_sum + rs[k];
    }
    b.sum = elgamal::prove_sum_one(b.ctx, sum, r_sum);
    return b;
}

bool check(const sealed_ballot& b) {
    elgamal::proof_context ctx = b.ctx;
    ctx.ballot_digest = elgamal::ballot_digest(b.cts);
    elgamal::ciphertext sum{point::identity(), point::identity()};
    for (std::uint32_t k = 0; k < b.cts.size(); ++k) {
        if (!elgamal::verify_zero_one(ctx, k, b.cts[k], b.proofs[k])) return false;
        sum = sum + b.cts[k];
    }
    return elgamal::verify_sum_one(ctx, sum, b.sum);
}
}  // namespace

static void BM_ristretto_scalarmult(benchmark::State& st) {
    const point p = point::base_mul(scalar::random());
    const scalar s = scalar::random();
    for (auto _ : st) benchmark::DoNotOptimize(p.mul(s));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ristretto_scalarmult);

static void BM_ballot_encrypt_prove(benchmark::State& st) {
    const point pk = point::base_mul(scalar::random());
    const auto n = static_cast<std::uint32_t>(st.range(0));
    for (auto _ : st) benchmark::DoNotOptimize(seal(pk, n, 1));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ballot_encrypt_prove)->Arg(3)->Arg(10)->Unit(benchmark::kMicrosecond);

static void BM_ballot_verify(benchmark::State& st) {
    const point pk = point::base_mul(scalar::random());
    const auto b = seal(pk, static_cast<std::uint32_t>(st.range(0)), 1);
    for (auto _ : st)
        if (!check(b)) st.SkipWithError("ballot refused");
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ballot_verify)->Arg(3)->Arg(10)->Unit(benchmark::kMicrosecond);
