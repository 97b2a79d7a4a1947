#pragma once
/// @file The backend's metrics: what GET /metrics shows, in the Prometheus text
/// exposition format 0.0.4 (docs/operations.md, "Monitoring").
///
/// Counters are bumped by the request handlers (on the server's pool) and by the
/// background threads, so every one of them is an atomic; a request finds its
/// series without allocating or locking: the route label is the index of a route
/// template (never the raw path, so a scanner cannot grow the series), the method
/// one of eight, and (route, method, status) a slot of a fixed open-addressing
/// table of atomics. Gauges (outbox, fallback chain, validators) are read when
/// /metrics is asked for (`backend_gauges`, filled by the service).
/// Names follow the validators' (apps/validator/rpc_routes.hpp): `ballotchain_`
/// then `backend_`, units last, `_total` on counters.

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ballotchain::backend {

/// The `route` label: every route template the backend serves, "other" last (any
/// other path: the web app's files, unknown paths).
inline constexpr std::array<std::string_view, 28> route_templates{
    "/health",
    "/metrics",
    "/openapi.json",
    "/api/auth/register",
    "/api/auth/login",
    "/api/auth/me",
    "/api/auth/logout",
    "/api/auth/logout-all",
    "/api/auth/change-password",
    "/api/elections",
    "/api/elections/{id}",
    "/api/elections/{id}/candidates",
    "/api/elections/{id}/ballot",
    "/api/admin/elections/{id}/tally",
    "/api/votes/submit",
    "/api/votes/transaction-status",
    "/api/votes/results",
    "/api/votes/verify-blockchain",
    "/api/votes/proof",
    "/api/votes/events",
    "/api/chain/genesis",
    "/api/chain/validators",
    "/api/chain/blocks",
    "/api/chain/blocks/{height}",
    "/api/chain/validator-changes",
    "/api/admin/validators/health",
    "/api/admin/validators/refresh-status",
    "other",
};
inline constexpr std::size_t route_other = route_templates.size() - 1;

/// The index in route_templates of the template `path` (without query) matches:
/// a `{...}` segment matches one non-empty segment. "other" when none does.
/// @par Complexity O(templates × path length), no allocation.
inline std::size_t route_of(std::string_view path) noexcept {
    for (std::size_t i = 0; i < route_other; ++i) {
        std::string_view t = route_templates[i], p = path;
        bool match = true;
        while (match && !t.empty()) {
            if (t.front() == '{') {
                const auto close = t.find('}');
                t.remove_prefix(close + 1);
                const auto seg = p.find('/');
                if (seg == 0 || p.empty()) match = false;
                p.remove_prefix(seg == std::string_view::npos ? p.size() : seg);
            } else if (!p.empty() && p.front() == t.front()) {
                t.remove_prefix(1);
                p.remove_prefix(1);
            } else {
                match = false;
            }
        }
        if (match && p.empty()) return i;
    }
    return route_other;
}

/// The `method` label: the usual methods by name, any other as "OTHER".
inline constexpr std::array<std::string_view, 8> method_names{"GET",    "HEAD",    "POST",  "PUT",
                                                               "DELETE", "OPTIONS", "PATCH", "OTHER"};

inline std::size_t method_of(boost::beast::http::verb v) noexcept {
    using boost::beast::http::verb;
    switch (v) {
    case verb::get: return 0;
    case verb::head: return 1;
    case verb::post: return 2;
    case verb::put: return 3;
    case verb::delete_: return 4;
    case verb::options: return 5;
    case verb::patch: return 6;
    default: return 7;
    }
}

/// Upper bounds (seconds) of the request-duration histogram: 1 ms to 10 s.
inline constexpr std::array<double, 13> request_duration_buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                 0.25,  0.5,    1,     2.5,  5,     10};

/// Requests by (route, method, status) and their durations by route.
///
/// @par Thread safety observe() and write() from any thread at once: atomics only
/// (relaxed: a scrape may see one request's count before its duration).
/// @par Complexity observe(): O(1) expected, no allocation, no lock.
class http_metrics {
public:
    /// Counts one answered request. `status` outside 100..999 is counted as 0
    /// (never sent by the service).
    void observe(std::size_t route, std::size_t method, unsigned status, std::chrono::nanoseconds took) noexcept {
        if (route > route_other) route = route_other;
        if (method >= method_names.size()) method = method_names.size() - 1;
        if (status < 100 || status > 999) status = 0;
        const std::uint32_t key = 1u + static_cast<std::uint32_t>((route * method_names.size() + method) * 1000 + status);
        count(key);
        auto& h = durations_[route];
        const double s = std::chrono::duration<double>(took).count();
        std::size_t b = 0;
        while (b < request_duration_buckets.size() && s > request_duration_buckets[b]) ++b;
        h.buckets[b].fetch_add(1, std::memory_order_relaxed);
        h.sum_ns.fetch_add(static_cast<std::uint64_t>(took.count() < 0 ? 0 : took.count()), std::memory_order_relaxed);
    }

