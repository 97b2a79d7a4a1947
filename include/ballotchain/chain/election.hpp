#pragma once
/// @file Elections on the chain (docs/election-protocol.md): the bodies of the
/// election records (definition, secret ballot, trustee key, dealing, verdict,
/// decryption shares), their slot tags, and `election_registry`, the state
/// every validator and verifier derives from the blocks: which elections
/// exist, where each key ceremony stands, the homomorphic sum of the ballots,
/// the decryption shares and the tally. Its check() is the rule set of the
/// records; apply() and end_block() move the state on.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/errc.hpp>
#include <ballotchain/chain/genesis.hpp>
#include <ballotchain/chain/types.hpp>
#include <ballotchain/chain/validator_set.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/dkg.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ballotchain::election {

using ristretto::point;
using ristretto::scalar;

/// Bounds of the record bodies, checked before allocating.
namespace limits {
inline constexpr std::size_t max_candidates = 64;
inline constexpr std::size_t max_name_bytes = 256;
inline constexpr std::size_t max_candidate_name_bytes = 128;
inline constexpr std::size_t max_complaints = 256;
}  // namespace limits

inline constexpr std::uint8_t record_version = 1;

enum class ballot_kind : std::uint8_t { plain = 0, encrypted = 1 };

struct candidate {
    std::uint64_t id = 0;
    std::string name;
    bool operator==(const candidate&) const = default;
};

/// An election as the chain knows it. Trustees are the validators (trustee i is validator id
/// i − 1, chain/validator_set.hpp); `threshold` of them decrypt the tally.
struct definition {
    ballot_kind ballot = ballot_kind::plain;
    std::string name;
    std::vector<candidate> candidates;  ///< ascending ids; ballot ciphertexts follow this order
    std::uint64_t start_ms = 0;         ///< first block time at which votes count
    std::uint64_t end_ms = 0;           ///< first block time at which they no longer do
    std::uint64_t key_deadline_ms = 0;  ///< encrypted: the key ceremony closes by then (≤ start); plain: 0
    std::uint32_t threshold = 0;        ///< encrypted: 1..n trustees decrypt; plain: 0
    bool operator==(const definition&) const = default;

    std::optional<std::uint32_t> candidate_index(std::uint64_t id) const {
        for (std::uint32_t i = 0; i < candidates.size(); ++i)
            if (candidates[i].id == id) return i;
        return std::nullopt;
    }
};

/// Trustee i's decryption of the aggregate: one share (D_k and proof) per candidate.
struct decryption {
    std::vector<point> d;
    std::vector<elgamal::dleq_proof> proofs;
    bool operator==(const decryption&) const = default;
};

/// A trustee's verdict on the dealings: its complaints (none when every share opened).
struct verdict {
    std::vector<dkg::complaint> complaints;
    bool operator==(const verdict&) const = default;
};

// ---- slot tags ---------------------------------------------------------------------

inline constexpr std::string_view slot_prefix = "ballotchain-slot";  // 16 bytes

/// The voter_tag of a record that is not a voter's: "ballotchain-slot" ‖ 12 zero bytes ‖
/// u8 kind ‖ u8 0 ‖ u16 trustee (0 for a definition). One record per slot and election.
inline hash32 slot_tag(tx_kind kind, std::uint32_t trustee) {
    hash32 t;
    std::copy(slot_prefix.begin(), slot_prefix.end(), t.data.begin());
    t.data[28] = static_cast<byte>(kind);
    t.data[30] = static_cast<byte>(trustee >> 8);
    t.data[31] = static_cast<byte>(trustee);
    return t;
}
/// A voter tag may not start like a slot tag.
inline bool is_slot_tag(const hash32& t) {
    return std::equal(slot_prefix.begin(), slot_prefix.end(), t.data.begin());
}

// ---- encodings ---------------------------------------------------------------------

