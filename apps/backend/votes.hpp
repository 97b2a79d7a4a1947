#pragma once
/// @file The backend's votes: a vote request read with bounds
/// (`read_vote_request`), its transaction built, signed and checked against
/// the chain's rules (`vote_maker`), and the two vote endpoints over the
/// store, group commit and the outbox (`votes`): POST /api/votes/submit and
/// GET /api/votes/transaction-status (docs/backend.md, "How a vote is kept").
///
/// A vote is checked against every rule the chain applies to a transaction
/// (from the same genesis) before it is stored, so the validators refuse a
/// stored vote only when they run with another genesis. Such a definitive
/// refusal marks the vote 'rejected' with the reason (outbox.hpp), and the
/// voter may vote again.

#include "elections.hpp"
#include "group_commit.hpp"
#include "http_util.hpp"
#include "metrics.hpp"
#include "outbox.hpp"
#include "vote_pipeline.hpp"
#include "secret_ballots.hpp"
#include "store.hpp"
#include "store_failure.hpp"
#include "vote_maker.hpp"
#include "vote_status.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/rules.hpp>
#include <ballotchain/chain/types.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/hmac.hpp>
#include <ballotchain/crypto/sha256.hpp>
#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/rpc/http_server.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <spdlog/spdlog.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ballotchain::backend {

/// Reads the body of POST /api/votes/submit: `election_id` and `candidate_id`
/// (positive integers; candidate_id 0 when absent or null: a secret ballot made by
/// the client has none) and `encrypted_vote` (padded base64 of at most
/// `max_vote_bytes` bytes, the genesis's max_encrypted_vote_bytes; empty when
/// absent). Throws http_error 422 saying what is wrong, in that order.
inline vote_request read_vote_request(const bjson::object& b, std::size_t max_vote_bytes) {
    vote_request r;
    r.election_id = get_id(b, "election_id");
    if (const auto* c = b.if_contains("candidate_id"); c && !c->is_null()) r.candidate_id = get_id(b, "candidate_id");
    const std::size_t max_b64 = (max_vote_bytes + 2) / 3 * 4;
    const auto ev = get_string(b, "encrypted_vote", 0, limits::max_encrypted_vote_bytes / 3 * 4 + 8, std::string());
    if (ev.size() > max_b64)
        throw http_error{http::status::unprocessable_entity,
                         "encrypted_vote is too large: at most " + std::to_string(max_vote_bytes) +
                             " bytes (the chain's max_encrypted_vote_bytes), " + std::to_string(max_b64) +
                             " base64 characters"};
    auto payload = app::decode_base64(ev, max_vote_bytes);
    if (!payload) throw http_error{http::status::unprocessable_entity, "encrypted_vote must be padded base64"};
    r.encrypted_vote = std::move(*payload);
    return r;
}

/// The vote endpoints over the store, group commit and the outbox.
///
/// @tparam Transport the verifying client's `client::async_rpc_transport`
/// @tparam Clock     a `clock`: wall time decides whether an election is open
///                   and stamps votes
///
/// @par Thread safety
/// Every member may be called from any thread: the store, group commit and
/// the outbox lock on their own, the maker is immutable, the counters are atomics.
template <client::async_rpc_transport Transport, clock Clock>
class votes {
public:
    using outbox_type = outbox<Transport, Clock>;
    using secret_type = secret_ballots<Transport, Clock>;

    /// Everything is the caller's and must outlive this object. Without `secret`,
    /// votes in encrypted elections are refused (500).
    votes(store& db, elections<Clock>& el, group_commit& commit, outbox_type& box, const vote_maker& maker,
          const Clock& clock, secret_type* secret = nullptr)
        : db_(db), elections_(el), commit_(commit), outbox_(box), maker_(maker), clock_(clock), secret_(secret),
          sender_([&box](const std::vector<vote_row>& vs) { return box.submit_many(vs); }) {}