    /// Appends both metric families (HELP, TYPE, one line per series) to `out`.
    void write(std::string& out) const;

    /// Requests that found the table full (not shown in a series; 0 unless the
    /// statuses are far more varied than the service's).
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

private:
    static constexpr std::size_t slots = 1024;  // a power of two, far above routes × methods × statuses in use

    void count(std::uint32_t key) noexcept {
        std::size_t i = (key * 2654435761u) & (slots - 1);
        for (std::size_t n = 0; n < slots; ++n, i = (i + 1) & (slots - 1)) {
            auto& s = table_[i];
            std::uint32_t k = s.key.load(std::memory_order_acquire);
            if (k == 0 && s.key.compare_exchange_strong(k, key, std::memory_order_acq_rel)) k = key;
            if (k == key) {
                s.count.fetch_add(1, std::memory_order_relaxed);
                return;
            }
        }
        dropped_.fetch_add(1, std::memory_order_relaxed);
    }

    struct slot {
        std::atomic<std::uint32_t> key{0};  ///< 0: free; else 1 + (route·methods + method)·1000 + status
        std::atomic<std::uint64_t> count{0};
    };
    struct histogram {
        std::array<std::atomic<std::uint64_t>, request_duration_buckets.size() + 1> buckets{};  ///< not cumulative; last: +Inf
        std::atomic<std::uint64_t> sum_ns{0};
    };
    std::array<slot, slots> table_{};
    std::array<histogram, route_templates.size()> durations_{};
    std::atomic<std::uint64_t> dropped_{0};
};

/// What a vote request that reached the vote checks came to (the `state` and
/// `reason` labels). Requests refused before (authentication 401, rate limit
/// 429) count only in the request counter.
enum class vote_accepted : std::uint8_t {
    submitted,  ///< a validator took it
    pending,    ///< stored, kept in the outbox (a full pool, or no validator answered)
    fallback,   ///< stored, no validator answered, also on the local fallback chain
};
inline constexpr std::array<std::string_view, 3> vote_accepted_names{"submitted", "pending", "fallback"};

enum class vote_refused : std::uint8_t {
    invalid,             ///< 422: the request (ids, encrypted_vote, candidate)
    no_election,         ///< 404
    not_open,            ///< 400: the election is not open (or takes the other kind of ballot)
    conflict,            ///< 409: the voter has a vote already, or a secret-ballot election cannot take ballots (yet)
    validators_refused,  ///< 503: the validators refused the stored vote for good (its voter may vote again)
    unavailable,         ///< 502, 503: the validators did not answer (or disagree) where a secret ballot needs them
    busy,                ///< 503: the vote queue is full (Retry-After)
    error,               ///< 500: our configuration or storage
};
inline constexpr std::array<std::string_view, 8> vote_refused_names{
    "invalid", "no_election", "not_open", "conflict", "validators_refused", "unavailable", "busy", "error"};

/// The refusal a vote request refused before it was stored with HTTP `status` counts as.
inline vote_refused refusal_of(boost::beast::http::status st) noexcept {
    using boost::beast::http::status;
    switch (st) {
    case status::unprocessable_entity: return vote_refused::invalid;
    case status::not_found: return vote_refused::no_election;
    case status::bad_request: return vote_refused::not_open;
    case status::conflict: return vote_refused::conflict;
    case status::bad_gateway:
    case status::service_unavailable: return vote_refused::unavailable;
    default: return vote_refused::error;
    }
}

/// Votes accepted and refused at submit. Thread safety: any thread (atomics).
struct vote_counters {
    std::array<std::atomic<std::uint64_t>, vote_accepted_names.size()> accepted{};
    std::array<std::atomic<std::uint64_t>, vote_refused_names.size()> refused{};

