#pragma once
/// @file What keeps one client from costing the backend (or other clients) much:
/// the key per-client limits use, the 429 answer, request rate limits given as
/// "N/S", the login backoff table, and a single-flight cache for expensive
/// lookups (chain verification, tallies).
///
/// Every table here is bounded by evicting its least recently used entries,
/// never by clearing it: an attacker who fills a table only pushes out other
/// idle entries, never its own recent ones.

#include <ballotchain/core/rate_limit.hpp>
#include <ballotchain/rpc/http_server.hpp>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ballotchain::backend {

/// The key per-client limits count under, as a string: rpc::client_key (IPv6 by /64).
inline std::string client_key(const boost::asio::ip::address& a) { return rpc::client_key(a).to_string(); }

/// A network of trusted reverse proxies or load balancers: `address/prefix`.
struct trusted_proxy {
    boost::asio::ip::address net;
    unsigned prefix = 0;

    /// True when `a` is in this network (an IPv4-mapped IPv6 address counts as IPv4).
    bool contains(boost::asio::ip::address a) const {
        if (a.is_v6() && a.to_v6().is_v4_mapped()) a = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
        if (a.is_v4() != net.is_v4()) return false;
        auto bits_equal = [&](const auto& x, const auto& y) {
            for (unsigned i = 0; i < prefix; ++i) {
                const unsigned mask = 0x80u >> (i % 8);
                if ((x[i / 8] & mask) != (y[i / 8] & mask)) return false;
            }
            return true;
        };
        return a.is_v4() ? bits_equal(a.to_v4().to_bytes(), net.to_v4().to_bytes())
                         : bits_equal(a.to_v6().to_bytes(), net.to_v6().to_bytes());
    }
};

/// Parses "ADDRESS" or "ADDRESS/PREFIX" (IPv4 or IPv6); nullopt for anything else.
inline std::optional<trusted_proxy> parse_trusted_proxy(std::string_view s) {
    const auto slash = s.find('/');
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address(std::string(s.substr(0, slash)), ec);
    if (ec) return std::nullopt;
    const unsigned max = a.is_v4() ? 32 : 128;
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
        const auto t = s.substr(slash + 1);
        auto [p, e] = std::from_chars(t.data(), t.data() + t.size(), prefix);
        if (t.empty() || e != std::errc{} || p != t.data() + t.size() || prefix > max) return std::nullopt;
    }
    return trusted_proxy{a, prefix};
}

/// The client's address for per-client limits: the TCP peer, unless it is a trusted proxy;
/// then the right-most address of `X-Forwarded-For` that is not a trusted proxy (each proxy
/// appends the address it received from, so the ones left of it may be forged by the client).
/// A trusted proxy that sends no usable address is taken as the client itself.
inline boost::asio::ip::address client_address(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                                               const std::vector<trusted_proxy>& trusted) {
    auto is_trusted = [&](const boost::asio::ip::address& a) {
        return std::any_of(trusted.begin(), trusted.end(), [&](const trusted_proxy& t) { return t.contains(a); });
    };
    if (trusted.empty() || !is_trusted(peer)) return peer;
    forwarded_for = forwarded_for.substr(0, 4096);
    while (!forwarded_for.empty()) {
        const auto comma = forwarded_for.rfind(',');
        auto item = forwarded_for.substr(comma == std::string_view::npos ? 0 : comma + 1);
        forwarded_for = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        boost::system::error_code ec;
        const auto a = boost::asio::ip::make_address(std::string(item), ec);
        if (ec) return peer;  // not an address (a port, a name, garbage): stop trusting the header here
        if (!is_trusted(a)) return a;
    }
    return peer;
}

/// A request rate limit: `count` requests per `seconds`, in bursts of up to
/// `count` (a token bucket of `count` tokens refilled at count/seconds per
/// second). count == 0: no limit.
struct rate_spec {
    double count = 0;
    double seconds = 60;
    bool enabled() const noexcept { return count > 0; }
};

