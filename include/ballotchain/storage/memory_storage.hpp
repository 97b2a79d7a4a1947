#pragma once
/// @file In-memory storage: the reference model of the storage concept, used
/// by tests, the simulator and benchmarks. Nothing survives the process.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/storage/concepts.hpp>
#include <ballotchain/storage/errc.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

namespace ballotchain {

/// @par Thread safety Not thread-safe.
class memory_storage {
public:
    result<void> append(const finalized_block& fb, const hash32& block_hash, std::span<const hash32> tx_hashes) {
        const std::uint64_t h = fb.blk.header.height;
        if (h != blocks_.size()) return make_error(storage_ns::errc::out_of_order);
        blocks_.push_back({fb, block_hash});
        index_block(h, block_hash, tx_hashes);
        return {};
    }

    std::optional<std::uint64_t> head() const {
        if (blocks_.empty()) return std::nullopt;
        return blocks_.size() - 1;
    }
    result<finalized_block> load(std::uint64_t h) const {
        if (h >= blocks_.size()) return make_error(storage_ns::errc::not_found);
        return blocks_[h].fb;
    }
    result<bytes> load_raw(std::uint64_t h) const {
        if (h >= blocks_.size()) return make_error(storage_ns::errc::not_found);
        return encode(blocks_[h].fb);
    }
    std::optional<hash32> hash_at(std::uint64_t h) const {
        if (h >= blocks_.size()) return std::nullopt;
        return blocks_[h].hash;
    }
    std::optional<std::uint64_t> height_of(const hash32& bh) const { return find(by_hash_, bh); }
    std::optional<tx_location> find_tx(const hash32& th) const {
        auto it = txs_.find(th);
        if (it == txs_.end()) return std::nullopt;
        return it->second.loc;
    }
    std::optional<tx_location> find_vote(std::uint64_t election, const hash32& voter_tag) const {
        return find(votes_, vote_key{election, voter_tag});
    }

    result<std::vector<tx_location>> election_txs(std::uint64_t election, std::size_t limit) const {
        std::vector<tx_location> out;
        auto it = by_election_.find(election);
        if (it == by_election_.end()) return out;
        for (auto l = it->second.rbegin(); l != it->second.rend() && out.size() < limit; ++l) out.push_back(*l);
        return out;
    }

    result<void> scan_block_index(const block_index_visitor& f) const {
        for (std::uint64_t h = 0; h < blocks_.size(); ++h)
            if (!f(block_index_row{h, blocks_[h].hash})) break;
        return {};
    }

    result<void> scan_tx_index(const tx_index_visitor& f) const {
        std::vector<tx_index_row> rows;
        rows.reserve(txs_.size());
        for (const auto& [th, e] : txs_) rows.push_back({th, e.loc.height, e.loc.index, e.election, e.voter_tag});
        std::sort(rows.begin(), rows.end(),
                  [](const auto& a, const auto& b) { return std::tie(a.height, a.index) < std::tie(b.height, b.index); });
        for (const auto& r : rows)
            if (!f(r)) break;
        return {};
    }

    result<void> rebuild_indexes(const block_indexer& ix) {
        by_hash_.clear();
        txs_.clear();
        votes_.clear();
        by_election_.clear();
        for (std::uint64_t h = 0; h < blocks_.size(); ++h) {
            const auto e = ix(blocks_[h].fb);
            blocks_[h].hash = e.block_hash;
            index_block(h, e.block_hash, e.tx_hashes);
        }
        return {};
    }

    result<void> put_meta(std::string_view k, byte_view v) {
        meta_[std::string(k)] = bytes(v.begin(), v.end());
        return {};
    }
    std::optional<bytes> get_meta(std::string_view k) const {
        auto it = meta_.find(std::string(k));
        if (it == meta_.end()) return std::nullopt;
        return it->second;
    }

    /// Test hook: replaces the stored block at height h (tamper tests).
    void tamper(std::uint64_t h, const finalized_block& fb) { blocks_.at(h).fb = fb; }

    /// Test hook: sets (or, with nullopt, removes) the tx index row of `th`
    /// and its vote-key entry, as a damaged or forged index would hold them.
    void tamper_tx_index(const hash32& th, std::optional<tx_index_row> row) {
        if (auto it = txs_.find(th); it != txs_.end()) {
            votes_.erase(vote_key{it->second.election, it->second.voter_tag});
            std::erase(by_election_[it->second.election], it->second.loc);
            txs_.erase(it);
        }
        if (!row) return;
        const tx_location loc{row->height, static_cast<std::uint32_t>(row->index)};
        const hash32 tag = row->voter_tag.value_or(hash32{});
        txs_[th] = {loc, row->election, tag};
        votes_[vote_key{row->election, tag}] = loc;
        auto& in = by_election_[row->election];
        in.insert(std::upper_bound(in.begin(), in.end(), loc,
                                   [](const tx_location& a, const tx_location& b) {
                                       return std::tie(a.height, a.index) < std::tie(b.height, b.index);
                                   }),
                  loc);
    }

private:
    struct entry {
        finalized_block fb;
        hash32 hash;
    };
    struct tx_entry {
        tx_location loc;
        std::uint64_t election = 0;
        hash32 voter_tag;
    };
    struct vote_key {
        std::uint64_t election;
        hash32 tag;
        bool operator==(const vote_key&) const = default;
    };
    struct vote_key_hash {
        std::size_t operator()(const vote_key& k) const noexcept {
            return std::hash<hash32>{}(k.tag) ^ (k.election * 0x9e3779b97f4a7c15ull);
        }
    };
    template <class M, class K>
    static auto find(const M& m, const K& k) -> std::optional<typename M::mapped_type> {
        auto it = m.find(k);
        if (it == m.end()) return std::nullopt;
        return it->second;
    }

    void index_block(std::uint64_t h, const hash32& block_hash, std::span<const hash32> tx_hashes) {
        const auto& fb = blocks_[h].fb;
        by_hash_.emplace(block_hash, h);
        for (std::size_t i = 0; i < tx_hashes.size() && i < fb.blk.txs.size(); ++i) {
            const tx_location loc{h, static_cast<std::uint32_t>(i)};
            const auto& tx = fb.blk.txs[i];
            txs_.emplace(tx_hashes[i], tx_entry{loc, tx.election_id, tx.voter_tag});
            votes_.emplace(vote_key{tx.election_id, tx.voter_tag}, loc);
            by_election_[tx.election_id].push_back(loc);
        }
    }

    std::vector<entry> blocks_;
    std::unordered_map<hash32, std::uint64_t> by_hash_;
    std::unordered_map<hash32, tx_entry> txs_;
    std::unordered_map<vote_key, tx_location, vote_key_hash> votes_;
    std::unordered_map<std::uint64_t, std::vector<tx_location>> by_election_;  ///< (height, index) ascending
    std::map<std::string, bytes, std::less<>> meta_;
};
static_assert(storage<memory_storage>);

}  // namespace ballotchain
