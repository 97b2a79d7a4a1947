#pragma once
/// @file Per-client rate limits: token buckets keyed by client, bounded in memory.
///
/// Each key has a bucket of at most `burst` tokens that refills at `rate_per_s`;
/// an action costs tokens. When the table is full, the least recently used key
/// is evicted (a key idle that long has refilled anyway), never the whole table:
/// an attacker who cycles through many keys only pushes out other idle keys.
///
/// @par Thread safety All members are safe to call from several threads.

#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

namespace ballotchain {

template <class Key, class Hash = std::hash<Key>>
class keyed_rate_limiter {
public:
    struct options {
        double rate_per_s = 1;      ///< tokens added per second
        double burst = 10;          ///< bucket size (and the initial fill)
        std::size_t max_keys = 65'536;  ///< keys tracked at once (LRU eviction beyond)
    };

    explicit keyed_rate_limiter(options o) : o_(o) {}

    /// Takes `cost` tokens from `key`'s bucket at time `now_ms` (monotonic).
    /// Returns 0 when allowed; otherwise nothing is taken and the result is the
    /// number of milliseconds (≥ 1) after which the same call would succeed
    /// (for a `Retry-After` answer). A cost above `burst` never succeeds: it
    /// returns the time a whole bucket takes to refill.
    std::uint64_t acquire(const Key& key, std::uint64_t now_ms, double cost = 1) {
        std::lock_guard lk(mu_);
        auto& b = touch(key, now_ms);
        refill(b, now_ms);
        if (b.tokens >= cost) {
            b.tokens -= cost;
            return 0;
        }
        const double missing = cost > o_.burst ? o_.burst : cost - b.tokens;
        const double ms = o_.rate_per_s > 0 ? missing * 1000.0 / o_.rate_per_s : 3'600'000.0;
        return ms < 1 ? 1 : static_cast<std::uint64_t>(ms + 0.999);
    }

    /// Gives back `cost` tokens (e.g. when an attempt turned out not to count), up to `burst`.
    void refund(const Key& key, std::uint64_t now_ms, double cost = 1) {
        std::lock_guard lk(mu_);
        auto it = map_.find(key);
        if (it == map_.end()) return;
        refill(it->second.b, now_ms);
        it->second.b.tokens = std::min(o_.burst, it->second.b.tokens + cost);
    }

    /// Tokens `key` has now (burst for an unknown key).
    double available(const Key& key, std::uint64_t now_ms) {
        std::lock_guard lk(mu_);
        auto it = map_.find(key);
        if (it == map_.end()) return o_.burst;
        refill(it->second.b, now_ms);
        return it->second.b.tokens;
    }

    std::size_t size() const {
        std::lock_guard lk(mu_);
        return map_.size();
    }
    const options& config() const noexcept { return o_; }

private:
    struct bucket {
        double tokens = 0;
        std::uint64_t at_ms = 0;
    };
    struct entry {
        bucket b;
        typename std::list<Key>::iterator lru;
    };

    void refill(bucket& b, std::uint64_t now_ms) const {
        if (now_ms > b.at_ms) {
            b.tokens = std::min(o_.burst, b.tokens + static_cast<double>(now_ms - b.at_ms) * o_.rate_per_s / 1000.0);
            b.at_ms = now_ms;
        }
    }

    bucket& touch(const Key& key, std::uint64_t now_ms) {
        auto it = map_.find(key);
        if (it != map_.end()) {
            lru_.splice(lru_.end(), lru_, it->second.lru);
            return it->second.b;
        }
        if (o_.max_keys > 0 && map_.size() >= o_.max_keys) {
            map_.erase(lru_.front());
            lru_.pop_front();
        }
        lru_.push_back(key);
        auto& e = map_[key];
        e.lru = std::prev(lru_.end());
        e.b = {o_.burst, now_ms};
        return e.b;
    }

    options o_;
    mutable std::mutex mu_;
    std::list<Key> lru_;  ///< front = least recently used
    std::unordered_map<Key, entry, Hash> map_;
};

}  // namespace ballotchain
