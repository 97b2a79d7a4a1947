#pragma once
/// @file The outbox: every stored vote not yet final, and the one place that
/// moves a vote from status to status.
///
/// A vote record (store.hpp) is written 'pending' before anything leaves the
/// backend. The outbox then sends its raw transaction to a validator through
/// the verifying client (client/client.hpp: round-robin, healthy first,
/// failing over on no answer or a transient refusal) and records what came
/// back; `tick()` walks the open votes again, confirms the final ones from
/// their receipts, and re-sends the others. A receipt counts only once the
/// client has verified it against the genesis (block header hash, a commit
/// certificate with a quorum of the genesis validators' seals, the Merkle
/// proof): no single validator can make a vote 'confirmed'. Same raw
/// transaction every time, so the chain (which refuses a second tx hash and a
/// second voter tag per election) holds it exactly once. docs/backend.md,
/// "How a vote is kept".
///
/// No HTTP and no threads here: the service's background loop calls `tick()`,
/// its submit handler calls `submit()`, both through the client's synchronous
/// forms. The client's Transport and Clock are policies, so
/// tests/unit/backend/outbox_test.cpp drives the outbox with validators in
/// memory over a real chain and a manual clock.

#include "fallback.hpp"
#include "metrics.hpp"
#include "store.hpp"
#include "store_failure.hpp"
#include "validator_client.hpp"
#include "vote_status.hpp"

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/client/client.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/rpc/errors.hpp>

#include <spdlog/spdlog.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ballotchain::backend {

/// What can happen to a vote.
enum class vote_event : std::uint8_t {
    sent,      ///< went to a validator that will not take it now (full pool, its own trouble): retry later
    accepted,  ///< a validator acknowledged it (or already holds this very transaction)
    refused,   ///< a validator refused it definitively (see definitive_refusal)
    final,     ///< a receipt shows it in a final block
};

/// The transition table: the status a vote in `from` moves to on `e`, or
/// nullopt when `e` does not apply (nothing is written). Every status change
/// of a vote goes through here. A receipt outranks an earlier refusal (one
/// validator may refuse what another already finalized); nothing leaves
/// 'confirmed'.
inline constexpr std::optional<vote_status> next_status(vote_status from, vote_event e) noexcept {
    using enum vote_status;
    switch (from) {
    case pending:
    case submitted:
        switch (e) {
        case vote_event::sent: return from;
        case vote_event::accepted: return submitted;
        case vote_event::refused: return rejected;
        case vote_event::final: return confirmed;
        }
        break;
    case rejected:
        if (e == vote_event::final) return confirmed;
        break;
    case confirmed: break;
    }
    return std::nullopt;
}

/// True for a refusal of eth_sendRawTransaction that no retry can turn into a
/// success: the transaction itself breaks a rule of the validators' chain
/// (signature, submitter, size, chain id, encoding), or another vote of the same
/// voter tag holds its place, or its candidate or time breaks the election's
/// definition on the chain. Not: a full pool, a node's storage trouble or
/// overload, an election not (yet) defined at that validator (its definition may
/// not be final there yet: unknown_election), anything unknown.
inline constexpr bool definitive_refusal(std::int64_t code) noexcept {
    return code == rpc::tx_code::invalid_signature || code == rpc::tx_code::unauthorized_submitter ||
           code == rpc::tx_code::vote_too_large || code == rpc::tx_code::wrong_chain ||
           code == rpc::tx_code::duplicate_vote || code == rpc::tx_code::election_rule ||
           code == rpc::tx_code::unknown_candidate || code == rpc::tx_code::outside_voting_window ||
           code == rpc::code::invalid_params;
}

/// What a receipt lookup found.
struct receipt_info {
    enum class state : std::uint8_t {
        confirmed,    ///< a receipt the client verified shows it final
        not_final,    ///< validators answered, none with a verified receipt (yet)
        unreachable,  ///< no validator answered
    };
    state st = state::unreachable;
    std::uint64_t block = 0;  ///< when confirmed
    std::string block_hash;   ///< when confirmed: 0x-hex
    std::string node;         ///< when confirmed: the validator that served the receipt
};

/// What one attempt to send a vote came to.
struct send_result {
    enum class state : std::uint8_t {
        submitted,    ///< a validator took it (or it is already final)
        queued,       ///< a validator answered but will not take it now: stays in the outbox
        rejected,     ///< refused for good (detail says why)
        unreachable,  ///< no validator answered
    };
    state st = state::unreachable;
    std::string node;    ///< the validator that answered
    std::string detail;  ///< why it was refused
    bool on_fallback = false;  ///< (submit only) recorded on the fallback chain
};

