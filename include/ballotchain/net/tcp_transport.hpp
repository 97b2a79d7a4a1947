#pragma once
/// @file Validator-to-validator transport over TCP (Boost.Asio).
///
/// One authenticated, encrypted connection per pair of validators, keyed by registry id
/// (handshake.hpp). The validator with the lower id dials, the other accepts; a node whose
/// key is not yet in the registry it knows (no id) dials every known validator it has an
/// address for, and counts such a session as up only once the first record from the
/// responder arrives (the responder closes instead when it does not know our key yet).
/// The registry only grows (set_validators). Every connection starts with
/// the Noise XX handshake of handshake.hpp (both registry keys proven, both
/// ephemeral keys and the roles bound); after it every frame travels in
/// encrypted records (record.hpp). Before authentication only the fixed-size
/// handshake messages are read (≤ 100 bytes), within `handshake_timeout`, and
/// unauthenticated inbound connections are capped in total and per address
/// (beyond the total the oldest one is dropped, so a flood cannot keep real
/// validators out for longer than their handshake takes). An authenticated
/// connection replaces an older one of the same validator (it proved to be that
/// validator); nothing unauthenticated ever touches an authenticated session.
///
/// Send queues are bounded (frames beyond the bound are dropped and counted:
/// consensus recovers lost messages by timeouts and STATUS). Outbound
/// connections are re-dialled with exponential backoff, rotating through every
/// address known for the peer (static configuration, then what discovery
/// reported), so an address that answers as another chain or another validator
/// does not hide a good one.
///
/// @par Thread safety Everything runs on one io_context thread; call the
/// public functions from that thread (e.g. through asio::post).

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/suite.hpp>
#include <ballotchain/net/handshake.hpp>
#include <ballotchain/net/record.hpp>

#include <boost/asio.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <type_traits>

namespace ballotchain::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct transport_options {
    std::size_t max_frame_bytes = (64u << 20) + 4096;  ///< largest frame accepted
    std::size_t max_queue_bytes = 256u << 20;          ///< per-peer send queue bound
    std::chrono::milliseconds handshake_timeout{5000};
    std::chrono::milliseconds idle_timeout{30000};     ///< no frame for this long closes the link
    std::chrono::milliseconds reconnect_min{200};
    /// Re-dial backoff cap: short, so a validator that comes back is reconnected within ~2 s
    /// (recovery after a loss of quorum, docs/protocol.md §4 "Reconnection").
    std::chrono::milliseconds reconnect_max{2000};
    std::size_t max_unauthenticated = 64;              ///< inbound connections still in the handshake, in total
    std::size_t max_unauthenticated_per_address = 8;   ///< … and from one IP address
};

struct peer_address {
    std::string host;
    std::uint16_t port = 0;
    bool operator==(const peer_address&) const = default;
    std::string to_string() const { return host + ":" + std::to_string(port); }
};

struct transport_stats {
    std::uint64_t frames_in = 0;
    std::uint64_t frames_out = 0;
    std::uint64_t dropped_out = 0;           ///< frames dropped because a send queue was full
    std::uint64_t rejected_connections = 0;  ///< connections that failed or were refused before authentication
    std::uint64_t refused_over_cap = 0;      ///< inbound connections closed by the unauthenticated caps
    std::uint64_t connects = 0;              ///< authenticated sessions established
    std::map<std::string, std::uint64_t> failures;  ///< handshake failures by reason
};

/// @tparam Suite the chain's crypto suite: its link keys are the Noise static keys.
/// An insecure suite (crypto/suite.hpp) is refused at compile time.
template <secure_suite Suite>
class tcp_transport : public std::enable_shared_from_this<tcp_transport<Suite>> {
public:
    using key_pair = typename Suite::key_pair;
    using message_handler = std::function<void(std::uint32_t from, bytes frame)>;
    using peer_handler = std::function<void(std::uint32_t peer, bool up)>;
    using log_handler = std::function<void(int level, const std::string& msg)>;  ///< 0 debug 1 info 2 warn

