#pragma once
/// @file Validators that answer from a script, for the backend's unit tests
/// (outbox, votes, reports): a `client::rpc_transport` whose every answer the
/// test decides, and which records every call, so a validator pool runs
/// without a process or a socket.

#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"

#include <ballotchain/client/validator_pool.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/rpc/errors.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ballotchain::test {

/// How a scripted validator answers.
enum class answer {
    accept,     ///< takes the transaction; other methods answer from script::results
    refuse,     ///< a JSON-RPC error (script::refuse_code) to everything but receipt lookups
    pool_full,  ///< -32005 to eth_sendRawTransaction
    down,       ///< no answer at all (unreachable)
};

/// What every validator does, and what was asked of them. Shared by the test
/// and the transport (the pool holds its own copy of the transport).
struct script {
    std::map<std::string, answer> nodes;  ///< node id -> behaviour (default accept)
    std::int64_t refuse_code = rpc::tx_code::wrong_chain;
    std::string refuse_message = "wrong chain id";
    std::map<std::string, std::uint64_t> final_at;  ///< tx hash hex -> block number of its receipt
    std::map<std::string, boost::json::value> results;  ///< method -> its result (poa_getResults, ...)
    std::vector<std::pair<std::string, std::string>> calls;  ///< (node id, method), in order

    std::size_t count(const std::string& node, const std::string& method) const {
        std::size_t n = 0;
        for (const auto& [nd, m] : calls) n += nd == node && m == method;
        return n;
    }
    std::size_t count(const std::string& method) const {
        std::size_t n = 0;
        for (const auto& [nd, m] : calls) n += m == method;
        return n;
    }
    void all(answer a) {
        for (auto& [id, b] : nodes) b = a;
    }
};

/// A JSON-RPC quantity: "0x" and the number in hex without leading zeros.
inline std::string quantity(std::uint64_t n) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(n));
    return buf;
}

/// A `client::rpc_transport` that answers from a script: eth_sendRawTransaction
/// and eth_getTransactionReceipt as validators do, any other method with
/// script::results (a method without one is a test's mistake: logic_error).
struct scripted_transport {
    std::shared_ptr<script> s;

    client::rpc_outcome call(const client::node_info& n, const std::string& method, const boost::json::array& params) {
        s->calls.emplace_back(n.node_id, method);
        client::rpc_outcome o;
        const answer a = s->nodes.count(n.node_id) ? s->nodes.at(n.node_id) : answer::accept;
        if (a == answer::down) {
            o.why = "connection refused";
            return o;
        }
        if (method == "eth_getTransactionReceipt") {
            const std::string th(params.at(0).as_string());
            o.k = client::rpc_outcome::kind::result;
            if (auto it = s->final_at.find(th); it != s->final_at.end())
                o.value = boost::json::object{{"transactionHash", th},
                                              {"blockNumber", quantity(it->second)},
                                              {"blockHash", "0x" + std::string(64, 'b')}};
            return o;  // null result: not final yet
        }
        if (method != "eth_sendRawTransaction" && !s->results.count(method))
            throw std::logic_error("unexpected method " + method);
        if (a == answer::accept || (a == answer::pool_full && method != "eth_sendRawTransaction")) {
            o.k = client::rpc_outcome::kind::result;
            o.value = method == "eth_sendRawTransaction" ? boost::json::value("0x") : s->results.at(method);
            return o;
        }
        o.k = client::rpc_outcome::kind::error;
        if (a == answer::pool_full)
            o.value = boost::json::object{{"code", rpc::tx_code::pool_full}, {"message", "transaction pool full"}};
        else
            o.value = boost::json::object{{"code", s->refuse_code}, {"message", s->refuse_message}};
        return o;
    }

    client::probe_result probe(const client::node_info& n) {
        const bool up = !s->nodes.count(n.node_id) || s->nodes.at(n.node_id) != answer::down;
        return {up, up ? client::node_status::healthy : client::node_status::unreachable, 0, {}};
    }
};
static_assert(client::rpc_transport<scripted_transport>);

/// What the backend test rigs share: a temp dir, the test network, three
/// scripted validators that accept everything, a manual clock at 10 s and the
/// validator pool over them.
struct scripted_pool_rig {
    temp_dir dir;
    test_network net;
    std::shared_ptr<script> sc = std::make_shared<script>();
    manual_clock clock{10'000};
    client::validator_pool<scripted_transport, manual_clock> pool{
        {{"validator-1", "http://v1", ""}, {"validator-2", "http://v2", ""}, {"validator-3", "http://v3", ""}},
        scripted_transport{sc}, clock};

    explicit scripted_pool_rig(std::string_view dir_prefix) : dir(dir_prefix) {
        for (const auto* id : {"validator-1", "validator-2", "validator-3"}) sc->nodes[id] = answer::accept;
    }
};

}  // namespace ballotchain::test
