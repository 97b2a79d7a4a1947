#pragma once
/// @file A small asynchronous HTTP/1.1 server (Boost.Beast) with bounds:
/// body size (413), header size, read timeout for idle and slow clients,
/// a connection limit, keep-alive. Runs on one io_context thread.

#include <ballotchain/core/error.hpp>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <unordered_set>

namespace ballotchain::rpc {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

/// What the server knows about a request besides its bytes.
struct request_info {
    asio::ip::address remote;  ///< the client's address (per-client limits key on it)
};

/// A request handler. Callables taking only the request are accepted too (see http_server::create).
using http_handler = std::function<http_response(const http_request&, const request_info&)>;

struct http_server_options {
    std::size_t body_limit = 1u << 20;       ///< larger bodies get 413
    std::uint32_t header_limit = 16 * 1024;  ///< larger headers get 431-like 400
    std::chrono::milliseconds read_timeout{30'000};  ///< idle or slow clients are closed
    std::size_t max_connections = 256;       ///< connections beyond are closed at once
    /// When set, handlers run on this executor (e.g. a thread pool) instead of
    /// the io thread, so a handler that blocks does not stall other
    /// connections; the handler must then be thread-safe.
    std::optional<asio::any_io_executor> handler_executor;
};

/// A JSON response with the given status.
inline http_response json_response(http::status st, const boost::json::value& body, unsigned version = 11,
                                   bool keep_alive = true) {
    http_response res{st, version};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(keep_alive);
    res.body() = boost::json::serialize(body);
    res.prepare_payload();
    return res;
}

/// `{"detail": msg}` with the given status (the error shape of every HTTP API here).
inline http_response detail_response(http::status st, std::string_view msg, unsigned version = 11,
                                     bool keep_alive = true) {
    return json_response(st, boost::json::object{{"detail", msg}}, version, keep_alive);
}

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
        auto s = std::shared_ptr<http_server>(new http_server(io, std::move(hh), o));
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

    void stop() {
        stopped_ = true;
        boost::system::error_code ec;
        acceptor_.close(ec);
        auto copy = sessions_;
        for (auto* s : copy) s->close();
    }

private:
    class session : public std::enable_shared_from_this<session> {
    public:
        session(std::shared_ptr<http_server> srv, tcp::socket s) : srv_(std::move(srv)), stream_(std::move(s)) {
            beast::error_code ec;
            const auto ep = stream_.socket().remote_endpoint(ec);
            if (!ec) info_.remote = ep.address();
        }
        ~session() { srv_->sessions_.erase(this); }

        void start() {
            srv_->sessions_.insert(this);
            read();
        }
        void close() {
            beast::error_code ec;
            stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
            stream_.close();
        }

    private:
        void read() {
            parser_.emplace();
            parser_->body_limit(srv_->o_.body_limit);
            parser_->header_limit(srv_->o_.header_limit);
            stream_.expires_after(srv_->o_.read_timeout);
            http::async_read(stream_, buf_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                self->on_read(ec);
            });
        }

        void on_read(beast::error_code ec) {
            if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
                ec == asio::error::connection_reset || ec == asio::error::eof)
                return close();
            if (ec == http::error::body_limit)
                return respond(detail_response(http::status::payload_too_large, "request body too large", 11, false));
            if (ec == http::error::header_limit)
                return respond(detail_response(http::status::request_header_fields_too_large, "request headers too large", 11, false));
            if (ec) return respond(detail_response(http::status::bad_request, "malformed HTTP request", 11, false));
            if (srv_->o_.handler_executor) {
                // The session waits (no read in flight) while a worker runs the handler;
                // the response comes back to the session's own executor.
                // The worker hands its reference over to the io side, so the session is
                // never destroyed on a worker (its destructor touches the server's set).
                asio::post(*srv_->o_.handler_executor, [self = this->shared_from_this()]() mutable {
                    http_response res = self->run_handler();
                    auto ex = self->stream_.get_executor();
                    asio::post(ex, [s = std::move(self), r = std::move(res)]() mutable { s->respond(std::move(r)); });
                });
                return;
            }
            respond(run_handler());
        }

        http_response run_handler() {
            const auto& req = parser_->get();
            http_response res;
            try {
                res = srv_->handler_(req, info_);
            } catch (const std::exception&) {
                res = detail_response(http::status::internal_server_error, "internal error", req.version());
            }
            res.keep_alive(req.keep_alive() && res.keep_alive());
            return res;
        }

        void respond(http_response res) {
            res_ = std::make_shared<http_response>(std::move(res));
            stream_.expires_after(srv_->o_.read_timeout);
            http::async_write(stream_, *res_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                if (ec || !self->res_->keep_alive() || self->srv_->stopped_) return self->close();
                self->read();
            });
        }

        std::shared_ptr<http_server> srv_;
        beast::tcp_stream stream_;
        beast::flat_buffer buf_;
        std::optional<http::request_parser<http::string_body>> parser_;
        std::shared_ptr<http_response> res_;
        request_info info_;
    };

    http_server(asio::io_context& io, http_handler h, http_server_options o)
        : acceptor_(io), handler_(std::move(h)), o_(o) {}

    void accept() {
        acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket s) {
            if (self->stopped_) return;
            if (!ec) {
                if (self->sessions_.size() >= self->o_.max_connections) {
                    beast::error_code ig;
                    s.close(ig);  // over the connection limit
                } else {
                    std::make_shared<session>(self, std::move(s))->start();
                }
            }
            self->accept();
        });
    }

    tcp::acceptor acceptor_;
    http_handler handler_;
    http_server_options o_;
    std::unordered_set<session*> sessions_;
    bool stopped_ = false;
};

}  // namespace ballotchain::rpc
