#pragma once
/// @file The signed-state record: what a validator has signed at the height it
/// is deciding, written durably *before* the signature leaves the process, so a
/// restarted validator can never sign two different blocks for one (height, round).

#include <ballotchain/consensus/messages.hpp>

namespace ballotchain::consensus {

/// Meta keys the engine owns in the storage.
inline constexpr std::string_view record_key = "consensus/signed";
inline constexpr std::string_view prepared_block_key = "consensus/prepared_block";

struct signed_vote {
    std::uint32_t round = 0;
    hash32 block_hash;
    bool operator==(const signed_vote&) const = default;
};

struct signed_record {
    std::uint64_t height = 0;                    ///< height being decided
    std::uint32_t round = 0;                     ///< highest round signed in
    std::optional<signed_vote> prepare;          ///< last PREPARE signed
    std::optional<signed_vote> commit;           ///< last COMMIT signed
    std::optional<std::uint32_t> round_change;   ///< last ROUND-CHANGE round signed
    std::optional<prepared_certificate> prepared;  ///< highest prepared certificate held
    std::optional<signed_vote> proposal;         ///< last PROPOSAL signed (recorded before it is sent)

    bool operator==(const signed_record&) const = default;

    /// May this validator sign a PREPARE (or COMMIT: `commit` = true) for
    /// (round, hash)? No if it already signed another hash in that round, or
    /// anything in a later round.
    bool may_sign(bool commit_vote, std::uint32_t r, const hash32& h) const noexcept {
        const auto& last = commit_vote ? commit : prepare;
        if (!last) return true;
        if (last->round > r) return false;
        return last->round < r || last->block_hash == h;
    }
};

/// Version 2 adds the last proposal (after the prepared certificate); version 1
/// records (without it) are still read.
inline constexpr std::uint8_t record_version = 2;

inline bytes encode(const signed_record& s) {
    bytes out;
    wire::writer w(out);
    w.u8(record_version);
    w.u64(s.height);
    w.u32(s.round);
    auto vote = [&](const std::optional<signed_vote>& v) {
        w.u8(v ? 1 : 0);
        if (v) {
            w.u32(v->round);
            w.fixed(v->block_hash);
        }
    };
    vote(s.prepare);
    vote(s.commit);
    w.u8(s.round_change ? 1 : 0);
    if (s.round_change) w.u32(*s.round_change);
    detail::write_rc(w, round_change_body{s.prepared});
    vote(s.proposal);
    return out;
}

inline result<signed_record> decode_signed_record(byte_view in) {
    wire::reader r(in);
    signed_record s;
    std::uint8_t ver = 0;
    r.u8(ver);
    if (r.ok() && ver != record_version && ver != 1) r.fail(core::errc::bad_tag);
    r.u64(s.height);
    r.u32(s.round);
    auto vote = [&](std::optional<signed_vote>& v) {
        std::uint8_t has = 0;
        if (!r.u8(has)) return;
        if (has > 1) {
            r.fail(core::errc::non_canonical);
            return;
        }
        if (has) {
            signed_vote sv;
            r.u32(sv.round);
            r.fixed(sv.block_hash);
            v = sv;
        }
    };
    vote(s.prepare);
    vote(s.commit);
    std::uint8_t has_rc = 0;
    r.u8(has_rc);
    if (has_rc > 1) r.fail(core::errc::non_canonical);
    if (has_rc == 1) {
        std::uint32_t rc = 0;
        r.u32(rc);
        s.round_change = rc;
    }
    round_change_body body;
    detail::read_rc(r, body);
    if (ver >= 2) vote(s.proposal);
    if (!r.finish()) return r.error();
    s.prepared = std::move(body.prepared);
    return s;
}

}  // namespace ballotchain::consensus