namespace detail {
inline void put(wire::writer& w, const point& p) { w.raw(byte_view(p.b.data(), 32)); }
inline void put(wire::writer& w, const scalar& s) { w.raw(byte_view(s.b.data(), 32)); }
inline void put(wire::writer& w, const elgamal::dleq_proof& p) {
    put(w, p.c);
    put(w, p.z);
}
inline bool get(wire::reader& r, point& p) {
    hash32 raw;
    if (!r.fixed(raw)) return false;
    auto d = point::decode(raw.view());
    if (!d) return r.fail(core::errc::non_canonical);
    p = *d;
    return true;
}
inline bool get(wire::reader& r, scalar& s) {
    hash32 raw;
    if (!r.fixed(raw)) return false;
    auto d = scalar::decode(raw.view());
    if (!d) return r.fail(core::errc::non_canonical);
    s = *d;
    return true;
}
inline bool get(wire::reader& r, elgamal::dleq_proof& p) { return get(r, p.c) && get(r, p.z); }
inline bool version(wire::reader& r) {
    std::uint8_t v = 0;
    if (!r.u8(v)) return false;
    if (v != record_version) return r.fail(core::errc::bad_tag);
    return true;
}
inline bool text(wire::reader& r, std::string& s, std::size_t max) {
    bytes b;
    if (!r.var(b, max)) return false;
    s.assign(b.begin(), b.end());
    return true;
}
using codec::detail::decode_whole;  // the chain codec's: the whole input, nothing left over
template <class Write>
bytes encode_with(Write write) {
    bytes out;
    out.reserve(128);  // also keeps g++ 12 -O3 from a false -Wstringop-overflow on the first insert
    wire::writer w(out);
    w.u8(record_version);
    write(w);
    return out;
}
}  // namespace detail

inline bytes encode(const definition& d) {
    return detail::encode_with([&](wire::writer& w) {
        w.u8(static_cast<std::uint8_t>(d.ballot));
        w.var(as_bytes(d.name));
        w.u32(static_cast<std::uint32_t>(d.candidates.size()));
        for (const auto& c : d.candidates) {
            w.u64(c.id);
            w.var(as_bytes(c.name));
        }
        w.u64(d.start_ms);
        w.u64(d.end_ms);
        w.u64(d.key_deadline_ms);
        w.u32(d.threshold);
    });
}

inline result<definition> decode_definition(byte_view in) {
    return detail::decode_whole<definition>(in, [](wire::reader& r, definition& d) {
        std::uint8_t kind = 0;
        std::uint32_t n = 0;
        if (!detail::version(r) || !r.u8(kind)) return false;
        if (kind > 1) return r.fail(core::errc::non_canonical);
        d.ballot = static_cast<ballot_kind>(kind);
        if (!detail::text(r, d.name, limits::max_name_bytes) || !r.count(n, limits::max_candidates, 8 + 4)) return false;
        d.candidates.resize(n);
        for (auto& c : d.candidates)
            if (!r.u64(c.id) || !detail::text(r, c.name, limits::max_candidate_name_bytes)) return false;
        return r.u64(d.start_ms) && r.u64(d.end_ms) && r.u64(d.key_deadline_ms) && r.u32(d.threshold);
    });
}

inline constexpr std::size_t ballot_entry_size = 2 * 32 + 4 * 32;  // A, B, c0, c1, z0, z1

/// The encoded size of a ballot for `candidates` candidates.
inline constexpr std::size_t ballot_size(std::size_t candidates) { return 1 + 4 + candidates * ballot_entry_size + 64; }

inline bytes encode(const elgamal::ballot& b) {
    return detail::encode_with([&](wire::writer& w) {
        w.u32(static_cast<std::uint32_t>(b.cts.size()));
        for (std::size_t k = 0; k < b.cts.size(); ++k) {
            detail::put(w, b.cts[k].a);
            detail::put(w, b.cts[k].b);
            detail::put(w, b.proofs[k].c0);
            detail::put(w, b.proofs[k].c1);
            detail::put(w, b.proofs[k].z0);
            detail::put(w, b.proofs[k].z1);
        }
        detail::put(w, b.sum);
    });
}

inline result<elgamal::ballot> decode_ballot(byte_view in) {
    return detail::decode_whole<elgamal::ballot>(in, [](wire::reader& r, elgamal::ballot& b) {
        std::uint32_t n = 0;
        if (!detail::version(r) || !r.count(n, limits::max_candidates, ballot_entry_size)) return false;
        b.cts.resize(n);
        b.proofs.resize(n);
        for (std::uint32_t k = 0; k < n; ++k) {
            auto& p = b.proofs[k];
            if (!detail::get(r, b.cts[k].a) || !detail::get(r, b.cts[k].b) || !detail::get(r, p.c0) ||
                !detail::get(r, p.c1) || !detail::get(r, p.z0) || !detail::get(r, p.z1))
                return false;
        }
        return detail::get(r, b.sum);
    });
}

