#pragma once
/// @file A storage that fails on command: a wrapper over any `storage` model
/// whose writes fail while its `storage_faults` say so, as a full disk or a
/// dying one would. The unit tests and the simulator use it to check that a
/// node whose own disk fails stops signing and says so (a local fault, not a
/// peer's), while the others go on; see docs/architecture.md, "Local faults".
///
/// Two ways a write fails, as in TigerBeetle's storage fault model:
/// - `write_fails`: nothing is written and the call returns io_error (ENOSPC);
/// - `sync_fails`: the write reaches the store but the call returns io_error,
///   so the caller does not know whether it is durable (a failed fsync).
/// Reads always succeed: what was written is there.

#include <ballotchain/storage/concepts.hpp>
#include <ballotchain/storage/errc.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace ballotchain {

/// What a faulty_storage fails; changed by the test or simulator at any time
/// (shared, so a restarted node's storage keeps the same switches).
struct storage_faults {
    enum class mode : std::uint8_t {
        none,         ///< writes work
        write_fails,  ///< nothing is written; io_error
        sync_fails,   ///< written, but io_error: durability unknown to the caller
    };
    mode appends = mode::none;  ///< append() and rebuild_indexes()
    mode meta = mode::none;     ///< put_meta()
    std::string meta_key;       ///< when not empty, only put_meta of this key fails
    std::uint64_t injected = 0; ///< writes failed so far

    bool any() const noexcept { return appends != mode::none || meta != mode::none; }
    void clear() {
        appends = mode::none;
        meta = mode::none;
        meta_key.clear();
    }
};

/// @tparam S any `storage` model; held by value (use shared_storage<...> to
/// keep the data across a simulated crash).
template <storage S>
class faulty_storage {
public:
    explicit faulty_storage(S s, std::shared_ptr<storage_faults> f = nullptr)
        : s_(std::move(s)), f_(f ? std::move(f) : std::make_shared<storage_faults>()) {}

    result<void> append(const finalized_block& fb, const hash32& bh, std::span<const hash32> th) {
        return write(f_->appends, [&] { return s_.append(fb, bh, th); });
    }
    result<void> rebuild_indexes(const block_indexer& ix) {
        return write(f_->appends, [&] { return s_.rebuild_indexes(ix); });
    }
    result<void> put_meta(std::string_view k, byte_view v) {
        const bool hit = f_->meta_key.empty() || f_->meta_key == k;
        return write(hit ? f_->meta : storage_faults::mode::none, [&] { return s_.put_meta(k, v); });
    }

    std::optional<std::uint64_t> head() const { return s_.head(); }
    result<finalized_block> load(std::uint64_t h) const { return s_.load(h); }
    result<bytes> load_raw(std::uint64_t h) const { return s_.load_raw(h); }
    std::optional<hash32> hash_at(std::uint64_t h) const { return s_.hash_at(h); }
    std::optional<std::uint64_t> height_of(const hash32& h) const { return s_.height_of(h); }
    std::optional<tx_location> find_tx(const hash32& h) const { return s_.find_tx(h); }
    std::optional<tx_location> find_vote(std::uint64_t e, const hash32& t) const { return s_.find_vote(e, t); }
    result<std::vector<tx_location>> election_txs(std::uint64_t e, std::size_t limit) const {
        return s_.election_txs(e, limit);
    }
    result<void> scan_block_index(const block_index_visitor& f) const { return s_.scan_block_index(f); }
    result<void> scan_tx_index(const tx_index_visitor& f) const { return s_.scan_tx_index(f); }
    std::optional<bytes> get_meta(std::string_view k) const { return s_.get_meta(k); }

    storage_faults& faults() noexcept { return *f_; }
    const std::shared_ptr<storage_faults>& faults_ptr() const noexcept { return f_; }
    S& underlying() noexcept { return s_; }
    const S& underlying() const noexcept { return s_; }

private:
    template <class Write>
    result<void> write(storage_faults::mode m, Write&& w) {
        if (m == storage_faults::mode::none) return w();
        ++f_->injected;
        if (m == storage_faults::mode::sync_fails) (void)w();
        return make_error(storage_ns::errc::io_error);
    }

    S s_;
    std::shared_ptr<storage_faults> f_;
};

}  // namespace ballotchain
