// Integration tests of ballotchain-backend: the real backend in front of real
// validators on 127.0.0.1 (free ports, temp dirs): the seed's REST flow, bad
// input, failover, the fallback chain and outbox replay, and kill -9 of the
// backend while votes are in flight.
#include "backend.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace ballotchain;
using namespace ballotchain::itest;

TEST_CASE("backend: register, log in, create an election, vote once, track, count and verify (the seed's flow)",
          "[integration][backend]") {
    network net(3);
    backend b(net, 3);
    // ok once its probes reach every validator (degraded while some do not answer yet)
    REQUIRE(eventually([&] { return b.get("/health").str("status") == "ok"; }, std::chrono::seconds(30)));
    auto h = b.get("/health");
    REQUIRE(h.status == 200);
    CHECK(h.str("status") == "ok");
    CHECK(h.str("version") == "0.1.0");

    const auto admin = b.admin();
    const auto eid_cands = b.election(admin, 3);
    const std::int64_t eid = eid_cands.first;
    const std::vector<std::int64_t> cands = eid_cands.second;
    REQUIRE(cands.size() == 3);
    auto listed = b.get("/api/elections");
    REQUIRE(listed.status == 200);
    CHECK(listed.body.as_array().size() == 1);
    CHECK(b.get("/api/elections/" + std::to_string(eid)).obj().at("is_active").as_bool());

    constexpr int voters = 20;
    std::vector<std::string> txs;
    std::map<std::int64_t, std::uint64_t> expected;
    for (int k = 0; k < voters; ++k) {
        const auto token = b.voter(k);
        const auto cand = cands[static_cast<std::size_t>(k % 3)];
        auto r = b.vote(token, eid, cand);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 200);
        CHECK(r.str("status") == "submitted");
        CHECK(r.str("validator").rfind("validator-", 0) == 0);
        CHECK(r.str("transaction_id").size() == 66);
        CHECK(r.str("ballot_hash").size() == 64);
        CHECK_FALSE(r.obj().contains("warning"));
        txs.push_back(r.str("transaction_id"));
        ++expected[cand];
        // one vote per voter and election
        auto again = b.vote(token, eid, cands[0]);
        CHECK(again.status == 409);
        CHECK_FALSE(again.str("detail").empty());
    }
    CHECK(std::set<std::string>(txs.begin(), txs.end()).size() == voters);
    for (const auto& tx : txs) CHECK(eventually([&] { return confirmed(b, tx, eid); }, std::chrono::seconds(30)));
    auto st = b.get("/api/votes/transaction-status?transaction_id=" + txs[0] + "&election_id=" + std::to_string(eid));
    CHECK(st.str("status") == "confirmed");
    CHECK(st.obj().at("block_number").as_int64() >= 1);
    CHECK(st.str("block_hash").size() == 66);
    CHECK(st.str("source") == "poa_validators");

    auto res = b.get("/api/votes/results?election_id=" + std::to_string(eid));
    INFO(bj::serialize(res.body));
    REQUIRE(res.status == 200);
    CHECK(res.obj().at("total_votes").as_int64() == voters);
    std::uint64_t sum = 0;
    for (const auto& row : res.obj().at("results").as_array()) {
        const auto& o = row.as_object();
        CHECK(o.at("vote_count").to_number<std::uint64_t>() == expected[o.at("candidate_id").as_int64()]);
        sum += o.at("vote_count").to_number<std::uint64_t>();
        CHECK_FALSE(std::string(o.at("candidate_name").as_string()).empty());
    }
    CHECK(sum == voters);
    CHECK(res.obj().at("verification").as_object().at("chain_valid").as_bool());

    auto ver = b.post("/api/votes/verify-blockchain", bj::object{{"election_id", eid}});
    REQUIRE(ver.status == 200);
    CHECK(ver.obj().at("chain_valid").as_bool());
    CHECK(ver.str("status") == "valid");
    CHECK(ver.str("source") == "poa_validators");
    CHECK(ver.obj().at("total_votes").as_int64() == voters);
    CHECK(ver.obj().at("total_blocks").as_int64() >= 1);
    // every validator holds the same count
    for (int i = 0; i < 3; ++i) CHECK(eventually([&] { return chain_total(net, i, eid) == std::uint64_t(voters); },
                                                 std::chrono::seconds(20)));

    auto vh = b.get("/api/admin/validators/health", admin);
    REQUIRE(vh.status == 200);
    CHECK(vh.obj().at("validators").as_array().size() == 3);
    CHECK(vh.obj().at("summary").as_object().at("total").as_int64() == 3);
    CHECK(b.outbox() == 0);
}