    /// From now on, a vote request that can be deferred (`info` from a server) is answered
    /// from a pipeline thread (vote_pipeline.hpp): at most `capacity` votes wait (beyond: 503
    /// with Retry-After), and `decorate` is applied to each answer. Call before serving.
    void use_pipeline(std::size_t capacity, std::function<void(rpc::http_response&)> decorate = {}) {
        pipeline_.emplace(
            [this](const std::vector<vote_row*>& rows) {
                maker_.sign_rows(rows);  // one signature for everything stored together
                outbox_.claim_new(rows);  // this instance sends them: no other works on them meanwhile
                return must(db_.add_votes(std::vector<const vote_row*>(rows.begin(), rows.end())));
            },
                          [this](const std::vector<vote_row>& vs) { return outbox_.submit_many(vs); }, capacity,
                          std::move(decorate));
    }
    /// Answers what waits and stops the pipeline's thread (before the server's io_context goes).
    void stop_pipeline() {
        if (pipeline_) pipeline_->stop();
    }

    /// POST /api/votes/submit of user `u` with body `b`. Every check happens
    /// before the vote is stored (a stored vote holds the voter's one place
    /// until the chain counts it or refuses it): the request (422), the
    /// election (404) and that it is open (400), the candidate (422), the
    /// voter's earlier vote (409), every rule the chain applies to a
    /// transaction (500: our own configuration is wrong). Then the vote is
    /// stored durably and sent once through the outbox; the answer says what
    /// became of it (200, or 503 when the validators refused it). Throws
    /// http_error or store_failure.
    /// Each request that gets here counts once in counters(): accepted (by what became of
    /// its first send) or refused (by reason).
    rpc::http_response submit(const user_row& u, const bjson::object& b, unsigned ver,
                              const rpc::request_info* info = nullptr) {
        try {
            return checked_submit(u, b, ver, info);
        } catch (const http_error& e) {
            counters_.add(refusal_of(e.status));
            throw;
        } catch (...) {
            counters_.add(vote_refused::error);
            throw;
        }
    }

