#pragma once
/// @file What the backend reports about the chain: an election's results
/// (a tally the verifying client re-derived from final blocks it checked
/// itself, compared with a validator's poa_getResults), the chain's
/// verification (a validator's poa_verifyChain, its verified prefix checked
/// against a certified header; or, with none reachable, the local fallback
/// chain's own), and the validators' health as the client's book has it
/// (docs/backend.md, "Endpoints"). The expensive answers are reused for a
/// while and computed at most once at a time (`single_flight`, throttle.hpp).

#include "elections.hpp"
#include "fallback.hpp"
#include "http_util.hpp"
#include "secret_ballots.hpp"
#include "store.hpp"
#include "store_failure.hpp"
#include "throttle.hpp"
#include "validator_client.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/client/client.hpp>
#include <ballotchain/core/clock.hpp>

#include <chrono>
#include <cmath>
#include <thread>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ballotchain::backend {

/// Results, verification and validator health over the verifying client, the
/// fallback ledger and the store.
///
/// @tparam Transport the client's `client::async_rpc_transport`
/// @tparam Clock     a `clock`: its now_ms() ages the cached answers, its
///                   wall_ms() stamps them
///
/// @par Thread safety
/// Every member may be called from any thread: the caches, the client, the
/// fallback ledger and the store lock on their own, and no lock is held
/// across a call to a validator except a cache slot's own computation.
template <client::async_rpc_transport Transport, clock Clock>
class reports {
public:
    using client_type = validator_client<Transport, Clock>;
    using secret_type = secret_ballots<Transport, Clock>;

    struct options {
        std::uint64_t verify_cache_ms = 10'000;  ///< how long a chain verification result is reused
        std::uint64_t results_cache_ms = 2'000;  ///< how long a verified tally is reused
    };

    /// Everything is the caller's and must outlive this object.
    /// Without `secret`, encrypted elections have no results (500).
    reports(store& db, client_type& client, fallback_ledger& fallback, elections<Clock>& el, const Clock& clock,
            options opt, secret_type* secret = nullptr)
        : db_(db), client_(client), fallback_(fallback), elections_(el), clock_(clock), opt_(opt), secret_(secret) {}

    /// GET /api/votes/results: the election's verified tally by candidate
    /// (with names and percentages) and the cached verification; for an encrypted
    /// election, the decrypted tally the validators agree on (encrypted_results).
    /// Throws http_error (404, 502, 503) or store_failure.
    bjson::object results(std::int64_t election_id) {
        const auto e = elections_.load_election(election_id);
        if (e.ballot == ballot_kind::encrypted) return encrypted_results(e, false).second;
        const client::tally t = chain_tally(election_id);
        const std::vector<candidate_row> cands = must(db_.candidates(election_id));
        const std::uint64_t total = t.total;  // a vote for a candidate we do not know still counts
        bjson::array rows;
        for (const auto& c : cands) {
            const auto it = c.id >= 0 ? t.results.find(static_cast<std::uint64_t>(c.id)) : t.results.end();
            const std::uint64_t n = it == t.results.end() ? 0 : it->second;
            rows.push_back(bjson::object{{"candidate_id", c.id},
                                         {"candidate_name", c.name},
                                         {"vote_count", n},
                                         {"percentage", total ? std::round(10000.0 * double(n) / double(total)) / 100.0 : 0.0}});
        }
        bjson::object out{{"election_id", election_id},
                          {"election_name", e.name},
                          {"total_votes", total},
                          {"results", std::move(rows)},
                          {"block_height", t.height},
                          {"tally_verified", t.verified}};
        auto ver = chain_verification();
        out["verification"] =
            bjson::object{{"chain_valid", ver ? bjson::value(ver->value.ok) : bjson::value(nullptr)},
                          {"timestamp", ver ? bjson::value(app::iso_time(ver->value.wall_ms)) : bjson::value(nullptr)}};
        return out;
    }

