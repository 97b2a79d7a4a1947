#pragma once
/// @file Validator-to-validator transport over TCP (Boost.Asio).
///
/// One authenticated connection per pair of validators; the validator with
/// the lower index dials, the other accepts. Frames are length-prefixed and
/// bounded; the handshake (handshake.hpp) proves both validator keys; unknown
/// keys, oversize or malformed frames and idle peers close that connection
/// only. Send queues are bounded (frames beyond the bound are dropped and
/// counted: consensus recovers lost messages by timeouts and STATUS).
/// Outbound connections are re-dialled with exponential backoff.
///
/// @par Thread safety Everything runs on one io_context thread; call the
/// public functions from that thread (e.g. through asio::post).

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/crypto/random.hpp>
#include <ballotchain/net/handshake.hpp>

#include <boost/asio.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>

namespace ballotchain::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct transport_options {
    std::size_t max_frame_bytes = (64u << 20) + 4096;  ///< largest frame accepted
    std::size_t max_queue_bytes = 256u << 20;          ///< per-peer send queue bound
    std::chrono::milliseconds handshake_timeout{5000};
    std::chrono::milliseconds idle_timeout{30000};     ///< no frame for this long closes the link
    std::chrono::milliseconds reconnect_min{200};
    std::chrono::milliseconds reconnect_max{10000};
};

struct peer_address {
    std::string host;
    std::uint16_t port = 0;
    bool operator==(const peer_address&) const = default;
};

struct transport_stats {
    std::uint64_t frames_in = 0;
    std::uint64_t frames_out = 0;
    std::uint64_t dropped_out = 0;  ///< frames dropped because a send queue was full
    std::uint64_t rejected_connections = 0;
    std::uint64_t connects = 0;
};

template <hasher Hasher, signer Signer>
class tcp_transport : public std::enable_shared_from_this<tcp_transport<Hasher, Signer>> {
public:
    using key_pair = typename Signer::key_pair;
    using message_handler = std::function<void(std::uint32_t from, bytes frame)>;
    using peer_handler = std::function<void(std::uint32_t peer, bool up)>;
    using log_handler = std::function<void(int level, const std::string& msg)>;  ///< 0 debug 1 info 2 warn

    /// @pre `kp` is the key of genesis validator `self`.
    static std::shared_ptr<tcp_transport> create(asio::io_context& io, genesis_config g, key_pair kp,
                                                 std::uint32_t self, transport_options o = {}) {
        return std::shared_ptr<tcp_transport>(new tcp_transport(io, std::move(g), std::move(kp), self, o));
    }

    void on_message(message_handler h) { on_message_ = std::move(h); }
    void on_peer(peer_handler h) { on_peer_ = std::move(h); }
    void on_log(log_handler h) { on_log_ = std::move(h); }

