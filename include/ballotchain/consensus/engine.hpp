#pragma once
/// @file The QBFT-style Proof-of-Authority engine as a pure state machine.
///
/// Events in (start, message, timer, transaction), effects out (messages to
/// send, timers to set, blocks finalized, equivocations seen). No sockets,
/// threads or system clock inside: the clock is a policy, the caller moves
/// bytes and fires timers. The protocol is written up in docs/protocol.md.

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/ledger/mempool.hpp>
#include <ballotchain/consensus/catch_up.hpp>
#include <ballotchain/consensus/messages.hpp>
#include <ballotchain/consensus/record.hpp>
#include <ballotchain/consensus/signed_state.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/invariant.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

namespace ballotchain::consensus {

/// Tunables that are local to a node (the chain-wide ones live in genesis).
struct engine_options {
    std::size_t mempool_capacity = 100'000;
    std::size_t max_future_messages = 4096;  ///< buffered messages for later heights
    std::uint64_t max_future_heights = 64;   ///< how far ahead a message may be buffered
    std::uint32_t max_future_rounds = 64;    ///< how far ahead votes are kept
    std::size_t max_candidate_blocks = 64;   ///< blocks kept for the height being decided
    std::uint64_t status_interval_ms = 1000; ///< STATUS broadcast period
    std::uint64_t sync_timeout_ms = 2000;    ///< re-ask for blocks after this long
    std::uint32_t sync_batch_blocks = 64;    ///< blocks per BLOCKS reply
    std::size_t sync_batch_bytes = 16u << 20;
    std::uint64_t max_clock_skew_ms = 15'000;  ///< refuse proposals timestamped further ahead
    /// Longest round timeout here, whatever the genesis's round_timeout_max_ms (never below its
    /// round_timeout_ms); 0: the genesis's cap. Round timeouts only pace liveness (docs/protocol.md
    /// §4): a lower cap means a round stranded by a loss of quorum ends sooner once the
    /// validators are back.
    std::uint64_t round_timeout_cap_ms = 10'000;
    /// Start-up guard (docs/protocol.md §6): after start() the node signs nothing
    /// (no proposal, vote or round change) until it has heard STATUS from f+1 other
    /// validators, so that a node restored from an old backup learns that the
    /// network is ahead (and catches up) before it signs at an old height; or
    /// until this long has passed (a whole network starting together). 0: off.
    std::uint64_t startup_hold_ms = 0;
};

enum class timer_kind : std::uint8_t {
    propose,  ///< the proposer's block interval ended
    round,    ///< the round timed out
    status,   ///< send STATUS, retry sync
};

/// "Call on_timer(t) at t.at_ms." A new request of a kind replaces the older one.
struct timer_request {
    timer_kind kind = timer_kind::status;
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    std::uint64_t at_ms = 0;
    bool operator==(const timer_request&) const = default;
};

/// Bytes for one validator (`to`) or, when `to` is empty, for all others.
struct outbound {
    std::optional<std::uint32_t> to;
    msg_type type = msg_type::status;
    bytes data;
};

struct finalized_event {
    finalized_block fb;
    hash32 hash;
    std::vector<hash32> tx_hashes;
    bool via_sync = false;  ///< fetched from a peer rather than decided here
};

struct equivocation_event {
    std::uint32_t validator = 0;
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    msg_type type = msg_type::proposal;
};

/// A local fault: this node's own storage failed a durable write. Not
/// something a peer did (that is a refused message): the node stops signing
/// until writes work again, and its operator must be told (docs/operations.md).
struct fault_event {
    enum class write : std::uint8_t {
        record,          ///< the signed-state record (nothing it covers was sent)
        signed_state,    ///< the forward-only signed-state file (nothing it covers was sent)
        prepared_block,  ///< the block a COMMIT would lock on (no COMMIT was sent)
        append,          ///< a final block (the chain did not move)
    };
    write what = write::record;
    std::uint64_t height = 0;  ///< the height being decided
    error_code error;
};

inline const char* to_string(fault_event::write w) noexcept {
    switch (w) {
    case fault_event::write::record: return "signed-state record";
    case fault_event::write::signed_state: return "signed-state file";
    case fault_event::write::prepared_block: return "prepared block";
    case fault_event::write::append: return "final block";
    }
    return "write";
}

/// Everything one event asks the caller to do, in order.
struct effects {
    std::vector<outbound> messages;
    std::vector<timer_request> timers;
    std::vector<finalized_event> finalized;
    std::vector<equivocation_event> equivocations;
    std::vector<fault_event> faults;  ///< local faults: log at error level, count, report unhealthy
    std::vector<std::string> log;     ///< notable events for the node's log

    void clear() {
        messages.clear();
        timers.clear();
        finalized.clear();
        equivocations.clear();
        faults.clear();
        log.clear();
    }
};

struct engine_stats {
    std::uint64_t proposals = 0;       ///< blocks this node proposed
    std::uint64_t round_changes = 0;   ///< rounds entered above 0
    std::uint64_t committed = 0;       ///< blocks finalized by consensus here
    std::uint64_t synced = 0;          ///< blocks fetched from peers
    std::uint64_t equivocations = 0;
    std::uint64_t rejected = 0;        ///< messages refused
    std::uint64_t sync_failures = 0;   ///< block requests a peer did not serve
    std::uint64_t faults = 0;          ///< local faults (failed durable writes)
    std::uint64_t recoveries = 0;      ///< storage failures cleared (writes work again)
};

/// One validator's consensus state machine.
///
/// @tparam Suite   how blocks, votes and messages are hashed and signed (`suite`)
/// @tparam Storage where the chain and the signed-state record live (`storage`)
/// @tparam Clock   time source (`clock`): now_ms for timers, wall_ms for timestamps
/// @par Thread safety Not thread-safe; the owner serialises all events.
template <suite Suite, storage Storage, clock Clock>
class engine {
public:
    using suite_type = Suite;
    using chain_type = ledger::blockchain<Suite, Storage>;
    using key_pair = typename Suite::key_pair;

    /// Builds the engine of genesis validator `key` over an opened chain and
    /// restores its signed-state record. Refuses a key that is not a genesis
    /// validator (errc::not_a_validator): to follow a chain without a key,
    /// read it over RPC (docs/api.md).
    ///
    /// `state` is the forward-only signed state (signed_state.hpp: the
    /// validator's `signed-state` file): what it held at start is merged with
    /// the chain.db record, the later of the two binding; when it is ahead of
    /// what chain.db can restore (an older chain.db was put back), the node signs
    /// nothing at or below the height it records until it has synced past it
    /// (sign_floor()). Every change of the record is then also saved there, only
    /// ever forward. Without `save` the chain.db record alone protects.
    static result<engine> create(chain_type chain, key_pair key, Clock clk, engine_options opts = {},
                                 signed_state_io state = {}) {
        // A key in no set the chain knows yet (a validator a change will add) follows the
        // chain, signing nothing, until the change that adds it is final (protocol.md §12).
        const auto idx = chain.validators().id_of(key.public_key());
        engine e(std::move(chain), std::move(key), idx.value_or(no_id), std::move(clk), opts);
        if (auto ec = e.restore()) return ec;
        e.merge_signed_state(std::move(state));
        e.check_invariants();
        return e;
    }

