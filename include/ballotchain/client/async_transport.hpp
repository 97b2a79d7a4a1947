#pragma once
/// @file The transport policy of the verifying client (client.hpp), and its
/// HTTP model: JSON-RPC 2.0 POST to a validator's RPC URL and GET /health, as
/// C++20 coroutines on the caller's executor (Boost.Beast). No threads of its
/// own: a numeric host is connected to directly, without the resolver (whose
/// asynchronous form runs a hidden thread); a name is resolved synchronously.

#include <ballotchain/client/http_client.hpp>
#include <ballotchain/client/validator_pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <string>

namespace ballotchain::client {

/// The asynchronous transport policy.
///
/// | expression                   | type                          | meaning                                   |
/// |------------------------------|-------------------------------|-------------------------------------------|
/// | `t.async_call(n, m, p, d)`   | asio::awaitable<rpc_outcome>  | JSON-RPC method m with params p on node n, within d |
/// | `t.async_probe(n, d)`        | asio::awaitable<probe_result> | node n's health, within d                 |
///
/// Arguments are taken by value (the coroutine keeps its copies). Both run on
/// the awaiting coroutine's executor, must complete (with an unreachable
/// outcome) when cancelled, and may be called concurrently. The client also
/// enforces `d` with its own timer, so a transport that overruns is cut off.
template <class T>
concept async_rpc_transport = requires(T& t, node_info n, std::string m, boost::json::array p, std::chrono::milliseconds d) {
    { t.async_call(n, m, p, d) } -> std::same_as<boost::asio::awaitable<rpc_outcome>>;
    { t.async_probe(n, d) } -> std::same_as<boost::asio::awaitable<probe_result>>;
};

/// Health of a node from its GET /health answer (docs/api.md).
inline probe_result parse_health(int status, const std::string& body) {
    probe_result p;
    if (status == 0) {
        p.detail = "no answer";
        return p;
    }
    p.answered = true;
    p.status = node_status::degraded;
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        p.detail = "HTTP " + std::to_string(status);
        return p;
    }
    const auto& o = v.as_object();
    const auto* h = o.if_contains("height");
    if (h && h->is_number()) p.height = h->to_number<std::uint64_t>(ec);
    // Where it listens for P2P ("host:port"): shown to administrators, never used to connect.
    const auto* a = o.if_contains("p2p_addr");
    if (a && a->is_string() && !a->as_string().empty() && a->as_string().size() <= 255 &&
        std::all_of(a->as_string().begin(), a->as_string().end(), [](char c) { return c > ' ' && c < 127; }))
        p.p2p_url = "tcp://" + std::string(a->as_string());
    if (status != 200) {
        const auto* err = o.if_contains("error");
        p.detail = "HTTP " + std::to_string(status) + (err && err->is_string() ? ": " + std::string(err->as_string()) : "");
        return p;
    }
    const auto* s = o.if_contains("syncing");
    const auto* peers = o.if_contains("peers");
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

/// JSON-RPC over HTTP/1.1, one connection per call, answers bounded to `max_body` bytes.
/// An `https://` rpc_url goes over TLS: the node's certificate must chain to
/// `tls`'s CAs (make_client_tls_context; the system's store when null) and name
/// the URL's host or IP address; otherwise the call fails with a reason that
/// says the certificate was refused, and a probe reports the node unreachable
/// with that reason.
struct async_http_transport {
    std::size_t max_body = 64u << 20;
    std::shared_ptr<boost::asio::ssl::context> tls;  ///< client context for https nodes (null: the system's CA store)

    boost::asio::awaitable<rpc_outcome> async_call(node_info n, std::string method, boost::json::array params,
                                                   std::chrono::milliseconds timeout) {
        const auto u = parse_url(n.rpc_url);
        if (!u) {
            rpc_outcome out;
            out.why = "bad rpc_url " + n.rpc_url;
            co_return out;
        }
        auto r = co_await exchange(*u, http::verb::post, u->path, rpc_body(std::move(method), std::move(params)), timeout);
        rpc_outcome out = parse_rpc_reply(r.status, r.body);
        if (r.status == 0 && !r.body.empty()) out.why = r.body;  // the transport's reason
        co_return out;
    }

