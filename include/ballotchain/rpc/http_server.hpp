#pragma once
/// @file A small asynchronous HTTP/1.1 server (Boost.Beast) with the bounds every
/// network-facing port here needs: a total and a per-address connection cap
/// (and, when the total is reached, room taken back from the address holding the
/// most), a short deadline for the request header (slowloris), separate deadlines
/// for the body, the keep-alive idle time and the response, a body bound checked
/// before allocating (413), a header bound (431), RFC 9112 framing checks, and a
/// graceful ("lingering") close after an error answer. Runs on one io_context thread.
/// A handler may answer later instead of at once (request_info::defer, a long-poll).
/// With http_server_options::tls every connection on the port is TLS (tls.hpp):
/// the handshake counts against the header deadline and the same caps.

#include <ballotchain/core/error.hpp>
#include <ballotchain/rpc/json_text.hpp>
#include <ballotchain/rpc/tls.hpp>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <charconv>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace ballotchain::rpc {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

/// The answer to a request whose handler deferred it (request_info::defer).
///
/// Calling it sends the response on the request's connection. Only the first
/// call of a responder and its copies (they share one answer) counts; a call
/// after the connection was closed or the server stopped does nothing. It
/// holds no strong reference to the connection: a connection closed meanwhile
/// is gone, and nothing keeps it open but the wait for this call.
///
/// @par Thread safety Callable from any thread: the answer is posted to the
/// connection's executor. Not after the server's io_context is destroyed.
class responder {
public:
    /// An empty responder: the request could not be deferred; calling it does nothing.
    responder() = default;
    /// A responder that hands the answer to `send` (the server's; tests and
    /// harnesses without a server may give their own). `send` runs at most once.
    explicit responder(std::function<void(http_response)> send) : state_(std::make_shared<state>(std::move(send))) {}

    /// False for an empty responder (the handler must answer at once).
    explicit operator bool() const noexcept { return state_ != nullptr; }

    /// Sends `res` as the answer (only the first call of this responder or a copy).
    void operator()(http_response res) const {
        if (!state_ || state_->used.exchange(true)) return;
        state_->send(std::move(res));
    }

private:
    struct state {
        explicit state(std::function<void(http_response)> s) : send(std::move(s)) {}
        std::atomic<bool> used{false};
        std::function<void(http_response)> send;
    };
    std::shared_ptr<state> state_;
};

/// What the server knows about a request besides its bytes.
struct request_info {
    asio::ip::address remote;  ///< the client's address (per-client limits key on it through client_key)
    /// Set by http_server for the handler's call (see defer()); empty when a
    /// handler is driven without a server, which then cannot defer.
    std::function<responder()> deferrer = {};

    /// Takes the answer over: the server ignores what the handler returns and
    /// sends what the returned responder is given, whenever that is (a
    /// long-poll). Meanwhile the connection has a request in progress: it is
    /// not evicted as idle, no deadline of the server runs (the handler bounds
    /// the wait itself), and it reads nothing further, so a client that leaves
    /// is noticed only when the answer is written. The connection stays open
    /// until the responder is called, the server stops or it is closed. Call
    /// it during the handler's call, at most once per request; a later call,
    /// or one without a server, returns an empty responder. If the handler
    /// throws after deferring, the server answers 500 and the responder does
    /// nothing. The answer keeps the connection alive only when the request
    /// and the answer both allow it, as for an answer returned at once.
    responder defer() const { return deferrer ? deferrer() : responder{}; }
};

/// The key per-client limits count by: an IPv4 address as it is (an IPv4-mapped
/// IPv6 address, as a dual-stack socket reports IPv4 clients, as its IPv4
/// address), an IPv6 address by its /64 prefix, because one host or home usually
/// holds a whole /64 and could otherwise take a fresh address per connection.
/// The result hashes with std::hash (usable as a keyed_rate_limiter key).
inline asio::ip::address client_key(const asio::ip::address& a) {
    if (!a.is_v6()) return a;
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6);
    auto b = v6.to_bytes();
    for (std::size_t i = 8; i < b.size(); ++i) b[i] = 0;
    return asio::ip::address_v6(b);
}

