#pragma once
/// @file The HTTP transport of validator_pool (it models `rpc_transport`):
/// JSON-RPC 2.0 POST to the node's RPC URL and GET /health, each bounded by a timeout.

#include <ballotchain/client/http_client.hpp>
#include <ballotchain/client/validator_pool.hpp>

namespace ballotchain::client {

struct http_rpc_transport {
    std::chrono::milliseconds timeout{2000};

    rpc_outcome call(const node_info& n, const std::string& method, const boost::json::array& params) {
        std::string host, path;
        std::uint16_t port = 0;
        if (!parse_http_url(n.rpc_url, host, port, path)) {
            rpc_outcome out;
            out.why = "bad rpc_url " + n.rpc_url;
            return out;
        }
        return rpc_request(host, port, path, method, params, timeout);
    }

    probe_result probe(const node_info& n) {
        probe_result p;
        std::string host, path;
        std::uint16_t port = 0;
        if (!parse_http_url(n.rpc_url, host, port, path)) {
            p.detail = "bad rpc_url";
            return p;
        }
        auto r = http_request(host, port, http::verb::get, "/health", "", timeout);
        if (r.status == 0) {
            p.detail = "no answer";
            return p;
        }
        p.answered = true;
        p.status = node_status::degraded;
        boost::system::error_code ec;
        auto v = boost::json::parse(r.body, ec);
        if (r.status != 200 || ec || !v.is_object()) {
            p.detail = "HTTP " + std::to_string(r.status);
            return p;
        }
        const auto& o = v.as_object();
        const auto* h = o.if_contains("height");
        const auto* s = o.if_contains("syncing");
        const auto* peers = o.if_contains("peers");
        if (h && h->is_number()) p.height = h->to_number<std::uint64_t>(ec);
        const bool syncing = s && s->is_bool() && s->as_bool();
        const bool isolated = peers && peers->is_number() && peers->to_number<std::int64_t>(ec) == 0;
        if (syncing)
            p.detail = "catching up";
        else if (isolated)
            p.detail = "no peers";
        else
            p.status = node_status::healthy;
        return p;
    }
};
static_assert(rpc_transport<http_rpc_transport>);

}  // namespace ballotchain::client