/// The outbox over a store, the verifying client and a fallback ledger.
///
/// @tparam Transport the client's `client::async_rpc_transport`
/// @tparam Clock     a `clock`; votes' times are its wall_ms (the client's
///                   health book keeps a copy)
///
/// @par Thread safety
/// Every member may be called from any thread: the store and the client lock
/// per operation (the client's synchronous forms each run on their own
/// io_context) and the outbox holds no state of its own beyond its options and
/// its counters (atomics).
/// Two callers may send the same vote at once (submit and tick); the chain
/// holds it once and each store write is a transition from the table.
template <client::async_rpc_transport Transport, clock Clock>
class outbox {
public:
    using client_type = validator_client<Transport, Clock>;

    struct options {
        std::uint64_t pending_grace_ms = 1000;  ///< a new 'pending' vote is left to its submit this long
        std::uint64_t resend_after_ms = 15'000;  ///< re-send a vote not final after this long
        std::size_t batch = 512;                ///< open votes looked at per tick
        /// This backend instance, as its claims on votes name it (store::claim_open_votes).
        std::string owner = "local";
        /// How long a claim holds: the votes of an instance that stopped without releasing
        /// them (killed) are taken over by another this long after its last tick.
        std::uint64_t claim_ms = 30'000;
    };

    /// Everything is the caller's and must outlive this object. The client should
    /// make one pass over the validators per call (client_options::max_rounds = 1):
    /// a voter whose vote finds every validator down gets the fallback chain at
    /// once, and tick() is the retry.
    outbox(store& db, client_type& client, fallback_ledger& fallback, const Clock& clock, options opt)
        : db_(db), client_(client), fallback_(fallback), clock_(clock), opt_(opt) {}

    /// Stamps rows about to be stored with this instance's claim, so no other instance
    /// works on them while this one sends them (its tick renews the claim).
    void claim_new(const std::vector<vote_row*>& rows) const {
        const auto until = clock_.wall_ms() + opt_.claim_ms;
        for (auto* r : rows) {
            r->claimed_by = opt_.owner;
            r->claimed_until = until;
        }
    }

    /// Ends this instance's claims (a clean stop): another instance may take its votes at once.
    void release_claims() { must(db_.release_claims(opt_.owner)); }

    /// The first send of a vote just stored (the voter waits for this). When no
    /// validator answers, the vote is also recorded on the fallback chain; it
    /// stays 'pending' and tick() sends it later.
    /// @pre `v` is as stored: status 'pending', `id` set.
    send_result submit(const vote_row& v) {
        auto r = send(v);
        if (r.st == send_result::state::unreachable && fallback_.record(v, clock_.wall_ms())) {
            must(db_.mark_fallback(v.id));
            r.on_fallback = true;
            stats_.fallback_in_use.store(true, std::memory_order_relaxed);
        }
        return r;
    }

    /// One attempt to send `v` to a validator; records the outcome.
    send_result send(const vote_row& v) {
        auto tx = decode_tx(v.raw_tx);
        if (!tx) {  // the validators would refuse these bytes (invalid params): as definitive as their refusal
            send_result res{send_result::state::rejected, {}, "the stored transaction does not decode: " + tx.error().message(), false};
            spdlog::error("vote {}: {}", to_hex(v.tx_hash), res.detail);
            apply(v, vote_event::refused, res.detail);
            return res;
        }
        auto ack = client_.send_vote(*tx);
        if (ack) {  // taken, or already held (duplicate_tx: that very transaction is pooled or final)
            stats_.fallback_in_use.store(false, std::memory_order_relaxed);
            send_result res{send_result::state::submitted, ack->node, {}, false};
            apply(v, vote_event::accepted, res.node);
            return res;
        }
        const client::call_error& e = ack.error();
        if (e.kind != client::errc::rpc_error) {
            // No answer, or only answers that failed verification (a validator that acknowledges another
            // hash): as good as no answer. Kept; the next tick sends it again.
            if (e.kind == client::errc::misbehaving)
                spdlog::warn("vote {}: no validator acknowledged it truthfully: {}", to_hex(v.tx_hash), e.what());
            return {};
        }
        return on_refusal(v, e);
    }

    /// The first send of many votes just stored, in as few calls as can be (client send_votes,
    /// up to rpc::max_raw_transactions a call: one durable write at the validator for all):
    /// for each vote what submit() would have said, the acknowledged ones recorded in one
    /// transaction here. A call that fails as a whole with a JSON-RPC error (a validator
    /// without the method, its own trouble) is retried vote by vote through submit().
    std::vector<send_result> submit_many(const std::vector<vote_row>& vs) {
        std::vector<send_result> out(vs.size());
        for (std::size_t from = 0; from < vs.size(); from += rpc::max_raw_transactions)
            submit_chunk(vs, from, std::min(vs.size(), from + rpc::max_raw_transactions), out);
        return out;
    }