    /// The registry starts as the genesis validators; our id is the position of `kp`'s key in
    /// it, or none (a validator a change will add: it learns its id from set_validators).
    /// Throws std::invalid_argument when a genesis key has no link form.
    static std::shared_ptr<tcp_transport> create(asio::io_context& io, const genesis_config& g, const key_pair& kp,
                                                 transport_options o = {}) {
        auto c = handshake_context::make<Suite>(g, kp);
        if (!c) throw std::invalid_argument("P2P transport: " + c.error().message());
        return std::shared_ptr<tcp_transport>(new tcp_transport(io, std::move(*c), o));
    }
    /// As above, and `kp` must be genesis validator `self`; throws std::invalid_argument otherwise.
    static std::shared_ptr<tcp_transport> create(asio::io_context& io, const genesis_config& g, const key_pair& kp,
                                                 std::uint32_t self, transport_options o = {}) {
        auto c = handshake_context::make<Suite>(g, kp, self);
        if (!c) throw std::invalid_argument("P2P transport: " + c.error().message());
        return std::shared_ptr<tcp_transport>(new tcp_transport(io, std::move(*c), o));
    }

    /// Our registry id (none while our key is not in the registry we know).
    std::optional<std::uint32_t> self() const noexcept { return ctx_.self; }
    /// Validator keys known, by id (the genesis validators first).
    const std::vector<public_key>& validators() const noexcept { return ctx_.registry; }