    engine(engine&&) noexcept = default;
    engine& operator=(engine&&) noexcept = default;

    // ---- inspection -------------------------------------------------------------
    const chain_type& chain() const noexcept { return chain_; }
    chain_type& chain() noexcept { return chain_; }
    const ledger::mempool<Suite>& pool() const noexcept { return pool_; }
    const genesis_config& genesis() const noexcept { return chain_.genesis(); }
    std::uint64_t height() const noexcept { return cur_.height; }  ///< height being decided
    std::uint32_t round() const noexcept { return cur_.round; }
    /// This validator's id (protocol.md §12; the genesis index for a genesis validator), or
    /// no_id while its key is in no validator set the chain knows.
    std::uint32_t index() const noexcept { return index_; }
    static constexpr std::uint32_t no_id = 0xFFFFFFFFu;
    /// The validator set deciding the height being decided.
    const validator_epoch& validator_set() const noexcept { return chain_.validators().at(cur_.height); }
    /// True when this node is in the set deciding the height being decided.
    bool active() const noexcept { return index_ != no_id && validator_set().has(index_); }
    /// True while the node is behind and does not vote: at least f+1 distinct
    /// validators (so at least one honest one) claim a final block at or above
    /// the height being decided. A single claim, which may be a lie, only makes
    /// the node fetch blocks; it keeps voting meanwhile.
    /// Only members of the set deciding this height count (a removed validator's claim only
    /// makes the node fetch, like a single claim).
    bool syncing() const noexcept {
        std::size_t claims = 0;
        for (auto id : validator_set().members)
            if (id != index_ && sync_.peer(id).height >= cur_.height) ++claims;
        return claims >= byz_f() + 1;
    }
    /// Highest height a trusted peer claims to have finalized.
    std::uint64_t best_peer_height() const noexcept { return sync_.best_height(); }
    const catch_up& catch_up_state() const noexcept { return sync_; }
    engine_stats stats() const noexcept {
        engine_stats s = stats_;
        s.sync_failures = sync_.failures();
        return s;
    }
    const signed_record& record() const noexcept { return cur_.record; }
    const Clock& clock_policy() const noexcept { return clock_; }
    /// Why the last durable write failed (the signed-state record, a prepared
    /// block or a final block, e.g. a full disk; each failure is also a
    /// fault_event in the effects). While set the node signs no vote, proposal
    /// or round change (it still sends STATUS and serves and fetches blocks).
    /// Cleared once a block is appended again or, with nothing to fetch, a
    /// probe write of the record succeeds on a STATUS tick, provided the stored
    /// head is still the chain's: if a failed write reached the disk anyway (a
    /// failed fsync), the node cannot know its own state and stays failed until
    /// a restart reopens the chain. Nothing whose record failed is ever sent
    /// (§6 of docs/protocol.md); a block it could not append is not held against
    /// the peer that served it, and is fetched again at most once per STATUS period.
    error_code storage_failure() const noexcept { return storage_error_; }
    /// True when the node may sign votes: in the active set, not catching up, no storage failure,
    /// not below the height its signed-state file binds, not in the start-up hold.
    bool may_vote() const noexcept {
        return active() && !syncing() && !storage_error_ && cur_.height >= sign_floor_ && !holding();
    }
    /// The lowest height this node may sign at: one above the height its
    /// signed-state file records when chain.db could not restore what was signed
    /// there (a restored backup); 0 otherwise.
    std::uint64_t sign_floor() const noexcept { return sign_floor_; }
    /// True during the start-up hold (engine_options::startup_hold_ms).
    bool holding() const noexcept {
        if (opts_.startup_hold_ms == 0 || !started_) return false;
        const std::size_t need = std::min<std::size_t>(byz_f() + 1, validator_set().n() - 1);
        return heard_.size() < need && now() < started_ms_ + opts_.startup_hold_ms;
    }
    /// The forward-only signed state as last saved (or loaded).
    const signed_record& saved_state() const noexcept { return saved_; }

    // ---- events -----------------------------------------------------------------

    /// Starts the node: announces its status and arms its timers.
    void start(effects& out) {
        started_ = true;
        started_ms_ = now();
        was_holding_ = holding();
        if (saved_.height > cur_.height)
            out.log.push_back("signed-state file: signed at height " + std::to_string(saved_.height) +
                              ", beyond what chain.db restores (height " + std::to_string(chain_.height()) +
                              "); signing nothing below height " + std::to_string(sign_floor_) +
                              " until caught up from peers");
        else if (sign_floor_ > cur_.height)
            out.log.push_back("signed-state file: a COMMIT at height " + std::to_string(cur_.height) +
                              " whose certificate chain.db lost; signing nothing at this height");
        if (was_holding_)
            out.log.push_back("start-up guard: signing nothing until STATUS from " +
                              std::to_string(std::min<std::size_t>(byz_f() + 1, validator_set().n() - 1)) +
                              " other validators or " + std::to_string(opts_.startup_hold_ms) + " ms");
        broadcast_status(out);
        arm(out, timer_kind::status, 0, 0, now() + opts_.status_interval_ms);
        enter_height_timers(out);
        check_invariants();
    }

    /// Handles one message received from the network. Returns why it was
    /// refused (effects may still be produced, e.g. an equivocation report).
    ///
    /// `from`: the validator id the transport authenticated as the sender, when known. A node
    /// with no id yet (a validator a change adds, still syncing: protocol.md §12) sends
    /// STATUS, GET_BLOCKS and TXS with sender no_id; they are taken only with `from`, and
    /// verified against that validator's key.
    error_code on_message(byte_view data, effects& out, std::optional<std::uint32_t> from = std::nullopt) {
        std::size_t signed_len = 0;
        auto env = decode_envelope(data, &signed_len);
        if (!env) return reject(errc::malformed);
        if (env->chain_id != genesis().chain_id) return reject(errc::wrong_chain);
        const auto& vs = chain_.validators();
        if (env->sender == no_id) {
            const bool sync_only = env->type == msg_type::status || env->type == msg_type::get_blocks ||
                                   env->type == msg_type::txs;
            if (!from || !sync_only || !vs.known(*from) || *from == index_) return reject(errc::unknown_sender);
            if (!verify_envelope_sig<Suite>(vs.key(*from), data.first(signed_len), env->sig))
                return reject(errc::bad_signature);
            env->sender = *from;
        } else {
            if (!vs.known(env->sender)) return reject(errc::unknown_sender);
            if (!verify_envelope_sig<Suite>(vs.key(env->sender), data.first(signed_len), env->sig))
                return reject(errc::bad_signature);
        }
        if (env->sender == index_) return {};  // our own message echoed back
        const event_guard g(*this);
        auto ec = dispatch(*env, out);
        if (ec) ++stats_.rejected;
        return ec;
    }