/// A request handler. Callables taking only the request are accepted too (see http_server::create).
using http_handler = std::function<http_response(const http_request&, const request_info&)>;

/// Counters of one server, readable from any thread (e.g. a /metrics handler on a worker).
struct http_server_stats {
    std::atomic<std::uint64_t> open{0};                 ///< connections held now (gauge)
    std::atomic<std::uint64_t> accepted{0};             ///< connections taken on
    std::atomic<std::uint64_t> refused_per_address{0};  ///< refused: the address held max_connections_per_address
    std::atomic<std::uint64_t> refused_full{0};         ///< refused: max_connections held and nothing fair to evict
    std::atomic<std::uint64_t> evicted{0};              ///< closed to make room for a client holding fewer
    std::atomic<std::uint64_t> header_timeouts{0};      ///< closed: no complete header (or TLS handshake) within header_timeout
    std::atomic<std::uint64_t> tls_handshake_failures{0};  ///< closed: the TLS handshake failed (not TLS, no common version...)
    std::atomic<std::uint64_t> bad_requests{0};         ///< answered 400/413/431/501 and closed
};

/// Bounds of an http_server. The defaults suit a public port on a small machine:
/// an attacker holding the most one address may hold (64) takes 1/16 of the
/// total, and at the total the server still makes room for others (see
/// http_server). 64 per address leaves room for the heaviest legitimate single
/// client here (a backend with 32 workers calling one validator, the load
/// benchmark's 32 clients) plus connections the server still holds while their
/// close is in flight.
struct http_server_options {
    std::size_t body_limit = 1u << 20;       ///< larger bodies get 413 (checked against Content-Length before reading)
    std::uint32_t header_limit = 16 * 1024;  ///< larger request headers get 431
    std::size_t max_connections = 1024;      ///< connections held at once, in total
    std::size_t max_connections_per_address = 64;  ///< connections held at once per client_key
    /// The whole request header must arrive within this time from the connection,
    /// or from the first byte of a later request on a kept-alive connection;
    /// a client trickling header bytes is closed at this deadline.
    std::chrono::milliseconds header_timeout{5'000};
    std::chrono::milliseconds body_timeout{30'000};   ///< the whole body must arrive within this time after the header
    std::chrono::milliseconds idle_timeout{30'000};   ///< a kept-alive connection waits this long for a next request
    std::chrono::milliseconds write_timeout{30'000};  ///< the response must be taken within this time
    /// After an error answer (or any answer that ends the connection) the server
    /// shuts down its sending side and reads and discards what the client still
    /// sends, for at most this long and this many bytes, so the client's kernel
    /// does not discard the answer on a reset (nginx's lingering close).
    std::chrono::milliseconds linger_timeout{5'000};
    std::size_t linger_bytes = 8u << 20;
    /// When set, handlers run on this executor (e.g. a thread pool) instead of
    /// the io thread, so a handler that blocks does not stall other
    /// connections; the handler must then be thread-safe.
    std::optional<asio::any_io_executor> handler_executor;
    /// Where the server counts; it makes its own when empty (see http_server::stats).
    std::shared_ptr<http_server_stats> stats;
    /// When set (make_server_tls_context), every connection is TLS: the handshake
    /// must finish, and the first request header arrive, within header_timeout of
    /// the connection; a connection that is refused gets no answer (no plain 503).
    std::shared_ptr<ssl::context> tls;
};

/// A JSON response with the given status.
inline http_response json_response(http::status st, const boost::json::value& body, unsigned version = 11,
                                   bool keep_alive = true) {
    http_response res{st, version};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(keep_alive);
    res.body() = json_text(body);
    res.prepare_payload();
    return res;
}

/// `{"detail": msg}` with the given status (the error shape of every HTTP API here).
inline http_response detail_response(http::status st, std::string_view msg, unsigned version = 11,
                                     bool keep_alive = true) {
    return json_response(st, boost::json::object{{"detail", msg}}, version, keep_alive);
}

/// Whole seconds for a `Retry-After` header: `ms` rounded up, at least 1 (a
/// client told to retry after 0 s would retry at once).
constexpr std::uint64_t retry_after_seconds(std::uint64_t ms) noexcept {
    const std::uint64_t s = ms / 1000 + (ms % 1000 != 0 ? 1 : 0);
    return s == 0 ? 1 : s;
}

/// 429 `{"detail": "<what>: retry after N s"}` with `Retry-After: N`, N =
/// retry_after_seconds(retry_after_ms); `retry_after_ms` is what
/// keyed_rate_limiter::acquire returned.
inline http_response too_many_requests(std::uint64_t retry_after_ms, unsigned version = 11,
                                       std::string_view what = "too many requests") {
    const auto s = std::to_string(retry_after_seconds(retry_after_ms));
    auto res = detail_response(http::status::too_many_requests, std::string(what) + ": retry after " + s + " s", version);
    res.set(http::field::retry_after, s);
    return res;
}

namespace detail {

/// RFC 9112 §6: the framing problem of a request header, if any. Beast refuses
/// `chunked` together with Content-Length, but takes any other Transfer-Encoding
/// (`xchunked`, `chunked, gzip`) and then frames the body by Content-Length, or
/// as empty, where a proxy in front may frame it otherwise (request smuggling).
/// Only exactly `chunked` is accepted: 400 when chunked is not the final coding
/// (the length cannot be known), 501 for other codings before it, 400 for
/// Transfer-Encoding with Content-Length or in an HTTP/1.0 request.
template <class Fields>
std::optional<std::pair<http::status, std::string_view>> framing_error(const http::request_header<Fields>& h) {
    auto [first, last] = h.equal_range(http::field::transfer_encoding);
    if (first == last) return std::nullopt;
    if (h.count(http::field::content_length) > 0)
        return std::pair{http::status::bad_request, "Transfer-Encoding together with Content-Length"};
    if (h.version() < 11) return std::pair{http::status::bad_request, "Transfer-Encoding in an HTTP/1.0 request"};
    std::size_t codings = 0;
    std::string_view final_coding;
    for (auto it = first; it != last; ++it) {
        std::string_view v = it->value();
        while (!v.empty()) {
            const auto comma = v.find(',');
            auto item = v.substr(0, comma);
            v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
            if (item.empty()) continue;
            ++codings;
            final_coding = item;
        }
    }
    if (!beast::iequals(final_coding, "chunked"))
        return std::pair{http::status::bad_request, "Transfer-Encoding must end with chunked"};
    if (codings != 1) return std::pair{http::status::not_implemented, "only Transfer-Encoding: chunked is supported"};
    return std::nullopt;
}

/// A complete 503 answer with `{"detail": msg}` that ends the connection, as bytes
/// (sent without a session when a connection is refused).
inline std::string refusal(std::string_view msg) {
    auto res = detail_response(http::status::service_unavailable, msg, 11, false);
    res.set(http::field::retry_after, "1");
    std::ostringstream o;
    o << res;
    return o.str();
}

}  // namespace detail

/// The server. Connections are counted per client_key; a connection beyond
/// `max_connections_per_address` is refused at once (a best-effort 503, then
/// closed). When `max_connections` are held, a new connection takes the place of
/// one that has no request in progress (waiting for its header, idle between
/// requests, or lingering after its last answer) from the address holding the
/// most connections, provided that address holds at least two more than the
/// newcomer; lingering ones go first. Otherwise it is refused. The same eviction
/// runs when accept fails for want of file descriptors.
///
/// A handler may defer its answer (request_info::defer): the connection then
/// waits, not evictable and without deadlines, until the responder is called;
/// stop() closes it like any other, and a later call of the responder does nothing.
///
/// @par Thread safety create, stop and the accessors other than stats() belong
/// on the io_context's (single) thread; handlers may run on `handler_executor`;
/// responders may be called from any thread.
class http_server : public std::enable_shared_from_this<http_server> {
public:
    /// Binds and listens; returns the error (e.g. address in use) instead of throwing.
    /// `h` is an http_handler, or a callable taking just the request.
    template <class Handler>
    static result<std::shared_ptr<http_server>> create(asio::io_context& io, const tcp::endpoint& ep, Handler h,
                                                       http_server_options o = {}) {
        http_handler hh;
        if constexpr (std::is_invocable_r_v<http_response, Handler&, const http_request&, const request_info&>)
            hh = std::move(h);
        else
            hh = [f = std::move(h)](const http_request& r, const request_info&) mutable { return f(r); };
        auto s = std::shared_ptr<http_server>(new http_server(io, std::move(hh), std::move(o)));
        boost::system::error_code ec;
        s->acceptor_.open(ep.protocol(), ec);
        if (!ec) s->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) s->acceptor_.bind(ep, ec);
        if (!ec) s->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return ec;
        s->accept();
        return s;
    }

    std::uint16_t port() const {
        boost::system::error_code ec;
        auto ep = acceptor_.local_endpoint(ec);
        return ec ? 0 : ep.port();
    }
    std::size_t connections() const noexcept { return sessions_.size(); }
    /// Connections held now from `key` (a client_key).
    std::size_t connections_from(const asio::ip::address& key) const {
        auto it = per_key_.find(key);
        return it == per_key_.end() ? 0 : it->second;
    }
    const std::shared_ptr<http_server_stats>& stats() const noexcept { return stats_; }
    const http_server_options& options() const noexcept { return o_; }

    void stop() {
        stopped_ = true;
        boost::system::error_code ec;
        acceptor_.close(ec);
        retry_timer_.cancel();
        std::vector<std::shared_ptr<session>> copy;
        for (auto* s : sessions_) copy.push_back(s->shared_from_this());
        for (auto& s : copy) s->close();
    }

private:
    /// What a connection is doing; the first three are "no request in progress" (evictable).
    enum class phase { idle, header, lingering, body, handling, writing };

    class session : public std::enable_shared_from_this<session> {
    public:
        session(std::shared_ptr<http_server> srv, tcp::socket s, asio::ip::address key, std::uint64_t serial)
            : srv_(std::move(srv)), stream_(std::move(s)), key_(std::move(key)), serial_(serial) {
            beast::error_code ec;
            const auto ep = stream_.socket().remote_endpoint(ec);
            if (!ec) info_.remote = ep.address();
            info_.deferrer = [this] { return defer(); };
            if (srv_->o_.tls) tls_.emplace(stream_, *srv_->o_.tls);
        }
        ~session() { srv_->release(this); }

        void start() {
            if (!tls_) return read_header();
            // The handshake and the first header share one header_timeout from the connection.
            phase_ = phase::header;
            stream_.expires_after(o().header_timeout);
            tls_->async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
                if (self->closed_) return;
                if (ec == beast::error::timeout) {
                    self->srv_->stats_->header_timeouts.fetch_add(1, std::memory_order_relaxed);
                    return self->close();
                }
                if (ec) {
                    self->srv_->stats_->tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
                    return self->close();
                }
                self->read_header(false);
            });
        }

        /// Closes now (idempotent); the server forgets the connection at once.
        void close() {
            if (closed_) return;
            closed_ = true;
            awaiting_ = false;
            const auto keep = std::move(self_);  // a deferred request's hold ends with this call
            srv_->release(this);
            beast::error_code ec;
            stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
            stream_.close();
        }

        phase state() const noexcept { return phase_; }
        const asio::ip::address& key() const noexcept { return key_; }
        std::uint64_t serial() const noexcept { return serial_; }

    private:
        const http_server_options& o() const { return srv_->o_; }

        /// Kept alive: waits up to idle_timeout for the next request's first byte.
        void await_request() {
            if (buf_.size() > 0) return read_header();  // pipelined
            phase_ = phase::idle;
            stream_.expires_after(o().idle_timeout);
            with_stream([&](auto& s) {
                s.async_read_some(buf_.prepare(4096), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                    if (self->closed_) return;
                    if (ec) return self->close();
                    self->buf_.commit(n);
                    self->read_header();
                });
            });
        }

        /// Calls `f` with the stream requests are read from and answers written to (TLS or plain).
        template <class F>
        void with_stream(F&& f) {
            if (tls_)
                f(*tls_);
            else
                f(stream_);
        }

        /// `restart_deadline` false: the deadline set at the TLS handshake still runs.
        void read_header(bool restart_deadline = true) {
            phase_ = phase::header;
            parser_.emplace();
            parser_->body_limit(o().body_limit);
            parser_->header_limit(o().header_limit);
            if (restart_deadline) stream_.expires_after(o().header_timeout);
            with_stream([&](auto& s) {
                http::async_read_header(s, buf_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                    self->on_header(ec);
                });
            });
        }

        void on_header(beast::error_code ec) {
            if (closed_) return;
            if (ec == beast::error::timeout) {
                srv_->stats_->header_timeouts.fetch_add(1, std::memory_order_relaxed);
                return close();
            }
            if (ec) return on_read_error(ec);
            if (auto bad = detail::framing_error(parser_->get().base())) return reject(bad->first, bad->second);
            if (parser_->is_done()) return on_request();
            phase_ = phase::body;
            stream_.expires_after(o().body_timeout);
            with_stream([&](auto& s) {
                http::async_read(s, buf_, *parser_, [self = this->shared_from_this()](beast::error_code e, std::size_t) {
                    if (self->closed_) return;
                    if (e) return self->on_read_error(e);
                    self->on_request();
                });
            });
        }

        void on_read_error(beast::error_code ec) {
            // Transport failures, timeouts and a peer that left mid-message: nobody to answer.
            if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
                ec == http::error::end_of_stream || ec == http::error::partial_message)
                return close();
            if (ec == http::error::body_limit) return reject(http::status::payload_too_large, "request body too large");
            if (ec == http::error::header_limit)
                return reject(http::status::request_header_fields_too_large, "request headers too large");
            reject(http::status::bad_request, "malformed HTTP request");
        }

