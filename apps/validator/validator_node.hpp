#pragma once
/// @file A validator process's core: the consensus engine over SQLite storage,
/// the TCP transport and Asio timers, all on one io_context thread.

#include <ballotchain/chain/trustee.hpp>
#include <ballotchain/consensus/engine.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/net/tcp_transport.hpp>
#include <ballotchain/rpc/validator_api.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include "pending_store.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

namespace ballotchain::app {

using suite_t = ed25519_sha256;  ///< the production crypto suite (the only one the apps use)
using storage_t = sqlite_storage;
using chain_t = ledger::blockchain<suite_t, storage_t>;
using engine_t = consensus::engine<suite_t, storage_t, steady_clock_adapter>;
using transport_t = net::tcp_transport<suite_t>;

/// Counters behind GET /metrics.
struct node_metrics {
    std::map<std::string, std::uint64_t> rejected_txs;       ///< by reason
    std::map<std::string, std::uint64_t> rejected_messages;  ///< by reason
    std::map<std::string, std::uint64_t> local_faults;       ///< failed durable writes, by what was written
    std::uint64_t submitted = 0;
    std::uint64_t finalized_txs = 0;
    /// Finality latency of txs submitted here, seconds: cumulative buckets.
    static constexpr std::array<double, 10> buckets{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    std::array<std::uint64_t, buckets.size()> latency_le{};
    std::uint64_t latency_count = 0;
    double latency_sum = 0;

    void observe_latency(double s) {
        ++latency_count;
        latency_sum += s;
        for (std::size_t i = 0; i < buckets.size(); ++i)
            if (s <= buckets[i]) ++latency_le[i];
    }
};

class validator_node {
public:
    using suite_type = suite_t;

    validator_node(boost::asio::io_context& io, engine_t eng, std::shared_ptr<transport_t> net,
                   std::unique_ptr<pending_store> pending = nullptr)
        : eng_(std::move(eng)), net_(std::move(net)), pending_(std::move(pending)),
          timers_{boost::asio::steady_timer(io), boost::asio::steady_timer(io), boost::asio::steady_timer(io)},
          trustee_timer_(io) {}

    /// Makes this validator its chain's trustee (docs/election-protocol.md): after each final
    /// block and every `interval`, it submits the election records it owes (trustee key,
    /// dealing, verdict, decryption shares). Call before start().
    void enable_trustee(const ed25519::key_pair& kp, std::chrono::milliseconds interval = std::chrono::milliseconds(250)) {
        trustee_interval_ = interval;
        trustee_key_ = kp;
        if (eng_.index() != engine_t::no_id) trustee_.emplace(eng_.genesis(), eng_.index() + 1, kp, kp.secret());
    }

    validator_node(const validator_node&) = delete;
    validator_node& operator=(const validator_node&) = delete;

    void start() {
        if (const auto& ic = eng_.chain().index_check(); ic.problems > 0) {
            spdlog::warn("chain.db: {} index rows disagreed with the blocks; the indexes were rebuilt from the blocks",
                         ic.problems);
            for (const auto& e : ic.examples) spdlog::warn("  {}", e);
        }
        net_->on_message([this](std::uint32_t from, bytes frame) {
            consensus::effects fx;
            // `from`: the peer's id as the P2P session authenticated it (a node with no id yet
            // sends sender 0xFFFFFFFF: the engine takes that only with this id, protocol.md §12).
            if (auto ec = eng_.on_message(frame, fx, from)) {
                ++metrics_.rejected_messages[ec.message()];
                spdlog::debug("message refused: {}", ec.message());
            }
            apply(fx);
        });
        net_->on_peer([this](std::uint32_t peer, bool up) {
            spdlog::info("peer validator-{} {}", peer + 1, up ? "connected" : "disconnected");
            if (up) {  // tell it our status, pool and round: rounds re-align at once (docs/protocol.md §4)
                consensus::effects fx;
                eng_.on_peer_connected(peer, fx);
                apply(fx);
            }
            watch_quorum();
        });
        sync_registry();  // validators added by changes already on the chain
        quorum_lost_ = net_->peer_count() < rpc::peers_needed_for_quorum(eng_.validator_set().quorum());
        if (eng_.index() != engine_t::no_id && !eng_.active())
            spdlog::warn("validator-{} is not in the set deciding height {}: it follows the chain and signs nothing",
                         eng_.index() + 1, eng_.height());
        consensus::effects fx;
        eng_.start(fx);
        apply(fx);
        resubmit_pending();
        if (trustee_) trustee_tick();
    }

