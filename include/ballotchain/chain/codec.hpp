#pragma once
/// @file Canonical binary codec (docs/data-format.md). Big-endian integers,
/// u32 length and count prefixes, a type tag first. Each value has exactly one
/// encoding: decoders reject unknown tags, out-of-bound lengths, unsorted
/// seals, booleans other than 0/1, and trailing bytes.

#include <ballotchain/chain/genesis.hpp>
#include <ballotchain/chain/merkle.hpp>
#include <ballotchain/chain/types.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/suite.hpp>

namespace ballotchain {

namespace codec {

inline constexpr std::size_t header_size = 1 + 8 + 8 + 4 + 32 + 8 + 4 + 32 + 4;         // 101
/// A transaction's authorization without its audit path: batch size, index, path length, signature.
inline constexpr std::size_t min_auth_size = 4 + 4 + 1 + 64;                                        // 73
inline constexpr std::size_t min_vote_tx_size = 1 + 8 + 8 + 8 + 4 + 32 + 8 + 32 + min_auth_size;     // 174
inline constexpr std::size_t min_election_tx_size = 1 + 8 + 1 + 8 + 4 + 32 + 8 + 32 + min_auth_size;  // 167
inline constexpr std::size_t min_tx_size = min_election_tx_size;  ///< the smallest transaction of any kind
inline constexpr std::size_t seal_size = 4 + 64;
inline constexpr std::size_t seal_message_size = 1 + 8 + 8 + 4 + 32;
inline constexpr std::size_t batch_message_size = 1 + 8 + 4 + 32;

// ---- writers ---------------------------------------------------------------

/// The signed part of a transaction (everything but the signature).
/// A vote: tag 0x01 with candidate_id; any other kind: tag 0x07, kind, no candidate_id.
inline void write_tx_payload(wire::writer& w, const vote_tx& tx) {
    if (tx.is_vote()) {
        w.u8(static_cast<std::uint8_t>(tag::tx));
        w.u64(tx.chain_id);
        w.u64(tx.election_id);
        w.u64(tx.candidate_id);
    } else {
        w.u8(static_cast<std::uint8_t>(tag::election_tx));
        w.u64(tx.chain_id);
        w.u8(static_cast<std::uint8_t>(tx.kind));
        w.u64(tx.election_id);
    }
    w.var(tx.encrypted_vote);
    w.fixed(tx.voter_tag);
    w.u64(tx.timestamp_ms);
    w.fixed(tx.submitter);
}

/// A transaction's authorization: u32 batch size, u32 index, u8 path length, the path, the signature.
inline void write_auth(wire::writer& w, const batch_signature& a) {
    w.u32(a.size);
    w.u32(a.index);
    w.u8(static_cast<std::uint8_t>(a.path.size()));
    for (const auto& p : a.path) w.fixed(p);
    w.fixed(a.sig);
}

inline void write_tx(wire::writer& w, const vote_tx& tx) {
    write_tx_payload(w, tx);
    write_auth(w, tx.auth);
}

inline void write_header(wire::writer& w, const block_header& h) {
    w.u8(static_cast<std::uint8_t>(tag::header));
    w.u64(h.chain_id);
    w.u64(h.height);
    w.u32(h.round);
    w.fixed(h.parent);
    w.u64(h.timestamp_ms);
    w.u32(h.proposer);
    w.fixed(h.tx_root);
    w.u32(h.tx_count);
}

/// Block: tag, header, proposer signature, then header.tx_count transactions.
/// @pre `b.txs.size() == b.header.tx_count`.
inline void write_block(wire::writer& w, const block& b) {
    w.u8(static_cast<std::uint8_t>(tag::block));
    write_header(w, b.header);
    w.fixed(b.proposer_sig);
    for (const auto& tx : b.txs) write_tx(w, tx);
}

inline void write_certificate(wire::writer& w, const commit_certificate& c) {
    w.u8(static_cast<std::uint8_t>(tag::certificate));
    w.u64(c.height);
    w.u32(c.round);
    w.fixed(c.block_hash);
    w.u32(static_cast<std::uint32_t>(c.seals.size()));
    for (const auto& s : c.seals) {
        w.u32(s.validator);
        w.fixed(s.sig);
    }
}

inline void write_genesis(wire::writer& w, const genesis_config& g) {
    w.u8(static_cast<std::uint8_t>(tag::genesis));
    w.u64(g.chain_id);
    w.u64(g.timestamp_ms);
    w.u32(static_cast<std::uint32_t>(g.validators.size()));
    for (const auto& v : g.validators) {
        w.var(as_bytes(v.name));
        w.fixed(v.key);
    }
    w.u32(static_cast<std::uint32_t>(g.submitters.size()));
    for (const auto& s : g.submitters) w.fixed(s);
    w.u64(g.block_interval_ms);
    w.u32(g.max_block_txs);
    w.u8(g.empty_blocks ? 1 : 0);
    w.u64(g.round_timeout_ms);
    w.u64(g.round_timeout_max_ms);
    w.u32(g.max_encrypted_vote_bytes);
    if (const auto f = g.flags()) w.u32(f);  // only when set: older genesis encodings are unchanged
}

// ---- readers ---------------------------------------------------------------

inline bool expect_tag(wire::reader& r, tag t) {
    std::uint8_t v = 0;
    if (!r.u8(v)) return false;
    if (v != static_cast<std::uint8_t>(t)) return r.fail(core::errc::bad_tag);
    return true;
}

/// Batch size 1..max_batch_txs [length_too_large above, non_canonical at 0], index < size and a
/// path of exactly the length that (index, size) implies [non_canonical], so that one
/// authorization has one encoding and the path is bounded (16 entries) before it is read.
inline bool read_auth(wire::reader& r, batch_signature& a) {
    std::uint8_t len = 0;
    if (!r.u32(a.size) || !r.u32(a.index) || !r.u8(len)) return false;
    if (a.size > limits::max_batch_txs) return r.fail(core::errc::length_too_large);
    if (a.size == 0 || a.index >= a.size || len != merkle_path_length(a.index, a.size))
        return r.fail(core::errc::non_canonical);
    a.path.assign(len, {});
    for (auto& p : a.path)
        if (!r.fixed(p)) return false;
    return r.fixed(a.sig);
}

inline bool read_tx(wire::reader& r, vote_tx& tx) {
    std::uint8_t t = 0;
    if (!r.u8(t)) return false;
    if (t == static_cast<std::uint8_t>(tag::tx)) {
        tx.kind = tx_kind::vote;
        if (!r.u64(tx.chain_id) || !r.u64(tx.election_id) || !r.u64(tx.candidate_id)) return false;
    } else if (t == static_cast<std::uint8_t>(tag::election_tx)) {
        std::uint8_t k = 0;
        if (!r.u64(tx.chain_id) || !r.u8(k)) return false;
        if (k == 0 || k > max_tx_kind) return r.fail(core::errc::bad_tag);
        tx.kind = static_cast<tx_kind>(k);
        tx.candidate_id = 0;
        if (!r.u64(tx.election_id)) return false;
    } else {
        return r.fail(core::errc::bad_tag);
    }
    return r.var(tx.encrypted_vote, limits::max_encrypted_vote_bytes) && r.fixed(tx.voter_tag) &&
           r.u64(tx.timestamp_ms) && r.fixed(tx.submitter) && read_auth(r, tx.auth);
}

inline bool read_header(wire::reader& r, block_header& h) {
    return expect_tag(r, tag::header) && r.u64(h.chain_id) && r.u64(h.height) && r.u32(h.round) &&
           r.fixed(h.parent) && r.u64(h.timestamp_ms) && r.u32(h.proposer) && r.fixed(h.tx_root) &&
           r.u32(h.tx_count);
}

inline bool read_block(wire::reader& r, block& b) {
    if (!expect_tag(r, tag::block) || !read_header(r, b.header) || !r.fixed(b.proposer_sig)) return false;
    if (b.header.tx_count > limits::max_block_txs) return r.fail(core::errc::length_too_large);
    if (b.header.tx_count > r.remaining() / min_tx_size) return r.fail(core::errc::truncated);
    b.txs.clear();
    b.txs.resize(b.header.tx_count);
    for (auto& tx : b.txs)
        if (!read_tx(r, tx)) return false;
    return true;
}

inline bool read_certificate(wire::reader& r, commit_certificate& c) {
    std::uint32_t n = 0;
    if (!expect_tag(r, tag::certificate) || !r.u64(c.height) || !r.u32(c.round) || !r.fixed(c.block_hash) ||
        !r.count(n, limits::max_validators, seal_size))
        return false;
    c.seals.assign(n, {});
    for (std::uint32_t i = 0; i < n; ++i) {
        if (!r.u32(c.seals[i].validator) || !r.fixed(c.seals[i].sig)) return false;
        if (i > 0 && c.seals[i].validator <= c.seals[i - 1].validator) return r.fail(core::errc::non_canonical);
    }
    return true;
}

inline bool read_genesis(wire::reader& r, genesis_config& g) {
    std::uint32_t n = 0;
    if (!expect_tag(r, tag::genesis) || !r.u64(g.chain_id) || !r.u64(g.timestamp_ms) ||
        !r.count(n, limits::max_validators, 4 + 32))
        return false;
    g.validators.assign(n, {});
    for (auto& v : g.validators) {
        bytes name;
        if (!r.var(name, limits::max_name_bytes) || !r.fixed(v.key)) return false;
        v.name.assign(name.begin(), name.end());
    }
    if (!r.count(n, limits::max_submitters, 32)) return false;
    g.submitters.assign(n, {});
    for (auto& s : g.submitters)
        if (!r.fixed(s)) return false;
    std::uint8_t empty = 0;
    if (!r.u64(g.block_interval_ms) || !r.u32(g.max_block_txs) || !r.u8(empty) || !r.u64(g.round_timeout_ms) ||
        !r.u64(g.round_timeout_max_ms) || !r.u32(g.max_encrypted_vote_bytes))
        return false;
    if (empty > 1) return r.fail(core::errc::non_canonical);
    g.empty_blocks = empty == 1;
    // The optional flags: present only when not 0, known bits only (1..3 bytes left are
    // trailing bytes, as after any genesis without them).
    if (r.remaining() >= 4) {
        std::uint32_t flags = 0;
        if (!r.u32(flags)) return false;
        if (flags == 0 || (flags & ~genesis_flags::known) != 0) return r.fail(core::errc::non_canonical);
        g.elections_defined = (flags & genesis_flags::elections_defined) != 0;
    }
    return true;
}

namespace detail {
template <class T, class Read>
result<T> decode_whole(byte_view in, Read read) {
    wire::reader r(in);
    T v;
    if (!read(r, v) || !r.finish()) return r.error();
    return v;
}
template <class T, class Write>
bytes encode_with(const T& v, Write write, std::size_t reserve = 256) {
    bytes out;
    out.reserve(reserve);
    wire::writer w(out);
    write(w, v);
    return out;
}
}  // namespace detail

}  // namespace codec

// ---- whole-value API -------------------------------------------------------

inline bytes encode(const vote_tx& tx) { return codec::detail::encode_with(tx, codec::write_tx); }
inline bytes encode(const block_header& h) { return codec::detail::encode_with(h, codec::write_header); }
inline bytes encode(const block& b) {
    return codec::detail::encode_with(b, codec::write_block, codec::header_size + 65 + b.txs.size() * 320);
}
inline bytes encode(const commit_certificate& c) { return codec::detail::encode_with(c, codec::write_certificate); }
inline bytes encode(const genesis_config& g) { return codec::detail::encode_with(g, codec::write_genesis); }
inline bytes encode(const finalized_block& fb) {
    bytes out = encode(fb.blk);
    wire::writer w(out);
    codec::write_certificate(w, fb.cert);
    return out;
}
inline bytes encode_tx_payload(const vote_tx& tx) {
    return codec::detail::encode_with(tx, codec::write_tx_payload);
}

inline result<vote_tx> decode_tx(byte_view in) { return codec::detail::decode_whole<vote_tx>(in, codec::read_tx); }
inline result<block_header> decode_header(byte_view in) {
    return codec::detail::decode_whole<block_header>(in, codec::read_header);
}
inline result<block> decode_block(byte_view in) { return codec::detail::decode_whole<block>(in, codec::read_block); }
inline result<commit_certificate> decode_certificate(byte_view in) {
    return codec::detail::decode_whole<commit_certificate>(in, codec::read_certificate);
}
inline result<genesis_config> decode_genesis(byte_view in) {
    return codec::detail::decode_whole<genesis_config>(in, codec::read_genesis);
}
inline result<finalized_block> decode_finalized_block(byte_view in) {
    return codec::detail::decode_whole<finalized_block>(in, [](wire::reader& r, finalized_block& fb) {
        return codec::read_block(r, fb.blk) && codec::read_certificate(r, fb.cert);
    });
}

/// Transaction `index` of an encoded block (or finalized block), decoded
/// without decoding the others: their lengths are read to skip them. For
/// checking one index hit against the stored block cheaply. Fails like the
/// decoders (bad_tag, truncated, ...) and with `length_too_large` when the
/// block holds no such index.
inline result<vote_tx> decode_tx_at(byte_view block_bytes, std::uint32_t index) {
    constexpr std::size_t txs_at = 1 + codec::header_size + 64;
    constexpr std::size_t count_at = 1 + codec::header_size - 4;
    auto be32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | block_bytes[at + i];
        return v;
    };
    if (block_bytes.size() < txs_at) return make_error(core::errc::truncated);
    if (block_bytes[0] != static_cast<byte>(tag::block) || block_bytes[1] != static_cast<byte>(tag::header))
        return make_error(core::errc::bad_tag);
    if (index >= be32(count_at)) return make_error(core::errc::length_too_large);
    // The size of the tx at `at` (its tag says where its body length is), or an error.
    auto size_at = [&](std::size_t at) -> result<std::size_t> {
        if (block_bytes.size() - at < codec::min_tx_size) return make_error(core::errc::truncated);
        std::size_t len_at = 0, fixed = 0;
        if (block_bytes[at] == static_cast<byte>(tag::tx)) {
            len_at = 1 + 8 + 8 + 8;
            fixed = codec::min_vote_tx_size;
        } else if (block_bytes[at] == static_cast<byte>(tag::election_tx)) {
            len_at = 1 + 8 + 1 + 8;
            fixed = codec::min_election_tx_size;
        } else {
            return make_error(core::errc::bad_tag);
        }
        if (block_bytes.size() - at < len_at + 4) return make_error(core::errc::truncated);
        const std::size_t len = be32(at + len_at);
        if (len > limits::max_encrypted_vote_bytes) return make_error(core::errc::length_too_large);
        if (block_bytes.size() - at < fixed + len) return make_error(core::errc::truncated);
        // The path length is the byte after the batch size and index, behind the payload.
        const std::size_t path_len = block_bytes[at + fixed + len - 64 - 1];
        if (path_len > limits::max_batch_path) return make_error(core::errc::length_too_large);
        if (block_bytes.size() - at < fixed + len + 32 * path_len) return make_error(core::errc::truncated);
        return fixed + len + 32 * path_len;
    };
    std::size_t at = txs_at;
    for (std::uint32_t i = 0; i < index; ++i) {
        auto n = size_at(at);
        if (!n) return n.error();
        at += *n;
    }
    auto n = size_at(at);
    if (!n) return n.error();
    return decode_tx(block_bytes.subspan(at, *n));
}