    /// POST /api/votes/verify-blockchain: the cached verification (see
    /// chain_verification) with the election's verified tally; with no
    /// validator reachable, a verification of the local fallback chain, cached
    /// the same way. Throws http_error (404) or store_failure.
    bjson::object verify_blockchain(std::int64_t election_id) {
        (void)elections_.load_election(election_id);
        if (auto v = chain_verification()) {
            bjson::value total = 0, height = nullptr, tally_verified = false;
            try {
                const client::tally t = chain_tally(election_id);
                total = t.total;
                height = t.height + 1;  // blocks counted with block 0, as every endpoint does (docs/api.md)
                tally_verified = t.verified;
            } catch (const http_error&) {  // verified a moment ago, no tally now: the counts stay unknown
            }
            return {{"election_id", election_id},
                    {"chain_valid", v->value.ok},
                    {"total_blocks", height},
                    {"total_votes", total},
                    {"status", v->value.ok ? "valid" : "invalid"},
                    {"source", "poa_validators"},
                    {"timestamp", app::iso_time(v->value.wall_ms)},
                    {"validator", v->value.node},
                    {"verified_hash_certified", v->value.certified},
                    {"tally_verified", tally_verified}};
        }
        // No validator: verify what this backend holds, the fallback chain.
        const auto fv = fallback_verify_cache_.get(0, clock_.now_ms(), opt_.verify_cache_ms, [this] {
            const auto rep = fallback_.verify();
            return std::optional<verification>(verification{rep.ok, clock_.wall_ms(), rep.blocks_checked, false, {}});
        });
        const std::uint64_t total = fallback_.total_votes(static_cast<std::uint64_t>(election_id));
        const std::uint64_t blocks = fallback_.height() + 1;  // with its block 0, as every endpoint counts
        const bool ok = fv && fv->value.ok;
        return {{"election_id", election_id},
                {"chain_valid", ok},
                {"total_blocks", blocks},
                {"total_votes", total},
                {"status", ok ? "valid" : "invalid"},
                {"source", "fallback_chain"},
                {"timestamp", app::iso_time(fv ? fv->value.wall_ms : clock_.wall_ms())},
                {"warning", "PoA validators unreachable: verified the local fallback chain only"}};
    }

