#pragma once
/// @file Group commit of new votes: concurrent submissions share one durable
/// database transaction (docs/backend.md, "How a vote is kept", step 1); and the
/// combiner that sends them to a validator in one call (step 2).

#include "store.hpp"
#include "store_failure.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace ballotchain::backend {

/// Combines concurrent calls into one: each caller's item is queued, the first caller to find
/// no batch running becomes the leader and runs `work` on everything queued (its own item and
/// those of the callers that came while the previous batch ran), and every caller returns its
/// own result. The backend sends the votes of concurrent requests to a validator in one call
/// this way (docs/backend.md, "How a vote is kept").
///
/// @par Thread safety `run` may be called from any thread; the lock is never held while `work` runs.
template <class In, class Out>
class combiner {
public:
    using work_fn = std::function<std::vector<Out>(const std::vector<In>&)>;
    /// @param work returns one result per item, in order; what it throws reaches every caller of the batch.
    explicit combiner(work_fn work) : work_(std::move(work)) {}

    Out run(In in) {
        slot me{std::move(in), std::nullopt, nullptr, false};
        std::unique_lock lk(mu_);
        queue_.push_back(&me);
        while (!me.done) {
            if (running_) {
                cv_.wait(lk);
                continue;
            }
            running_ = true;
            std::vector<slot*> batch = std::move(queue_);
            queue_.clear();
            lk.unlock();
            std::vector<In> items;
            items.reserve(batch.size());
            for (auto* b : batch) items.push_back(b->in);
            std::vector<Out> outs;
            std::exception_ptr error;
            try {
                outs = work_(items);
                if (outs.size() != items.size()) throw std::logic_error("combiner: one result per item expected");
            } catch (...) {
                error = std::current_exception();
            }
            lk.lock();
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (error)
                    batch[i]->error = error;
                else
                    batch[i]->out = std::move(outs[i]);
                batch[i]->done = true;
            }
            running_ = false;
            cv_.notify_all();
        }
        if (me.error) std::rethrow_exception(me.error);
        return std::move(*me.out);
    }

    /// Items waiting for the next batch (for tests and metrics).
    std::size_t queued() const {
        std::lock_guard lk(mu_);
        return queue_.size();
    }

private:
    struct slot {
        In in;
        std::optional<Out> out;
        std::exception_ptr error;
        bool done = false;
    };
    work_fn work_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<slot*> queue_;
    bool running_ = false;
};

/// Writes votes through `store::add_votes`, many at once (a combiner over the store).
///
/// The first caller to find no commit running becomes the leader and writes
/// everything queued; the others wait for its result. Each caller returns only
/// after the transaction holding its vote is durable.
///
/// @par Thread safety
/// `record` may be called from any thread; the queue is the combiner's own and
/// its lock is never held while the store writes.
class group_commit {
public:
    explicit group_commit(store& db)
        : c_([&db](const std::vector<const vote_row*>& rows) { return must(db.add_votes(rows)); }) {}

    /// Stores `v` ('pending'); its new id, or nullopt when its voter already has a
    /// vote not rejected in that election. Throws store_failure.
    std::optional<std::int64_t> record(const vote_row& v) { return c_.run(&v); }

private:
    combiner<const vote_row*, std::optional<std::int64_t>> c_;
};

}  // namespace ballotchain::backend