    void add(vote_accepted a) noexcept { accepted[static_cast<std::size_t>(a)].fetch_add(1, std::memory_order_relaxed); }
    void add(vote_refused r) noexcept { refused[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed); }
};

/// What the outbox's replay did, and whether the fallback chain is in use. Thread
/// safety: any thread (atomics).
struct replay_counters {
    std::atomic<std::uint64_t> attempts{0};       ///< votes a replay pass worked on (receipt asked for, or sent again)
    std::atomic<std::uint64_t> resends{0};        ///< votes a replay pass sent again
    std::atomic<std::uint64_t> confirmations{0};  ///< votes a replay pass found final
    std::atomic<std::uint64_t> rejections{0};     ///< votes a re-send had refused for good
    std::atomic<std::uint64_t> stalls{0};         ///< passes cut short: no validator answered
    /// Set when a vote goes on the fallback chain (no validator answered its first
    /// send), cleared when a validator takes a vote again.
    std::atomic<bool> fallback_in_use{false};
};

/// The gauges, read at scrape time by the service.
struct backend_gauges {
    std::uint64_t outbox_pending = 0;
    std::uint64_t outbox_submitted = 0;
    double outbox_oldest_age_seconds = 0;  ///< of the oldest vote not yet final; 0 when there is none
    std::uint64_t fallback_votes = 0;      ///< votes (one a block) on the fallback chain
    bool fallback_in_use = false;
    std::array<std::uint64_t, 4> validators{};  ///< by client::node_status: healthy, degraded, unreachable, misbehaving
    std::uint64_t validators_total = 0;
    std::uint64_t start_time_ms = 0;  ///< wall clock at start
    std::string_view version;
    std::optional<std::int64_t> tls_not_after;  ///< with --tls-cert: the certificate's notAfter (unix seconds)
};
inline constexpr std::array<std::string_view, 4> validator_status_names{"healthy", "degraded", "unreachable",
                                                                        "misbehaving"};

/// The Content-Type of the text format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

namespace metrics_text {

/// A sample value: integers as they are, others the shortest text that reads back the same.
inline void number(std::string& out, double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}
inline void number(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}
inline void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
    out.append(type).append("\n");
}
/// `name{labels} value\n`; `labels` is `k="v",...` or empty (label values here come from
/// fixed tables: nothing to escape).
template <class V>
void sample(std::string& out, std::string_view name, std::string_view labels, V v) {
    out.append(name);
    if (!labels.empty()) out.append("{").append(labels).append("}");
    out.append(" ");
    number(out, v);
    out.append("\n");
}
template <class V>
void single(std::string& out, std::string_view name, std::string_view type, std::string_view help, V v) {
    family(out, name, type, help);
    sample(out, name, {}, v);
}

}  // namespace metrics_text

inline void http_metrics::write(std::string& out) const {
    using namespace metrics_text;
    constexpr std::string_view requests = "ballotchain_backend_http_requests_total";
    family(out, requests, "counter", "HTTP requests answered, by route template, method and status.");
    std::string labels;
    for (const auto& s : table_) {
        const std::uint32_t key = s.key.load(std::memory_order_acquire);
        if (key == 0) continue;
        const std::uint32_t status = (key - 1) % 1000, rm = (key - 1) / 1000;
        labels.assign("route=\"").append(route_templates[rm / method_names.size()]);
        labels.append("\",method=\"").append(method_names[rm % method_names.size()]).append("\",status=\"");
        number(labels, std::uint64_t{status});
        labels.append("\"");
        sample(out, requests, labels, s.count.load(std::memory_order_relaxed));
    }
    constexpr std::string_view duration = "ballotchain_backend_http_request_duration_seconds";
    family(out, duration, "histogram",
           "Time from a request's arrival at the handler to its answer (a held request: until it is answered), by route.");
    for (std::size_t r = 0; r < route_templates.size(); ++r) {
        const auto& h = durations_[r];
        std::array<std::uint64_t, request_duration_buckets.size() + 1> n{};
        std::uint64_t total = 0;
        for (std::size_t b = 0; b < n.size(); ++b) total += n[b] = h.buckets[b].load(std::memory_order_relaxed);
        if (total == 0) continue;  // a route never asked for has no series
        const std::string route = std::string("route=\"").append(route_templates[r]).append("\"");
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < n.size(); ++b) {
            cumulative += n[b];
            labels.assign(route).append(",le=\"");
            if (b < request_duration_buckets.size())
                number(labels, request_duration_buckets[b]);
            else
                labels.append("+Inf");
            labels.append("\"");
            sample(out, std::string(duration).append("_bucket"), labels, cumulative);
        }
        sample(out, std::string(duration).append("_sum"), route,
               static_cast<double>(h.sum_ns.load(std::memory_order_relaxed)) / 1e9);
        sample(out, std::string(duration).append("_count"), route, cumulative);
    }
}

