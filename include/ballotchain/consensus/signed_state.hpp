#pragma once
/// @file The forward-only signed-state file (`DATA_DIR/signed-state`): the
/// signed-state record that stops a validator from signing twice, kept also
/// outside chain.db so that restoring an older chain.db (a backup) cannot roll
/// it back. Binary layout in docs/data-format.md §16, written atomically
/// and fsynced (core/file.hpp), read with a size bound; a corrupt file is an
/// error, never ignored. It only ever moves forward: on start the engine takes
/// the maximum of the file and the chain.db record (docs/protocol.md §6).

#include <ballotchain/consensus/errc.hpp>
#include <ballotchain/consensus/record.hpp>
#include <ballotchain/core/file.hpp>
#include <ballotchain/crypto/suite.hpp>

#include <functional>

namespace ballotchain::consensus {

/// What a record says was signed (without its prepared certificate): what
/// "later" and "covers" compare.
struct signed_state {
    std::uint64_t height = 0;                   ///< height signed at (0: nothing yet)
    std::uint32_t round = 0;                    ///< highest round signed in
    std::optional<signed_vote> proposal;        ///< last PROPOSAL signed
    std::optional<signed_vote> prepare;         ///< last PREPARE signed
    std::optional<signed_vote> commit;          ///< last COMMIT signed
    std::optional<std::uint32_t> round_change;  ///< last ROUND-CHANGE round signed

    bool operator==(const signed_state&) const = default;
};

/// The signed state a chain.db record holds (without its prepared certificate).
inline signed_state project(const signed_record& r) {
    return {r.height, r.round, r.proposal, r.prepare, r.commit, r.round_change};
}

namespace detail {
inline bool vote_covers(const std::optional<signed_vote>& a, const std::optional<signed_vote>& b) {
    return !b || (a && a->round >= b->round);
}
inline const std::optional<signed_vote>& later_vote(const std::optional<signed_vote>& a,
                                                    const std::optional<signed_vote>& b) {
    return vote_covers(a, b) ? a : b;
}
}  // namespace detail

/// True when `a` binds at least as much as `b`: a later height, or the same
/// height with every field at the same or a later round.
inline bool covers(const signed_state& a, const signed_state& b) {
    if (a.height != b.height) return a.height > b.height;
    return a.round >= b.round && detail::vote_covers(a.proposal, b.proposal) &&
           detail::vote_covers(a.prepare, b.prepare) && detail::vote_covers(a.commit, b.commit) &&
           (!b.round_change || (a.round_change && *a.round_change >= *b.round_change));
}

/// The later of two states; at one height, field by field.
inline signed_state later(const signed_state& a, const signed_state& b) {
    if (a.height != b.height) return a.height > b.height ? a : b;
    signed_state s;
    s.height = a.height;
    s.round = std::max(a.round, b.round);
    s.proposal = detail::later_vote(a.proposal, b.proposal);
    s.prepare = detail::later_vote(a.prepare, b.prepare);
    s.commit = detail::later_vote(a.commit, b.commit);
    if (a.round_change || b.round_change)
        s.round_change = std::max(a.round_change.value_or(0), b.round_change.value_or(0));
    return s;
}

inline constexpr std::array<byte, 4> signed_state_magic{'B', 'C', 'S', 'S'};
inline constexpr std::uint32_t signed_state_version = 1;
/// magic 4, version 4, record length 4, the record, checksum 32.
inline constexpr std::size_t signed_state_overhead = 4 + 4 + 4 + 32;
/// Bound on the record in the file (a prepared certificate of at most 4096 signatures fits).
inline constexpr std::size_t signed_state_max_record = 1u << 20;

/// The file's bytes: a header, the signed-state record as chain.db holds it
/// (encode(signed_record), prepared certificate included), then the suite's
/// hash of everything before it as a checksum.
template <suite Suite>
bytes encode_signed_state(const signed_record& rec) {
    const bytes body = encode(rec);
    bytes out;
    out.reserve(signed_state_overhead + body.size());
    wire::writer w(out);
    w.raw(signed_state_magic);
    w.u32(signed_state_version);
    w.u32(static_cast<std::uint32_t>(body.size()));
    w.raw(body);
    const hash32 sum = Suite::hash(out);
    w.fixed(sum);
    return out;
}

/// Strict decoding: magic, version, exact length, checksum, a record that decodes.
template <suite Suite>
result<signed_record> decode_signed_state(byte_view in) {
    const auto bad = [] { return make_error(errc::bad_signed_state); };
    if (in.size() < signed_state_overhead || in.size() > signed_state_overhead + signed_state_max_record) return bad();
    if (!std::equal(signed_state_magic.begin(), signed_state_magic.end(), in.begin())) return bad();
    const auto head = in.first(in.size() - 32);
    if (Suite::hash(head) != hash32::from(in.last(32))) return bad();
    wire::reader r(head.subspan(4));
    std::uint32_t ver = 0, len = 0;
    r.u32(ver);
    r.u32(len);
    if (!r.ok() || ver != signed_state_version || len != in.size() - signed_state_overhead) return bad();
    auto rec = decode_signed_record(head.subspan(12));
    if (!rec) return bad();
    return *rec;
}

/// Where the engine keeps its forward-only signed state, and what it held at
/// start: the validator uses signed_state_file, tests and the simulator memory.
struct signed_state_io {
    std::optional<signed_record> loaded;                       ///< what the file held at start
    std::function<result<void>(const signed_record&)> save;    ///< durable write (nothing signed if it fails)
};

/// `DATA_DIR/signed-state`: load (missing → nothing; corrupt → error) and
/// durable replacement (temp file, fsync, rename, directory fsync).
template <suite Suite>
class signed_state_file {
public:
    explicit signed_state_file(std::string path) : path_(std::move(path)) {}
    const std::string& path() const noexcept { return path_; }

    /// The state on disk; nullopt when there is no file. A file that is not a
    /// valid signed-state file (size, magic, version, checksum) is an error.
    result<std::optional<signed_record>> load() const {
        auto raw = read_file(path_, signed_state_overhead + signed_state_max_record);
        if (!raw) {
            if (raw.error() == error_code(ENOENT, boost::system::system_category())) return std::nullopt;
            if (raw.error() == make_error(core::errc::length_too_large)) return make_error(errc::bad_signed_state);
            return raw.error();
        }
        auto s = decode_signed_state<Suite>(as_bytes(*raw));
        if (!s) return s.error();
        return std::optional<signed_record>(*s);
    }

    result<void> store(const signed_record& s) const {
        const bytes b = encode_signed_state<Suite>(s);
        return write_file_atomic(path_, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), 0600,
                                 true);
    }

    /// The engine's view of this file: what it holds now, and how to move it forward.
    result<signed_state_io> io() const {
        auto l = load();
        if (!l) return l.error();
        signed_state_io out;
        out.loaded = *l;
        out.save = [path = path_](const signed_record& s) { return signed_state_file(path).store(s); };
        return out;
    }

private:
    std::string path_;
};

}  // namespace ballotchain::consensus
