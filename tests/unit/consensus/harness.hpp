#pragma once
/// @file Test harness for the consensus engine: a manual clock, storage that
/// outlives an engine, a synchronous in-test network of engines, a single
/// engine fed by hand, and helpers that sign messages as any validator of a
/// fixtures::test_network would.
///
/// The network moves every outbound message to its receivers in FIFO order
/// until nothing is queued ("quiet"); time moves only when the test asks,
/// jumping to the earliest timer any running engine requested. Everything is
/// deterministic: same test, same bytes, same schedule.

#include "../support/fixtures.hpp"

#include <ballotchain/consensus/engine.hpp>
#include <ballotchain/storage/faulty_storage.hpp>
#include <ballotchain/storage/shared_storage.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace ballotchain::test {


/// Storage that outlives the engine (restart = new engine over the same state),
/// whose writes fail while its `storage_faults` say so (faulty_storage.hpp).
using mem_shared = faulty_storage<shared_storage<memory_storage>>;

inline mem_shared make_mem_shared(std::shared_ptr<memory_storage> s, std::shared_ptr<storage_faults> f = nullptr) {
    return mem_shared(shared_storage<memory_storage>(std::move(s)), std::move(f));
}
static_assert(storage<mem_shared>);
using engine_t = consensus::engine<S, mem_shared, shared_clock>;
using shared_chain = ledger::blockchain<S, mem_shared>;

/// Signs an envelope as validator `from` of `net` and encodes it.
inline bytes signed_msg(const test_network& net, std::uint32_t from, consensus::msg_type t, std::uint64_t h,
                        std::uint32_t r, bytes body, bytes attachment = {}) {
    consensus::envelope e;
    e.chain_id = net.genesis.chain_id;
    e.type = t;
    e.sender = from;
    e.height = h;
    e.round = r;
    e.body = std::move(body);
    e.attachment = std::move(attachment);
    consensus::sign_envelope<S>(e, net.validators[from]);
    return consensus::encode(e);
}

/// The envelope signature validator `v` puts on PREPARE(h, r, bh): one entry of a prepared certificate.
inline commit_seal prepare_seal(const test_network& net, std::uint32_t v, std::uint64_t h, std::uint32_t r,
                                const hash32& bh) {
    const bytes sb = consensus::signing_bytes(net.genesis.chain_id, consensus::msg_type::prepare, v, h, r,
                                              consensus::encode_prepare(bh));
    return {v, S::sign(net.validators[v], S::hash(sb).view())};
}

/// A prepared certificate for (h, r, bh) with PREPARE signatures of `voters` (ascending).
inline consensus::prepared_certificate prepared_cert(const test_network& net, std::uint64_t h, std::uint32_t r,
                                                     const hash32& bh, std::vector<std::uint32_t> voters) {
    consensus::prepared_certificate pc{r, bh, {}};
    for (auto v : voters) pc.prepares.push_back(prepare_seal(net, v, h, r, bh));
    return pc;
}

/// ROUND-CHANGE(h, r) of validator `v` as carried in a proposal's justification.
inline consensus::signed_round_change signed_rc(const test_network& net, std::uint32_t v, std::uint64_t h,
                                                std::uint32_t r,
                                                std::optional<consensus::prepared_certificate> pc = std::nullopt) {
    consensus::round_change_body body{std::move(pc)};
    const bytes sb = consensus::signing_bytes(net.genesis.chain_id, consensus::msg_type::round_change, v, h, r,
                                              consensus::encode(body));
    return {v, std::move(body), S::sign(net.validators[v], S::hash(sb).view())};
}

/// The decoded envelopes of type `t` among `fx`'s outbound messages.
inline std::vector<consensus::envelope> sent_of_type(const consensus::effects& fx, consensus::msg_type t) {
    std::vector<consensus::envelope> out;
    for (const auto& m : fx.messages)
        if (m.type == t) out.push_back(consensus::decode_envelope(m.data).value());
    return out;
}