    void stop() {
        stopped_ = true;
        for (auto& t : timers_) t.cancel();
        trustee_timer_.cancel();
        net_->stop();
    }

    // ---- rpc::node_view --------------------------------------------------------------
    const genesis_config& genesis() const { return eng_.genesis(); }
    std::uint64_t height() const { return eng_.chain().height(); }
    hash32 head_hash() const { return eng_.chain().head_hash(); }
    result<finalized_block> block_at(std::uint64_t h) const { return eng_.chain().block_at(h); }
    result<bytes> raw_block_at(std::uint64_t h) const { return eng_.chain().raw_block_at(h); }
    std::optional<std::uint64_t> height_of(const hash32& bh) const { return eng_.chain().height_of(bh); }
    std::optional<tx_location> find_tx(const hash32& th) const { return eng_.chain().find_tx(th); }
    result<std::vector<std::pair<tx_location, vote_tx>>> election_txs(std::uint64_t e, std::size_t limit) const {
        return eng_.chain().election_txs(e, limit);
    }
    const vote_tx* pending_tx(const hash32& th) const { return eng_.pool().find(th); }
    std::size_t peer_count() const { return net_->peer_count(); }
    bool syncing() const { return eng_.syncing(); }
    std::uint32_t validator_index() const { return eng_.index(); }
    /// The validator set deciding the height being decided (protocol.md §12).
    const validator_epoch& validator_set() const { return eng_.validator_set(); }
    std::size_t pool_size() const { return eng_.pool().size(); }
    tally_map tally(std::uint64_t election) const { return eng_.chain().tally(election); }
    const election::election_registry& elections() const { return eng_.chain().election_state(); }

    /// Verifies the blocks final since the last call (everything at the first
    /// call of this process) and remembers how far the chain is verified.
    ledger::verify_report verify_chain() {
        auto r = eng_.chain().verify_from(verified_, verified_elections_);
        if (r.ok && r.verified) verified_ = r.verified;
        return r;
    }

    /// Final (where), dropped (the winner, remembered in pending.db), pending
    /// (pooled or acknowledged here), or unknown.
    rpc::tx_status tx_status(const hash32& th) const {
        rpc::tx_status st;
        const auto& c = eng_.chain();
        if (auto loc = c.find_tx(th)) {
            st.status = rpc::tx_status::state::final;
            st.location = loc;
            if (auto fb = c.block_at(loc->height)) st.block_hash = block_hash<suite_t>(fb->blk.header);
            return st;
        }
        if (pending_) {
            auto dr = pending_->dropped(th);
            if (!dr) spdlog::error("pending.db: cannot read the dropped votes: {}", dr.error().message);
            if (auto d = dr ? *dr : std::nullopt) {
                st.status = rpc::tx_status::state::dropped;
                st.conflicting_tx = d->winner;
                st.conflicting_block = d->height;
                st.conflicting_block_hash = d->block_hash;
                st.reason = "conflicting vote " + to_hex(d->winner) + " final at block " + std::to_string(d->height);
                return st;
            }
        }
        if (eng_.pool().contains(th)) {
            st.status = rpc::tx_status::state::pending;
        } else if (pending_) {
            auto acked = pending_->contains(th);
            if (!acked) spdlog::error("pending.db: cannot read the acknowledged votes: {}", acked.error().message);
            if (acked && *acked) st.status = rpc::tx_status::state::pending;
        }
        return st;
    }

