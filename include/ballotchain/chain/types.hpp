#pragma once
/// @file The chain's data: vote transactions, blocks, commit certificates.
/// Encodings are in codec.hpp and docs/data-format.md.

#include <ballotchain/core/bytes.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ballotchain {

/// Hard bounds of the codec. Genesis may set tighter ones (never looser).
namespace limits {
inline constexpr std::size_t max_encrypted_vote_bytes = 64 * 1024;
inline constexpr std::size_t max_block_txs = 100'000;
inline constexpr std::size_t max_validators = 256;
/// Validator keys ever known (the registry: genesis validators, then each one a change adds; ids never reused).
inline constexpr std::size_t max_registry = 1024;
inline constexpr std::size_t max_submitters = 1024;
inline constexpr std::size_t max_name_bytes = 64;
inline constexpr std::size_t max_batch_txs = 65'536;  ///< tx hashes under one batch signature
inline constexpr std::size_t max_batch_path = 16;     ///< = log2(max_batch_txs): the longest audit path
}  // namespace limits

/// Type tags: the first byte of every encoding, so no two kinds of value
/// ever hash or sign the same bytes.
enum class tag : std::uint8_t {
    tx = 0x01,
    header = 0x02,
    seal = 0x03,
    certificate = 0x04,
    genesis = 0x05,
    block = 0x06,
    election_tx = 0x07,
    batch = 0x08,  ///< the message a submitter signs: a batch of tx hashes (batch_message)
};

/// What a transaction does. A plain vote (tag 0x01) names its candidate in clear; the other
/// kinds (tag 0x07) carry an election record in `encrypted_vote` (docs/election-protocol.md):
/// an election's definition, a secret ballot, or a trustee's step of the key ceremony or tally.
enum class tx_kind : std::uint8_t {
    vote = 0,             ///< plain vote (candidate_id in clear)
    define_election = 1,  ///< an election's definition, by a submitter
    ballot = 2,           ///< an encrypted ballot with its proofs, by a submitter
    trustee_key = 3,      ///< a validator's trustee key (once per chain)
    dealing = 4,          ///< a trustee's dealing of the key ceremony
    verdict = 5,          ///< a trustee's verdict on the dealings (its complaints, maybe none)
    decryption = 6,       ///< a trustee's decryption shares of the tally
};
inline constexpr std::uint8_t max_tx_kind = 6;

inline constexpr const char* tx_kind_names[] = {"vote",    "define_election", "ballot",    "trustee_key",
                                                "dealing", "verdict",         "decryption"};
inline const char* to_string(tx_kind k) noexcept {
    const auto i = static_cast<std::uint8_t>(k);
    return i <= max_tx_kind ? tx_kind_names[i] : "unknown";
}

/// How a signer authorized a transaction: one Ed25519 signature over a batch of tx hashes
/// (their RFC 6962 Merkle root, data-format.md §2), and the audit path from this tx's hash
/// to that root. A transaction signed alone is a batch of one (size 1, index 0, no path).
/// Many votes signed together cost one signature to make and, to a checker that remembers
/// it (signature_checker), one to verify.
struct batch_signature {
    std::uint32_t size = 1;     ///< tx hashes in the signed batch, 1..limits::max_batch_txs
    std::uint32_t index = 0;    ///< this tx's place among them (< size)
    std::vector<hash32> path;   ///< audit path from this tx hash to the batch root, bottom-up
    signature sig;              ///< Sign(signer, batch_message(chain_id, size, root))

    bool operator==(const batch_signature&) const = default;
};

/// One transaction: a vote, or (kind ≠ vote) an election record.
/// `voter_tag` is a keyed hash of voter and election computed by
/// the backend: it lets validators refuse a second vote without learning who
/// voted; a trustee's or a definition's record uses its election's slot tag
/// instead (chain/election.hpp). The tx hash covers every field but `auth`;
/// `auth` signs it within a batch. For kind ≠ vote, `candidate_id` is 0 and not
/// encoded, `encrypted_vote` is the record's body and `submitter` its signer.
struct vote_tx {
    std::uint64_t chain_id = 0;
    std::uint64_t election_id = 0;
    std::uint64_t candidate_id = 0;
    bytes encrypted_vote;
    hash32 voter_tag;
    std::uint64_t timestamp_ms = 0;
    public_key submitter;
    batch_signature auth;
    tx_kind kind = tx_kind::vote;

    bool operator==(const vote_tx&) const = default;
    bool is_vote() const noexcept { return kind == tx_kind::vote; }
};

/// Block header. Block hash = hash of its encoding; the proposer signs that hash.
struct block_header {
    std::uint64_t chain_id = 0;
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    hash32 parent;
    std::uint64_t timestamp_ms = 0;
    std::uint32_t proposer = 0;  ///< index into genesis validators
    hash32 tx_root;              ///< RFC 6962 Merkle root of the tx hashes
    std::uint32_t tx_count = 0;

    bool operator==(const block_header&) const = default;
};

struct block {
    block_header header;
    signature proposer_sig;
    std::vector<vote_tx> txs;  ///< exactly header.tx_count of them

    bool operator==(const block&) const = default;
};

/// A validator's signature over (chain id, height, round, block hash).
struct commit_seal {
    std::uint32_t validator = 0;
    signature sig;
    bool operator==(const commit_seal&) const = default;
};

/// Proof of finality: at least q seals for one block, in ascending validator order.
struct commit_certificate {
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    hash32 block_hash;
    std::vector<commit_seal> seals;

    bool operator==(const commit_certificate&) const = default;
};

/// A block as stored and shipped between validators: with its certificate.
struct finalized_block {
    block blk;
    commit_certificate cert;

    bool operator==(const finalized_block&) const = default;
};

/// Where a transaction sits in the chain.
struct tx_location {
    std::uint64_t height = 0;
    std::uint32_t index = 0;
    bool operator==(const tx_location&) const = default;
};

}  // namespace ballotchain