/// Network shape and timing of a cluster.
struct cluster_config {
    int n = 4;
    bool empty_blocks = false;
    std::uint64_t block_interval_ms = 1000;
    std::uint64_t round_timeout_ms = 1000;
    std::uint64_t round_timeout_max_ms = 8000;
    std::uint32_t max_block_txs = 32;
    consensus::engine_options opts{};
    int genesis_validators = 0;  ///< >0: only the first k nodes are genesis validators (the others follow)
};

/// One message as a node produced it.
struct sent_msg {
    int from = 0;
    std::optional<std::uint32_t> to;
    consensus::envelope env;
    bool sender_syncing = false;       ///< the sender's syncing() before the event that produced it
    std::uint64_t sender_height = 0;   ///< the sender's chain height before that event
    std::uint64_t sender_best_peer = 0;  ///< the sender's best_peer_height() after that event
    std::uint64_t at_ms = 0;
    std::uint64_t seq = 0;  ///< position in the cluster's single event order
};

/// One delivery and the receiver's answer.
struct delivery {
    int from = 0;
    int to = 0;
    consensus::msg_type type = consensus::msg_type::status;
    error_code ec;
    std::uint64_t seq = 0;
};

/// n engines over their own shared memory storages, one manual clock, a
/// synchronous FIFO network. A node is "down" when stopped (no engine) and
/// "isolated" when running but every message to or from it is dropped.
class cluster {
public:
    explicit cluster(cluster_config cfg) : cfg_(cfg), net(cfg.n), now(std::make_shared<std::uint64_t>(0)) {
        net.genesis.block_interval_ms = cfg.block_interval_ms;
        net.genesis.round_timeout_ms = cfg.round_timeout_ms;
        net.genesis.round_timeout_max_ms = cfg.round_timeout_max_ms;
        net.genesis.empty_blocks = cfg.empty_blocks;
        net.genesis.max_block_txs = cfg.max_block_txs;
        if (cfg.genesis_validators > 0) net.genesis.validators.resize(idx(cfg.genesis_validators));
        nodes.resize(idx(cfg.n));
        for (int i = 0; i < cfg.n; ++i) {
            nodes[idx(i)].store = std::make_shared<memory_storage>();
            start(i);
        }
    }
    explicit cluster(int n, bool empty_blocks = false) : cluster(cluster_config{n, empty_blocks}) {}

    int size() const { return cfg_.n; }
    engine_t& e(int i) { return *nodes[idx(i)].eng; }
    bool running(int i) const { return nodes[idx(i)].eng.has_value(); }

    /// (Re)creates node i's engine from its storage alone and starts it.
    void start(int i) {
        auto& nd = nodes[idx(i)];
        nd.eng.reset();
        nd.timers.clear();
        auto c = shared_chain::open(net.genesis, make_mem_shared(nd.store)).value();
        nd.eng.emplace(engine_t::create(std::move(c), net.validators[idx(i)], shared_clock{now}, cfg_.opts).value());
        event(i, [](engine_t& en, consensus::effects& fx) { en.start(fx); });
    }
    /// Destroys node i's engine (a crash: only its storage survives).
    void stop(int i) {
        nodes[idx(i)].eng.reset();
        nodes[idx(i)].timers.clear();
    }

    /// Runs one event on node i, recording what it produced and queueing its messages.
    template <class F>
    void event(int i, F&& f) {
        auto& nd = nodes[idx(i)];
        const bool syncing = nd.eng->syncing();
        const std::uint64_t height = nd.eng->chain().height();
        consensus::effects fx;
        f(*nd.eng, fx);
        for (auto& t : fx.timers) nd.timers[static_cast<int>(t.kind)] = t;
        for (auto& m : fx.messages) {
            sent.push_back({i, m.to, consensus::decode_envelope(m.data).value(), syncing, height,
                            nd.eng->best_peer_height(), *now, ++seq});
            for (int j = 0; j < cfg_.n; ++j)
                if (j != i && (!m.to || *m.to == static_cast<std::uint32_t>(j))) queue.push_back({i, j, m.data});
        }
        for (auto& f2 : fx.finalized) finalized[i].push_back(std::move(f2));
        for (auto& q : fx.equivocations) equivocations.push_back(q);
    }