        void on_request() {
            phase_ = phase::handling;
            stream_.expires_never();
            ++requests_;
            deferred_ = false;
            early_.reset();
            handler_running_ = true;
            if (o().handler_executor) {
                // The session waits (no read in flight) while a worker runs the handler;
                // the response comes back to the session's own executor.
                // The worker hands its reference over to the io side, so the session is
                // never destroyed on a worker (its destructor touches the server's tables).
                asio::post(*o().handler_executor, [self = this->shared_from_this()]() mutable {
                    http_response res = self->run_handler();
                    auto ex = self->stream_.get_executor();
                    asio::post(ex, [s = std::move(self), r = std::move(res)]() mutable { s->handled(std::move(r)); });
                });
                return;
            }
            handled(run_handler());
        }

        /// On the handler's thread, during its call: request_info::defer.
        responder defer() {
            if (!handler_running_ || deferred_) return {};
            deferred_ = true;
            return responder([w = this->weak_from_this(), ex = stream_.get_executor(), n = requests_](http_response res) {
                asio::post(ex, [w, n, r = std::move(res)]() mutable {
                    if (auto s = w.lock()) s->answer_deferred(n, std::move(r));
                });
            });
        }

        http_response run_handler() {
            const auto& req = parser_->get();
            http_response res;
            try {
                res = srv_->handler_(req, info_);
            } catch (const std::exception&) {
                deferred_ = false;  // the 500 goes out; the responder finds nothing to answer
                res = detail_response(http::status::internal_server_error, "internal error", req.version());
            }
            return res;
        }

