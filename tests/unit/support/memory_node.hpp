#pragma once
/// @file An `rpc::node_view` over a chain and a transaction pool in memory:
/// what the validator's JSON-RPC methods read and call, without a validator,
/// a socket or a disk. Used by the rpc unit tests (tests/unit/rpc, as
/// "../support/memory_node.hpp") and the JSON-RPC fuzz targets
/// (fuzz/jsonrpc_fixture.hpp, through the `ballotchain_test_support` target as
/// <memory_node.hpp>). No Catch2 here: the fuzz targets do not link it.

#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/ledger/mempool.hpp>
#include <ballotchain/rpc/validator_api.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace ballotchain::test {

/// A node of the production suite whose state is its public members: the
/// chain `c`, the pool, the transactions a validator would have recorded as
/// dropped, and what peer_count() says. verify_chain() verifies incrementally
/// (from the last verified prefix, as a validator does) and counts its runs.
struct memory_node {
    using suite_type = ed25519_sha256;
    using chain_type = ledger::blockchain<ed25519_sha256, memory_storage>;

    memory_node(chain_type chain, ledger::mempool<ed25519_sha256> p, std::size_t peer_number = 0)
        : c(std::move(chain)), pool(std::move(p)), peers(peer_number) {}

    chain_type c;
    ledger::mempool<ed25519_sha256> pool;
    std::map<hash32, rpc::tx_status> dropped;  ///< what a validator would have recorded
    std::size_t peers = 0;
    std::optional<ledger::verified_prefix> verified;
    election::election_registry verified_elections;
    std::size_t verify_runs = 0;  ///< calls of verify_chain()

    const genesis_config& genesis() const { return c.genesis(); }
    std::uint64_t height() const { return c.height(); }
    hash32 head_hash() const { return c.head_hash(); }
    result<finalized_block> block_at(std::uint64_t h) const { return c.block_at(h); }
    result<bytes> raw_block_at(std::uint64_t h) const { return c.raw_block_at(h); }
    std::optional<std::uint64_t> height_of(const hash32& h) const { return c.height_of(h); }
    std::optional<tx_location> find_tx(const hash32& h) const { return c.find_tx(h); }
    result<std::vector<std::pair<tx_location, vote_tx>>> election_txs(std::uint64_t e, std::size_t limit) const {
        return c.election_txs(e, limit);
    }
    const vote_tx* pending_tx(const hash32& h) const { return pool.find(h); }
    result<hash32> submit(vote_tx tx) { return pool.add(std::move(tx), c); }
    std::vector<result<hash32>> submit_many(std::vector<vote_tx> txs) { return pool.add_many(txs, c); }
    std::size_t peer_count() const { return peers; }
    bool syncing() const { return false; }
    std::uint32_t validator_index() const { return 0; }
    std::size_t pool_size() const { return pool.size(); }
    tally_map tally(std::uint64_t e) const { return c.tally(e); }
    const election::election_registry& elections() const { return c.election_state(); }
    ledger::verify_report verify_chain() {
        ++verify_runs;
        auto r = c.verify_from(verified, verified_elections);
        if (r.ok && r.verified) verified = r.verified;
        return r;
    }
    rpc::tx_status tx_status(const hash32& th) const {
        rpc::tx_status st;
        if (auto loc = c.find_tx(th)) {
            st.status = rpc::tx_status::state::final;
            st.location = loc;
            st.block_hash = c.hash_at(loc->height);
        } else if (auto it = dropped.find(th); it != dropped.end()) {
            st = it->second;
        } else if (pool.contains(th)) {
            st.status = rpc::tx_status::state::pending;
        }
        return st;
    }
};
static_assert(rpc::node_view<memory_node>);

}  // namespace ballotchain::test
