#pragma once
/// @file A synchronous in-test network of consensus engines with a manual clock.

#include "../support/fixtures.hpp"

#include <ballotchain/consensus/engine.hpp>
#include <ballotchain/storage/shared_storage.hpp>

#include <deque>
#include <memory>
#include <set>

namespace ballotchain::test {

struct shared_clock {
    std::shared_ptr<std::uint64_t> t;
    std::uint64_t now_ms() const noexcept { return *t; }
    std::uint64_t wall_ms() const noexcept { return 1'700'000'000'000ull + *t; }
};

/// Storage that outlives the engine (restart = new engine over the same state).
using mem_shared = ballotchain::shared_storage<memory_storage>;

using engine_t = consensus::engine<H, S, mem_shared, shared_clock>;

/// n engines; messages delivered in FIFO order unless a node is down or cut off.
class cluster {
public:
    explicit cluster(int n, bool empty_blocks = false) : net(n), now(std::make_shared<std::uint64_t>(0)) {
        net.genesis.block_interval_ms = 1000;
        net.genesis.round_timeout_ms = 1000;
        net.genesis.round_timeout_max_ms = 8000;
        net.genesis.empty_blocks = empty_blocks;
        for (int i = 0; i < n; ++i) {
            stores.push_back(std::make_shared<memory_storage>());
            engines.emplace_back();
            timers.emplace_back();
            up.push_back(true);
            start(i);
        }
    }

    void start(int i) {
        auto c = blockchain<H, S, mem_shared>::open(net.genesis, mem_shared{stores[idx(i)]}).value();
        engines[idx(i)].emplace(engine_t::create(std::move(c), net.validators[idx(i)], shared_clock{now}).value());
        up[idx(i)] = true;
        timers[idx(i)].clear();
        consensus::effects fx;
        engines[idx(i)]->start(fx);
        apply(i, fx);
    }
    void stop(int i) {
        engines[idx(i)].reset();
        up[idx(i)] = false;
        timers[idx(i)].clear();
    }

    engine_t& e(int i) { return *engines[idx(i)]; }

    void apply(int from, consensus::effects& fx) {
        for (auto& t : fx.timers) timers[idx(from)][static_cast<int>(t.kind)] = t;
        for (auto& m : fx.messages) {
            sent[idx(from)].push_back(m);
            for (int j = 0; j < static_cast<int>(engines.size()); ++j)
                if (j != from && (!m.to || *m.to == static_cast<std::uint32_t>(j))) queue.push_back({from, j, m.data});
        }
        for (auto& f : fx.finalized) finalized[idx(from)].push_back(f);
        for (auto& q : fx.equivocations) equivocations.push_back(q);
    }

    /// Delivers queued messages until quiet.
    void deliver() {
        while (!queue.empty()) {
            auto [from, to, data] = queue.front();
            queue.pop_front();
            if (!up[idx(to)] || !up[idx(from)] || cut.contains(from) || cut.contains(to)) continue;
            consensus::effects fx;
            (void)engines[idx(to)]->on_message(data, fx);
            apply(to, fx);
        }
    }

    /// Advances time to the earliest pending timer (at most `max_ms` ahead) and fires due timers.
    bool step(std::uint64_t max_ms = 60'000) {
        deliver();
        std::optional<std::uint64_t> next;
        for (std::size_t i = 0; i < engines.size(); ++i)
            if (up[i])
                for (auto& [k, t] : timers[i])
                    if (!next || t.at_ms < *next) next = t.at_ms;
        if (!next || *next > *now + max_ms) return false;
        *now = std::max(*now, *next);
        for (std::size_t i = 0; i < engines.size(); ++i) {
            if (!up[i]) continue;
            std::vector<consensus::timer_request> due;
            for (auto it = timers[i].begin(); it != timers[i].end();) {
                if (it->second.at_ms <= *now) {
                    due.push_back(it->second);
                    it = timers[i].erase(it);
                } else {
                    ++it;
                }
            }
            for (auto& t : due) {
                consensus::effects fx;
                engines[i]->on_timer(t, fx);
                apply(static_cast<int>(i), fx);
            }
        }
        deliver();
        return true;
    }

    /// Runs until pred() or `ms` of simulated time pass.
    template <class P>
    bool run_until(P pred, std::uint64_t ms = 120'000) {
        const std::uint64_t end = *now + ms;
        while (!pred()) {
            if (!step(end - std::min(end, *now))) {
                if (*now >= end) return pred();
                *now = end;  // no timers: let time pass
                deliver();
                return pred();
            }
            if (*now >= end) return pred();
        }
        return true;
    }

    result<hash32> submit(int i, const vote_tx& tx) {
        consensus::effects fx;
        auto r = engines[idx(i)]->submit(tx, fx);
        apply(i, fx);
        return r;
    }

    static std::size_t idx(int i) { return static_cast<std::size_t>(i); }

    struct pending_msg {
        int from, to;
        bytes data;
    };
    test_network net;
    std::shared_ptr<std::uint64_t> now;
    std::vector<std::shared_ptr<memory_storage>> stores;
    std::vector<std::optional<engine_t>> engines;
    std::vector<std::map<int, consensus::timer_request>> timers;
    std::vector<bool> up;
    std::set<int> cut;
    std::deque<pending_msg> queue;
    std::map<std::size_t, std::vector<consensus::outbound>> sent;
    std::map<std::size_t, std::vector<consensus::finalized_event>> finalized;
    std::vector<consensus::equivocation_event> equivocations;
};

/// Signs an envelope from validator `from` of `net`.
inline bytes signed_msg(const test_network& net, std::uint32_t from, consensus::msg_type t, std::uint64_t h,
                        std::uint32_t r, bytes body) {
    consensus::envelope e;
    e.chain_id = net.genesis.chain_id;
    e.type = t;
    e.sender = from;
    e.height = h;
    e.round = r;
    e.body = std::move(body);
    consensus::sign_envelope<H, S>(e, net.validators[from]);
    return consensus::encode(e);
}

}  // namespace ballotchain::test
