#pragma once
/// @file Storage policy: where finalized blocks and small durable metadata live.

#include <ballotchain/chain/types.hpp>
#include <ballotchain/core/error.hpp>

#include <concepts>
#include <optional>
#include <span>
#include <string_view>

namespace ballotchain {

/// Durable (or, for tests, in-memory) home of the finalized chain.
///
/// Heights are dense from 0 (block 0 is the genesis block). The storage does
/// no hashing and no validation: the chain passes the block hash and the tx
/// hashes it computed, and the storage keeps them as indexes.
///
/// | expression                        | type                        | meaning |
/// |-----------------------------------|-----------------------------|---------|
/// | `s.append(fb, bh, txh)`           | result<void>                | stores block `fb` with hash `bh` and tx hashes `txh` at height `fb.blk.header.height` == head+1 (or 0 when empty); durable when it returns |
/// | `cs.head()`                       | std::optional<std::uint64_t> | height of the last block; nullopt when empty |
/// | `cs.load(h)`                      | result<finalized_block>     | block at height h (error if absent or undecodable) |
/// | `cs.load_raw(h)`                  | result<bytes>               | its stored encoding |
/// | `cs.hash_at(h)`                   | std::optional<hash32>       | block hash indexed at height h |
/// | `cs.height_of(bh)`                | std::optional<std::uint64_t> | height of the block with hash bh |
/// | `cs.find_tx(th)`                  | std::optional<tx_location>  | where tx hash th is |
/// | `cs.find_vote(e, vt)`             | std::optional<tx_location>  | where election e's voter_tag vt voted |
/// | `s.put_meta(k, v)`                | result<void>                | durable key/value (consensus lock, backend state) |
/// | `cs.get_meta(k)`                  | std::optional<bytes>        | value stored under k |
template <class S>
concept storage = requires(S& s, const S& cs, const finalized_block& fb, const hash32& h,
                           std::span<const hash32> txh, std::uint64_t n, std::string_view k, byte_view v) {
    { s.append(fb, h, txh) } -> std::same_as<result<void>>;
    { cs.head() } -> std::same_as<std::optional<std::uint64_t>>;
    { cs.load(n) } -> std::same_as<result<finalized_block>>;
    { cs.load_raw(n) } -> std::same_as<result<bytes>>;
    { cs.hash_at(n) } -> std::same_as<std::optional<hash32>>;
    { cs.height_of(h) } -> std::same_as<std::optional<std::uint64_t>>;
    { cs.find_tx(h) } -> std::same_as<std::optional<tx_location>>;
    { cs.find_vote(n, h) } -> std::same_as<std::optional<tx_location>>;
    { s.put_meta(k, v) } -> std::same_as<result<void>>;
    { cs.get_meta(k) } -> std::same_as<std::optional<bytes>>;
};


}  // namespace ballotchain