    /// The registry grew: `registry` is the one known so far plus new keys at its end. Learns
    /// our id if our key is now in it and dials the newly known validators we dial that have
    /// an address. Anything else (shorter, another prefix, a key with no link form, a key
    /// twice, more than limits::max_registry keys) is ignored and logged at warning level.
    void set_validators(std::vector<public_key> registry) {
        const auto old = ctx_.registry.size();
        if (registry.size() < old || !std::equal(ctx_.registry.begin(), ctx_.registry.end(), registry.begin())) {
            log(2, std::string("validator registry of ") + std::to_string(registry.size()) +
                       " keys ignored: it does not extend the one known (" + std::to_string(old) + " keys)");
            return;
        }
        if (registry.size() == old) return;
        const bool had_id = ctx_.self.has_value();
        if (auto ec = ctx_.template extend<Suite>(std::span<const public_key>(registry).subspan(old))) {
            log(2, std::string("validator registry of ") + std::to_string(registry.size()) + " keys ignored: " + ec.message());
            return;
        }
        log(1, std::string("validator registry: ") + std::to_string(ctx_.registry.size()) + " keys (" +
                   std::to_string(ctx_.registry.size() - old) + " new)");
        if (!had_id && ctx_.self) {
            log(1, "this node is " + name(*ctx_.self) + ": it now dials only validators with a higher id");
            // Our own slot, if an address was configured for the id we turned out to have, is not a peer.
            if (auto it = peers_.find(*ctx_.self); it != peers_.end() && !it->second.sess) {
                it->second.timer.cancel();
                peers_.erase(it);
            }
        }
        for (std::uint32_t i = static_cast<std::uint32_t>(old); i < ctx_.registry.size(); ++i)
            if (peers_.count(i)) kick(i);
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

    /// Where validator `index` listens, as configured by the operator (kept, tried first).
    /// Any id below limits::max_registry: an id not in the registry yet (a validator a change
    /// will add) is kept and dialled once set_validators makes it known.
    void add_static_peer(std::uint32_t index, peer_address addr) {
        if (index >= limits::max_registry || index == ctx_.self) return;
        auto& p = slot(index);
        if (std::find(p.static_addrs.begin(), p.static_addrs.end(), addr) == p.static_addrs.end())
            p.static_addrs.push_back(std::move(addr));
        kick(index);
    }
    /// Where validator `index` listens, as discovery reported it (replaces the last
    /// report; static addresses stay). We dial it when it is known and its id is above ours
    /// (or we have no id yet).
    void set_peer(std::uint32_t index, peer_address addr) {
        if (index >= limits::max_registry || index == ctx_.self) return;
        auto& p = slot(index);
        if (p.discovered == addr) return;
        p.discovered = std::move(addr);
        kick(index);
    }
    /// The address that connected last, or else the first known one.
    std::optional<peer_address> peer(std::uint32_t index) const {
        auto it = peers_.find(index);
        if (it == peers_.end()) return std::nullopt;
        auto c = it->second.candidates();
        if (c.empty()) return std::nullopt;
        return c[it->second.next % c.size()];
    }

    void send(std::uint32_t to, std::shared_ptr<const bytes> frame) {
        auto it = peers_.find(to);
        if (it == peers_.end() || !it->second.sess) return;
        it->second.sess->send(*frame);
    }
    void broadcast(const std::shared_ptr<const bytes>& frame) {
        for (auto& [i, p] : peers_)
            if (p.sess) p.sess->send(*frame);
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
    /// Inbound connections that have not finished the handshake.
    std::size_t unauthenticated() const noexcept { return inbound_pending_; }
    const transport_stats& stats() const noexcept { return stats_; }

    void stop() {
        stopped_ = true;
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (auto& [i, p] : peers_) {
            p.timer.cancel();
            if (p.sess) p.sess->close(make_error(errc::closed));
        }
        auto pend = pending_;
        for (auto& s : pend)
            if (auto sp = s.lock()) sp->close(make_error(errc::closed));
    }

private:
    class session;

    struct peer_slot {
        explicit peer_slot(asio::io_context& io) : timer(io) {}
        std::vector<peer_address> static_addrs;
        std::optional<peer_address> discovered;
        std::size_t next = 0;  ///< index into candidates() of the address to dial next
        std::shared_ptr<session> sess;
        asio::steady_timer timer;
        std::chrono::milliseconds backoff{0};
        bool dialing = false;  ///< a dial is in flight or scheduled
        bool backing_off = false;  ///< the scheduled re-dial is waiting on `timer`
        std::string last_failure;  ///< logged at warning level only when it changes

        std::vector<peer_address> candidates() const {
            auto c = static_addrs;
            if (discovered && std::find(c.begin(), c.end(), *discovered) == c.end()) c.push_back(*discovered);
            return c;
        }
    };

    tcp_transport(asio::io_context& io, handshake_context c, transport_options o)
        : io_(io), o_(o), acceptor_(io), ctx_(std::move(c)) {}

    void log(int level, const std::string& m) {
        if (on_log_) on_log_(level, m);
    }
    static std::string name(std::uint32_t index) { return "validator-" + std::to_string(index + 1); }

    peer_slot& slot(std::uint32_t i) {
        auto it = peers_.find(i);
        if (it == peers_.end()) it = peers_.emplace(i, peer_slot(io_)).first;
        return it->second;
    }

    /// The dial rule: a node with an id dials the known validators with a higher id; a node
    /// without one dials every known validator (it has addresses only for those it was told of).
    bool we_dial(std::uint32_t index) const noexcept {
        return index < ctx_.registry.size() && index != ctx_.self && (!ctx_.self || index > *ctx_.self);
    }

    /// Dial now if we dial this peer and nothing is in flight.
    void kick(std::uint32_t index) {
        auto& p = slot(index);
        if (we_dial(index) && !stopped_ && !p.dialing && !p.sess) dial(index);
    }

    void accept() {
        acceptor_.async_accept([self = this->shared_from_this()](boost::system::error_code ec, tcp::socket s) {
            if (self->stopped_) return;
            if (!ec) self->admit(std::move(s));
            self->accept();
        });
    }

    /// An inbound connection: within the caps it starts a handshake.
    void admit(tcp::socket s) {
        boost::system::error_code ec;
        const auto ep = s.remote_endpoint(ec);
        if (ec) return;
        const auto addr = ep.address();
        if (inbound_by_addr_[addr] >= o_.max_unauthenticated_per_address) {
            ++stats_.refused_over_cap;
            s.close(ec);
            return;
        }
        if (inbound_pending_ >= o_.max_unauthenticated) {
            // Make room: the oldest unauthenticated inbound connection goes.
            std::shared_ptr<session> oldest;
            for (auto& w : pending_) {
                auto sp = w.lock();
                if (sp && !sp->outbound()) {
                    oldest = std::move(sp);
                    break;
                }
            }
            if (oldest) {
                ++stats_.refused_over_cap;
                oldest->close(make_error(errc::too_many_connections));
            }
        }
        ++inbound_pending_;
        ++inbound_by_addr_[addr];
        auto sess = std::make_shared<session>(this->shared_from_this(), std::move(s), std::nullopt, addr);
        pending_.push_back(sess);
        sess->start();
    }

    /// Called once per inbound session when it authenticates or closes.
    void release_inbound(const asio::ip::address& addr) {
        --inbound_pending_;
        auto it = inbound_by_addr_.find(addr);
        if (it != inbound_by_addr_.end() && --it->second == 0) inbound_by_addr_.erase(it);
    }

    void dial(std::uint32_t index) {
        auto& p = slot(index);
        const auto cands = p.candidates();
        // Also when the rule changed since the dial was scheduled (we learnt our id), or the peer
        // dialled us meanwhile.
        if (stopped_ || cands.empty() || !we_dial(index) || p.sess) {
            p.dialing = false;
            return;
        }
        p.dialing = true;
        const auto addr = cands[p.next % cands.size()];
        auto resolver = std::make_shared<tcp::resolver>(io_);
        resolver->async_resolve(
            addr.host, std::to_string(addr.port),
            [self = this->shared_from_this(), index, addr, resolver](boost::system::error_code ec,
                                                                     tcp::resolver::results_type rs) {
                if (self->stopped_) return;
                if (ec) return self->dial_failed(index, addr, "resolve failed: " + ec.message(), false);
                auto sock = std::make_shared<tcp::socket>(self->io_);
                asio::async_connect(*sock, rs, [self, index, addr, sock](boost::system::error_code ec2, const tcp::endpoint& ep) {
                    if (self->stopped_) return;
                    if (ec2) return self->dial_failed(index, addr, "connect failed: " + ec2.message(), false);
                    boost::system::error_code ig;
                    sock->set_option(tcp::no_delay(true), ig);
                    auto sess = std::make_shared<session>(self, std::move(*sock), index, ep.address());
                    sess->set_dialled_address(addr);
                    self->pending_.push_back(sess);
                    sess->start();
                });
            });
    }

    /// A dial of `index` at `addr` did not produce a session: try the next address after a backoff.
    void dial_failed(std::uint32_t index, const peer_address& addr, const std::string& why, bool handshake) {
        auto& p = slot(index);
        ++p.next;
        const std::string what = name(index) + " at " + addr.to_string() + ": " + why;
        // A wrong chain or key at a configured address is an operator's problem: say it once, loudly.
        if (handshake && what != p.last_failure) log(2, what);
        p.last_failure = what;
        redial(index, what);
    }

    void redial(std::uint32_t index, const std::string& why) {
        auto& p = slot(index);
        p.dialing = false;
        if (stopped_ || p.sess) return;
        p.backoff = p.backoff.count() == 0 ? o_.reconnect_min : std::min(p.backoff * 2, o_.reconnect_max);
        log(0, why + "; retry in " + std::to_string(p.backoff.count()) + " ms");
        p.dialing = true;
        schedule_dial(index, p.backoff);
    }

    /// Dials `index` after `after` (replacing a re-dial already scheduled).
    void schedule_dial(std::uint32_t index, std::chrono::milliseconds after) {
        auto& p = slot(index);
        p.backing_off = true;
        p.timer.expires_after(after);  // a wait already pending ends with operation_aborted
        p.timer.async_wait([self = this->shared_from_this(), index](boost::system::error_code ec) {
            if (ec || self->stopped_) return;
            self->slot(index).backing_off = false;
            self->dial(index);
        });
    }

    /// A validator (re)connected: the network is coming back, so every lost peer we dial is
    /// re-dialled now with its backoff reset, instead of when its backoff ends.
    void retry_lost_peers(std::uint32_t except) {
        for (auto& [i, q] : peers_) {
            if (i == except || !we_dial(i) || q.sess || !q.backing_off) continue;
            q.backoff = std::chrono::milliseconds(0);
            schedule_dial(i, std::chrono::milliseconds(0));
        }
    }

    /// A session finished its handshake as validator `index`.
    void attach(std::uint32_t index, const std::shared_ptr<session>& s) {
        auto& p = slot(index);
        if (s->outbound()) {
            p.dialing = false;
            // remember the address that worked: it is tried first next time
            const auto c = p.candidates();
            for (std::size_t k = 0; k < c.size(); ++k)
                if (s->dialled_address() && c[k] == *s->dialled_address()) p.next = k;
        }
        p.backoff = std::chrono::milliseconds(0);
        p.last_failure.clear();
        // The new session proved the peer's key, so the peer reconnected: the old one is stale.
        if (p.sess && p.sess != s) p.sess->close(make_error(errc::closed));
        p.sess = s;
        ++stats_.connects;
        log(0, name(index) + " connected");
        retry_lost_peers(index);
        if (on_peer_) on_peer_(index, true);
    }

    void detach(const std::shared_ptr<session>& s, error_code why) {
        std::erase_if(pending_, [&](const std::weak_ptr<session>& w) {
            auto sp = w.lock();
            return !sp || sp == s;
        });
        if (!s->attached()) {
            ++stats_.rejected_connections;
            ++stats_.failures[why.message()];
            if (s->outbound() && !stopped_) {
                const auto addr = s->dialled_address().value_or(peer_address{});
                const bool loud = why == make_error(errc::wrong_chain) || why == make_error(errc::unknown_key) ||
                                  why == make_error(errc::wrong_peer) || why == make_error(errc::refused) ||
                                  why == make_error(errc::bad_handshake) || s->authenticated();
                return dial_failed(*s->dialled(), addr, s->detail(why), loud);
            }
            // A validator of another chain dialling us is an operator's problem (a wrong address in
            // someone's peers): loud, at most once a minute per address.
            const bool other_chain = why == make_error(errc::wrong_chain);
            log(other_chain && loud_once(s->remote()) ? 2 : 0,
                "inbound connection from " + s->remote().to_string() + " refused: " + s->detail(why));
            return;
        }
        const auto index = s->peer_index();
        auto& p = slot(index);
        const bool was = p.sess == s;
        if (was) {
            p.sess.reset();
            log(1, name(index) + " disconnected: " + why.message());
            if (on_peer_) on_peer_(index, false);
        }
        if (we_dial(index) && !stopped_ && !p.sess && !p.dialing) redial(index, why.message());
    }

    /// True at most once a minute per address (bounded: the map is cleared past 1024 addresses).
    bool loud_once(const asio::ip::address& a) {
        const auto now = std::chrono::steady_clock::now();
        if (loud_at_.size() > 1024) loud_at_.clear();
        auto [it, fresh] = loud_at_.try_emplace(a, now);
        if (!fresh && now - it->second < std::chrono::minutes(1)) return false;
        it->second = now;
        return true;
    }

    void deliver(std::uint32_t from, bytes frame) {
        ++stats_.frames_in;
        if (on_message_) on_message_(from, std::move(frame));
    }

    // ---- one connection -------------------------------------------------------------

    class session : public std::enable_shared_from_this<session> {
    public:
        session(std::shared_ptr<tcp_transport> t, tcp::socket s, std::optional<std::uint32_t> dialled,
                asio::ip::address remote)
            : t_(std::move(t)), sock_(std::move(s)), timer_(sock_.get_executor()), dialled_(dialled), remote_(remote),
              hs_(dialled ? handshake::initiator(t_->ctx_, *dialled) : handshake::responder(t_->ctx_)) {}

        bool outbound() const noexcept { return dialled_.has_value(); }
        std::optional<std::uint32_t> dialled() const noexcept { return dialled_; }
        /// The handshake is done (records flow).
        bool authenticated() const noexcept { return open_; }
        /// Handed to the transport as the peer's session (attach()).
        bool attached() const noexcept { return attached_; }
        std::uint32_t peer_index() const noexcept { return hs_.peer(); }
        const asio::ip::address& remote() const noexcept { return remote_; }
        void set_dialled_address(peer_address a) { dialled_addr_ = std::move(a); }
        const std::optional<peer_address>& dialled_address() const noexcept { return dialled_addr_; }
        /// `why` with what the peer said when it refused us.
        std::string detail(error_code why) const {
            if (why == make_error(errc::refused) && hs_.refused()) return "peer refused the handshake: " + describe(*hs_.refused());
            if (open_ && !attached_)
                return "it closed the link after the handshake (" + why.message() +
                       "): our key is probably not in its validator registry yet";
            if (why == make_error(errc::wrong_chain) && hs_.their_chain())
                return why.message() + " (chain id " + std::to_string(hs_.their_chain()->first) + ", genesis hash " +
                       to_hex(hs_.their_chain()->second) + ")";
            return why.message();
        }

        void start() {
            arm(t_->o_.handshake_timeout);
            if (outbound()) {
                auto m1 = hs_.start();
                if (!m1) {
                    fail(m1.error());
                    return;
                }
                write_message(*m1);
            }
            read_header();
        }

        /// Seals and queues one frame (authenticated sessions only).
        void send(const bytes& frame) {
            if (closed_ || !open_) return;
            const auto need = frame_sealer::sealed_size(frame.size());
            if (queued_ + need > t_->o_.max_queue_bytes) {
                ++t_->stats_.dropped_out;
                return;
            }
            auto buf = std::make_shared<bytes>();
            if (!sealer_.seal(frame, *buf)) {
                fail(make_error(errc::bad_record));
                return;
            }
            ++t_->stats_.frames_out;
            enqueue(std::move(buf));
        }

        void close(error_code why) {
            if (closed_) return;
            closed_ = true;
            boost::system::error_code ig;
            sock_.shutdown(tcp::socket::shutdown_both, ig);
            sock_.close(ig);
            timer_.cancel();
            if (!outbound() && !counted_released_) {
                counted_released_ = true;
                t_->release_inbound(remote_);
            }
            t_->detach(this->shared_from_this(), why);
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
                                 if (self->closed_) return;
                                 if (ec) return self->close(make_error(errc::closed));
                                 const std::size_t n = (std::size_t{self->hdr_[0]} << 8) | self->hdr_[1];
                                 self->on_length(n);
                             });
        }

        void on_length(std::size_t n) {
            if (!open_) {
                // Before authentication only the handshake message we expect, or a refusal.
                const bool refusal_ok = hs_.is_initiator() && hs_.expected_size() == handshake_message_size[1] &&
                                        n == refusal_size;
                if (n != hs_.expected_size() && !refusal_ok) {
                    fail(make_error(errc::bad_handshake));
                    return;
                }
                return read_body(asio::buffer(small_.data(), n));
            }
            if (!frame_opener::valid_record_size(n)) {
                fail(make_error(errc::bad_record));
                return;
            }
            record_.resize(n);
            read_body(asio::buffer(record_));
        }

        void read_body(asio::mutable_buffer b) {
            asio::async_read(sock_, b, [self = this->shared_from_this()](boost::system::error_code ec, std::size_t n) {
                if (self->closed_) return;
                if (ec) return self->close(make_error(errc::closed));
                if (self->on_body(n)) self->read_header();
            });
        }

        /// Returns false when the session closed.
        bool on_body(std::size_t n) {
            if (!open_) {
                std::optional<refusal> refuse;
                auto reply = hs_.on_message(byte_view(small_.data(), n), &refuse);
                if (!reply) {
                    if (refuse && !hs_.is_initiator()) return refuse_and_close(*refuse, reply.error());
                    return fail(reply.error());
                }
                if (!reply->empty()) write_message(*reply);
                if (hs_.done()) authenticate();
                return !closed_;
            }
            frames_.clear();
            if (auto ec = opener_.open(record_, frames_)) return fail(ec);
            if (!attached_) {  // a session we dialled without an id: the responder's first record confirms it
                attach();
                if (closed_) return false;
            }
            if (!frames_.empty()) arm(t_->o_.idle_timeout);
            for (auto& f : frames_) {
                if (closed_) return false;
                t_->deliver(hs_.peer(), std::move(f));
            }
            return !closed_;
        }

        void authenticate() {
            auto [send, recv] = hs_.ciphers();
            sealer_ = frame_sealer(std::move(send));
            opener_ = frame_opener(std::move(recv), t_->o_.max_frame_bytes);
            record_.reserve(max_record_size);
            open_ = true;
            if (!outbound()) {
                counted_released_ = true;
                t_->release_inbound(remote_);
            }
            arm(t_->o_.idle_timeout);
            // XX gives the initiator no receipt for message 3. With an id, the responder knows our
            // key (it is older than us, or we dial it as a newer validator); without one it may
            // not yet, and closes: wait for its first record before calling the session up (until
            // then it stays in pending_, so stop() closes it).
            if (outbound() && !t_->ctx_.self) return;
            attach();
        }

        /// Hands the session to the transport as its peer's.
        void attach() {
            attached_ = true;
            std::erase_if(t_->pending_, [&](const std::weak_ptr<session>& w) {
                auto sp = w.lock();
                return !sp || sp.get() == this;
            });
            t_->attach(hs_.peer(), this->shared_from_this());
        }

        bool fail(error_code ec) {
            close(ec);
            return false;
        }

        /// Tells an initiator why (unauthenticated, logged by it), then closes.
        bool refuse_and_close(refusal r, error_code why) {
            write_message(bytes{static_cast<byte>(r)});
            refusing_ = why;
            return false;  // no more reads; the write completion closes
        }

        /// A handshake message or refusal: u16 length ‖ bytes.
        void write_message(const bytes& m) {
            auto buf = std::make_shared<bytes>();
            buf->reserve(2 + m.size());
            buf->push_back(static_cast<byte>(m.size() >> 8));
            buf->push_back(static_cast<byte>(m.size()));
            buf->insert(buf->end(), m.begin(), m.end());
            enqueue(std::move(buf));
        }

        void enqueue(std::shared_ptr<bytes> buf) {
            queued_ += buf->size();
            out_.push_back(std::move(buf));
            if (!writing_) write_next();
        }

        void write_next() {
            if (out_.empty() || closed_) {
                writing_ = false;
                if (refusing_ && !closed_) close(*refusing_);
                return;
            }
            writing_ = true;
            asio::async_write(sock_, asio::buffer(*out_.front()),
                              [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                                  if (self->closed_) return;
                                  if (ec) return self->close(make_error(errc::closed));
                                  self->queued_ -= self->out_.front()->size();
                                  self->out_.pop_front();
                                  self->write_next();
                              });
        }

        std::shared_ptr<tcp_transport> t_;
        tcp::socket sock_;
        asio::steady_timer timer_;
        std::optional<std::uint32_t> dialled_;
        std::optional<peer_address> dialled_addr_;
        asio::ip::address remote_;
        handshake hs_;
        bool open_ = false;
        bool attached_ = false;
        frame_sealer sealer_;
        frame_opener opener_;
        std::array<byte, 2> hdr_{};
        std::array<byte, max_handshake_message> small_{};
        bytes record_;
        std::vector<bytes> frames_;
        std::deque<std::shared_ptr<bytes>> out_;
        std::size_t queued_ = 0;
        bool writing_ = false;
        bool closed_ = false;
        bool counted_released_ = false;
        std::optional<error_code> refusing_;
    };

    asio::io_context& io_;
    transport_options o_;
    tcp::acceptor acceptor_;
    handshake_context ctx_;  ///< the registry and our id; handshakes keep a pointer to it
    std::map<std::uint32_t, peer_slot> peers_;
    std::vector<std::weak_ptr<session>> pending_;  ///< sessions not yet authenticated, oldest first
    std::size_t inbound_pending_ = 0;
    std::map<asio::ip::address, std::size_t> inbound_by_addr_;
    message_handler on_message_;
    peer_handler on_peer_;
    std::map<asio::ip::address, std::chrono::steady_clock::time_point> loud_at_;  ///< loud_once()
    log_handler on_log_;
    transport_stats stats_;
    bool stopped_ = false;
};

}  // namespace ballotchain::net