    /// What GET /health judges (rpc::classify_health): peers vs quorum, how long votes
    /// have waited, the round, storage, catching up.
    rpc::health_inputs health_inputs() const {
        const auto& g = eng_.genesis();
        const auto now = eng_.clock_policy().now_ms();
        rpc::health_inputs in;
        in.validators = eng_.validator_set().n();
        in.quorum = eng_.validator_set().quorum();
        in.peers_connected = net_->peer_count();
        if (last_final_ms_) in.since_final_ms = now - std::min(now, *last_final_ms_);
        in.pending = eng_.pool().size();
        in.pending_wait_ms = waiting_since_ms_ ? now - std::min(now, *waiting_since_ms_) : 0;
        in.round = eng_.round();
        in.round_changes = eng_.stats().round_changes;
        in.storage_fault = storage_failure_.has_value();
        in.catching_up = eng_.syncing();
        in.deciding = eng_.height();
        in.sign_floor = eng_.sign_floor();
        in.in_set = eng_.active();
        in.stall_after_ms = rpc::default_stall_after_ms(g.block_interval_ms, g.round_timeout_ms);
        return in;
    }
    /// Local faults (failed durable writes) since start.
    std::uint64_t local_faults() const noexcept { return eng_.stats().faults; }

    /// While durable writes fail (e.g. the disk is full): what failed. /health
    /// then answers 503 "failing", and votes are refused (they could not be recorded).
    const std::optional<std::string>& storage_failure() const noexcept { return storage_failure_; }

    /// The P2P address other validators reach this one at ("host:port", as given to the
    /// bootnode), shown by GET /health as "p2p_addr" so clients can report it. Set once
    /// before the RPC server starts; "" when unknown (not shown).
    void set_p2p_address(std::string addr) { p2p_address_ = std::move(addr); }
    const std::string& p2p_address() const noexcept { return p2p_address_; }

    result<hash32> submit(vote_tx tx) {
        std::vector<vote_tx> one;
        one.push_back(std::move(tx));
        return std::move(submit_many(std::move(one)).front());
    }

    /// Takes many votes at once: each is admitted or refused on its own (the answers in
    /// order), the admitted ones are recorded in pending.db in one transaction (one fsync
    /// for all) before anyone hears of them, and gossiped in one message.
    std::vector<result<hash32>> submit_many(std::vector<vote_tx> txs) {
        if (storage_failure_) {
            metrics_.rejected_txs["storage failing"] += txs.size();
            return std::vector<result<hash32>>(txs.size(), make_error(storage_ns::errc::io_error));
        }
        consensus::effects fx;
        std::vector<vote_tx> copies;
        if (pending_) copies = txs;
        auto res = eng_.submit_batch(std::move(txs), fx);
        std::vector<std::pair<hash32, vote_tx>> acked;
        for (std::size_t i = 0; i < res.size(); ++i) {
            if (!res[i]) {
                ++metrics_.rejected_txs[res[i].error().message()];
                continue;
            }
            if (pending_) acked.emplace_back(*res[i], std::move(copies[i]));
        }
        // Durable before anyone hears of them: the gossip in fx leaves only after this.
        if (pending_ && !acked.empty())
            if (auto put = pending_->put_many(acked); !put) {
                spdlog::error("storage failure: could not record {} acknowledged votes in pending.db ({}); they are "
                              "refused",
                              acked.size(), put.error().message);
                apply(fx);
                for (auto& r : res)
                    if (r) r = make_error(storage_ns::errc::io_error);
                return res;
            }
        const auto now = eng_.clock_policy().now_ms();
        for (const auto& r : res) {
            if (!r) continue;
            ++metrics_.submitted;
            if (submit_times_.size() < max_tracked_) submit_times_.emplace(*r, now);
        }
        for (const auto& [th, tx] : acked) acked_votes_[{tx.election_id, tx.voter_tag}] = th;
        apply(fx);
        return res;
    }