    /// POST /api/admin/elections/{id}/tally: refused (400) before the election's end; after
    /// it, asks the validators (fresh, not cached) until `needed` of them agree on the
    /// decrypted tally or `wait_ms` passes. The trustees decrypt by themselves once a
    /// block past the end is final; this asks for the outcome now. 200 with the results
    /// once decrypted, 202 with the same shape (counts null) while not yet.
    std::pair<http::status, bjson::object> tally(std::int64_t election_id, std::uint64_t wait_ms) {
        const auto e = elections_.load_election(election_id);
        const auto now = clock_.wall_ms();
        if (now < e.end_ms)
            throw http_error{http::status::bad_request,
                             "the election has not ended: the tally is decrypted only after " + app::iso_time(e.end_ms)};
        if (e.ballot != ballot_kind::encrypted) return {http::status::ok, results(election_id)};
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
        for (;;) {
            auto r = encrypted_results(e, true);
            if (r.first || std::chrono::steady_clock::now() >= until)
                return {r.first ? http::status::ok : http::status::accepted, r.second};
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
    }

    /// GET /api/admin/validators/health: the client's view of every validator
    /// (from its last probes and calls: "misbehaving" when one of its answers
    /// failed verification) and a summary.
    bjson::object validators_health() {
        bjson::array vs;
        std::size_t healthy = 0;
        const auto snap = client_.health();
        for (const auto& n : snap) {
            if (n.status == client::node_status::healthy) ++healthy;
            vs.push_back(bjson::object{{"node_id", n.info.node_id},
                                       {"rpc_url", n.info.rpc_url},
                                       {"p2p_url", n.info.p2p_url},
                                       {"status", client::to_string(n.status)},
                                       {"block_height", n.height},
                                       {"detail", n.detail},
                                       {"misbehaviours", n.misbehaviours}});
        }
        const double pct = snap.empty() ? 0.0 : std::round(10000.0 * double(healthy) / double(snap.size())) / 100.0;
        return {{"timestamp", app::iso_time(clock_.wall_ms())},
                {"validators", std::move(vs)},
                {"summary", bjson::object{{"healthy", healthy}, {"total", snap.size()}, {"health_percentage", pct}}}};
    }

private:
    /// An encrypted election's results: (decrypted?, the JSON). Counts are null until
    /// `needed` validators agree on the decrypted tally; "total_votes" is then its sum,
    /// before the ballots at least `needed` validators count. "tally_verified" and
    /// "verification.proofs_valid" say that those validators agree and a validator's
    /// check of its whole chain passed (it re-checks every ballot proof, key-ceremony
    /// proof and decryption share: docs/backend.md, "Secret ballots").
    std::pair<bool, bjson::object> encrypted_results(const election_row& e, bool fresh) {
        if (!secret_) throw http_error{http::status::internal_server_error, "this backend takes no secret ballots"};
        const agreed_election a = secret_->state(e, fresh);
        const std::vector<candidate_row> cands = must(db_.candidates(e.id));
        std::uint64_t total = a.ballots;
        if (a.results) {
            total = 0;
            for (const auto& [cand, n] : *a.results) total += n;
        }
        bjson::array rows;
        for (const auto& c : cands) {
            bjson::object row;
            row["candidate_id"] = c.id;
            row["candidate_name"] = c.name;
            if (a.results) {
                const auto it = a.results->find(static_cast<std::uint64_t>(c.id));
                const std::uint64_t n = it == a.results->end() ? 0 : it->second;
                row["vote_count"] = n;
                row["percentage"] = total ? std::round(10000.0 * double(n) / double(total)) / 100.0 : 0.0;
            } else {
                row["vote_count"] = nullptr;
                row["percentage"] = nullptr;
            }
            rows.push_back(std::move(row));
        }
        auto ver = chain_verification();
        const bjson::value chain_valid = ver ? bjson::value(ver->value.ok) : bjson::value(nullptr);
        std::optional<bool> proofs;
        if (ver && !ver->value.ok) proofs = false;
        else if (ver && a.results) proofs = true;
        const bjson::value proofs_valid = proofs ? bjson::value(*proofs) : bjson::value(nullptr);
        bjson::array by;
        for (auto t : a.decrypted_by) by.push_back(t);
        bjson::object out;
        out["election_id"] = e.id;
        out["election_name"] = e.name;
        out["ballot"] = "encrypted";
        out["phase"] = a.results ? std::string("decrypted") : (a.phase.empty() ? std::string("unknown") : a.phase);
        out["total_votes"] = total;
        out["results"] = std::move(rows);
        out["block_height"] = a.height;
        out["tally_verified"] = proofs.value_or(false);
        out["decrypted_by"] = std::move(by);
        bjson::object v;
        v["chain_valid"] = chain_valid;
        v["proofs_valid"] = proofs_valid;
        v["validators_agreeing"] = a.results ? a.results_agreeing : 0;
        v["validators_needed"] = a.needed;
        v["timestamp"] = ver ? bjson::value(app::iso_time(ver->value.wall_ms)) : bjson::value(nullptr);
        out["verification"] = std::move(v);
        return {a.results.has_value(), std::move(out)};
    }

    /// What a chain verification said: by a validator, or (none reachable) of the fallback chain.
    struct verification {
        bool ok = false;
        std::uint64_t wall_ms = 0;
        std::uint64_t blocks_checked = 0;
        bool certified = false;  ///< the validator's verified prefix ends at a header with a valid certificate
        std::string node;        ///< the validator that verified ("" for the fallback chain)
    };

    /// Chain verification by a validator (poa_verifyChain, checked by the
    /// client), reused for verify_cache_ms; at most one runs at a time and
    /// concurrent callers share it. nullopt when no validator gave a usable
    /// (answered and verified) report.
    std::optional<typename single_flight<int, verification>::cached> chain_verification() {
        return verify_cache_.get(0, clock_.now_ms(), opt_.verify_cache_ms, [this]() -> std::optional<verification> {
            auto r = client_.verify_blockchain_integrity();
            if (!r) return std::nullopt;
            return verification{r->ok, clock_.wall_ms(), r->blocks_checked, r->verified_hash_certified, r->node};
        });
    }

    /// The election's tally from the client (re-derived from verified blocks,
    /// compared with a validator's poa_getResults), reused for
    /// results_cache_ms, one lookup per election at a time. Throws 503 when no
    /// validator answered, 502 when they refused or every answer failed
    /// verification.
    client::tally chain_tally(std::int64_t election_id) {
        std::optional<http_error> failure;
        auto r = results_cache_.get(election_id, clock_.now_ms(), opt_.results_cache_ms,
                                    [&]() -> std::optional<client::tally> {
                                        auto t = client_.get_election_results(static_cast<std::uint64_t>(election_id));
                                        if (t) return std::move(*t);
                                        failure = tally_failure(t.error());
                                        return std::nullopt;
                                    });
        if (r) return r->value;
        if (failure) throw *failure;
        throw http_error{http::status::service_unavailable, "no validator answered with the results"};
    }

    /// The API's error for a failed tally lookup.
    static http_error tally_failure(const client::call_error& e) {
        switch (e.kind) {
        case client::errc::rpc_error:
            return {http::status::bad_gateway,
                    "validator error: " + rpc::json_text(bjson::object{{"code", e.rpc_code}, {"message", e.message}})};
        case client::errc::misbehaving:
        case client::errc::bad_answer:
            return {http::status::bad_gateway, "no validator gave results that verify: " + e.what()};
        default: return {http::status::service_unavailable, "no validator reachable"};
        }
    }

    store& db_;
    client_type& client_;
    fallback_ledger& fallback_;
    elections<Clock>& elections_;
    const Clock& clock_;
    options opt_;
    secret_type* secret_;

    single_flight<int, verification> verify_cache_{2};
    single_flight<int, verification> fallback_verify_cache_{2};
    /// The verified tally per election.
    single_flight<std::int64_t, client::tally> results_cache_{1024};
};

}  // namespace ballotchain::backend
