// rpc/http_server: the server's bounds against a client that plays the attacker
// from 127.0.0.2 (and 127.0.0.3) while legitimate clients on 127.0.0.1 must be
// served: per-address and total connection caps, the header deadline, the
// graceful close after an error answer, RFC 9112 framing, and the helpers
// per-client rate limits use; over TLS (a CA made by the test): served to a
// client that trusts the CA, refused by one that does not or that expects
// another name, nothing for a plain client, and the same deadline and caps
// for connections that never finish the handshake.
#include <ballotchain/rpc/http_server.hpp>

#include <ballotchain/core/rate_limit.hpp>

#include <ballotchain/client/http_client.hpp>

#include "../support/eventually.hpp"
#include "../support/temp_dir.hpp"
#include "../support/test_ca.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

using namespace ballotchain;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bj = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using ballotchain::test::eventually;

namespace {

/// A server on 127.0.0.1 with a free port, its io thread, and a handler that
/// answers 200 `{"path", "body"}` and counts its calls.
struct test_server {
    asio::io_context io;
    /// Keeps io.run() going until stop(), even with no connection or acceptor left (a stopped
    /// server): calls posted to the io thread after srv->stop() must still run.
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::shared_ptr<rpc::http_server> srv;
    std::shared_ptr<rpc::http_server_stats> stats = std::make_shared<rpc::http_server_stats>();
    std::atomic<int> calls{0};
    std::thread th;

    explicit test_server(rpc::http_server_options o = {}) {
        o.stats = stats;
        auto r = rpc::http_server::create(
            io, {asio::ip::make_address("127.0.0.1"), 0},
            [this](const rpc::http_request& req) {
                ++calls;
                return rpc::json_response(rpc::http::status::ok,
                                          bj::object{{"path", std::string(req.target())}, {"body", req.body()}},
                                          req.version());
            },
            std::move(o));
        REQUIRE(r);
        srv = *r;
        th = std::thread([this] { io.run(); });
    }
    ~test_server() {
        asio::post(io, [this] {
            srv->stop();
            io.stop();
        });
        th.join();
    }
    std::uint16_t port() const { return srv->port(); }

    /// Runs `f` on the io thread (where the server's tables live) and returns its result.
    template <class F>
    auto on_io(F f) {
        auto done = std::make_shared<std::promise<decltype(f())>>();
        auto fut = done->get_future();
        asio::post(io, [done, f = std::move(f)]() mutable { done->set_value(f()); });
        return fut.get();
    }
    std::size_t held_from(const std::string& addr) {
        return on_io([&] { return srv->connections_from(rpc::client_key(asio::ip::make_address(addr))); });
    }
    /// Connections the server has taken on or refused so far.
    std::uint64_t seen() const {
        return stats->accepted.load() + stats->refused_per_address.load() + stats->refused_full.load();
    }
};

/// A raw TCP connection from a chosen local address, for bytes no HTTP client sends.
class raw_conn {
public:
    raw_conn(const std::string& source, std::uint16_t port) : s_(io_) {
        s_.open(tcp::v4());
        s_.bind({asio::ip::make_address(source), 0});
        s_.connect({asio::ip::make_address("127.0.0.1"), port});
    }

    /// Sends `b`; false when the server has already closed.
    bool send(std::string_view b) {
        boost::system::error_code ec;
        s_.non_blocking(false, ec);
        asio::write(s_, asio::buffer(b.data(), b.size()), ec);
        return !ec;
    }

    /// Whether the server has closed (EOF or reset) by now, without waiting; what
    /// arrived before is appended to received().
    bool closed_by_server() {
        boost::system::error_code ec;
        s_.non_blocking(true, ec);
        std::array<char, 4096> buf{};
        while (true) {
            const auto n = s_.read_some(asio::buffer(buf), ec);
            got_.append(buf.data(), n);
            if (ec == asio::error::would_block || ec == asio::error::try_again) return false;
            if (ec) return true;
        }
    }

    /// Reads until the server closes (true) or `timeout` passes (false).
    bool read_until_closed(std::chrono::milliseconds timeout = 30s) {
        return eventually([&] { return closed_by_server(); }, timeout);
    }

