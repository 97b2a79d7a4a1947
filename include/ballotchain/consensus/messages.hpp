#pragma once
/// @file Consensus messages: one signed envelope, eight kinds of body.
/// Byte layouts are in docs/protocol.md.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/consensus/errc.hpp>

#include <optional>

namespace ballotchain::consensus {

/// Tag byte of an envelope (distinct from every chain tag, so a message can
/// never be mistaken for a tx, header, seal or block).
inline constexpr std::uint8_t envelope_tag = 0x10;

/// Hard bounds of the message codec.
namespace msg_limits {
inline constexpr std::size_t max_message_bytes = 64u << 20;  ///< a whole envelope
inline constexpr std::size_t max_attachment_bytes = 64u << 20;
inline constexpr std::size_t max_txs_per_message = 100'000;
inline constexpr std::size_t max_blocks_per_message = 256;
}  // namespace msg_limits

enum class msg_type : std::uint8_t {
    proposal = 1,      ///< a block for (height, round), with round-change justification if round > 0
    prepare = 2,       ///< "I accept this block for (height, round)"
    commit = 3,        ///< "q validators accepted it", carries my commit seal
    round_change = 4,  ///< "move to this round", carries my prepared certificate if any
    status = 5,        ///< my chain height and head hash
    get_blocks = 6,    ///< send me finalized blocks from this height
    blocks = 7,        ///< finalized blocks with their certificates
    txs = 8,           ///< transaction gossip
};

inline const char* to_string(msg_type t) noexcept {
    switch (t) {
    case msg_type::proposal: return "PROPOSAL";
    case msg_type::prepare: return "PREPARE";
    case msg_type::commit: return "COMMIT";
    case msg_type::round_change: return "ROUND-CHANGE";
    case msg_type::status: return "STATUS";
    case msg_type::get_blocks: return "GET_BLOCKS";
    case msg_type::blocks: return "BLOCKS";
    case msg_type::txs: return "TXS";
    }
    return "UNKNOWN";
}

/// Every message: who sent it about which (height, round), a typed body, the
/// sender's signature over H(signing bytes), and an unsigned attachment that
/// only ROUND-CHANGE uses (the prepared block, checked against the signed hash).
struct envelope {
    std::uint64_t chain_id = 0;
    msg_type type = msg_type::status;
    std::uint32_t sender = 0;
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    bytes body;
    signature sig;
    bytes attachment;