    /// Handles a timer the caller set from a timer_request.
    void on_timer(const timer_request& t, effects& out) {
        const event_guard g(*this);
        switch (t.kind) {
        case timer_kind::status:
            // A write failed and there is no block to fetch (whose append would
            // tell): find out whether writes work again.
            if (storage_error_ && best_peer_height() <= chain_.height() && storage_consistent() &&
                persist(out)) {
                storage_error_ = {};
                ++stats_.recoveries;
                out.log.push_back("storage works again at height " + std::to_string(cur_.height));
                check_prepared(cur_.round, out);  // resume: a COMMIT the failure held back
            }
            resume_after_hold(out);
            broadcast_status(out);
            request_sync(out);
            arm(out, timer_kind::status, 0, 0, now() + opts_.status_interval_ms);
            break;
        case timer_kind::propose:
            if (t.height == cur_.height && cur_.round == 0) {
                cur_.propose_ready = true;
                maybe_propose_round0(out);
            }
            break;
        case timer_kind::round:
            if (t.height != cur_.height || t.round != cur_.round) return;
            if (!may_vote()) {
                // Not voting: keep the timer alive and keep asking for blocks.
                arm(out, timer_kind::round, cur_.height, cur_.round, now() + round_timeout(cur_.round));
                request_sync(out);
                return;
            }
            enter_round(cur_.round + 1, out);
            send_round_change(out);
            regossip(out);
            break;
        }
    }

    /// A P2P session with validator `peer` came up (first connection or a reconnection): tell
    /// it where we are so rounds re-align at once instead of after the next timeout: our
    /// STATUS, the pooled votes (it may have missed their gossip) and, in a round above 0, our
    /// last ROUND-CHANGE again (the same signed message: signatures are deterministic), which
    /// lets the peer follow (f+1 ahead) or start the round (a quorum) — docs/protocol.md §4.
    void on_peer_connected(std::uint32_t peer, effects& out) {
        if (!chain_.validators().known(peer) || peer == index_) return;
        const event_guard g(*this);
        // A node a change adds was refused by its peers until they knew its key: those failed
        // fetches say nothing about the peer (without this, up to 64 s of distrust, protocol.md §12).
        if (index_ == no_id) sync_.forgive(peer);
        send(out, peer, msg_type::status, chain_.height(), 0, encode(status_body{chain_.height(), chain_.head_hash()}));
        if (!pool_.empty()) send(out, peer, msg_type::txs, cur_.height, cur_.round, encode_txs(pool_.batch(genesis().max_block_txs)));
        // A node whose storage failed sends no vote until it recovers, not even one it signed before
        // (the simulator's check_signed_votes; found once the simulator modelled sessions).
        if (storage_error_ || !cur_.record.round_change) return;
        const std::uint32_t r = *cur_.record.round_change;
        const auto rs = cur_.rounds.find(r);
        if (rs == cur_.rounds.end()) return;
        const auto mine = rs->second.round_changes.find(index_);
        if (mine == rs->second.round_changes.end()) return;
        bytes att;
        if (mine->second.body.prepared) {
            auto it = cur_.candidates.find(mine->second.body.prepared->block_hash);
            if (it != cur_.candidates.end()) att = ballotchain::encode(it->second);
        }
        send(out, peer, msg_type::round_change, cur_.height, r, encode(mine->second.body), std::move(att));
    }

    /// Submits a transaction from a local client: checks it, pools it and
    /// gossips it. Returns its hash or why it was refused.
    result<hash32> submit(vote_tx tx, effects& out) {
        const event_guard g(*this);
        auto th = pool_.add(tx, chain_, clock_.wall_ms(), &sigs_);
        if (!th) return th;
        std::vector<vote_tx> one{std::move(tx)};
        broadcast(out, msg_type::txs, cur_.height, 0, encode_txs(one));
        after_tx_admitted(out);
        return th;
    }

    /// Submits many transactions; gossips the accepted ones in one message. The votes of one
    /// signed batch are taken whole or not at all (mempool::add_many).
    std::vector<result<hash32>> submit_batch(std::vector<vote_tx> txs, effects& out) {
        const event_guard g(*this);
        auto res = pool_.add_many(txs, chain_, clock_.wall_ms(), &sigs_);
        std::vector<vote_tx> accepted;
        for (std::size_t i = 0; i < txs.size(); ++i)
            if (res[i]) accepted.push_back(std::move(txs[i]));
        if (!accepted.empty()) {
            broadcast(out, msg_type::txs, cur_.height, 0, encode_txs(accepted));
            after_tx_admitted(out);
        }
        return res;
    }

private:
    struct vote {
        hash32 block_hash;
        signature sig;  ///< PREPARE: envelope signature; COMMIT: the seal
    };
    struct round_state {
        std::optional<hash32> proposal;  ///< hash of the accepted proposal
        std::map<std::uint32_t, vote> prepares;
        std::map<std::uint32_t, vote> commits;
        std::map<std::uint32_t, signed_round_change> round_changes;
        bool sent_prepare = false;
        bool sent_commit = false;
        bool proposed = false;
    };

    /// Everything that belongs to the height being decided; a new height (or
    /// a restart) replaces it as a whole.
    struct height_state {
        std::uint64_t height = 1;
        std::uint32_t round = 0;
        std::uint64_t start_ms = 0;  ///< when this height began here
        bool propose_ready = false;  ///< round 0: the proposer's block interval ended
        bool round_timer_armed = false;
        std::map<std::uint32_t, round_state> rounds;
        std::map<hash32, block> candidates;      ///< validated blocks proposed at this height
        std::unordered_map<hash32, const vote_tx*> checked_txs;  ///< txs of the candidates (signatures checked), in `candidates`
        signed_record record;                    ///< what this node signed at this height

        height_state() = default;
        height_state(std::uint64_t h, std::uint64_t now) : height(h), start_ms(now) { record.height = h; }
    };

    /// Checks the engine's invariants after an event (BALLOTCHAIN_INVARIANT:
    /// on in Debug, the sanitizer builds and the simulator): the height being
    /// decided is the one after the chain's head; within a height, rounds only
    /// grow; the record is for this height and covers every vote sent.
    class event_guard {
    public:
        explicit event_guard(const engine& e) : e_(e), height_(e.cur_.height), round_(e.cur_.round) {}
        ~event_guard() {
            BALLOTCHAIN_INVARIANT(e_.cur_.height >= height_, "the height being decided never goes back");
            BALLOTCHAIN_INVARIANT(e_.cur_.height != height_ || e_.cur_.round >= round_,
                                  "within a height, rounds only grow");
            e_.check_invariants();
        }
        event_guard(const event_guard&) = delete;
        event_guard& operator=(const event_guard&) = delete;

    private:
        [[maybe_unused]] const engine& e_;
        [[maybe_unused]] std::uint64_t height_;
        [[maybe_unused]] std::uint32_t round_;
    };

    void check_invariants() const {
        BALLOTCHAIN_INVARIANT(cur_.height == chain_.height() + 1, "the height being decided follows the chain's head");
        BALLOTCHAIN_INVARIANT(cur_.record.height == cur_.height, "the signed-state record is for the current height");
        BALLOTCHAIN_INVARIANT(cur_.record.round <= cur_.round, "the record's round is not ahead of the engine's");
#if BALLOTCHAIN_INVARIANTS_ON
        for (const auto& [r, rs] : cur_.rounds) {
            BALLOTCHAIN_INVARIANT(!rs.sent_prepare || (cur_.record.prepare && cur_.record.prepare->round >= r),
                                  "a sent PREPARE is in the record");
            BALLOTCHAIN_INVARIANT(!rs.sent_commit || (cur_.record.commit && cur_.record.commit->round >= r),
                                  "a sent COMMIT is in the record");
        }
#endif
    }