    boost::asio::awaitable<probe_result> async_probe(node_info n, std::chrono::milliseconds timeout) {
        const auto u = parse_url(n.rpc_url);
        if (!u) {
            probe_result p;
            p.detail = "bad rpc_url";
            co_return p;
        }
        auto r = co_await exchange(*u, http::verb::get, "/health", "", timeout);
        auto p = parse_health(r.status, r.body);
        if (u->tls && r.status == 0 && !r.body.empty()) p.detail = r.body;  // e.g. the certificate was refused
        co_return p;
    }

private:
    /// One request and its answer; status 0 with the reason in `body` when there is none.
    boost::asio::awaitable<http_reply> exchange(url_parts u, http::verb verb, std::string target, std::string body,
                                                std::chrono::milliseconds timeout) {
        const std::string& host = u.host;
        const std::uint16_t port = u.port;
        namespace asio = boost::asio;
        using asio::ip::tcp;
        constexpr auto tok = asio::as_tuple(asio::use_awaitable);
        auto ex = co_await asio::this_coro::executor;
        http_reply out;
        auto fail = [&](std::string why) {
            out.status = 0;
            out.body = std::move(why);
            return out;
        };
        std::vector<tcp::endpoint> eps;
        boost::system::error_code ec;
        const auto addr = asio::ip::make_address(host, ec);
        if (!ec) {
            eps.emplace_back(addr, port);
        } else {
            tcp::resolver resolver(ex);
            auto rs = resolver.resolve(host, std::to_string(port), ec);
            if (ec) co_return fail("cannot resolve " + host + ": " + ec.message());
            for (const auto& e : rs) eps.push_back(e.endpoint());
        }
        beast::tcp_stream stream(ex);
        stream.expires_after(timeout);
        auto [cec, ep] = co_await stream.async_connect(eps, tok);
        (void)ep;
        if (cec) co_return fail(cec == beast::error::timeout ? "timed out connecting" : cec.message());
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, host);
        req.set(http::field::content_type, "application/json");
        req.body() = std::move(body);
        req.prepare_payload();
        if (u.tls) {
            auto ctx = tls ? tls : rpc::default_client_tls_context();
            if (!ctx) co_return fail("no TLS context (the system's CA store could not be loaded)");
            beast::ssl_stream<beast::tcp_stream&> s(stream, *ctx);
            if (!rpc::setup_tls_client(s.native_handle(), host)) co_return fail("TLS: cannot check the certificate against " + host);
            auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, tok);
            if (hec)
                co_return fail(hec == beast::error::timeout ? "timed out in the TLS handshake"
                                                            : rpc::tls_handshake_failure(s.native_handle(), hec));
            co_return co_await talk(s, req, std::move(out));
        }
        co_return co_await talk(stream, req, std::move(out));
    }

    template <class Stream>
    boost::asio::awaitable<http_reply> talk(Stream& stream, http::request<http::string_body>& req, http_reply out) {
        constexpr auto tok = boost::asio::as_tuple(boost::asio::use_awaitable);
        auto fail = [&](std::string why) {
            out.status = 0;
            out.body = std::move(why);
            return out;
        };
        auto [wec, wn] = co_await http::async_write(stream, req, tok);
        (void)wn;
        if (wec) co_return fail(wec == beast::error::timeout ? "timed out sending" : wec.message());
        beast::flat_buffer buf;
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_body);
        auto [rec, rn] = co_await http::async_read(stream, buf, parser, tok);
        (void)rn;
        if (rec) co_return fail(rec == beast::error::timeout ? "timed out waiting for the answer" : rec.message());
        out.status = static_cast<int>(parser.get().result_int());
        out.body = std::move(parser.get().body());
        beast::error_code ig;
        beast::get_lowest_layer(stream).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ig);
        co_return out;
    }
};
static_assert(async_rpc_transport<async_http_transport>);

}  // namespace ballotchain::client
