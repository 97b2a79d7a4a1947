#pragma once
/// @file Secret ballots in the backend (docs/backend.md, "Secret ballots";
/// the protocol is docs/election-protocol.md).
///
/// An encrypted election's definition (and, on a chain whose genesis sets
/// elections_defined, a plain election's) is published on the chain as a record
/// signed with the submitter key (deterministic: the same bytes every time, so
/// re-sending it can never define the election twice); the validators then make
/// its key by themselves. The backend never holds a decryption key: it learns
/// the election key, and later the decrypted tally, from the validators, and
/// believes a value only when more validators give it than can be faulty
/// (f + 1 = n − quorum + 1: at least one of them is honest). The key, once
/// agreed, is kept in backend.db: it never changes.
///
/// A voter's ballot is either made by the client (`encrypted_vote`: the backend
/// checks its proofs against the voter's own tag before storing anything) or,
/// for a client that sends only `candidate_id` (the seed's API), sealed here,
/// which shows the backend that one choice while it handles the request (it is
/// stored nowhere).

#include "elections.hpp"
#include "http_util.hpp"
#include "outbox.hpp"
#include "store.hpp"
#include "store_failure.hpp"
#include "throttle.hpp"
#include "validator_client.hpp"
#include "vote_maker.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/chain/election.hpp>
#include <ballotchain/chain/trustee.hpp>
#include <ballotchain/client/client.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/elgamal.hpp>
#include <ballotchain/rpc/errors.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ballotchain::backend {

/// What enough validators agree on about one encrypted election (poa_getElection).
struct agreed_election {
    std::size_t answered = 0;  ///< validators that answered
    std::size_t needed = 1;    ///< answers that must agree: max_faulty + 1
    std::string phase;         ///< the phase `needed` validators report ("" when they do not agree)
    std::optional<ristretto::point> key;  ///< the election key `needed` validators give
    /// Ballots on the chain: at least `needed` validators count this many or more.
    std::uint64_t ballots = 0;
    /// The decrypted tally (candidate id → votes) `needed` validators give, once there is one.
    std::optional<std::map<std::uint64_t, std::uint64_t>> results;
    std::size_t results_agreeing = 0;  ///< validators that gave `results`
    std::vector<std::uint32_t> decrypted_by;
    std::uint64_t height = 0;  ///< the lowest height among the validators that gave `results` (else the highest seen)
};

/// What the validators' answers to poa_getElection agree on, each value
/// believed only when `need` answers give it. Pure: the unit tests feed it.
inline agreed_election agree_on_election(const std::vector<client::node_answer>& answers, std::size_t need) {
    agreed_election out;
    out.needed = std::max<std::size_t>(need, 1);
    std::map<std::string, std::size_t> phases, keys, tallies;
    std::vector<std::uint64_t> ballots;
    std::map<std::string, std::pair<const boost::json::object*, std::uint64_t>> tally_of;  // by its text: an answer, min height
    std::uint64_t top = 0;
    for (const auto& a : answers) {
        if (!a.out.ok()) continue;
        ++out.answered;
        if (a.out.value.is_null()) {  // that validator has no such election on its chain
            ++phases["undefined"];
            ballots.push_back(0);
            continue;
        }
        const auto* o = a.out.value.if_object();
        if (!o) continue;
        auto str = [&](const char* k) -> std::string {
            const auto* v = o->if_contains(k);
            return v && v->is_string() ? std::string(v->as_string()) : std::string();
        };
        auto num = [&](const char* k) -> std::uint64_t {
            const auto* v = o->if_contains(k);
            return v && v->is_number() ? v->to_number<std::uint64_t>() : 0;
        };
        const std::string ph = str("phase");
        ++phases[ph];
        if (ph == "ready" && !str("election_key").empty()) ++keys[str("election_key")];
        ballots.push_back(num("ballots"));
        const std::uint64_t h = num("height");
        top = std::max(top, h);
        const auto* res = o->if_contains("results");
        if (res && res->is_object()) {
            const auto text = boost::json::serialize(*res) + "|" + std::to_string(num("ballots"));
            ++tallies[text];
            auto [it, fresh] = tally_of.try_emplace(text, o, h);
            if (!fresh) it->second.second = std::min(it->second.second, h);
        }
    }
    out.height = top;
    for (const auto& [ph, n] : phases)
        if (n >= out.needed) out.phase = ph;
    for (const auto& [k, n] : keys) {
        if (n < out.needed) continue;
        const auto b = from_hex(k);
        if (b) out.key = ristretto::point::decode(*b);
    }
    std::sort(ballots.begin(), ballots.end(), std::greater<>());
    if (ballots.size() >= out.needed) out.ballots = ballots[out.needed - 1];
    for (const auto& [text, n] : tallies) {
        if (n < out.needed) continue;
        const auto& [o, h] = tally_of.at(text);
        std::map<std::uint64_t, std::uint64_t> r;
        bool ok = true;
        for (const auto& [cand, count] : o->at("results").as_object()) {
            std::uint64_t id = 0;
            const auto key = std::string(cand);
            auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
            if (ec != std::errc{} || p != key.data() + key.size() || !count.is_number()) ok = false;
            else r[id] = count.to_number<std::uint64_t>();
        }
        if (!ok) continue;
        out.results = std::move(r);
        out.results_agreeing = n;
        out.height = h;
        out.ballots = o->at("ballots").to_number<std::uint64_t>();
        out.phase = "ready";
        if (const auto* d = o->if_contains("decrypted_by"); d && d->is_array())
            for (const auto& x : d->as_array())
                if (x.is_number()) out.decrypted_by.push_back(x.to_number<std::uint32_t>());
    }
    return out;
}

