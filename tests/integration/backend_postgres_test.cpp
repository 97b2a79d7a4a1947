// Several backend instances on one PostgreSQL database: a real PostgreSQL 15
// server (initdb in a temp dir, free port), real validators, two real
// ballotchain-backend processes with --database. Every promise holds across
// instances: one vote per voter when both take that voter's votes at once,
// sessions and the failed-login limit shared, an instance killed -9 under load
// loses nothing (the other finishes its votes), and both recover from a
// restart of PostgreSQL without being restarted.
#include "backend.hpp"

#include <postgres_server.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace ballotchain;
using namespace ballotchain::itest;

namespace {

/// Flags of an instance on `url`; claims short so a dead instance's votes are taken over soon.
std::map<std::string, std::string> pg_flags(const std::string& url, const std::string& instance) {
    return {{"--database", url}, {"--instance-id", instance}, {"--outbox-claim-ms", "2000"}, {"--database-pool", "4"}};
}

/// Registers voterK through `b` and logs in; returns the token.
std::string register_voter(const backend& b, int k) { return b.voter(k); }

}  // namespace

TEST_CASE("backend on PostgreSQL: two instances take one voter's votes at the same moment: exactly one is stored "
          "and final; sessions and failed logins are shared",
          "[integration][backend][postgresql]") {
    test::postgres_server pg;
    const auto url = pg.create_database("two_instances");
    network net(3);
    backend a(net, 3, pg_flags(url, "a"));
    backend b(net, 3, pg_flags(url, "b"));

    const auto admin = a.admin();
    const auto made = b.election(admin, 2);
    const std::int64_t eid = made.first;
    const std::vector<std::int64_t> cands = made.second;  // a session made on A works on B
    REQUIRE(a.get("/api/elections/" + std::to_string(eid)).status == 200);

    constexpr int voters = 12;
    std::vector<std::string> tokens;
    for (int k = 0; k < voters; ++k) tokens.push_back(register_voter(k % 2 ? a : b, k));
    // Each voter at once through both instances.
    std::vector<reply> via_a(voters), via_b(voters);
    std::vector<std::thread> threads;
    for (int k = 0; k < voters; ++k) {
        threads.emplace_back([&, k] { via_a[k] = a.vote(tokens[k], eid, cands[0]); });
        threads.emplace_back([&, k] { via_b[k] = b.vote(tokens[k], eid, cands[1]); });
    }
    for (auto& t : threads) t.join();
    std::vector<std::string> txs;
    for (int k = 0; k < voters; ++k) {
        INFO("voter " << k << ": A " << via_a[k].status << " " << bj::serialize(via_a[k].body) << ", B "
                      << via_b[k].status << " " << bj::serialize(via_b[k].body));
        CHECK(((via_a[k].status == 200) != (via_b[k].status == 200)));
        CHECK(((via_a[k].status == 409) != (via_b[k].status == 409)));
        txs.push_back(via_a[k].status == 200 ? via_a[k].str("transaction_id") : via_b[k].str("transaction_id"));
    }
    for (const auto& tx : txs) CHECK(eventually([&] { return confirmed(a, tx, eid) && confirmed(b, tx, eid); },
                                                std::chrono::seconds(60)));
    CHECK(eventually([&] { return chain_total(net, 0, eid) == std::optional<std::uint64_t>(voters); },
                     std::chrono::seconds(30)));
    CHECK(results_total(b, eid) == std::optional<std::int64_t>(voters));

    // Failed logins count across instances: 5 free failures in all, not 5 per instance.
    auto wrong = [&](const backend& via) {
        return via.post("/api/auth/login", bj::object{{"email", backend::voter_email(0)}, {"password", "wrong-password"}});
    };
    for (int i = 0; i < 5; ++i) CHECK(wrong(i % 2 ? a : b).status == 401);
    const auto blocked_a = wrong(a), blocked_b = wrong(b);
    CHECK(blocked_a.status == 429);
    CHECK(blocked_b.status == 429);
    CHECK_FALSE(blocked_b.retry_after.empty());
}