inline bytes encode(const dkg::trustee_key& k) {
    return detail::encode_with([&](wire::writer& w) {
        detail::put(w, k.key);
        detail::put(w, k.pok);
    });
}

inline result<dkg::trustee_key> decode_trustee_key(byte_view in) {
    return detail::decode_whole<dkg::trustee_key>(in, [](wire::reader& r, dkg::trustee_key& k) {
        return detail::version(r) && detail::get(r, k.key) && detail::get(r, k.pok);
    });
}

inline bytes encode(const dkg::dealing& d) {
    return detail::encode_with([&](wire::writer& w) {
        w.u32(static_cast<std::uint32_t>(d.commitments.size()));
        for (const auto& a : d.commitments) detail::put(w, a);
        detail::put(w, d.pok);
        detail::put(w, d.ephemeral);
        w.u32(static_cast<std::uint32_t>(d.shares.size()));
        for (const auto& s : d.shares) {
            w.u32(s.recipient);
            detail::put(w, s.value);
        }
    });
}

inline result<dkg::dealing> decode_dealing(byte_view in) {
    return detail::decode_whole<dkg::dealing>(in, [](wire::reader& r, dkg::dealing& d) {
        std::uint32_t t = 0, m = 0;
        if (!detail::version(r) || !r.count(t, ballotchain::limits::max_validators, 32)) return false;
        d.commitments.resize(t);
        for (auto& a : d.commitments)
            if (!detail::get(r, a)) return false;
        if (!detail::get(r, d.pok) || !detail::get(r, d.ephemeral) ||
            !r.count(m, ballotchain::limits::max_validators, 4 + 32))
            return false;
        d.shares.resize(m);
        for (std::uint32_t i = 0; i < m; ++i) {
            if (!r.u32(d.shares[i].recipient) || !detail::get(r, d.shares[i].value)) return false;
            if (i > 0 && d.shares[i].recipient <= d.shares[i - 1].recipient) return r.fail(core::errc::non_canonical);
        }
        return true;
    });
}

inline bytes encode(const verdict& v) {
    return detail::encode_with([&](wire::writer& w) {
        w.u32(static_cast<std::uint32_t>(v.complaints.size()));
        for (const auto& c : v.complaints) {
            w.u32(c.dealer);
            detail::put(w, c.k);
            detail::put(w, c.proof);
        }
    });
}

inline result<verdict> decode_verdict(byte_view in) {
    return detail::decode_whole<verdict>(in, [](wire::reader& r, verdict& v) {
        std::uint32_t n = 0;
        if (!detail::version(r) || !r.count(n, limits::max_complaints, 4 + 3 * 32)) return false;
        v.complaints.resize(n);
        for (std::uint32_t i = 0; i < n; ++i) {
            auto& c = v.complaints[i];
            if (!r.u32(c.dealer) || !detail::get(r, c.k) || !detail::get(r, c.proof)) return false;
            if (i > 0 && c.dealer <= v.complaints[i - 1].dealer) return r.fail(core::errc::non_canonical);
        }
        return true;
    });
}

inline bytes encode(const decryption& d) {
    return detail::encode_with([&](wire::writer& w) {
        w.u32(static_cast<std::uint32_t>(d.d.size()));
        for (std::size_t k = 0; k < d.d.size(); ++k) {
            detail::put(w, d.d[k]);
            detail::put(w, d.proofs[k]);
        }
    });
}

inline result<decryption> decode_decryption(byte_view in) {
    return detail::decode_whole<decryption>(in, [](wire::reader& r, decryption& d) {
        std::uint32_t n = 0;
        if (!detail::version(r) || !r.count(n, limits::max_candidates, 3 * 32)) return false;
        d.d.resize(n);
        d.proofs.resize(n);
        for (std::uint32_t k = 0; k < n; ++k)
            if (!detail::get(r, d.d[k]) || !detail::get(r, d.proofs[k])) return false;
        return true;
    });
}

