#pragma once
/// @file The validators of the backend's unit tests (outbox, votes, reports):
/// three validators in memory over one real chain (../support/chain_world.hpp:
/// each can go down, hang, refuse or lie per method) and the backend's
/// verifying client over them, with the options the service gives it
/// (validator_client.hpp). The backend's parts run without a process or a
/// socket, and every receipt, tally and chain report they get is checked
/// against the genesis as in production.

#include <backend/validator_client.hpp>

#include "../support/catch_client.hpp"
#include "../support/chain_world.hpp"
#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/hex.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ballotchain::test {

/// The backend's client over the memory validators, its health book on the test's clock.
using backend_client = backend::validator_client<chain_transport, manual_clock>;

/// What the backend test rigs share: a temp dir, three honest validators in
/// memory over one chain (the world `w`: its test network `net`, genesis and
/// submitter), a manual clock at 10 s, and the backend's client over them.
struct validators_rig {
    temp_dir dir;
    std::shared_ptr<chain_world> w = std::make_shared<chain_world>();
    const test_network& net = w->net;
    manual_clock clock{10'000};
    boost::asio::io_context io;  ///< the client's executor, never run: the backend uses the synchronous forms
    std::unique_ptr<backend_client> client;

    /// `elections_defined`: the chain's genesis sets that flag.
    explicit validators_rig(std::string_view dir_prefix, bool elections_defined = false)
        : dir(dir_prefix), w(std::make_shared<chain_world>(elections_defined)) {
        connect();
    }

    /// A new client, as a restarted backend makes: the same validators, its
    /// follower resumed from DATA_DIR/follower.json. Whatever held the old one
    /// must be made again.
    void connect() {
        client.reset();
        client = std::make_unique<backend_client>(
            io.get_executor(), w->nodes(), net.genesis, chain_transport{w}, clock,
            backend::backend_client_options(std::chrono::milliseconds(200), w->nodes().size(), dir.file("follower.json")));
    }

    /// Makes the transaction `raw` (a vote row's raw_tx) final in the next block; returns its height.
    std::uint64_t make_final(const bytes& raw) { return w->finalize({decode_tx(raw).value()}); }

    /// What a lying validator answers to poa_getTransactionProof for `tx`, which
    /// is not final: a block of its own holding it, well formed (header hash,
    /// Merkle proof), sealed by itself alone: a certificate without a quorum.
    boost::json::value forged_receipt(const vote_tx& tx) const {
        auto fb = net.next_block(w->node.c, {tx});
        const hash32 bh = block_hash<ed25519_sha256>(fb.blk.header);
        fb.cert = net.certificate(fb.blk.header.height, 0, bh, 1);
        return boost::json::object{{"tx_hash", to_hex(tx_hash<ed25519_sha256>(tx))},
                                   {"block_number", fb.blk.header.height},
                                   {"block_hash", to_hex(bh)},
                                   {"index", 0},
                                   {"tx_count", 1},
                                   {"tx_root", to_hex(fb.blk.header.tx_root)},
                                   {"proof", boost::json::array{}},
                                   {"header", to_hex(encode(fb.blk.header))},
                                   {"certificate", json::to_json(fb.cert)}};
    }

    /// From now on `node` answers forged_receipt(tx) when asked for the receipt
    /// of `tx` while it is not final (its honest answer, null); once `tx` is
    /// final it answers honestly.
    void lie_about_receipt(const std::string& node, const vote_tx& tx) {
        w->lies[{node, "poa_getTransactionProof"}] = [forged = forged_receipt(tx)](boost::json::value& v) {
            if (v.is_null()) v = forged;
        };
    }

    /// The status the client's health book gives `node` now.
    client::node_status status_of(const std::string& node) const {
        for (const auto& n : client->health())
            if (n.info.node_id == node) return n.status;
        return client::node_status::unreachable;
    }
};

}  // namespace ballotchain::test
