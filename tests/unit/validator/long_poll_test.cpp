#include <validator/rpc_routes.hpp>

#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"

#include <ballotchain/client/http_client.hpp>

#include "../support/eventually.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

// The validator's long-poll (poa_waitForBlock through rpc_routes.hpp) over a real
// one-validator node (SQLite chain, engine started, a transport that does not listen)
// and its RPC port on 127.0.0.1: a waiting request is answered when a vote becomes
// final, or when its timeout passes on an idle chain; the waiters' bounds answer
// -32029; a batch and a notification never wait; stopping with requests waiting is clean.
// Other client addresses are 127.0.0.2 and 127.0.0.3, as in the attacker tests.

using namespace ballotchain;
using namespace ballotchain::test;
using namespace std::chrono_literals;
namespace bj = boost::json;

namespace {

/// Validator 1 of test_network(1) (blocks every 50 ms while votes wait; no empty blocks),
/// serving its RPC routes on a free port, on its own io thread.
struct live_validator {
    temp_dir dir{"ballotchain-longpoll"};
    test_network net = [] {
        test_network n(1);
        n.genesis.block_interval_ms = 50;
        return n;
    }();
    boost::asio::io_context io{1};
    std::unique_ptr<app::validator_node> node;
    std::shared_ptr<rpc::http_server> server;
    std::thread th;

    explicit live_validator(app::long_poll_limits lim = {}) {
        spdlog::set_level(spdlog::level::warn);
        REQUIRE_FALSE(net.genesis.empty_blocks);
        auto chain = app::chain_t::open(net.genesis, sqlite_storage::open(dir.file("chain.db")).value());
        REQUIRE(chain);
        auto eng = app::engine_t::create(std::move(*chain), net.validators[0], steady_clock_adapter{});
        REQUIRE(eng);
        node = std::make_unique<app::validator_node>(io, std::move(*eng),
                                                     app::transport_t::create(io, net.genesis, net.validators[0], 0));
        auto s = app::start_rpc(io, *node, {boost::asio::ip::make_address("127.0.0.1"), 0}, {}, lim);
        REQUIRE(s);
        server = *s;
        node->start();
        th = std::thread([this] { io.run(); });
    }
    ~live_validator() { stop(); }
    void stop() {
        if (!th.joinable()) return;
        boost::asio::post(io, [this] {
            node->stop();
            server->stop();
            io.stop();
        });
        th.join();
    }
    std::uint16_t port() const { return server->port(); }

    /// POSTs `body` to "/" from `from`; the HTTP answer (status 0: none).
    client::http_reply post(const std::string& body, const std::string& from = "127.0.0.1") const {
        return client::http_request("127.0.0.1", port(), rpc::http::verb::post, "/", body, 60s, {}, from);
    }
    /// A single call's answer object ({"result"} or {"error"}).
    bj::object call(const std::string& method, bj::array params, const std::string& from = "127.0.0.1") const {
        const bj::object req{{"jsonrpc", "2.0"}, {"id", 7}, {"method", method}, {"params", std::move(params)}};
        const auto r = post(bj::serialize(req), from);
        REQUIRE(r.status == 200);
        return bj::parse(r.body).as_object();
    }
    /// A number from /metrics ("name value"), or -1.
    double metric(const std::string& name) const {
        const auto r = client::http_get("127.0.0.1", port(), "/metrics");
        const auto at = r.body.find("\n" + name + " ");
        return at == std::string::npos ? -1 : std::stod(r.body.substr(at + name.size() + 2));
    }
    double waiting() const { return metric("ballotchain_rpc_long_polls"); }
    std::string submit(std::uint64_t voter) const {
        const auto r = call("eth_sendRawTransaction", {to_hex(encode(net.vote(voter)))});
        REQUIRE(r.contains("result"));
        return std::string(r.at("result").as_string());
    }
};

std::string wait_body(std::uint64_t after, std::uint64_t timeout_ms, int id = 1) {
    return bj::serialize(bj::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", "poa_waitForBlock"},
                                    {"params", bj::array{after, timeout_ms}}});
}

/// A long-poll on its own thread; its answer once joined.
struct waiting_call {
    client::http_reply reply;
    std::thread th;
    waiting_call(const live_validator& v, std::string body, std::string from = "127.0.0.1")
        : th([&v, this, b = std::move(body), f = std::move(from)] { reply = v.post(b, f); }) {}
    ~waiting_call() {
        if (th.joinable()) th.join();
    }
    /// The answer object (after the call returned).
    bj::object answer() {
        th.join();
        INFO(reply.body);
        REQUIRE(reply.status == 200);
        return bj::parse(reply.body).as_object();
    }
};

}  // namespace