TEST_CASE("backend on PostgreSQL: an instance killed -9 under load loses nothing: the other finishes its votes",
          "[integration][backend][postgresql]") {
    test::postgres_server pg;
    const auto url = pg.create_database("kill_one");
    network net(3);
    // A reaches no validator: every vote it acknowledges waits on its fallback chain and in the
    // shared outbox, claimed by A. B has the validators.
    const std::vector<std::string> nowhere{"validator-1=http://127.0.0.1:" + std::to_string(free_port())};
    backend a(net.dir() / "genesis.json", net.dir() / "submitter.key", nowhere, pg_flags(url, "a"));
    backend b(net, 3, pg_flags(url, "b"));
    const auto admin = b.admin();
    const auto made = b.election(admin, 3);
    const std::int64_t eid = made.first;
    const std::vector<std::int64_t> cands = made.second;

    constexpr int per_instance = 20;
    std::vector<std::string> tokens;
    for (int k = 0; k < 2 * per_instance; ++k) tokens.push_back(register_voter(b, k));
    std::mutex mu;
    std::set<std::string> acked;  // transaction ids of every 200
    std::atomic<int> acked_by_a{0};
    auto cast = [&](const backend& via, int from, int to, std::atomic<int>* count) {
        for (int k = from; k < to; ++k) {
            auto r = via.vote(tokens[static_cast<std::size_t>(k)], eid, cands[static_cast<std::size_t>(k % 3)]);
            if (r.status != 200) continue;  // A killed mid-request: not acknowledged, nothing promised
            std::lock_guard lk(mu);
            acked.insert(r.str("transaction_id"));
            if (count) ++*count;
        }
    };
    std::thread load_b([&] { cast(b, per_instance, 2 * per_instance, nullptr); });
    std::thread load_a([&] { cast(a, 0, per_instance, &acked_by_a); });
    // Kill A once it has acknowledged some votes, while both are still taking votes.
    REQUIRE(eventually([&] { return acked_by_a >= 5; }, std::chrono::seconds(60)));
    a.kill(SIGKILL);
    load_a.join();
    load_b.join();
    INFO("acknowledged: " << acked.size() << ", by A before the kill: " << acked_by_a);
    REQUIRE(acked_by_a >= 5);
    // B takes over A's votes when A's claims run out (2 s) and sends them from the shared outbox.
    for (const auto& tx : acked) CHECK(eventually([&] { return confirmed(b, tx, eid); }, std::chrono::seconds(90)));
    // Once each: the outbox drains, and the chain counts every acknowledged vote and at most one
    // vote per voter. (A vote A stored but was killed before answering was not acknowledged; B
    // finishes it too, so the chain may count more than was acknowledged, never more than voted.)
    CHECK(eventually([&] { return b.outbox() == 0; }, std::chrono::seconds(60)));
    const auto total = chain_total(net, 0, eid);
    REQUIRE(total);
    CHECK(*total >= acked.size());
    CHECK(*total <= static_cast<std::uint64_t>(2 * per_instance));
    CHECK(eventually([&] { return results_total(b, eid) == std::optional<std::int64_t>(static_cast<std::int64_t>(*total)); },
                     std::chrono::seconds(30)));
}

TEST_CASE("backend on PostgreSQL: both instances recover from a PostgreSQL restart without being restarted",
          "[integration][backend][postgresql]") {
    test::postgres_server pg;
    const auto url = pg.create_database("restart");
    network net(3);
    backend a(net, 3, pg_flags(url, "a"));
    backend b(net, 3, pg_flags(url, "b"));
    const auto admin = a.admin();
    const auto made = a.election(admin, 2);
    const std::int64_t eid = made.first;
    const std::vector<std::int64_t> cands = made.second;
    const auto before = register_voter(a, 0);

    pg.stop();
    // Down: the database's failure is a 500 with a detail, not a hang or a crash.
    auto down = b.vote(before, eid, cands[0]);
    CHECK(down.status == 500);
    CHECK(down.str("detail") == "storage error");
    pg.restart();

    std::vector<std::string> txs;
    auto r0 = b.vote(before, eid, cands[0]);  // the refused attempt left nothing behind
    INFO(bj::serialize(r0.body));
    REQUIRE(r0.status == 200);
    txs.push_back(r0.str("transaction_id"));
    for (int k = 1; k <= 4; ++k) {
        const backend& via = k % 2 ? a : b;
        auto r = via.vote(register_voter(via, k), eid, cands[static_cast<std::size_t>(k % 2)]);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 200);
        txs.push_back(r.str("transaction_id"));
    }
    for (const auto& tx : txs) CHECK(eventually([&] { return confirmed(a, tx, eid); }, std::chrono::seconds(60)));
    CHECK(a.get("/health").status == 200);
    CHECK(b.get("/health").status == 200);
}
