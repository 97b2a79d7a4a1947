#pragma once
/// @file What a validator's GET /health says: `ok`, `degraded` or `failing`, with the
/// reasons, from what the node knows (peers, quorum, how long votes have waited, the
/// round, storage faults, catching up). A pure function so it is tested as a table.
/// Reference: docs/api.md (GET /health) and docs/operations.md (monitoring).

#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ballotchain::rpc {

enum class health_status : std::uint8_t { ok, degraded, failing };

inline const char* to_string(health_status s) noexcept {
    switch (s) {
    case health_status::ok: return "ok";
    case health_status::degraded: return "degraded";
    case health_status::failing: return "failing";
    }
    return "failing";
}

/// What classify_health() looks at.
struct health_inputs {
    std::size_t validators = 1;       ///< in the genesis
    std::size_t quorum = 1;           ///< votes a block needs (this validator's own counts)
    std::size_t peers_connected = 0;  ///< other validators with a live P2P session
    /// Since the last final block this node took (decided or synced), ms; nullopt: none since start.
    std::optional<std::uint64_t> since_final_ms;
    /// How long the pool has held votes without a block taking any, ms (0 when the pool is empty).
    std::uint64_t pending_wait_ms = 0;
    std::size_t pending = 0;           ///< votes in the pool
    std::uint32_t round = 0;           ///< round of the height being decided (0: no round change)
    std::uint64_t round_changes = 0;   ///< rounds entered above 0 since start (shown, not judged)
    bool storage_fault = false;        ///< durable writes fail: it signs and stores nothing
    bool catching_up = false;          ///< behind its peers, fetching blocks (not voting)
    std::uint64_t deciding = 0;        ///< the height being decided
    /// The restore guard: signs nothing below this height (its signed-state file is ahead of a
    /// restored chain.db, protocol.md §6); 0 or ≤ deciding: no guard holds.
    std::uint64_t sign_floor = 0;
    /// In the validator set deciding `deciding` (protocol.md §12); false: it only follows.
    bool in_set = true;
    /// Votes waiting longer than this make it degraded: a block should have taken them.
    std::uint64_t stall_after_ms = 10'000;
};

struct health_report {
    health_status status = health_status::ok;
    std::size_t peers_needed = 0;      ///< other validators needed for a quorum (quorum - 1)
    std::vector<std::string> reasons;  ///< failing ones first; empty when ok
};

/// Other validators a node needs connected for its chain to reach quorum.
inline std::size_t peers_needed_for_quorum(std::size_t quorum) noexcept { return quorum > 0 ? quorum - 1 : 0; }

/// How long votes may wait before the node counts as degraded: the block interval, a
/// round-0 timeout and one round change, and never less than 5 s.
inline std::uint64_t default_stall_after_ms(std::uint64_t block_interval_ms, std::uint64_t round_timeout_ms) noexcept {
    return std::max<std::uint64_t>(5'000, block_interval_ms + 3 * round_timeout_ms);
}

/// failing: quorum lost (fewer peers than a quorum needs) or storage faulted (nothing can be
/// signed or recorded). degraded: votes waited too long for a block, the height needed a round
/// change, the node is catching up, its restore guard holds, or it is in no validator set
/// (it follows). ok otherwise. Reasons are short sentences, failing first.
inline health_report classify_health(const health_inputs& in) {
    health_report r;
    r.peers_needed = peers_needed_for_quorum(in.quorum);
    if (in.peers_connected < r.peers_needed)
        r.reasons.push_back("quorum lost: " + std::to_string(in.peers_connected) + " of " +
                            std::to_string(r.peers_needed) + " peers needed for a quorum of " +
                            std::to_string(in.quorum) + " connected");
    if (in.storage_fault) r.reasons.push_back("storage faulted: durable writes fail");
    const bool failing = !r.reasons.empty();
    if (in.pending > 0 && in.pending_wait_ms > in.stall_after_ms)
        r.reasons.push_back("votes waiting: " + std::to_string(in.pending) + " pending for " +
                            std::to_string(in.pending_wait_ms / 1000) + " s without a final block");
    if (in.round > 0) r.reasons.push_back("round changes: the current height is in round " + std::to_string(in.round));
    if (in.catching_up) r.reasons.push_back("catching up: behind its peers");
    if (in.sign_floor > in.deciding)
        r.reasons.push_back("restore guard: signs nothing below height " + std::to_string(in.sign_floor) +
                            " (its signed-state file is ahead of chain.db)");
    if (!in.in_set)
        r.reasons.push_back("not in the validator set deciding height " + std::to_string(in.deciding) +
                            ": following the chain, signing nothing");
    r.status = failing ? health_status::failing : r.reasons.empty() ? health_status::ok : health_status::degraded;
    return r;
}

/// The `detail` of a 503 health answer (every error answer carries one, docs/api.md): "failing: "
/// and the answer's reasons, joined by "; ".
inline std::string failing_detail(const boost::json::object& health) {
    std::string d = "failing";
    const char* sep = ": ";
    if (const auto* r = health.if_contains("reasons"); r && r->is_array())
        for (const auto& x : r->as_array())
            if (x.is_string()) {
                d += sep;
                d += std::string_view(x.as_string());
                sep = "; ";
            }
    return d;
}

}  // namespace ballotchain::rpc
