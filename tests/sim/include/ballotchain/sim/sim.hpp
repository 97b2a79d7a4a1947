#pragma once
/// @file Deterministic simulator of a validator network: one seed drives the
/// message delays, drops, duplicates, partitions, crashes, restarts, the
/// Byzantine validator, local storage faults and the client load. Invariants
/// are checked after every event; a liveness phase after healing checks that
/// every submitted vote becomes final within a stated bound, and a catch-up
/// phase that every validator then reaches the agreed height.
///
/// The crypto suite is a template parameter: the INSECURE stand-in
/// (insecure_suite.hpp) by default, because Ed25519 would take most of the CPU
/// time; `--suite ed25519-sha256` runs the same seeds with the production suite.

#include <ballotchain/chain/trustee.hpp>
#include <ballotchain/consensus/engine.hpp>
#include <ballotchain/sim/insecure_suite.hpp>
#include <ballotchain/storage/faulty_storage.hpp>
#include <ballotchain/storage/memory_storage.hpp>
#include <ballotchain/storage/shared_storage.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <tuple>
#include <memory>
#include <queue>
#include <random>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace ballotchain::sim {

/// Simulated time shared by every node (core/clock.hpp).
using sim_clock = shared_clock;

/// Storage that outlives a crashed engine: every write is durable when it
/// returns (what SQLite in WAL with synchronous=FULL gives the real node),
/// unless a storage fault is injected (faulty_storage.hpp): then writes fail
/// with nothing written, or are written but reported failed (a failed fsync).
using sim_storage = faulty_storage<shared_storage<memory_storage>>;
static_assert(storage<sim_storage>);

/// Everything a run depends on. `derive(seed, n)` picks all of it from the seed.
struct options {
    std::uint64_t seed = 1;
    std::uint32_t validators = 4;
    std::uint64_t block_interval_ms = 1000;
    std::uint32_t max_block_txs = 32;
    std::uint64_t round_timeout_ms = 1000;
    std::uint64_t round_timeout_max_ms = 8000;
    std::uint64_t min_delay_ms = 1;
    std::uint64_t max_delay_ms = 50;
    double drop = 0.0;        ///< probability a message is lost (fault phase)
    double duplicate = 0.0;   ///< probability a message is delivered twice
    std::uint64_t fault_ms = 60'000;  ///< length of the fault phase
    double tx_per_s = 2.0;    ///< offered load during the fault phase
    std::uint32_t crashes = 0;     ///< crash+restart events in the fault phase
    std::uint32_t partitions = 0;  ///< partition+heal events in the fault phase
    bool byzantine = false;        ///< validator n-1 misbehaves (n >= 4 only)
    std::uint32_t storage_faults = 0;  ///< local disk faults (a validator's writes fail for a while)
    /// Restores: a validator's storage (chain + record) is copied (a backup), and later the
    /// validator is crashed and restarted from that older copy, its signed-state file kept, put
    /// back from the same backup, or lost (chosen by the seed). Not derived from the seed: 0
    /// unless given.
    std::uint32_t restores = 0;
    /// Runs without the double-sign protection against restores (no signed-state file, no
    /// start-up hold): shows what the protection prevents (`--restores` seeds that equivocate).
    bool unprotected = false;
    /// engine_options::startup_hold_ms of every validator (0: off, as the validator's default).
    std::uint64_t startup_hold_ms = 0;
    /// The signed-state file at a restore: 0 the current one kept (the documented procedure),
    /// 1 the backup's, 2 lost, 3 one of these chosen by the seed.
    std::uint32_t restore_file = 3;
    std::uint64_t resubmit_ms = 10'000;  ///< client re-sends a vote not final after this long
    bool double_votes = true;  ///< every 7th vote repeats an earlier voter (must be refused)
    /// A secret-ballot election runs through the fault phase (docs/election-protocol.md): the
    /// validators are its trustees, every other vote is an encrypted ballot once the key is
    /// ready, and the decrypted tally must match the final ballots. With `byzantine`, the
    /// Byzantine validator also posts a lying decryption share (it must be refused).
    bool encrypted = false;
    /// Validator-set changes (protocol.md §12) submitted one after another from the fault phase
    /// on, each once the previous is in effect: add a validator, remove one, or rotate a key
    /// (remove one, add a new key), chosen by the seed. Every node a change will add runs from
    /// the start, following the chain without an id. Not derived from the seed: 0 unless given.
    std::uint32_t set_changes = 0;
    bool verbose = false;

    static options derive(std::uint64_t seed, std::uint32_t n) {
        std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + n);
        auto pick = [&](auto... v) {
            using T = std::common_type_t<decltype(v)...>;
            const T arr[] = {static_cast<T>(v)...};
            return arr[rng() % sizeof...(v)];
        };
        options o;
        o.seed = seed;
        o.validators = n;
        o.block_interval_ms = pick(200, 1000, 5000);
        o.max_block_txs = pick(4u, 32u);
        o.round_timeout_ms = pick(500, 1000, 2000);
        o.round_timeout_max_ms = o.round_timeout_ms * pick(4, 8);
        o.max_delay_ms = pick(5, 50, 300);
        o.min_delay_ms = 1;
        o.drop = pick(0.0, 0.01, 0.05, 0.2);
        o.duplicate = pick(0.0, 0.05);
        o.fault_ms = pick(30'000, 60'000);
        o.tx_per_s = pick(1.0, 3.0, 8.0);
        o.crashes = pick(0u, 1u, 2u, 3u);
        o.partitions = n > 1 ? pick(0u, 1u, 2u) : 0u;
        o.byzantine = n >= 4 && pick(0, 1) == 1;
        o.storage_faults = pick(0u, 0u, 1u, 2u);  // picked last: the picks above stay what they were
        return o;
    }

    std::string describe() const {
        std::ostringstream os;
        os << "--seed=" << seed << " --validators=" << validators << " --block-interval-ms=" << block_interval_ms
           << " --max-block-txs=" << max_block_txs << " --round-timeout-ms=" << round_timeout_ms
           << " --round-timeout-max-ms=" << round_timeout_max_ms << " --min-delay-ms=" << min_delay_ms
           << " --max-delay-ms=" << max_delay_ms << " --drop=" << drop << " --duplicate=" << duplicate
           << " --fault-ms=" << fault_ms << " --tx-per-s=" << tx_per_s << " --crashes=" << crashes
           << " --partitions=" << partitions << " --byzantine=" << (byzantine ? 1 : 0)
           << " --storage-faults=" << storage_faults;
        if (restores) os << " --restores=" << restores;
        if (unprotected) os << " --unprotected";
        if (startup_hold_ms) os << " --startup-hold-ms=" << startup_hold_ms;
        if (restores) os << " --restore-file=" << (restore_file == 0 ? "kept" : restore_file == 1 ? "backup" : restore_file == 2 ? "lost" : "any");
        if (set_changes) os << " --set-changes=" << set_changes;
        return os.str();
    }
};