TEST_CASE("backend: bad input gets a clear status and {\"detail\"}, and changes nothing", "[integration][backend]") {
    network net(3);
    backend b(net, 3);
    const auto admin = b.admin();
    const auto eid_cands = b.election(admin, 2);
    const std::int64_t eid = eid_cands.first;
    const std::vector<std::int64_t> cands = eid_cands.second;
    const auto eid2_cands2 = b.election(admin, 2);
    const std::int64_t eid2 = eid2_cands2.first;
    const std::vector<std::int64_t> cands2 = eid2_cands2.second;
    const auto voter = b.voter(1);
    auto detail = [](const reply& r) { return r.str("detail"); };

    // authentication and authorization
    CHECK(b.vote("", eid, cands[0]).status == 401);
    CHECK(b.vote(std::string(64, 'a'), eid, cands[0]).status == 401);
    CHECK(b.vote("not-hex", eid, cands[0]).status == 401);
    CHECK(b.post("/api/elections", bj::object{{"name", "x"}}, voter).status == 403);
    CHECK(b.get("/api/admin/validators/health", voter).status == 403);
    CHECK(b.post("/api/auth/login", bj::object{{"email", "voter1@example.org"}, {"password", "wrong-password"}}).status ==
          401);
    // registration
    CHECK(b.post("/api/auth/register", bj::object{{"email", "voter1@example.org"}, {"password", "password-x"}}).status ==
          409);
    CHECK(b.post("/api/auth/register", bj::object{{"email", "short@example.org"}, {"password", "short"}}).status == 422);
    CHECK(b.post("/api/auth/register", bj::object{{"email", "no-at-sign"}, {"password", "password-1"}}).status == 422);
    CHECK(b.post("/api/auth/register", bj::object{{"email", 5}, {"password", "password-1"}}).status == 422);
    // malformed bodies
    for (const char* body : {"", "{", "[1,2]", "null", "{\"election_id\": \"1\"}"}) {
        auto r = b.call(http::verb::post, "/api/votes/submit", body, voter);
        INFO(body);
        CHECK(r.status == 422);
        CHECK_FALSE(detail(r).empty());
    }
    CHECK(b.call(http::verb::post, "/api/votes/submit", std::string(200 * 1024, 'x'), voter).status == 413);
    // votes that cannot be
    CHECK(b.vote(voter, 999, cands[0]).status == 404);
    CHECK(b.vote(voter, eid, cands2[0]).status == 422);     // candidate of another election
    CHECK(b.vote(voter, eid, cands[0], "***").status == 422);  // not base64
    CHECK(b.vote(voter, eid, cands[0], "YQ").status == 422);   // unpadded
    CHECK(b.vote(voter, eid, cands[0], std::string(40'000, 'A')).status == 422);  // over the payload bound
    CHECK(b.vote(voter, -1, cands[0]).status == 422);
    // queries
    CHECK(b.get("/api/votes/results?election_id=abc").status == 422);
    CHECK(b.get("/api/votes/results").status == 422);
    CHECK(b.get("/api/votes/results?election_id=999").status == 404);
    CHECK(b.get("/api/votes/transaction-status?transaction_id=0x1234").status == 422);
    CHECK(b.get("/api/votes/transaction-status?transaction_id=0x" + std::string(64, '0')).status == 404);
    CHECK(b.get("/api/nothing").status == 404);
    CHECK(b.get("/api/elections/abc").status == 404);
    CHECK(b.call(http::verb::delete_, "/api/votes/submit").status == 405);
    CHECK(b.post("/api/elections", bj::object{{"name", "x"}, {"start_date", "yesterday"}}, admin).status == 422);
    CHECK(b.post("/api/elections",
                 bj::object{{"name", "x"}, {"start_date", "2030-01-02T00:00:00Z"}, {"end_date", "2030-01-01T00:00:00Z"}},
                 admin)
              .status == 422);

    // nothing of that was stored: the voter can still vote, once
    auto ok = b.vote(voter, eid, cands[1]);
    INFO(bj::serialize(ok.body));
    CHECK(ok.status == 200);
    CHECK(eventually([&] { return confirmed(b, ok.str("transaction_id"), eid); }, std::chrono::seconds(30)));
    CHECK(eventually([&] { return chain_total(net, 0, eid) == 1u; }, std::chrono::seconds(10)));
    CHECK(chain_total(net, 0, eid2) == 0u);
    // an election that has not started yet refuses votes
    auto later = b.post("/api/elections", bj::object{{"name", "later"}, {"start_date", "2100-01-01T00:00:00Z"},
                                                       {"end_date", "2100-02-01T00:00:00Z"},
                                                       {"candidates", bj::array{bj::object{{"name", "A"}}}}},
                        admin);
    REQUIRE(later.status == 201);
    CHECK(b.vote(voter, later.obj().at("id").as_int64(),
                 later.obj().at("candidates").as_array()[0].as_object().at("id").as_int64())
              .status == 400);
}

TEST_CASE("backend: fails over when a validator is killed; with all down it keeps votes on the fallback chain and "
          "replays them exactly once when they are back",
          "[integration][backend]") {
    network net(3);
    backend b(net, 3);
    const auto admin = b.admin();
    const auto eid_cands = b.election(admin, 2);
    const std::int64_t eid = eid_cands.first;
    const std::vector<std::int64_t> cands = eid_cands.second;
    std::vector<std::string> tokens;
    for (int k = 0; k < 15; ++k) tokens.push_back(b.voter(k));
    std::vector<std::string> txs;

    // One validator killed: votes still go through the other two.
    net.kill(0, SIGKILL);
    auto refreshed = b.post("/api/admin/validators/refresh-status", bj::object{}, admin);
    REQUIRE(refreshed.status == 200);
    CHECK(refreshed.obj().at("validators").as_array()[0].as_object().at("status").as_string() == "unreachable");
    CHECK(refreshed.obj().at("summary").as_object().at("healthy").as_int64() <= 2);
    for (int k = 0; k < 5; ++k) {
        auto r = b.vote(tokens[static_cast<std::size_t>(k)], eid, cands[static_cast<std::size_t>(k % 2)]);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 200);
        CHECK(r.str("status") == "submitted");
        CHECK(r.str("validator") != "validator-1");
        txs.push_back(r.str("transaction_id"));
    }
    for (const auto& tx : txs) CHECK(eventually([&] { return confirmed(b, tx, eid); }, std::chrono::seconds(30)));

    // All down: the vote is acknowledged with the seed's warning and kept.
    net.kill(1, SIGKILL);
    net.kill(2, SIGKILL);
    std::vector<std::string> fallback_txs;
    for (int k = 5; k < 15; ++k) {
        auto r = b.vote(tokens[static_cast<std::size_t>(k)], eid, cands[static_cast<std::size_t>(k % 2)]);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 200);
        CHECK(r.str("warning") == "Vote recorded in local blockchain (PoA validators unreachable)");
        CHECK(r.str("status") == "pending");
        fallback_txs.push_back(r.str("transaction_id"));
    }
    CHECK(b.outbox() == 10);
    auto st = b.get("/api/votes/transaction-status?transaction_id=" + fallback_txs[0] + "&election_id=" + std::to_string(eid));
    CHECK(st.status == 200);
    CHECK(st.str("source") == "fallback_chain");
    CHECK_FALSE(st.obj().at("confirmed").as_bool());
    auto fv = b.post("/api/votes/verify-blockchain", bj::object{{"election_id", eid}});
    REQUIRE(fv.status == 200);
    CHECK(fv.str("source") == "fallback_chain");
    CHECK(fv.obj().at("chain_valid").as_bool());
    CHECK(fv.obj().at("total_votes").as_int64() == 10);
    CHECK(b.get("/api/votes/results?election_id=" + std::to_string(eid)).status == 503);

    // Back: the outbox drains, each vote final exactly once.
    for (int i = 0; i < 3; ++i) net.start(i);
    for (const auto& tx : fallback_txs) CHECK(eventually([&] { return confirmed(b, tx, eid); }, std::chrono::seconds(60)));
    CHECK(eventually([&] { return b.outbox() == 0; }, std::chrono::seconds(30)));
    for (int i = 0; i < 3; ++i)
        CHECK(eventually([&] { return chain_total(net, i, eid) == 15u; }, std::chrono::seconds(30)));
    auto res = b.get("/api/votes/results?election_id=" + std::to_string(eid));
    REQUIRE(res.status == 200);
    CHECK(res.obj().at("total_votes").as_int64() == 15);
    INFO(b.log());
}

TEST_CASE("backend killed with -9 while votes are in flight: every acknowledged vote is final exactly once",
          "[integration][backend][kill]") {
    network net(3);
    backend b(net, 3);
    const auto admin = b.admin();
    const auto eid_cands = b.election(admin, 3);
    const std::int64_t eid = eid_cands.first;
    const std::vector<std::int64_t> cands = eid_cands.second;
    constexpr int voters = 40;
    std::vector<std::string> tokens;
    for (int k = 0; k < voters; ++k) tokens.push_back(b.voter(k));

    std::vector<std::string> acked(voters);  // transaction id of each acknowledged vote
    std::atomic<int> next{0};
    auto submit_some = [&](int until) {
        while (next < until) {
            const int k = next;
            auto r = b.vote(tokens[static_cast<std::size_t>(k)], eid, cands[static_cast<std::size_t>(k % 3)]);
            if (r.status == 200) acked[static_cast<std::size_t>(k)] = r.str("transaction_id");
            if (r.status == 0) return;  // the backend died under us: this vote may or may not be stored
            ++next;
        }
    };
    // Kill it three times while a client submits, each time right after the
    // client moves on to its next vote (so that request is in flight).
    int killed_in_flight = 0;
    for (int round = 0; round < 3; ++round) {
        std::atomic<bool> done{false};
        std::thread client([&] {
            submit_some(voters);
            done = true;
        });
        const int at = 10 * (round + 1);
        while (!done && next < at) std::this_thread::yield();
        b.kill(SIGKILL);
        client.join();
        if (next < voters) ++killed_in_flight;
        b.start();
        // the vote in flight when it died: retried, it is either accepted now or already stored (409)
        if (next < voters) {
            const int k = next;
            auto r = b.vote(tokens[static_cast<std::size_t>(k)], eid, cands[static_cast<std::size_t>(k % 3)]);
            INFO(bj::serialize(r.body));
            CHECK((r.status == 200 || r.status == 409));
            if (r.status == 200) acked[static_cast<std::size_t>(k)] = r.str("transaction_id");
            ++next;
        }
    }
    submit_some(voters);
    REQUIRE(next == voters);

    // Every voter's vote is stored exactly once and ends up final: the chain holds exactly one per voter.
    CHECK(eventually([&] { return b.outbox() == 0; }, std::chrono::seconds(60)));
    for (int i = 0; i < 3; ++i)
        CHECK(eventually([&] { return chain_total(net, i, eid) == std::uint64_t(voters); }, std::chrono::seconds(30)));
    int n_acked = 0;
    for (const auto& tx : acked)
        if (!tx.empty()) {
            ++n_acked;
            auto rc = rpc_call(net.rpc(0), "eth_getTransactionReceipt", {tx});
            CHECK((rc && rc->is_object()));
        }
    CHECK(killed_in_flight == 3);
    CHECK(n_acked >= voters - 3);  // at most one unanswered request per kill
    auto res = b.get("/api/votes/results?election_id=" + std::to_string(eid));
    REQUIRE(res.status == 200);
    CHECK(res.obj().at("total_votes").as_int64() == voters);
}

TEST_CASE("backend under concurrent clients: each voter's two simultaneous votes give one 200 and one 409",
          "[integration][backend]") {
    network net(3);
    backend b(net, 3);
    const auto admin = b.admin();
    const auto el = b.election(admin, 2);
    constexpr int voters = 24;
    std::vector<std::string> tokens;
    for (int k = 0; k < voters; ++k) tokens.push_back(b.voter(k));
    std::vector<int> ok(voters, 0), conflict(voters, 0), other(voters, 0);
    std::vector<std::string> txs(voters);
    std::mutex mu;
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c)
        clients.emplace_back([&, c] {
            // clients c and c+4 go through the same voters at the same time
            for (int k = c % 4; k < voters; k += 4) {
                auto r = b.vote(tokens[static_cast<std::size_t>(k)], el.first, el.second[static_cast<std::size_t>(k % 2)]);
                std::lock_guard lk(mu);
                if (r.status == 200) {
                    ++ok[static_cast<std::size_t>(k)];
                    txs[static_cast<std::size_t>(k)] = r.str("transaction_id");
                } else if (r.status == 409) {
                    ++conflict[static_cast<std::size_t>(k)];
                } else {
                    ++other[static_cast<std::size_t>(k)];
                }
            }
        });
    for (auto& t : clients) t.join();
    for (int k = 0; k < voters; ++k) {
        INFO("voter " << k);
        CHECK(ok[static_cast<std::size_t>(k)] == 1);
        CHECK(conflict[static_cast<std::size_t>(k)] == 1);
        CHECK(other[static_cast<std::size_t>(k)] == 0);
    }
    for (const auto& tx : txs) CHECK(eventually([&] { return confirmed(b, tx, el.first); }, std::chrono::seconds(30)));
    CHECK(eventually([&] { return chain_total(net, 1, el.first) == std::uint64_t(voters); }, std::chrono::seconds(20)));
}