// ---- hashes and signed messages ------------------------------------------------

/// Tx hash = H(tx payload): it identifies the transaction; its signer signs it within a
/// batch (batch_message).
template <suite Suite>
hash32 tx_hash(const vote_tx& tx) {
    return Suite::hash(encode_tx_payload(tx));
}

/// Block hash = H(header encoding). The proposer signs these 32 bytes.
template <suite Suite>
hash32 block_hash(const block_header& h) {
    return Suite::hash(encode(h));
}

/// The bytes a commit seal signs: tag 0x03, chain id, height, round, block hash.
inline bytes seal_message(std::uint64_t chain_id, std::uint64_t height, std::uint32_t round, const hash32& block) {
    bytes out;
    out.reserve(codec::seal_message_size);
    wire::writer w(out);
    w.u8(static_cast<std::uint8_t>(tag::seal));
    w.u64(chain_id);
    w.u64(height);
    w.u32(round);
    w.fixed(block);
    return out;
}

/// The bytes a transaction's signer signs (data-format.md §2): tag 0x08, chain id, the
/// number of tx hashes in the batch and their Merkle root (§5).
inline bytes batch_message(std::uint64_t chain_id, std::uint32_t size, const hash32& root) {
    bytes out;
    out.reserve(codec::batch_message_size);
    wire::writer w(out);
    w.u8(static_cast<std::uint8_t>(tag::batch));
    w.u64(chain_id);
    w.u32(size);
    w.fixed(root);
    return out;
}

/// Genesis hash = H(genesis encoding); it is the parent of block 0.
template <suite Suite>
hash32 genesis_hash(const genesis_config& g) {
    return Suite::hash(encode(g));
}

}  // namespace ballotchain
