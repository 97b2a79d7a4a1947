#pragma once
/// @file Storage policy: where finalized blocks and small durable metadata live.

#include <ballotchain/chain/types.hpp>
#include <ballotchain/core/error.hpp>

#include <concepts>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ballotchain {

/// One row of the block index as stored: the hash kept for a height. Values
/// are as found (a hash that is not 32 bytes is nullopt), so a verifier can
/// report a damaged row instead of skipping it.
struct block_index_row {
    std::uint64_t height = 0;
    std::optional<hash32> hash;
    bool operator==(const block_index_row&) const = default;
};

/// One row of the transaction index as stored: tx hash → (height, index),
/// with the vote key (election, voter_tag) that the second lookup uses.
/// `index` is 64-bit so that a stored value outside the u32 range is seen as
/// such, not truncated into a plausible one.
struct tx_index_row {
    std::optional<hash32> tx_hash;
    std::uint64_t height = 0;
    std::uint64_t index = 0;
    std::uint64_t election = 0;
    std::optional<hash32> voter_tag;
    bool operator==(const tx_index_row&) const = default;
};

/// What the chain derives from a stored block for the indexes (the storage
/// does no hashing): its block hash and its tx hashes in block order.
struct block_index_entry {
    hash32 block_hash;
    std::vector<hash32> tx_hashes;
};

using block_index_visitor = std::function<bool(const block_index_row&)>;  ///< false stops the scan
using tx_index_visitor = std::function<bool(const tx_index_row&)>;        ///< false stops the scan
using block_indexer = std::function<block_index_entry(const finalized_block&)>;

/// Durable (or, for tests, in-memory) home of the finalized chain.
///
/// Heights are dense from 0 (block 0 is the genesis block). The storage does
/// no hashing and no validation: the chain passes the block hash and the tx
/// hashes it computed, and the storage keeps them as indexes. The blocks are
/// the data; the indexes (height ↔ block hash, tx hash → location, (election,
/// voter_tag) → location) are derived from them and can be scanned, compared
/// and rebuilt (docs/data-format.md §15).
///
/// | expression                        | type                        | meaning |
/// |-----------------------------------|-----------------------------|---------|
/// | `s.append(fb, bh, txh)`           | result<void>                | stores block `fb` with hash `bh` and tx hashes `txh` at height `fb.blk.header.height` == head+1 (or 0 when empty); durable when it returns |
/// | `cs.head()`                       | std::optional<std::uint64_t> | height of the last block; nullopt when empty |
/// | `cs.load(h)`                      | result<finalized_block>     | block at height h (error if absent or undecodable) |
/// | `cs.load_raw(h)`                  | result<bytes>               | its stored encoding |
/// | `cs.hash_at(h)`                   | std::optional<hash32>       | block hash indexed at height h |
/// | `cs.height_of(bh)`                | std::optional<std::uint64_t> | height of the block with hash bh |
/// | `cs.find_tx(th)`                  | std::optional<tx_location>  | where tx hash th is, as the index says |
/// | `cs.find_vote(e, vt)`             | std::optional<tx_location>  | where election e's voter_tag vt voted, as the index says |
/// | `cs.election_txs(e, n)`           | result<std::vector<tx_location>> | where the last n txs of election e are, as the index says: height then index descending; cost O(n), not O(chain) |
/// | `cs.scan_block_index(f)`          | result<void>                | calls f(block_index_row) for every stored (height, hash), heights ascending as unsigned; stops when f returns false |
/// | `cs.scan_tx_index(f)`             | result<void>                | calls f(tx_index_row) for every tx index row, (height, index) ascending as unsigned; stops when f returns false |
/// | `s.rebuild_indexes(ix)`           | result<void>                | atomically replaces every index row by what `ix(block)` gives for each stored block 0..head; fails (changing nothing) if a block does not load |
/// | `s.put_meta(k, v)`                | result<void>                | durable key/value (consensus lock, backend state) |
/// | `cs.get_meta(k)`                  | std::optional<bytes>        | value stored under k |
template <class S>
concept storage = requires(S& s, const S& cs, const finalized_block& fb, const hash32& h,
                           std::span<const hash32> txh, std::uint64_t n, std::string_view k, byte_view v,
                           const block_index_visitor& bv, const tx_index_visitor& tv, const block_indexer& ix) {
    { s.append(fb, h, txh) } -> std::same_as<result<void>>;
    { cs.head() } -> std::same_as<std::optional<std::uint64_t>>;
    { cs.load(n) } -> std::same_as<result<finalized_block>>;
    { cs.load_raw(n) } -> std::same_as<result<bytes>>;
    { cs.hash_at(n) } -> std::same_as<std::optional<hash32>>;
    { cs.height_of(h) } -> std::same_as<std::optional<std::uint64_t>>;
    { cs.find_tx(h) } -> std::same_as<std::optional<tx_location>>;
    { cs.find_vote(n, h) } -> std::same_as<std::optional<tx_location>>;
    { cs.election_txs(n, n) } -> std::same_as<result<std::vector<tx_location>>>;
    { cs.scan_block_index(bv) } -> std::same_as<result<void>>;
    { cs.scan_tx_index(tv) } -> std::same_as<result<void>>;
    { s.rebuild_indexes(ix) } -> std::same_as<result<void>>;
    { s.put_meta(k, v) } -> std::same_as<result<void>>;
    { cs.get_meta(k) } -> std::same_as<std::optional<bytes>>;
};


}  // namespace ballotchain