/// The backend's side of encrypted elections over the store, the verifying client and the
/// vote maker (its submitter key, voter tags and the genesis).
///
/// @tparam Transport the client's `client::async_rpc_transport`
/// @tparam Clock     a `clock`
///
/// @par Thread safety
/// Every member may be called from any thread: the store and the client lock on their
/// own, the maker is immutable, and the cache computes at most once at a time.
template <client::async_rpc_transport Transport, clock Clock>
class secret_ballots {
public:
    using client_type = validator_client<Transport, Clock>;

    struct options {
        std::uint64_t cache_ms = 2'000;  ///< how long an agreed election state is reused
    };

    /// Everything is the caller's and must outlive this object.
    secret_ballots(store& db, client_type& client, const vote_maker& maker, const Clock& clock, options opt)
        : db_(db), client_(client), maker_(maker), clock_(clock), opt_(opt) {}

    /// Answers that must agree before the backend believes a validator's word: f + 1, f of the
    /// largest of the genesis set and the latest set the client learned (a change may have
    /// grown the set, and with it the validators that may lie).
    std::size_t needed() const {
        const auto vs = client_.validators();
        const std::size_t latest = vs.epochs().empty() ? 0 : vs.epochs().back().byzantine();
        return std::max<std::size_t>(maker_.genesis().max_faulty(), latest) + 1;
    }

    /// The definition record of election `e` (encrypted, or plain on a chain whose genesis sets
    /// elections_defined), signed, stamped with its creation time: the same transaction (and
    /// hash) every time it is made.
    vote_tx definition_tx(const election_row& e) const {
        election::definition d;
        d.ballot = e.ballot == ballot_kind::encrypted ? election::ballot_kind::encrypted : election::ballot_kind::plain;
        d.name = e.name;
        for (const auto& c : must(db_.candidates(e.id)))  // by ascending id: the ballots' order
            d.candidates.push_back({static_cast<std::uint64_t>(c.id), c.name});
        d.start_ms = e.start_ms;
        d.end_ms = e.end_ms;
        if (d.ballot == election::ballot_kind::encrypted) {  // a plain definition has neither
            d.key_deadline_ms = e.key_deadline_ms;
            d.threshold = e.threshold;
        }
        vote_tx tx;
        tx.kind = tx_kind::define_election;
        tx.chain_id = maker_.genesis().chain_id;
        tx.election_id = static_cast<std::uint64_t>(e.id);
        tx.encrypted_vote = election::encode(d);
        tx.voter_tag = election::slot_tag(tx_kind::define_election, 0);
        tx.timestamp_ms = e.created_ms;
        (void)maker_.sign(tx);
        return tx;
    }

