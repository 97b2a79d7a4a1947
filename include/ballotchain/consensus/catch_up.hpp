#pragma once
/// @file Catch-up bookkeeping: which height each validator claims to have
/// finalized, how far each claim is trusted, and which peer to ask for blocks.
///
/// Pure state, no I/O and no clock of its own: the engine passes the time and
/// the height it is deciding, sends the GET_BLOCKS this unit picks, and reports
/// how each answer went (docs/protocol.md §7). The rules:
/// - a claim is the highest height a validator said it finalized (STATUS, or
///   consensus traffic for a later height);
/// - the node is behind only when f+1 distinct validators (so at least one
///   honest one) claim the height being decided: one claim, which may be a
///   lie, only makes it fetch;
/// - one request is in flight at a time; it sticks with a peer that serves and
///   moves on to the next claimer in turn after a timeout;
/// - a peer that did not deliver what it claimed (no answer in time, or an
///   answer that does not move the chain) loses that claim and is ignored for
///   sync_timeout × 2^k (k = its failures in a row, at most 5), so a crashed or
///   lying peer cannot hold the node in catch-up.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace ballotchain::consensus {

class catch_up {
public:
    /// What one validator claimed, and how far it is trusted.
    struct peer_claim {
        std::uint64_t height = 0;          ///< claimed final height
        std::uint64_t distrust_until = 0;  ///< claims reaching the height being decided are ignored until then
        std::uint32_t failures = 0;        ///< failed fetches from it in a row
    };

    /// @param n validators in genesis; @param sync_timeout_ms how long a request may go unanswered.
    catch_up(std::size_t n, std::uint64_t sync_timeout_ms) : peers_(n), timeout_ms_(sync_timeout_ms) {}

    /// Distinct validators whose standing claim reaches height h.
    std::size_t claims_at_or_above(std::uint64_t h) const noexcept {
        return static_cast<std::size_t>(
            std::count_if(peers_.begin(), peers_.end(), [h](const peer_claim& p) { return p.height >= h; }));
    }

    /// Highest height any standing claim reaches.
    std::uint64_t best_height() const noexcept {
        std::uint64_t m = 0;
        for (const auto& p : peers_) m = std::max(m, p.height);
        return m;
    }

    const peer_claim& peer(std::uint32_t i) const { return peers_.at(i); }
    std::size_t size() const noexcept { return peers_.size(); }
    std::uint64_t failures() const noexcept { return failures_; }  ///< fetches that failed, in all
    bool in_flight() const noexcept { return inflight_; }

    /// Records that `peer` claims height `h` while this node decides `deciding`.
    /// Returns true when the claim reaches `deciding`: worth a fetch. A claim
    /// reaching `deciding` from a distrusted peer is ignored.
    bool note_claim(std::uint32_t peer, std::uint64_t h, std::uint64_t deciding, std::uint64_t now) {
        if (peer >= peers_.size()) return false;
        auto& p = peers_[peer];
        if (h >= deciding && now < p.distrust_until) return false;
        p.height = std::max(p.height, h);
        return h >= deciding;
    }

    /// The peer to ask for blocks from `deciding` now, or nullopt: a request is
    /// in flight and not yet timed out, or no standing claim reaches `deciding`.
    /// A request that timed out counts as a failure of the peer it went to.
    /// The returned peer is marked in flight from `now`.
    std::optional<std::uint32_t> next_request(std::uint64_t deciding, std::uint64_t now) {
        if (inflight_) {
            if (now < sent_ms_ + timeout_ms_) return std::nullopt;
            inflight_ = false;
            failed(peer_, deciding - 1, now);
        }
        const auto n = static_cast<std::uint32_t>(peers_.size());
        for (std::uint32_t k = 0; k < n; ++k) {
            const std::uint32_t p = (peer_ + k) % n;  // k = 0: the current peer, if it still qualifies
            if (peers_[p].height < deciding) continue;
            inflight_ = true;
            sent_ms_ = now;
            peer_ = p;
            return p;
        }
        return std::nullopt;
    }

    /// An answer (BLOCKS) from `peer` arrived. `progressed`: the chain moved,
    /// or the blocks were good and only our own write failed. `claimed` is the
    /// height the answer says the peer has. A peer that answered our request
    /// without progress while still claiming `deciding` is a failure.
    /// Returns true if the peer was marked as failed.
    bool on_answer(std::uint32_t peer, bool progressed, std::uint64_t claimed, std::uint64_t deciding,
                   std::uint64_t now) {
        if (peer >= peers_.size()) return false;
        const bool answer = inflight_ && peer == peer_;
        if (answer) inflight_ = false;
        if (progressed) {
            peers_[peer].failures = 0;
            return false;
        }
        if (!answer || peers_[peer].height < deciding) return false;
        failed(peer, std::min(claimed, deciding - 1), now);
        return true;
    }

    /// Gives `peer` a fresh start: no failures, no distrust (a node with no id yet, whose
    /// requests peers refused until they learned its key, once a session with it comes up).
    void forgive(std::uint32_t peer) noexcept {
        if (peer >= peers_.size()) return;
        peers_[peer].failures = 0;
        peers_[peer].distrust_until = 0;
    }

private:
    /// Forgets the peer's claim above `its_height` and distrusts it for a while.
    void failed(std::uint32_t peer, std::uint64_t its_height, std::uint64_t now) {
        auto& p = peers_[peer];
        p.height = std::min(p.height, its_height);
        const std::uint32_t k = std::min<std::uint32_t>(p.failures++, 5);
        p.distrust_until = now + (timeout_ms_ << k);
        ++failures_;
    }

    std::vector<peer_claim> peers_;  ///< by validator index
    std::uint64_t timeout_ms_;
    bool inflight_ = false;
    std::uint64_t sent_ms_ = 0;
    std::uint32_t peer_ = 0;
    std::uint64_t failures_ = 0;
};

}  // namespace ballotchain::consensus