// ---- state ---------------------------------------------------------------------------

enum class phase : std::uint8_t {
    plain,      ///< a plain election: votes in clear
    ceremony,   ///< encrypted: the key ceremony is open
    ready,      ///< encrypted: the key is fixed; ballots count in [start, end)
    failed,     ///< encrypted: fewer than `threshold` qualified dealers when the ceremony closed
};

inline const char* to_string(phase p) {
    switch (p) {
    case phase::plain: return "plain";
    case phase::ceremony: return "key_ceremony";
    case phase::ready: return "ready";
    case phase::failed: return "key_ceremony_failed";
    }
    return "unknown";
}

/// One election's state, derived from the chain.
struct election_state {
    definition def;
    std::uint64_t defined_ms = 0;  ///< time of the block that holds the definition
    phase ph = phase::plain;
    std::map<std::uint32_t, dkg::dealing> dealings;  ///< by dealer (1-based trustee)
    std::set<std::uint32_t> verdicts;                ///< trustees that gave their verdict
    std::set<std::uint32_t> disqualified;            ///< dealers with an upheld complaint
    std::vector<std::uint32_t> qualified;            ///< ready: the dealers the key is made of
    point key;                                       ///< ready: the election key Y
    std::map<std::uint32_t, point> public_shares;    ///< ready: Y_j of every trustee that holds a full share
    std::vector<elgamal::ciphertext> aggregate;      ///< encrypted: Σ of the ballots, per candidate
    std::uint64_t ballots = 0;                       ///< encrypted: ballots counted
    std::map<std::uint32_t, decryption> decryptions; ///< verified decryption shares, by trustee
    std::vector<std::uint32_t> decrypted_by;         ///< the first `threshold` trustees whose shares made the tally
    std::optional<std::vector<std::uint64_t>> tally; ///< encrypted: votes per candidate (candidate order) once decrypted

    bool operator==(const election_state&) const = default;
};

/// Everything the chain says about elections, moved on block by block.
///
/// @par Thread safety Not thread-safe; the owner serialises access. Copyable (a block is
/// checked on a copy, which replaces the state when the block is final).
class election_registry {
public:
    /// An empty state, bound to no chain: every validator set in it is empty. Use the genesis
    /// constructor for a chain's state.
    election_registry() = default;
    /// The state after block 0 of the chain of `g`.
    explicit election_registry(const genesis_config& g) : validators_(g) {}

    /// The validator registry and the sets by height (validator-set changes, protocol.md §12).
    const validator_schedule& validators() const noexcept { return validators_; }
    /// Trustee keys, by 1-based trustee index.
    const std::map<std::uint32_t, point>& trustee_keys() const noexcept { return trustee_keys_; }
    const election_state* find(std::uint64_t election) const {
        auto it = elections_.find(election);
        return it == elections_.end() ? nullptr : &it->second;
    }
    const std::map<std::uint64_t, election_state>& elections() const noexcept { return elections_; }

    /// Is any key ceremony open?
    bool ceremony_open() const noexcept { return !open_ceremonies_.empty(); }

    /// Does applying `tx` need a copy of this state (anything but a plain vote in an election
    /// already known)?
    bool writes(const vote_tx& tx) const {
        return !tx.is_vote() || (!elections_.contains(tx.election_id) && !plain_votes_.contains(tx.election_id));
    }
    /// Would end_block(block_ms) close a ceremony by its deadline?
    bool due(std::uint64_t block_ms) const {
        for (auto id : open_ceremonies_)
            if (block_ms >= elections_.at(id).def.key_deadline_ms) return true;
        return false;
    }