    /// Binds and listens. Returns the error (e.g. address in use) instead of throwing.
    error_code listen(const tcp::endpoint& ep) {
        boost::system::error_code ec;
        acceptor_.open(ep.protocol(), ec);
        if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor_.bind(ep, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return ec;
        accept();
        return {};
    }
    std::uint16_t port() const {
        boost::system::error_code ec;
        auto ep = acceptor_.local_endpoint(ec);
        return ec ? 0 : ep.port();
    }

    /// Sets (or changes) where validator `index` listens. We dial it when its index is above ours.
    void set_peer(std::uint32_t index, peer_address addr) {
        if (index >= g_.n() || index == self_) return;
        auto& p = slot(index);
        if (p.addr == addr) return;
        p.addr = std::move(addr);
        if (index > self_ && !stopped_ && !p.dialing && !p.sess) dial(index);
    }
    std::optional<peer_address> peer(std::uint32_t index) const {
        auto it = peers_.find(index);
        if (it == peers_.end() || it->second.addr.host.empty()) return std::nullopt;
        return it->second.addr;
    }

    void send(std::uint32_t to, std::shared_ptr<const bytes> frame) {
        auto it = peers_.find(to);
        if (it == peers_.end() || !it->second.sess) return;
        it->second.sess->send(std::move(frame));
    }
    void broadcast(const std::shared_ptr<const bytes>& frame) {
        for (auto& [i, p] : peers_)
            if (p.sess) p.sess->send(frame);
    }

    std::size_t peer_count() const {
        std::size_t n = 0;
        for (const auto& [i, p] : peers_) n += p.sess ? 1 : 0;
        return n;
    }
    bool connected(std::uint32_t index) const {
        auto it = peers_.find(index);
        return it != peers_.end() && it->second.sess;
    }
    const transport_stats& stats() const noexcept { return stats_; }

    void stop() {
        stopped_ = true;
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (auto& [i, p] : peers_) {
            p.timer.cancel();
            if (p.sess) p.sess->close(make_error(errc::closed));
        }
        for (auto& s : pending_)
            if (auto sp = s.lock()) sp->close(make_error(errc::closed));
    }

private:
    class session;

    struct peer_slot {
        explicit peer_slot(asio::io_context& io) : timer(io) {}
        peer_address addr;
        std::shared_ptr<session> sess;
        asio::steady_timer timer;
        std::chrono::milliseconds backoff{0};
        bool dialing = false;
    };

    tcp_transport(asio::io_context& io, genesis_config g, key_pair kp, std::uint32_t self, transport_options o)
        : io_(io), g_(std::move(g)), kp_(std::move(kp)), self_(self), o_(o), acceptor_(io),
          genesis_hash_(genesis_hash<Hasher>(g_)) {}

    void log(int level, const std::string& m) {
        if (on_log_) on_log_(level, m);
    }

    peer_slot& slot(std::uint32_t i) {
        auto it = peers_.find(i);
        if (it == peers_.end()) it = peers_.emplace(i, peer_slot(io_)).first;
        return it->second;
    }

    void accept() {
        acceptor_.async_accept([self = this->shared_from_this()](boost::system::error_code ec, tcp::socket s) {
            if (self->stopped_) return;
            if (!ec) {
                auto sess = std::make_shared<session>(self, std::move(s), std::nullopt);
                self->pending_.push_back(sess);
                sess->start();
            }
            self->accept();
        });
    }

    void dial(std::uint32_t index) {
        auto& p = slot(index);
        if (stopped_ || p.addr.host.empty()) return;
        p.dialing = true;
        auto resolver = std::make_shared<tcp::resolver>(io_);
        resolver->async_resolve(
            p.addr.host, std::to_string(p.addr.port),
            [self = this->shared_from_this(), index, resolver](boost::system::error_code ec,
                                                               tcp::resolver::results_type rs) {
                if (self->stopped_) return;
                if (ec) return self->redial(index, "resolve failed: " + ec.message());
                auto sock = std::make_shared<tcp::socket>(self->io_);
                asio::async_connect(*sock, rs, [self, index, sock](boost::system::error_code ec2, const tcp::endpoint&) {
                    if (self->stopped_) return;
                    if (ec2) return self->redial(index, "connect failed: " + ec2.message());
                    boost::system::error_code ig;
                    sock->set_option(tcp::no_delay(true), ig);
                    auto sess = std::make_shared<session>(self, std::move(*sock), index);
                    self->pending_.push_back(sess);
                    sess->start();
                });
            });
    }

    void redial(std::uint32_t index, const std::string& why) {
        auto& p = slot(index);
        p.dialing = false;
        if (stopped_ || p.sess) return;
        p.backoff = p.backoff.count() == 0 ? o_.reconnect_min : std::min(p.backoff * 2, o_.reconnect_max);
        log(0, "peer " + std::to_string(index) + ": " + why + "; retry in " + std::to_string(p.backoff.count()) +
                   " ms");
        p.dialing = true;
        p.timer.expires_after(p.backoff);
        p.timer.async_wait([self = this->shared_from_this(), index](boost::system::error_code ec) {
            if (ec || self->stopped_) return;
            self->dial(index);
        });
    }

    /// A session finished its handshake as validator `index`.
    void attach(std::uint32_t index, const std::shared_ptr<session>& s) {
        auto& p = slot(index);
        p.dialing = false;
        p.backoff = std::chrono::milliseconds(0);
        if (p.sess && p.sess != s) p.sess->close(make_error(errc::closed));  // the peer reconnected
        p.sess = s;
        ++stats_.connects;
        log(0, "peer " + std::to_string(index) + " connected");
        if (on_peer_) on_peer_(index, true);
    }

    void detach(const std::shared_ptr<session>& s, std::optional<std::uint32_t> index, error_code why) {
        std::erase_if(pending_, [&](const std::weak_ptr<session>& w) {
            auto sp = w.lock();
            return !sp || sp == s;
        });
        if (!index) {
            ++stats_.rejected_connections;
            log(0, "connection refused: " + why.message());
            return;
        }
        auto& p = slot(*index);
        const bool was = p.sess == s;
        if (was) {
            p.sess.reset();
            log(0, "peer " + std::to_string(*index) + " disconnected: " + why.message());
            if (on_peer_) on_peer_(*index, false);
        }
        if (*index > self_ && !stopped_ && !p.sess && (was || s->outbound())) redial(*index, why.message());
    }

    void deliver(std::uint32_t from, bytes frame) {
        ++stats_.frames_in;
        if (on_message_) on_message_(from, std::move(frame));
    }

    // ---- one connection -------------------------------------------------------------

    class session : public std::enable_shared_from_this<session> {
    public:
        session(std::shared_ptr<tcp_transport> t, tcp::socket s, std::optional<std::uint32_t> dialled)
            : t_(std::move(t)), sock_(std::move(s)), timer_(sock_.get_executor()), dialled_(dialled) {}

        bool outbound() const { return dialled_.has_value(); }

        void start() {
            os_random rng;
            rng.fill(std::span<byte>(mine_.nonce.data));
            mine_.chain_id = t_->g_.chain_id;
            mine_.genesis = t_->genesis_hash_;
            mine_.index = t_->self_;
            mine_.key = t_->kp_.public_key();
            arm(t_->o_.handshake_timeout);
            write_raw(std::make_shared<const bytes>(encode(mine_)));
            read_header();
        }

        void send(std::shared_ptr<const bytes> frame) {
            if (closed_) return;
            if (queued_ + frame->size() > t_->o_.max_queue_bytes) {
                ++t_->stats_.dropped_out;
                return;
            }
            write_raw(std::move(frame));
        }

        void close(error_code why) {
            if (closed_) return;
            closed_ = true;
            boost::system::error_code ig;
            sock_.shutdown(tcp::socket::shutdown_both, ig);
            sock_.close(ig);
            timer_.cancel();
            t_->detach(this->shared_from_this(), peer_index_, why);
        }

    private:
        void arm(std::chrono::milliseconds d) {
            timer_.expires_after(d);
            timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
                if (!ec) self->close(make_error(errc::timeout));
            });
        }