    /// Asks the validators for a transaction's receipt, verified by the client.
    /// A query: writes nothing. A validator that forges a receipt is marked
    /// misbehaving by the client and the next one is asked.
    receipt_info lookup_receipt(const hash32& th) {
        auto r = client_.get_transaction_receipt(th);
        if (!r) {
            switch (r.error().kind) {
            case client::errc::unreachable:
            case client::errc::timeout:
            case client::errc::cancelled:
            case client::errc::no_validators: return {};
            default: return {receipt_info::state::not_final, 0, {}, {}};  // answered, with nothing proven
            }
        }
        if (!*r) return {receipt_info::state::not_final, 0, {}, {}};
        const client::receipt& rc = **r;
        return {receipt_info::state::confirmed, rc.block_number, to_hex(rc.block_hash), rc.node};
    }

    /// Where a vote becomes confirmed: `r` (from lookup_receipt) shows it final.
    /// True when the transition applies (the store may still keep a refused
    /// vote refused when its voter has another vote in flight, store.hpp).
    bool confirm(const vote_row& v, const receipt_info& r) {
        if (r.st != receipt_info::state::confirmed) return false;
        return apply(v, vote_event::final, {}, &r);
    }

    /// One pass over the open votes this instance claims (up to `batch`, oldest
    /// first; another live instance's are left to it): confirms those a receipt
    /// shows final, re-sends 'pending' ones older than pending_grace_ms and
    /// 'submitted' ones sent more than resend_after_ms ago. Stops early when no
    /// validator answers (next tick tries again) or `stop()` says so. Returns
    /// how many votes changed.
    std::size_t tick(const std::function<bool()>& stop = {}) {
        const std::vector<vote_row> open =
            must(db_.claim_open_votes(opt_.owner, opt_.batch, clock_.wall_ms(), opt_.claim_ms));
        std::size_t changed = 0;
        const std::uint64_t now = clock_.wall_ms();
        for (const auto& v : open) {
            if (stop && stop()) break;
            const vote_status st = v.status;
            if (st != vote_status::pending && st != vote_status::submitted) continue;
            // Already final? (A validator may have taken it before we saw its answer.)
            const bool looked = st == vote_status::submitted || v.sent_ms != 0;
            if (looked) {
                stats_.attempts.fetch_add(1, std::memory_order_relaxed);
                const auto r = lookup_receipt(v.tx_hash);
                if (r.st == receipt_info::state::unreachable) {
                    stats_.stalls.fetch_add(1, std::memory_order_relaxed);
                    break;
                }
                if (r.st == receipt_info::state::confirmed) {
                    confirm(v, r);
                    stats_.confirmations.fetch_add(1, std::memory_order_relaxed);
                    ++changed;
                    continue;
                }
            }
            const bool due = st == vote_status::pending ? now >= v.created_ms + opt_.pending_grace_ms
                                                        : now >= v.sent_ms + opt_.resend_after_ms;
            if (!due) continue;
            if (!looked) stats_.attempts.fetch_add(1, std::memory_order_relaxed);
            stats_.resends.fetch_add(1, std::memory_order_relaxed);
            const auto sent = send(v).st;
            if (sent == send_result::state::unreachable) {
                stats_.stalls.fetch_add(1, std::memory_order_relaxed);
                break;
            }
            if (sent == send_result::state::rejected) stats_.rejections.fetch_add(1, std::memory_order_relaxed);
            if (sent != send_result::state::queued) ++changed;
        }
        return changed;
    }

    /// Open votes by status (for /health).
    std::vector<std::pair<vote_status, std::uint64_t>> open_counts() { return must(db_.open_vote_counts()); }

    /// The oldest vote not yet final (for /metrics), if any.
    std::optional<vote_row> oldest_open() {
        auto v = must(db_.open_votes(1));
        if (v.empty()) return std::nullopt;
        return std::move(v.front());
    }

    /// What the replay passes did, and whether the fallback chain is in use (for /metrics).
    const replay_counters& stats() const noexcept { return stats_; }

private:
    /// What a validator's refusal `e` of vote `v` (as stored, 'pending' or 'submitted') means for it.
    send_result on_refusal(const vote_row& v, const client::call_error& e) {
        send_result res{send_result::state::submitted, e.node, {}, false};
        const auto code = e.rpc_code;
        if (code == rpc::tx_code::duplicate_vote) {
            // With our own transaction final this is fine; with another one ours can never be
            // (only if the backend database was rebuilt while the chain kept the old vote).
            if (const auto r = lookup_receipt(v.tx_hash); r.st == receipt_info::state::confirmed) {
                confirm(v, r);
                return res;
            }
        }
        if (!definitive_refusal(code)) {  // a full pool, the node's trouble (every validator said so): keep it and retry
            if (code != rpc::tx_code::pool_full)
                spdlog::warn("vote {}: {}; will retry", to_hex(v.tx_hash), e.what());
            apply(v, vote_event::sent);
            res.st = send_result::state::queued;
            return res;
        }
        res.st = send_result::state::rejected;
        res.detail = refusal_reason(e);
        spdlog::error("vote {} refused by {}: {}; its voter may vote again", to_hex(v.tx_hash), res.node, res.detail);
        apply(v, vote_event::refused, res.detail);
        return res;
    }

