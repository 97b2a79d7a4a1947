// Google Benchmark micro-benchmarks. Each reports time per op and items/s.
#include <ballotchain/consensus/signed_state.hpp>
#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/ledger/mempool.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/net/record.hpp>
#include <ballotchain/storage/memory_storage.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include <benchmark/benchmark.h>

#include <filesystem>

using namespace ballotchain;
using S = ed25519_sha256;  ///< the production crypto suite

namespace {
S::key_pair key(int i) {
    secret_key sk;
    sk.data[0] = static_cast<byte>(i + 1);
    return S::from_secret(sk);
}

struct fixture {
    genesis_config g;
    std::vector<S::key_pair> v;
    S::key_pair sub = key(50);
    fixture() {
        for (int i = 0; i < 3; ++i) {
            v.push_back(key(i));
            g.validators.push_back({"v" + std::to_string(i), v.back().public_key()});
        }
        g.submitters.push_back(sub.public_key());
    }
    vote_tx vote(std::uint64_t i) const {
        vote_tx tx;
        tx.chain_id = g.chain_id;
        tx.election_id = 1;
        tx.candidate_id = i % 4;
        tx.encrypted_vote = bytes(64, static_cast<byte>(i));
        bytes id(8);
        for (int b = 0; b < 8; ++b) id[static_cast<std::size_t>(b)] = static_cast<byte>(i >> (8 * b));
        tx.voter_tag = S::hash(id);
        tx.timestamp_ms = i;
        sign_tx<S>(tx, sub);
        return tx;
    }
    template <class C>
    finalized_block next(const C& c, std::vector<vote_tx> txs) const {
        const auto h = c.height() + 1;
        finalized_block fb;
        fb.blk = c.build_block(0, h, std::move(txs), v[g.proposer_index(h, 0)]);
        const hash32 bh = block_hash<S>(fb.blk.header);
        fb.cert = {h, 0, bh, {}};
        for (std::uint32_t i = 0; i < 2; ++i) fb.cert.seals.push_back(make_seal<S>(v[i], i, g.chain_id, h, 0, bh));
        return fb;
    }
};
const fixture& fx() {
    static const fixture f;
    return f;
}
std::vector<vote_tx> votes(std::uint64_t from, std::size_t n) {
    std::vector<vote_tx> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(fx().vote(from + i));
    return out;
}
}  // namespace

static void BM_sha256_header(benchmark::State& st) {
    const bytes hdr = encode(block_header{});
    for (auto _ : st) benchmark::DoNotOptimize(S::hash(hdr));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_sha256_header);

static void BM_ed25519_sign(benchmark::State& st) {
    const hash32 m = S::hash(bytes{1});
    const auto kp = key(1);
    for (auto _ : st) benchmark::DoNotOptimize(S::sign(kp, m.view()));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ed25519_sign);

static void BM_ed25519_verify(benchmark::State& st) {
    const hash32 m = S::hash(bytes{1});
    const auto kp = key(1);
    const auto sig = S::sign(kp, m.view());
    for (auto _ : st) benchmark::DoNotOptimize(S::verify(kp.public_key(), m.view(), sig));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ed25519_verify);

static void BM_tx_encode(benchmark::State& st) {
    const auto tx = fx().vote(1);
    for (auto _ : st) benchmark::DoNotOptimize(encode(tx));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_tx_encode);

static void BM_tx_decode(benchmark::State& st) {
    const bytes enc = encode(fx().vote(1));
    for (auto _ : st) benchmark::DoNotOptimize(decode_tx(enc));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_tx_decode);