/// Parses "N/S" (N requests per S seconds, 1 ≤ N ≤ 1,000,000, 1 ≤ S ≤ 86,400)
/// or "off". Returns nullopt for anything else.
inline std::optional<rate_spec> parse_rate_spec(std::string_view s) {
    if (s == "off") return rate_spec{0, 60};
    const auto slash = s.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto num = [](std::string_view t, unsigned lo, unsigned hi) -> std::optional<unsigned> {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (t.empty() || ec != std::errc{} || p != t.data() + t.size() || v < lo || v > hi) return std::nullopt;
        return v;
    };
    const auto n = num(s.substr(0, slash), 1, 1'000'000);
    const auto per = num(s.substr(slash + 1), 1, 86'400);
    if (!n || !per) return std::nullopt;
    return rate_spec{static_cast<double>(*n), static_cast<double>(*per)};
}

/// A per-client request limit (keyed_rate_limiter over client keys); a
/// disabled spec lets everything through.
class request_limit {
public:
    explicit request_limit(rate_spec s, std::size_t max_clients = 65'536)
        : spec_(s), lim_({s.enabled() ? s.count / s.seconds : 1.0, s.enabled() ? s.count : 1.0, max_clients}) {}

    /// 0 when `client` may go on (one token taken), else milliseconds to wait.
    std::uint64_t acquire(const std::string& client, std::uint64_t now_ms) {
        return spec_.enabled() ? lim_.acquire(client, now_ms) : 0;
    }
    const rate_spec& spec() const noexcept { return spec_; }

private:
    rate_spec spec_;
    keyed_rate_limiter<std::string> lim_;
};

/// Failed-login backoff, per (client, account) and per client.
///
/// Each (client key, account) may fail `free_failures` times; after that each
/// further attempt must wait `backoff_ms` · 2^(failures − free_failures)
/// (capped at `backoff_max_ms`) after the last failure. The same applies per
/// client key across all accounts with `client_free_failures`. A success
/// clears the (client, account) entry but not the client's; failures are
/// forgotten after `forget_ms` without one.
///
/// Attempts are *reserved* before the password is hashed, and an attempt in
/// flight counts as a failure until it is decided, so parallel guesses cannot
/// slip past the limit. An attacker hammering an account from one address
/// delays only that address: the owner logs in from any other.
///
/// @par Thread safety All members are safe to call from several threads.
class login_throttle {
public:
    struct options {
        unsigned free_failures = 5;          ///< per (client, account)
        unsigned client_free_failures = 20;  ///< per client, over all accounts
        std::uint64_t backoff_ms = 1000;     ///< first wait; doubles per further failure
        std::uint64_t backoff_max_ms = 15 * 60'000;
        std::uint64_t forget_ms = 60 * 60'000;  ///< failures expire after this long without one
        std::size_t max_entries = 100'000;      ///< per table; least recently used evicted beyond
    };

    explicit login_throttle(options o) : o_(o) {}

    /// Reserves one attempt of `client` on `account`. Returns 0 when reserved
    /// (then exactly one finish() must follow), else the milliseconds to wait.
    std::uint64_t begin(const std::string& client, const std::string& account, std::uint64_t now_ms) {
        std::lock_guard lk(mu_);
        auto& pair = pairs_.touch(pair_key(client, account), now_ms, o_.forget_ms);
        auto& cl = clients_.touch(client, now_ms, o_.forget_ms);
        const std::uint64_t wait = std::max(wait_ms(pair, o_.free_failures, now_ms), wait_ms(cl, o_.client_free_failures, now_ms));
        if (wait) return wait;
        ++pair.pending;
        ++cl.pending;
        return 0;
    }

    /// Ends an attempt reserved by begin(): `failed` says whether the password was wrong.
    void finish(const std::string& client, const std::string& account, std::uint64_t now_ms, bool failed) {
        std::lock_guard lk(mu_);
        auto& pair = pairs_.touch(pair_key(client, account), now_ms, o_.forget_ms);
        auto& cl = clients_.touch(client, now_ms, o_.forget_ms);
        settle(pair, o_.free_failures, now_ms, failed);
        settle(cl, o_.client_free_failures, now_ms, failed);
        if (!failed) {
            pair.failures = 0;
            pair.blocked_until_ms = 0;
        }
    }

    /// Ends an attempt reserved by begin() without counting it (the request failed for another reason).
    void cancel(const std::string& client, const std::string& account, std::uint64_t now_ms) {
        std::lock_guard lk(mu_);
        for (auto* e : {&pairs_.touch(pair_key(client, account), now_ms, o_.forget_ms),
                        &clients_.touch(client, now_ms, o_.forget_ms)})
            if (e->pending) --e->pending;
    }

    std::size_t size() const {
        std::lock_guard lk(mu_);
        return pairs_.size() + clients_.size();
    }

    /// The wait after `failures` failures when `free` are free: 0 below `free`, then
    /// backoff_ms doubling per further failure, at most backoff_max_ms.
    std::uint64_t wait_after(unsigned failures, unsigned free) const noexcept {
        if (failures < free) return 0;
        const unsigned doublings = std::min(failures - free, 30u);
        const std::uint64_t wait =
            o_.backoff_ms > (o_.backoff_max_ms >> doublings) ? o_.backoff_max_ms : o_.backoff_ms << doublings;
        return std::min(wait, o_.backoff_max_ms);
    }

private:
    struct entry {
        unsigned failures = 0;
        unsigned pending = 0;  ///< attempts reserved and not yet decided
        std::uint64_t last_failure_ms = 0;
        std::uint64_t blocked_until_ms = 0;
    };

    /// An LRU-bounded map of entries.
    class table {
    public:
        explicit table(std::size_t max) : max_(max) {}
        entry& touch(const std::string& key, std::uint64_t now_ms, std::uint64_t forget_ms) {
            auto it = map_.find(key);
            if (it == map_.end()) {
                if (max_ > 0 && map_.size() >= max_) {
                    map_.erase(lru_.front());
                    lru_.pop_front();
                }
                lru_.push_back(key);
                it = map_.emplace(key, slot{{}, std::prev(lru_.end())}).first;
            } else {
                lru_.splice(lru_.end(), lru_, it->second.pos);
            }
            auto& e = it->second.e;
            if (e.pending == 0 && e.failures && now_ms >= e.last_failure_ms + forget_ms) e = {};
            return e;
        }
        std::size_t size() const noexcept { return map_.size(); }

    private:
        struct slot {
            entry e;
            std::list<std::string>::iterator pos;
        };
        std::size_t max_;
        std::list<std::string> lru_;  ///< front = least recently used
        std::unordered_map<std::string, slot> map_;
    };

    static std::string pair_key(const std::string& client, const std::string& account) {
        return client + '\n' + account;
    }

    /// 0 if one more attempt may start now, else how long to wait.
    std::uint64_t wait_ms(const entry& e, unsigned free, std::uint64_t now_ms) const {
        if (e.failures + e.pending < free) return 0;
        if (e.blocked_until_ms > now_ms) return e.blocked_until_ms - now_ms;
        return e.pending == 0 ? 0 : o_.backoff_ms;  // one attempt at a time once past the free ones
    }

    void settle(entry& e, unsigned free, std::uint64_t now_ms, bool failed) const {
        if (e.pending) --e.pending;
        if (!failed) return;
        ++e.failures;
        e.last_failure_ms = now_ms;
        if (const auto wait = wait_after(e.failures, free)) e.blocked_until_ms = now_ms + wait;
    }

    options o_;
    mutable std::mutex mu_;
    table pairs_{o_.max_entries};
    table clients_{o_.max_entries};
};

/// A value computed by an expensive call, shared: a fresh cached value is
/// returned as is; otherwise at most one computation per key runs at a time,
/// and callers that arrive while it runs wait for it and share its result.
/// A failed computation (nullopt) is not cached.
///
/// @tparam Key   ordered key (e.g. an election id)
/// @tparam Value copyable result
/// @par Thread safety All members are safe to call from several threads.
template <class Key, class Value>
class single_flight {
public:
    struct cached {
        Value value;
        std::uint64_t at_ms = 0;  ///< when its computation started (monotonic)
    };

    explicit single_flight(std::size_t max_keys = 1024) : max_keys_(max_keys) {}

    /// The value for `key` if it was computed less than `max_age_ms` before
    /// `now_ms`; otherwise the result of `compute()` (a callable returning
    /// std::optional<Value>), run by this caller or by the one already running it.
    template <class Compute>
    std::optional<cached> get(const Key& key, std::uint64_t now_ms, std::uint64_t max_age_ms, Compute compute) {
        std::unique_lock lk(mu_);
        auto it = slots_.find(key);
        if (it == slots_.end()) {
            evict_one();
            it = slots_.emplace(key, slot{}).first;
        }
        slot& s = it->second;
        if (s.value && now_ms < s.value->at_ms + max_age_ms) return s.value;
        if (s.running) {
            const std::uint64_t gen = s.generation;
            ++s.waiters;
            cv_.wait(lk, [&] { return s.generation != gen; });
            --s.waiters;
            return s.last;
        }
        s.running = true;
        ++started_;
        lk.unlock();
        std::optional<Value> v;
        try {
            v = compute();
        } catch (...) {
            lk.lock();
            finish(s, std::nullopt);
            throw;
        }
        lk.lock();
        std::optional<cached> out;
        if (v) out = cached{std::move(*v), now_ms};
        finish(s, out);
        return out;
    }

    /// How many computations were started (each one a call to the expensive thing).
    std::uint64_t started() const {
        std::lock_guard lk(mu_);
        return started_;
    }

private:
    struct slot {
        std::optional<cached> value;  ///< last successful result
        std::optional<cached> last;   ///< result of the last computation (for waiters)
        bool running = false;
        std::uint64_t generation = 0;
        unsigned waiters = 0;
    };

    void finish(slot& s, const std::optional<cached>& r) {
        if (r) s.value = r;
        s.last = r;
        s.running = false;
        ++s.generation;
        cv_.notify_all();
    }

    /// Makes room for one more key: drops the idle slot with the oldest value.
    void evict_one() {
        if (max_keys_ == 0 || slots_.size() < max_keys_) return;
        auto victim = slots_.end();
        for (auto it = slots_.begin(); it != slots_.end(); ++it) {
            if (it->second.running || it->second.waiters) continue;
            if (victim == slots_.end() || !it->second.value ||
                (victim->second.value && it->second.value->at_ms < victim->second.value->at_ms))
                victim = it;
        }
        if (victim != slots_.end()) slots_.erase(victim);
    }

    std::size_t max_keys_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::map<Key, slot> slots_;
    std::uint64_t started_ = 0;
};

}  // namespace ballotchain::backend
