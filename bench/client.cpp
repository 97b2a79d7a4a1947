// The verifying client's costs (docs/benchmarks.md, "Verifying client"): checking a
// receipt (header hash, certificate with a quorum of seals, Merkle proof) per vote
// next to one Ed25519 verification in the same run; the light follower's blocks/s;
// and whole verified confirmations through the client's JSON-RPC path (decode,
// verify, bookkeeping) against a validator's real method table in memory.
#include <ballotchain/client/client.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/rpc/jsonrpc.hpp>
#include <ballotchain/rpc/validator_api.hpp>

#include <memory_node.hpp>

#include <benchmark/benchmark.h>

using namespace ballotchain;

namespace {
using S = ed25519_sha256;

S::key_pair client_key(int i) {
    secret_key sk;
    sk.data[0] = static_cast<byte>(i + 1);
    sk.data[1] = 0xc1;
    return S::from_secret(sk);
}

/// A 3-validator chain in memory whose blocks hold `per_block` votes each.
struct client_chain {
    genesis_config g;
    std::vector<S::key_pair> v;
    S::key_pair sub = client_key(50);
    std::unique_ptr<test::memory_node> node;
    std::vector<hash32> txs;  ///< every vote's hash, in chain order

    client_chain(std::size_t blocks, std::size_t per_block) {
        for (int i = 0; i < 3; ++i) {
            v.push_back(client_key(i));
            g.validators.push_back({"validator-" + std::to_string(i + 1), v.back().public_key()});
        }
        g.submitters.push_back(sub.public_key());
        g.max_block_txs = 100'000;
        node = std::make_unique<test::memory_node>(test::memory_node::chain_type::open(g, memory_storage{}).value(),
                                                   ledger::mempool<S>{16});
        std::uint64_t n = 0;
        for (std::size_t b = 0; b < blocks; ++b) {
            std::vector<vote_tx> batch;
            for (std::size_t i = 0; i < per_block; ++i, ++n) {
                vote_tx tx;
                tx.chain_id = g.chain_id;
                tx.election_id = 1;
                tx.candidate_id = n % 4;
                tx.encrypted_vote = bytes(64, static_cast<byte>(n));
                bytes id(8);
                for (int k = 0; k < 8; ++k) id[static_cast<std::size_t>(k)] = static_cast<byte>(n >> (8 * k));
                tx.voter_tag = S::hash(id);
                tx.timestamp_ms = n;
                txs.push_back(sign_tx<S>(tx, sub));
                batch.push_back(std::move(tx));
            }
            const auto h = node->c.height() + 1;
            finalized_block fb;
            fb.blk = node->c.build_block(0, h, std::move(batch), v[g.proposer_index(h, 0)]);
            const hash32 bh = block_hash<S>(fb.blk.header);
            fb.cert = {h, 0, bh, {}};
            for (std::uint32_t i = 0; i < 2; ++i) fb.cert.seals.push_back(make_seal<S>(v[i], i, g.chain_id, h, 0, bh));
            if (!node->c.append(fb)) throw std::logic_error("bench block refused");
        }
    }
};

/// The validator's JSON-RPC methods over the chain, as a client transport (no sockets).
struct memory_transport {
    std::shared_ptr<rpc::method_table> table;
    boost::asio::awaitable<client::rpc_outcome> async_call(client::node_info, std::string method, boost::json::array params,
                                                           std::chrono::milliseconds) {
        co_return client::parse_rpc_reply(200, rpc::handle_jsonrpc(client::rpc_body(std::move(method), std::move(params)), *table));
    }
    boost::asio::awaitable<client::probe_result> async_probe(client::node_info, std::chrono::milliseconds) {
        co_return client::probe_result{true, client::node_status::healthy, 0, {}, {}};
    }
};

client::receipt receipt_of(const client_chain& ch, std::size_t i, std::size_t per_block) {
    const auto loc = ch.node->c.find_tx(ch.txs[i]).value();
    const auto fb = ch.node->c.block_at(loc.height).value();
    std::vector<hash32> leaves(ch.txs.begin() + static_cast<std::ptrdiff_t>((loc.height - 1) * per_block),
                               ch.txs.begin() + static_cast<std::ptrdiff_t>(loc.height * per_block));
    client::receipt r;
    r.tx_hash = ch.txs[i];
    r.block_number = loc.height;
    r.block_hash = block_hash<S>(fb.blk.header);
    r.index = loc.index;
    r.header = fb.blk.header;
    r.certificate = fb.cert;
    r.proof = merkle_proof<S>(leaves, loc.index);
    return r;
}
}  // namespace

