#pragma once
/// @file What the backend reports about the chain: an election's results
/// (the validators' tally), the chain's verification (a validator's
/// poa_verifyChain or, with none reachable, the local fallback chain's own),
/// and the validators' health (docs/backend.md, "Endpoints"). The expensive
/// answers are reused for a while and computed at most once at a time
/// (`single_flight`, throttle.hpp).

#include "elections.hpp"
#include "fallback.hpp"
#include "http_util.hpp"
#include "store.hpp"
#include "store_failure.hpp"
#include "throttle.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/client/validator_pool.hpp>
#include <ballotchain/core/clock.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace ballotchain::backend {

/// Results, verification and validator health over the validator pool, the
/// fallback ledger and the store.
///
/// @tparam Transport the pool's `client::rpc_transport`
/// @tparam Clock     a `clock`: its now_ms() ages the cached answers, its
///                   wall_ms() stamps them
///
/// @par Thread safety
/// Every member may be called from any thread: the caches, the pool, the
/// fallback ledger and the store lock on their own, and no lock is held
/// across a call to a validator except a cache slot's own computation.
template <client::rpc_transport Transport, clock Clock>
class reports {
public:
    using pool_type = client::validator_pool<Transport, Clock>;

    struct options {
        std::uint64_t verify_cache_ms = 10'000;  ///< how long a chain verification result is reused
        std::uint64_t results_cache_ms = 2'000;  ///< how long a tally from the validators is reused
    };

    /// Everything is the caller's and must outlive this object.
    reports(store& db, pool_type& pool, fallback_ledger& fallback, elections<Clock>& el, const Clock& clock,
            options opt)
        : db_(db), pool_(pool), fallback_(fallback), elections_(el), clock_(clock), opt_(opt) {}