    const engine_t& engine() const { return eng_; }
    const node_metrics& metrics() const { return metrics_; }
    const transport_t& transport() const { return *net_; }

    /// The chain's validator registry grew (keys by registry id: the genesis validators, then
    /// those added by validator-set changes, in order): the P2P transport authenticates the new
    /// keys, learns this node's id if its key is among them, and dials the new validators it
    /// dials. Call on the io thread after appending a block that adds a validator (decided here
    /// or synced: in on_final(), once the chain exposes its registry). A registry that does not
    /// extend the one the transport knows is ignored (and logged).
    void on_registry(std::vector<public_key> registry) { net_->set_validators(std::move(registry)); }

    /// Hands the chain's registry to the transport when a block grew it (a validator-set change
    /// added a validator: protocol.md §12), and logs when this node's own key got its id. Called
    /// after every final block and by start() (a chain.db that holds changes already).
    void sync_registry() {
        const auto& reg = eng_.chain().election_state().validators().registry();
        if (reg.size() <= registry_sent_) return;
        std::vector<public_key> keys;
        keys.reserve(reg.size());
        for (const auto& v : reg) keys.push_back(v.key);
        registry_sent_ = reg.size();
        on_registry(std::move(keys));
        if (eng_.index() != engine_t::no_id && !id_logged_) {
            id_logged_ = true;
            if (eng_.index() >= eng_.genesis().n())
                spdlog::info("this node's key is validator id {} (validator-{}) from the chain's validator-set changes",
                             eng_.index(), eng_.index() + 1);
        }
    }

    /// The io thread's executor (where the node, its timers and its observers run).
    boost::asio::any_io_executor executor() { return timers_[0].get_executor(); }

    /// Calls `f(height)` on the io thread after each block this node takes as final
    /// (decided here or synced), once the chain holds it; e.g. the RPC route's
    /// long-poll (poa_waitForBlock). `f` must not call back into the node's engine.
    void on_block_final(std::function<void(std::uint64_t height)> f) { final_observers_.push_back(std::move(f)); }

private:
    void apply(consensus::effects& fx) {
        for (const auto& l : fx.log) spdlog::debug("{}", l);
        for (const auto& f : fx.faults) on_fault(f);
        for (auto& e : fx.equivocations)
            spdlog::warn("equivocation by validator-{} at height {} round {} ({})", e.validator + 1, e.height,
                         e.round, consensus::to_string(e.type));
        for (auto& f : fx.finalized) on_final(f);
        for (auto& t : fx.timers) arm(t);
        for (auto& m : fx.messages) {
            auto frame = std::make_shared<const bytes>(std::move(m.data));
            if (m.to)
                net_->send(*m.to, std::move(frame));
            else
                net_->broadcast(frame);
        }
        watch_storage();
        watch_rounds();
        // How long the pool has held votes no block took (GET /health's "pending_wait_seconds").
        if (eng_.pool().empty())
            waiting_since_ms_.reset();
        else if (!waiting_since_ms_)
            waiting_since_ms_ = eng_.clock_policy().now_ms();
    }