    /// Votes accepted and refused at submit (for /metrics).
    const vote_counters& counters() const noexcept { return counters_; }

private:
    /// submit() without the counting of refusals.
    rpc::http_response checked_submit(const user_row& u, const bjson::object& b, unsigned ver,
                                      const rpc::request_info* info) {
        vote_request r = read_vote_request(b, maker_.genesis().max_encrypted_vote_bytes);
        const auto election_id = r.election_id, candidate_id = r.candidate_id;
        const auto e = elections_.load_election(election_id);
        const auto now = clock_.wall_ms();
        if (now < e.start_ms || now >= e.end_ms) throw http_error{http::status::bad_request, "the election is not open"};
        if (e.ballot == ballot_kind::plain && e.chain == definition_status::rejected)
            throw http_error{http::status::conflict, "the validators refused this election's definition: " + e.chain_detail};

        vote_maker::made_vote made;
        if (e.ballot == ballot_kind::encrypted) {
            // A secret ballot: the client's, proofs checked here, or one sealed here for candidate_id.
            if (!secret_) throw http_error{http::status::internal_server_error, "this backend takes no secret ballots"};
            made = maker_.make_ballot(u.id, election_id, secret_->ballot_for(e, u.id, r), now);
        } else {
            if (candidate_id == 0) throw http_error{http::status::unprocessable_entity, "candidate_id is required"};
            made = maker_.make(u.id, std::move(r), now);
            bool found = false;
            for (const auto& c : must(db_.candidates(election_id))) found = found || c.id == candidate_id;
            if (!found)
                throw http_error{http::status::unprocessable_entity, "candidate_id is not a candidate of this election"};
        }
        auto& [tx, v] = made;
        if (auto mine = must(db_.vote_by_user(u.id, election_id)))
            throw http_error{http::status::conflict, "you have already voted in this election (transaction " +
                                                         to_hex(mine->tx_hash) + ", " +
                                                         std::string(to_string(mine->status)) + ")"};
        const std::optional<vote_row> earlier = must(db_.last_rejected_vote(u.id, election_id));
        if (auto c = maker_.check(tx); !c) {
            // Our own configuration cannot make a valid transaction; store nothing.
            spdlog::error("vote of user {} fails the chain's rules before storing: {}", u.id, c.error().message());
            throw http_error{http::status::internal_server_error,
                             "the backend cannot make a valid transaction: " + c.error().message()};
        }
        // With a server to answer later, the request's thread is freed here: the pipeline stores
        // the votes queued meanwhile in one transaction, sends them in one call and answers
        // (vote_pipeline.hpp). Otherwise (no server: tests) the same steps run on this thread.
        auto answer = [this, row = v, earlier, now, ver](std::optional<std::int64_t> id, const send_result* sent) {
            return stored_answer(row, id, sent, earlier, now, ver, counters_);
        };
        if (pipeline_ && info)
            if (auto respond = info->defer()) {
                vote_pipeline::job j{v, std::move(answer), respond, ver};
                if (!pipeline_->push(j)) {
                    counters_.add(vote_refused::busy);
                    pipeline_->busy(respond, ver);
                }
                return {};
            }
        maker_.sign_rows(std::vector<vote_row*>{&v});  // a batch of one
        outbox_.claim_new(std::vector<vote_row*>{&v});
        auto id = commit_.record(v);  // durable (synchronous=FULL) before anything leaves
        if (!id) return answer(id, nullptr);
        v.id = *id;
        const auto sent = sender_.run(v);  // with the votes of concurrent requests, in one call
        return answer(id, &sent);
    }

public:
    /// GET /api/votes/transaction-status?transaction_id=0x...[&election_id=N]:
    /// one of our votes as stored (confirmed on the spot when a receipt the
    /// client verified shows it final), or else what the validators can prove
    /// of the transaction. Throws http_error (422, 404, 503) or store_failure.
    bjson::object transaction_status(std::string_view query) {
        const auto tid = app::query_param(query, "transaction_id");
        if (!tid) throw http_error{http::status::unprocessable_entity, "transaction_id is required"};
        auto th = from_hex_fixed<32>(*tid);
        if (!th) throw http_error{http::status::unprocessable_entity, "transaction_id must be a 0x-prefixed 32-byte hex hash"};
        std::optional<std::int64_t> election;
        if (app::query_param(query, "election_id")) election = query_id(query, "election_id");
        std::optional<vote_row> v = must(db_.vote_by_tx(*th));
        if (v && election && v->election_id != *election) v.reset();
        bjson::object out{{"transaction_id", to_hex(*th)}, {"gas_used", "0x0"}};
        const auto st = v ? v->status : vote_status::pending;
        if (!v || st != vote_status::confirmed) {
            const auto r = outbox_.lookup_receipt(*th);
            if (!v) {  // not one of ours: what the validators say
                if (r.st == receipt_info::state::unreachable)
                    throw http_error{http::status::service_unavailable, "no validator reachable"};
                if (r.st != receipt_info::state::confirmed) throw http_error{http::status::not_found, "transaction not found"};
                out["status"] = to_string(vote_status::confirmed);
                out["confirmed"] = true;
                out["block_number"] = r.block;
                out["block_hash"] = r.block_hash;
                out["source"] = "poa_validators";
                return out;
            }
            if (r.st == receipt_info::state::confirmed) {
                outbox_.confirm(*v, r);  // the lookup found it final: record that
                v->status = vote_status::confirmed;
                v->block_number = r.block;
                v->block_hash = r.block_hash;
            }
        }
        return status_json(*v);
    }

    /// One of our votes as stored, as transaction-status shows it, without asking any validator
    /// (the vote events' view); nullopt when it is not ours (or of another election).
    std::optional<bjson::object> stored_status(const hash32& th, std::optional<std::int64_t> election = std::nullopt) {
        std::optional<vote_row> v = must(db_.vote_by_tx(th));
        if (!v || (election && v->election_id != *election)) return std::nullopt;
        return status_json(*v);
    }

