#pragma once
/// @file In-memory storage: the reference model of the storage concept, used
/// by tests, the simulator and benchmarks. Nothing survives the process.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/storage/concepts.hpp>
#include <ballotchain/storage/errc.hpp>

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
        by_hash_.emplace(block_hash, h);
        for (std::size_t i = 0; i < tx_hashes.size() && i < fb.blk.txs.size(); ++i) {
            const tx_location loc{h, static_cast<std::uint32_t>(i)};
            txs_.emplace(tx_hashes[i], loc);
            votes_.emplace(vote_key{fb.blk.txs[i].election_id, fb.blk.txs[i].voter_tag}, loc);
        }
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
    std::optional<tx_location> find_tx(const hash32& th) const { return find(txs_, th); }
    std::optional<tx_location> find_vote(std::uint64_t election, const hash32& voter_tag) const {
        return find(votes_, vote_key{election, voter_tag});
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

private:
    struct entry {
        finalized_block fb;
        hash32 hash;
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

    std::vector<entry> blocks_;
    std::unordered_map<hash32, std::uint64_t> by_hash_;
    std::unordered_map<hash32, tx_location> txs_;
    std::unordered_map<vote_key, tx_location, vote_key_hash> votes_;
    std::map<std::string, bytes, std::less<>> meta_;
};
static_assert(storage<memory_storage>);

}  // namespace ballotchain