    bool operator==(const envelope&) const = default;
};

/// The signed part: tag, chain id, type, sender, height, round, var(body).
inline bytes signing_bytes(std::uint64_t chain_id, msg_type type, std::uint32_t sender, std::uint64_t height,
                           std::uint32_t round, byte_view body) {
    bytes out;
    out.reserve(1 + 8 + 1 + 4 + 8 + 4 + 4 + body.size());
    wire::writer w(out);
    w.u8(envelope_tag);
    w.u64(chain_id);
    w.u8(static_cast<std::uint8_t>(type));
    w.u32(sender);
    w.u64(height);
    w.u32(round);
    w.var(body);
    return out;
}
inline bytes signing_bytes(const envelope& e) {
    return signing_bytes(e.chain_id, e.type, e.sender, e.height, e.round, e.body);
}

/// signing bytes ‖ sig ‖ var(attachment).
inline bytes encode(const envelope& e) {
    bytes out = signing_bytes(e);
    wire::writer w(out);
    w.fixed(e.sig);
    w.var(e.attachment);
    return out;
}

/// Strict decode; `digest_input` (if given) receives the signed prefix length.
inline result<envelope> decode_envelope(byte_view in, std::size_t* signed_len = nullptr) {
    if (in.size() > msg_limits::max_message_bytes) return make_error(core::errc::length_too_large);
    wire::reader r(in);
    envelope e;
    std::uint8_t tag = 0, type = 0;
    r.u8(tag);
    if (r.ok() && tag != envelope_tag) r.fail(core::errc::bad_tag);
    r.u64(e.chain_id);
    r.u8(type);
    if (r.ok() && (type < 1 || type > 8)) r.fail(core::errc::bad_tag);
    e.type = static_cast<msg_type>(type);
    r.u32(e.sender);
    r.u64(e.height);
    r.u32(e.round);
    r.var(e.body, msg_limits::max_message_bytes);
    const std::size_t pos = r.position();
    r.fixed(e.sig);
    r.var(e.attachment, msg_limits::max_attachment_bytes);
    if (!r.finish()) return r.error();
    if (signed_len) *signed_len = pos;
    return e;
}

/// Signs an envelope in place: sig = sign(H(signing bytes)).
template <suite Suite>
void sign_envelope(envelope& e, const typename Suite::key_pair& kp) {
    e.sig = Suite::sign(kp, Suite::hash(signing_bytes(e)).view());
}

template <suite Suite>
bool verify_envelope_sig(const public_key& pk, byte_view signed_part, const signature& sig) {
    return Suite::verify(pk, Suite::hash(signed_part).view(), sig);
}

// ---- bodies ---------------------------------------------------------------------

/// q PREPARE signatures for one (round, block hash): proof that a validator was prepared.
struct prepared_certificate {
    std::uint32_t round = 0;
    hash32 block_hash;
    std::vector<commit_seal> prepares;  ///< (validator, PREPARE envelope signature), ascending
    bool operator==(const prepared_certificate&) const = default;
};

/// ROUND-CHANGE body: optional prepared certificate.
struct round_change_body {
    std::optional<prepared_certificate> prepared;
    bool operator==(const round_change_body&) const = default;
};

/// One signed ROUND-CHANGE as carried inside a proposal's justification.
struct signed_round_change {
    std::uint32_t sender = 0;
    round_change_body body;
    signature sig;
    bool operator==(const signed_round_change&) const = default;
};

struct proposal_body {
    block blk;
    std::vector<signed_round_change> justification;  ///< empty in round 0
    bool operator==(const proposal_body&) const = default;
};

struct commit_body {
    hash32 block_hash;
    signature seal;  ///< over seal_message(chain, height, round, block_hash)
};

struct status_body {
    std::uint64_t height = 0;  ///< chain height (last final block)
    hash32 head_hash;
};

struct get_blocks_body {
    std::uint64_t from = 0;
    std::uint32_t count = 0;
};

namespace detail {
inline void write_seals(wire::writer& w, const std::vector<commit_seal>& seals) {
    w.u32(static_cast<std::uint32_t>(seals.size()));
    for (const auto& s : seals) {
        w.u32(s.validator);
        w.fixed(s.sig);
    }
}
inline bool read_seals(wire::reader& r, std::vector<commit_seal>& seals) {
    std::uint32_t n = 0;
    if (!r.count(n, limits::max_validators, codec::seal_size)) return false;
    seals.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        if (!r.u32(seals[i].validator) || !r.fixed(seals[i].sig)) return false;
        if (i > 0 && seals[i].validator <= seals[i - 1].validator) return r.fail(core::errc::non_canonical);
    }
    return true;
}
inline void write_rc(wire::writer& w, const round_change_body& b) {
    w.u8(b.prepared ? 1 : 0);
    if (b.prepared) {
        w.u32(b.prepared->round);
        w.fixed(b.prepared->block_hash);
        write_seals(w, b.prepared->prepares);
    }
}
inline bool read_rc(wire::reader& r, round_change_body& b) {
    std::uint8_t has = 0;
    if (!r.u8(has)) return false;
    if (has > 1) return r.fail(core::errc::non_canonical);
    if (has == 0) return true;
    prepared_certificate pc;
    if (!r.u32(pc.round) || !r.fixed(pc.block_hash) || !read_seals(r, pc.prepares)) return false;
    b.prepared = std::move(pc);
    return true;
}
template <class T, class Read>
result<T> decode_body(byte_view in, Read read) {
    wire::reader r(in);
    T v;
    if (!read(r, v) || !r.finish()) return r.error();
    return v;
}
template <class T, class Write>
bytes encode_body(const T& v, Write write) {
    bytes out;
    wire::writer w(out);
    write(w, v);
    return out;
}
}  // namespace detail

inline bytes encode(const round_change_body& b) { return detail::encode_body(b, detail::write_rc); }
inline result<round_change_body> decode_round_change(byte_view in) {
    return detail::decode_body<round_change_body>(in, detail::read_rc);
}