TEST_CASE("backend: the web app's files with their headers, a vote's status pushed as server-sent events, its proof "
          "and the latest blocks",
          "[integration][backend]") {
    network net(3);
    temp_dir web;
    std::filesystem::create_directories(web.path() / "assets");
    std::ofstream(web.path() / "index.html") << "<!doctype html><title>ballotchain</title>";
    std::ofstream(web.path() / "assets" / "app-1a2b.js") << "export{}";
    backend b(net, 3, {{"--web-dir", web.path().string()}});

    // Files: the app's pages, hashed assets cached, a strict CSP; no way out of the directory.
    auto raw = [&](const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
        return client::http_request("127.0.0.1", b.port(), http::verb::get, target, "", std::chrono::milliseconds(60000),
                                    headers);
    };
    const auto index = raw("/");
    CHECK(index.status == 200);
    CHECK(index.body == "<!doctype html><title>ballotchain</title>");
    CHECK_THAT(index.field("content-security-policy"), Catch::Contains("script-src 'self'"));
    CHECK(raw("/results").body == index.body);  // a page of the app's router
    CHECK(raw("/assets/app-1a2b.js").field("cache-control") == "public, max-age=31536000, immutable");
    CHECK(raw("/assets/app-1a2b.js").field("content-type") == "text/javascript; charset=utf-8");
    for (const char* bad : {"/../backend/backend.db", "/assets/../../backend/voter-tag.secret", "/.secret", "/api/nothing"}) {
        INFO(bad);
        CHECK(raw(bad).status == 404);
    }
    CHECK(raw("/api/nothing").field("x-content-type-options") == "nosniff");

    // A vote, then its status as events: at once when new, held until it changes, 204 once final and seen.
    const auto admin = b.admin();
    const auto [eid, cands] = b.election(admin, 2);
    const auto vote = b.vote(b.voter(1), eid, cands[0]);
    REQUIRE(vote.status == 200);
    const auto tx = vote.str("transaction_id");
    const std::string events = "/api/votes/events?transaction_id=" + tx + "&election_id=" + std::to_string(eid);
    const auto first = raw(events);
    CHECK(first.status == 200);
    CHECK(first.field("content-type") == "text/event-stream");
    CHECK_THAT(first.body, Catch::Contains("event: status"));
    std::string last = first.body.substr(first.body.find("id: ") + 4);
    last = last.substr(0, last.find('\n'));
    // Whatever it was (submitted or already confirmed), the next answer says confirmed.
    std::string seen = last;
    REQUIRE(eventually([&] {
        const auto next = raw(events, {{"Last-Event-ID", seen}});
        if (next.status == 204) return seen.starts_with("confirmed");
        const auto at = next.body.find("id: ");
        if (at != std::string::npos) seen = next.body.substr(at + 4, next.body.find('\n', at) - at - 4);
        return false;
    }, std::chrono::seconds(60)));
    CHECK(seen == "confirmed:poa_validators");

    // Its proof, and the block it is in among the latest blocks.
    const auto proof = b.get("/api/votes/proof?transaction_id=" + tx);
    INFO(bj::serialize(proof.body));
    REQUIRE(proof.status == 200);
    CHECK(proof.str("tx_hash") == tx);
    CHECK(proof.str("header").size() > 2);
    CHECK(proof.obj().at("certificate").at("seals").as_array().size() >= 2);
    const auto height = proof.obj().at("block_number").to_number<std::uint64_t>();
    REQUIRE(eventually([&] {
        const auto bs = b.get("/api/chain/blocks?limit=50");
        for (const auto& blk : bs.obj().at("blocks").as_array())
            if (blk.at("height").to_number<std::uint64_t>() == height) return true;
        return false;
    }, std::chrono::seconds(30)));
    const auto blk = b.get("/api/chain/blocks/" + std::to_string(height));
    REQUIRE(blk.status == 200);
    CHECK(blk.str("hash") == proof.str("block_hash"));
    bool found = false;
    for (const auto& t : blk.obj().at("transactions").as_array()) found = found || t.at("hash").as_string() == tx;
    CHECK(found);
    const auto g = b.get("/api/chain/genesis");
    CHECK(g.obj().at("validators").as_array().size() == 3);
}
