#pragma once
/// @file A small blocking HTTP/JSON client with a timeout (Beast), and one
/// JSON-RPC 2.0 exchange over it (`rpc_request`, `rpc_call`). The validator's
/// bootnode client, the CLI's genesis fetch, benchmarks and tests use it; a
/// program that talks to validators uses the verifying client (client.hpp).
/// Each call runs its own io_context: simple, not for high request rates.
/// `https://` URLs (parse_url) go over TLS with a client context (rpc/tls.hpp)
/// that verifies the server's certificate and its name or address.

#include <ballotchain/client/validator_pool.hpp>
#include <ballotchain/rpc/tls.hpp>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ballotchain::client {

namespace beast = boost::beast;
namespace http = beast::http;

struct http_reply {
    int status = 0;  ///< 0: no answer (connection refused, timeout)
    std::string body;  ///< with status 0: empty, or why over TLS (e.g. the certificate was refused)
    std::vector<std::pair<std::string, std::string>> fields;  ///< response header fields, names lower-case

    /// The value of header field `name` (lower-case), or "".
    std::string field(std::string_view name) const {
        for (const auto& [k, v] : fields)
            if (k == name) return v;
        return {};
    }
};

/// One request and its answer. With `tls` (a client context, rpc/tls.hpp) the
/// connection is TLS and the server's certificate must be valid for `host`.
inline http_reply http_request(const std::string& host, std::uint16_t port, http::verb verb, const std::string& target,
                               const std::string& body,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000),
                               const std::vector<std::pair<std::string, std::string>>& headers = {},
                               const std::string& source = {}, boost::asio::ssl::context* tls = nullptr) {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    std::optional<beast::ssl_stream<beast::tcp_stream&>> tls_stream;
    http_reply out;
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, host);
    req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    beast::flat_buffer buf;
    stream.expires_after(timeout);
    boost::asio::ip::tcp::resolver resolver(io);
    boost::system::error_code rec;
    auto eps = resolver.resolve(host, std::to_string(port), rec);
    if (rec) return out;
    constexpr std::size_t max_body = 64u << 20;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_body);
    if (!source.empty()) {  // connect from this local address (tests play other clients from 127.0.0.2 …)
        boost::system::error_code bec;
        const auto src = boost::asio::ip::make_address(source, bec);
        if (bec) return out;
        stream.socket().open(src.is_v4() ? boost::asio::ip::tcp::v4() : boost::asio::ip::tcp::v6(), bec);
        if (!bec) stream.socket().bind({src, 0}, bec);
        if (bec) return out;
    }
    auto talk = [&](auto& s) {
        http::async_write(s, req, [&](beast::error_code ec2, std::size_t) {
            if (ec2) return;
            http::async_read(s, buf, parser, [&](beast::error_code ec3, std::size_t) {
                if (ec3) return;
                out.status = static_cast<int>(parser.get().result_int());
                out.body = parser.get().body();
                for (const auto& f : parser.get()) {
                    std::string name(f.name_string());
                    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                    out.fields.emplace_back(std::move(name), std::string(f.value()));
                }
            });
        });
    };
    auto exchange = [&](beast::error_code ec) {
        if (ec) return;
        if (!tls) return talk(stream);
        tls_stream.emplace(stream, *tls);
        if (!rpc::setup_tls_client(tls_stream->native_handle(), host)) {
            out.body = "TLS: cannot check the certificate against " + host;
            return;
        }
        tls_stream->async_handshake(boost::asio::ssl::stream_base::client, [&](beast::error_code hec) {
            if (hec) {
                out.body = hec == beast::error::timeout ? "timed out in the TLS handshake"
                                                        : rpc::tls_handshake_failure(tls_stream->native_handle(), hec);
                return;
            }
            talk(*tls_stream);
        });
    };
    if (source.empty()) {
        stream.async_connect(eps, [&](beast::error_code ec, const boost::asio::ip::tcp::endpoint&) { exchange(ec); });
    } else {
        // One endpoint of the bound socket's family: a range connect closes and
        // reopens the socket for each endpoint, which would drop the bind.
        const auto proto = stream.socket().local_endpoint().protocol();
        auto it = std::find_if(eps.begin(), eps.end(), [&](const auto& e) { return e.endpoint().protocol() == proto; });
        if (it == eps.end()) return out;
        stream.async_connect(it->endpoint(), exchange);
    }
    io.run();
    beast::error_code ig;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ig);
    return out;
}

inline http_reply http_get(const std::string& host, std::uint16_t port, const std::string& target) {
    return http_request(host, port, http::verb::get, target, "");
}

