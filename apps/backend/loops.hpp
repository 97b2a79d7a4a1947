#pragma once
/// @file The backend's background threads: each runs one task every so many
/// milliseconds until stop(). What they run (validator health probes, the
/// outbox's tick) is the service's; this owns only the threads and the stop
/// signal.

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ballotchain::backend {

/// Periodic tasks on their own threads.
///
/// @par Thread safety
/// `every` and `stop` from one owner thread; `stopping` from any thread (a
/// task asks it to end a long pass early). The destructor stops and joins.
class background_loops {
public:
    background_loops() = default;
    background_loops(const background_loops&) = delete;
    background_loops& operator=(const background_loops&) = delete;
    ~background_loops() { stop(); }

    /// Runs `task` every `every_ms` (first after one interval) on a new thread
    /// until stop(). An exception from a task is logged and the loop goes on.
    void every(std::uint64_t every_ms, std::function<void()> task) {
        threads_.emplace_back([this, every_ms, task = std::move(task)] {
            for (;;) {
                {
                    std::unique_lock lk(mu_);
                    if (cv_.wait_for(lk, std::chrono::milliseconds(every_ms), [this] { return stopping_; })) return;
                }
                try {
                    task();
                } catch (const std::exception& e) {
                    spdlog::error("background task: {}", e.what());
                }
            }
        });
    }

    /// Tells every loop to end and waits for them; a task running now finishes first.
    void stop() {
        {
            std::lock_guard lk(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
        threads_.clear();
    }

    bool stopping() const {
        std::lock_guard lk(mu_);
        return stopping_;
    }

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace ballotchain::backend
