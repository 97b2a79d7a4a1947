// The combiner that sends the votes of concurrent requests in one call: real threads.
#include <backend/group_commit.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using ballotchain::backend::combiner;

TEST_CASE("combiner: callers that come while a batch runs share the next one; each gets its own result",
          "[backend][combiner]") {
    std::mutex mu;
    std::condition_variable cv;
    bool release = false;
    std::vector<std::size_t> batch_sizes;
    combiner<int, int> c([&](const std::vector<int>& items) {
        std::unique_lock lk(mu);
        batch_sizes.push_back(items.size());
        if (batch_sizes.size() == 1) cv.wait(lk, [&] { return release; });  // the first batch holds on
        std::vector<int> out;
        for (int i : items) out.push_back(i * 10);
        return out;
    });
    CHECK(c.queued() == 0);
    int first = 0;
    std::thread leader([&] { first = c.run(1); });
    {  // the leader's batch is running
        std::unique_lock lk(mu);
        while (batch_sizes.empty()) {
            lk.unlock();
            std::this_thread::yield();
            lk.lock();
        }
    }
    std::vector<int> got(8);
    std::vector<std::thread> others;
    for (int k = 0; k < 8; ++k) others.emplace_back([&, k] { got[static_cast<std::size_t>(k)] = c.run(100 + k); });
    while (c.queued() < 8) std::this_thread::yield();  // all eight wait behind the running batch
    {
        std::lock_guard lk(mu);
        release = true;
    }
    cv.notify_all();
    leader.join();
    for (auto& t : others) t.join();
    CHECK(first == 10);
    for (int k = 0; k < 8; ++k) CHECK(got[static_cast<std::size_t>(k)] == (100 + k) * 10);
    CHECK(batch_sizes == std::vector<std::size_t>{1, 8});
}

TEST_CASE("combiner: what the work throws reaches every caller of its batch, and the next batch runs",
          "[backend][combiner]") {
    std::atomic<int> calls{0};
    combiner<int, int> c([&](const std::vector<int>& items) -> std::vector<int> {
        if (calls++ == 0) throw std::runtime_error("disk full");
        return std::vector<int>(items.size(), 7);
    });
    CHECK_THROWS_WITH(c.run(1), "disk full");
    CHECK(c.run(2) == 7);
}