        /// On the io thread once the handler returned `res`: sends it, or, if the
        /// handler deferred, the responder's answer (already given, or when it is).
        void handled(http_response res) {
            handler_running_ = false;
            if (!deferred_) {
                early_.reset();
                return send_answer(std::move(res));
            }
            if (closed_) return;
            if (early_) {
                auto r = std::move(*early_);
                early_.reset();
                return send_answer(std::move(r));
            }
            awaiting_ = true;
            self_ = this->shared_from_this();  // nothing else holds the session while it waits
        }

        /// On the io thread: the responder of request number `n` was called.
        void answer_deferred(std::uint64_t n, http_response res) {
            if (closed_ || n != requests_) return;
            if (handler_running_) {  // called before the handler returned: handled() sends it
                early_ = std::move(res);
                return;
            }
            if (!awaiting_) return;
            awaiting_ = false;
            const auto keep = std::move(self_);
            send_answer(std::move(res));
        }

        void send_answer(http_response res) {
            res.keep_alive(parser_->get().keep_alive() && res.keep_alive());
            respond(std::move(res));
        }

        /// Answers a request that will not be read further, then closes gracefully.
        void reject(http::status st, std::string_view why) {
            srv_->stats_->bad_requests.fetch_add(1, std::memory_order_relaxed);
            buf_.consume(buf_.size());
            respond(detail_response(st, why, 11, false));
        }