    const std::string& received() const { return got_; }
    void close() {
        boost::system::error_code ec;
        s_.close(ec);
    }

private:
    asio::io_context io_;
    tcp::socket s_;
    std::string got_;
};

/// Options where only the connection caps can protect anybody: every deadline is long.
rpc::http_server_options long_deadlines() {
    rpc::http_server_options o;
    o.header_timeout = 120s;
    o.body_timeout = 120s;
    o.idle_timeout = 120s;
    return o;
}

constexpr std::string_view half_request = "POST / HTTP/1.1\r\nHost: x\r\nContent-Le";

}  // namespace

TEST_CASE("HTTP server: one address holding hundreds of half-sent requests does not keep others out", "[rpc][http]") {
    test_server ts(long_deadlines());
    const auto per_address = ts.srv->options().max_connections_per_address;
    REQUIRE(per_address < 300);
    std::vector<std::unique_ptr<raw_conn>> attack;
    for (int i = 0; i < 300; ++i) {
        attack.push_back(std::make_unique<raw_conn>("127.0.0.2", ts.port()));
        attack.back()->send(half_request);  // refused ones may already be closed
    }
    REQUIRE(eventually([&] { return ts.seen() >= 300; }));
    int ok = 0;
    for (int i = 0; i < 70; ++i)
        ok += client::http_request("127.0.0.1", ts.port(), rpc::http::verb::get, "/health", "", 20s).status == 200;
    CHECK(ok == 70);
    // the attacker still holds exactly its share; the rest was refused at once
    CHECK(ts.held_from("127.0.0.2") == per_address);
    CHECK(ts.stats->refused_per_address.load() == 300 - per_address);
    CHECK(ts.calls.load() == 70);
}

TEST_CASE("HTTP server: a client over its per-address cap is refused while another address is served", "[rpc][http]") {
    auto o = long_deadlines();
    o.max_connections_per_address = 4;
    test_server ts(o);
    std::vector<std::unique_ptr<raw_conn>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::make_unique<raw_conn>("127.0.0.2", ts.port()));
        REQUIRE(held.back()->send(half_request));
    }
    REQUIRE(eventually([&] { return ts.seen() >= 4; }));
    // the fifth and sixth are refused with a short 503 and closed
    for (int i = 0; i < 2; ++i) {
        raw_conn extra("127.0.0.2", ts.port());
        REQUIRE(extra.read_until_closed());
        CHECK(extra.received().find("503") != std::string::npos);
        CHECK(extra.received().find("too many connections from this address") != std::string::npos);
    }
    CHECK(ts.stats->refused_per_address.load() == 2);
    CHECK(ts.held_from("127.0.0.2") == 4);
    // another address is served meanwhile
    CHECK(client::http_request("127.0.0.1", ts.port(), rpc::http::verb::get, "/", "").status == 200);
    // and once the attacker lets one go, it may connect again
    held.front()->close();
    REQUIRE(eventually([&] { return ts.held_from("127.0.0.2") == 3; }));
    CHECK(client::http_request("127.0.0.1", ts.port(), rpc::http::verb::get, "/again", "", 20s, {}, "127.0.0.2").status == 200);
}

TEST_CASE("HTTP server: at the total cap a newcomer takes the place of the address holding the most", "[rpc][http]") {
    auto o = long_deadlines();
    o.max_connections = 48;
    o.max_connections_per_address = 32;
    test_server ts(o);
    std::vector<std::unique_ptr<raw_conn>> attack;
    for (int i = 0; i < 32; ++i)
        for (const char* from : {"127.0.0.2", "127.0.0.3"}) {
            attack.push_back(std::make_unique<raw_conn>(from, ts.port()));
            attack.back()->send(half_request);
        }
    REQUIRE(eventually([&] { return ts.seen() >= 64; }));
    CHECK(ts.on_io([&] { return ts.srv->connections(); }) == 48);
    CHECK(ts.stats->evicted.load() == 0);
    // the address holding the most takes nothing from the other
    const auto h2 = ts.held_from("127.0.0.2"), h3 = ts.held_from("127.0.0.3");
    CHECK(h2 + h3 == 48);
    const auto refused = ts.stats->refused_full.load();
    raw_conn again(h2 >= h3 ? "127.0.0.2" : "127.0.0.3", ts.port());
    REQUIRE(again.read_until_closed());
    CHECK(ts.stats->refused_full.load() == refused + 1);
    CHECK(ts.stats->evicted.load() == 0);
    // a client holding fewer is served, in place of a connection of the one holding the most
    int ok = 0;
    for (int i = 0; i < 70; ++i)
        ok += client::http_request("127.0.0.1", ts.port(), rpc::http::verb::get, "/health", "", 20s).status == 200;
    CHECK(ok == 70);
    CHECK(ts.stats->evicted.load() >= 1);
}