    /// One step for `e`'s definition: final once a verified receipt shows it, else sent
    /// to a validator; a definitive refusal is recorded with its reason. Returns the status
    /// it has afterwards.
    definition_status publish(const election_row& e) {
        if (e.chain == definition_status::none || e.chain == definition_status::final ||
            e.chain == definition_status::rejected)
            return e.chain;
        vote_tx tx = definition_tx(e);
        const hash32 th = tx_hash<ed25519_sha256>(tx);
        if (auto c = maker_.check(tx); !c) {
            set(e, definition_status::rejected, "the backend cannot make a valid definition: " + c.error().message());
            return definition_status::rejected;
        }
        if (e.chain == definition_status::submitted)
            if (final(th)) return set(e, definition_status::final, {});
        auto ack = client_.send_vote(tx);
        if (ack) return set(e, definition_status::submitted, {});
        const auto& err = ack.error();
        if (err.kind != client::errc::rpc_error) return e.chain;  // nobody answered (truthfully): next tick
        if (err.rpc_code == rpc::tx_code::duplicate_vote && final(th)) return set(e, definition_status::final, {});
        if (definitive_refusal(err.rpc_code)) {  // the outbox's own rule: no retry can change it
            const std::string why = err.message.substr(0, 300) + " (" + err.node + ", JSON-RPC error " +
                                    std::to_string(err.rpc_code) + ")";
            spdlog::error("election {}: the validators refused its definition: {}", e.id, why);
            return set(e, definition_status::rejected, why);
        }
        return e.chain;  // a full pool, a node's trouble: next tick
    }

    /// One pass over the elections whose definition is published and not final yet.
    std::size_t tick(const std::function<bool()>& stop = {}) {
        std::size_t changed = 0;
        for (const auto& e : must(db_.elections())) {
            if (stop && stop()) break;
            if (e.chain != definition_status::pending && e.chain != definition_status::submitted)
                continue;
            changed += publish(e) != e.chain;
        }
        return changed;
    }

    /// What the validators agree on about `e` now (reused for cache_ms unless `fresh`).
    /// Throws 503 when none answers.
    agreed_election state(const election_row& e, bool fresh = false) {
        auto compute = [&]() -> std::optional<agreed_election> {
            boost::json::array params;
            params.emplace_back(e.id);
            auto answers = client_.ask_each("poa_getElection", std::move(params));
            if (!answers) return std::nullopt;
            return agree_on_election(*answers, needed());
        };
        std::optional<agreed_election> a;
        if (fresh) a = compute();
        else if (auto c = cache_.get(e.id, clock_.now_ms(), opt_.cache_ms, compute)) a = c->value;
        if (!a) throw http_error{http::status::service_unavailable, "no validator reachable"};
        return *a;
    }

    /// The election key of `e`: the one stored, or the one `needed()` validators agree on
    /// (then stored). Throws 409 while it is not ready (with the phase), 503 when no
    /// validator answers, 502 when they do not agree.
    ristretto::point key(const election_row& e) {
        if (e.election_key.size() == 32)
            if (auto k = ristretto::point::decode(e.election_key)) return *k;
        if (e.chain == definition_status::rejected)
            throw http_error{http::status::conflict, "the validators refused this election's definition: " + e.chain_detail};
        const agreed_election a = state(e, true);
        if (a.key) {
            must(db_.set_election_key(e.id, bytes(a.key->view().begin(), a.key->view().end())));
            return *a.key;
        }
        if (a.phase.empty() || a.phase == "ready")  // ready, yet no key enough of them give
            throw http_error{http::status::bad_gateway, "the validators do not agree on this election's key (" +
                                                            std::to_string(a.answered) + " answered, " +
                                                            std::to_string(needed()) + " must agree)"};
        if (a.phase == "key_ceremony_failed")
            throw http_error{http::status::conflict, "the key ceremony of this election failed: it cannot take ballots"};
        throw http_error{http::status::conflict, "the election key is not ready yet (" +
                                                     std::string(a.phase == "undefined" ? "definition not yet final"
                                                                                         : "key ceremony in progress") +
                                                     "); retry in a few seconds"};
    }

    /// Candidates in ballot order (ascending id, as in the definition).
    std::vector<candidate_row> candidates(const election_row& e) const { return must(db_.candidates(e.id)); }