    /// The rules of docs/election-protocol.md for `tx` in a block with time `block_ms`, after
    /// every earlier record applied. `proofs_known_valid`: the tx already passed this check
    /// (its zero-knowledge proofs are not verified again). Signature, chain id, size and slot
    /// uniqueness are the chain rules' part (chain_rules).
    error_code check(const genesis_config& g, const vote_tx& tx, std::uint64_t height, std::uint64_t block_ms,
                     bool proofs_known_valid = false) const {
        using chain::errc;
        if (tx.is_vote() || tx.kind == tx_kind::ballot) {
            if (is_slot_tag(tx.voter_tag)) return make_error(errc::reserved_voter_tag);
        }
        switch (tx.kind) {
        case tx_kind::vote: return check_vote(g, tx, block_ms);
        case tx_kind::define_election: return check_define(g, tx);
        case tx_kind::ballot: return check_ballot(g, tx, block_ms, proofs_known_valid);
        case tx_kind::trustee_key: return check_trustee_key(g, tx, proofs_known_valid);
        case tx_kind::dealing: return check_dealing(g, tx, block_ms, proofs_known_valid);
        case tx_kind::verdict: return check_verdict(g, tx);
        case tx_kind::decryption: return check_decryption(g, tx, block_ms);
        case tx_kind::validator_set: return check_validator_change(tx, height);
        }
        return make_error(errc::bad_election_record);
    }

    /// Moves the state on by `tx` (@pre check() accepted it in this state). A record that does
    /// not fit the state (possible only for a stored block altered after it was validated,
    /// replayed at open) changes nothing; `ballotchain verify` names such a block.
    void apply(const genesis_config& g, const vote_tx& tx, std::uint64_t height, std::uint64_t block_ms) {
        auto it = elections_.find(tx.election_id);
        election_state* e = it == elections_.end() ? nullptr : &it->second;
        switch (tx.kind) {
        case tx_kind::vote:
            if (!e) plain_votes_.insert(tx.election_id);
            return;
        case tx_kind::define_election: {
            auto d = decode_definition(tx.encrypted_vote);
            if (!d || e) return;
            election_state n;
            n.def = std::move(*d);
            n.defined_ms = block_ms;
            if (n.def.ballot == ballot_kind::encrypted) {
                n.ph = phase::ceremony;
                n.aggregate.assign(n.def.candidates.size(), {point::identity(), point::identity()});
                open_ceremonies_.insert(tx.election_id);
            }
            elections_.emplace(tx.election_id, std::move(n));
            return;
        }
        case tx_kind::ballot: {
            // check() decoded it (canonical points): the ciphertexts are read in place.
            if (!e || tx.encrypted_vote.size() != ballot_size(e->aggregate.size())) return;
            const byte* p = tx.encrypted_vote.data() + 1 + 4;
            for (std::size_t k = 0; k < e->aggregate.size(); ++k, p += ballot_entry_size) {
                elgamal::ciphertext c;
                std::copy(p, p + 32, c.a.b.begin());
                std::copy(p + 32, p + 64, c.b.b.begin());
                e->aggregate[k] = e->aggregate[k] + c;
            }
            ++e->ballots;
            return;
        }
        case tx_kind::trustee_key:
            if (auto k = decode_trustee_key(tx.encrypted_vote)) trustee_keys_[trustee_of(g, tx)] = k->key;
            return;
        case tx_kind::dealing:
            if (auto d = decode_dealing(tx.encrypted_vote); d && e) e->dealings[trustee_of(g, tx)] = std::move(*d);
            return;
        case tx_kind::verdict: {
            auto v = decode_verdict(tx.encrypted_vote);
            if (!v || !e) return;
            for (const auto& c : v->complaints) e->disqualified.insert(c.dealer);
            e->verdicts.insert(trustee_of(g, tx));
            return;
        }
        case tx_kind::decryption: {
            auto d = decode_decryption(tx.encrypted_vote);
            if (!d || !e || d->d.size() != e->aggregate.size()) return;
            e->decryptions[trustee_of(g, tx)] = std::move(*d);
            if (!e->tally && e->decryptions.size() >= e->def.threshold) decrypt(*e);
            return;
        }
        case tx_kind::validator_set:
            if (auto r = decode_validator_change(tx.encrypted_vote); r && !check_validator_change(tx, height))
                validators_.apply(*r, height);
            return;
        }
    }

    /// After a block's records: closes every key ceremony that is due at `block_ms` (its
    /// deadline passed, or every registered trustee dealt and gave its verdict).
    void end_block(std::uint64_t block_ms) {
        for (auto it = open_ceremonies_.begin(); it != open_ceremonies_.end();) {
            auto& e = elections_.at(*it);
            if (block_ms >= e.def.key_deadline_ms || all_done(e)) {
                close(e);
                it = open_ceremonies_.erase(it);
            } else {
                ++it;
            }
        }
    }

