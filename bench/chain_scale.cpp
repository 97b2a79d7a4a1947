/// @file Cost against the size of the chain (issue 13, "scale with the chain"): a
/// chain of N plain votes in a real SQLite file (1,000 votes a block), then
/// - BM_chain_open/N: blockchain::open, what a validator pays at every start;
/// - BM_chain_verify/N/T: verify_chain (`ballotchain verify`) on T threads.
/// The chain is built once per N (signing and appending are not measured here;
/// the blocks are appended without re-checking the signatures the builder just made).
/// Run: build/release/bench/ballotchain-bench --benchmark_filter=BM_chain_ (1M votes: about a
/// minute to build; add /1000000 arguments with --benchmark_filter=BM_chain_verify/1000000).

#include <ballotchain/chain/json.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <map>
#include <thread>

namespace {

using namespace ballotchain;
using S = ed25519_sha256;
using chain_t = ledger::blockchain<S, sqlite_storage>;

constexpr std::uint32_t votes_per_block = 1000;

secret_key seed_key(int i) {
    secret_key sk;
    for (std::size_t b = 0; b < sk.data.size(); ++b) sk.data[b] = static_cast<byte>(i * 31 + static_cast<int>(b) + 7);
    return sk;
}

struct scale_chain {
    genesis_config g;
    std::filesystem::path dir;
    std::filesystem::path db() const { return dir / "chain.db"; }
};

/// A chain of `votes` plain votes in 2 elections, built once per size in a temp dir.
const scale_chain& chain_of(std::uint64_t votes) {
    // Removed at exit, unless BALLOTCHAIN_KEEP_SCALE_CHAINS is set (to run `ballotchain verify` on one).
    static struct chains : std::map<std::uint64_t, scale_chain> {
        ~chains() {
            if (std::getenv("BALLOTCHAIN_KEEP_SCALE_CHAINS")) return;
            std::error_code ec;
            for (const auto& [n, sc] : *this) std::filesystem::remove_all(sc.dir, ec);
        }
    } made;
    if (auto it = made.find(votes); it != made.end()) return it->second;
    scale_chain sc;
    std::vector<S::key_pair> vals;
    for (int i = 0; i < 3; ++i) {
        vals.push_back(S::from_secret(seed_key(i)));
        sc.g.validators.push_back({"validator-" + std::to_string(i + 1), vals.back().public_key()});
    }
    const auto sub = S::from_secret(seed_key(100));
    sc.g.submitters.push_back(sub.public_key());
    sc.g.timestamp_ms = 1'700'000'000'000ull;
    sc.g.max_block_txs = votes_per_block;
    sc.dir = std::filesystem::temp_directory_path() / ("ballotchain-scale-" + std::to_string(::getpid()) + "-" + std::to_string(votes));
    std::filesystem::remove_all(sc.dir);
    std::filesystem::create_directories(sc.dir);
    std::ofstream(sc.dir / "genesis.json") << boost::json::serialize(json::to_json(sc.g));  // for `ballotchain verify`
    sqlite_options so;
    so.synchronous = sqlite_options::sync_mode::normal;  // building only: the measured reads do not depend on it
    auto c = chain_t::open(sc.g, sqlite_storage::open(sc.db().string(), so).value()).value();
    std::vector<vote_tx> txs;
    for (std::uint64_t done = 0; done < votes;) {
        const std::uint64_t n = std::min<std::uint64_t>(votes_per_block, votes - done);
        txs.assign(n, {});
        // Signed on every core.
        const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < threads; ++t)
            ts.emplace_back([&, t] {
                for (std::uint64_t i = t; i < n; i += threads) {
                    auto& tx = txs[i];
                    const std::uint64_t voter = done + i;
                    tx.chain_id = sc.g.chain_id;
                    tx.election_id = 1 + voter % 2;
                    tx.candidate_id = voter % 3;
                    tx.encrypted_vote = bytes{0xe1, 0xe2};
                    tx.voter_tag = S::hash(bytes{static_cast<byte>(voter), static_cast<byte>(voter >> 8),
                                                 static_cast<byte>(voter >> 16), static_cast<byte>(voter >> 24), 0x7a});
                    tx.timestamp_ms = sc.g.timestamp_ms + voter;
                    sign_tx<S>(tx, sub);
                }
            });
        for (auto& t : ts) t.join();
        const std::uint64_t h = c.height() + 1;
        finalized_block fb;
        fb.blk = c.build_block(0, sc.g.timestamp_ms + h * 1000, std::move(txs), vals[sc.g.proposer_index(h, 0)]);
        const hash32 bh = block_hash<S>(fb.blk.header);
        fb.cert = {h, 0, bh, {}};
        for (std::uint32_t v = 0; v < sc.g.quorum(); ++v)
            fb.cert.seals.push_back(make_seal<S>(vals[v], v, sc.g.chain_id, h, 0, bh));
        if (!c.append(fb, [](const hash32&, const vote_tx&) { return true; })) std::abort();
        done += n;
    }
    return made.emplace(votes, std::move(sc)).first->second;
}

void BM_chain_open(benchmark::State& state) {
    const auto& sc = chain_of(static_cast<std::uint64_t>(state.range(0)));
    for (auto _ : state) {
        auto c = chain_t::open(sc.g, sqlite_storage::open(sc.db().string()).value());
        if (!c) state.SkipWithError("open failed");
        benchmark::DoNotOptimize(c);
    }
    state.counters["votes"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_chain_open)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_chain_verify(benchmark::State& state) {
    const auto& sc = chain_of(static_cast<std::uint64_t>(state.range(0)));
    const unsigned threads = static_cast<unsigned>(state.range(1));
    for (auto _ : state) {
        sqlite_options ro;
        ro.read_only = true;
        auto st = sqlite_storage::open(sc.db().string(), ro).value();
        const auto rep = ledger::verify_chain<S>(sc.g, st, {threads, {}});
        if (!rep.complete()) state.SkipWithError("the chain does not verify");
    }
    state.counters["votes_per_s"] =
        benchmark::Counter(static_cast<double>(state.range(0)), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_chain_verify)
    ->Args({10'000, 1})
    ->Args({10'000, 2})
    ->Args({100'000, 1})
    ->Args({100'000, 2})
    ->Args({1'000'000, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
