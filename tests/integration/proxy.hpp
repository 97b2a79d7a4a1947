#pragma once
/// @file An in-test TCP proxy for chaos tests: it stands on one validator link
/// (the dialling validator's static peer address points at it) and can pass,
/// delay, cut or blackhole the traffic, and heal.
///
/// - pass: bytes flow both ways as they arrive.
/// - delay(d): every chunk is held d before it is passed on (order kept).
/// - cut: every open connection is reset, and new ones are accepted and reset at
///   once (a link that is down: the dialler sees the connection fail).
/// - blackhole: connections stay open, every byte is read and dropped, and the
///   end of a connection is not passed on either; new connections are accepted
///   and held without reaching the target (a link that silently loses
///   everything: only each validator's own timeouts can tell).
/// - heal: back to pass for new connections. Connections that lost bytes in a
///   blackhole are not repaired (their record stream has a hole); the validators
///   must notice and reconnect.
///
/// @par Thread safety Runs on its own io thread; the public functions may be
/// called from any thread and return once the change is in effect.
#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace ballotchain::itest {

class tcp_proxy {
public:
    enum class mode { pass, cut, blackhole };

    /// Listens on 127.0.0.1:<a free port> and forwards to 127.0.0.1:`target`.
    explicit tcp_proxy(std::uint16_t target) : target_(target), acceptor_(io_) {
        namespace asio = boost::asio;
        const asio::ip::tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), 0};
        acceptor_.open(ep.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        accept();
        th_ = std::thread([this] { io_.run(); });
    }
    ~tcp_proxy() {
        on_io([this] {
            boost::system::error_code ig;
            acceptor_.close(ig);
            close_all();
        });
        work_.reset();
        io_.stop();
        th_.join();
    }
    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    std::uint16_t port() const noexcept { return port_; }

    /// Forwards everything again (new connections reach the target).
    void heal() {
        on_io([this] {
            mode_ = mode::pass;
            delay_ = {};
        });
    }
    /// Holds every chunk `d` before passing it on.
    void delay(std::chrono::milliseconds d) {
        on_io([this, d] {
            mode_ = mode::pass;
            delay_ = d;
        });
    }
    /// Resets every connection and every new one.
    void cut() {
        on_io([this] {
            mode_ = mode::cut;
            close_all();
        });
    }
    /// Keeps connections open and drops every byte.
    void blackhole() {
        on_io([this] { mode_ = mode::blackhole; });
    }

    std::uint64_t connections_accepted() const noexcept { return accepted_; }
    std::uint64_t bytes_dropped() const noexcept { return dropped_; }