        void read_header() {
            asio::async_read(sock_, asio::buffer(hdr_),
                             [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                                 if (ec) return self->close(make_error(errc::closed));
                                 const std::uint32_t n = (std::uint32_t{self->hdr_[0]} << 24) |
                                                         (std::uint32_t{self->hdr_[1]} << 16) |
                                                         (std::uint32_t{self->hdr_[2]} << 8) | self->hdr_[3];
                                 if (n > self->t_->o_.max_frame_bytes) return self->close(make_error(errc::frame_too_large));
                                 self->read_body(n);
                             });
        }

        void read_body(std::uint32_t n) {
            body_.resize(n);
            asio::async_read(sock_, asio::buffer(body_),
                             [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                                 if (ec) return self->close(make_error(errc::closed));
                                 if (self->on_frame()) self->read_header();
                             });
        }

        /// Returns false when the session closed.
        bool on_frame() {
            if (closed_) return false;
            switch (state_) {
            case state::hello: {
                auto h = decode_hello(body_);
                if (!h) return fail(h.error());
                auto idx = check_hello(*h, t_->g_, t_->genesis_hash_, t_->self_);
                if (!idx) return fail(idx.error());
                if (dialled_ && *idx != *dialled_) return fail(make_error(errc::unknown_key));
                theirs_ = *h;
                write_raw(std::make_shared<const bytes>(make_auth<Hasher, Signer>(
                    t_->kp_, t_->genesis_hash_, theirs_.nonce, mine_.nonce, t_->self_)));
                state_ = state::auth;
                return true;
            }
            case state::auth: {
                if (auto ec = check_auth<Hasher, Signer>(body_, theirs_, t_->genesis_hash_, mine_.nonce)) return fail(ec);
                state_ = state::open;
                peer_index_ = theirs_.index;
                arm(t_->o_.idle_timeout);
                t_->attach(theirs_.index, this->shared_from_this());
                return !closed_;
            }
            case state::open:
                arm(t_->o_.idle_timeout);
                t_->deliver(*peer_index_, std::move(body_));
                body_ = bytes{};
                return !closed_;
            }
            return false;
        }

        bool fail(error_code ec) {
            close(ec);
            return false;
        }

        void write_raw(std::shared_ptr<const bytes> frame) {
            queued_ += frame->size();
            out_.push_back(std::move(frame));
            if (!writing_) write_next();
        }

        void write_next() {
            if (out_.empty() || closed_) {
                writing_ = false;
                return;
            }
            writing_ = true;
            const auto& f = out_.front();
            const auto n = static_cast<std::uint32_t>(f->size());
            out_hdr_ = {static_cast<byte>(n >> 24), static_cast<byte>(n >> 16), static_cast<byte>(n >> 8),
                        static_cast<byte>(n)};
            std::array<asio::const_buffer, 2> bufs{asio::buffer(out_hdr_), asio::buffer(*f)};
            asio::async_write(sock_, bufs, [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                if (ec) return self->close(make_error(errc::closed));
                self->queued_ -= self->out_.front()->size();
                self->out_.pop_front();
                ++self->t_->stats_.frames_out;
                self->write_next();
            });
        }

        enum class state { hello, auth, open };

        std::shared_ptr<tcp_transport> t_;
        tcp::socket sock_;
        asio::steady_timer timer_;
        std::optional<std::uint32_t> dialled_;
        std::optional<std::uint32_t> peer_index_;
        state state_ = state::hello;
        hello mine_, theirs_;
        std::array<byte, 4> hdr_{};
        bytes body_;
        std::array<byte, 4> out_hdr_{};
        std::deque<std::shared_ptr<const bytes>> out_;
        std::size_t queued_ = 0;
        bool writing_ = false;
        bool closed_ = false;
    };

    asio::io_context& io_;
    genesis_config g_;
    key_pair kp_;
    std::uint32_t self_;
    transport_options o_;
    tcp::acceptor acceptor_;
    hash32 genesis_hash_;
    std::map<std::uint32_t, peer_slot> peers_;
    std::vector<std::weak_ptr<session>> pending_;
    message_handler on_message_;
    peer_handler on_peer_;
    log_handler on_log_;
    transport_stats stats_;
    bool stopped_ = false;
};

}  // namespace ballotchain::net
