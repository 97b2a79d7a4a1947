#pragma once
/// @file Genesis: the validator set, authorized submitters and chain
/// parameters. Read from a JSON file; hashed through its canonical binary
/// encoding (codec.hpp), and that hash is the parent of block 0.

#include <ballotchain/chain/errc.hpp>
#include <ballotchain/chain/types.hpp>
#include <ballotchain/crypto/key_encoding.hpp>

#include <optional>

namespace ballotchain {

struct validator_info {
    std::string name;  ///< e.g. "validator-1"; at most limits::max_name_bytes
    public_key key;
    bool operator==(const validator_info&) const = default;
};

/// Bits of the genesis's optional trailing `flags` field (data-format.md §7): encoded only
/// when one is set, so a genesis without any keeps its encoding and hash.
namespace genesis_flags {
inline constexpr std::uint32_t elections_defined = 1u << 0;
inline constexpr std::uint32_t known = elections_defined;
}  // namespace genesis_flags

struct genesis_config {
    std::uint64_t chain_id = 1337;
    std::uint64_t timestamp_ms = 0;
    std::vector<validator_info> validators;  ///< order = proposer order
    std::vector<public_key> submitters;      ///< keys allowed to sign vote transactions
    std::uint64_t block_interval_ms = 5000;
    std::uint32_t max_block_txs = 32;
    bool empty_blocks = false;
    std::uint64_t round_timeout_ms = 2000;       ///< base round timeout, doubled per round
    std::uint64_t round_timeout_max_ms = 60000;  ///< cap of the doubling
    std::uint32_t max_encrypted_vote_bytes = 4096;
    /// Every election is defined on the chain (docs/election-protocol.md): a plain vote for an
    /// election with no definition record is refused (`unknown_election`), as are one for a
    /// candidate not in the definition and one whose block time is outside its window.
    /// Off by default so that an older genesis (and its hash) stays as it was: the flag is in
    /// the JSON and the canonical encoding (genesis_flags) only when set. `ballotchain testnet`
    /// sets it for new networks.
    bool elections_defined = false;

    bool operator==(const genesis_config&) const = default;

    std::size_t n() const noexcept { return validators.size(); }
    /// q = ceil(2n/3): any two quorums share at least one honest validator when n ≥ 3f+1.
    std::size_t quorum() const noexcept { return (2 * n() + 2) / 3; }
    /// f = n - q: how many validators may fail while a quorum remains.
    std::size_t max_faulty() const noexcept { return n() - quorum(); }
    /// Proposer of (height, round): round-robin over the validator list.
    std::uint32_t proposer_index(std::uint64_t height, std::uint32_t round) const noexcept {
        return static_cast<std::uint32_t>((height + round) % n());
    }
    std::optional<std::uint32_t> validator_index(const public_key& k) const noexcept {
        for (std::size_t i = 0; i < validators.size(); ++i)
            if (validators[i].key == k) return static_cast<std::uint32_t>(i);
        return std::nullopt;
    }
    /// The `flags` field's value (0: not encoded).
    std::uint32_t flags() const noexcept { return elections_defined ? genesis_flags::elections_defined : 0u; }
    bool is_submitter(const public_key& k) const noexcept {
        for (const auto& s : submitters)
            if (s == k) return true;
        return false;
    }
};

/// Semantic checks beyond the codec's bounds: 1..256 distinct validators,
/// no small-order or non-canonical keys, 1 ms <= block interval <= 1 day,
/// 1 ms <= round timeout <= cap <= 1 day, txs per block and vote size within
/// the codec limits.
inline error_code check_genesis(const genesis_config& g) noexcept {
    using chain::errc;
    if (g.validators.empty() || g.validators.size() > limits::max_validators) return make_error(errc::bad_genesis);
    if (g.submitters.size() > limits::max_submitters) return make_error(errc::bad_genesis);
    if (g.max_block_txs == 0 || g.max_block_txs > limits::max_block_txs) return make_error(errc::bad_genesis);
    if (g.max_encrypted_vote_bytes > limits::max_encrypted_vote_bytes) return make_error(errc::bad_genesis);
    constexpr std::uint64_t day_ms = 86'400'000;
    if (g.block_interval_ms == 0 || g.block_interval_ms > day_ms) return make_error(errc::bad_genesis);
    if (g.round_timeout_ms == 0 || g.round_timeout_max_ms < g.round_timeout_ms || g.round_timeout_max_ms > day_ms)
        return make_error(errc::bad_genesis);
    for (const auto& s : g.submitters)
        if (ed25519_small_order(s) || !ed25519_canonical(s)) return make_error(errc::bad_genesis);
    for (std::size_t i = 0; i < g.validators.size(); ++i) {
        if (g.validators[i].name.size() > limits::max_name_bytes) return make_error(errc::bad_genesis);
        if (ed25519_small_order(g.validators[i].key) || !ed25519_canonical(g.validators[i].key))
            return make_error(errc::bad_genesis);
        for (std::size_t j = 0; j < i; ++j)
            if (g.validators[i].key == g.validators[j].key) return make_error(errc::bad_genesis);
    }
    return {};
}

}  // namespace ballotchain
