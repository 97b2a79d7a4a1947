// client/validator_pool.hpp: the health book the verifying client keeps, on its
// own: the order of calls (round-robin, healthy first, then degraded, then
// unreachable, misbehaving last), what calls and probes do to a validator's
// status, and the quarantine of a misbehaving validator and its end. The
// client's use of it over validators in memory is client_test.cpp's.
#include <ballotchain/client/validator_pool.hpp>

#include <ballotchain/client/async_transport.hpp>
#include <ballotchain/core/clock.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace ballotchain;
using namespace ballotchain::client;

namespace {

std::vector<node_info> book_nodes() {
    return {{"v1", "http://127.0.0.1:1", ""}, {"v2", "http://127.0.0.1:2", ""}, {"v3", "http://127.0.0.1:3", ""}};
}

/// The node ids in the order the book gives for its next call.
std::vector<std::string> next_order(node_book<shared_clock>& b) {
    std::vector<std::string> out;
    for (auto i : b.order()) out.push_back(b.info(i).node_id);
    return out;
}

using ids = std::vector<std::string>;

}  // namespace

TEST_CASE("node_book: round-robin start over healthy validators", "[client][book]") {
    node_book<shared_clock> b(book_nodes(), shared_clock{});
    CHECK(next_order(b) == ids{"v1", "v2", "v3"});
    CHECK(next_order(b) == ids{"v2", "v3", "v1"});
    CHECK(next_order(b) == ids{"v3", "v1", "v2"});
    CHECK(next_order(b) == ids{"v1", "v2", "v3"});
    CHECK(b.count(node_status::healthy) == 3);  // optimistic until a call or probe says otherwise
    node_book<shared_clock> none({}, shared_clock{});
    CHECK(none.order().empty());
    CHECK(none.size() == 0);
}

TEST_CASE("node_book: healthy first, then degraded, then unreachable, then misbehaving", "[client][book]") {
    node_book<shared_clock> b(book_nodes(), shared_clock{});
    b.failed(0, "connection refused");
    b.probed(1, {true, node_status::degraded, 5, "catching up", ""});
    for (int k = 0; k < 3; ++k) CHECK(next_order(b) == ids{"v3", "v2", "v1"});
    b.misbehaved(2, "forged receipt");
    CHECK(next_order(b) == ids{"v2", "v1", "v3"});

    const auto snap = b.snapshot();
    CHECK(snap[0].status == node_status::unreachable);
    CHECK(snap[0].failures == 1);
    CHECK(snap[0].detail == "connection refused");
    CHECK(snap[1].status == node_status::degraded);
    CHECK(snap[1].height == 5);
    CHECK(snap[1].detail == "catching up");
    CHECK(snap[2].status == node_status::misbehaving);
    CHECK(snap[2].misbehaviours == 1);
    CHECK(snap[2].detail == "forged receipt");
}

TEST_CASE("node_book: an answer brings an unreachable validator back as degraded; the next probe decides",
          "[client][book]") {
    node_book<shared_clock> b(book_nodes(), shared_clock{});
    b.failed(0, "timed out");
    b.failed(0, "timed out");
    CHECK(b.snapshot()[0].failures == 2);
    b.answered(0);
    auto s = b.snapshot()[0];
    CHECK(s.status == node_status::degraded);
    CHECK(s.failures == 0);
    CHECK(s.calls == 1);
    b.probed(0, {true, node_status::healthy, 7, "", ""});
    CHECK(b.snapshot()[0].status == node_status::healthy);
    b.probed(0, {false, node_status::healthy, 0, "no answer", ""});  // no answer: unreachable whatever it claims
    CHECK(b.snapshot()[0].status == node_status::unreachable);
    CHECK(b.snapshot()[0].failures == 1);
}

TEST_CASE("node_book: a misbehaving validator stays so for the quarantine, whatever probes and failures say",
          "[client][book]") {
    shared_clock clk;
    *clk.t = 1000;
    node_book<shared_clock> b(book_nodes(), clk, 60'000);
    b.misbehaved(1, "tally differs from the verified blocks");
    b.probed(1, {true, node_status::healthy, 9, "", ""});
    b.failed(1, "connection refused");
    b.answered(1);
    auto s = b.snapshot()[1];
    CHECK(s.status == node_status::misbehaving);
    CHECK(s.detail == "connection refused");  // the latest trouble is shown; the status is kept
    CHECK(s.misbehaving_until_ms == 61'000);
    CHECK(b.count(node_status::misbehaving) == 1);
    for (int k = 0; k < 3; ++k) CHECK(next_order(b).back() == "v2");

    *clk.t = 60'999;
    CHECK(b.snapshot()[1].status == node_status::misbehaving);
    *clk.t = 61'000;  // the quarantine is over: degraded until a probe or call says more
    CHECK(b.snapshot()[1].status == node_status::degraded);
    CHECK(b.snapshot()[1].misbehaviours == 1);  // the record stays
    b.probed(1, {true, node_status::healthy, 9, "", ""});
    CHECK(b.snapshot()[1].status == node_status::healthy);
    CHECK(b.count(node_status::healthy) == 3);
}

TEST_CASE("node_book: a health probe records where the validator listens for P2P (its /health p2p_addr)",
          "[client][book]") {
    // parse_health reads "p2p_addr" (bounded, printable) as a tcp:// URL; no field, no URL.
    const auto p = parse_health(200, R"({"status":"ok","height":7,"peers":2,"syncing":false,"p2p_addr":"127.0.0.1:9001"})");
    CHECK(p.status == node_status::healthy);
    CHECK(p.p2p_url == "tcp://127.0.0.1:9001");
    CHECK(parse_health(200, R"({"status":"ok","height":7,"peers":2,"syncing":false})").p2p_url.empty());
    CHECK(parse_health(200, R"({"status":"ok","peers":2,"p2p_addr":"bad addr"})").p2p_url.empty());
    CHECK(parse_health(200, R"({"status":"ok","peers":2,"p2p_addr":7})").p2p_url.empty());
    CHECK(parse_health(200, R"({"status":"ok","peers":2,"p2p_addr":")" + std::string(300, 'a') + R"("})").p2p_url.empty());
    CHECK(parse_health(503, R"({"status":"failing","error":"disk full","p2p_addr":"10.0.0.2:30303"})").p2p_url ==
          "tcp://10.0.0.2:30303");

    node_book<shared_clock> b(book_nodes(), shared_clock{});
    CHECK(b.snapshot()[1].info.p2p_url.empty());
    b.probed(1, p);
    CHECK(b.snapshot()[1].info.p2p_url == "tcp://127.0.0.1:9001");
    CHECK(b.info(1).rpc_url == "http://127.0.0.1:2");
    // A probe without it (or no answer) keeps what the book knows.
    b.probed(1, parse_health(200, R"({"status":"ok","height":8,"peers":2,"syncing":false})"));
    b.probed(1, probe_result{});
    CHECK(b.snapshot()[1].info.p2p_url == "tcp://127.0.0.1:9001");
    CHECK(b.snapshot()[0].info.p2p_url.empty());
}