        void respond(http_response res) {
            if (closed_) return;
            if (srv_->stopped_) res.keep_alive(false);
            phase_ = phase::writing;
            res_ = std::make_shared<http_response>(std::move(res));
            stream_.expires_after(o().write_timeout);
            with_stream([&](auto& s) {
                http::async_write(s, *res_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                    if (self->closed_) return;
                    if (ec) return self->close();
                    const bool again = self->res_->keep_alive() && !self->srv_->stopped_;
                    self->res_.reset();
                    self->parser_.reset();
                    if (again) return self->await_request();
                    self->linger();
                });
            });
        }

        /// Stop sending, then read and discard what the client still sends (bounded)
        /// so that closing does not reset the connection under an unread answer.
        /// Over TLS the same: what the client still sends is decrypted and discarded
        /// (a client still sending its body reads the answer after it), and no
        /// close_notify is sent (the answer is framed by its Content-Length); TLS
        /// 1.3 has no truncation attack on a framed message.
        void linger() {
            phase_ = phase::lingering;
            beast::error_code ec;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
            if (ec) return close();
            buf_.consume(buf_.size());
            stream_.expires_after(o().linger_timeout);
            drain();
        }

        void drain() {
            with_stream([&](auto& s) {
                s.async_read_some(buf_.prepare(16 * 1024), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                    if (self->closed_) return;
                    self->lingered_ += n;
                    if (ec || self->lingered_ >= self->o().linger_bytes) return self->close();
                    self->drain();
                });
            });
        }

        std::shared_ptr<http_server> srv_;
        beast::tcp_stream stream_;  ///< the connection (its deadlines hold for TLS too: tls_ reads and writes through it)
        std::optional<beast::ssl_stream<beast::tcp_stream&>> tls_;  ///< when the server has a TLS context
        asio::ip::address key_;
        std::uint64_t serial_;
        beast::flat_buffer buf_;
        std::optional<http::request_parser<http::string_body>> parser_;
        std::shared_ptr<http_response> res_;
        request_info info_;
        phase phase_ = phase::header;
        std::size_t lingered_ = 0;
        bool closed_ = false;
        // A deferred answer (request_info::defer). deferred_ is written on the handler's
        // thread during its call and read on the io thread after it; the rest is the io thread's.
        std::uint64_t requests_ = 0;           ///< number of the request in progress (a responder's is checked against it)
        bool handler_running_ = false;         ///< set on the io thread before the handler runs, cleared after
        bool deferred_ = false;                ///< the handler called defer() for this request
        bool awaiting_ = false;                ///< the handler returned; the responder has not been called yet
        std::optional<http_response> early_;   ///< the responder's answer, given before the handler returned
        std::shared_ptr<session> self_;        ///< holds the session while awaiting_ (no operation in flight does)
    };

    http_server(asio::io_context& io, http_handler h, http_server_options o)
        : acceptor_(io), retry_timer_(io), handler_(std::move(h)), o_(std::move(o)),
          stats_(o_.stats ? o_.stats : std::make_shared<http_server_stats>()),
          refuse_address_(o_.tls ? std::string{} : detail::refusal("too many connections from this address")),
          refuse_full_(o_.tls ? std::string{} : detail::refusal("server busy")) {}

    void accept() {
        acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket s) {
            if (self->stopped_) return;
            if (!ec) {
                self->admit(std::move(s));
                return self->accept();
            }
            if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
                ec == boost::system::errc::too_many_files_open_in_system) {
                // Out of file descriptors or kernel memory: make room as at the total
                // cap, or wait a little instead of spinning on the same error.
                if (self->evict_for(0)) return self->accept();
                self->retry_timer_.expires_after(std::chrono::milliseconds(100));
                self->retry_timer_.async_wait([self](beast::error_code e) {
                    if (!e && !self->stopped_) self->accept();
                });
                return;
            }
            self->accept();
        });
    }

    void admit(tcp::socket s) {
        beast::error_code ec;
        const auto ep = s.remote_endpoint(ec);
        if (ec) return;  // already gone
        auto key = client_key(ep.address());
        const std::size_t held = connections_from(key);
        if (held >= o_.max_connections_per_address) {
            stats_->refused_per_address.fetch_add(1, std::memory_order_relaxed);
            return refuse(s, refuse_address_);
        }
        if (sessions_.size() >= o_.max_connections && !evict_for(held)) {
            stats_->refused_full.fetch_add(1, std::memory_order_relaxed);
            return refuse(s, refuse_full_);
        }
        auto sp = std::make_shared<session>(shared_from_this(), std::move(s), std::move(key), ++serial_);
        sessions_.insert(sp.get());
        ++per_key_[sp->key()];
        stats_->open.store(sessions_.size(), std::memory_order_relaxed);
        stats_->accepted.fetch_add(1, std::memory_order_relaxed);
        sp->start();
    }

    /// One non-blocking send of a canned answer (none over TLS), then close: no session, no timer.
    static void refuse(tcp::socket& s, const std::string& answer) {
        beast::error_code ec;
        s.non_blocking(true, ec);
        if (!ec && !answer.empty()) s.write_some(asio::buffer(answer), ec);
        s.shutdown(tcp::socket::shutdown_both, ec);
        s.close(ec);
    }

    /// Closes one connection without a request in progress to make room for a
    /// client holding `newcomer_holds` connections (see the class comment).
    bool evict_for(std::size_t newcomer_holds) {
        session* best = nullptr;
        for (auto* s : sessions_)
            if (s->state() == phase::lingering && (!best || s->serial() < best->serial())) best = s;
        std::size_t best_holds = 0;
        if (!best) {
            for (auto* s : sessions_) {
                if (s->state() != phase::idle && s->state() != phase::header) continue;
                const std::size_t holds = connections_from(s->key());
                if (holds < newcomer_holds + 2) continue;
                if (!best || holds > best_holds || (holds == best_holds && s->serial() < best->serial())) {
                    best = s;
                    best_holds = holds;
                }
            }
        }
        if (!best) return false;
        stats_->evicted.fetch_add(1, std::memory_order_relaxed);
        best->close();
        return true;
    }

    /// Forgets a connection (idempotent: close() and the destructor both call it).
    void release(session* s) {
        if (sessions_.erase(s) == 0) return;
        auto it = per_key_.find(s->key());
        if (it != per_key_.end() && --it->second == 0) per_key_.erase(it);
        stats_->open.store(sessions_.size(), std::memory_order_relaxed);
    }

    tcp::acceptor acceptor_;
    asio::steady_timer retry_timer_;
    http_handler handler_;
    http_server_options o_;
    std::shared_ptr<http_server_stats> stats_;
    std::string refuse_address_, refuse_full_;
    std::unordered_set<session*> sessions_;
    std::unordered_map<asio::ip::address, std::size_t> per_key_;
    std::uint64_t serial_ = 0;
    bool stopped_ = false;
};

}  // namespace ballotchain::rpc
