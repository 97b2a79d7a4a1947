#pragma once
/// @file The validator's HTTP routes: JSON-RPC at "/", GET /health,
/// GET /blockchain?election_id=N, GET /metrics (Prometheus text).

#include "blockchain_query.hpp"
#include "long_poll.hpp"
#include "validator_node.hpp"

#include <ballotchain/core/rate_limit.hpp>
#include <ballotchain/rpc/http_server.hpp>
#include <ballotchain/rpc/validator_api.hpp>

#include <chrono>
#include <iomanip>
#include <sstream>

namespace ballotchain::app {

static_assert(rpc::node_view<validator_node>);

/// The node's metrics, and the RPC server's connection counters and the long-poll's when given;
/// with `tls_not_after` (the RPC port serves TLS) the certificate's expiry and the failed handshakes.
inline std::string metrics_text(const validator_node& n, const rpc::http_server_stats* http = nullptr,
                                const block_waiters* waiters = nullptr,
                                std::optional<std::int64_t> tls_not_after = std::nullopt) {
    std::ostringstream o;
    const auto& m = n.metrics();
    const auto& st = n.engine().stats();
    auto gauge = [&](const char* name, const char* help, double v) {
        o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n" << name << ' ' << v << '\n';
    };
    auto counter = [&](const char* name, const char* help, double v) {
        o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n" << name << ' ' << v << '\n';
    };
    gauge("ballotchain_height", "Height of the last final block.", static_cast<double>(n.height()));
    gauge("ballotchain_peers", "Connected validator peers.", static_cast<double>(n.peer_count()));
    gauge("ballotchain_pool_size", "Pending transactions in the pool.", static_cast<double>(n.pool_size()));
    gauge("ballotchain_syncing", "1 while catching up from peers.", n.syncing() ? 1 : 0);
    gauge("ballotchain_round", "Current consensus round.", static_cast<double>(n.engine().round()));
    const auto hin = n.health_inputs();
    gauge("ballotchain_peers_needed", "Connected peers a quorum needs (quorum - 1).",
          static_cast<double>(rpc::peers_needed_for_quorum(hin.quorum)));
    gauge("ballotchain_health_status", "GET /health's verdict: 0 ok, 1 degraded, 2 failing.",
          static_cast<double>(rpc::classify_health(hin).status));
    gauge("ballotchain_pending_wait_seconds", "How long the pool has held votes no block took (0: none waiting).",
          static_cast<double>(hin.pending_wait_ms) / 1000.0);
    // Seconds with their milliseconds exactly (a double through operator<< would keep 6 digits).
    const std::uint64_t head_ms = n.engine().chain().head().timestamp_ms;
    o << "# HELP ballotchain_last_block_timestamp_seconds Timestamp of the last final block (its header, unix time).\n"
         "# TYPE ballotchain_last_block_timestamp_seconds gauge\n"
         "ballotchain_last_block_timestamp_seconds "
      << head_ms / 1000 << '.' << std::setw(3) << std::setfill('0') << head_ms % 1000 << std::setfill(' ') << '\n';
    gauge("ballotchain_block_interval_seconds", "The genesis's block interval: the least time between two blocks.",
          static_cast<double>(n.genesis().block_interval_ms) / 1000.0);
    gauge("ballotchain_storage_failing", "1 while durable writes fail (e.g. a full disk): nothing is signed or stored.",
          n.storage_failure() ? 1 : 0);
    counter("ballotchain_round_changes_total", "Rounds entered above 0.", static_cast<double>(st.round_changes));
    counter("ballotchain_blocks_proposed_total", "Blocks proposed by this validator.", static_cast<double>(st.proposals));
    counter("ballotchain_blocks_committed_total", "Blocks finalized by consensus here.", static_cast<double>(st.committed));
    counter("ballotchain_blocks_synced_total", "Blocks fetched from peers.", static_cast<double>(st.synced));
    counter("ballotchain_sync_failures_total", "Block requests a peer did not serve (timeout, empty or bad reply).",
            static_cast<double>(st.sync_failures));
    counter("ballotchain_equivocations_total", "Conflicting messages seen from one validator.", static_cast<double>(st.equivocations));
    counter("ballotchain_index_disagreements_total", "Index lookups refuted by the block they point to.",
            static_cast<double>(n.engine().chain().index_disagreements()));
    counter("ballotchain_transactions_submitted_total", "Votes accepted over RPC here.", static_cast<double>(m.submitted));
    counter("ballotchain_transactions_final_total", "Votes in final blocks.", static_cast<double>(m.finalized_txs));
    o << "# HELP ballotchain_transactions_rejected_total Votes refused over RPC, by reason.\n"
         "# TYPE ballotchain_transactions_rejected_total counter\n";
    for (const auto& [reason, c] : m.rejected_txs)
        o << "ballotchain_transactions_rejected_total{reason=\"" << reason << "\"} " << c << '\n';
    o << "# HELP ballotchain_local_faults_total Durable writes of this node that failed (its own disk), by what was "
         "written.\n"
         "# TYPE ballotchain_local_faults_total counter\n";
    for (const char* w : {"record", "prepared_block", "block"}) {
        auto it = m.local_faults.find(w);
        o << "ballotchain_local_faults_total{write=\"" << w << "\"} " << (it == m.local_faults.end() ? 0 : it->second)
          << '\n';
    }
    o << "# HELP ballotchain_p2p_messages_rejected_total Consensus messages refused, by reason.\n"
         "# TYPE ballotchain_p2p_messages_rejected_total counter\n";
    for (const auto& [reason, c] : m.rejected_messages)
        o << "ballotchain_p2p_messages_rejected_total{reason=\"" << reason << "\"} " << c << '\n';
    const auto& ts = n.transport().stats();
    counter("ballotchain_p2p_sessions_total", "Authenticated P2P sessions established.", static_cast<double>(ts.connects));
    gauge("ballotchain_p2p_unauthenticated", "Inbound P2P connections still in the handshake.",
          static_cast<double>(n.transport().unauthenticated()));
    counter("ballotchain_p2p_refused_over_cap_total", "Inbound P2P connections closed by the unauthenticated caps.",
            static_cast<double>(ts.refused_over_cap));
    o << "# HELP ballotchain_p2p_handshake_failures_total P2P connections that failed before authentication, by reason.\n"
         "# TYPE ballotchain_p2p_handshake_failures_total counter\n";
    for (const auto& [reason, c] : ts.failures)
        o << "ballotchain_p2p_handshake_failures_total{reason=\"" << reason << "\"} " << c << '\n';
    o << "# HELP ballotchain_finality_latency_seconds Submit-to-final latency of votes submitted here.\n"
         "# TYPE ballotchain_finality_latency_seconds histogram\n";
    for (std::size_t i = 0; i < node_metrics::buckets.size(); ++i)
        o << "ballotchain_finality_latency_seconds_bucket{le=\"" << node_metrics::buckets[i] << "\"} " << m.latency_le[i] << '\n';
    o << "ballotchain_finality_latency_seconds_bucket{le=\"+Inf\"} " << m.latency_count << '\n'
      << "ballotchain_finality_latency_seconds_sum " << m.latency_sum << '\n'
      << "ballotchain_finality_latency_seconds_count " << m.latency_count << '\n';
    if (http) {
        auto get = [](const std::atomic<std::uint64_t>& a) { return static_cast<double>(a.load(std::memory_order_relaxed)); };
        gauge("ballotchain_rpc_connections", "Connections the RPC port holds now.", get(http->open));
        o << "# HELP ballotchain_rpc_connections_refused_total RPC connections refused at once, by reason.\n"
             "# TYPE ballotchain_rpc_connections_refused_total counter\n"
          << "ballotchain_rpc_connections_refused_total{reason=\"per_address\"} " << get(http->refused_per_address) << '\n'
          << "ballotchain_rpc_connections_refused_total{reason=\"full\"} " << get(http->refused_full) << '\n';
        counter("ballotchain_rpc_connections_evicted_total",
                "RPC connections without a request in progress closed to make room for another address.",
                get(http->evicted));
        counter("ballotchain_rpc_header_timeouts_total", "RPC connections closed: no complete request header in time.",
                get(http->header_timeouts));
        counter("ballotchain_rpc_bad_requests_total", "HTTP requests answered 400, 413, 431 or 501 and closed.",
                get(http->bad_requests));
        if (tls_not_after)
            counter("ballotchain_rpc_tls_handshake_failures_total",
                    "RPC connections closed: the TLS handshake failed (not TLS, no common version or cipher).",
                    get(http->tls_handshake_failures));
    }
    if (tls_not_after)  // an integer: a double's default text would round it (1.8e+09)
        o << "# HELP ballotchain_tls_certificate_expiry_timestamp_seconds Unix time the RPC port's TLS certificate "
             "expires (notAfter).\n# TYPE ballotchain_tls_certificate_expiry_timestamp_seconds gauge\n"
             "ballotchain_tls_certificate_expiry_timestamp_seconds "
          << *tls_not_after << '\n';
    if (waiters) {
        const auto& ws = waiters->stats();
        gauge("ballotchain_rpc_long_polls", "poa_waitForBlock requests waiting now.", static_cast<double>(waiters->size()));
        o << "# HELP ballotchain_rpc_long_polls_answered_total poa_waitForBlock requests answered after waiting, by why.\n"
             "# TYPE ballotchain_rpc_long_polls_answered_total counter\n"
          << "ballotchain_rpc_long_polls_answered_total{reason=\"block\"} " << ws.answered_by_block << '\n'
          << "ballotchain_rpc_long_polls_answered_total{reason=\"timeout\"} " << ws.timed_out << '\n';
        counter("ballotchain_rpc_long_polls_refused_total",
                "poa_waitForBlock requests refused (-32029): too many waiting, in total or from the address.",
                static_cast<double>(ws.refused));
    }
    return o.str();
}

/// Methods whose cost is far above that of the bytes asking for them, with
/// their per-request cap and per-client rate (docs/api.md, "Expensive methods").
struct expensive_method_limits {
    std::size_t per_request = 1;
    keyed_rate_limiter<std::string>::options per_client{1.0, 10, 65'536};  ///< 1/s, bursts of 10
};

/// JSON-RPC limits for one request from `client`: poa_verifyChain at most
/// once per request body, and from each address at most as `limiter` allows;
/// poa_getRawBlocks (up to 4 MiB of answer each) at most once per request body.
inline rpc::jsonrpc_limits rpc_limits_for(const std::shared_ptr<keyed_rate_limiter<std::string>>& limiter,
                                          const expensive_method_limits& o, const std::string& client) {
    rpc::jsonrpc_limits lim;
    lim.max_per_request["poa_verifyChain"] = o.per_request;
    lim.max_per_request["poa_getRawBlocks"] = 1;
    lim.admit = [limiter, client](std::string_view method) -> std::optional<rpc::rpc_error> {
        if (method != "poa_verifyChain") return std::nullopt;
        const auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        std::chrono::steady_clock::now().time_since_epoch())
                                                        .count());
        const auto wait_ms = limiter->acquire(client, now);
        if (wait_ms == 0) return std::nullopt;
        return rpc::rpc_error{rpc::code::rate_limited,
                              std::string(method) + ": rate limit for " + client + " reached; retry after " +
                                  std::to_string(wait_ms) + " ms",
                              boost::json::object{{"retry_after_ms", wait_ms}}};
    };
    return lim;
}