    /// A stored vote as transaction-status shows it.
    static bjson::object status_json(const vote_row& v) {
        bjson::object out{{"transaction_id", to_hex(v.tx_hash)}, {"gas_used", "0x0"}};
        out["status"] = to_string(v.status);
        out["confirmed"] = v.status == vote_status::confirmed;
        out["election_id"] = v.election_id;
        if (v.block_number) out["block_number"] = *v.block_number; else out["block_number"] = nullptr;
        if (!v.block_hash.empty()) out["block_hash"] = v.block_hash; else out["block_hash"] = nullptr;
        out["validator"] = v.validator;
        out["source"] = v.status == vote_status::pending && v.fallback ? "fallback_chain" : "poa_validators";
        if (v.status == vote_status::rejected) out["detail"] = v.detail;
        return out;
    }

private:
    /// The answer to a vote request once the vote is stored (`id`; nullopt: its voter has a vote
    /// in flight, 409) and sent (`sent`).
    static rpc::http_response stored_answer(vote_row v, std::optional<std::int64_t> id, const send_result* sent,
                                            const std::optional<vote_row>& earlier, std::uint64_t now, unsigned ver,
                                            vote_counters& counters) {
        if (!id || !sent) {
            counters.add(vote_refused::conflict);
            return rpc::detail_response(http::status::conflict, "you have already voted in this election", ver);
        }
        v.id = *id;
        bjson::object out{{"id", v.id},
                          {"transaction_id", to_hex(v.tx_hash)},
                          {"ballot_hash", v.ballot_hash},
                          {"timestamp", app::iso_time(now)}};
        if (earlier)  // this vote replaces one the chain refused
            out["previous_attempt"] = bjson::object{{"transaction_id", to_hex(earlier->tx_hash)},
                                                    {"status", to_string(vote_status::rejected)},
                                                    {"detail", earlier->detail}};
        if (sent->st == send_result::state::submitted) {
            counters.add(vote_accepted::submitted);
            out["status"] = to_string(vote_status::submitted);
            out["validator"] = sent->node;
            out["block_hash"] = nullptr;
            return rpc::json_response(http::status::ok, out, ver);
        }
        if (sent->st == send_result::state::rejected) {  // the voter's place is free again: say so, and which vote it was
            counters.add(vote_refused::validators_refused);
            return rpc::json_response(
                http::status::service_unavailable,
                bjson::object{{"detail", "the validators refused the vote (" + sent->detail +
                                             "); it was not counted and you may vote again"},
                              {"transaction_id", to_hex(v.tx_hash)},
                              {"status", to_string(vote_status::rejected)}},
                ver);
        }
        if (sent->st == send_result::state::queued) {  // a validator's pool is full: queued here, sent later
            counters.add(vote_accepted::pending);
            out["status"] = to_string(vote_status::pending);
            out["validator"] = sent->node;
            out["source"] = "outbox";
            return rpc::json_response(http::status::ok, out, ver);
        }
        // No validator answered: the vote is safe in the outbox (and, a plain vote, on the fallback chain).
        out["status"] = to_string(vote_status::pending);
        counters.add(sent->on_fallback ? vote_accepted::fallback : vote_accepted::pending);
        if (sent->on_fallback) {
            out["source"] = "fallback_chain";
            out["warning"] = "Vote recorded in local blockchain (PoA validators unreachable)";
        } else {
            out["source"] = "outbox";
            out["warning"] = "PoA validators unreachable: the vote is kept by the backend and sent when one answers";
        }
        return rpc::json_response(http::status::ok, out, ver);
    }

    store& db_;
    elections<Clock>& elections_;
    group_commit& commit_;
    outbox_type& outbox_;
    const vote_maker& maker_;
    const Clock& clock_;
    secret_type* secret_;
    combiner<vote_row, send_result> sender_;  ///< the first send of new votes, many in one call
    std::optional<vote_pipeline> pipeline_;   ///< set by use_pipeline(): requests answered from its thread
    vote_counters counters_;                  ///< accepted and refused at submit
};

}  // namespace ballotchain::backend