struct report {
    bool ok = true;
    std::string failure;
    std::uint64_t final_height = 0;
    std::uint64_t txs_submitted = 0;
    std::uint64_t txs_final = 0;
    std::uint64_t messages = 0;
    std::uint64_t dropped = 0;
    std::uint64_t crashes = 0;
    std::uint64_t storage_faults = 0;  ///< writes that failed on injected faults
    std::uint64_t round_changes = 0;
    std::uint64_t equivocations = 0;
    std::uint64_t restores = 0;        ///< validators restarted from an older copy of their storage
    bool equivocated = false;          ///< an honest validator signed two different messages for one (height, round, kind)
    std::uint64_t virtual_ms = 0;
    std::uint64_t liveness_bound_ms = 0;
    std::uint64_t liveness_ms = 0;  ///< time from heal until the last vote was final
    std::uint64_t max_latency_ms = 0;
    std::string election;  ///< encrypted runs: how the election ended (phase, ballots, tally)
    std::uint64_t set_changes_applied = 0;   ///< validator-set changes in effect on the agreed chain
    std::uint64_t set_changes_too_late = 0;  ///< records refused for landing at/after their effective height
    std::uint64_t set_changes_refused = 0;   ///< submissions a node refused on the spot (e.g. it was behind)
    std::uint64_t down_across_change = 0;    ///< validators down while a change was made, restarted after it
    std::uint64_t validators_final = 0;      ///< size of the last set on the agreed chain
    std::uint64_t final_in_fault_phase = 0;   ///< votes final before healing (throughput)
    std::vector<std::uint64_t> latencies_ms;  ///< submit → first final, per acknowledged vote
};

/// One run of one seed. @tparam Suite the crypto suite of every validator (`suite`).
template <suite Suite = insecure_sim_suite>
class simulation {
public:
    using engine_t = consensus::engine<Suite, sim_storage, sim_clock>;
    using chain_t = ledger::blockchain<Suite, sim_storage>;

    explicit simulation(options o) : o_(o), rng_(o.seed), now_(std::make_shared<std::uint64_t>(0)) {
        std::mt19937_64 keyrng(o.seed ^ 0x5eed);
        auto seeded_key = [&] {
            secret_key sk;
            for (auto& b : sk.data) b = static_cast<byte>(keyrng());
            secrets_.push_back(sk);
            return Suite::from_secret(sk);
        };
        g_.chain_id = 1337;
        g_.block_interval_ms = o.block_interval_ms;
        g_.max_block_txs = o.max_block_txs;
        g_.round_timeout_ms = o.round_timeout_ms;
        g_.round_timeout_max_ms = o.round_timeout_max_ms;
        for (std::uint32_t i = 0; i < o.validators; ++i) {
            keys_.push_back(seeded_key());
            g_.validators.push_back({"validator-" + std::to_string(i + 1), keys_.back().public_key()});
        }
        submitter_ = seeded_key();
        g_.submitters.push_back(submitter_.public_key());
        if (o.byzantine) byz_ = o.validators - 1;
        plan_set_changes(seeded_key);
        nodes_.resize(keys_.size());
        for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
            nodes_[i].store = std::make_shared<memory_storage>();
            nodes_[i].faults = std::make_shared<storage_faults>();
            nodes_[i].group = 0;
        }
        for (std::uint32_t i = 0; i < o.validators; ++i) trustees_.emplace_back(g_, i + 1, keys_[i], secrets_[i]);
        ref_ = validator_schedule(g_);
        ref_at_.emplace_back(0, ref_);
    }

    report run() {
        for (std::uint32_t i = 0; i < nodes_.size(); ++i)
            if (!start_node(i)) return rep_;
        schedule_faults();
        schedule_set_changes();
        if (o_.encrypted) schedule_election();
        schedule_load();
        const std::uint64_t heal = o_.fault_ms;
        push(heal, [this, heal] { heal_all(heal); });
        while (rep_.ok && !q_.empty()) {
            auto ev = q_.top();
            q_.pop();
            *now_ = ev.at;
            ev.fn();
            if (!rep_.ok) break;
            if (healed_ && pending_.empty() && change_next_ >= plan_.size() && *now_ >= heal) {
                rep_.liveness_ms = *now_ - heal;
                break;
            }
            if (healed_ && *now_ > heal + rep_.liveness_bound_ms) {
                std::ostringstream os;
                os << "liveness: " << pending_.size() << " submitted votes not final within "
                   << rep_.liveness_bound_ms << " ms after healing (height "
                   << (chain_hashes_.empty() ? 0 : chain_hashes_.size()) << ")";
                if (change_next_ < plan_.size())
                    os << "; validator-set changes in effect: " << change_next_ << " of " << plan_.size();
                fail(os.str());
            }
        }
        if (rep_.ok && !pending_.empty()) fail("liveness: event queue ran dry with votes pending");
        if (rep_.ok) catch_up_phase();
        if (rep_.ok && o_.encrypted) election_phase();
        if (rep_.ok) final_checks();
        rep_.virtual_ms = *now_;
        rep_.final_height = chain_hashes_.size();
        rep_.validators_final = ref_.at(chain_hashes_.size() + 1).n();
        for (auto& n : nodes_) {
            rep_.storage_faults += n.faults->injected;
            if (n.eng) {
                rep_.round_changes += n.eng->stats().round_changes;
                rep_.equivocations += n.eng->stats().equivocations;
            }
        }
        return rep_;
    }

    const options& opts() const { return o_; }