/// An `http://` or `https://` URL, split.
struct url_parts {
    bool tls = false;  ///< https
    std::string host;  ///< a name or an IP address
    std::uint16_t port = 0;
    std::string path;  ///< "/" when the URL has none
};

namespace detail {
inline bool parse_host_port_path(std::string_view url, std::string& host, std::uint16_t& port, std::string& path) {
    const auto slash = url.find('/');
    path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    const auto hostport = url.substr(0, slash);
    const auto colon = hostport.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    host = std::string(hostport.substr(0, colon));
    unsigned v = 0;
    const auto ps = hostport.substr(colon + 1);
    auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), v);
    if (ec != std::errc{} || p != ps.data() + ps.size() || v == 0 || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}
}  // namespace detail

/// Splits "http://host:port[/path]" (no TLS: an https URL is refused). Returns false when it is not one.
inline bool parse_http_url(std::string_view url, std::string& host, std::uint16_t& port, std::string& path) {
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme) return false;
    return detail::parse_host_port_path(url.substr(scheme.size()), host, port, path);
}

/// Splits "http://host:port[/path]" or "https://host:port[/path]" (the port is
/// required); nullopt when it is neither.
inline std::optional<url_parts> parse_url(std::string_view url) {
    url_parts u;
    constexpr std::string_view plain = "http://", secure = "https://";
    if (url.substr(0, secure.size()) == secure) {
        u.tls = true;
        url.remove_prefix(secure.size());
    } else if (url.substr(0, plain.size()) == plain) {
        url.remove_prefix(plain.size());
    } else {
        return std::nullopt;
    }
    if (!detail::parse_host_port_path(url, u.host, u.port, u.path)) return std::nullopt;
    return u;
}

/// The body of a JSON-RPC 2.0 request (id 1).
inline std::string rpc_body(std::string method, boost::json::array params) {
    return boost::json::serialize(
        boost::json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"method", std::move(method)}, {"params", std::move(params)}});
}

/// A JSON-RPC 2.0 reply (HTTP status, 0 for none, and body) as an outcome.
inline rpc_outcome parse_rpc_reply(int status, const std::string& body) {
    rpc_outcome out;
    if (status == 0) {
        out.why = "no answer";
        return out;
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        out.why = "HTTP " + std::to_string(status) + " without a JSON-RPC body";
        return out;
    }
    auto& o = v.as_object();
    if (auto* e = o.if_contains("error")) {
        out.k = rpc_outcome::kind::error;
        out.value = std::move(*e);
    } else if (auto* res = o.if_contains("result")) {
        out.k = rpc_outcome::kind::result;
        out.value = std::move(*res);
    } else {
        out.why = "JSON-RPC reply without result or error";
    }
    return out;
}

/// One JSON-RPC 2.0 exchange over HTTP POST: the result, the error object,
/// or why there was no usable answer.
inline rpc_outcome rpc_request(const std::string& host, std::uint16_t port, const std::string& path,
                               const std::string& method, const boost::json::array& params,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto r = http_request(host, port, http::verb::post, path, rpc_body(method, params), timeout);
    return parse_rpc_reply(r.status, r.body);
}

/// One JSON-RPC 2.0 exchange with the node at `u`; an https one over TLS with
/// `tls` (the system's CA store when null). `why` says why TLS failed.
inline rpc_outcome rpc_request(const url_parts& u, const std::string& method, const boost::json::array& params,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000),
                               boost::asio::ssl::context* tls = nullptr) {
    std::shared_ptr<boost::asio::ssl::context> fallback;
    if (u.tls && !tls) {
        fallback = rpc::default_client_tls_context();
        if (!fallback) {
            rpc_outcome out;
            out.why = "no TLS context (the system's CA store could not be loaded)";
            return out;
        }
        tls = fallback.get();
    }
    auto r = http_request(u.host, u.port, http::verb::post, u.path, rpc_body(method, params), timeout, {}, {},
                          u.tls ? tls : nullptr);
    auto out = parse_rpc_reply(r.status, r.body);
    if (r.status == 0 && !r.body.empty()) out.why = r.body;
    return out;
}

/// JSON-RPC call: the "result" member, or nullopt with `error` set.
inline std::optional<boost::json::value> rpc_call(const std::string& host, std::uint16_t port, const std::string& method,
                                                  boost::json::array params, boost::json::value* error = nullptr) {
    auto o = rpc_request(host, port, "/", method, params);
    if (o.ok()) return std::move(o.value);
    if (error && o.k == rpc_outcome::kind::error) *error = std::move(o.value);
    return std::nullopt;
}

}  // namespace ballotchain::client
