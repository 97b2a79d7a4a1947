#pragma once
/// @file What the load generators of bench/ share: a kept-alive HTTP connection
/// for JSON-RPC (one request at a time, with a deadline), HOST:PORT parsing, and a
/// follower of a validator's final blocks (and, from report.hpp, clocks, percentiles
/// and the JSON result file).

#include "report.hpp"

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ballotchain::bench {

namespace beast = boost::beast;
namespace http = beast::http;

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

/// The ids of the votes in a stored block (poa_getRawBlocks' hex encoding): their tx hashes.
/// Empty when it does not decode. The one place the load generators read a block.
inline std::vector<hash32> block_vote_ids(std::string_view raw_hex) {
    std::vector<hash32> ids;
    auto raw = from_hex(raw_hex, 1u << 30);
    if (!raw) return ids;
    auto fb = decode_finalized_block(*raw);
    if (!fb) return ids;
    ids.reserve(fb->blk.txs.size());
    for (const auto& tx : fb->blk.txs) ids.push_back(tx_hash<ed25519_sha256>(tx));
    return ids;
}

/// Follows a validator's final head on its own thread: waits with the poa_waitForBlock
/// long-poll, reads each new block with poa_getRawBlocks, and calls
/// `on_block(height, seen_us, vote ids)` for each block above `from_height`, in order,
/// at the time it was first seen final (now_us()). Stops when destroyed or stop() is called.
class block_follower {
public:
    using on_block_fn = std::function<void(std::uint64_t height, std::uint64_t seen_us, const std::vector<hash32>& ids)>;

    block_follower(endpoint ep, std::uint64_t from_height, on_block_fn on_block)
        : ep_(std::move(ep)), height_(from_height), on_block_(std::move(on_block)), th_([this] { run(); }) {}
    block_follower(const block_follower&) = delete;
    block_follower& operator=(const block_follower&) = delete;
    ~block_follower() { stop(); }

    /// Stops following (returns once the thread has; at most one long-poll later).
    void stop() {
        stop_ = true;
        if (th_.joinable()) th_.join();
    }
    /// The last height handed to on_block.
    std::uint64_t height() const noexcept { return height_.load(); }

private:
    void run() {
        http_connection c(ep_);
        while (!stop_.load()) {
            auto w = c.call("poa_waitForBlock", {height_.load(), 200}, std::chrono::milliseconds(10'000));
            const boost::json::value* hv = w && w->is_object() ? w->as_object().if_contains("height") : nullptr;
            if (!hv || !hv->is_number()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                continue;
            }
            const std::uint64_t head = hv->to_number<std::uint64_t>();
            while (height_.load() < head && !stop_.load()) {
                auto r = c.call("poa_getRawBlocks", {quantity(height_.load() + 1), 256}, std::chrono::milliseconds(60'000));
                const boost::json::value* bs = r && r->is_object() ? r->as_object().if_contains("blocks") : nullptr;
                if (!bs || !bs->is_array() || bs->as_array().empty()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    break;
                }
                const std::uint64_t t = now_us();
                for (const auto& b : bs->as_array()) {
                    if (!b.is_string()) break;
                    const auto h = height_.load() + 1;
                    on_block_(h, t, block_vote_ids(b.as_string()));
                    height_ = h;
                }
            }
        }
    }

    endpoint ep_;
    std::atomic<std::uint64_t> height_;
    on_block_fn on_block_;
    std::atomic<bool> stop_{false};
    std::thread th_;  ///< last: starts once the rest is made
};

}  // namespace ballotchain::bench