    /// Round changes at warning level, at most one line per 10 s: the height, the round now and
    /// how many round changes happened since the last line (a stuck height does not log a line
    /// per round per peer).
    void watch_rounds() {
        const auto changes = eng_.stats().round_changes;
        if (changes == round_changes_logged_) return;
        const auto now = eng_.clock_policy().now_ms();
        if (round_logged_ms_ && now < *round_logged_ms_ + 10'000) return;
        spdlog::warn("round change: height {} is in round {} ({} round changes since the last such line); peers {} "
                     "of {} needed",
                     eng_.height(), eng_.round(), changes - round_changes_logged_, net_->peer_count(),
                     rpc::peers_needed_for_quorum(eng_.validator_set().quorum()));
        round_changes_logged_ = changes;
        round_logged_ms_ = now;
    }

    /// Says at warning level when this validator loses the peers a quorum needs, and when it
    /// has them again (each transition once).
    void watch_quorum() {
        const std::size_t need = rpc::peers_needed_for_quorum(eng_.validator_set().quorum());
        const std::size_t have = net_->peer_count();
        const bool lost = have < need;
        if (lost == quorum_lost_) return;
        quorum_lost_ = lost;
        if (lost)
            spdlog::warn("quorum lost: {} of the {} peers a quorum of {} needs are connected; no block can be final "
                         "until more validators are reachable",
                         have, need, eng_.validator_set().quorum());
        else
            spdlog::warn("quorum reached: {} peers connected ({} needed for a quorum of {})", have, need,
                         eng_.validator_set().quorum());
    }

    /// A local fault (this node's own disk failed a write): counted, and logged
    /// at error level (the first, then at most one line per 30 s while it lasts).
    void on_fault(const consensus::fault_event& f) {
        ++metrics_.local_faults[fault_label(f.what)];
        const auto now = eng_.clock_policy().now_ms();
        if (storage_failure_ && now < fault_logged_ms_ + 30'000) return;
        fault_logged_ms_ = now;
        const std::string detail = eng_.chain().storage().last_error();
        spdlog::error("local fault: could not write the {} at height {} to {}: {}", consensus::to_string(f.what),
                      f.height, eng_.chain().storage().path(), detail.empty() ? f.error.message() : detail);
    }

    static const char* fault_label(consensus::fault_event::write w) {
        switch (w) {
        case consensus::fault_event::write::record: return "record";
        case consensus::fault_event::write::signed_state: return "signed_state";
        case consensus::fault_event::write::prepared_block: return "prepared_block";
        case consensus::fault_event::write::append: return "block";
        }
        return "other";
    }

    /// Says loudly when durable writes start failing (and again every 30 s while
    /// they do), and when they work again.
    void watch_storage() {
        const auto ec = eng_.storage_failure();
        const auto now = eng_.clock_policy().now_ms();
        if (!ec) {
            if (storage_failure_)
                spdlog::warn("storage recovered: writes to {} succeed again; catching up", eng_.chain().storage().path());
            storage_failure_.reset();
            return;
        }
        if (storage_failure_ && now < storage_logged_ms_ + 30'000) return;
        const std::string detail = eng_.chain().storage().last_error();
        if (!storage_failure_)
            storage_failure_ = "cannot write " + eng_.chain().storage().path() + ": " +
                               (detail.empty() ? ec.message() : detail);
        storage_logged_ms_ = now;
        spdlog::error("storage failure: {}. This validator signs nothing it cannot record, refuses votes and "
                      "serves /health as failing; it retries every second and catches up once writes succeed "
                      "(free space on the disk of its data dir)",
                      *storage_failure_);
    }

    void on_final(const consensus::finalized_event& f) {
        const auto& h = f.fb.blk.header;
        if (pending_) {
            forget_pending(f.tx_hashes);
            drop_conflicting(f);
        }
        metrics_.finalized_txs += f.fb.blk.txs.size();
        last_final_ms_ = eng_.clock_policy().now_ms();
        if (waiting_since_ms_) waiting_since_ms_ = last_final_ms_;  // a block took votes; the rest wait anew
        if (h.proposer == eng_.index() && !f.via_sync)
            spdlog::info("Created block {} with {} transactions (round {}, {} seals)", h.height, f.fb.blk.txs.size(),
                         f.fb.cert.round, f.fb.cert.seals.size());
        else
            spdlog::info("{} block {} with {} transactions from validator-{}", f.via_sync ? "Synced" : "Finalized",
                         h.height, f.fb.blk.txs.size(), h.proposer + 1);
        const auto now = eng_.clock_policy().now_ms();
        for (const auto& th : f.tx_hashes) {
            auto it = submit_times_.find(th);
            if (it == submit_times_.end()) continue;
            metrics_.observe_latency(static_cast<double>(now - it->second) / 1000.0);
            submit_times_.erase(it);
        }
        for (const auto& o : final_observers_) o(h.height);
        sync_registry();
        if (trustee_) boost::asio::post(executor(), [this] { act_as_trustee(); });
    }

    void trustee_tick() {
        act_as_trustee();
        trustee_timer_.expires_after(trustee_interval_);
        trustee_timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec && !stopped_) trustee_tick();
        });
    }

