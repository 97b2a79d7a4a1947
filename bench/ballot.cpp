// Secret-ballot primitives (crypto/elgamal.hpp): a ballot of 3 or 10 candidates encrypted and
// proven (a 0/1 proof per candidate, the sum proof), then verified, next to one libsodium
// ristretto255 scalar multiplication measured in the same run (the unit of cost).
#include <ballotchain/crypto/elgamal.hpp>

#include <benchmark/benchmark.h>

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
