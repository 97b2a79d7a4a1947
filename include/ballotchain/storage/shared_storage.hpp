#pragma once
/// @file A storage held through a shared_ptr: copies and moves share one
/// underlying store, so the store outlives the chain or engine that uses it.
/// The simulator and tests use it to "crash" an engine and reopen its storage.

#include <ballotchain/storage/concepts.hpp>

#include <memory>

namespace ballotchain {

/// @tparam S any `storage` model (e.g. memory_storage).
template <storage S>
class shared_storage {
public:
    shared_storage() : s_(std::make_shared<S>()) {}
    explicit shared_storage(std::shared_ptr<S> s) : s_(std::move(s)) {}

    result<void> append(const finalized_block& fb, const hash32& bh, std::span<const hash32> th) {
        return s_->append(fb, bh, th);
    }
    std::optional<std::uint64_t> head() const { return s_->head(); }
    result<finalized_block> load(std::uint64_t h) const { return s_->load(h); }
    result<bytes> load_raw(std::uint64_t h) const { return s_->load_raw(h); }
    std::optional<hash32> hash_at(std::uint64_t h) const { return s_->hash_at(h); }
    std::optional<std::uint64_t> height_of(const hash32& h) const { return s_->height_of(h); }
    std::optional<tx_location> find_tx(const hash32& h) const { return s_->find_tx(h); }
    std::optional<tx_location> find_vote(std::uint64_t e, const hash32& t) const { return s_->find_vote(e, t); }
    result<std::vector<tx_location>> election_txs(std::uint64_t e, std::size_t limit) const {
        return s_->election_txs(e, limit);
    }
    result<void> scan_block_index(const block_index_visitor& f) const { return s_->scan_block_index(f); }
    result<void> scan_tx_index(const tx_index_visitor& f) const { return s_->scan_tx_index(f); }
    result<void> rebuild_indexes(const block_indexer& ix) { return s_->rebuild_indexes(ix); }
    result<void> put_meta(std::string_view k, byte_view v) { return s_->put_meta(k, v); }
    std::optional<bytes> get_meta(std::string_view k) const { return s_->get_meta(k); }

    S& underlying() noexcept { return *s_; }
    const std::shared_ptr<S>& ptr() const noexcept { return s_; }

private:
    std::shared_ptr<S> s_;
};

}  // namespace ballotchain