    /// Delivers queued messages until quiet.
    void deliver() {
        while (!queue.empty()) {
            auto m = std::move(queue.front());
            queue.pop_front();
            if (!running(m.to) || !running(m.from) || isolated.contains(m.from) || isolated.contains(m.to)) continue;
            if (hold && hold(m)) {
                held.push_back(std::move(m));
                continue;
            }
            const auto type = consensus::decode_envelope(m.data).value().type;
            const auto at = ++seq;
            error_code ec;
            // The transport authenticates the sender: node i holds key i, which is id i in these tests.
            event(m.to, [&](engine_t& en, consensus::effects& fx) {
                ec = en.on_message(m.data, fx, static_cast<std::uint32_t>(m.from));
            });
            delivered.push_back({m.from, m.to, type, ec, at});
        }
    }

    /// Puts every held message back in the queue (in the order they were held) and stops holding.
    void release_held() {
        hold = nullptr;
        for (auto& m : held) queue.push_back(std::move(m));
        held.clear();
    }

    /// Delivers, then advances time to the earliest pending timer (if it is at
    /// most `max_ms` ahead), fires every due timer and delivers again.
    /// False when no timer is due within `max_ms`.
    bool step(std::uint64_t max_ms = 60'000) {
        deliver();
        std::optional<std::uint64_t> next;
        for (auto& nd : nodes)
            if (nd.eng)
                for (auto& [k, t] : nd.timers)
                    if (!next || t.at_ms < *next) next = t.at_ms;
        if (!next || *next > *now + max_ms) return false;
        *now = std::max(*now, *next);
        for (int i = 0; i < cfg_.n; ++i) {
            auto& nd = nodes[idx(i)];
            if (!nd.eng) continue;
            std::vector<consensus::timer_request> due;
            for (auto it = nd.timers.begin(); it != nd.timers.end();) {
                if (it->second.at_ms <= *now) {
                    due.push_back(it->second);
                    it = nd.timers.erase(it);
                } else {
                    ++it;
                }
            }
            for (auto& t : due) event(i, [&](engine_t& en, consensus::effects& fx) { en.on_timer(t, fx); });
        }
        deliver();
        return true;
    }

    /// Steps until pred() holds or `ms` of simulated time pass; returns pred().
    template <class P>
    bool run_until(P pred, std::uint64_t ms = 120'000) {
        const std::uint64_t end = *now + ms;
        deliver();
        while (!pred()) {
            if (!step(end - std::min(end, *now))) {
                *now = std::max(*now, end);  // nothing due before the end: let the time pass
                deliver();
                return pred();
            }
            if (*now >= end) return pred();
        }
        return true;
    }

    /// Lets `ms` of simulated time pass, firing every timer due meanwhile.
    void run_for(std::uint64_t ms) { (void)run_until([] { return false; }, ms); }

    result<hash32> submit(int i, const vote_tx& tx) {
        result<hash32> r = make_error(consensus::errc::not_a_validator);
        event(i, [&](engine_t& en, consensus::effects& fx) { r = en.submit(tx, fx); });
        return r;
    }

    /// Every running node's chain has at least `h` blocks.
    bool all_at(std::uint64_t h) {
        for (int i = 0; i < cfg_.n; ++i)
            if (running(i) && !isolated.contains(i) && e(i).chain().height() < h) return false;
        return true;
    }

    std::vector<sent_msg> sent_by(int i, consensus::msg_type t) const {
        std::vector<sent_msg> out;
        for (const auto& m : sent)
            if (m.from == i && m.env.type == t) out.push_back(m);
        return out;
    }

    std::shared_ptr<memory_storage> store(int i) { return nodes[idx(i)].store; }

    static std::size_t idx(int i) { return static_cast<std::size_t>(i); }