    /// GET /api/elections/{id}/ballot: what a client needs to seal `user`'s ballot itself.
    boost::json::object context(const election_row& e, std::int64_t user) {
        if (e.ballot != ballot_kind::encrypted)
            throw http_error{http::status::bad_request, "this election takes plain votes: send candidate_id"};
        const auto k = key(e);
        boost::json::array cs;
        for (const auto& c : candidates(e)) {
            boost::json::object o;
            o["id"] = c.id;
            o["name"] = c.name;
            cs.push_back(std::move(o));
        }
        boost::json::object out;
        out["election_id"] = e.id;
        out["chain_id"] = maker_.genesis().chain_id;
        out["ballot"] = "encrypted";
        out["election_key"] = to_hex(k.view());
        out["voter_tag"] = to_hex(maker_.voter_tag(e.id, user));
        out["ballot_bytes"] = election::ballot_size(cs.size());
        out["candidates"] = std::move(cs);
        return out;
    }

    /// The encoded ballot of `user` in encrypted election `e` for request `r`: the client's
    /// own (`encrypted_vote`), its proofs checked against the election key and the user's
    /// voter tag; or, with only `candidate_id`, one sealed here. Throws http_error 422 (what
    /// is wrong with the request), 409/502/503 (no key, see key()).
    bytes ballot_for(const election_row& e, std::int64_t user, const vote_request& r) {
        using unprocessable = http_error;
        const auto cands = candidates(e);
        if (!r.encrypted_vote.empty() && r.candidate_id != 0)
            throw unprocessable{http::status::unprocessable_entity,
                                "send encrypted_vote or candidate_id, not both: a ballot sealed by the client must not "
                                "tell the backend its choice"};
        if (r.encrypted_vote.empty() && r.candidate_id == 0)
            throw unprocessable{http::status::unprocessable_entity,
                                "encrypted_vote (a sealed ballot) or candidate_id is required"};
        std::optional<std::uint32_t> choice;
        if (r.candidate_id != 0) {
            for (std::uint32_t i = 0; i < cands.size(); ++i)
                if (cands[i].id == r.candidate_id) choice = i;
            if (!choice)
                throw unprocessable{http::status::unprocessable_entity, "candidate_id is not a candidate of this election"};
        }
        const auto k = key(e);
        const elgamal::proof_context ctx{maker_.genesis().chain_id, static_cast<std::uint64_t>(e.id), k,
                                         maker_.voter_tag(e.id, user), {}};
        if (choice) return election::encode(elgamal::seal_ballot(ctx, static_cast<std::uint32_t>(cands.size()), *choice));
        if (r.encrypted_vote.size() != election::ballot_size(cands.size()))
            throw unprocessable{http::status::unprocessable_entity,
                                "encrypted_vote is not a ballot of this election: " + std::to_string(cands.size()) +
                                    " candidates make a ballot of " + std::to_string(election::ballot_size(cands.size())) +
                                    " bytes, not " + std::to_string(r.encrypted_vote.size())};
        auto b = election::decode_ballot(r.encrypted_vote);
        if (!b) throw unprocessable{http::status::unprocessable_entity, "encrypted_vote does not decode as a ballot"};
        if (!elgamal::verify_ballot(ctx, *b))
            throw unprocessable{http::status::unprocessable_entity,
                                "encrypted_vote's proofs do not verify for your voter tag under this election's key "
                                "(GET /api/elections/" + std::to_string(e.id) + "/ballot gives both)"};
        return r.encrypted_vote;
    }

private:
    definition_status set(const election_row& e, definition_status st, const std::string& detail) {
        if (st != e.chain || detail != e.chain_detail) must(db_.set_definition_status(e.id, st, detail));
        return st;
    }

    /// True when a receipt the client verified shows `th` final.
    bool final(const hash32& th) {
        auto r = client_.get_transaction_receipt(th);
        return r && *r;
    }

    store& db_;
    client_type& client_;
    const vote_maker& maker_;
    const Clock& clock_;
    options opt_;
    single_flight<std::int64_t, agreed_election> cache_{1024};
};

}  // namespace ballotchain::backend