    /// Sends vs[from, to) in one call. Votes refused only because another vote of their signed
    /// batch was (batch_refused; that one is answered for what it is) are sent again at once
    /// without it (`retry_batch`), once.
    void submit_chunk(const std::vector<vote_row>& vs, std::size_t from, std::size_t to, std::vector<send_result>& out,
                      bool retry_batch = true) {
        std::vector<vote_tx> txs;
        std::vector<std::size_t> at;
        for (std::size_t i = from; i < to; ++i) {
            auto tx = decode_tx(vs[i].raw_tx);
            if (!tx) {
                out[i] = send(vs[i]);  // refused there as undecodable, with the reason
                continue;
            }
            txs.push_back(std::move(*tx));
            at.push_back(i);
        }
        if (txs.empty()) return;
        auto acks = client_.send_votes(std::move(txs));
        if (!acks) {
            if (acks.error().kind == client::errc::rpc_error) {
                for (const auto i : at) out[i] = submit(vs[i]);
                return;
            }
            if (acks.error().kind == client::errc::misbehaving)
                spdlog::warn("{} votes: no validator acknowledged them truthfully: {}", at.size(), acks.error().what());
            for (const auto i : at) {  // no (truthful) answer: as submit() does, each also on the fallback chain
                send_result r;
                if (fallback_.record(vs[i], clock_.wall_ms())) {
                    must(db_.mark_fallback(vs[i].id));
                    r.on_fallback = true;
                    stats_.fallback_in_use.store(true, std::memory_order_relaxed);
                }
                out[i] = r;
            }
            return;
        }
        std::map<std::string, std::vector<std::int64_t>> taken;  // by the validator that took them
        std::vector<std::size_t> again;                           // refused with their batch
        for (std::size_t k = 0; k < at.size(); ++k) {
            const auto& a = (*acks)[k];
            const auto i = at[k];
            if (a) {
                stats_.fallback_in_use.store(false, std::memory_order_relaxed);
                taken[a->node].push_back(vs[i].id);
                out[i] = {send_result::state::submitted, a->node, {}, false};
            } else if (retry_batch && a.error().rpc_code == rpc::tx_code::batch_refused) {
                again.push_back(i);
            } else {
                out[i] = on_refusal(vs[i], a.error());
            }
        }
        for (const auto& [node, ids] : taken) must(db_.mark_submitted_many(ids, node, clock_.wall_ms()));
        if (again.empty()) return;
        std::vector<vote_row> rest;
        for (const auto i : again) rest.push_back(vs[i]);
        std::vector<send_result> rest_out(rest.size());
        submit_chunk(rest, 0, rest.size(), rest_out, false);
        for (std::size_t k = 0; k < again.size(); ++k) out[again[k]] = rest_out[k];
    }

    /// Records event `e` for `v`: the transition table says which status it
    /// moves to, and that status says what is written (nothing when the event
    /// does not apply). `text` is the validator (accepted) or the reason
    /// (refused); `r` the receipt (final).
    bool apply(const vote_row& v, vote_event e, const std::string& text = {}, const receipt_info* r = nullptr) {
        const auto to = next_status(v.status, e);
        if (!to) return false;
        const auto now = clock_.wall_ms();
        switch (*to) {
        case vote_status::pending: must(db_.mark_sent(v.id, now)); break;
        case vote_status::submitted:
            if (e == vote_event::accepted)
                must(db_.mark_submitted(v.id, text, now));
            else
                must(db_.mark_sent(v.id, now));
            break;
        case vote_status::rejected: must(db_.mark_rejected(v.id, text)); break;
        case vote_status::confirmed:
            if (!r) return false;
            must(db_.confirm_by_tx(v.tx_hash, r->block, r->block_hash));
            break;
        }
        return true;
    }

    /// "unauthorized submitter (validator-2, JSON-RPC error -32002)".
    static std::string refusal_reason(const client::call_error& e) {
        const std::string msg = e.message.empty() ? std::string("refused") : e.message.substr(0, 300);
        return msg + " (" + e.node + ", JSON-RPC error " + std::to_string(e.rpc_code) + ")";
    }

    store& db_;
    client_type& client_;
    fallback_ledger& fallback_;
    const Clock& clock_;
    options opt_;
    replay_counters stats_;
};

}  // namespace ballotchain::backend