    /// The trustee (1-based) that signs `tx`, or 0 when its signer is no validator.
    /// Trustee i is validator id i − 1 (any validator the chain has known: validator_schedule).
    std::uint32_t trustee_of(const genesis_config&, const vote_tx& tx) const {
        auto v = validators_.id_of(tx.submitter);
        return v ? *v + 1 : 0;
    }

    bool operator==(const election_registry&) const = default;

private:
    /// A validator-set change in the block at `height`: in its slot (election 0, its sequence's
    /// tag) and valid against the set then active (its approvals' signatures are chain_rules').
    error_code check_validator_change(const vote_tx& tx, std::uint64_t height) const {
        using chain::errc;
        auto r = decode_validator_change(tx.encrypted_vote);
        if (!r) return make_error(errc::bad_validator_change);
        if (tx.election_id != 0 || tx.voter_tag != change_slot_tag(r->change.sequence))
            return make_error(errc::wrong_slot_tag);
        return validators_.check(*r, height);
    }

    error_code check_vote(const genesis_config& g, const vote_tx& tx, std::uint64_t block_ms) const {
        using chain::errc;
        const auto* e = find(tx.election_id);
        // An election not defined on the chain: the submitter's word, unless the genesis
        // says every election is defined there.
        if (!e) return g.elections_defined ? make_error(errc::unknown_election) : error_code{};
        if (e->def.ballot != ballot_kind::plain) return make_error(errc::wrong_ballot_kind);
        if (!e->def.candidate_index(tx.candidate_id)) return make_error(errc::unknown_candidate);
        if (block_ms < e->def.start_ms || block_ms >= e->def.end_ms) return make_error(errc::outside_voting_window);
        return {};
    }

    error_code check_define(const genesis_config& g, const vote_tx& tx) const {
        using chain::errc;
        if (tx.voter_tag != slot_tag(tx_kind::define_election, 0)) return make_error(errc::wrong_slot_tag);
        if (elections_.contains(tx.election_id)) return make_error(errc::election_exists);
        if (plain_votes_.contains(tx.election_id)) return make_error(errc::election_exists);
        auto d = decode_definition(tx.encrypted_vote);
        if (!d) return make_error(errc::bad_election_record);
        if (d->name.empty() || d->candidates.empty() || d->start_ms >= d->end_ms)
            return make_error(errc::bad_election_definition);
        for (std::size_t i = 0; i < d->candidates.size(); ++i) {
            if (d->candidates[i].name.empty()) return make_error(errc::bad_election_definition);
            if (i > 0 && d->candidates[i].id <= d->candidates[i - 1].id) return make_error(errc::bad_election_definition);
        }
        if (d->ballot == ballot_kind::plain) {
            if (d->key_deadline_ms != 0 || d->threshold != 0) return make_error(errc::bad_election_definition);
        } else {
            if (d->key_deadline_ms > d->start_ms || d->threshold == 0 || d->threshold > validators_.registry().size())
                return make_error(errc::bad_election_definition);
            // Its ballots must fit the chain's record size (20 candidates at the default 4,096 bytes).
            if (ballot_size(d->candidates.size()) > g.max_encrypted_vote_bytes) return make_error(errc::bad_election_definition);
        }
        return {};
    }

    error_code check_ballot(const genesis_config& g, const vote_tx& tx, std::uint64_t block_ms, bool known) const {
        using chain::errc;
        const auto* e = find(tx.election_id);
        if (!e) return make_error(errc::unknown_election);
        if (e->def.ballot != ballot_kind::encrypted) return make_error(errc::wrong_ballot_kind);
        if (e->ph != phase::ready) return make_error(errc::election_key_not_ready);
        if (block_ms < e->def.start_ms || block_ms >= e->def.end_ms) return make_error(errc::outside_voting_window);
        // Checked before (known valid: decoded and proven against this election's key, which
        // never changes once ready): its size says it has one ciphertext per candidate.
        if (known) {
            return tx.encrypted_vote.size() == ballot_size(e->def.candidates.size())
                       ? error_code{}
                       : make_error(errc::invalid_ballot_proof);
        }
        auto b = decode_ballot(tx.encrypted_vote);
        if (!b) return make_error(errc::bad_election_record);
        if (b->cts.size() != e->def.candidates.size()) return make_error(errc::invalid_ballot_proof);
        elgamal::proof_context ctx{g.chain_id, tx.election_id, e->key, tx.voter_tag, {}};
        if (!elgamal::verify_ballot(ctx, *b)) return make_error(errc::invalid_ballot_proof);
        return {};
    }