inline bytes encode(const proposal_body& p) {
    return detail::encode_body(p, [](wire::writer& w, const proposal_body& v) {
        codec::write_block(w, v.blk);
        w.u32(static_cast<std::uint32_t>(v.justification.size()));
        for (const auto& j : v.justification) {
            w.u32(j.sender);
            detail::write_rc(w, j.body);
            w.fixed(j.sig);
        }
    });
}
inline result<proposal_body> decode_proposal(byte_view in) {
    return detail::decode_body<proposal_body>(in, [](wire::reader& r, proposal_body& p) {
        if (!codec::read_block(r, p.blk)) return false;
        std::uint32_t n = 0;
        if (!r.count(n, limits::max_validators, 4 + 1 + 64)) return false;
        p.justification.resize(n);
        for (auto& j : p.justification)
            if (!r.u32(j.sender) || !detail::read_rc(r, j.body) || !r.fixed(j.sig)) return false;
        return true;
    });
}

inline bytes encode(const commit_body& c) {
    // Sized up front: one allocation (and g++ 12 -O3 sees no growth path to
    // report a false -Warray-bounds on).
    bytes out;
    out.reserve(c.block_hash.size() + c.seal.size());
    wire::writer w(out);
    w.fixed(c.block_hash);
    w.fixed(c.seal);
    return out;
}
inline result<commit_body> decode_commit(byte_view in) {
    return detail::decode_body<commit_body>(
        in, [](wire::reader& r, commit_body& c) { return r.fixed(c.block_hash) && r.fixed(c.seal); });
}

inline bytes encode(const status_body& s) {
    return detail::encode_body(s, [](wire::writer& w, const status_body& v) {
        w.u64(v.height);
        w.fixed(v.head_hash);
    });
}
inline result<status_body> decode_status(byte_view in) {
    return detail::decode_body<status_body>(
        in, [](wire::reader& r, status_body& s) { return r.u64(s.height) && r.fixed(s.head_hash); });
}

inline bytes encode(const get_blocks_body& g) {
    return detail::encode_body(g, [](wire::writer& w, const get_blocks_body& v) {
        w.u64(v.from);
        w.u32(v.count);
    });
}
inline result<get_blocks_body> decode_get_blocks(byte_view in) {
    return detail::decode_body<get_blocks_body>(
        in, [](wire::reader& r, get_blocks_body& g) { return r.u64(g.from) && r.u32(g.count); });
}

/// BLOCKS body: count, then each finalized block's stored encoding as var bytes.
inline bytes encode_blocks(const std::vector<bytes>& encoded) {
    bytes out;
    wire::writer w(out);
    w.u32(static_cast<std::uint32_t>(encoded.size()));
    for (const auto& b : encoded) w.var(b);
    return out;
}
inline result<std::vector<finalized_block>> decode_blocks(byte_view in) {
    return detail::decode_body<std::vector<finalized_block>>(in, [](wire::reader& r, std::vector<finalized_block>& v) {
        std::uint32_t n = 0;
        if (!r.count(n, msg_limits::max_blocks_per_message, 4 + codec::header_size)) return false;
        v.reserve(n);
        for (std::uint32_t i = 0; i < n; ++i) {
            bytes raw;
            if (!r.var(raw, msg_limits::max_message_bytes)) return false;
            auto fb = decode_finalized_block(raw);
            if (!fb) return r.fail(core::errc::non_canonical);
            v.push_back(std::move(*fb));
        }
        return true;
    });
}

inline bytes encode_txs(std::span<const vote_tx> txs) {
    bytes out;
    out.reserve(4 + txs.size() * 200);
    wire::writer w(out);
    w.u32(static_cast<std::uint32_t>(txs.size()));
    for (const auto& tx : txs) codec::write_tx(w, tx);
    return out;
}
inline result<std::vector<vote_tx>> decode_txs(byte_view in) {
    return detail::decode_body<std::vector<vote_tx>>(in, [](wire::reader& r, std::vector<vote_tx>& v) {
        std::uint32_t n = 0;
        if (!r.count(n, msg_limits::max_txs_per_message, codec::min_tx_size)) return false;
        v.resize(n);
        for (auto& tx : v)
            if (!codec::read_tx(r, tx)) return false;
        return true;
    });
}

/// Body of a PREPARE: the block hash alone.
inline bytes encode_prepare(const hash32& bh) { return bytes(bh.data.begin(), bh.data.end()); }
inline result<hash32> decode_prepare(byte_view in) {
    return detail::decode_body<hash32>(in, [](wire::reader& r, hash32& h) { return r.fixed(h); });
}

}  // namespace ballotchain::consensus