// One Ed25519 verification, the unit the costs below compare with.
static void BM_client_ed25519_verify(benchmark::State& st) {
    const auto kp = client_key(7);
    const bytes msg(32, 7);
    const auto sig = S::sign(kp, msg);
    for (auto _ : st) benchmark::DoNotOptimize(S::verify(kp.public_key(), msg, sig));
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_client_ed25519_verify);

// Checking one receipt: header hash, a 2-of-3 certificate (2 Ed25519 verifications), the Merkle path.
static void BM_client_verify_receipt(benchmark::State& st) {
    const auto per = static_cast<std::size_t>(st.range(0));
    const client_chain ch(1, per);
    const client::light_verifier<S> v(ch.g);
    const auto r = receipt_of(ch, per / 2, per);
    for (auto _ : st)
        if (v.check_receipt(r, r.tx_hash)) st.SkipWithError("receipt refused");
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_client_verify_receipt)->Arg(32)->Arg(300);

// The light follower: check a block (certificate, header hash, every tx hash, the
// tx root, the proposer's signature) and apply it to the tallies.
static void BM_client_follow_block(benchmark::State& st) {
    const auto per = static_cast<std::size_t>(st.range(0));
    const std::size_t blocks = 16;
    const client_chain ch(blocks, per);
    const client::light_verifier<S> v(ch.g);
    std::vector<finalized_block> fbs;
    for (std::uint64_t h = 1; h <= blocks; ++h) fbs.push_back(ch.node->c.block_at(h).value());
    auto f = std::make_unique<client::light_follower<S>>(v);
    std::size_t next = 0;
    for (auto _ : st) {
        if (next == fbs.size()) {
            st.PauseTiming();
            f = std::make_unique<client::light_follower<S>>(v);
            next = 0;
            st.ResumeTiming();
        }
        auto b = v.check_block(fbs[next++]);
        if (!b || f->apply(*b)) st.SkipWithError("block refused");
    }
    st.SetItemsProcessed(st.iterations());
    st.counters["votes/s"] = benchmark::Counter(static_cast<double>(st.iterations() * per), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_client_follow_block)->Arg(32)->Arg(300)->Unit(benchmark::kMicrosecond);

// A whole verified confirmation through the client: poa_getTransactionStatus, then
// poa_getTransactionProof from the same validator, decoded and checked (synchronous form).
static void BM_client_verified_confirmation(benchmark::State& st) {
    const std::size_t per = 32;
    const client_chain ch(8, per);
    auto table = std::make_shared<rpc::method_table>();
    rpc::add_validator_methods(*table, *ch.node);
    boost::asio::io_context io;
    client::basic_client<memory_transport, steady_clock_adapter, S> c(
        io.get_executor(), {{"v1", "mem://1", ""}, {"v2", "mem://2", ""}, {"v3", "mem://3", ""}}, ch.g, memory_transport{table});
    std::size_t i = 0;
    for (auto _ : st) {
        auto conf = c.get_vote_confirmation_status(ch.txs[i++ % ch.txs.size()]);
        if (!conf || conf->state != client::tx_state::final) st.SkipWithError("not a verified confirmation");
    }
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_client_verified_confirmation)->Unit(benchmark::kMicrosecond);