    /// A trustee record: signed by a validator, in its slot.
    error_code check_trustee_slot(const genesis_config& g, const vote_tx& tx, std::uint32_t& trustee) const {
        using chain::errc;
        trustee = trustee_of(g, tx);
        if (trustee == 0) return make_error(errc::not_a_trustee);
        if (tx.voter_tag != slot_tag(tx.kind, trustee)) return make_error(errc::wrong_slot_tag);
        return {};
    }

    error_code check_trustee_key(const genesis_config& g, const vote_tx& tx, bool known) const {
        using chain::errc;
        std::uint32_t i = 0;
        if (auto ec = check_trustee_slot(g, tx, i)) return ec;
        if (tx.election_id != 0) return make_error(errc::bad_election_record);
        if (trustee_keys_.contains(i)) return make_error(errc::duplicate_vote);
        auto k = decode_trustee_key(tx.encrypted_vote);
        if (!k) return make_error(errc::bad_election_record);
        if (!known && !dkg::verify_trustee_key(g.chain_id, i, *k)) return make_error(errc::invalid_trustee_proof);
        return {};
    }

    /// The open ceremony of tx's election, or why there is none.
    error_code open_ceremony(const vote_tx& tx, const election_state*& e) const {
        using chain::errc;
        e = find(tx.election_id);
        if (!e) return make_error(errc::unknown_election);
        if (e->def.ballot != ballot_kind::encrypted) return make_error(errc::wrong_ballot_kind);
        if (e->ph != phase::ceremony) return make_error(errc::ceremony_closed);
        return {};
    }

    error_code check_dealing(const genesis_config& g, const vote_tx& tx, std::uint64_t block_ms, bool known) const {
        using chain::errc;
        std::uint32_t i = 0;
        if (auto ec = check_trustee_slot(g, tx, i)) return ec;
        if (!trustee_keys_.contains(i)) return make_error(errc::trustee_key_missing);
        const election_state* e = nullptr;
        if (auto ec = open_ceremony(tx, e)) return ec;
        if (block_ms >= e->def.key_deadline_ms) return make_error(errc::ceremony_closed);
        if (e->dealings.contains(i)) return make_error(errc::duplicate_vote);
        auto d = decode_dealing(tx.encrypted_vote);
        if (!d) return make_error(errc::bad_election_record);
        if (d->commitments.size() != e->def.threshold) return make_error(errc::bad_dealing);
        // Shares to exactly the registered trustees but the dealer, ascending.
        std::size_t at = 0;
        for (const auto& [j, _] : trustee_keys_) {
            if (j == i) continue;
            if (at >= d->shares.size() || d->shares[at].recipient != j) return make_error(errc::bad_dealing);
            ++at;
        }
        if (at != d->shares.size()) return make_error(errc::bad_dealing);
        if (!known && !dkg::verify_dealing({g.chain_id, tx.election_id}, i, *d)) return make_error(errc::invalid_trustee_proof);
        return {};
    }

    error_code check_verdict(const genesis_config& g, const vote_tx& tx) const {
        using chain::errc;
        std::uint32_t j = 0;
        if (auto ec = check_trustee_slot(g, tx, j)) return ec;
        auto kj = trustee_keys_.find(j);
        if (kj == trustee_keys_.end()) return make_error(errc::trustee_key_missing);
        const election_state* e = nullptr;
        if (auto ec = open_ceremony(tx, e)) return ec;
        if (e->verdicts.contains(j)) return make_error(errc::duplicate_vote);
        auto v = decode_verdict(tx.encrypted_vote);
        if (!v) return make_error(errc::bad_election_record);
        for (const auto& c : v->complaints) {
            auto d = e->dealings.find(c.dealer);
            if (d == e->dealings.end() || c.dealer == j) return make_error(errc::complaint_refused);
            if (dkg::judge({g.chain_id, tx.election_id}, j, kj->second, d->second, c) != dkg::complaint_outcome::upheld)
                return make_error(errc::complaint_refused);
        }
        return {};
    }