    /// True when what the stored record says covers `commit` at (height, round):
    /// read back from storage (only evaluated where invariants are on).
    bool stored_record_covers_commit(std::uint32_t r, const hash32& bh) const {
        auto raw = chain_.storage().get_meta(record_key);
        if (!raw) return false;
        auto rec = decode_signed_record(*raw);
        return rec && rec->height == cur_.height && rec->commit && rec->commit->round == r &&
               rec->commit->block_hash == bh;
    }

    engine(chain_type c, key_pair key, std::uint32_t index, Clock clk, engine_options opts)
        : chain_(std::move(c)), key_(std::move(key)), clock_(std::move(clk)), opts_(opts),
          pool_(opts.mempool_capacity), index_(index), sync_(limits::max_registry, opts.sync_timeout_ms) {}

    std::uint64_t now() const { return clock_.now_ms(); }
    std::size_t quorum() const { return validator_set().quorum(); }
    /// Byzantine bound used by the round-jump and catch-up rules: f = floor((n-1)/3) of the set
    /// deciding the height being decided.
    std::size_t byz_f() const noexcept { return validator_set().byzantine(); }

    /// min(base * 2^r, cap), without overflow for any r; cap: the genesis's round_timeout_max_ms,
    /// lowered to engine_options::round_timeout_cap_ms (but not below the base).
    std::uint64_t round_timeout(std::uint32_t r) const {
        const auto& g = genesis();
        std::uint64_t cap = g.round_timeout_max_ms;
        if (opts_.round_timeout_cap_ms != 0) cap = std::max(g.round_timeout_ms, std::min(cap, opts_.round_timeout_cap_ms));
        std::uint64_t t = g.round_timeout_ms;
        for (std::uint32_t i = 0; i < r && t < cap; ++i) t *= 2;
        return std::min(t, cap);
    }

    error_code reject(errc e) {
        ++stats_.rejected;
        return make_error(e);
    }

    // ---- restart ----------------------------------------------------------------

    error_code restore() {
        cur_ = height_state(chain_.height() + 1, now());
        auto raw = chain_.storage().get_meta(record_key);
        if (!raw) return {};
        auto rec = decode_signed_record(*raw);
        if (!rec) return make_error(storage_ns::errc::corrupt);
        if (rec->height != cur_.height) return {};  // a record for a height already final: nothing binds us
        cur_.record = std::move(*rec);
        cur_.round = cur_.record.round;
        if (cur_.record.prepared) {
            if (auto pb = chain_.storage().get_meta(prepared_block_key)) {
                auto b = decode_block(*pb);
                if (b && block_hash<Suite>(b->header) == cur_.record.prepared->block_hash)
                    cur_.candidates.emplace(cur_.record.prepared->block_hash, std::move(*b));
            }
        }
        return {};
    }

    /// Durably writes the record; nothing is signed if this fails.
    bool persist(effects& out) {
        if (!stored(chain_.storage().put_meta(record_key, encode(cur_.record)), fault_event::write::record, out))
            return false;
        if (!save_state_) return true;
        // The file only moves forward: a record at or behind it is not written.
        if (cur_.record == saved_ || !covers(project(cur_.record), project(saved_))) return true;
        if (!stored(save_state_(cur_.record), fault_event::write::signed_state, out)) return false;
        saved_ = cur_.record;
        return true;
    }

    /// Merges the forward-only signed state with what chain.db restored (create()).
    void merge_signed_state(signed_state_io state) {
        save_state_ = std::move(state.save);
        if (!state.loaded) return;
        saved_ = *state.loaded;
        // Signed at a height chain.db does not reach (an older chain.db was put
        // back): what was signed below it is unknown; at it, the file's record binds.
        if (saved_.height > cur_.height) sign_floor_ = saved_.height;
        adopt_saved_record();
    }

    /// At the file's height, the later of the file's record and chain.db's binds.
    void adopt_saved_record() {
        if (saved_.height != cur_.height) return;
        const signed_state db = project(cur_.record), f = project(saved_);
        if (covers(db, f)) return;
        if (covers(f, db)) {
            cur_.record = saved_;
        } else {
            // Each ahead in something (not written so by this engine): field by field.
            const signed_state m = later(db, f);
            auto prepared = cur_.record.prepared;
            if (!prepared || !m.commit || prepared->block_hash != m.commit->block_hash) prepared = saved_.prepared;
            cur_.record.round = m.round;
            cur_.record.proposal = m.proposal;
            cur_.record.prepare = m.prepare;
            cur_.record.commit = m.commit;
            cur_.record.round_change = m.round_change;
            cur_.record.prepared = prepared;
            // A COMMIT without the certificate it locked on: sign nothing more here.
            if (m.commit && (!prepared || prepared->block_hash != m.commit->block_hash)) sign_floor_ = cur_.height + 1;
        }
        cur_.round = std::max(cur_.round, cur_.record.round);
        if (cur_.record.prepared && !cur_.candidates.contains(cur_.record.prepared->block_hash))
            if (auto pb = chain_.storage().get_meta(prepared_block_key)) {
                auto b = decode_block(*pb);
                if (b && block_hash<Suite>(b->header) == cur_.record.prepared->block_hash)
                    cur_.candidates.emplace(cur_.record.prepared->block_hash, std::move(*b));
            }
    }

    /// The start-up hold just ended: do what it held back (the round-0 proposal,
    /// a COMMIT, a justified proposal).
    void resume_after_hold(effects& out) {
        if (!was_holding_ || holding()) return;
        was_holding_ = false;
        out.log.push_back("start-up guard: heard from " + std::to_string(heard_.size()) +
                          " validators; signing from height " + std::to_string(std::max(cur_.height, sign_floor_)));
        maybe_propose_round0(out);
        check_prepared(cur_.round, out);
        if (cur_.round > 0) {
            auto it = cur_.rounds.find(cur_.round);
            if (it != cur_.rounds.end() && it->second.round_changes.size() >= quorum())
                maybe_propose_round(cur_.round, out);
        }
    }

    /// Notes a failed durable write (see storage_failure()) as a local fault;
    /// true if `r` succeeded.
    bool stored(const result<void>& r, fault_event::write what, effects& out) {
        if (r) return true;
        storage_error_ = r.error();
        storage_failed_ms_ = now();
        ++stats_.faults;
        out.faults.push_back({what, cur_.height, r.error()});
        out.log.push_back(std::string("local fault: could not write the ") + to_string(what) + " at height " +
                          std::to_string(cur_.height) + ": " + r.error().message());
        return false;
    }

    /// The stored head is the one the chain holds in memory: no failed write
    /// reached the disk behind the chain's back.
    bool storage_consistent() const { return chain_.storage().head() == std::optional{chain_.height()}; }

