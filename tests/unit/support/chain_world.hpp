#pragma once
/// @file Validators in memory for the unit tests of the verifying client and
/// of the backend: an `async_rpc_transport` whose every node answers the real
/// JSON-RPC methods (rpc::add_validator_methods) over one real chain in memory
/// (memory_node: blocks with real certificates made by test_network), unless
/// the test makes it go down, hang, refuse, or lie: a `lie` rewrites the
/// honest answer of one method before the client sees it, a `refusal` answers
/// one method with a JSON-RPC error instead. No sockets, no processes; timers
/// on the caller's io_context. No Catch2 here (tests/unit/client/chain_validators.hpp
/// adds the client's rig and printers).
///
/// Include it as "../support/chain_world.hpp" from tests/unit/<layer>/.
///
/// @par Thread safety
/// None: the world and the transport are used from one thread at a time (the
/// tests call the client's synchronous forms, or run one io_context).

#include "fixtures.hpp"
#include "memory_node.hpp"

#include <ballotchain/client/async_transport.hpp>
#include <ballotchain/rpc/jsonrpc.hpp>
#include <ballotchain/rpc/validator_api.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ballotchain::test {

/// What a node does with a call.
enum class node_mode {
    honest,  ///< answers from the chain
    down,    ///< refuses at once (connection refused)
    hang,    ///< never answers (until the call is cancelled or its timeout passes)
};

/// A JSON-RPC error a node answers instead of running a method.
struct rpc_refusal {
    std::int64_t code = 0;
    std::string message;
};

/// The shared state of the memory validators: the chain, each node's mode,
/// the lies and refusals, and every call made.
struct chain_world {
    test_network net{3};
    memory_node node{net.open_chain(), ledger::mempool<ed25519_sha256>(10'000)};
    rpc::method_table table;
    std::map<std::string, node_mode> modes;
    /// (node, method) -> rewrites that node's honest result of that method
    std::map<std::pair<std::string, std::string>, std::function<void(boost::json::value&)>> lies;
    /// (node, method) -> the JSON-RPC error that node answers to that method (nothing runs)
    std::map<std::pair<std::string, std::string>, rpc_refusal> refusals;
    /// methods every node answers with -32601 (a validator older than the client)
    std::vector<std::string> unknown_methods;
    std::vector<std::pair<std::string, std::string>> calls;  ///< (node, method), in order
    std::uint64_t probes = 0;

    /// `elections_defined`: that genesis flag (every election defined on the chain).
    explicit chain_world(bool elections_defined = false) : net(network(elections_defined)) {
        rpc::add_validator_methods(table, node);
    }
    static test_network network(bool elections_defined) {
        test_network n{3};
        n.genesis.elections_defined = elections_defined;
        return n;
    }

    std::vector<client::node_info> nodes() const {
        return {{"validator-1", "http://v1", ""}, {"validator-2", "http://v2", ""}, {"validator-3", "http://v3", ""}};
    }
    std::size_t count(const std::string& node_id, const std::string& method) const {
        std::size_t n = 0;
        for (const auto& [nd, m] : calls) n += nd == node_id && m == method;
        return n;
    }
    std::size_t count(const std::string& method) const {
        std::size_t n = 0;
        for (const auto& [nd, m] : calls) n += m == method;
        return n;
    }
    /// Every node in mode `m`.
    void all(node_mode m) {
        for (const auto& n : nodes()) modes[n.node_id] = m;
    }
    /// Every node answers `method` with the JSON-RPC error (code, message).
    void refuse_everywhere(const std::string& method, std::int64_t code, std::string message) {
        for (const auto& n : nodes()) refusals[{n.node_id, method}] = {code, message};
    }
    /// Makes `txs` final in the next block (a quorum certificate); returns its height.
    std::uint64_t finalize(std::vector<vote_tx> txs) {
        for (const auto& tx : txs) (void)node.pool.erase(tx_hash<ed25519_sha256>(tx));
        auto fb = net.next_block(node.c, std::move(txs));
        if (!node.c.append(fb)) throw std::logic_error("test block refused");
        return node.c.height();
    }
    /// One block with `votes` votes of `election` (voters from `first`), candidate = voter % 3.
    std::uint64_t finalize_votes(std::uint64_t first, std::uint64_t votes, std::uint64_t election = 1) {
        std::vector<vote_tx> txs;
        for (std::uint64_t v = first; v < first + votes; ++v) txs.push_back(net.vote(v, election, v % 3));
        return finalize(std::move(txs));
    }
};

/// The transport over a chain_world.
struct chain_transport {
    std::shared_ptr<chain_world> w;

    boost::asio::awaitable<client::rpc_outcome> async_call(client::node_info n, std::string method, boost::json::array params,
                                                           std::chrono::milliseconds timeout) {
        w->calls.emplace_back(n.node_id, method);
        client::rpc_outcome out;
        const auto mode = w->modes.count(n.node_id) ? w->modes.at(n.node_id) : node_mode::honest;
        if (mode == node_mode::down) {
            out.why = "connection refused";
            co_return out;
        }
        if (mode == node_mode::hang) {
            boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, timeout);
            co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            out.why = "timed out";
            co_return out;
        }
        if (std::find(w->unknown_methods.begin(), w->unknown_methods.end(), method) != w->unknown_methods.end()) {
            out.k = client::rpc_outcome::kind::error;
            out.value = boost::json::object{{"code", rpc::code::method_not_found}, {"message", "method not found"}};
            co_return out;
        }
        if (auto it = w->refusals.find({n.node_id, method}); it != w->refusals.end()) {
            out.k = client::rpc_outcome::kind::error;
            out.value = boost::json::object{{"code", it->second.code}, {"message", it->second.message}};
            co_return out;
        }
        if (method == "poa_waitForBlock") {  // waits here, as the validator parks the request
            const auto after = params.at(0).to_number<std::uint64_t>();
            const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(params.at(1).to_number<std::int64_t>());
            boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
            while (w->node.height() <= after && std::chrono::steady_clock::now() < until) {
                t.expires_after(std::chrono::milliseconds(2));
                auto [ec] = co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
                if (ec) {
                    out.why = "cancelled";
                    co_return out;
                }
            }
        }
        out = client::parse_rpc_reply(200, rpc::handle_jsonrpc(client::rpc_body(method, std::move(params)), w->table));
        if (auto it = w->lies.find({n.node_id, method}); it != w->lies.end() && out.ok()) it->second(out.value);
        co_return out;
    }

    boost::asio::awaitable<client::probe_result> async_probe(client::node_info n, std::chrono::milliseconds) {
        ++w->probes;
        const auto mode = w->modes.count(n.node_id) ? w->modes.at(n.node_id) : node_mode::honest;
        client::probe_result p;
        if (mode == node_mode::honest) {
            p.answered = true;
            p.status = client::node_status::healthy;
            p.height = w->node.height();
        } else {
            p.detail = "no answer";
        }
        co_return p;
    }
};
static_assert(client::async_rpc_transport<chain_transport>);

}  // namespace ballotchain::test