private:
    struct node_state {
        std::shared_ptr<memory_storage> store;
        /// The signed-state file (consensus/signed_state.hpp): outlives crashes like the store.
        std::shared_ptr<std::optional<consensus::signed_record>> file =
            std::make_shared<std::optional<consensus::signed_record>>();
        std::shared_ptr<storage_faults> faults;
        std::optional<engine_t> eng;
        std::uint64_t incarnation = 0;
        std::uint64_t timer_gen[3] = {0, 0, 0};
        int group = 0;
        bool held = false;  ///< kept down until a validator-set change is in effect (no scheduled restart)
    };
    struct event {
        std::uint64_t at;
        std::uint64_t seq;
        std::function<void()> fn;
        bool operator>(const event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
    };

    void push(std::uint64_t at, std::function<void()> fn) { q_.push({at, seq_++, std::move(fn)}); }
    std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
        return lo + (hi > lo ? rng_() % (hi - lo + 1) : 0);
    }
    bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

    void fail(std::string why) {
        if (!rep_.ok) return;
        rep_.ok = false;
        rep_.failure = "t=" + std::to_string(*now_) + "ms: " + std::move(why);
    }
    void trace(const std::string& s) {
        if (o_.verbose) std::fprintf(stderr, "[%8llu] %s\n", static_cast<unsigned long long>(*now_), s.c_str());
    }

    bool start_node(std::uint32_t i) {
        auto& n = nodes_[i];
        auto c = chain_t::open(g_, sim_storage(shared_storage<memory_storage>(n.store), n.faults));
        if (!c) {
            fail("node " + std::to_string(i) + " cannot reopen its chain: " + c.error().message());
            return false;
        }
        consensus::engine_options eo;
        eo.mempool_capacity = 10'000;
        consensus::signed_state_io sio;
        if (!o_.unprotected) {
            eo.startup_hold_ms = o_.startup_hold_ms;
            sio.loaded = *n.file;
            sio.save = [file = n.file](const consensus::signed_record& st) -> result<void> {
                *file = st;
                return {};
            };
        }
        auto e = engine_t::create(std::move(*c), keys_[i], sim_clock{now_}, eo, std::move(sio));
        if (!e) {
            fail("node " + std::to_string(i) + " cannot restore: " + e.error().message());
            return false;
        }
        n.eng.emplace(std::move(*e));
        ++n.incarnation;
        // Durability: what it stored must be a prefix of the agreed chain. A block
        // nobody saw final yet (a write reported failed that reached the disk, n = 1)
        // is final now: its votes count as final from here.
        for (std::uint64_t h = 1; h <= n.eng->chain().height() && rep_.ok; ++h) {
            const hash32 bh = *n.eng->chain().hash_at(h);
            if (h != chain_hashes_.size() + 1) {
                check_agreement(i, h, bh);
                continue;
            }
            auto fb = n.eng->chain().block_at(h);
            if (!fb) {
                fail("node " + std::to_string(i) + " cannot load its block " + std::to_string(h));
                return false;
            }
            consensus::finalized_event f{std::move(*fb), bh, {}, true};
            for (const auto& tx : f.fb.blk.txs) f.tx_hashes.push_back(tx_hash<Suite>(tx));
            trace("node " + std::to_string(i) + " holds block " + std::to_string(h) + " that nobody saw final");
            on_final(i, f);
        }
        if (!rep_.ok) return false;
        consensus::effects fx;
        n.eng->start(fx);
        apply(i, fx);
        sessions_changed();
        return true;
    }

    void crash(std::uint32_t i) {
        auto& n = nodes_[i];
        if (!n.eng) return;
        trace("crash node " + std::to_string(i));
        n.eng.reset();
        ++n.incarnation;
        ++rep_.crashes;
        sessions_changed();
    }

    // ---- P2P sessions -------------------------------------------------------------
    // A session between two nodes is up while both run, are on one side of any partition and
    // each one's chain knows the other's key (the transport refuses an unknown key: a node a
    // change adds is taken once the peer's chain holds the change). When one comes up, both
    // engines are told (engine::on_peer_connected), as the validator's transport does: STATUS,
    // pool and last ROUND-CHANGE to the peer, and a node with no id forgives its failed fetches.

    /// Re-derives the sessions once the current event is done (crash, start, partition, a block).
    void sessions_changed() {
        if (sessions_queued_) return;
        sessions_queued_ = true;
        push(*now_, [this] {
            sessions_queued_ = false;
            refresh_sessions();
        });
    }

    void refresh_sessions() {
        const std::size_t n = nodes_.size();
        sessions_.resize(n);
        for (auto& row : sessions_) row.resize(n, 0);
        for (std::uint32_t a = 0; a < n && rep_.ok; ++a)
            for (std::uint32_t b = a + 1; b < n && rep_.ok; ++b) {
                std::optional<std::uint32_t> id_b, id_a;  // b's id as a's chain knows it, and a's as b's does
                if (nodes_[a].eng && nodes_[b].eng && connected(a, b)) {
                    id_b = nodes_[a].eng->chain().validators().id_of(keys_[b].public_key());
                    id_a = nodes_[b].eng->chain().validators().id_of(keys_[a].public_key());
                }
                const bool up = id_b && id_a;
                const bool was = sessions_[a][b] != 0;
                sessions_[a][b] = sessions_[b][a] = up ? 1 : 0;
                if (!up || was) continue;
                trace("session " + std::to_string(a) + " - " + std::to_string(b) + " up");
                peer_connected(a, *id_b);
                if (rep_.ok) peer_connected(b, *id_a);
            }
    }

    void peer_connected(std::uint32_t i, std::uint32_t peer) {
        auto& x = nodes_[i];
        if (!x.eng) return;
        consensus::effects fx;
        const auto before = mark(*x.eng);
        x.eng->on_peer_connected(peer, fx);
        apply(i, fx, before);
    }

    bool connected(std::uint32_t a, std::uint32_t b) const { return nodes_[a].group == nodes_[b].group; }

    void schedule_faults() {
        const std::uint32_t n = o_.validators;
        for (std::uint32_t k = 0; k < o_.crashes; ++k) {
            const std::uint32_t who = static_cast<std::uint32_t>(rng_() % n);
            const std::uint64_t at = uniform(1000, o_.fault_ms - 1000);
            const std::uint64_t down = uniform(100, 15'000);
            push(at, [this, who] { crash(who); });
            push(std::min(at + down, o_.fault_ms - 1), [this, who] {
                if (!nodes_[who].eng && !nodes_[who].held) {
                    trace("restart node " + std::to_string(who));
                    start_node(who);
                }
            });
        }
        for (std::uint32_t k = 0; k < o_.storage_faults; ++k) {
            // One validator's disk fails for a while: every write, only the final
            // blocks, or only the signed-state record; writes either fail outright
            // or reach the disk but report failure (a failed fsync).
            const std::uint32_t who = static_cast<std::uint32_t>(rng_() % n);
            const std::uint64_t at = uniform(1000, o_.fault_ms - 1000);
            const std::uint64_t len = uniform(500, 20'000);
            const auto mode = rng_() % 2 ? storage_faults::mode::write_fails : storage_faults::mode::sync_fails;
            const auto target = rng_() % 3;
            push(at, [this, who, mode, target] {
                auto& f = *nodes_[who].faults;
                trace("storage fault on node " + std::to_string(who) + ": " +
                      (target == 0 ? "all writes" : target == 1 ? "final blocks" : "signed-state record") +
                      (mode == storage_faults::mode::write_fails ? " fail" : " fail after reaching the disk"));
                f.clear();
                if (target != 2) f.appends = mode;
                if (target != 1) f.meta = mode;
                if (target == 2) f.meta_key = std::string(consensus::record_key);
            });
            push(std::min(at + len, o_.fault_ms - 1), [this, who] {
                trace("storage fault on node " + std::to_string(who) + " cleared");
                nodes_[who].faults->clear();
            });
        }
        for (std::uint32_t k = 0; k < o_.restores; ++k) {
            // A backup of one validator's storage, later put back under load: crash, restore the
            // older copy (chain + record), keep / restore / lose the signed-state file, restart.
            const std::uint32_t who = static_cast<std::uint32_t>(rng_() % n);
            const std::uint64_t at = uniform(1000, o_.fault_ms - 3000);
            const std::uint64_t back = std::min(at + uniform(1000, 20'000), o_.fault_ms - 2);
            const std::uint64_t down = std::min(back + uniform(100, 5000), o_.fault_ms - 1);
            const auto pick = rng_() % 3;
            const auto file_mode = o_.restore_file < 3 ? o_.restore_file : pick;  // 0: current, 1: backup's, 2: none
            auto copy = std::make_shared<std::pair<memory_storage, std::optional<consensus::signed_record>>>();
            push(at, [this, who, copy] {
                trace("backup of node " + std::to_string(who));
                copy->first = *nodes_[who].store;
                copy->second = *nodes_[who].file;
            });
            push(back, [this, who, copy, file_mode] {
                trace("restore node " + std::to_string(who) + " from its backup (height " +
                      std::to_string(copy->first.head().value_or(0)) + "), signed-state file " +
                      (file_mode == 0 ? "kept" : file_mode == 1 ? "from the backup" : "lost"));
                crash(who);
                *nodes_[who].store = copy->first;
                if (file_mode == 1) *nodes_[who].file = copy->second;
                if (file_mode == 2) nodes_[who].file->reset();
                ++rep_.restores;
            });
            push(down, [this, who] {
                if (!nodes_[who].eng && !nodes_[who].held) {
                    trace("restart node " + std::to_string(who) + " after its restore");
                    start_node(who);
                }
            });
        }
        for (std::uint32_t k = 0; k < o_.partitions; ++k) {
            const std::uint64_t at = uniform(1000, o_.fault_ms - 1000);
            const std::uint64_t len = uniform(1000, 20'000);
            std::vector<int> groups(nodes_.size());  // every node, the ones set changes add too
            for (auto& g : groups) g = static_cast<int>(rng_() % 2);
            push(at, [this, groups] {
                trace("partition");
                for (std::size_t i = 0; i < nodes_.size(); ++i) nodes_[i].group = groups[i];
                sessions_changed();
            });
            push(std::min(at + len, o_.fault_ms - 1), [this] {
                trace("heal partition");
                for (auto& x : nodes_) x.group = 0;
                sessions_changed();
            });
        }
    }

    void schedule_load() {
        if (o_.tx_per_s <= 0) return;
        const double gap = 1000.0 / o_.tx_per_s;
        std::uint64_t k = 0;
        for (double t = 500; t < static_cast<double>(o_.fault_ms); t += gap) {
            const std::uint64_t at = static_cast<std::uint64_t>(t);
            const std::uint64_t id = k++;
            push(at, [this, id] { submit_new(id); });
        }
    }

    vote_tx make_tx(std::uint64_t id) {
        if (o_.encrypted && id % 2 == 0)
            if (auto b = make_ballot(id)) return *b;
        vote_tx tx;
        tx.chain_id = g_.chain_id;
        tx.election_id = 1 + id % 3;
        tx.candidate_id = id % 5;
        tx.encrypted_vote = bytes(16, static_cast<byte>(id));
        // voter_tag: distinct per id; every 7th vote is a second vote by an earlier voter (must be refused).
        const std::uint64_t voter = (o_.double_votes && id % 7 == 6 && id >= 7) ? id - 7 : id;
        tx.voter_tag = Suite::hash(bytes{static_cast<byte>(voter), static_cast<byte>(voter >> 8),
                                     static_cast<byte>(voter >> 16), static_cast<byte>(tx.election_id)});
        tx.timestamp_ms = 1'700'000'000'000ull + *now_;
        sign_tx<Suite>(tx, submitter_);
        return tx;
    }

    // ---- the secret-ballot election (options::encrypted) -----------------------------------

    static constexpr std::uint64_t election_id = 100;
    std::uint64_t wall() const { return sim_clock{now_}.wall_ms(); }

    /// The definition goes in at 200 ms (acknowledged and re-sent like a vote); the ceremony has
    /// half the fault phase, voting until seven eighths of it; the trustees act every 300 ms.
    void schedule_election() {
        const std::uint64_t w0 = sim_clock{now_}.wall_offset_ms;
        def_ = election::definition{election::ballot_kind::encrypted, "sim",
                                    {{1, "a"}, {2, "b"}, {3, "c"}},
                                    w0 + o_.fault_ms / 2, w0 + o_.fault_ms * 7 / 8, w0 + o_.fault_ms / 2,
                                    static_cast<std::uint32_t>(g_.quorum())};
        push(200, [this] {
            auto tx = election::definition_record<Suite>(g_, election_id, def_, submitter_, wall());
            const hash32 th = tx_hash<Suite>(tx);
            auto who = random_live_honest();
            if (!who) return;
            submitted_.emplace(th, tx);
            pending_.emplace(th, *now_);
            consensus::effects fx;
            (void)nodes_[*who].eng->submit(tx, fx);
            apply(*who, fx);
            schedule_resubmit(th);
        });
        // Ballots not final when voting ends cannot count any more: no longer pending.
        push(o_.fault_ms * 7 / 8 + 1, [this] {
            for (auto it = pending_.begin(); it != pending_.end();) {
                const auto& tx = submitted_.at(it->first);
                if (tx.kind == tx_kind::ballot) {
                    ++missed_window_;
                    it = pending_.erase(it);
                } else {
                    ++it;
                }
            }
        });
        trustee_tick();
    }

    void trustee_tick() {
        push(*now_ + 300, [this] {
            for (std::uint32_t i = 0; i < trustees_.size(); ++i) {
                auto& n = nodes_[i];
                if (!n.eng || n.eng->storage_failure()) continue;
                const auto& pool = n.eng->pool();
                auto txs = trustees_[i].due(n.eng->chain().election_state(), wall(),
                                            [&pool](std::uint64_t e, const hash32& t) { return pool.contains_vote(e, t); });
                for (auto& tx : txs) {
                    if (byz_ && i == *byz_ && tx.kind == tx_kind::decryption) {
                        lie(i, tx);
                        continue;
                    }
                    submitted_.emplace(tx_hash<Suite>(tx), tx);
                    consensus::effects fx;
                    (void)n.eng->submit(std::move(tx), fx);
                    apply(i, fx);
                }
            }
            trustee_tick();
        });
    }

    /// The Byzantine trustee's decryption with one share moved: every honest validator refuses it.
    void lie(std::uint32_t i, vote_tx tx) {
        auto d = election::decode_decryption(tx.encrypted_vote).value();
        d.d[0] = d.d[0] + ristretto::point::generator();
        tx.encrypted_vote = election::encode(d);
        sign_tx<Suite>(tx, keys_[i]);
        for (std::uint32_t j = 0; j < nodes_.size(); ++j) {
            if (j == i || !nodes_[j].eng) continue;
            consensus::effects fx;
            // Refused: invalid_decryption_share, or (a validator behind) not yet open there.
            if (nodes_[j].eng->submit(tx, fx)) return fail("node " + std::to_string(j) + " took a lying decryption share");
            ++lies_refused_;
            apply(j, fx);
        }
    }

    /// A ballot for voter `id` (choice id mod 3) under the key a live honest node holds, while
    /// voting is open with a margin for the ballot to become final; otherwise nothing.
    std::optional<vote_tx> make_ballot(std::uint64_t id) {
        const std::uint64_t w = wall();
        if (w < def_.start_ms || w + o_.fault_ms / 8 >= def_.end_ms) return std::nullopt;
        auto who = random_live_honest();
        if (!who) return std::nullopt;
        const auto* e = nodes_[*who].eng->chain().election_state().find(election_id);
        if (!e || e->ph != election::phase::ready) return std::nullopt;
        bytes voter{0xb0, static_cast<byte>(id), static_cast<byte>(id >> 8), static_cast<byte>(id >> 16)};
        auto tx = election::ballot_record<Suite>(g_, election_id, e->key, 3, static_cast<std::uint32_t>(id % 3),
                                                 Suite::hash(voter), submitter_, w);
        ballot_choice_[tx_hash<Suite>(tx)] = static_cast<std::uint32_t>(id % 3);
        return tx;
    }

    /// After the votes: run until every live validator holds the decrypted tally (or the key
    /// ceremony failed), then check it against the final ballots.
    void election_phase() {
        const std::uint64_t deadline = std::max(*now_, def_.end_ms - sim_clock{now_}.wall_offset_ms) + 120'000;
        auto undecided = [&]() -> std::optional<std::uint32_t> {
            for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
                if (!nodes_[i].eng) return i;
                const auto* e = nodes_[i].eng->chain().election_state().find(election_id);
                if (!e || e->ph == election::phase::ceremony || (e->ph == election::phase::ready && !e->tally)) return i;
            }
            return std::nullopt;
        };
        while (rep_.ok && undecided() && !q_.empty() && q_.top().at <= deadline) {
            auto ev = q_.top();
            q_.pop();
            *now_ = ev.at;
            ev.fn();
        }
        if (!rep_.ok) return;
        if (auto i = undecided()) return fail("election: node " + std::to_string(*i) + " has no tally 120 s after the end");
        std::array<std::uint64_t, 3> expected{};
        std::uint64_t ballots = 0;
        for (const auto& [th, choice] : ballot_choice_)
            if (final_txs_.contains(th)) {
                ++expected[choice];
                ++ballots;
            }
        for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
            const auto& e = *nodes_[i].eng->chain().election_state().find(election_id);
            if (e.ph == election::phase::failed) {
                if (ballots != 0) return fail("election: ballots final in an election whose key ceremony failed");
                rep_.election = "key ceremony failed: " + std::to_string(e.dealings.size()) + " dealings, " +
                                std::to_string(e.disqualified.size()) + " disqualified, " +
                                std::to_string(nodes_[i].eng->chain().election_state().trustee_keys().size()) +
                                " trustee keys, defined " + std::to_string(e.defined_ms - sim_clock{now_}.wall_offset_ms) +
                                " ms, deadline " + std::to_string(e.def.key_deadline_ms - sim_clock{now_}.wall_offset_ms) + " ms";
                continue;
            }
            const std::vector<std::uint64_t> want(expected.begin(), expected.end());
            if (e.ballots != ballots || *e.tally != want)
                return fail("election: node " + std::to_string(i) + " tallied " + std::to_string(e.ballots) +
                            " ballots differently from the final ones");
            std::ostringstream os;
            os << "ready, qualified " << e.qualified.size() << ", " << ballots << " ballots (" << missed_window_
               << " missed the window), tally " << want[0] << "/" << want[1] << "/" << want[2] << " by";
            for (auto j : e.decrypted_by) os << " " << j;
            if (byz_) os << "; " << lies_refused_ << " lying shares refused";
            rep_.election = os.str();
        }
    }

    /// A live honest validator of the set deciding its next height: where a client sends its
    /// votes. (Not a removed one: a vote it already holds is answered duplicate_tx and not
    /// gossiped again, and it runs no rounds that would re-gossip it.)
    std::optional<std::uint32_t> random_live_honest() {
        std::vector<std::uint32_t> live;
        for (std::uint32_t i = 0; i < nodes_.size(); ++i)
            if (nodes_[i].eng && (!byz_ || i != *byz_) && nodes_[i].eng->active()) live.push_back(i);
        if (live.empty()) return std::nullopt;
        return live[rng_() % live.size()];
    }

    void submit_new(std::uint64_t id) {
        vote_tx tx = make_tx(id);
        const hash32 th = tx_hash<Suite>(tx);
        // A second vote by one voter in one election is never acknowledged twice.
        const auto vk = std::make_pair(tx.election_id, tx.voter_tag);
        auto who = random_live_honest();
        if (!who) return;  // nobody to take it: the backend would keep it on its fallback chain
        // Record it first: with n = 1 the vote can become final inside submit().
        const bool second = acked_votes_.contains(vk);
        submitted_.emplace(th, tx);
        if (!second) pending_.emplace(th, *now_);
        consensus::effects fx;
        auto r = nodes_[*who].eng->submit(tx, fx);
        if (!r) {
            // Refused (e.g. a second vote while the first is pending): not acknowledged.
            if (!final_txs_.contains(th)) {
                submitted_.erase(th);
                pending_.erase(th);
            }
            apply(*who, fx);
            return;
        }
        if (second) second_votes_.insert(th);
        acked_votes_.insert(vk);
        ++rep_.txs_submitted;
        apply(*who, fx);
        schedule_resubmit(th);
    }

    void schedule_resubmit(const hash32& th) {
        push(*now_ + o_.resubmit_ms, [this, th] {
            if (!pending_.contains(th)) return;
            if (auto who = random_live_honest()) {
                consensus::effects fx;
                auto r = nodes_[*who].eng->submit(submitted_.at(th), fx);
                if (o_.verbose) trace("re-send of a pending vote to node " + std::to_string(*who) + ": " + (r ? std::string("taken") : r.error().message()));
                apply(*who, fx);
            }
            schedule_resubmit(th);
        });
    }

    void heal_all(std::uint64_t heal) {
        trace("heal all: restart crashed nodes, end partitions, no more drops");
        healed_ = true;
        o_.drop = 0;
        o_.duplicate = 0;
        for (auto& x : nodes_) {
            x.group = 0;
            x.held = false;
        }
        sessions_changed();
        // Disks work again; a validator still failed (e.g. a write that reached
        // the disk but reported failure) is restarted, as its operator would.
        for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
            nodes_[i].faults->clear();
            if (nodes_[i].eng && nodes_[i].eng->storage_failure()) crash(i);
        }
        for (std::uint32_t i = 0; i < nodes_.size(); ++i)
            if (!nodes_[i].eng) start_node(i);
        // Bound: enough rounds to get past any raised round at max timeout, then
        // one block per interval for the backlog, with slack for one bad proposer turn per block.
        const std::uint64_t backlog_blocks = pending_.size() / o_.max_block_txs + 2;
        const std::uint64_t per_block =
            o_.block_interval_ms + 2 * o_.round_timeout_ms + 4 * o_.max_delay_ms + (byz_ ? o_.round_timeout_max_ms : 0);
        rep_.liveness_bound_ms = 4 * o_.round_timeout_max_ms + o_.resubmit_ms + backlog_blocks * per_block;
        // Each change still to make: a pause before it, a re-send, its lead of at most 9 heights.
        rep_.liveness_bound_ms += (plan_.size() - change_next_) * (change_pause_ms + o_.resubmit_ms + 10 * per_block);
        (void)heal;
    }

    // ---- validator-set changes (options::set_changes, protocol.md §12) ----------------------

    struct planned_change {
        std::vector<std::uint32_t> add;     ///< nodes to add (each gets the id equal to its node number)
        std::vector<std::uint32_t> remove;  ///< ids to remove
    };
    static constexpr std::uint64_t change_pause_ms = 3000;  ///< at most this long between two changes

    /// Picks every change up front, since the nodes they add run from the start: add, remove or
    /// rotate (remove one and add a new key), keeping every set non-empty and, while the
    /// Byzantine validator is in it, at least 4 strong: f stays within its bound and the other
    /// members (honest, all up after healing) are a quorum, so liveness is still owed.
    template <class KeyFn>
    void plan_set_changes(KeyFn& seeded_key) {
        if (o_.set_changes == 0) return;
        g_.empty_blocks = true;  // heights advance without votes, so a scheduled set takes effect
        std::mt19937_64 prng(o_.seed * 0x2545f4914f6cdd1dull + 0x5e7);
        std::vector<std::uint32_t> set;
        for (std::uint32_t i = 0; i < o_.validators; ++i) set.push_back(i);
        for (std::uint32_t k = 0; k < o_.set_changes; ++k) {
            auto kind = prng() % 3;  // 0 add, 1 remove, 2 rotate
            const bool byz_in = byz_ && std::find(set.begin(), set.end(), *byz_) != set.end();
            std::vector<std::uint32_t> removable;
            for (auto x : set) {
                const std::size_t after = set.size() - (kind == 1 ? 1 : 0);
                if (after >= 1 && (!byz_in || x == *byz_ || after >= 4)) removable.push_back(x);
            }
            if (kind != 0 && removable.empty()) kind = 0;
            planned_change c;
            if (kind != 0) c.remove.push_back(removable[prng() % removable.size()]);
            if (kind != 1) {
                c.add.push_back(static_cast<std::uint32_t>(keys_.size()));
                keys_.push_back(seeded_key());
            }
            std::erase_if(set, [&c](std::uint32_t x) { return std::find(c.remove.begin(), c.remove.end(), x) != c.remove.end(); });
            set.insert(set.end(), c.add.begin(), c.add.end());
            plan_.push_back(std::move(c));
        }
    }

    std::uint64_t agreed_height() const { return chain_hashes_.size(); }

    void schedule_set_changes() {
        if (plan_.empty()) return;
        push(uniform(1000, std::max<std::uint64_t>(1000, o_.fault_ms / 4)), [this] { start_change(); });
    }

    /// Starts the next planned change. The first one is made while a member of the current set
    /// is down (the case issue 16 names), when the others still make a quorum: it is restarted
    /// once the change is in effect and must catch up across it with both sets' certificates.
    void start_change() {
        if (change_next_ >= plan_.size()) return;
        const auto& cur = ref_.at(agreed_height() + 1);
        const auto& pc = plan_[change_next_];
        if (change_next_ == 0 && !healed_) {
            std::vector<std::uint32_t> candidates;
            std::size_t honest_up = 0;
            for (auto id : cur.members) {
                if ((byz_ && id == *byz_) || !nodes_[id].eng) continue;
                ++honest_up;
                if (std::find(pc.remove.begin(), pc.remove.end(), id) == pc.remove.end()) candidates.push_back(id);
            }
            if (!candidates.empty() && honest_up - 1 >= cur.quorum()) {
                change_down_ = candidates[rng_() % candidates.size()];
                trace("validator " + std::to_string(*change_down_) + " down for the first validator-set change");
                nodes_[*change_down_].held = true;
                crash(*change_down_);
            }
        }
        make_change_record();
    }

    /// A record of the planned change: effective 1..8 heights after the height being decided,
    /// approved by a quorum of the set active now (chosen by the seed), sent by one of its members.
    void make_change_record() {
        const std::uint64_t h = agreed_height();
        const auto& cur = ref_.at(h + 1);
        const auto& pc = plan_[change_next_];
        validator_change c;
        c.sequence = ref_.changes() + 1;
        c.effective_height = h + 1 + uniform(1, 8);
        for (auto x : pc.add) c.add.push_back({"validator-" + std::to_string(x + 1), keys_[x].public_key()});
        c.remove = pc.remove;
        std::vector<std::uint32_t> approvers = cur.members;
        while (approvers.size() > cur.quorum()) approvers.erase(approvers.begin() + static_cast<std::ptrdiff_t>(rng_() % approvers.size()));
        validator_change_record rec{c, {}};
        const bytes msg = change_message(g_.chain_id, c);
        for (auto a : approvers) rec.approvals.push_back({a, Suite::sign(keys_[a], msg)});
        vote_tx tx;
        tx.chain_id = g_.chain_id;
        tx.kind = tx_kind::validator_set;
        tx.voter_tag = change_slot_tag(c.sequence);
        tx.encrypted_vote = encode(rec);
        tx.timestamp_ms = 1'700'000'000'000ull + *now_;
        sign_tx<Suite>(tx, keys_[cur.members[rng_() % cur.n()]]);
        submitted_.emplace(tx_hash<Suite>(tx), tx);
        change_tx_ = tx;
        change_eff_ = c.effective_height;
        change_recorded_ = false;
        trace("validator-set change " + std::to_string(c.sequence) + " submitted: effective at height " +
              std::to_string(c.effective_height) + ", adds " + std::to_string(c.add.size()) + ", removes " +
              std::to_string(c.remove.size()));
        send_change(++change_gen_);
    }

    /// Sends the record in flight to a live node, and again every resubmit_ms until it is final
    /// or re-picked (one record per sequence number: re-sends are harmless).
    void send_change(std::uint64_t gen) {
        if (gen != change_gen_ || change_recorded_ || !change_tx_) return;
        if (auto who = random_live_honest()) {
            consensus::effects fx;
            if (!nodes_[*who].eng->submit(*change_tx_, fx)) ++rep_.set_changes_refused;
            apply(*who, fx);
        }
        push(*now_ + o_.resubmit_ms, [this, gen] { send_change(gen); });
    }

    /// A final validator_set record: applied to the reference schedule (from the agreed chain).
    void on_change_final(std::uint64_t h, const hash32& th, const vote_tx& tx) {
        auto rec = decode_validator_change(tx.encrypted_vote);
        if (!rec) return fail("a final validator-set record does not decode");
        if (auto ec = ref_.check(*rec, h)) return fail("a final validator-set record breaks a rule: " + ec.message());
        if (!change_tx_ || tx_hash<Suite>(*change_tx_) != th)
            return fail("a validator-set record final that is not the one in flight");
        ref_.apply(*rec, h);
        ref_at_.emplace_back(h, ref_);
        change_recorded_ = true;
        trace("validator-set change " + std::to_string(rec->change.sequence) + " recorded at height " +
              std::to_string(h) + ", effective at " + std::to_string(rec->change.effective_height));
    }

    /// After each new agreed height: a record not final by its effective height is refused
    /// (change_bad_height) and re-picked; one in effect lets the next change start.
    void change_progress() {
        if (!change_tx_ || agreed_height() < change_eff_) return;
        if (!change_recorded_) {
            ++rep_.set_changes_too_late;
            trace("validator-set change record not final by its effective height " + std::to_string(change_eff_) +
                  ": re-picked");
            return make_change_record();
        }
        ++rep_.set_changes_applied;
        change_tx_.reset();
        trace("validator-set change in effect at height " + std::to_string(change_eff_));
        if (change_down_) {
            const std::uint32_t who = *change_down_;
            change_down_.reset();
            push(*now_ + uniform(0, change_pause_ms), [this, who] {
                nodes_[who].held = false;
                if (nodes_[who].eng) return;  // healing restarted it first
                trace("restart node " + std::to_string(who) + " after the validator-set change");
                ++rep_.down_across_change;
                start_node(who);
            });
        }
        if (++change_next_ < plan_.size()) push(*now_ + uniform(0, change_pause_ms), [this] { start_change(); });
    }

    /// Checks on every event of node `from` in a run with changes: the id it knows is its node
    /// number; its schedule is the agreed chain's at its height; and it signs PROPOSAL, PREPARE,
    /// COMMIT and ROUND-CHANGE only at heights whose set (on the agreed chain) holds it.
    void check_set_membership(std::uint32_t from, const consensus::effects& fx) {
        const auto& n = nodes_[from];
        if (!n.eng) return;
        const std::string who = "node " + std::to_string(from);
        if (n.eng->index() != engine_t::no_id && n.eng->index() != from)
            return fail(who + " has validator id " + std::to_string(n.eng->index()));
        if (!fx.finalized.empty()) {
            const std::uint64_t h = n.eng->chain().height();
            auto it = std::find_if(ref_at_.rbegin(), ref_at_.rend(), [h](const auto& p) { return p.first <= h; });
            if (!(n.eng->chain().validators() == it->second))
                return fail(who + "'s validator schedule at height " + std::to_string(h) +
                            " differs from the agreed chain's");
        }
        if (byz_ && from == *byz_) return;
        for (const auto& m : fx.messages) {
            using consensus::msg_type;
            if (m.type != msg_type::prepare && m.type != msg_type::commit && m.type != msg_type::round_change &&
                m.type != msg_type::proposal)
                continue;
            auto env = consensus::decode_envelope(m.data);
            if (!env) continue;  // check_signed_votes reports it
            const auto id = ref_.id_of(keys_[from].public_key());
            if (!id || !ref_.at(env->height).has(*id) || env->sender != *id)
                return fail(who + " sent " + consensus::to_string(m.type) + " at height " + std::to_string(env->height) +
                            " where the set of that height does not hold it");
        }
    }

    // ---- effects -------------------------------------------------------------------

    /// Whether a node's storage was failing before an event, and how often it had recovered.
    struct failure_mark {
        bool failed = false;
        std::uint64_t recoveries = 0;
    };
    failure_mark mark(const engine_t& e) const { return {bool(e.storage_failure()), e.stats().recoveries}; }

    void apply(std::uint32_t from, consensus::effects& fx, failure_mark before = {}) {
        for (const auto& l : fx.log) trace("node " + std::to_string(from) + ": " + l);
        for (auto& f : fx.finalized) on_final(from, f);
        if (!fx.finalized.empty() && !plan_.empty()) sessions_changed();  // its chain may know a new key
        if (!rep_.ok) return;
        if (!plan_.empty()) check_set_membership(from, fx);
        if (!rep_.ok) return;
        if (!byz_ || from != *byz_) {
            check_signed_votes(from, fx, before);
            if (rep_.ok) check_no_equivocation(from, fx);
        }
        if (!rep_.ok) return;
        for (auto& t : fx.timers) set_timer(from, t);
        for (auto& m : fx.messages) {
            if (byz_ && from == *byz_) {
                byzantine_send(from, m);
                continue;
            }
            route(from, m.to, m.data);
        }
    }

    void set_timer(std::uint32_t i, const consensus::timer_request& t) {
        auto& n = nodes_[i];
        const auto k = static_cast<std::size_t>(t.kind);
        const std::uint64_t gen = ++n.timer_gen[k];
        const std::uint64_t inc = n.incarnation;
        push(std::max(t.at_ms, *now_), [this, i, t, gen, inc, k] {
            auto& x = nodes_[i];
            if (!x.eng || x.incarnation != inc || x.timer_gen[k] != gen) return;
            consensus::effects fx;
            const auto before = mark(*x.eng);
            x.eng->on_timer(t, fx);
            apply(i, fx, before);
        });
    }

    void route(std::uint32_t from, std::optional<std::uint32_t> to, const bytes& data) {
        auto msg = std::make_shared<const bytes>(data);
        for (std::uint32_t j = 0; j < nodes_.size(); ++j) {
            if (j == from || (to && *to != j)) continue;
            deliver(from, j, msg);
        }
    }

    void deliver(std::uint32_t from, std::uint32_t to, std::shared_ptr<const bytes> msg) {
        ++rep_.messages;
        if (!connected(from, to) || chance(o_.drop)) {
            ++rep_.dropped;
            return;
        }
        const int copies = chance(o_.duplicate) ? 2 : 1;
        for (int c = 0; c < copies; ++c) {
            push(*now_ + uniform(o_.min_delay_ms, o_.max_delay_ms), [this, from, to, msg] {
                auto& x = nodes_[to];
                if (!x.eng || !connected(from, to)) return;
                consensus::effects fx;
                const auto before = mark(*x.eng);
                // The transport authenticates the peer's key: its id, when the receiver's chain knows it.
                std::optional<std::uint32_t> auth;
                if (!plan_.empty()) auth = x.eng->chain().validators().id_of(keys_[from].public_key());
                (void)x.eng->on_message(*msg, fx, auth);
                apply(to, fx, before);
            });
        }
    }

    /// The Byzantine validator: withholds, corrupts signatures, votes for
    /// unknown blocks, equivocates on its proposals, lies about its height in
    /// STATUS and answers GET_BLOCKS with nothing.
    void byzantine_send(std::uint32_t from, const consensus::outbound& m) {
        const auto roll = rng_() % 10;
        if (roll == 0) return;  // withhold
        auto env = consensus::decode_envelope(m.data);
        if (!env) return;
        if (env->type == consensus::msg_type::status && roll <= 6) {
            // Lie about its height (validly signed): claim far more than it has.
            auto st = consensus::decode_status(env->body);
            if (!st) return;
            st->height += 1 + rng_() % 1000;
            env->height = st->height;
            env->body = consensus::encode(*st);
            consensus::sign_envelope<Suite>(*env, keys_[from]);
            route(from, m.to, consensus::encode(*env));
            return;
        }
        if (env->type == consensus::msg_type::blocks && roll <= 4) {
            // Claimed blocks, serves none.
            env->body = consensus::encode_blocks({});
            consensus::sign_envelope<Suite>(*env, keys_[from]);
            route(from, m.to, consensus::encode(*env));
            return;
        }
        if (roll == 1) {  // bad signature
            env->sig.data[rng_() % 64] ^= 0x01;
            route(from, m.to, consensus::encode(*env));
            return;
        }
        if (roll == 2 && (env->type == consensus::msg_type::prepare || env->type == consensus::msg_type::commit)) {
            // A validly signed vote for a block nobody has.
            hash32 junk;
            for (auto& b : junk.data) b = static_cast<byte>(rng_());
            if (env->type == consensus::msg_type::prepare) {
                env->body = consensus::encode_prepare(junk);
            } else {
                const auto seal = make_seal<Suite>(keys_[from], from, g_.chain_id, env->height, env->round, junk);
                env->body = consensus::encode(consensus::commit_body{junk, seal.sig});
            }
            consensus::sign_envelope<Suite>(*env, keys_[from]);
            route(from, m.to, consensus::encode(*env));
            return;
        }
        if (roll <= 4 && env->type == consensus::msg_type::proposal) {
            // Equivocate: half the peers get a different, validly signed block.
            auto p = consensus::decode_proposal(env->body);
            if (p && p->blk.header.round == env->round) {
                auto alt = *p;
                alt.blk.header.timestamp_ms += 1;
                alt.blk.proposer_sig = Suite::sign(keys_[from], block_hash<Suite>(alt.blk.header).view());
                auto env2 = *env;
                env2.body = consensus::encode(alt);
                consensus::sign_envelope<Suite>(env2, keys_[from]);
                const auto b1 = std::make_shared<const bytes>(m.data);
                const auto b2 = std::make_shared<const bytes>(consensus::encode(env2));
                for (std::uint32_t j = 0; j < nodes_.size(); ++j) {
                    if (j == from || (m.to && *m.to != j)) continue;
                    deliver(from, j, (j % 2) ? b1 : b2);
                    if (j % 3 == 0) deliver(from, j, (j % 2) ? b2 : b1);  // some see both
                }
                return;
            }
        }
        route(from, m.to, m.data);
    }

    // ---- invariants ------------------------------------------------------------------

    /// Every PREPARE, COMMIT and ROUND-CHANGE an honest validator sends is
    /// covered by its stored signed-state record (read from what is really on
    /// its disk), or its height is final there; a validator whose disk failed
    /// before and after an event, with no recovery in between, signs no vote,
    /// proposal or round change in it.
    void check_signed_votes(std::uint32_t from, const consensus::effects& fx, failure_mark before) {
        const auto& n = nodes_[from];
        if (!n.eng) return;
        const auto after = mark(*n.eng);
        const bool stopped = before.failed && after.failed && after.recoveries == before.recoveries;
        std::optional<consensus::signed_record> rec;
        bool rec_read = false;
        for (const auto& m : fx.messages) {
            using consensus::msg_type;
            if (m.type != msg_type::prepare && m.type != msg_type::commit && m.type != msg_type::round_change &&
                m.type != msg_type::proposal)
                continue;
            auto env = consensus::decode_envelope(m.data);
            if (!env) return fail("node " + std::to_string(from) + " sent a message that does not decode");
            const std::string what = "node " + std::to_string(from) + " sent " + consensus::to_string(m.type) +
                                     " at height " + std::to_string(env->height) + " round " +
                                     std::to_string(env->round);
            if (stopped) return fail(what + " while its storage was failing");
            if (m.type == msg_type::proposal) continue;  // the record covers votes, not proposals
            if (n.store->head().value_or(0) >= env->height) continue;
            if (!rec_read) {
                rec_read = true;
                if (auto raw = n.store->get_meta(consensus::record_key))
                    if (auto r = consensus::decode_signed_record(*raw)) rec = *r;
            }
            const bool covered =
                rec && rec->height == env->height &&
                (m.type == msg_type::prepare      ? rec->prepare && rec->prepare->round >= env->round
                 : m.type == msg_type::commit     ? rec->commit && rec->commit->round >= env->round
                                                  : rec->round_change && *rec->round_change >= env->round);
            if (!covered) return fail(what + " that its stored signed-state record does not hold");
        }
    }

    /// No honest validator signs two different PROPOSALs, PREPAREs, COMMITs or
    /// ROUND-CHANGEs for one (height, round), across crashes and restores.
    void check_no_equivocation(std::uint32_t from, const consensus::effects& fx) {
        using consensus::msg_type;
        for (const auto& m : fx.messages) {
            if (m.type != msg_type::prepare && m.type != msg_type::commit && m.type != msg_type::round_change &&
                m.type != msg_type::proposal)
                continue;
            auto env = consensus::decode_envelope(m.data);
            if (!env) continue;  // check_signed_votes reports it
            const hash32 d = Suite::hash(env->body);
            auto [it, fresh] = signed_.try_emplace(
                std::tuple{from, env->height, env->round, static_cast<std::uint8_t>(m.type)}, d);
            if (fresh || it->second == d) continue;
            rep_.equivocated = true;
            return fail("equivocation: node " + std::to_string(from) + " signed two different " +
                        consensus::to_string(m.type) + " messages at height " + std::to_string(env->height) +
                        " round " + std::to_string(env->round));
        }
    }

    /// After the liveness phase every validator must reach the agreed height
    /// (a restarted or formerly failed one catches up from its peers).
    void catch_up_phase() {
        const std::uint64_t target = chain_hashes_.size();
        const std::uint64_t deadline = *now_ + 120'000;
        auto behind = [&]() -> std::optional<std::uint32_t> {
            for (std::uint32_t i = 0; i < nodes_.size(); ++i)
                if (!nodes_[i].eng || nodes_[i].eng->chain().height() < target) return i;
            return std::nullopt;
        };
        while (rep_.ok && behind() && !q_.empty() && q_.top().at <= deadline) {
            auto ev = q_.top();
            q_.pop();
            *now_ = ev.at;
            ev.fn();
        }
        if (!rep_.ok) return;
        if (auto i = behind()) {
            const auto h = nodes_[*i].eng ? nodes_[*i].eng->chain().height() : 0;
            fail("catch-up: node " + std::to_string(*i) + " at height " + std::to_string(h) + " of " +
                 std::to_string(target) + " 120 s after the votes were final");
        }
    }

    void check_agreement(std::uint32_t node, std::uint64_t h, const hash32& bh) {
        if (h <= chain_hashes_.size()) {
            if (chain_hashes_[h - 1] != bh)
                fail("agreement: node " + std::to_string(node) + " has a different block at height " +
                     std::to_string(h));
        } else if (h == chain_hashes_.size() + 1) {
            chain_hashes_.push_back(bh);
        } else {
            fail("durability: node " + std::to_string(node) + " holds height " + std::to_string(h) +
                 " with a gap before it");
        }
    }

    void on_final(std::uint32_t node, const consensus::finalized_event& f) {
        const std::uint64_t h = f.fb.blk.header.height;
        const bool first = h == chain_hashes_.size() + 1;
        check_agreement(node, h, f.hash);
        if (!rep_.ok) return;
        // The stored certificate must verify against genesis.
        if (auto ec = nodes_[node].eng->chain().validate_certificate(f.fb.blk.header, f.hash, f.fb.cert))
            return fail("certificate at height " + std::to_string(h) + " does not verify: " + ec.message());
        if (!first) return;
        for (std::size_t i = 0; i < f.fb.blk.txs.size(); ++i) {
            const auto& tx = f.fb.blk.txs[i];
            const hash32& th = f.tx_hashes[i];
            if (!submitted_.contains(th)) return fail("validity: final tx was never submitted");
            if (!final_txs_.insert(th).second) return fail("duplicate tx hash in the final chain");
            if (!final_votes_.insert({tx.election_id, tx.voter_tag}).second)
                return fail("duplicate voter_tag in one election in the final chain");
            if (tx.kind == tx_kind::validator_set) {
                on_change_final(h, th, tx);
                if (!rep_.ok) return;
            }
            if (tx.is_vote() || tx.kind == tx_kind::ballot) {  // not the definition or the trustees' records
                ++rep_.txs_final;
                if (!healed_) ++rep_.final_in_fault_phase;
            }
            if (auto it = pending_.find(th); it != pending_.end()) {
                rep_.max_latency_ms = std::max(rep_.max_latency_ms, *now_ - it->second);
                rep_.latencies_ms.push_back(*now_ - it->second);
                pending_.erase(it);
            }
            // A second vote of an acknowledged voter is now moot: drop it from pending.
            for (auto it2 = pending_.begin(); it2 != pending_.end();) {
                const auto& t2 = submitted_.at(it2->first);
                if (t2.election_id == tx.election_id && t2.voter_tag == tx.voter_tag)
                    it2 = pending_.erase(it2);
                else
                    ++it2;
            }
        }
        if (!plan_.empty()) push(*now_, [this] { change_progress(); });
    }

    void final_checks() {
        for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
            auto& n = nodes_[i];
            if (!n.eng) continue;
            auto v = n.eng->chain().verify();
            if (!v.ok) return fail("node " + std::to_string(i) + " verify() failed at height " +
                                   std::to_string(v.bad_height.value_or(0)) + ": " + v.reason.message());
        }
    }

    options o_;
    std::mt19937_64 rng_;
    std::shared_ptr<std::uint64_t> now_;
    genesis_config g_;
    std::vector<typename Suite::key_pair> keys_;
    std::vector<secret_key> secrets_;
    std::vector<election::trustee<Suite>> trustees_;
    election::definition def_;
    std::unordered_map<hash32, std::uint32_t> ballot_choice_;
    std::uint64_t missed_window_ = 0;
    std::uint64_t lies_refused_ = 0;
    typename Suite::key_pair submitter_;
    std::vector<node_state> nodes_;
    std::vector<std::vector<char>> sessions_;  ///< [a][b]: a P2P session between nodes a and b is up
    bool sessions_queued_ = false;
    std::optional<std::uint32_t> byz_;
    std::priority_queue<event, std::vector<event>, std::greater<event>> q_;
    std::uint64_t seq_ = 0;
    bool healed_ = false;

    std::vector<hash32> chain_hashes_;  // agreed hash of heights 1..
    /// What each honest validator signed: (validator, height, round, kind) → hash of the body.
    std::map<std::tuple<std::uint32_t, std::uint64_t, std::uint32_t, std::uint8_t>, hash32> signed_;
    std::unordered_map<hash32, vote_tx> submitted_;
    std::unordered_map<hash32, std::uint64_t> pending_;  // acknowledged, not final → submit time
    std::set<std::pair<std::uint64_t, hash32>> acked_votes_;
    std::unordered_set<hash32> second_votes_;
    std::unordered_set<hash32> final_txs_;
    std::set<std::pair<std::uint64_t, hash32>> final_votes_;
    // validator-set changes
    std::vector<planned_change> plan_;
    validator_schedule ref_;  ///< the agreed chain's schedule
    std::vector<std::pair<std::uint64_t, validator_schedule>> ref_at_;  ///< (height recorded, schedule from then on)
    std::size_t change_next_ = 0;        ///< the planned change being made
    std::uint64_t change_gen_ = 0;       ///< generation of the record in flight (a re-pick makes a new one)
    std::optional<vote_tx> change_tx_;   ///< the record in flight
    std::uint64_t change_eff_ = 0;
    bool change_recorded_ = false;
    std::optional<std::uint32_t> change_down_;  ///< the validator down across the first change
    report rep_;
};

}  // namespace ballotchain::sim