private:
    using tcp = boost::asio::ip::tcp;
    using clock = std::chrono::steady_clock;

    /// One proxied connection: `down` accepted from the dialler, `up` to the target.
    struct link : std::enable_shared_from_this<link> {
        explicit link(boost::asio::io_context& io) : down(io), up(io), timers{boost::asio::steady_timer(io), boost::asio::steady_timer(io)} {}
        tcp::socket down, up;
        std::array<std::array<std::uint8_t, 16384>, 2> buf{};
        struct chunk {
            clock::time_point due;
            std::vector<std::uint8_t> data;
        };
        std::array<std::deque<chunk>, 2> queued;  ///< by direction: 0 down→up, 1 up→down
        std::array<bool, 2> writing{false, false};
        std::array<boost::asio::steady_timer, 2> timers;
        bool closed = false;
        bool side_closed = false;  ///< one side ended while blackholed; the other was not told

        tcp::socket& from(int dir) { return dir == 0 ? down : up; }
        tcp::socket& to(int dir) { return dir == 0 ? up : down; }
        void close() {
            if (closed) return;
            closed = true;
            boost::system::error_code ig;
            // a reset, not a graceful end: the link "went down"
            down.set_option(boost::asio::socket_base::linger(true, 0), ig);
            up.set_option(boost::asio::socket_base::linger(true, 0), ig);
            down.close(ig);
            up.close(ig);
            for (auto& t : timers) t.cancel();
        }
    };

    template <class F>
    void on_io(F f) {
        std::promise<void> done;
        boost::asio::post(io_, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }

    void close_all() {
        for (auto& w : links_)
            if (auto l = w.lock()) l->close();
        links_.clear();
    }

    void accept() {
        auto l = std::make_shared<link>(io_);
        acceptor_.async_accept(l->down, [this, l](boost::system::error_code ec) {
            if (ec == boost::asio::error::operation_aborted) return;
            if (!ec) admit(l);
            accept();
        });
    }

    void admit(const std::shared_ptr<link>& l) {
        ++accepted_;
        std::erase_if(links_, [](const std::weak_ptr<link>& w) { return w.expired(); });
        if (mode_ == mode::cut) {
            l->close();
            return;
        }
        links_.push_back(l);
        if (mode_ == mode::blackhole) {
            pump(l, 0);  // held and swallowed; never reaches the target
            return;
        }
        l->up.async_connect({boost::asio::ip::make_address("127.0.0.1"), target_}, [this, l](boost::system::error_code ec) {
            if (l->closed) return;
            if (ec) return l->close();
            boost::system::error_code ig;
            l->up.set_option(tcp::no_delay(true), ig);
            l->down.set_option(tcp::no_delay(true), ig);
            pump(l, 0);
            pump(l, 1);
        });
    }

    /// Reads one direction forever; what it reads is dropped, or queued to be written.
    void pump(const std::shared_ptr<link>& l, int dir) {
        l->from(dir).async_read_some(boost::asio::buffer(l->buf[static_cast<std::size_t>(dir)]),
                                     [this, l, dir](boost::system::error_code ec, std::size_t n) {
            if (l->closed) return;
            if (ec) {
                // A blackhole swallows the end of a connection too: the other side learns nothing.
                if (mode_ != mode::blackhole || l->side_closed) return l->close();
                l->side_closed = true;
                boost::system::error_code ig;
                l->from(dir).close(ig);
                return;
            }
            if (mode_ == mode::blackhole) {
                dropped_ += n;
            } else {
                const auto& b = l->buf[static_cast<std::size_t>(dir)];
                l->queued[static_cast<std::size_t>(dir)].push_back(
                    {clock::now() + delay_, std::vector<std::uint8_t>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n))});
                flush(l, dir);
            }
            pump(l, dir);
        });
    }

    /// Writes the oldest queued chunk of one direction once it is due.
    void flush(const std::shared_ptr<link>& l, int dir) {
        const auto d = static_cast<std::size_t>(dir);
        if (l->closed || l->writing[d] || l->queued[d].empty()) return;
        l->writing[d] = true;
        auto& c = l->queued[d].front();
        if (c.due > clock::now()) {
            l->timers[d].expires_at(c.due);
            l->timers[d].async_wait([this, l, dir, d](boost::system::error_code ec) {
                l->writing[d] = false;
                if (!ec) flush(l, dir);
            });
            return;
        }
        boost::asio::async_write(l->to(dir), boost::asio::buffer(c.data), [this, l, dir, d](boost::system::error_code ec, std::size_t) {
            l->writing[d] = false;
            if (l->closed) return;
            if (ec) return l->close();
            l->queued[d].pop_front();
            flush(l, dir);
        });
    }

    std::uint16_t target_;
    std::uint16_t port_ = 0;
    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{io_.get_executor()};
    tcp::acceptor acceptor_;
    std::thread th_;
    mode mode_ = mode::pass;                 ///< io thread only
    std::chrono::milliseconds delay_{0};     ///< io thread only
    std::vector<std::weak_ptr<link>> links_; ///< io thread only
    std::atomic<std::uint64_t> accepted_{0}, dropped_{0};
};

}  // namespace ballotchain::itest
