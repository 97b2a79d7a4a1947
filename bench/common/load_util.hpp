#pragma once
/// @file What the load generators of bench/ share: a kept-alive HTTP connection
/// for JSON-RPC (one request at a time, with a deadline), HOST:PORT parsing,
/// percentiles, a monotonic clock in microseconds, the process's own CPU time,
/// and writing a JSON result file (`--json FILE`).

#include <ballotchain/core/file.hpp>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace ballotchain::bench {

namespace beast = boost::beast;
namespace http = beast::http;

/// Microseconds on the steady clock.
inline std::uint64_t now_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

/// Milliseconds since the Unix epoch (vote timestamps, fresh ids).
inline std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

/// User + system CPU seconds this process has used so far.
inline double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

/// An Ethereum JSON-RPC quantity: "0x" and the hex digits of `v`, no leading zeros.
inline std::string quantity(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

struct endpoint {
    std::string host;
    std::uint16_t port = 0;
    std::string text() const { return host + ":" + std::to_string(port); }
};

/// "HOST:PORT" or "http://HOST:PORT[/]" → endpoint; nullopt when it is neither.
inline std::optional<endpoint> parse_endpoint(std::string s) {
    if (s.rfind("http://", 0) == 0) s = s.substr(7);
    while (!s.empty() && s.back() == '/') s.pop_back();
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    unsigned long p = 0;
    try {
        std::size_t used = 0;
        p = std::stoul(s.substr(colon + 1), &used);
        if (used != s.size() - colon - 1) return std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
    if (p == 0 || p > 65535) return std::nullopt;
    return endpoint{s.substr(0, colon), static_cast<std::uint16_t>(p)};
}

/// One kept-alive HTTP/1.1 connection, one request at a time (not thread-safe:
/// one per thread). Reconnects once when the server closed it between requests.
class http_connection {
public:
    explicit http_connection(endpoint ep) : ep_(std::move(ep)), stream_(io_) {}

    const endpoint& peer() const noexcept { return ep_; }

    /// POSTs `body` to `target` and returns the HTTP status (0: no answer) and sets `out` to the body.
    int post(const std::string& target, const std::string& body, std::string& out,
             std::chrono::milliseconds timeout = std::chrono::milliseconds(60'000)) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (!open_ && !connect(timeout)) return 0;
            const int st = exchange(http::verb::post, target, body, out, timeout);
            if (st != 0) return st;
            close();
        }
        return 0;
    }

    /// GET `target`: the HTTP status (0: no answer), body in `out`.
    int get(const std::string& target, std::string& out,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(60'000)) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (!open_ && !connect(timeout)) return 0;
            const int st = exchange(http::verb::get, target, {}, out, timeout);
            if (st != 0) return st;
            close();
        }
        return 0;
    }

    /// One JSON-RPC call: its "result", or nullopt (no answer or an error object).
    std::optional<boost::json::value> call(const std::string& method, boost::json::array params,
                                           std::chrono::milliseconds timeout = std::chrono::milliseconds(60'000)) {
        const std::string body = boost::json::serialize(boost::json::object{
            {"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", std::move(params)}});
        std::string out;
        if (post("/", body, out, timeout) != 200) return std::nullopt;
        boost::system::error_code ec;
        auto v = boost::json::parse(out, ec);
        if (ec || !v.is_object()) return std::nullopt;
        if (auto* r = v.as_object().if_contains("result")) return std::move(*r);
        return std::nullopt;
    }

private:
    bool connect(std::chrono::milliseconds timeout) {
        boost::asio::ip::tcp::resolver resolver(io_);
        boost::system::error_code ec;
        auto eps = resolver.resolve(ep_.host, std::to_string(ep_.port), ec);
        if (ec) return false;
        stream_.expires_after(timeout);
        bool ok = false;
        stream_.async_connect(eps, [&](beast::error_code e, const auto&) { ok = !e; });
        run();
        if (ok) {
            stream_.socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
            open_ = true;
        }
        return ok;
    }

    int exchange(http::verb verb, const std::string& target, const std::string& body, std::string& out,
                 std::chrono::milliseconds timeout) {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, ep_.host);
        req.set(http::field::content_type, "application/json");
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        http::response_parser<http::string_body> parser;
        parser.body_limit(256u << 20);
        int status = 0;
        bool keep = false;
        stream_.expires_after(timeout);
        http::async_write(stream_, req, [&](beast::error_code ec, std::size_t) {
            if (ec) return;
            http::async_read(stream_, buf_, parser, [&](beast::error_code ec2, std::size_t) {
                if (ec2) return;
                status = static_cast<int>(parser.get().result_int());
                keep = parser.get().keep_alive();
                out = std::move(parser.get().body());
            });
        });
        run();
        if (status == 0 || !keep) close();
        return status;
    }

    void run() {
        io_.restart();
        io_.run();
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        stream_.close();
        buf_.clear();
        open_ = false;
    }

    endpoint ep_;
    boost::asio::io_context io_;
    beast::tcp_stream stream_;
    beast::flat_buffer buf_;
    bool open_ = false;
};

/// The p-quantile (0..1) of `v` by nearest rank (sorts a copy); 0 for none.
template <class T>
double percentile(std::vector<T> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
    return static_cast<double>(v[i]);
}

/// {"p50", "p90", "p99", "max", "n"} of samples in any unit (the caller names it).
template <class T>
boost::json::object quantiles(const std::vector<T>& v) {
    return {{"p50", percentile(v, 0.50)},
            {"p90", percentile(v, 0.90)},
            {"p99", percentile(v, 0.99)},
            {"max", v.empty() ? 0.0 : static_cast<double>(*std::max_element(v.begin(), v.end()))},
            {"n", v.size()}};
}

/// Writes `v` to `path` (atomically, with a newline); prints why on failure.
inline bool write_json_file(const std::string& path, const boost::json::value& v) {
    if (path.empty()) return true;
    if (auto r = write_file_atomic(path, boost::json::serialize(v) + "\n", 0644, true); !r) {
        std::fprintf(stderr, "--json %s: %s\n", path.c_str(), r.error().message().c_str());
        return false;
    }
    return true;
}

}  // namespace ballotchain::bench
