#pragma once
/// @file The requests waiting in poa_waitForBlock (the RPC route's long-poll,
/// rpc_routes.hpp): bounded in total and per client address, each answered once,
/// when a block above its height becomes final or when its timeout passes.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace ballotchain::app {

/// Bounds of the long-poll (docs/api.md, poa_waitForBlock). Beyond them a request is
/// refused at once (-32029), so a client falls back to polling.
struct long_poll_limits {
    std::size_t max_waiters = 256;           ///< requests waiting at once, in total
    std::size_t max_waiters_per_client = 8;  ///< requests waiting at once per client address (rpc::client_key)
};

/// Counters of the long-poll, behind GET /metrics.
struct long_poll_stats {
    std::uint64_t answered_by_block = 0;  ///< answered because a block above their height became final
    std::uint64_t timed_out = 0;          ///< answered when their timeout passed
    std::uint64_t refused = 0;            ///< refused over the bounds (-32029)
};

/// The waiting requests, each with its timer.
///
/// @par Thread safety Everything runs on the one thread of the executor it is given
/// (the validator's io thread, where the node and the RPC handler run). Owned by a
/// shared_ptr: the timers' handlers hold only a weak reference to it.
class block_waiters : public std::enable_shared_from_this<block_waiters> {
public:
    /// Sends a parked request's answer, built from the node's state at the time of the call.
    using answer_fn = std::function<void()>;

    static std::shared_ptr<block_waiters> create(boost::asio::any_io_executor ex, long_poll_limits lim = {}) {
        return std::shared_ptr<block_waiters>(new block_waiters(std::move(ex), lim));
    }

    block_waiters(const block_waiters&) = delete;
    block_waiters& operator=(const block_waiters&) = delete;

    /// Whether a request from `client` may wait now: under both bounds. Counts a refusal when not.
    bool admit(const std::string& client) {
        if (waiters_.size() < lim_.max_waiters && count_of(client) < lim_.max_waiters_per_client) return true;
        ++stats_.refused;
        return false;
    }

    /// Parks a request of `client` waiting for a final block above `after_height`:
    /// `answer` is called once, from notify() or when `timeout` passes, whichever is first.
    /// @pre admit(client) returned true just before (nothing ran in between).
    void park(const std::string& client, std::uint64_t after_height, std::chrono::milliseconds timeout, answer_fn answer) {
        const std::uint64_t id = ++serial_;
        auto& w = waiters_.emplace(id, waiter{client, after_height, std::move(answer), boost::asio::steady_timer(ex_)})
                      .first->second;
        ++per_client_[client];
        w.timer.expires_after(timeout);
        w.timer.async_wait([self = weak_from_this(), id](boost::system::error_code ec) {
            if (ec) return;  // cancelled: answered by a block, or the waiters are gone
            if (auto s = self.lock()) s->expire(id);
        });
    }

    /// A block at `height` became final: answers every request waiting for a height below it.
    void notify(std::uint64_t height) {
        for (auto it = waiters_.begin(); it != waiters_.end();) {
            if (it->second.after_height >= height) {
                ++it;
                continue;
            }
            auto answer = std::move(it->second.answer);
            it = forget(it);
            ++stats_.answered_by_block;
            answer();
        }
    }

    std::size_t size() const noexcept { return waiters_.size(); }
    const long_poll_stats& stats() const noexcept { return stats_; }
    const long_poll_limits& limits() const noexcept { return lim_; }

private:
    struct waiter {
        std::string client;
        std::uint64_t after_height = 0;
        answer_fn answer;
        boost::asio::steady_timer timer;
    };
    using map_t = std::map<std::uint64_t, waiter>;

    block_waiters(boost::asio::any_io_executor ex, long_poll_limits lim) : ex_(std::move(ex)), lim_(lim) {}

    std::size_t count_of(const std::string& client) const {
        auto it = per_client_.find(client);
        return it == per_client_.end() ? 0 : it->second;
    }

    /// The timer of request `id` fired (it may have been answered meanwhile: then nothing).
    void expire(std::uint64_t id) {
        auto it = waiters_.find(id);
        if (it == waiters_.end()) return;
        auto answer = std::move(it->second.answer);
        forget(it);
        ++stats_.timed_out;
        answer();
    }

    /// Removes a waiter (its timer is cancelled as it is destroyed).
    map_t::iterator forget(map_t::iterator it) {
        auto c = per_client_.find(it->second.client);
        if (c != per_client_.end() && --c->second == 0) per_client_.erase(c);
        return waiters_.erase(it);
    }

    boost::asio::any_io_executor ex_;
    long_poll_limits lim_;
    long_poll_stats stats_;
    map_t waiters_;  ///< by serial
    std::unordered_map<std::string, std::size_t> per_client_;
    std::uint64_t serial_ = 0;
};

}  // namespace ballotchain::app