    struct pending_msg {
        int from, to;
        bytes data;
    };
    struct node {
        std::shared_ptr<memory_storage> store;
        std::optional<engine_t> eng;
        std::map<int, consensus::timer_request> timers;  ///< by kind: a new request replaces the older one
    };

private:
    cluster_config cfg_;

public:
    test_network net;
    std::shared_ptr<std::uint64_t> now;
    std::vector<node> nodes;
    std::set<int> isolated;
    std::function<bool(const pending_msg&)> hold;  ///< messages it selects wait in `held`
    std::deque<pending_msg> held;
    std::deque<pending_msg> queue;
    std::uint64_t seq = 0;
    std::vector<sent_msg> sent;
    std::vector<delivery> delivered;
    std::map<int, std::vector<consensus::finalized_event>> finalized;
    std::vector<consensus::equivocation_event> equivocations;
};

/// One engine (validator `self` of an n-validator test_network) fed by hand.
struct single {
    test_network net;
    std::shared_ptr<memory_storage> store = std::make_shared<memory_storage>();
    std::shared_ptr<storage_faults> faults = std::make_shared<storage_faults>();
    std::shared_ptr<std::uint64_t> now = std::make_shared<std::uint64_t>(0);
    consensus::engine_options opts;
    std::optional<engine_t> eng;
    std::uint32_t self;

    single(int n, std::uint32_t self_index, consensus::engine_options o = {}) : net(n), opts(o), self(self_index) {
        restart();
    }

    /// Destroys the engine and creates a new one from the same storage.
    void restart() {
        eng.reset();
        auto c = shared_chain::open(net.genesis, make_mem_shared(store, faults)).value();
        eng.emplace(engine_t::create(std::move(c), net.validators[self], shared_clock{now}, opts).value());
    }

    /// A valid block for the next height, round `r`, built and signed by the
    /// scheduled proposer, timestamp genesis + `ts` ms.
    block make_block(std::uint32_t r, std::uint64_t ts, std::vector<vote_tx> txs = {}) const {
        const auto h = eng->chain().height() + 1;
        return eng->chain().build_block(r, 1'700'000'000'000ull + ts, std::move(txs),
                                        net.validators[net.genesis.proposer_index(h, r)]);
    }
    std::uint64_t next_height() const { return eng->chain().height() + 1; }
    std::uint32_t proposer(std::uint32_t r) const { return net.genesis.proposer_index(next_height(), r); }

    /// PROPOSAL(next height, r) of `b` signed by the scheduled proposer (or `from`).
    bytes proposal(const block& b, std::uint32_t r, std::vector<consensus::signed_round_change> just = {},
                   std::optional<std::uint32_t> from = std::nullopt) const {
        return signed_msg(net, from.value_or(proposer(r)), consensus::msg_type::proposal, next_height(), r,
                          consensus::encode(consensus::proposal_body{b, std::move(just)}));
    }
    bytes prepare(std::uint32_t from, std::uint32_t r, const hash32& bh) const {
        return signed_msg(net, from, consensus::msg_type::prepare, next_height(), r, consensus::encode_prepare(bh));
    }
    bytes commit(std::uint32_t from, std::uint32_t r, const hash32& bh) const {
        const auto seal = make_seal<S>(net.validators[from], from, net.genesis.chain_id, next_height(), r, bh);
        return signed_msg(net, from, consensus::msg_type::commit, next_height(), r,
                          consensus::encode(consensus::commit_body{bh, seal.sig}));
    }
    bytes round_change(std::uint32_t from, std::uint32_t r,
                       std::optional<consensus::prepared_certificate> pc = std::nullopt, bytes attachment = {}) const {
        return signed_msg(net, from, consensus::msg_type::round_change, next_height(), r,
                          consensus::encode(consensus::round_change_body{std::move(pc)}), std::move(attachment));
    }

    error_code deliver(const bytes& m, consensus::effects& fx) { return eng->on_message(m, fx); }
    error_code deliver(const bytes& m) {
        consensus::effects fx;
        return eng->on_message(m, fx);
    }

    /// The signed-state record as stored (what a restart would read).
    std::optional<consensus::signed_record> stored_record() const {
        auto raw = store->get_meta(consensus::record_key);
        if (!raw) return std::nullopt;
        auto r = consensus::decode_signed_record(*raw);
        if (!r) return std::nullopt;
        return *r;
    }
};

}  // namespace ballotchain::test