    /// A failed write reached the disk anyway: the node no longer knows its own
    /// state and takes no block until a restart reopens the chain.
    bool stranded() const { return storage_error_ && !storage_consistent(); }

    // ---- output helpers ---------------------------------------------------------

    void arm(effects& out, timer_kind k, std::uint64_t h, std::uint32_t r, std::uint64_t at) {
        out.timers.push_back({k, h, r, at});
    }

    envelope make_envelope(msg_type t, std::uint64_t h, std::uint32_t r, bytes body) {
        envelope e;
        e.chain_id = genesis().chain_id;
        e.type = t;
        e.sender = index_;
        e.height = h;
        e.round = r;
        e.body = std::move(body);
        return e;
    }

    /// Signs and queues a message.
    envelope send(effects& out, std::optional<std::uint32_t> to, msg_type t, std::uint64_t h, std::uint32_t r,
                  bytes body, bytes attachment = {}) {
        envelope e = make_envelope(t, h, r, std::move(body));
        e.attachment = std::move(attachment);
        sign_envelope<Suite>(e, key_);
        out.messages.push_back({to, t, ballotchain::consensus::encode(e)});
        return e;
    }
    envelope broadcast(effects& out, msg_type t, std::uint64_t h, std::uint32_t r, bytes body, bytes att = {}) {
        return send(out, std::nullopt, t, h, r, std::move(body), std::move(att));
    }

    void broadcast_status(effects& out) {
        broadcast(out, msg_type::status, chain_.height(), 0, encode(status_body{chain_.height(), chain_.head_hash()}));
    }

    // ---- dispatch ---------------------------------------------------------------

    error_code dispatch(const envelope& e, effects& out) {
        switch (e.type) {
        case msg_type::status: return on_status(e, out);
        case msg_type::get_blocks: return on_get_blocks(e, out);
        case msg_type::blocks: return on_blocks(e, out);
        case msg_type::txs: return on_txs(e, out);
        default: break;
        }
        if (e.height < cur_.height) return make_error(errc::stale);
        if (e.height > cur_.height) {
            if (e.height > cur_.height + opts_.max_future_heights) return make_error(errc::too_far_ahead);
            if (future_.size() >= opts_.max_future_messages) return make_error(errc::buffer_full);
            future_.push_back(e);
            // Consensus traffic for a later height means the sender finalized ours.
            note_peer_height(e.sender, e.height - 1, out);
            return {};
        }
        return consensus_message(e, out);
    }

    error_code consensus_message(const envelope& e, effects& out) {
        if (e.round > cur_.round + opts_.max_future_rounds) return make_error(errc::too_far_ahead);
        if (!validator_set().has(e.sender)) return make_error(errc::unknown_sender);  // not in this height's set
        switch (e.type) {
        case msg_type::proposal: return on_proposal(e, out);
        case msg_type::prepare: return on_prepare(e, out);
        case msg_type::commit: return on_commit(e, out);
        case msg_type::round_change: return on_round_change(e, out);
        default: return make_error(errc::malformed);
        }
    }

    void report_equivocation(effects& out, const envelope& e) {
        ++stats_.equivocations;
        out.equivocations.push_back({e.sender, e.height, e.round, e.type});
        out.log.push_back("equivocation by validator " + std::to_string(e.sender) + ": two " +
                          to_string(e.type) + " messages at height " + std::to_string(e.height) + " round " +
                          std::to_string(e.round));
    }

    // ---- PROPOSAL ---------------------------------------------------------------

    error_code on_proposal(const envelope& e, effects& out) {
        if (e.sender != validator_set().proposer(e.height, e.round)) return make_error(errc::not_proposer);
        if (e.round < cur_.round) return make_error(errc::stale);
        auto p = decode_proposal(e.body);
        if (!p) return make_error(errc::malformed);
        const block& b = p->blk;
        const hash32 bh = block_hash<Suite>(b.header);
        auto& rs = cur_.rounds[e.round];
        if (rs.proposal) {
            if (*rs.proposal == bh) return {};
            report_equivocation(out, e);
            return make_error(errc::equivocation);
        }
        if (b.header.height != e.height || b.header.round > e.round) return make_error(errc::invalid_block);
        if (auto ec = check_justification(e, *p, bh)) return ec;
        if (b.header.timestamp_ms > clock_.wall_ms() + opts_.max_clock_skew_ms) return make_error(errc::invalid_block);
        if (!cur_.candidates.contains(bh)) {
            if (chain_.validate_block(b, known_valid(), nullptr, nullptr, &sigs_))
                return make_error(errc::invalid_block);
        }
        // A justified proposal for a later round moves us there.
        if (e.round > cur_.round) enter_round(e.round, out);
        rs.proposal = bh;
        remember_block(bh, b);
        if (!rs.sent_prepare && may_vote() && cur_.record.may_sign(false, e.round, bh)) {
            cur_.record.prepare = signed_vote{e.round, bh};
            cur_.record.round = std::max(cur_.record.round, e.round);
            if (persist(out)) {
                rs.sent_prepare = true;
                envelope pe = broadcast(out, msg_type::prepare, cur_.height, e.round, encode_prepare(bh));
                rs.prepares[index_] = {bh, pe.sig};
            }
        }
        check_prepared(e.round, out);
        check_committed(e.round, out);
        return {};
    }

    /// Round 0: no justification, a fresh block. Round r > 0: at least q valid
    /// ROUND-CHANGEs for (height, r); if any carries a prepared certificate the
    /// block must be the one of the highest, otherwise a fresh block of round r.
    error_code check_justification(const envelope& e, const proposal_body& p, const hash32& bh) {
        if (e.round == 0) {
            if (!p.justification.empty() || p.blk.header.round != 0) return make_error(errc::bad_justification);
            return {};
        }
        std::set<std::uint32_t> senders;
        const prepared_certificate* best = nullptr;
        for (const auto& j : p.justification) {
            if (!validator_set().has(j.sender) || !senders.insert(j.sender).second)
                return make_error(errc::bad_justification);
            const bytes sb =
                signing_bytes(genesis().chain_id, msg_type::round_change, j.sender, e.height, e.round, encode(j.body));
            if (!verify_envelope_sig<Suite>(chain_.validators().key(j.sender), sb, j.sig))
                return make_error(errc::bad_justification);
            if (j.body.prepared) {
                if (j.body.prepared->round >= e.round || !valid_prepared(e.height, *j.body.prepared))
                    return make_error(errc::bad_justification);
                if (!best || j.body.prepared->round > best->round) best = &*j.body.prepared;
            }
        }
        if (senders.size() < quorum()) return make_error(errc::bad_justification);
        if (best) {
            if (best->block_hash != bh) return make_error(errc::bad_justification);
        } else if (p.blk.header.round != e.round) {
            return make_error(errc::bad_justification);
        }
        return {};
    }

