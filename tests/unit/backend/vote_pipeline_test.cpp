// The vote pipeline: requests answered from its thread, many votes stored and sent per turn.
#include <backend/vote_pipeline.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

using namespace ballotchain;
using namespace ballotchain::backend;
namespace http = boost::beast::http;

namespace {

/// Collects the answers given to responders.
struct answers {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::pair<std::int64_t, rpc::http_response>> got;  // (user id, answer)

    rpc::responder responder_for(std::int64_t user) {
        return rpc::responder([this, user](rpc::http_response r) {
            std::lock_guard lk(mu);
            got.emplace_back(user, std::move(r));
            cv.notify_all();
        });
    }
    void wait_for(std::size_t n) {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return got.size() >= n; });
    }
};

vote_pipeline::job job_of(std::int64_t user, answers& a) {
    vote_row v;
    v.user_id = user;
    auto answer = [](std::optional<std::int64_t> id, const send_result* sent) {
        if (!id || !sent) return rpc::detail_response(http::status::conflict, "already voted", 11);
        return rpc::detail_response(http::status::ok, "stored as " + std::to_string(*id) + " via " + sent->node, 11);
    };
    return {v, answer, a.responder_for(user), 11};
}

}  // namespace

TEST_CASE("vote pipeline: votes queued while a turn runs are stored and sent together; each request gets its answer",
          "[backend][pipeline]") {
    std::mutex gate_mu;
    std::condition_variable gate_cv;
    bool open = false;
    std::vector<std::size_t> stored_batches, sent_batches;
    answers a;
    vote_pipeline p(
        [&](const std::vector<vote_row*>& rows) {
            std::unique_lock lk(gate_mu);
            stored_batches.push_back(rows.size());
            if (stored_batches.size() == 1) gate_cv.wait(lk, [&] { return open; });  // the first turn holds on
            std::vector<std::optional<std::int64_t>> ids;
            for (const auto* r : rows)  // user 3 already has a vote in flight
                ids.push_back(r->user_id == 3 ? std::nullopt : std::optional<std::int64_t>(r->user_id * 100));
            return ids;
        },
        [&](const std::vector<vote_row>& vs) {
            sent_batches.push_back(vs.size());
            return std::vector<send_result>(vs.size(), send_result{send_result::state::submitted, "validator-2", {}, false});
        },
        100, [](rpc::http_response& r) { r.set("X-Content-Type-Options", "nosniff"); });
    auto first = job_of(1, a);
    REQUIRE(p.push(first));
    {  // the first turn is running
        std::unique_lock lk(gate_mu);
        while (stored_batches.empty()) {
            lk.unlock();
            std::this_thread::yield();
            lk.lock();
        }
    }
    for (std::int64_t u = 2; u <= 5; ++u) {
        auto j = job_of(u, a);
        REQUIRE(p.push(j));
    }
    CHECK(p.queued() == 4);
    {
        std::lock_guard lk(gate_mu);
        open = true;
    }
    gate_cv.notify_all();
    a.wait_for(5);
    CHECK(stored_batches == std::vector<std::size_t>{1, 4});
    CHECK(sent_batches == std::vector<std::size_t>{1, 3});  // user 3's vote was not stored: not sent
    std::lock_guard lk(a.mu);
    for (auto& [user, res] : a.got) {
        INFO("user " << user);
        CHECK(res["X-Content-Type-Options"] == "nosniff");
        if (user == 3)
            CHECK(res.result() == http::status::conflict);
        else
            CHECK(res.body().find("stored as " + std::to_string(user * 100) + " via validator-2") != std::string::npos);
    }
}

TEST_CASE("vote pipeline: beyond its capacity a vote is refused at once; at stop what waits gets 503, nothing stored",
          "[backend][pipeline]") {
    std::mutex gate_mu;
    std::condition_variable gate_cv;
    bool open = false;
    std::atomic<std::size_t> stored{0};
    answers a;
    vote_pipeline p(
        [&](const std::vector<vote_row*>& rows) {
            std::unique_lock lk(gate_mu);
            gate_cv.wait(lk, [&] { return open; });
            stored += rows.size();
            return std::vector<std::optional<std::int64_t>>(rows.size(), std::optional<std::int64_t>(1));
        },
        [](const std::vector<vote_row>& vs) { return std::vector<send_result>(vs.size()); }, 2);
    auto j1 = job_of(1, a);
    REQUIRE(p.push(j1));
    while (p.queued() != 0) std::this_thread::yield();  // taken: the turn waits at the gate
    auto j2 = job_of(2, a), j3 = job_of(3, a), j4 = job_of(4, a);
    REQUIRE(p.push(j2));
    REQUIRE(p.push(j3));
    CHECK_FALSE(p.push(j4));  // two wait already
    p.busy(j4.respond, 11);
    std::thread stopper([&] { p.stop(); });
    while (p.accepting()) std::this_thread::yield();  // stop() has begun: no new turn will start
    {
        std::lock_guard lk(gate_mu);
        open = true;
    }
    gate_cv.notify_all();
    stopper.join();
    a.wait_for(4);
    CHECK(stored == 1);  // the turn in hand finished; the two waiting were not stored
    std::lock_guard lk(a.mu);
    for (auto& [user, res] : a.got) {
        INFO("user " << user);
        if (user == 1) CHECK(res.result() == http::status::ok);
        else CHECK(res.result() == http::status::service_unavailable);
        if (user == 4) CHECK(res[http::field::retry_after] == "1");
    }
    auto late = job_of(5, a);
    CHECK_FALSE(p.push(late));
}
