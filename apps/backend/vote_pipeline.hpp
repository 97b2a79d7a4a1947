#pragma once
/// @file The durable half of POST /api/votes/submit, off the request threads
/// (docs/backend.md, "How a vote is kept"): a request that passed every check
/// queues its vote with the responder of its request (rpc::request_info::defer)
/// and frees its thread; one thread takes everything queued, stores it in one
/// transaction (the answer waits for that commit), sends it to a validator in
/// one call (outbox::submit_many) and answers every request. Requests in flight
/// are bounded by `capacity` (beyond it: 503 with Retry-After), not by the
/// number of handler threads; the batch grows with the load.

#include "store.hpp"
#include "store_failure.hpp"

#include "outbox.hpp"

#include <ballotchain/rpc/http_server.hpp>

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace ballotchain::backend {

class vote_pipeline {
public:
    /// Builds a request's answer once its vote is stored (`id`; nullopt: its voter already has a
    /// vote in flight) and sent (`sent`; unset when it was not stored). May throw (answered 500).
    using answer_fn = std::function<rpc::http_response(std::optional<std::int64_t> id, const send_result* sent)>;
    /// Stores the rows (and may complete them first, e.g. sign them): their ids, or nullopt each.
    using store_fn = std::function<std::vector<std::optional<std::int64_t>>(const std::vector<vote_row*>&)>;
    using send_fn = std::function<std::vector<send_result>(const std::vector<vote_row>&)>;

    struct job {
        vote_row v;
        answer_fn answer;
        rpc::responder respond;
        unsigned version = 11;
    };

    /// @param decorate applied to every answer (the service's security headers)
    vote_pipeline(store_fn store, send_fn send, std::size_t capacity,
                  std::function<void(rpc::http_response&)> decorate = {})
        : store_(std::move(store)), send_(std::move(send)), capacity_(capacity == 0 ? 1 : capacity),
          decorate_(std::move(decorate)), thread_([this] { loop(); }) {}

    ~vote_pipeline() { stop(); }
    vote_pipeline(const vote_pipeline&) = delete;
    vote_pipeline& operator=(const vote_pipeline&) = delete;

    /// Queues `j`; false (and `j` untouched) when `capacity` votes are already waiting or the
    /// pipeline stopped: the caller answers 503.
    bool push(job& j) {
        {
            std::lock_guard lk(mu_);
            if (stopped_ || queue_.size() >= capacity_) return false;
            queue_.push_back(std::move(j));
        }
        cv_.notify_one();
        return true;
    }

    /// Answers `r` with 503 and Retry-After: 1 (push refused the vote: too many in flight).
    void busy(const rpc::responder& r, unsigned version) {
        auto res = rpc::detail_response(status::service_unavailable,
                                        "the backend has too many votes in flight; try again in a second", version);
        res.set(boost::beast::http::field::retry_after, "1");
        if (decorate_) decorate_(res);
        r(std::move(res));
    }

    /// False once stop() was called: push refuses, and no new turn starts.
    bool accepting() const {
        std::lock_guard lk(mu_);
        return !stopped_;
    }

    /// Votes waiting for the next batch.
    std::size_t queued() const {
        std::lock_guard lk(mu_);
        return queue_.size();
    }

    /// Finishes the batch in hand, answers what is still queued with 503 (nothing of it was
    /// stored), and joins the thread.
    void stop() {
        std::deque<job> left;
        {
            std::lock_guard lk(mu_);
            if (stopped_ && !thread_.joinable()) return;
            stopped_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
        {
            std::lock_guard lk(mu_);
            left.swap(queue_);
        }
        for (auto& j : left) answer(j, rpc::detail_response(status::service_unavailable,
                                                            "the backend is shutting down; the vote was not stored", j.version));
    }

    static constexpr std::size_t max_batch = 4000;  ///< votes taken per turn

private:
    using status = boost::beast::http::status;

    void loop() {
        for (;;) {
            std::vector<job> batch;
            {
                std::unique_lock lk(mu_);
                cv_.wait(lk, [this] { return stopped_ || !queue_.empty(); });
                if (stopped_) return;
                while (!queue_.empty() && batch.size() < max_batch) {
                    batch.push_back(std::move(queue_.front()));
                    queue_.pop_front();
                }
            }
            run(batch);
        }
    }

    void run(std::vector<job>& batch) {
        std::vector<vote_row*> rows;
        rows.reserve(batch.size());
        for (auto& j : batch) rows.push_back(&j.v);
        std::vector<std::optional<std::int64_t>> ids;
        try {
            ids = store_(rows);
        } catch (const std::exception& e) {
            spdlog::error("storage: {}", e.what());
            for (auto& j : batch) answer(j, rpc::detail_response(status::internal_server_error, "storage error", j.version));
            return;
        }
        std::vector<vote_row> stored;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!ids[i]) continue;
            batch[i].v.id = *ids[i];
            stored.push_back(batch[i].v);
        }
        std::vector<send_result> sent;
        std::exception_ptr send_error;
        try {
            if (!stored.empty()) sent = send_(stored);
        } catch (...) {
            send_error = std::current_exception();  // stored all the same: the outbox sends them later
        }
        std::size_t k = 0;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto& j = batch[i];
            const send_result* s = nullptr;
            if (ids[i]) {
                s = send_error ? nullptr : &sent[k];
                ++k;
            }
            try {
                if (ids[i] && send_error) std::rethrow_exception(send_error);
                answer(j, j.answer(ids[i], s));
            } catch (const store_failure& e) {
                spdlog::error("storage: {}", e.what());
                answer(j, rpc::detail_response(status::internal_server_error, "storage error", j.version));
            } catch (const std::exception& e) {
                spdlog::error("POST /api/votes/submit: {}", e.what());
                answer(j, rpc::detail_response(status::internal_server_error, "internal error", j.version));
            }
        }
    }

    void answer(job& j, rpc::http_response res) {
        if (decorate_) decorate_(res);
        j.respond(std::move(res));
    }

    store_fn store_;
    send_fn send_;
    const std::size_t capacity_;
    std::function<void(rpc::http_response&)> decorate_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<job> queue_;
    bool stopped_ = false;
    std::thread thread_;  ///< last: it runs over everything above
};

}  // namespace ballotchain::backend