    /// Submits what this trustee owes now and is not already pooled.
    void act_as_trustee() {
        if (stopped_ || !trustee_ || storage_failure_) return;
        const auto& pool = eng_.pool();
        auto txs = trustee_->due(eng_.chain().election_state(), eng_.clock_policy().wall_ms(),
                                 [&pool](std::uint64_t e, const hash32& tag) { return pool.contains_vote(e, tag); });
        for (auto& tx : txs) {
            const auto kind = tx.kind;
            const auto election = tx.election_id;
            consensus::effects fx;
            auto r = eng_.submit(std::move(tx), fx);
            if (r)
                spdlog::info("trustee-{}: submitted its {} for election {}", trustee_->index(), to_string(kind), election);
            else if (trustee_refusals_.insert(std::to_string(election) + "/" + to_string(kind) + "/" + r.error().message()).second)
                spdlog::warn("trustee-{}: its {} for election {} was refused: {} (said once)", trustee_->index(),
                             to_string(kind), election, r.error().message());
            apply(fx);
        }
    }

    /// Acknowledged votes (in pending.db) that `f` makes impossible: another
    /// vote of the same (election, voter tag) became final. Each moves to the
    /// dropped record with the winner; its acknowledgement now has a final answer.
    void drop_conflicting(const consensus::finalized_event& f) {
        for (std::size_t i = 0; i < f.fb.blk.txs.size() && i < f.tx_hashes.size(); ++i) {
            const auto& tx = f.fb.blk.txs[i];
            auto it = acked_votes_.find({tx.election_id, tx.voter_tag});
            if (it == acked_votes_.end()) continue;
            const hash32 acked = it->second;
            acked_votes_.erase(it);
            if (acked == f.tx_hashes[i]) continue;  // it is the final one
            record_dropped(acked, {f.tx_hashes[i], f.fb.blk.header.height, f.hash});
        }
    }

    /// Final votes leave pending.db. If that fails (e.g. a full disk) they stay,
    /// and are found final and removed after the next restart.
    void forget_pending(std::span<const hash32> final_txs) {
        if (auto r = pending_->erase(final_txs); !r)
            spdlog::error("pending.db: could not remove {} final votes ({}); they are removed after a restart",
                          final_txs.size(), r.error().message);
    }

    void record_dropped(const hash32& th, const dropped_vote& d) {
        if (auto r = pending_->drop(th, d); !r)
            spdlog::error("pending.db: could not record vote {} as dropped ({})", to_hex(th), r.error().message);
        spdlog::info("acknowledged vote {} dropped: conflicting vote {} final at block {}", to_hex(th),
                     to_hex(d.winner), d.height);
    }