// Build a 32-vote block and fully validate it (every signature, the Merkle root,
// duplicates) plus its certificate: what a validator does per seed-sized block.
static void BM_block32_build_and_validate(benchmark::State& st) {
    auto c = ledger::blockchain<S, memory_storage>::open(fx().g, memory_storage{}).value();
    const auto txs = votes(0, 32);
    for (auto _ : st) {
        auto fb = fx().next(c, txs);
        const hash32 bh = block_hash<S>(fb.blk.header);
        if (c.validate_block(fb.blk) || c.validate_certificate(fb.blk.header, bh, fb.cert)) st.SkipWithError("invalid");
    }
    st.SetItemsProcessed(st.iterations());
    st.counters["votes/s"] = benchmark::Counter(static_cast<double>(st.iterations()) * 32, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_block32_build_and_validate)->Unit(benchmark::kMicrosecond);

template <class Open>
static void append_bench(benchmark::State& st, Open open) {
    auto c = open();
    const std::size_t per = 32;
    std::uint64_t next = 0;
    for (auto _ : st) {
        st.PauseTiming();
        auto fb = fx().next(c, votes(next, per));
        next += per;
        st.ResumeTiming();
        if (!c.append(fb)) st.SkipWithError("append failed");
    }
    st.SetItemsProcessed(st.iterations());
    st.counters["votes/s"] = benchmark::Counter(static_cast<double>(st.iterations() * per), benchmark::Counter::kIsRate);
}

static void BM_append_memory(benchmark::State& st) {
    append_bench(st, [] { return ledger::blockchain<S, memory_storage>::open(fx().g, memory_storage{}).value(); });
}
BENCHMARK(BM_append_memory)->Unit(benchmark::kMicrosecond);

static void BM_append_sqlite(benchmark::State& st) {
    const auto path = std::filesystem::temp_directory_path() / ("bc-bench-" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(path);
    append_bench(st, [&] {
        return ledger::blockchain<S, sqlite_storage>::open(fx().g, sqlite_storage::open(path.string()).value()).value();
    });
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + ext);
}
BENCHMARK(BM_append_sqlite)->Unit(benchmark::kMicrosecond);

// The signed-state file (protocol.md §6): one durable write (temp file, fsync, rename,
// directory fsync) per record change, i.e. per PREPARE, COMMIT, ROUND-CHANGE and proposal.
static void BM_signed_state_store(benchmark::State& st) {
    const auto path = std::filesystem::temp_directory_path() / ("bc-bench-signed-state-" + std::to_string(::getpid()));
    const consensus::signed_state_file<S> file(path.string());
    consensus::signed_record rec;
    rec.height = 1;
    for (auto _ : st) {
        ++rec.height;
        rec.commit = consensus::signed_vote{0, hash32{}};
        if (!file.store(rec)) st.SkipWithError("store failed");
    }
    st.SetItemsProcessed(st.iterations());
    std::filesystem::remove(path);
}
BENCHMARK(BM_signed_state_store)->Unit(benchmark::kMicrosecond);

static void BM_mempool_add(benchmark::State& st) {
    auto c = ledger::blockchain<S, memory_storage>::open(fx().g, memory_storage{}).value();
    const auto txs = votes(1000, 4096);
    ledger::mempool<S> p(1'000'000);
    std::size_t i = 0;
    for (auto _ : st) {
        if (i == txs.size()) {
            st.PauseTiming();
            p.clear();
            i = 0;
            st.ResumeTiming();
        }
        benchmark::DoNotOptimize(p.add(txs[i++], c));
    }
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_mempool_add);

static void BM_mempool_batch32(benchmark::State& st) {
    auto c = ledger::blockchain<S, memory_storage>::open(fx().g, memory_storage{}).value();
    ledger::mempool<S> p(1'000'000);
    for (const auto& tx : votes(5000, 1024)) (void)p.add(tx, c);
    for (auto _ : st) benchmark::DoNotOptimize(p.batch(32));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_mempool_batch32);

// The P2P link (docs/protocol.md §11): one full Noise XX handshake (both sides), and
// sealing + opening a frame through the encrypted records.
static void BM_p2p_handshake(benchmark::State& st) {
    const auto& f = fx();
    const auto c0 = net::handshake_context::make<S>(f.g, f.v[0], 0).value();
    const auto c1 = net::handshake_context::make<S>(f.g, f.v[1], 1).value();
    for (auto _ : st) {
        auto i = net::handshake::initiator(c0, 1);
        auto r = net::handshake::responder(c1);
        auto m2 = r.on_message(i.start().value()).value();
        auto end = r.on_message(i.on_message(m2).value());
        benchmark::DoNotOptimize(end);
    }
}
BENCHMARK(BM_p2p_handshake)->Unit(benchmark::kMicrosecond);

static void BM_p2p_seal_open(benchmark::State& st) {
    const auto& f = fx();
    const auto c0 = net::handshake_context::make<S>(f.g, f.v[0], 0).value();
    const auto c1 = net::handshake_context::make<S>(f.g, f.v[1], 1).value();
    auto i = net::handshake::initiator(c0, 1);
    auto r = net::handshake::responder(c1);
    auto m2 = r.on_message(i.start().value()).value();
    (void)r.on_message(i.on_message(m2).value());
    net::frame_sealer seal(i.ciphers().first);
    net::frame_opener open(r.ciphers().second, 1u << 26);
    const bytes frame(static_cast<std::size_t>(st.range(0)), 7);
    bytes wire;
    std::vector<bytes> got;
    for (auto _ : st) {
        wire.clear();
        got.clear();
        (void)seal.seal(frame, wire);
        for (std::size_t at = 0; at < wire.size();) {
            const std::size_t n = (std::size_t{wire[at]} << 8) | wire[at + 1];
            (void)open.open(byte_view(wire).subspan(at + 2, n), got);
            at += 2 + n;
        }
        benchmark::DoNotOptimize(got);
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}
BENCHMARK(BM_p2p_seal_open)->Arg(200)->Arg(64 << 10)->Arg(1 << 20);