/// A JSON-RPC answer over HTTP: 200 with the body, 204 when there is nothing to answer.
inline rpc::http_response jsonrpc_http_response(unsigned version, std::string body) {
    namespace http = rpc::http;
    if (body.empty()) {
        rpc::http_response res{http::status::no_content, version};
        res.prepare_payload();
        return res;
    }
    rpc::http_response res{http::status::ok, version};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

/// The long-poll of poa_waitForBlock. A request body that is a single poa_waitForBlock call
/// (not a notification) with valid params, a timeout above 0 and no final block above its
/// after_height yet waits: parked in `waiters` (the answer is deferred through `info`; the
/// response returned is a placeholder the server ignores) or, over the waiters' bounds,
/// refused at once with -32029 and data.retry_after_ms (about one block interval).
/// Anything else, and a server that cannot defer, gives nullopt: handle_jsonrpc answers
/// it at once (poa_waitForBlock's synchronous form never waits).
inline std::optional<rpc::http_response> long_poll(validator_node& node, block_waiters& waiters,
                                                   const rpc::http_request& req, const rpc::request_info& info,
                                                   const std::string& client) {
    const std::string& body = req.body();
    if (body.find("poa_waitForBlock") == std::string::npos) return std::nullopt;  // the cheap test first
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(body, ec);
    if (ec) return std::nullopt;
    auto call = rpc::as_single_call(v);
    if (!call || call->method != "poa_waitForBlock") return std::nullopt;
    const auto params = rpc::read_wait_for_block_params(call->params);
    const auto* p = std::get_if<rpc::wait_for_block_params>(&params);
    if (!p || p->timeout_ms == 0 || node.height() > p->after_height) return std::nullopt;
    const unsigned version = req.version();
    if (!waiters.admit(client)) {
        const std::uint64_t retry_ms = std::max<std::uint64_t>(1, node.genesis().block_interval_ms);
        const auto& lim = waiters.limits();
        rpc::rpc_error e{rpc::code::rate_limited,
                         "poa_waitForBlock: too many requests wait already (at most " +
                             std::to_string(lim.max_waiters_per_client) + " per client address, " +
                             std::to_string(lim.max_waiters) + " in total); poll instead, retry after " +
                             std::to_string(retry_ms) + " ms",
                         boost::json::object{{"retry_after_ms", retry_ms}}};
        return jsonrpc_http_response(version, rpc::json_text(rpc::response_object(std::move(e), call->id)));
    }
    auto answer = info.defer();
    if (!answer) return std::nullopt;
    waiters.park(client, p->after_height, std::chrono::milliseconds(p->timeout_ms),
                 [&node, answer, id = std::move(call->id), after = p->after_height, version] {
                     boost::json::value result = rpc::wait_for_block_json(node, after);
                     answer(jsonrpc_http_response(version, rpc::json_text(rpc::response_object(std::move(result), id))));
                 });
    return rpc::http_response{};
}

/// The RPC port's request handler over `node` (which must outlive it): JSON-RPC at "/" under
/// the expensive-method limits, with the long-poll of poa_waitForBlock (bounded by
/// `long_polls`), /health, /blockchain, /metrics (with the server's counters from `stats`
/// when given, and the TLS certificate's expiry `tls_not_after` when the port serves TLS). Runs on the io thread, like the node (never on a handler_executor). Built
/// apart from the server so that it can be driven without a socket
/// (fuzz/fuzz_http_validator.cpp; there a poa_waitForBlock call never waits).
inline rpc::http_handler make_rpc_handler(validator_node& node, std::shared_ptr<rpc::http_server_stats> stats = nullptr,
                                          long_poll_limits long_polls = {},
                                          std::optional<std::int64_t> tls_not_after = std::nullopt) {
    namespace http = rpc::http;
    auto table = std::make_shared<rpc::method_table>();
    rpc::add_validator_methods(*table, node);
    const expensive_method_limits expensive;
    auto limiter = std::make_shared<keyed_rate_limiter<std::string>>(expensive.per_client);
    auto waiters = block_waiters::create(node.executor(), long_polls);
    node.on_block_final([w = std::weak_ptr<block_waiters>(waiters)](std::uint64_t height) {
        if (auto s = w.lock()) s->notify(height);
    });
    return [&node, table, limiter, expensive, waiters, stats = std::move(stats), tls_not_after](
               const rpc::http_request& req, const rpc::request_info& info) -> rpc::http_response {
        const std::string_view target = req.target();
        const auto q = target.find('?');
        const std::string_view path = target.substr(0, q);
        const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
        if (path == "/" || path.empty()) {
            if (req.method() != http::verb::post)
                return rpc::detail_response(http::status::method_not_allowed, "JSON-RPC: use POST", req.version());
            const std::string client = rpc::client_key(info.remote).to_string();
            if (auto res = long_poll(node, *waiters, req, info, client)) return std::move(*res);
            return jsonrpc_http_response(req.version(),
                                         rpc::handle_jsonrpc(req.body(), *table, rpc_limits_for(limiter, expensive, client)));
        }
        if (req.method() != http::verb::get)
            return rpc::detail_response(http::status::method_not_allowed, "use GET", req.version());
        if (path == "/health") {
            // 200 when ok or degraded, 503 when failing (quorum lost, storage faulted): docs/api.md.
            auto h = rpc::health_json(node);
            if (!node.p2p_address().empty()) h["p2p_addr"] = node.p2p_address();
            if (node.storage_failure()) h["error"] = *node.storage_failure();
            const bool failing = h.at("status") == "failing";
            if (failing) h["detail"] = rpc::failing_detail(h);  // every error answer carries a detail
            return rpc::json_response(failing ? http::status::service_unavailable : http::status::ok, std::move(h),
                                      req.version());
        }
        if (path == "/blockchain") {
            auto e = election_param(query);
            if (!e) return rpc::detail_response(http::status::bad_request, "election_id must be an unsigned integer", req.version());
            return rpc::json_response(http::status::ok, rpc::blockchain_json(node, *e), req.version());
        }
        if (path == "/metrics") {
            rpc::http_response res{http::status::ok, req.version()};
            res.set(http::field::content_type, "text/plain; version=0.0.4");
            res.body() = metrics_text(node, stats.get(), waiters.get(), tls_not_after);
            res.prepare_payload();
            return res;
        }
        return rpc::detail_response(http::status::not_found, "no such endpoint", req.version());
    };
}

/// Serves the routes on `ep` with the bounds in `o` (its connection counters go to /metrics),
/// over TLS when `o.tls` is set (its certificate's expiry goes to /metrics too).
inline result<std::shared_ptr<rpc::http_server>> start_rpc(boost::asio::io_context& io, validator_node& node,
                                                           const boost::asio::ip::tcp::endpoint& ep,
                                                           rpc::http_server_options o = {},
                                                           long_poll_limits long_polls = {}) {
    if (!o.stats) o.stats = std::make_shared<rpc::http_server_stats>();
    // The handler gets its copy of the counters first: in one call, moving `o` into the
    // parameter may happen before make_rpc_handler reads o.stats (the order is unspecified).
    const auto not_after = o.tls ? rpc::tls_certificate_not_after(*o.tls) : std::nullopt;
    auto handler = make_rpc_handler(node, o.stats, long_polls, not_after);
    return rpc::http_server::create(io, ep, std::move(handler), std::move(o));
}

}  // namespace ballotchain::app