    /// Votes acknowledged before a restart and not yet final go back into the
    /// pool; those that became final meanwhile are forgotten, and those a
    /// conflicting final vote replaced are recorded as dropped.
    void resubmit_pending() {
        if (!pending_) return;
        std::vector<hash32> done;
        std::size_t back = 0, dropped = 0;
        auto stored = pending_->load();
        if (!stored) {
            spdlog::error("pending.db: cannot read the votes acknowledged before the restart ({}); they are not "
                          "re-submitted",
                          stored.error().message);
            return;
        }
        for (auto& [th, tx] : *stored) {
            const detail::vote_key key{tx.election_id, tx.voter_tag};
            consensus::effects fx;
            auto r = eng_.submit(std::move(tx), fx);
            apply(fx);
            if (r || r.error() == make_error(chain::errc::pool_full)) {
                acked_votes_[key] = th;
                back += r ? 1 : 0;
                continue;
            }
            const auto& c = eng_.chain();
            if (r.error() == make_error(chain::errc::duplicate_vote) && !c.find_tx(th)) {
                if (auto loc = c.find_vote(key.election, key.tag))
                    if (auto fb = c.block_at(loc->height); fb && loc->index < fb->blk.txs.size()) {
                        record_dropped(th, {tx_hash<suite_t>(fb->blk.txs[loc->index]), loc->height,
                                            block_hash<suite_t>(fb->blk.header)});
                        ++dropped;
                        continue;
                    }
            }
            done.push_back(th);  // final already, or no longer valid
        }
        forget_pending(done);
        if (back || dropped || !done.empty())
            spdlog::info("re-submitted {} acknowledged votes from before the restart ({} already final, {} dropped)",
                         back, done.size(), dropped);
    }

    void arm(const consensus::timer_request& t) {
        if (stopped_) return;
        auto& timer = timers_[static_cast<std::size_t>(t.kind)];
        const auto now = eng_.clock_policy().now_ms();
        timer.expires_after(std::chrono::milliseconds(t.at_ms > now ? t.at_ms - now : 0));
        timer.async_wait([this, t](boost::system::error_code ec) {
            if (ec || stopped_) return;
            consensus::effects fx;
            eng_.on_timer(t, fx);
            apply(fx);
        });
    }

    static constexpr std::size_t max_tracked_ = 200'000;

    engine_t eng_;
    std::shared_ptr<transport_t> net_;
    std::unique_ptr<pending_store> pending_;
    std::array<boost::asio::steady_timer, 3> timers_;
    boost::asio::steady_timer trustee_timer_;
    std::optional<election::trustee<suite_t>> trustee_;
    std::optional<ed25519::key_pair> trustee_key_;  ///< kept until this node has an id (a change adds it)
    std::chrono::milliseconds trustee_interval_{250};
    std::set<std::string> trustee_refusals_;  ///< refusals already logged (the timer retries every interval)
    node_metrics metrics_;
    std::unordered_map<hash32, std::uint64_t> submit_times_;
    /// (election, voter tag) → the vote acknowledged here for it, while not final (mirrors pending.db).
    std::unordered_map<detail::vote_key, hash32, detail::vote_key_hash> acked_votes_;
    std::optional<ledger::verified_prefix> verified_;  ///< how far verify_chain() got in this process
    election::election_registry verified_elections_;  ///< the election state after verified_
    std::vector<std::function<void(std::uint64_t)>> final_observers_;  ///< on_block_final
    bool stopped_ = false;
    std::size_t registry_sent_ = 0;  ///< registry size last handed to the transport (sync_registry)
    bool id_logged_ = false;
    std::optional<std::string> storage_failure_;  ///< set while eng_.storage_failure() is
    std::string p2p_address_;  ///< set_p2p_address()
    std::uint64_t storage_logged_ms_ = 0;
    std::uint64_t fault_logged_ms_ = 0;
    std::optional<std::uint64_t> last_final_ms_;     ///< when the last block became final here (none since start: unset)
    std::optional<std::uint64_t> waiting_since_ms_;  ///< since when the pool holds votes no block took
    std::uint64_t round_changes_logged_ = 0;          ///< watch_rounds(): round changes counted at its last line
    std::optional<std::uint64_t> round_logged_ms_;   ///< … and when that line was
    bool quorum_lost_ = false;  ///< watch_quorum()'s last verdict (set in start())
};

}  // namespace ballotchain::app