/// The whole /metrics text of a backend.
inline std::string backend_metrics_text(const http_metrics& http, const vote_counters& votes,
                                        const replay_counters& replay, const backend_gauges& g) {
    using namespace metrics_text;
    std::string out;
    out.reserve(16 * 1024);
    http.write(out);

    family(out, "ballotchain_backend_votes_accepted_total", "counter",
           "Votes stored at submit, by what became of their first send (submitted: a validator took it; pending: "
           "kept in the outbox; fallback: also on the local fallback chain).");
    for (std::size_t i = 0; i < vote_accepted_names.size(); ++i)
        sample(out, "ballotchain_backend_votes_accepted_total", std::string("state=\"").append(vote_accepted_names[i]).append("\""),
               votes.accepted[i].load(std::memory_order_relaxed));
    family(out, "ballotchain_backend_votes_refused_total", "counter",
           "Vote requests refused at submit after authentication, by reason.");
    for (std::size_t i = 0; i < vote_refused_names.size(); ++i)
        sample(out, "ballotchain_backend_votes_refused_total", std::string("reason=\"").append(vote_refused_names[i]).append("\""),
               votes.refused[i].load(std::memory_order_relaxed));

    family(out, "ballotchain_backend_outbox_votes", "gauge", "Votes not yet final, by status (the outbox).");
    sample(out, "ballotchain_backend_outbox_votes", "status=\"pending\"", g.outbox_pending);
    sample(out, "ballotchain_backend_outbox_votes", "status=\"submitted\"", g.outbox_submitted);
    single(out, "ballotchain_backend_outbox_oldest_age_seconds", "gauge",
           "Age of the oldest vote not yet final (0 when the outbox is empty).", g.outbox_oldest_age_seconds);

    const auto load = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    single(out, "ballotchain_backend_replay_attempts_total", "counter",
           "Votes the replay loop worked on (a receipt asked for, or the vote sent again), once per pass.",
           load(replay.attempts));
    single(out, "ballotchain_backend_replay_resends_total", "counter", "Votes the replay loop sent again.",
           load(replay.resends));
    single(out, "ballotchain_backend_replay_confirmations_total", "counter",
           "Votes the replay loop found final (a verified receipt).", load(replay.confirmations));
    single(out, "ballotchain_backend_replay_rejections_total", "counter",
           "Votes the validators refused for good when the replay loop sent them again.", load(replay.rejections));
    single(out, "ballotchain_backend_replay_stalls_total", "counter",
           "Replay passes cut short because no validator answered.", load(replay.stalls));

    single(out, "ballotchain_backend_fallback_chain_votes", "gauge",
           "Votes on the local fallback chain (one a block: also its height).", g.fallback_votes);
    single(out, "ballotchain_backend_fallback_in_use", "gauge",
           "1 from a vote put on the fallback chain (no validator answered) until a validator takes a vote again.",
           std::uint64_t{g.fallback_in_use ? 1u : 0u});

    family(out, "ballotchain_backend_validators", "gauge", "Validators by the status this backend sees.");
    for (std::size_t i = 0; i < validator_status_names.size(); ++i)
        sample(out, "ballotchain_backend_validators", std::string("status=\"").append(validator_status_names[i]).append("\""),
               g.validators[i]);
    single(out, "ballotchain_backend_validators_configured", "gauge", "Validators this backend is configured with.",
           g.validators_total);

    single(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
           static_cast<double>(g.start_time_ms) / 1000.0);
    if (g.tls_not_after)
        single(out, "ballotchain_tls_certificate_expiry_timestamp_seconds", "gauge",
               "When the TLS certificate of this server expires (its notAfter), unix seconds.",
               static_cast<std::uint64_t>(*g.tls_not_after));
    family(out, "ballotchain_backend_build_info", "gauge", "Always 1; the labels say which build runs.");
    sample(out, "ballotchain_backend_build_info", std::string("version=\"").append(g.version).append("\""),
           std::uint64_t{1});
    return out;
}

}  // namespace ballotchain::backend