TEST_CASE("validator long-poll: a waiting poa_waitForBlock is answered when a vote becomes final",
          "[validator][longpoll]") {
    live_validator v;
    REQUIRE(v.call("eth_blockNumber", {}).at("result") == "0x0");
    waiting_call w(v, wait_body(0, 30'000, 42));  // 30 s: only a block can answer it with timed_out false
    REQUIRE(eventually([&] { return v.waiting() == 1; }));
    const auto th = v.submit(1);
    const auto a = w.answer();
    CHECK(a.at("id") == 42);
    const auto& r = a.at("result").as_object();
    CHECK(r.at("timed_out") == false);
    const auto h = r.at("height").to_number<std::uint64_t>();
    CHECK(h >= 1);
    const auto blk = v.call("eth_getBlockByNumber", {rpc::quantity(h), false});
    CHECK(r.at("head_hash") == blk.at("result").at("hash"));
    CHECK(v.call("poa_getTransactionStatus", {th}).at("result").at("status") == "final");
    CHECK(v.waiting() == 0);
    CHECK(v.metric("ballotchain_rpc_long_polls_answered_total{reason=\"block\"}") == 1);
    CHECK(v.metric("ballotchain_rpc_long_polls_answered_total{reason=\"timeout\"}") == 0);
    // the condition met already: the same answer at once, nothing waits
    const auto now = v.call("poa_waitForBlock", {h - 1, 30'000}).at("result").as_object();
    CHECK(now.at("timed_out") == false);
    CHECK(now.at("height") == h);
    CHECK(v.metric("ballotchain_rpc_long_polls_answered_total{reason=\"block\"}") == 1);
}

TEST_CASE("validator long-poll: on an idle chain the wait ends at its timeout with timed_out", "[validator][longpoll]") {
    live_validator v;
    const auto a = v.call("poa_waitForBlock", {0, 200});
    const auto& r = a.at("result").as_object();
    CHECK(r.at("timed_out") == true);
    CHECK(r.at("height") == 0);
    CHECK(r.at("head_hash") == v.call("eth_getBlockByNumber", {"0x0", false}).at("result").at("hash"));
    CHECK(v.metric("ballotchain_rpc_long_polls_answered_total{reason=\"timeout\"}") == 1);
    CHECK(v.waiting() == 0);
    // above the head: waits for a block above it, and times out as well
    CHECK(v.call("poa_waitForBlock", {"0x5", 100}).at("result").at("timed_out") == true);
    // timeout 0 never waits; invalid params are refused at once
    CHECK(v.call("poa_waitForBlock", {0, 0}).at("result").at("timed_out") == true);
    CHECK(v.call("poa_waitForBlock", {0, 30'001}).at("error").at("code") == rpc::code::invalid_params);
    CHECK(v.metric("ballotchain_rpc_long_polls_answered_total{reason=\"timeout\"}") == 2);
}

TEST_CASE("validator long-poll: over its bounds -32029 with retry_after_ms; batches and notifications never wait",
          "[validator][longpoll]") {
    live_validator v(app::long_poll_limits{.max_waiters = 3, .max_waiters_per_client = 2});
    std::vector<std::unique_ptr<waiting_call>> parked;
    for (int i = 0; i < 2; ++i) parked.push_back(std::make_unique<waiting_call>(v, wait_body(0, 30'000, i), "127.0.0.2"));
    REQUIRE(eventually([&] { return v.waiting() == 2; }));
    auto check_refused = [&](const std::string& from) {
        const auto e = v.call("poa_waitForBlock", {0, 30'000}, from);
        INFO(bj::serialize(e));
        REQUIRE(e.contains("error"));
        CHECK(e.at("id") == 7);
        CHECK(e.at("error").at("code") == rpc::code::rate_limited);
        CHECK(e.at("error").at("data").at("retry_after_ms").to_number<std::uint64_t>() == v.net.genesis.block_interval_ms);
    };
    check_refused("127.0.0.2");  // its address holds its 2
    parked.push_back(std::make_unique<waiting_call>(v, wait_body(0, 30'000, 2), "127.0.0.1"));
    REQUIRE(eventually([&] { return v.waiting() == 3; }));
    check_refused("127.0.0.3");  // 3 in total
    CHECK(v.metric("ballotchain_rpc_long_polls_refused_total") == 2);
    // a batch answers at once (the condition not met: timed_out), whatever the bounds
    const auto batch = v.post(R"([{"jsonrpc":"2.0","id":1,"method":"poa_waitForBlock","params":[0,30000]},)"
                              R"({"jsonrpc":"2.0","id":2,"method":"eth_blockNumber"}])",
                              "127.0.0.2");
    REQUIRE(batch.status == 200);
    const auto b = bj::parse(batch.body).as_array();
    CHECK(b.at(0).at("result").at("timed_out") == true);
    CHECK(b.at(1).at("result") == "0x0");
    // a notification gets no answer, at once
    CHECK(v.post(R"({"jsonrpc":"2.0","method":"poa_waitForBlock","params":[0,30000]})", "127.0.0.3").status == 204);
    CHECK(v.waiting() == 3);
    // one final block answers every waiting request, each with its own id
    v.submit(1);
    for (std::size_t i = 0; i < parked.size(); ++i) {
        const auto a = parked[i]->answer();
        CHECK(a.at("id") == static_cast<int>(i));
        CHECK(a.at("result").at("timed_out") == false);
    }
    CHECK(v.metric("ballotchain_rpc_long_polls_answered_total{reason=\"block\"}") == 3);
    // and the bounds are free again
    CHECK(v.call("poa_waitForBlock", {1, 50}, "127.0.0.2").at("result").at("timed_out") == true);
}

TEST_CASE("validator long-poll: stopping with requests waiting closes them and ends cleanly", "[validator][longpoll]") {
    auto v = std::make_unique<live_validator>();
    std::vector<std::unique_ptr<waiting_call>> parked;
    for (int i = 0; i < 3; ++i) parked.push_back(std::make_unique<waiting_call>(*v, wait_body(0, 30'000, i)));
    REQUIRE(eventually([&] { return v->waiting() == 3; }));
    v->stop();
    for (auto& p : parked) {
        p->th.join();
        CHECK(p->reply.status == 0);  // closed without an answer
    }
    v.reset();
}
