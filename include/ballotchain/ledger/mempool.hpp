#pragma once
/// @file Pool of valid, not-yet-final vote transactions: bounded, FIFO by
/// arrival, deduplicated by tx hash and by (election, voter_tag).

#include <ballotchain/chain/rules.hpp>

#include <map>
#include <set>
#include <unordered_map>

namespace ballotchain::ledger {

/// Pending transactions waiting for a block.
///
/// Every admitted tx passed the chain's full check (`check_tx`: chain id,
/// size, authorized submitter, signature, not final, voter not final in that
/// election), so `is_known_valid(th, tx)` lets block validation skip re-checking
/// the signature of a block's tx that is the pooled one, authorization included.
///
/// @tparam Suite computes tx hashes (`suite`)
/// @par Thread safety Not thread-safe; the owner serialises access.
template <suite Suite>
class mempool {
public:
    /// @param capacity most txs held at once (>= 1); `add` answers pool_full beyond it.
    explicit mempool(std::size_t capacity = 100'000) : capacity_(capacity == 0 ? 1 : capacity) {}

    std::size_t size() const noexcept { return by_seq_.size(); }
    bool empty() const noexcept { return by_seq_.empty(); }
    std::size_t capacity() const noexcept { return capacity_; }

    /// Checks `tx` against `c` (a `blockchain`) and the pool, then queues it.
    /// Returns its hash, or why it was refused (chain::errc: any reason of
    /// `check_tx`, duplicate_tx / duplicate_vote when already pooled, pool_full).
    /// `now_ms`: the caller's clock, for the election rules' time windows (check_tx);
    /// `sigs`: the caller's signature checker (it remembers batches), or null.
    template <class Chain>
    result<hash32> add(vote_tx tx, const Chain& c, std::uint64_t now_ms = 0, signature_checker<Suite>* sigs = nullptr) {
        // Cheap pool checks first so floods of duplicates cost no signature check.
        const hash32 th = tx_hash<Suite>(tx);
        if (by_hash_.contains(th)) return make_error(chain::errc::duplicate_tx);
        if (by_vote_.contains({tx.election_id, tx.voter_tag})) return make_error(chain::errc::duplicate_vote);
        if (full()) return make_error(chain::errc::pool_full);
        auto checked = c.check_tx(tx, now_ms, sigs);
        if (!checked) return checked;
        insert(std::move(tx), th);
        return th;
    }

    /// add() for each of `txs`, in order, except that the votes of one signed batch
    /// (batch_leaders) are taken whole or not at all: when one of them is refused for what it
    /// is (refuses_batch), those of its batch this call admitted are dropped again and answered
    /// batch_refused. Already pooled or final votes (duplicate_tx) do not count against a batch.
    template <class Chain>
    std::vector<result<hash32>> add_many(std::span<const vote_tx> txs, const Chain& c, std::uint64_t now_ms = 0,
                                         signature_checker<Suite>* sigs = nullptr) {
        std::vector<result<hash32>> res;
        res.reserve(txs.size());
        for (const auto& tx : txs) res.push_back(add(tx, c, now_ms, sigs));
        const auto leader = batch_leaders(txs);
        std::vector<bool> tainted(txs.size(), false);
        for (std::size_t i = 0; i < txs.size(); ++i)
            if (!res[i] && refuses_batch(res[i].error())) tainted[leader[i]] = true;
        for (std::size_t i = 0; i < txs.size(); ++i)
            if (res[i] && tainted[leader[i]]) {
                erase(*res[i]);
                res[i] = make_error(chain::errc::batch_refused);
            }
        return res;
    }

    /// Queues `tx` whose hash is `th` without checking it against a chain.
    /// For a caller that already ran `check_tx` (e.g. gossip handled in a batch).
    result<hash32> add_unchecked(vote_tx tx, const hash32& th) {
        if (by_hash_.contains(th)) return make_error(chain::errc::duplicate_tx);
        if (by_vote_.contains({tx.election_id, tx.voter_tag})) return make_error(chain::errc::duplicate_vote);
        if (full()) return make_error(chain::errc::pool_full);
        insert(std::move(tx), th);
        return th;
    }

    bool contains(const hash32& th) const { return by_hash_.contains(th); }
    /// Whether a tx of (election, voter tag) is pooled.
    bool contains_vote(std::uint64_t election, const hash32& tag) const { return by_vote_.contains({election, tag}); }
    /// Whether `tx` (hash `th`) is a pooled tx as it was checked: same hash and same
    /// authorization. A copy of a pooled tx with another signature is not vouched for.
    bool is_known_valid(const hash32& th, const vote_tx& tx) const {
        const vote_tx* p = find(th);
        return p && p->auth == tx.auth;  // same hash: same payload, submitter included
    }

    /// The transaction with hash `th`, if pooled.
    const vote_tx* find(const hash32& th) const {
        auto it = by_hash_.find(th);
        return it == by_hash_.end() ? nullptr : &by_seq_.at(it->second).tx;
    }

    /// The oldest `n` pooled txs, in arrival order (they stay pooled until
    /// `remove_committed` drops them) — except that election records other than
    /// ballots (definitions and the trustees' records, a handful per election)
    /// come first: a key ceremony or a tally must not wait behind a backlog of votes.
    std::vector<vote_tx> batch(std::size_t n) const {
        std::vector<vote_tx> out;
        out.reserve(std::min(n, by_seq_.size()));
        for (auto it = priority_.begin(); it != priority_.end() && out.size() < n; ++it) out.push_back(by_seq_.at(*it).tx);
        for (auto it = by_seq_.begin(); it != by_seq_.end() && out.size() < n; ++it)
            if (!priority_.contains(it->first)) out.push_back(it->second.tx);
        return out;
    }

    /// Drops the txs of a finalized block, and any pooled tx that now
    /// conflicts with it (same election and voter_tag). `tx_hashes[i]` is the
    /// hash of `b.txs[i]`. Returns how many pooled txs were dropped.
    std::size_t remove_committed(const block& b, std::span<const hash32> tx_hashes) {
        std::size_t dropped = 0;
        for (std::size_t i = 0; i < b.txs.size() && i < tx_hashes.size(); ++i) {
            dropped += erase(tx_hashes[i]);
            auto v = by_vote_.find({b.txs[i].election_id, b.txs[i].voter_tag});
            if (v != by_vote_.end()) dropped += erase(hash32(v->second));
        }
        return dropped;
    }

    /// Removes one tx by hash; returns whether it was pooled.
    bool erase(const hash32& th) {
        auto it = by_hash_.find(th);
        if (it == by_hash_.end()) return false;
        auto node = by_seq_.find(it->second);
        by_vote_.erase({node->second.tx.election_id, node->second.tx.voter_tag});
        priority_.erase(node->first);
        by_seq_.erase(node);
        by_hash_.erase(it);
        return true;
    }

    void clear() {
        by_seq_.clear();
        priority_.clear();
        by_hash_.clear();
        by_vote_.clear();
    }

private:
    struct entry {
        vote_tx tx;
        hash32 hash;
    };

    bool full() const noexcept { return by_seq_.size() >= capacity_; }

    void insert(vote_tx tx, const hash32& th) {
        const std::uint64_t seq = next_seq_++;
        by_vote_.emplace(ballotchain::detail::vote_key{tx.election_id, tx.voter_tag}, th);
        by_hash_.emplace(th, seq);
        if (!tx.is_vote() && tx.kind != tx_kind::ballot) priority_.insert(seq);
        by_seq_.emplace(seq, entry{std::move(tx), th});
    }

    std::size_t capacity_;
    std::uint64_t next_seq_ = 0;
    std::map<std::uint64_t, entry> by_seq_;  // arrival order
    std::set<std::uint64_t> priority_;       // election records but ballots: taken first (batch)
    std::unordered_map<hash32, std::uint64_t> by_hash_;
    std::unordered_map<ballotchain::detail::vote_key, hash32, ballotchain::detail::vote_key_hash> by_vote_;
};

}  // namespace ballotchain::ledger