    /// q PREPARE signatures from distinct validators for (height, pc.round, pc.block_hash).
    bool valid_prepared(std::uint64_t h, const prepared_certificate& pc) const {
        if (pc.prepares.size() < quorum()) return false;
        const bytes body = encode_prepare(pc.block_hash);
        for (std::size_t i = 0; i < pc.prepares.size(); ++i) {
            const auto& s = pc.prepares[i];
            if (!chain_.validators().at(h).has(s.validator)) return false;
            if (i > 0 && s.validator <= pc.prepares[i - 1].validator) return false;
            const bytes sb = signing_bytes(genesis().chain_id, msg_type::prepare, s.validator, h, pc.round, body);
            if (!verify_envelope_sig<Suite>(chain_.validators().key(s.validator), sb, s.sig)) return false;
        }
        return true;
    }

    void remember_block(const hash32& bh, const block& b) {
        if (cur_.candidates.size() >= opts_.max_candidate_blocks) return;
        auto [it, fresh] = cur_.candidates.emplace(bh, b);
        if (!fresh) return;
        for (const auto& tx : it->second.txs) cur_.checked_txs.emplace(tx_hash<Suite>(tx), &tx);
    }

    /// Txs whose signatures were already checked, authorization included: pooled, or in a
    /// validated candidate.
    auto known_valid() const {
        return [this](const hash32& th, const vote_tx& tx) {
            if (pool_.is_known_valid(th, tx)) return true;
            auto it = cur_.checked_txs.find(th);
            return it != cur_.checked_txs.end() && it->second->auth == tx.auth;
        };
    }

    // ---- PREPARE / COMMIT -------------------------------------------------------

    error_code on_prepare(const envelope& e, effects& out) {
        auto bh = decode_prepare(e.body);
        if (!bh) return make_error(errc::malformed);
        auto& rs = cur_.rounds[e.round];
        auto [it, fresh] = rs.prepares.try_emplace(e.sender, vote{*bh, e.sig});
        if (!fresh) {
            if (it->second.block_hash == *bh) return {};
            report_equivocation(out, e);
            return make_error(errc::equivocation);
        }
        check_prepared(e.round, out);
        return {};
    }

    error_code on_commit(const envelope& e, effects& out) {
        auto c = decode_commit(e.body);
        if (!c) return make_error(errc::malformed);
        if (!Suite::verify(chain_.validators().key(e.sender),
                            seal_message(genesis().chain_id, e.height, e.round, c->block_hash), c->seal))
            return make_error(errc::bad_signature);
        auto& rs = cur_.rounds[e.round];
        auto [it, fresh] = rs.commits.try_emplace(e.sender, vote{c->block_hash, c->seal});
        if (!fresh) {
            if (it->second.block_hash == c->block_hash) return {};
            report_equivocation(out, e);
            return make_error(errc::equivocation);
        }
        check_committed(e.round, out);
        return {};
    }

    static std::vector<commit_seal> seals_for(const std::map<std::uint32_t, vote>& votes, const hash32& bh) {
        std::vector<commit_seal> out;
        for (const auto& [v, x] : votes)
            if (x.block_hash == bh) out.push_back({v, x.sig});
        return out;  // std::map iterates in ascending validator order
    }

    /// q PREPAREs for the accepted proposal of the current round: prepared → COMMIT.
    void check_prepared(std::uint32_t r, effects& out) {
        if (r != cur_.round) return;
        auto& rs = cur_.rounds[r];
        if (!rs.proposal || rs.sent_commit || !may_vote()) return;
        auto seals = seals_for(rs.prepares, *rs.proposal);
        if (seals.size() < quorum()) return;
        const hash32 bh = *rs.proposal;
        if (!cur_.record.may_sign(true, r, bh)) return;
        prepared_certificate pc{r, bh, std::move(seals)};
        // The prepared block is part of the record: stored first, or no COMMIT.
        if (!cur_.record.prepared || cur_.record.prepared->block_hash != bh) {
            auto it = cur_.candidates.find(bh);
            if (it != cur_.candidates.end() &&
                !stored(chain_.storage().put_meta(prepared_block_key, ballotchain::encode(it->second)),
                        fault_event::write::prepared_block, out))
                return;
        }
        cur_.record.prepared = pc;
        cur_.record.commit = signed_vote{r, bh};
        cur_.record.round = std::max(cur_.record.round, r);
        if (!persist(out)) return;
        BALLOTCHAIN_INVARIANT(stored_record_covers_commit(r, bh), "a COMMIT is sent only once the stored record holds it");
        rs.sent_commit = true;
        const signature seal =
            make_seal<Suite>(key_, index_, genesis().chain_id, cur_.height, r, bh).sig;
        broadcast(out, msg_type::commit, cur_.height, r, encode(commit_body{bh, seal}));
        rs.commits[index_] = {bh, seal};
        check_committed(r, out);
    }

    /// q COMMIT seals for a block we hold: final.
    void check_committed(std::uint32_t r, effects& out) {
        auto rit = cur_.rounds.find(r);
        if (rit == cur_.rounds.end()) return;
        std::map<hash32, std::size_t> counts;
        for (const auto& [v, x] : rit->second.commits) ++counts[x.block_hash];
        for (const auto& [bh, n] : counts) {
            if (n < quorum()) continue;
            auto bit = cur_.candidates.find(bh);
            if (bit == cur_.candidates.end()) return;  // we lack the block: STATUS/GET_BLOCKS will bring it
            finalized_block fb;
            fb.blk = bit->second;
            fb.cert = commit_certificate{cur_.height, r, bh, seals_for(rit->second.commits, bh)};
            if (stranded()) return;  // the chain's state on disk is unknown: checks would not mean anything
            auto cb = chain_.check(std::move(fb), known_valid(), &sigs_);
            BALLOTCHAIN_INVARIANT(cb.has_value(), "a block decided here passes the chain's checks");
            if (cb) finalize(std::move(*cb), false, out);
            return;
        }
    }

    // ---- ROUND-CHANGE -----------------------------------------------------------

    error_code on_round_change(const envelope& e, effects& out) {
        if (e.round == 0) return make_error(errc::malformed);
        if (e.round < cur_.round) return make_error(errc::stale);
        auto body = decode_round_change(e.body);
        if (!body) return make_error(errc::malformed);
        if (body->prepared) {
            if (body->prepared->round >= e.round || !valid_prepared(e.height, *body->prepared))
                return make_error(errc::bad_certificate);
            if (!e.attachment.empty() && !cur_.candidates.contains(body->prepared->block_hash)) {
                auto b = decode_block(e.attachment);
                if (b && block_hash<Suite>(b->header) == body->prepared->block_hash &&
                    !chain_.validate_block(*b, known_valid(), nullptr, nullptr, &sigs_))
                    remember_block(body->prepared->block_hash, *b);
            }
        }
        auto& rs = cur_.rounds[e.round];
        auto [it, fresh] = rs.round_changes.try_emplace(e.sender, signed_round_change{e.sender, *body, e.sig});
        if (!fresh) {
            if (encode(it->second.body) == e.body) return {};  // a duplicate
            report_equivocation(out, e);  // a second, different ROUND-CHANGE for one round
            return make_error(errc::equivocation);
        }
        after_round_change(out);
        return {};
    }