    /// GET /api/votes/results: the validators' tally of the election by
    /// candidate (with names and percentages) and the cached verification.
    /// Throws http_error (404, 502, 503) or store_failure.
    bjson::object results(std::int64_t election_id) {
        const auto e = elections_.load_election(election_id);
        const bjson::object r = chain_tally(election_id);
        const bjson::value* tally = r.if_contains("results");
        const std::vector<candidate_row> cands = must(db_.candidates(election_id));
        std::uint64_t total = 0;
        std::map<std::int64_t, std::uint64_t> counts;
        if (tally && tally->is_object())
            for (const bjson::key_value_pair& kv : tally->as_object()) {
                const bjson::string_view k = kv.key();
                const bjson::value& v = kv.value();
                std::int64_t cid = 0;
                auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), cid);
                boost::system::error_code jec;
                const auto n = v.to_number<std::uint64_t>(jec);
                if (ec != std::errc{} || p != k.data() + k.size() || jec) continue;
                counts[cid] += n;
                total += n;
            }
        bjson::array rows;
        for (const auto& c : cands) {
            const auto n = counts.count(c.id) ? counts[c.id] : 0;
            rows.push_back(bjson::object{{"candidate_id", c.id},
                                         {"candidate_name", c.name},
                                         {"vote_count", n},
                                         {"percentage", total ? std::round(10000.0 * double(n) / double(total)) / 100.0 : 0.0}});
        }
        bjson::object out{{"election_id", election_id},
                          {"election_name", e.name},
                          {"total_votes", total},
                          {"results", std::move(rows)},
                          {"block_height", r.contains("height") ? r.at("height") : bjson::value(nullptr)}};
        auto ver = chain_verification();
        out["verification"] =
            bjson::object{{"chain_valid", ver ? bjson::value(ver->value.ok) : bjson::value(nullptr)},
                          {"timestamp", ver ? bjson::value(app::iso_time(ver->value.wall_ms)) : bjson::value(nullptr)}};
        return out;
    }

    /// POST /api/votes/verify-blockchain: the cached verification (see
    /// chain_verification) with the election's tally; with no validator
    /// reachable, a verification of the local fallback chain, cached the same
    /// way. Throws http_error (404) or store_failure.
    bjson::object verify_blockchain(std::int64_t election_id) {
        (void)elections_.load_election(election_id);
        if (auto v = chain_verification()) {
            std::uint64_t total = 0;
            bjson::value height = nullptr;
            try {
                const bjson::object r = chain_tally(election_id);
                boost::system::error_code ec;
                if (const auto* t = r.if_contains("total_votes"); t && t->is_number()) total = t->to_number<std::uint64_t>(ec);
                if (const auto* h = r.if_contains("height"); h && h->is_number()) height = *h;
            } catch (const http_error&) {  // verified a moment ago, no tally now: the counts stay unknown
            }
            return {{"election_id", election_id},
                    {"chain_valid", v->value.ok},
                    {"total_blocks", height},
                    {"total_votes", total},
                    {"status", v->value.ok ? "valid" : "invalid"},
                    {"source", "poa_validators"},
                    {"timestamp", app::iso_time(v->value.wall_ms)}};
        }
        // No validator: verify what this backend holds, the fallback chain.
        const auto fv = fallback_verify_cache_.get(0, clock_.now_ms(), opt_.verify_cache_ms, [this] {
            const auto rep = fallback_.verify();
            return std::optional<verification>(verification{rep.ok, clock_.wall_ms(), rep.blocks_checked});
        });
        const std::uint64_t total = fallback_.total_votes(static_cast<std::uint64_t>(election_id));
        const std::uint64_t blocks = fallback_.height();
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

    /// GET /api/admin/validators/health: the pool's view of every validator
    /// (from its last probes) and a summary.
    bjson::object validators_health() {
        bjson::array vs;
        std::size_t healthy = 0;
        const auto snap = pool_.snapshot();
        for (const auto& n : snap) {
            if (n.status == client::node_status::healthy) ++healthy;
            vs.push_back(bjson::object{{"node_id", n.info.node_id},
                                       {"rpc_url", n.info.rpc_url},
                                       {"p2p_url", n.info.p2p_url},
                                       {"status", client::to_string(n.status)},
                                       {"block_height", n.height},
                                       {"detail", n.detail}});
        }
        const double pct = snap.empty() ? 0.0 : std::round(10000.0 * double(healthy) / double(snap.size())) / 100.0;
        return {{"timestamp", app::iso_time(clock_.wall_ms())},
                {"validators", std::move(vs)},
                {"summary", bjson::object{{"healthy", healthy}, {"total", snap.size()}, {"health_percentage", pct}}}};
    }

private:
    /// What a chain verification said: by a validator, or (none reachable) of the fallback chain.
    struct verification {
        bool ok = false;
        std::uint64_t wall_ms = 0;
        std::uint64_t blocks_checked = 0;
    };

    /// Chain verification by a validator (poa_verifyChain), reused for verify_cache_ms;
    /// at most one runs at a time and concurrent callers share it. nullopt when no
    /// validator gave a usable answer.
    std::optional<typename single_flight<int, verification>::cached> chain_verification() {
        return verify_cache_.get(0, clock_.now_ms(), opt_.verify_cache_ms, [this]() -> std::optional<verification> {
            auto a = pool_.call("poa_verifyChain", {});
            if (!a.outcome.ok() || !a.outcome.value.is_object()) return std::nullopt;
            const bjson::object& o = a.outcome.value.as_object();
            const auto* okv = o.if_contains("ok");
            const auto* blocks = o.if_contains("blocks_checked");
            boost::system::error_code ec;
            return verification{okv && okv->is_bool() && okv->as_bool(), clock_.wall_ms(),
                                blocks && blocks->is_number() ? blocks->to_number<std::uint64_t>(ec) : 0};
        });
    }

    /// The validators' tally of an election (poa_getResults), reused for
    /// results_cache_ms, one lookup per election at a time. Throws 502/503.
    bjson::object chain_tally(std::int64_t election_id) {
        std::optional<http_error> failure;
        auto r = results_cache_.get(election_id, clock_.now_ms(), opt_.results_cache_ms,
                                    [&]() -> std::optional<bjson::object> {
                                        auto a = pool_.call("poa_getResults", bjson::array{bjson::value(election_id)});
                                        if (!a.outcome.answered())
                                            failure = http_error{http::status::service_unavailable, "no validator reachable"};
                                        else if (!a.outcome.ok() || !a.outcome.value.is_object())
                                            failure = http_error{http::status::bad_gateway,
                                                                 "validator error: " + bjson::serialize(a.outcome.value)};
                                        else
                                            return a.outcome.value.as_object();
                                        return std::nullopt;
                                    });
        if (r) return r->value;
        if (failure) throw *failure;
        throw http_error{http::status::service_unavailable, "no validator answered with the results"};
    }

    store& db_;
    pool_type& pool_;
    fallback_ledger& fallback_;
    elections<Clock>& elections_;
    const Clock& clock_;
    options opt_;

    single_flight<int, verification> verify_cache_{2};
    single_flight<int, verification> fallback_verify_cache_{2};
    /// poa_getResults per election.
    single_flight<std::int64_t, bjson::object> results_cache_{1024};
};

}  // namespace ballotchain::backend