TEST_CASE("HTTP server: a header trickled byte by byte is closed at the header deadline", "[rpc][http]") {
    auto o = long_deadlines();
    o.header_timeout = 500ms;
    test_server ts(o);
    SECTION("on a new connection") {
        raw_conn c("127.0.0.2", ts.port());
        c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        // one byte each poll; the body and idle deadlines (120 s) are far away
        CHECK(eventually([&] { return !c.send("a") || c.closed_by_server(); }, 20s));
        CHECK(eventually([&] { return ts.stats->header_timeouts.load() == 1; }));  // the socket closes before the count
    }
    SECTION("on a kept-alive connection after a first request") {
        raw_conn c("127.0.0.2", ts.port());
        REQUIRE(c.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n"));
        REQUIRE(eventually([&] {
            c.closed_by_server();
            return c.received().find("/first") != std::string::npos;
        }));
        c.send("G");
        CHECK(eventually([&] { return !c.send("a") || c.closed_by_server(); }, 20s));
        CHECK(eventually([&] { return ts.stats->header_timeouts.load() == 1; }));  // the socket closes before the count
        CHECK(ts.calls.load() == 1);
    }
    SECTION("a connection that sends nothing") {
        raw_conn c("127.0.0.2", ts.port());
        CHECK(c.read_until_closed(20s));
        CHECK(eventually([&] { return ts.stats->header_timeouts.load() == 1; }));  // the socket closes before the count
    }
}

TEST_CASE("HTTP server: a 3 MiB body gets its 413 every time (graceful close)", "[rpc][http]") {
    test_server ts;  // body limit 1 MiB
    const std::string big(3u << 20, 'x');
    int got_413 = 0;
    for (int i = 0; i < 30; ++i) {
        auto r = client::http_request("127.0.0.1", ts.port(), rpc::http::verb::post, "/", big, 20s);
        got_413 += r.status == 413 && r.body.find("request body too large") != std::string::npos;
    }
    CHECK(got_413 == 30);
    CHECK(ts.calls.load() == 0);
    // A client that reads the answer first and then sends the body it announced (up to the
    // linger bound) must be able to: the server reads and discards it instead of resetting.
    raw_conn c("127.0.0.2", ts.port());
    REQUIRE(c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3145728\r\n\r\n"));
    REQUIRE(eventually([&] {
        c.closed_by_server();
        return c.received().find("\r\n\r\n{") != std::string::npos;
    }));
    CHECK(c.received().rfind("HTTP/1.1 413", 0) == 0);
    CHECK(c.received().find("Connection: close") != std::string::npos);
    CHECK(c.send(big));
    CHECK(ts.stats->bad_requests.load() == 31);
}

TEST_CASE("HTTP server: RFC 9112 framing, Transfer-Encoding other than chunked or with Content-Length", "[rpc][http]") {
    test_server ts;
    struct bad {
        std::string request;
        std::string status;
    };
    const std::string head = "POST /x HTTP/1.1\r\nHost: a\r\n";
    for (const auto& [request, status] : std::vector<bad>{
             {head + "Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello", "400"},
             {head + "Content-Length: 5\r\nTransfer-Encoding: xchunked\r\n\r\nhello", "400"},
             {head + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "400"},
             {head + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "400"},
             {head + "Transfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "400"},
             {head + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "501"},
             {head + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "501"},
             {"POST /x HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "400"},
         }) {
        INFO(request);
        raw_conn c("127.0.0.2", ts.port());
        REQUIRE(c.send(request));
        REQUIRE(c.read_until_closed());  // answered, then closed
        CHECK(c.received().rfind("HTTP/1.1 " + status, 0) == 0);
        CHECK(c.received().find("\"detail\"") != std::string::npos);
    }
    CHECK(ts.calls.load() == 0);
    // exactly `chunked` (any case) is read as chunked
    raw_conn ok("127.0.0.2", ts.port());
    REQUIRE(ok.send(head + "Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    REQUIRE(ok.read_until_closed());
    CHECK(ok.received().rfind("HTTP/1.1 200", 0) == 0);
    CHECK(ok.received().find("\"body\":\"hello\"") != std::string::npos);
    CHECK(ts.calls.load() == 1);
}

TEST_CASE("client_key: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64", "[rpc][http]") {
    using asio::ip::make_address;
    CHECK(rpc::client_key(make_address("192.0.2.7")) == make_address("192.0.2.7"));
    CHECK(rpc::client_key(make_address("::ffff:192.0.2.7")) == make_address("192.0.2.7"));
    CHECK(rpc::client_key(make_address("2001:db8:1:2:3:4:5:6")) == make_address("2001:db8:1:2::"));
    CHECK(rpc::client_key(make_address("2001:db8:1:2:ffff::1")) == rpc::client_key(make_address("2001:db8:1:2::9")));
    CHECK(rpc::client_key(make_address("2001:db8:1:3::1")) != rpc::client_key(make_address("2001:db8:1:2::1")));
    CHECK(rpc::client_key(make_address("::1")) == make_address("::"));
    // one bucket for a whole /64 in a keyed_rate_limiter
    keyed_rate_limiter<asio::ip::address> lim({.rate_per_s = 1, .burst = 1, .max_keys = 16});
    CHECK(lim.acquire(rpc::client_key(make_address("2001:db8::1")), 0) == 0);
    CHECK(lim.acquire(rpc::client_key(make_address("2001:db8::2")), 0) > 0);
    CHECK(lim.acquire(rpc::client_key(make_address("::ffff:10.0.0.1")), 0) == 0);
    CHECK(lim.acquire(rpc::client_key(make_address("10.0.0.1")), 0) > 0);
}

TEST_CASE("too_many_requests: 429, {\"detail\"} and Retry-After in whole seconds rounded up", "[rpc][http]") {
    CHECK(rpc::retry_after_seconds(0) == 1);
    CHECK(rpc::retry_after_seconds(1) == 1);
    CHECK(rpc::retry_after_seconds(1000) == 1);
    CHECK(rpc::retry_after_seconds(1001) == 2);
    CHECK(rpc::retry_after_seconds(2500) == 3);
    CHECK(rpc::retry_after_seconds(60'000) == 60);
    auto r = rpc::too_many_requests(1500, 10);
    CHECK(r.result() == rpc::http::status::too_many_requests);
    CHECK(r.version() == 10);
    CHECK(r[rpc::http::field::retry_after] == "2");
    CHECK(r[rpc::http::field::content_type] == "application/json");
    CHECK(bj::parse(r.body()).at("detail").as_string() == "too many requests: retry after 2 s");
    CHECK(bj::parse(rpc::too_many_requests(10, 11, "too many logins").body()).at("detail").as_string() ==
          "too many logins: retry after 1 s");

    // over a real socket: a per-client limit keyed by client_key(request_info.remote)
    asio::io_context io;
    keyed_rate_limiter<asio::ip::address> lim({.rate_per_s = 0.001, .burst = 2, .max_keys = 16});
    auto srv = rpc::http_server::create(io, {asio::ip::make_address("127.0.0.1"), 0},
                                        [&](const rpc::http_request& req, const rpc::request_info& info) {
                                            if (auto ms = lim.acquire(rpc::client_key(info.remote), 0))
                                                return rpc::too_many_requests(ms, req.version());
                                            return rpc::json_response(rpc::http::status::ok, bj::object{}, req.version());
                                        });
    REQUIRE(srv);
    std::thread th([&] { io.run(); });
    const auto port = (*srv)->port();
    auto from = [&](const char* addr) {
        return client::http_request("127.0.0.1", port, rpc::http::verb::get, "/", "", 20s, {}, addr);
    };
    CHECK(from("127.0.0.2").status == 200);
    CHECK(from("127.0.0.2").status == 200);
    auto limited = from("127.0.0.2");
    CHECK(limited.status == 429);
    CHECK(limited.field("retry-after") == "1000");
    CHECK(from("127.0.0.1").status == 200);
    asio::post(io, [&] {
        (*srv)->stop();
        io.stop();
    });
    th.join();
}

// ---- deferred answers (request_info::defer: the validator's long-poll) -------------------------

namespace {

/// A server whose handler defers the answer of "/wait" (keeping the responder for the test),
/// answers "/early" through its responder before returning, defers and then throws on
/// "/throw", and answers anything else at once. What a handler returns after deferring is
/// "placeholder", which must never reach the client.
struct defer_server {
    asio::io_context io;
    /// Keeps io.run() going until stop(), even with no connection or acceptor left (a stopped
    /// server): calls posted to the io thread after srv->stop() must still run.
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::shared_ptr<rpc::http_server> srv;
    std::mutex m;
    std::vector<rpc::responder> parked;  ///< responders of "/wait" and "/throw", in arrival order
    std::atomic<int> deferred{0};
    std::atomic<int> misdeferred{0};  ///< defer() gave no responder, or gave a second one
    std::thread th;

    explicit defer_server(rpc::http_server_options o = {}) {
        auto r = rpc::http_server::create(
            io, {asio::ip::make_address("127.0.0.1"), 0},
            [this](const rpc::http_request& req, const rpc::request_info& info) {
                const std::string target(req.target());
                auto answer = [&](std::string body) {
                    return rpc::json_response(rpc::http::status::ok, bj::object{{"body", std::move(body)}}, req.version());
                };
                if (target == "/wait" || target == "/early" || target == "/throw") {
                    auto res = info.defer();
                    // (no Catch2 assertion off the test's thread: the test checks `misdeferred`)
                    if (!res || info.defer()) ++misdeferred;  // a responder, once per request
                    if (target == "/early") res(answer("early"));
                    else {
                        std::lock_guard lock(m);
                        parked.push_back(res);
                    }
                    ++deferred;
                    if (target == "/throw") throw std::runtime_error("after defer");
                    return answer("placeholder");
                }
                return answer("now " + target);
            },
            std::move(o));
        REQUIRE(r);
        srv = *r;
        th = std::thread([this] { io.run(); });
    }
    ~defer_server() { stop(); }
    void stop() {
        if (!th.joinable()) return;
        asio::post(io, [this] {
            srv->stop();
            io.stop();
        });
        th.join();
    }
    std::uint16_t port() const { return srv->port(); }
    rpc::responder responder(std::size_t i) {
        std::lock_guard lock(m);
        return parked.at(i);
    }
    std::size_t connections() {
        auto done = std::make_shared<std::promise<std::size_t>>();
        auto fut = done->get_future();
        asio::post(io, [this, done] { done->set_value(srv->connections()); });
        return fut.get();
    }
};

/// Reads from `c` until `count` answers (complete bodies of json_response) arrived; false if it closed first.
bool read_answers(raw_conn& c, std::size_t count) {
    return eventually([&] {
        const bool closed = c.closed_by_server();
        std::size_t n = 0;
        for (auto at = c.received().find("\"body\":"); at != std::string::npos; at = c.received().find("\"body\":", at + 1))
            ++n;
        return n >= count || closed;
    });
}

/// The "body" of each answer in what `c` received, in order.
std::vector<std::string> bodies(const raw_conn& c) {
    std::vector<std::string> out;
    const std::string& r = c.received();
    for (auto at = r.find("\r\n\r\n"); at != std::string::npos; at = r.find("\r\n\r\n", at + 4)) {
        const auto end = r.find('}', at);
        if (end == std::string::npos) break;
        auto v = bj::parse(r.substr(at + 4, end + 1 - (at + 4)));
        if (const auto* b = v.as_object().if_contains("body")) out.emplace_back(b->as_string());
    }
    return out;
}

}  // namespace

TEST_CASE("HTTP server: a deferred answer is sent when the responder is called, and the connection lives on",
          "[rpc][http][defer]") {
    rpc::http_server_options o;
    asio::thread_pool workers(2);
    SECTION("handlers on the io thread") {}
    SECTION("handlers on a worker pool") { o.handler_executor = workers.get_executor(); }
    defer_server ts(o);
    raw_conn c("127.0.0.1", ts.port());
    REQUIRE(c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(eventually([&] { return ts.deferred.load() == 1; }));
    // the connection waits with its request in progress; another client is served meanwhile
    CHECK(client::http_request("127.0.0.1", ts.port(), rpc::http::verb::get, "/other", "").status == 200);
    CHECK(ts.connections() >= 1);
    // answered from this thread (not the io thread); a second call of it or of a copy does nothing
    auto res = ts.responder(0);
    const auto copy = res;
    res(rpc::json_response(rpc::http::status::ok, bj::object{{"body", "later"}}));
    copy(rpc::json_response(rpc::http::status::ok, bj::object{{"body", "twice"}}));
    REQUIRE(read_answers(c, 1));
    // kept alive: the next request on the same connection, then one answered early
    REQUIRE(c.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(read_answers(c, 2));
    REQUIRE(c.send("GET /early HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(read_answers(c, 3));
    REQUIRE(c.send("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    REQUIRE(c.read_until_closed());
    CHECK(bodies(c) == std::vector<std::string>{"later", "now /next", "early", "now /last"});
    CHECK(c.received().find("placeholder") == std::string::npos);
    CHECK(c.received().find("twice") == std::string::npos);
    CHECK(ts.misdeferred.load() == 0);
}

TEST_CASE("HTTP server: a handler that throws after deferring gets its 500; its responder answers nothing later",
          "[rpc][http][defer]") {
    defer_server ts;
    raw_conn c("127.0.0.1", ts.port());
    REQUIRE(c.send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(eventually([&] {
        c.closed_by_server();
        return c.received().find("internal error") != std::string::npos;
    }));
    CHECK(c.received().rfind("HTTP/1.1 500", 0) == 0);
    // the next request on the connection waits; the stale responder does not answer it
    REQUIRE(c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(eventually([&] { return ts.deferred.load() == 2; }));
    ts.responder(0)(rpc::json_response(rpc::http::status::ok, bj::object{{"body", "stale"}}));
    ts.responder(1)(rpc::json_response(rpc::http::status::ok, bj::object{{"body", "fresh"}}));
    REQUIRE(read_answers(c, 1));
    CHECK(bodies(c) == std::vector<std::string>{"fresh"});
}

TEST_CASE("HTTP server: stop() with deferred answers pending closes them; their responders then do nothing",
          "[rpc][http][defer]") {
    defer_server ts;
    std::vector<std::unique_ptr<raw_conn>> conns;
    for (int i = 0; i < 3; ++i) {
        conns.push_back(std::make_unique<raw_conn>("127.0.0.1", ts.port()));
        REQUIRE(conns.back()->send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    REQUIRE(eventually([&] { return ts.deferred.load() == 3; }));
    ts.responder(0)(rpc::json_response(rpc::http::status::ok, bj::object{{"body", "before stop"}}));
    REQUIRE(eventually([&] {
        for (auto& c : conns) c->closed_by_server();
        return conns[0]->received().find("before stop") != std::string::npos ||
               conns[1]->received().find("before stop") != std::string::npos ||
               conns[2]->received().find("before stop") != std::string::npos;
    }));
    // stopped with two answers still deferred: those connections are closed without an answer
    asio::post(ts.io, [&] { ts.srv->stop(); });
    REQUIRE(eventually([&] { return ts.connections() == 0; }));
    int unanswered = 0;
    for (auto& c : conns) {
        REQUIRE(c->read_until_closed());
        unanswered += c->received().empty();
    }
    CHECK(unanswered == 2);
    // responders called after the stop (while the io thread still runs, then after it ended)
    ts.responder(1)(rpc::json_response(rpc::http::status::ok, bj::object{{"body", "after stop"}}));
    ts.stop();
    ts.responder(2)(rpc::json_response(rpc::http::status::ok, bj::object{{"body", "after the io thread"}}));
    // and an empty responder (no server: request_info without one) does nothing either
    const rpc::request_info no_server{asio::ip::make_address("127.0.0.1")};
    auto none = no_server.defer();
    CHECK_FALSE(none);
    none(rpc::http_response{});
}

namespace {

/// A CA made for the test, a certificate for 127.0.0.1 and "localhost", and a TLS server with it.
struct tls_fixture {
    test::temp_dir dir{"ballotchain-tls"};
    test::test_ca ca{dir.path()};
    test::cert_files server = ca.issue("server", {"127.0.0.1"}, {"localhost"});

    std::shared_ptr<asio::ssl::context> server_context() {
        auto c = rpc::make_server_tls_context(server.cert, server.key);
        REQUIRE(c);
        return *c;
    }
    static std::shared_ptr<asio::ssl::context> client_context(const std::string& ca_file) {
        auto c = rpc::make_client_tls_context(ca_file);
        REQUIRE(c);
        return *c;
    }
};

client::http_reply tls_get(std::uint16_t port, asio::ssl::context& ctx, const std::string& host = "127.0.0.1",
                           const std::string& target = "/health", const std::string& source = {}) {
    return client::http_request(host, port, rpc::http::verb::get, target, "", 20s, {}, source, &ctx);
}

}  // namespace

TEST_CASE("TLS contexts: a missing file, a key of another certificate and a file that is not PEM are refused by name",
          "[rpc][http][tls]") {
    tls_fixture f;
    const auto other = f.ca.issue("other", {"127.0.0.1"});
    auto missing = rpc::make_server_tls_context(f.dir.file("nope.crt"), f.server.key);
    REQUIRE(!missing);
    CHECK(missing.error().find("cannot read TLS certificate file") != std::string::npos);
    auto no_key = rpc::make_server_tls_context(f.server.cert, f.dir.file("nope.key"));
    REQUIRE(!no_key);
    CHECK(no_key.error().find("cannot read TLS key file") != std::string::npos);
    auto mismatch = rpc::make_server_tls_context(f.server.cert, other.key);
    REQUIRE(!mismatch);
    CHECK(mismatch.error().find("does not match") != std::string::npos);
    auto not_pem = rpc::make_server_tls_context(f.ca.cert_file() + "x", f.server.key);
    REQUIRE(!not_pem);
    {
        std::ofstream(f.dir.file("junk.pem")) << "not a certificate\n";
    }
    auto junk = rpc::make_server_tls_context(f.dir.file("junk.pem"), f.server.key);
    REQUIRE(!junk);
    CHECK(junk.error().find(f.dir.file("junk.pem")) != std::string::npos);
    auto bad_ca = rpc::make_client_tls_context(f.dir.file("junk.pem"));
    REQUIRE(!bad_ca);
    CHECK(bad_ca.error().find("CA file") != std::string::npos);
    // the certificate's expiry, for the metric
    auto ok = rpc::make_server_tls_context(f.server.cert, f.server.key);
    REQUIRE(ok);
    CHECK(rpc::tls_certificate_not_after(**ok) == f.server.not_after);
    CHECK(!rpc::tls_certificate_not_after(*tls_fixture::client_context(f.ca.cert_file())));
}

TEST_CASE("HTTP server over TLS: a client trusting the CA is served by IP address and by name", "[rpc][http][tls]") {
    tls_fixture f;
    auto o = long_deadlines();
    o.tls = f.server_context();
    test_server ts(o);
    auto trust = tls_fixture::client_context(f.ca.cert_file());
    auto r = tls_get(ts.port(), *trust);
    CHECK(r.status == 200);
    CHECK(r.body.find("\"path\":\"/health\"") != std::string::npos);
    CHECK(tls_get(ts.port(), *trust, "localhost", "/by-name").status == 200);
    // a POST body arrives whole
    auto p = client::http_request("127.0.0.1", ts.port(), rpc::http::verb::post, "/", "{\"x\":1}", 20s, {}, {}, trust.get());
    CHECK(p.status == 200);
    CHECK(p.body.find("\\\"x\\\":1") != std::string::npos);
    // an error answer ends the connection gracefully (close_notify) and still arrives
    const std::string big(3u << 20, 'x');
    auto too_big = client::http_request("127.0.0.1", ts.port(), rpc::http::verb::post, "/", big, 20s, {}, {}, trust.get());
    CHECK(too_big.status == 413);
    CHECK(ts.calls.load() == 3);
    CHECK(ts.stats->tls_handshake_failures.load() == 0);
}

TEST_CASE("HTTP server over TLS: another CA, or a certificate for another name, fails the client's check",
          "[rpc][http][tls]") {
    tls_fixture f;
    auto o = long_deadlines();
    test::test_ca stranger(f.dir.path() / "stranger", "stranger CA");
    SECTION("a CA the client does not trust") {
        o.tls = f.server_context();
        test_server ts(o);
        auto wrong = tls_fixture::client_context(stranger.cert_file());
        auto r = tls_get(ts.port(), *wrong);
        CHECK(r.status == 0);
        CHECK(r.body.find("certificate verification failed") != std::string::npos);
        CHECK(ts.calls.load() == 0);
    }
    SECTION("a certificate for another address and name") {
        const auto elsewhere = f.ca.issue("elsewhere", {"10.1.2.3"}, {"elsewhere.example"});
        auto c = rpc::make_server_tls_context(elsewhere.cert, elsewhere.key);
        REQUIRE(c);
        o.tls = *c;
        test_server ts(o);
        auto trust = tls_fixture::client_context(f.ca.cert_file());
        auto by_ip = tls_get(ts.port(), *trust);
        CHECK(by_ip.status == 0);
        CHECK(by_ip.body.find("certificate verification failed") != std::string::npos);
        auto by_name = tls_get(ts.port(), *trust, "localhost");
        CHECK(by_name.status == 0);
        CHECK(by_name.body.find("certificate verification failed") != std::string::npos);
        CHECK(ts.calls.load() == 0);
    }
}

TEST_CASE("HTTP server over TLS: a plain HTTP client gets nothing it can read", "[rpc][http][tls]") {
    tls_fixture f;
    auto o = long_deadlines();
    o.tls = f.server_context();
    test_server ts(o);
    CHECK(client::http_request("127.0.0.1", ts.port(), rpc::http::verb::get, "/health", "", 20s).status == 0);
    raw_conn c("127.0.0.2", ts.port());
    REQUIRE(c.send("GET /secret HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(c.read_until_closed());
    CHECK(c.received().find("HTTP/1.1") == std::string::npos);
    CHECK(c.received().find("/secret") == std::string::npos);
    CHECK(ts.calls.load() == 0);
    CHECK(ts.stats->tls_handshake_failures.load() == 2);
}

TEST_CASE("HTTP server over TLS: connections that never finish the handshake are cut at the header deadline",
          "[rpc][http][tls]") {
    tls_fixture f;
    auto o = long_deadlines();
    o.tls = f.server_context();
    o.header_timeout = 500ms;
    test_server ts(o);
    auto trust = tls_fixture::client_context(f.ca.cert_file());
    SECTION("silent, or stopping inside the ClientHello") {
        raw_conn silent("127.0.0.2", ts.port());
        raw_conn partial("127.0.0.2", ts.port());
        REQUIRE(partial.send(std::string_view("\x16\x03\x01\x02\x00\x01", 6)));  // a record header and one byte
        CHECK(silent.read_until_closed(20s));
        CHECK(partial.read_until_closed(20s));
        CHECK(eventually([&] { return ts.stats->header_timeouts.load() == 2; }));  // the socket closes before the count
        CHECK(silent.received().empty());
    }
    SECTION("a finished handshake does not restart the deadline for the first header") {
        // a TLS client that sends no request: the deadline counts from the connection
        asio::io_context io;
        beast::ssl_stream<beast::tcp_stream> s(io, *trust);
        REQUIRE(rpc::setup_tls_client(s.native_handle(), "127.0.0.1"));
        beast::get_lowest_layer(s).connect({asio::ip::make_address("127.0.0.1"), ts.port()});
        s.handshake(asio::ssl::stream_base::client);
        char byte = 0;
        boost::system::error_code ec;
        beast::get_lowest_layer(s).expires_after(20s);
        s.read_some(asio::buffer(&byte, 1), ec);  // returns when the server closes
        CHECK(ec);
        CHECK(ec != beast::error::timeout);
        CHECK(eventually([&] { return ts.stats->header_timeouts.load() == 1; }));
    }
    SECTION("many of them from one address do not keep a real client out") {
        auto lo = long_deadlines();
        lo.tls = o.tls;
        lo.max_connections_per_address = 16;
        test_server slow(lo);  // every deadline long: only the caps protect
        std::vector<std::unique_ptr<raw_conn>> attack;
        for (int i = 0; i < 100; ++i) attack.push_back(std::make_unique<raw_conn>("127.0.0.2", slow.port()));
        REQUIRE(eventually([&] { return slow.seen() >= 100; }));
        CHECK(slow.held_from("127.0.0.2") == 16);
        CHECK(slow.stats->refused_per_address.load() == 84);
        int ok = 0;
        for (int i = 0; i < 20; ++i) ok += tls_get(slow.port(), *trust).status == 200;
        CHECK(ok == 20);
        // refused over TLS: closed without a plain-text answer
        raw_conn extra("127.0.0.2", slow.port());
        REQUIRE(extra.read_until_closed());
        CHECK(extra.received().empty());
    }
}