    void after_round_change(effects& out) {
        // f+1 validators ahead of us: at least one honest one timed out, follow.
        if (may_vote()) {
            std::set<std::uint32_t> ahead;
            std::optional<std::uint32_t> lowest;
            for (const auto& [r, rs] : cur_.rounds) {
                if (r <= cur_.round || rs.round_changes.empty()) continue;
                for (const auto& [v, _] : rs.round_changes) ahead.insert(v);
                if (!lowest) lowest = r;
            }
            if (lowest && ahead.size() >= byz_f() + 1) {
                enter_round(*lowest, out);
                send_round_change(out);
            }
        }
        // q ROUND-CHANGEs for a round at or above ours start it.
        for (auto it = cur_.rounds.rbegin(); it != cur_.rounds.rend(); ++it) {
            const auto r = it->first;
            if (r < cur_.round || r == 0) break;
            if (it->second.round_changes.size() < quorum()) continue;
            if (r > cur_.round) enter_round(r, out);
            maybe_propose_round(r, out);
            break;
        }
    }

    void send_round_change(effects& out) {
        if (!may_vote()) return;
        const std::uint32_t r = cur_.round;
        if (cur_.record.round_change && *cur_.record.round_change >= r) return;
        cur_.record.round_change = r;
        cur_.record.round = std::max(cur_.record.round, r);
        if (!persist(out)) return;
        round_change_body body{cur_.record.prepared};
        bytes att;
        if (cur_.record.prepared) {
            auto it = cur_.candidates.find(cur_.record.prepared->block_hash);
            if (it != cur_.candidates.end()) att = ballotchain::encode(it->second);
        }
        envelope e = broadcast(out, msg_type::round_change, cur_.height, r, encode(body), std::move(att));
        cur_.rounds[r].round_changes[index_] = signed_round_change{index_, std::move(body), e.sig};
        after_round_change(out);
    }

    void enter_round(std::uint32_t r, effects& out) {
        if (r <= cur_.round) return;
        cur_.round = r;
        ++stats_.round_changes;
        out.log.push_back("height " + std::to_string(cur_.height) + ": round change to " + std::to_string(r));
        arm(out, timer_kind::round, cur_.height, r, now() + round_timeout(r));
        cur_.round_timer_armed = true;
        // Drop rounds far below: votes there can no longer matter except commits.
        check_prepared(r, out);
    }

    // ---- proposing ----------------------------------------------------------------

    bool am_proposer(std::uint32_t r) const { return active() && index_ == validator_set().proposer(cur_.height, r); }

    void maybe_propose_round0(effects& out) {
        if (cur_.round != 0 || !cur_.propose_ready || !am_proposer(0) || !may_vote()) return;
        auto& rs = cur_.rounds[0];
        if (rs.proposed || proposed_before(0)) return;
        if (pool_.empty() && !genesis().empty_blocks) return;  // wait for a transaction
        rs.proposed = true;
        block b = build(0);
        send_proposal(0, std::move(b), {}, out);
    }

    void maybe_propose_round(std::uint32_t r, effects& out) {
        if (r != cur_.round || !am_proposer(r) || !may_vote()) return;
        auto& rs = cur_.rounds[r];
        if (rs.proposed || proposed_before(r)) return;
        std::vector<signed_round_change> just;
        const prepared_certificate* best = nullptr;
        for (const auto& [v, rc] : rs.round_changes) {
            just.push_back(rc);
            if (rc.body.prepared && (!best || rc.body.prepared->round > best->round)) best = &*rc.body.prepared;
        }
        block b;
        if (best) {
            auto it = cur_.candidates.find(best->block_hash);
            if (it == cur_.candidates.end()) return;  // wait for a round change that carries the block
            b = it->second;
        } else {
            b = build(r);
        }
        rs.proposed = true;
        send_proposal(r, std::move(b), std::move(just), out);
    }

    /// The next block from the oldest pooled txs; those the election rules no longer admit at
    /// its time (a ballot after the end, a dealing after the deadline) leave the pool.
    block build(std::uint32_t r) {
        std::vector<hash32> left_out;
        auto batch = pool_.batch(genesis().max_block_txs);
        // A tx the pool took under an earlier validator set (its submitter or validator since
        // removed) is left out and dropped, never proposed (protocol.md §12).
        std::erase_if(batch, [&](const vote_tx& tx) {
            if (!chain_.rules().check_tx_fields(tx, chain_.validators(), cur_.height)) return false;
            left_out.push_back(tx_hash<Suite>(tx));
            return true;
        });
        block b = chain_.build_block(r, clock_.wall_ms(), std::move(batch), key_, &left_out);
        for (const auto& th : left_out) pool_.erase(th);
        return b;
    }

    /// The record says a proposal was signed in round r or later (before a restart):
    /// never a second block in one round.
    bool proposed_before(std::uint32_t r) const { return cur_.record.proposal && cur_.record.proposal->round >= r; }

    void send_proposal(std::uint32_t r, block b, std::vector<signed_round_change> just, effects& out) {
        // Recorded before it is sent: a restarted proposer does not propose another block in this round.
        cur_.record.proposal = signed_vote{r, block_hash<Suite>(b.header)};
        cur_.record.round = std::max(cur_.record.round, r);
        if (!persist(out)) return;
        ++stats_.proposals;
        proposal_body p{std::move(b), std::move(just)};
        envelope e = broadcast(out, msg_type::proposal, cur_.height, r, encode(p));
        out.log.push_back("proposed block " + std::to_string(cur_.height) + " round " + std::to_string(r) + " with " +
                          std::to_string(p.blk.txs.size()) + " transactions");
        (void)on_proposal(e, out);  // handle our own proposal: PREPARE it
    }

    // ---- transactions -------------------------------------------------------------

    error_code on_txs(const envelope& e, effects& out) {
        auto txs = decode_txs(e.body);
        if (!txs) return make_error(errc::malformed);
        bool any = false;
        for (auto& tx : *txs)
            if (pool_.add(std::move(tx), chain_, clock_.wall_ms(), &sigs_)) any = true;
        if (any) after_tx_admitted(out);
        return {};
    }

    void after_tx_admitted(effects& out) {
        if (!cur_.round_timer_armed) {
            cur_.round_timer_armed = true;
            const std::uint64_t from =
                cur_.round == 0 ? std::max(now(), cur_.start_ms + genesis().block_interval_ms) : now();
            arm(out, timer_kind::round, cur_.height, cur_.round, from + round_timeout(cur_.round));
        }
        maybe_propose_round0(out);
    }

    /// After a timeout, re-send the oldest pending txs so the next proposer has them.
    void regossip(effects& out) {
        if (pool_.empty()) return;
        auto batch = pool_.batch(genesis().max_block_txs);
        broadcast(out, msg_type::txs, cur_.height, cur_.round, encode_txs(batch));
    }

    // ---- finality and sync --------------------------------------------------------

