// client/validator_pool.hpp: order of calls (round-robin, healthy first),
// failover past unreachable nodes, JSON-RPC errors as answers, health probes.
// The transport is scripted here; tests/integration/backend_test.cpp runs the
// pool over HTTP against real validators.
#include <ballotchain/client/validator_pool.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace ballotchain;
using namespace ballotchain::client;

namespace {

struct fixed_clock {
    std::uint64_t now_ms() const noexcept { return 1000; }
    std::uint64_t wall_ms() const noexcept { return 1000; }
};

/// Each node either answers with its name, answers with a JSON-RPC error, or is down.
struct scripted {
    enum class mode { answer, error, down };
    std::map<std::string, mode> modes;
    std::map<std::string, probe_result> probes;
    std::vector<std::string>* log;

    rpc_outcome call(const node_info& n, const std::string&, const boost::json::array&) {
        log->push_back(n.node_id);
        rpc_outcome o;
        switch (modes[n.node_id]) {
        case mode::answer:
            o.k = rpc_outcome::kind::result;
            o.value = boost::json::value(n.node_id);
            break;
        case mode::error:
            o.k = rpc_outcome::kind::error;
            o.value = boost::json::object{{"code", -32004}, {"message", "duplicate transaction"}};
            break;
        case mode::down: o.why = "connection refused"; break;
        }
        return o;
    }
    probe_result probe(const node_info& n) { return probes[n.node_id]; }
};
static_assert(rpc_transport<scripted>);

std::vector<node_info> three() {
    return {{"v1", "http://127.0.0.1:1", ""}, {"v2", "http://127.0.0.1:2", ""}, {"v3", "http://127.0.0.1:3", ""}};
}

}  // namespace

TEST_CASE("validator_pool spreads calls round-robin over healthy validators", "[client][pool]") {
    std::vector<std::string> log;
    validator_pool<scripted, fixed_clock> pool(three(), scripted{{}, {}, &log}, {});
    std::vector<std::string> answered;
    for (int i = 0; i < 6; ++i) {
        auto a = pool.call("m", {});
        REQUIRE(a.outcome.ok());
        answered.emplace_back(a.outcome.value.as_string());
    }
    CHECK(answered == std::vector<std::string>{"v1", "v2", "v3", "v1", "v2", "v3"});
    for (const auto& s : pool.snapshot()) CHECK(s.calls == 2);
}

TEST_CASE("validator_pool fails over past an unreachable validator and then avoids it", "[client][pool]") {
    std::vector<std::string> log;
    scripted t{{{"v1", scripted::mode::down}}, {}, &log};
    validator_pool<scripted, fixed_clock> pool(three(), t, {});
    auto a = pool.call("m", {});
    REQUIRE(a.outcome.ok());
    CHECK(a.outcome.value.as_string() == "v2");
    CHECK(log == std::vector<std::string>{"v1", "v2"});
    auto snap = pool.snapshot();
    CHECK(snap[0].status == node_status::unreachable);
    CHECK(snap[0].failures == 1);
    CHECK(snap[0].detail == "connection refused");
    // later calls try v1 last
    for (int i = 0; i < 4; ++i) {
        log.clear();
        auto b = pool.call("m", {});
        REQUIRE(b.outcome.ok());
        CHECK(b.outcome.value.as_string() != "v1");
        CHECK(log.size() == 1);
    }
}

TEST_CASE("validator_pool treats a JSON-RPC error as an answer: no failover", "[client][pool]") {
    std::vector<std::string> log;
    scripted t{{{"v1", scripted::mode::error}}, {}, &log};
    validator_pool<scripted, fixed_clock> pool(three(), t, {});
    auto a = pool.call("m", {});
    CHECK(a.outcome.answered());
    CHECK_FALSE(a.outcome.ok());
    CHECK(a.outcome.error_code() == -32004);
    CHECK(a.node == 0u);
    CHECK(log.size() == 1);
    CHECK(pool.snapshot()[0].status == node_status::healthy);
}

TEST_CASE("validator_pool with every validator down says so, with the last reason", "[client][pool]") {
    std::vector<std::string> log;
    scripted t{{{"v1", scripted::mode::down}, {"v2", scripted::mode::down}, {"v3", scripted::mode::down}}, {}, &log};
    validator_pool<scripted, fixed_clock> pool(three(), t, {});
    auto a = pool.call("m", {});
    CHECK_FALSE(a.outcome.answered());
    CHECK_FALSE(a.node);
    CHECK(a.outcome.why.find("connection refused") != std::string::npos);
    CHECK(log.size() == 3);
    CHECK(pool.count(node_status::unreachable) == 3);
    // an empty pool answers nothing, without crashing
    validator_pool<scripted, fixed_clock> empty({}, t, {});
    CHECK_FALSE(empty.call("m", {}).outcome.answered());
}

TEST_CASE("validator_pool health probes set each status; degraded ones are tried after healthy ones",
          "[client][pool]") {
    std::vector<std::string> log;
    scripted t{{}, {}, &log};
    t.probes["v1"] = {true, node_status::degraded, 5, "catching up"};
    t.probes["v2"] = {false, node_status::unreachable, 0, "no answer"};
    t.probes["v3"] = {true, node_status::healthy, 9, ""};
    validator_pool<scripted, fixed_clock> pool(three(), t, {});
    pool.check_health();
    auto snap = pool.snapshot();
    CHECK(snap[0].status == node_status::degraded);
    CHECK(snap[0].height == 5);
    CHECK(snap[0].detail == "catching up");
    CHECK(snap[1].status == node_status::unreachable);
    CHECK(snap[2].status == node_status::healthy);
    CHECK(pool.count(node_status::healthy) == 1);
    for (int i = 0; i < 3; ++i) {
        log.clear();
        REQUIRE(pool.call("m", {}).outcome.ok());
        CHECK(log == std::vector<std::string>{"v3"});
    }
    CHECK(std::string(to_string(node_status::degraded)) == "degraded");
}
