#pragma once
/// @file The QBFT-style Proof-of-Authority engine as a pure state machine.
///
/// Events in (start, message, timer, transaction), effects out (messages to
/// send, timers to set, blocks finalized, equivocations seen). No sockets,
/// threads or system clock inside: the clock is a policy, the caller moves
/// bytes and fires timers. The protocol is written up in docs/protocol.md.

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/ledger/mempool.hpp>
#include <ballotchain/consensus/messages.hpp>
#include <ballotchain/consensus/record.hpp>
#include <ballotchain/core/clock.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

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

/// Everything one event asks the caller to do, in order.
struct effects {
    std::vector<outbound> messages;
    std::vector<timer_request> timers;
    std::vector<finalized_event> finalized;
    std::vector<equivocation_event> equivocations;
    std::vector<std::string> log;  ///< notable events for the node's log

    void clear() {
        messages.clear();
        timers.clear();
        finalized.clear();
        equivocations.clear();
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

    /// Builds an engine over an opened chain. A key that is not a genesis
    /// validator makes an observer that only follows (syncs) the chain.
    static result<engine> create(chain_type chain, std::optional<key_pair> key, Clock clk,
                                 engine_options opts = {}) {
        engine e(std::move(chain), std::move(key), std::move(clk), opts);
        if (auto ec = e.restore()) return ec;
        return e;
    }

    engine(engine&&) noexcept = default;
    engine& operator=(engine&&) noexcept = default;

    // ---- inspection -------------------------------------------------------------
    const chain_type& chain() const noexcept { return chain_; }
    chain_type& chain() noexcept { return chain_; }
    const ledger::mempool<Suite>& pool() const noexcept { return pool_; }
    const genesis_config& genesis() const noexcept { return chain_.genesis(); }
    std::uint64_t height() const noexcept { return height_; }  ///< height being decided
    std::uint32_t round() const noexcept { return round_; }
    std::optional<std::uint32_t> index() const noexcept { return index_; }
    bool is_validator() const noexcept { return index_.has_value(); }
    /// True while the node is behind and does not vote: at least f+1 distinct
    /// validators (so at least one honest one) claim a final block at or above
    /// the height being decided. A single claim, which may be a lie, only makes
    /// the node fetch blocks; it keeps voting meanwhile.
    bool syncing() const noexcept { return claims_at_or_above(height_) >= byz_f() + 1; }
    /// Highest height a trusted peer claims to have finalized.
    std::uint64_t best_peer_height() const noexcept {
        std::uint64_t m = 0;
        for (const auto& p : peers_) m = std::max(m, p.height);
        return m;
    }
    const engine_stats& stats() const noexcept { return stats_; }
    const signed_record& record() const noexcept { return record_; }
    const Clock& clock_policy() const noexcept { return clock_; }
    /// Why the last durable write failed (the signed-state record, a prepared
    /// block or a final block, e.g. a full disk); empty once a block is appended
    /// again or, with nothing to fetch, a probe write of the record succeeds on a
    /// STATUS tick. Nothing whose record failed is ever sent (§6 of
    /// docs/protocol.md); a block it could not append is not held against the
    /// peer that served it, and is fetched again at most once per STATUS period.
    error_code storage_failure() const noexcept { return storage_error_; }

    // ---- events -----------------------------------------------------------------

    /// Starts the node: announces its status and arms its timers.
    void start(effects& out) {
        broadcast_status(out);
        arm(out, timer_kind::status, 0, 0, now() + opts_.status_interval_ms);
        enter_height_timers(out);
    }

    /// Handles one message received from the network. Returns why it was
    /// refused (effects may still be produced, e.g. an equivocation report).
    error_code on_message(byte_view data, effects& out) {
        std::size_t signed_len = 0;
        auto env = decode_envelope(data, &signed_len);
        if (!env) return reject(errc::malformed);
        if (env->chain_id != genesis().chain_id) return reject(errc::wrong_chain);
        if (env->sender >= genesis().n()) return reject(errc::unknown_sender);
        if (!verify_envelope_sig<Suite>(genesis().validators[env->sender].key, data.first(signed_len),
                                                 env->sig))
            return reject(errc::bad_signature);
        if (index_ && env->sender == *index_) return {};  // our own message echoed back
        auto ec = dispatch(*env, out);
        if (ec) ++stats_.rejected;
        return ec;
    }

    /// Handles a timer the caller set from a timer_request.
    void on_timer(const timer_request& t, effects& out) {
        switch (t.kind) {
        case timer_kind::status:
            // A write failed and there is no block to fetch (whose append would
            // tell): find out whether writes work again.
            if (storage_error_ && best_peer_height() <= chain_.height() && persist()) storage_error_ = {};
            broadcast_status(out);
            request_sync(out);
            arm(out, timer_kind::status, 0, 0, now() + opts_.status_interval_ms);
            break;
        case timer_kind::propose:
            if (t.height == height_ && round_ == 0) {
                propose_ready_ = true;
                maybe_propose_round0(out);
            }
            break;
        case timer_kind::round:
            if (t.height != height_ || t.round != round_) return;
            if (!index_ || syncing()) {
                // Not voting: keep the timer alive and keep asking for blocks.
                arm(out, timer_kind::round, height_, round_, now() + round_timeout(round_));
                request_sync(out);
                return;
            }
            enter_round(round_ + 1, out);
            send_round_change(out);
            regossip(out);
            break;
        }
    }

    /// Submits a transaction from a local client: checks it, pools it and
    /// gossips it. Returns its hash or why it was refused.
    result<hash32> submit(vote_tx tx, effects& out) {
        auto th = pool_.add(tx, chain_);
        if (!th) return th;
        std::vector<vote_tx> one{std::move(tx)};
        broadcast(out, msg_type::txs, height_, 0, encode_txs(one));
        after_tx_admitted(out);
        return th;
    }

    /// Submits many transactions; gossips the accepted ones in one message.
    std::vector<result<hash32>> submit_batch(std::vector<vote_tx> txs, effects& out) {
        std::vector<result<hash32>> res;
        res.reserve(txs.size());
        std::vector<vote_tx> accepted;
        for (auto& tx : txs) {
            auto th = pool_.add(tx, chain_);
            if (th) accepted.push_back(std::move(tx));
            res.push_back(std::move(th));
        }
        if (!accepted.empty()) {
            broadcast(out, msg_type::txs, height_, 0, encode_txs(accepted));
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

    engine(chain_type c, std::optional<key_pair> key, Clock clk, engine_options opts)
        : chain_(std::move(c)), key_(std::move(key)), clock_(std::move(clk)), opts_(opts),
          pool_(opts.mempool_capacity), peers_(chain_.genesis().n()) {
        if (key_) index_ = chain_.genesis().validator_index(key_->public_key());
    }

    std::uint64_t now() const { return clock_.now_ms(); }
    std::size_t quorum() const { return genesis().quorum(); }
    /// Byzantine bound used by the round-jump and catch-up rules: f = floor((n-1)/3).
    std::size_t byz_f() const noexcept { return (genesis().n() - 1) / 3; }

    /// min(base * 2^r, cap), without overflow for any r.
    std::uint64_t round_timeout(std::uint32_t r) const {
        const auto& g = genesis();
        std::uint64_t t = g.round_timeout_ms;
        for (std::uint32_t i = 0; i < r && t < g.round_timeout_max_ms; ++i) t *= 2;
        return std::min(t, g.round_timeout_max_ms);
    }

    error_code reject(errc e) {
        ++stats_.rejected;
        return make_error(e);
    }

    // ---- restart ----------------------------------------------------------------

    error_code restore() {
        height_ = chain_.height() + 1;
        height_start_ms_ = now();
        record_ = signed_record{};
        record_.height = height_;
        auto raw = chain_.storage().get_meta(record_key);
        if (!raw) return {};
        auto rec = decode_signed_record(*raw);
        if (!rec) return make_error(storage_ns::errc::corrupt);
        if (rec->height != height_) return {};  // a record for a height already final: nothing binds us
        record_ = std::move(*rec);
        round_ = record_.round;
        if (record_.prepared) {
            if (auto pb = chain_.storage().get_meta(prepared_block_key)) {
                auto b = decode_block(*pb);
                if (b && block_hash<Suite>(b->header) == record_.prepared->block_hash)
                    candidates_.emplace(record_.prepared->block_hash, std::move(*b));
            }
        }
        return {};
    }

    /// Durably writes the record; nothing is signed if this fails.
    bool persist() { return stored(chain_.storage().put_meta(record_key, encode(record_))); }

    /// Notes a failed durable write (see storage_failure()); true if `r` succeeded.
    bool stored(const result<void>& r) {
        if (r) return true;
        storage_error_ = r.error();
        storage_failed_ms_ = now();
        return false;
    }

    // ---- output helpers ---------------------------------------------------------

    void arm(effects& out, timer_kind k, std::uint64_t h, std::uint32_t r, std::uint64_t at) {
        out.timers.push_back({k, h, r, at});
    }

    envelope make_envelope(msg_type t, std::uint64_t h, std::uint32_t r, bytes body) {
        envelope e;
        e.chain_id = genesis().chain_id;
        e.type = t;
        e.sender = index_.value_or(0);
        e.height = h;
        e.round = r;
        e.body = std::move(body);
        return e;
    }

    /// Signs and queues a message. Observers sign nothing: they only send
    /// STATUS/GET_BLOCKS, which then fail verification at the peer — so they
    /// use the zero key slot only in tests; real observers use RPC instead.
    envelope send(effects& out, std::optional<std::uint32_t> to, msg_type t, std::uint64_t h, std::uint32_t r,
                  bytes body, bytes attachment = {}) {
        envelope e = make_envelope(t, h, r, std::move(body));
        e.attachment = std::move(attachment);
        if (key_) sign_envelope<Suite>(e, *key_);
        if (index_) out.messages.push_back({to, t, ballotchain::consensus::encode(e)});
        return e;
    }
    envelope broadcast(effects& out, msg_type t, std::uint64_t h, std::uint32_t r, bytes body, bytes att = {}) {
        return send(out, std::nullopt, t, h, r, std::move(body), std::move(att));
    }

    void broadcast_status(effects& out) {
        if (!index_) return;
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
        if (e.height < height_) return make_error(errc::stale);
        if (e.height > height_) {
            if (e.height > height_ + opts_.max_future_heights) return make_error(errc::too_far_ahead);
            if (future_.size() >= opts_.max_future_messages) return make_error(errc::buffer_full);
            future_.push_back(e);
            // Consensus traffic for a later height means the sender finalized ours.
            note_peer_height(e.sender, e.height - 1, out);
            return {};
        }
        return consensus_message(e, out);
    }

    error_code consensus_message(const envelope& e, effects& out) {
        if (e.round > round_ + opts_.max_future_rounds) return make_error(errc::too_far_ahead);
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
        if (e.sender != genesis().proposer_index(e.height, e.round)) return make_error(errc::not_proposer);
        if (e.round < round_) return make_error(errc::stale);
        auto p = decode_proposal(e.body);
        if (!p) return make_error(errc::malformed);
        const block& b = p->blk;
        const hash32 bh = block_hash<Suite>(b.header);
        auto& rs = rounds_[e.round];
        if (rs.proposal) {
            if (*rs.proposal == bh) return {};
            report_equivocation(out, e);
            return make_error(errc::equivocation);
        }
        if (b.header.height != e.height || b.header.round > e.round) return make_error(errc::invalid_block);
        if (auto ec = check_justification(e, *p, bh)) return ec;
        if (b.header.timestamp_ms > clock_.wall_ms() + opts_.max_clock_skew_ms) return make_error(errc::invalid_block);
        if (!candidates_.contains(bh)) {
            if (chain_.validate_block(b, known_valid()))
                return make_error(errc::invalid_block);
        }
        // A justified proposal for a later round moves us there.
        if (e.round > round_) enter_round(e.round, out);
        rs.proposal = bh;
        remember_block(bh, b);
        if (index_ && !rs.sent_prepare && !syncing() && record_.may_sign(false, e.round, bh)) {
            record_.prepare = signed_vote{e.round, bh};
            record_.round = std::max(record_.round, e.round);
            if (persist()) {
                rs.sent_prepare = true;
                envelope pe = broadcast(out, msg_type::prepare, height_, e.round, encode_prepare(bh));
                rs.prepares[*index_] = {bh, pe.sig};
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
            if (j.sender >= genesis().n() || !senders.insert(j.sender).second)
                return make_error(errc::bad_justification);
            const bytes sb =
                signing_bytes(genesis().chain_id, msg_type::round_change, j.sender, e.height, e.round, encode(j.body));
            if (!verify_envelope_sig<Suite>(genesis().validators[j.sender].key, sb, j.sig))
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
            if (s.validator >= genesis().n()) return false;
            if (i > 0 && s.validator <= pc.prepares[i - 1].validator) return false;
            const bytes sb = signing_bytes(genesis().chain_id, msg_type::prepare, s.validator, h, pc.round, body);
            if (!verify_envelope_sig<Suite>(genesis().validators[s.validator].key, sb, s.sig)) return false;
        }
        return true;
    }

    void remember_block(const hash32& bh, const block& b) {
        if (candidates_.size() >= opts_.max_candidate_blocks) return;
        if (!candidates_.emplace(bh, b).second) return;
        for (const auto& tx : b.txs) checked_txs_.insert(tx_hash<Suite>(tx));
    }

    /// Txs whose signatures were already checked: pooled, or in a validated candidate.
    auto known_valid() const {
        return [this](const hash32& th) { return pool_.is_known_valid(th) || checked_txs_.contains(th); };
    }

    // ---- PREPARE / COMMIT -------------------------------------------------------

    error_code on_prepare(const envelope& e, effects& out) {
        auto bh = decode_prepare(e.body);
        if (!bh) return make_error(errc::malformed);
        auto& rs = rounds_[e.round];
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
        if (!Suite::verify(genesis().validators[e.sender].key,
                            seal_message(genesis().chain_id, e.height, e.round, c->block_hash), c->seal))
            return make_error(errc::bad_signature);
        auto& rs = rounds_[e.round];
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
        if (r != round_) return;
        auto& rs = rounds_[r];
        if (!rs.proposal || rs.sent_commit || !index_ || syncing()) return;
        auto seals = seals_for(rs.prepares, *rs.proposal);
        if (seals.size() < quorum()) return;
        const hash32 bh = *rs.proposal;
        if (!record_.may_sign(true, r, bh)) return;
        prepared_certificate pc{r, bh, std::move(seals)};
        // The prepared block is part of the record: stored first, or no COMMIT.
        if (!record_.prepared || record_.prepared->block_hash != bh) {
            auto it = candidates_.find(bh);
            if (it != candidates_.end() &&
                !stored(chain_.storage().put_meta(prepared_block_key, ballotchain::encode(it->second))))
                return;
        }
        record_.prepared = pc;
        record_.commit = signed_vote{r, bh};
        record_.round = std::max(record_.round, r);
        if (!persist()) return;
        rs.sent_commit = true;
        const signature seal =
            make_seal<Suite>(*key_, *index_, genesis().chain_id, height_, r, bh).sig;
        broadcast(out, msg_type::commit, height_, r, encode(commit_body{bh, seal}));
        rs.commits[*index_] = {bh, seal};
        check_committed(r, out);
    }

    /// q COMMIT seals for a block we hold: final.
    void check_committed(std::uint32_t r, effects& out) {
        auto rit = rounds_.find(r);
        if (rit == rounds_.end()) return;
        std::map<hash32, std::size_t> counts;
        for (const auto& [v, x] : rit->second.commits) ++counts[x.block_hash];
        for (const auto& [bh, n] : counts) {
            if (n < quorum()) continue;
            auto bit = candidates_.find(bh);
            if (bit == candidates_.end()) return;  // we lack the block: STATUS/GET_BLOCKS will bring it
            finalized_block fb;
            fb.blk = bit->second;
            fb.cert = commit_certificate{height_, r, bh, seals_for(rit->second.commits, bh)};
            finalize(std::move(fb), false, out);
            return;
        }
    }

    // ---- ROUND-CHANGE -----------------------------------------------------------

    error_code on_round_change(const envelope& e, effects& out) {
        if (e.round == 0) return make_error(errc::malformed);
        if (e.round < round_) return make_error(errc::stale);
        auto body = decode_round_change(e.body);
        if (!body) return make_error(errc::malformed);
        if (body->prepared) {
            if (body->prepared->round >= e.round || !valid_prepared(e.height, *body->prepared))
                return make_error(errc::bad_certificate);
            if (!e.attachment.empty() && !candidates_.contains(body->prepared->block_hash)) {
                auto b = decode_block(e.attachment);
                if (b && block_hash<Suite>(b->header) == body->prepared->block_hash &&
                    !chain_.validate_block(*b, known_valid()))
                    remember_block(body->prepared->block_hash, *b);
            }
        }
        auto& rs = rounds_[e.round];
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
        if (index_ && !syncing()) {
            std::set<std::uint32_t> ahead;
            std::optional<std::uint32_t> lowest;
            for (const auto& [r, rs] : rounds_) {
                if (r <= round_ || rs.round_changes.empty()) continue;
                for (const auto& [v, _] : rs.round_changes) ahead.insert(v);
                if (!lowest) lowest = r;
            }
            if (lowest && ahead.size() >= byz_f() + 1) {
                enter_round(*lowest, out);
                send_round_change(out);
            }
        }
        // q ROUND-CHANGEs for a round at or above ours start it.
        for (auto it = rounds_.rbegin(); it != rounds_.rend(); ++it) {
            const auto r = it->first;
            if (r < round_ || r == 0) break;
            if (it->second.round_changes.size() < quorum()) continue;
            if (r > round_) enter_round(r, out);
            maybe_propose_round(r, out);
            break;
        }
    }

    void send_round_change(effects& out) {
        if (!index_) return;
        const std::uint32_t r = round_;
        if (record_.round_change && *record_.round_change >= r) return;
        record_.round_change = r;
        record_.round = std::max(record_.round, r);
        if (!persist()) return;
        round_change_body body{record_.prepared};
        bytes att;
        if (record_.prepared) {
            auto it = candidates_.find(record_.prepared->block_hash);
            if (it != candidates_.end()) att = ballotchain::encode(it->second);
        }
        envelope e = broadcast(out, msg_type::round_change, height_, r, encode(body), std::move(att));
        rounds_[r].round_changes[*index_] = signed_round_change{*index_, std::move(body), e.sig};
        after_round_change(out);
    }

    void enter_round(std::uint32_t r, effects& out) {
        if (r <= round_) return;
        round_ = r;
        ++stats_.round_changes;
        out.log.push_back("height " + std::to_string(height_) + ": round change to " + std::to_string(r));
        arm(out, timer_kind::round, height_, r, now() + round_timeout(r));
        round_timer_armed_ = true;
        // Drop rounds far below: votes there can no longer matter except commits.
        check_prepared(r, out);
    }

    // ---- proposing ----------------------------------------------------------------

    bool am_proposer(std::uint32_t r) const { return index_ && *index_ == genesis().proposer_index(height_, r); }

    void maybe_propose_round0(effects& out) {
        if (round_ != 0 || !propose_ready_ || !am_proposer(0) || syncing()) return;
        auto& rs = rounds_[0];
        if (rs.proposed) return;
        if (pool_.empty() && !genesis().empty_blocks) return;  // wait for a transaction
        rs.proposed = true;
        block b = chain_.build_block(0, clock_.wall_ms(), pool_.batch(genesis().max_block_txs), *key_);
        send_proposal(0, std::move(b), {}, out);
    }

    void maybe_propose_round(std::uint32_t r, effects& out) {
        if (r != round_ || !am_proposer(r) || syncing()) return;
        auto& rs = rounds_[r];
        if (rs.proposed) return;
        std::vector<signed_round_change> just;
        const prepared_certificate* best = nullptr;
        for (const auto& [v, rc] : rs.round_changes) {
            just.push_back(rc);
            if (rc.body.prepared && (!best || rc.body.prepared->round > best->round)) best = &*rc.body.prepared;
        }
        block b;
        if (best) {
            auto it = candidates_.find(best->block_hash);
            if (it == candidates_.end()) return;  // wait for a round change that carries the block
            b = it->second;
        } else {
            b = chain_.build_block(r, clock_.wall_ms(), pool_.batch(genesis().max_block_txs), *key_);
        }
        rs.proposed = true;
        send_proposal(r, std::move(b), std::move(just), out);
    }

    void send_proposal(std::uint32_t r, block b, std::vector<signed_round_change> just, effects& out) {
        ++stats_.proposals;
        proposal_body p{std::move(b), std::move(just)};
        envelope e = broadcast(out, msg_type::proposal, height_, r, encode(p));
        out.log.push_back("proposed block " + std::to_string(height_) + " round " + std::to_string(r) + " with " +
                          std::to_string(p.blk.txs.size()) + " transactions");
        (void)on_proposal(e, out);  // handle our own proposal: PREPARE it
    }

    // ---- transactions -------------------------------------------------------------

    error_code on_txs(const envelope& e, effects& out) {
        auto txs = decode_txs(e.body);
        if (!txs) return make_error(errc::malformed);
        bool any = false;
        for (auto& tx : *txs)
            if (pool_.add(std::move(tx), chain_)) any = true;
        if (any) after_tx_admitted(out);
        return {};
    }

    void after_tx_admitted(effects& out) {
        if (!round_timer_armed_ && index_) {
            round_timer_armed_ = true;
            const std::uint64_t from =
                round_ == 0 ? std::max(now(), height_start_ms_ + genesis().block_interval_ms) : now();
            arm(out, timer_kind::round, height_, round_, from + round_timeout(round_));
        }
        maybe_propose_round0(out);
    }

    /// After a timeout, re-send the oldest pending txs so the next proposer has them.
    void regossip(effects& out) {
        if (pool_.empty()) return;
        auto batch = pool_.batch(genesis().max_block_txs);
        broadcast(out, msg_type::txs, height_, round_, encode_txs(batch));
    }

    // ---- finality and sync --------------------------------------------------------

    /// Appends a block with a valid certificate and moves to the next height.
    /// Returns false when it could not be stored (a local failure).
    bool finalize(finalized_block fb, bool via_sync, effects& out) {
        const hash32 bh = block_hash<Suite>(fb.blk.header);
        std::vector<hash32> ths;
        ths.reserve(fb.blk.txs.size());
        for (const auto& tx : fb.blk.txs) ths.push_back(tx_hash<Suite>(tx));
        auto r = chain_.append(fb, known_valid());
        if (!r) {
            out.log.push_back("could not append block " + std::to_string(fb.blk.header.height) + ": " +
                              r.error().message());
            // The block and its certificate were checked: what failed is the write.
            if (r.error().category() != make_error(ballotchain::chain::errc::wrong_chain_id).category()) stored(r);
            return false;
        }
        storage_error_ = {};
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
        height_ = chain_.height() + 1;
        round_ = 0;
        rounds_.clear();
        candidates_.clear();
        checked_txs_.clear();
        record_ = signed_record{};
        record_.height = height_;
        height_start_ms_ = now();
        propose_ready_ = false;
        round_timer_armed_ = false;
        enter_height_timers(out);
        // Replay what arrived early for this height; drop what is now stale.
        std::deque<envelope> later;
        std::vector<envelope> now_msgs;
        for (auto& e : future_) {
            if (e.height == height_)
                now_msgs.push_back(std::move(e));
            else if (e.height > height_)
                later.push_back(std::move(e));
        }
        future_ = std::move(later);
        for (const auto& e : now_msgs) {
            if (e.height != height_) break;  // a replayed message finalized this height already
            (void)consensus_message(e, out);
        }
    }

    void enter_height_timers(effects& out) {
        if (!index_) return;
        if (round_ > 0) {
            // Restarted in a later round (from the signed-state record): keep the round clock running.
            round_timer_armed_ = true;
            arm(out, timer_kind::round, height_, round_, now() + round_timeout(round_));
            return;
        }
        if (am_proposer(0)) arm(out, timer_kind::propose, height_, 0, height_start_ms_ + genesis().block_interval_ms);
        // A vote signed here before a restart means a block is in progress: if it
        // stalls, the round must time out even with an empty pool.
        if (!pool_.empty() || genesis().empty_blocks || record_.prepare || record_.commit) {
            round_timer_armed_ = true;
            arm(out, timer_kind::round, height_, 0,
                height_start_ms_ + genesis().block_interval_ms + round_timeout(0));
        }
    }

    /// Distinct validators whose standing claim reaches height h.
    std::size_t claims_at_or_above(std::uint64_t h) const noexcept {
        std::size_t c = 0;
        for (const auto& p : peers_)
            if (p.height >= h) ++c;
        return c;
    }

    /// Records that `peer` claims to have finalized height `h` (from STATUS or
    /// consensus traffic for a later height). Claims from a peer that recently
    /// failed to serve what it claimed are ignored until its penalty ends.
    void note_peer_height(std::uint32_t peer, std::uint64_t h, effects& out) {
        if (peer >= peers_.size() || (index_ && peer == *index_)) return;
        auto& p = peers_[peer];
        if (h >= height_ && now() < p.distrust_until) return;
        p.height = std::max(p.height, h);
        if (h >= height_) request_sync(out);
    }

    error_code on_status(const envelope& e, effects& out) {
        auto s = decode_status(e.body);
        if (!s) return make_error(errc::malformed);
        note_peer_height(e.sender, s->height, out);
        if (s->height < chain_.height() && index_)
            send(out, e.sender, msg_type::status, chain_.height(), 0,
                 encode(status_body{chain_.height(), chain_.head_hash()}));
        return {};
    }

    /// A peer did not deliver blocks it claimed (no reply in time, or an empty
    /// one): forget its claim and ignore new ones for a while, doubling with
    /// each failure in a row, so a crashed or lying peer cannot hold us in
    /// catch-up and the next request goes to another peer.
    void sync_failed(std::uint32_t peer, std::uint64_t its_height) {
        auto& p = peers_[peer];
        p.height = std::min(p.height, its_height);
        const std::uint32_t k = std::min<std::uint32_t>(p.failures++, 5);
        p.distrust_until = now() + (opts_.sync_timeout_ms << k);
        ++stats_.sync_failures;
    }

    /// Asks one peer that claims our height for blocks. Sticks with a peer
    /// that serves; after a timeout moves on to the next claimer in turn.
    void request_sync(effects& out) {
        if (!index_) return;
        // After a failed append, fetch again at most once per STATUS period.
        if (storage_error_ && now() < storage_failed_ms_ + opts_.status_interval_ms) return;
        if (sync_inflight_) {
            if (now() < sync_sent_ms_ + opts_.sync_timeout_ms) return;
            sync_inflight_ = false;
            sync_failed(sync_peer_, height_ - 1);
        }
        const auto n = static_cast<std::uint32_t>(peers_.size());
        std::optional<std::uint32_t> pick;
        for (std::uint32_t k = 0; k < n && !pick; ++k) {
            const std::uint32_t p = (sync_peer_ + k) % n;  // k = 0: the current peer, if it still qualifies
            if (peers_[p].height >= height_) pick = p;
        }
        if (!pick) return;
        sync_inflight_ = true;
        sync_sent_ms_ = now();
        sync_peer_ = *pick;
        send(out, *pick, msg_type::get_blocks, height_, 0, encode(get_blocks_body{height_, opts_.sync_batch_blocks}));
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

    error_code on_blocks(const envelope& e, effects& out) {
        auto blocks = decode_blocks(e.body);
        if (!blocks) return make_error(errc::malformed);
        const bool answer = sync_inflight_ && e.sender == sync_peer_;
        if (answer) sync_inflight_ = false;
        const std::uint64_t before = height_;
        error_code result_ec;
        bool local_failure = false;
        for (auto& fb : *blocks) {
            if (fb.blk.header.height < height_) continue;
            if (fb.blk.header.height > height_) break;
            const hash32 bh = block_hash<Suite>(fb.blk.header);
            if (chain_.validate_certificate(fb.blk.header, bh, fb.cert) ||
                chain_.validate_block(fb.blk, known_valid())) {
                result_ec = make_error(errc::bad_certificate);
                break;
            }
            if (!finalize(std::move(fb), true, out)) {
                local_failure = true;  // the peer served a good block; our write failed
                break;
            }
        }
        // (on_message checked that the sender is a genesis validator)
        if (height_ > before || local_failure) {
            peers_[e.sender].failures = 0;
        } else if (answer && peers_[e.sender].height >= height_) {
            // It claimed more than it delivered: not trusted for that claim.
            sync_failed(e.sender, std::min(e.height, height_ - 1));
        }
        request_sync(out);
        return result_ec;
    }

    chain_type chain_;
    std::optional<key_pair> key_;
    Clock clock_;
    engine_options opts_;
    ledger::mempool<Suite> pool_;
    std::optional<std::uint32_t> index_;

    std::uint64_t height_ = 1;
    std::uint32_t round_ = 0;
    std::uint64_t height_start_ms_ = 0;
    bool propose_ready_ = false;
    bool round_timer_armed_ = false;
    std::map<std::uint32_t, round_state> rounds_;
    std::map<hash32, block> candidates_;
    std::unordered_set<hash32> checked_txs_;
    signed_record record_;
    std::deque<envelope> future_;

    /// What one validator claimed, and how far it is trusted for catch-up.
    struct peer_claim {
        std::uint64_t height = 0;          ///< claimed final height
        std::uint64_t distrust_until = 0;  ///< ignore its claims until then
        std::uint32_t failures = 0;        ///< failed fetches from it in a row
    };
    std::vector<peer_claim> peers_;  ///< by validator index
    bool sync_inflight_ = false;
    std::uint64_t sync_sent_ms_ = 0;
    std::uint32_t sync_peer_ = 0;
    error_code storage_error_;            ///< the last failed durable write, until writes work again
    std::uint64_t storage_failed_ms_ = 0; ///< when it failed

    engine_stats stats_;
};

}  // namespace ballotchain::consensus