    /// Appends a checked block and moves to the next height. Returns false
    /// when it could not be stored (a local fault).
    bool finalize(ledger::checked_block cb, bool via_sync, effects& out) {
        if (auto r = chain_.append(cb); !r) {
            stored(r, fault_event::write::append, out);
            return false;
        }
        if (storage_error_) {
            storage_error_ = {};
            ++stats_.recoveries;
        }
        const hash32 bh = cb.hash();
        std::vector<hash32> ths = cb.tx_hashes();
        finalized_block fb = std::move(cb).take();
        pool_.remove_committed(fb.blk, ths);
        if (via_sync)
            ++stats_.synced;
        else
            ++stats_.committed;
        out.log.push_back((via_sync ? "synced block " : "finalized block ") + std::to_string(fb.blk.header.height) +
                          " with " + std::to_string(fb.blk.txs.size()) + " transactions");
        out.finalized.push_back({std::move(fb), bh, std::move(ths), via_sync});
        next_height(out);
        return true;
    }

    void next_height(effects& out) {
        cur_ = height_state(chain_.height() + 1, now());
        if (index_ == no_id)
            if (auto id = chain_.validators().id_of(key_.public_key())) {
                index_ = *id;
                out.log.push_back("this key is now validator id " + std::to_string(index_) +
                                  " (added by a validator-set change)");
            }
        adopt_saved_record();  // caught up to the height of a restored node's signed-state file
        enter_height_timers(out);
        // Replay what arrived early for this height; drop what is now stale.
        std::deque<envelope> later;
        std::vector<envelope> now_msgs;
        for (auto& e : future_) {
            if (e.height == cur_.height)
                now_msgs.push_back(std::move(e));
            else if (e.height > cur_.height)
                later.push_back(std::move(e));
        }
        future_ = std::move(later);
        for (const auto& e : now_msgs) {
            if (e.height != cur_.height) break;  // a replayed message finalized this height already
            (void)consensus_message(e, out);
        }
    }

    void enter_height_timers(effects& out) {
        if (cur_.round > 0) {
            // Restarted in a later round (from the signed-state record): keep the round clock running.
            cur_.round_timer_armed = true;
            arm(out, timer_kind::round, cur_.height, cur_.round, now() + round_timeout(cur_.round));
            return;
        }
        if (am_proposer(0)) arm(out, timer_kind::propose, cur_.height, 0, cur_.start_ms + genesis().block_interval_ms);
        // A vote signed here before a restart means a block is in progress: if it
        // stalls, the round must time out even with an empty pool.
        if (!pool_.empty() || genesis().empty_blocks || cur_.record.prepare || cur_.record.commit || cur_.record.proposal) {
            cur_.round_timer_armed = true;
            arm(out, timer_kind::round, cur_.height, 0,
                cur_.start_ms + genesis().block_interval_ms + round_timeout(0));
        }
    }

    /// Records that `peer` claims to have finalized height `h` (from STATUS or
    /// consensus traffic for a later height); fetches if it reaches ours.
    void note_peer_height(std::uint32_t peer, std::uint64_t h, effects& out) {
        if (peer == index_) return;
        if (sync_.note_claim(peer, h, cur_.height, now())) request_sync(out);
    }

    error_code on_status(const envelope& e, effects& out) {
        auto s = decode_status(e.body);
        if (!s) return make_error(errc::malformed);
        note_peer_height(e.sender, s->height, out);
        if (was_holding_) {
            heard_.insert(e.sender);
            resume_after_hold(out);
        }
        if (s->height < chain_.height())
            send(out, e.sender, msg_type::status, chain_.height(), 0,
                 encode(status_body{chain_.height(), chain_.head_hash()}));
        return {};
    }

    /// Asks one peer that claims our height for blocks (catch_up picks it).
    void request_sync(effects& out) {
        if (storage_error_) {
            // After a failed append, fetch again at most once per STATUS period;
            // never when a failed write reached the disk (restart needed).
            if (now() < storage_failed_ms_ + opts_.status_interval_ms || stranded()) return;
        }
        auto peer = sync_.next_request(cur_.height, now());
        if (!peer) return;
        send(out, *peer, msg_type::get_blocks, cur_.height, 0,
             encode(get_blocks_body{cur_.height, opts_.sync_batch_blocks}));
    }

    error_code on_get_blocks(const envelope& e, effects& out) {
        auto g = decode_get_blocks(e.body);
        if (!g) return make_error(errc::malformed);
        std::vector<bytes> blocks;
        std::size_t total = 0;
        const std::uint32_t want = std::min(g->count, opts_.sync_batch_blocks);
        for (std::uint64_t h = g->from; h <= chain_.height() && blocks.size() < want; ++h) {
            if (h == 0) continue;
            auto raw = chain_.storage().load_raw(h);
            if (!raw) break;
            total += raw->size();
            if (!blocks.empty() && total > opts_.sync_batch_bytes) break;
            blocks.push_back(std::move(*raw));
        }
        send(out, e.sender, msg_type::blocks, chain_.height(), 0, encode_blocks(blocks));
        return {};
    }

    /// Blocks from a peer: each is checked once (block and certificate) and
    /// appended. A bad one ends the batch and is held against the peer; one we
    /// could not store is not (it was good; our disk failed).
    error_code on_blocks(const envelope& e, effects& out) {
        auto blocks = decode_blocks(e.body);
        if (!blocks) return make_error(errc::malformed);
        if (stranded()) return {};  // nothing can be checked against an unknown state; not the peer's fault
        const std::uint64_t before = cur_.height;
        error_code result_ec;
        bool local_failure = false;
        for (auto& fb : *blocks) {
            if (fb.blk.header.height < cur_.height) continue;
            if (fb.blk.header.height > cur_.height) break;
            auto cb = chain_.check(std::move(fb), known_valid(), &sigs_);
            if (!cb) {
                result_ec = make_error(errc::bad_certificate);
                break;
            }
            if (!finalize(std::move(*cb), true, out)) {
                local_failure = true;
                break;
            }
        }
        // (on_message checked that the sender is a genesis validator)
        if (sync_.on_answer(e.sender, cur_.height > before || local_failure, e.height, cur_.height, now()))
            out.log.push_back("validator " + std::to_string(e.sender) + " did not serve the blocks it claimed");
        request_sync(out);
        return result_ec;
    }

    chain_type chain_;
    key_pair key_;
    Clock clock_;
    engine_options opts_;
    ledger::mempool<Suite> pool_;
    /// Batch signatures verified here (pool admission, gossip, blocks): a batch costs one
    /// verification. A cache, so kept mutable.
    mutable signature_checker<Suite> sigs_{1u << 16};
    std::uint32_t index_;
    height_state cur_;
    std::deque<envelope> future_;
    catch_up sync_;
    std::function<result<void>(const signed_record&)> save_state_;  ///< the forward-only file (none: chain.db only)
    signed_record saved_;                 ///< what the file holds
    std::uint64_t sign_floor_ = 0;        ///< sign nothing below this height (signed_state ahead of chain.db)
    bool started_ = false;
    std::uint64_t started_ms_ = 0;
    bool was_holding_ = false;            ///< the start-up hold was on at the last look
    std::set<std::uint32_t> heard_;       ///< validators whose STATUS arrived since start (start-up hold)
    error_code storage_error_;            ///< the last failed durable write, until writes work again
    std::uint64_t storage_failed_ms_ = 0; ///< when it failed
    engine_stats stats_;
};

}  // namespace ballotchain::consensus