    error_code check_decryption(const genesis_config& g, const vote_tx& tx, std::uint64_t block_ms) const {
        using chain::errc;
        std::uint32_t j = 0;
        if (auto ec = check_trustee_slot(g, tx, j)) return ec;
        const auto* e = find(tx.election_id);
        if (!e) return make_error(errc::unknown_election);
        if (e->def.ballot != ballot_kind::encrypted) return make_error(errc::wrong_ballot_kind);
        if (e->ph != phase::ready) return make_error(errc::election_key_not_ready);
        if (block_ms < e->def.end_ms) return make_error(errc::tally_not_open);
        if (e->decryptions.contains(j)) return make_error(errc::duplicate_vote);
        auto ys = e->public_shares.find(j);
        if (ys == e->public_shares.end()) return make_error(errc::not_a_trustee);
        auto d = decode_decryption(tx.encrypted_vote);
        if (!d) return make_error(errc::bad_election_record);
        if (d->d.size() != e->aggregate.size()) return make_error(errc::invalid_decryption_share);
        // Always verified: the shares are proven against the aggregate at this block, which an
        // earlier admission may not have seen whole.
        {
            const auto ctx = elgamal::tally_context(g.chain_id, tx.election_id, e->key, e->aggregate);
            for (std::uint32_t k = 0; k < d->d.size(); ++k)
                if (!elgamal::verify_share(ctx, k, {j, d->d[k], d->proofs[k]}, ys->second, e->aggregate[k]))
                    return make_error(errc::invalid_decryption_share);
        }
        return {};
    }

    bool all_done(const election_state& e) const {
        if (trustee_keys_.empty()) return false;
        for (const auto& [j, _] : trustee_keys_)
            if (!e.dealings.contains(j) || !e.verdicts.contains(j)) return false;
        return true;
    }

    void close(election_state& e) const {
        std::vector<const dkg::dealing*> q;
        for (const auto& [i, d] : e.dealings) {
            if (e.disqualified.contains(i)) continue;
            e.qualified.push_back(i);
            q.push_back(&d);
        }
        if (q.size() < e.def.threshold || q.empty()) {
            e.ph = phase::failed;
            return;
        }
        e.ph = phase::ready;
        e.key = dkg::election_key(q);
        // Trustee j holds a full share when every qualified dealer (but j) dealt it one.
        for (const auto& [j, _] : trustee_keys_) {
            bool full = true;
            for (std::uint32_t i : e.qualified)
                if (i != j && !e.dealings.at(i).share_for(j)) full = false;
            if (full) e.public_shares[j] = dkg::public_share(q, j);
        }
    }

    static void decrypt(election_state& e) {
        std::vector<std::uint32_t> set;
        for (const auto& [j, _] : e.decryptions) {
            set.push_back(j);
            if (set.size() == e.def.threshold) break;
        }
        std::vector<std::uint64_t> counts;
        for (std::size_t k = 0; k < e.aggregate.size(); ++k) {
            std::vector<elgamal::decryption_share> shares;
            for (std::uint32_t j : set) shares.push_back({j, e.decryptions.at(j).d[k], e.decryptions.at(j).proofs[k]});
            auto m = elgamal::small_log(elgamal::combine_shares(e.aggregate[k], shares), e.ballots);
            if (!m) return;  // cannot happen with verified shares; the tally stays open
            counts.push_back(*m);
        }
        e.decrypted_by = std::move(set);
        e.tally = std::move(counts);
    }

    validator_schedule validators_;
    std::map<std::uint32_t, point> trustee_keys_;
    std::map<std::uint64_t, election_state> elections_;
    std::set<std::uint64_t> plain_votes_;      ///< elections with plain votes and no definition
    std::set<std::uint64_t> open_ceremonies_;  ///< encrypted elections whose key ceremony is open
};

}  // namespace ballotchain::election
