#pragma once
/// @file Validator-set changes (docs/protocol.md §12, data-format.md §17): the registry of
/// every validator the chain has known, the set active at each height, and the record by
/// which a quorum of the active validators changes it (and the submitter keys) from a stated
/// height on.
///
/// Validators have stable **ids**: the genesis validators are ids 0..n-1 in genesis order,
/// and each validator a change adds gets the next id. Ids are never reused and a key is never
/// added twice, so an id names one key for the life of the chain. The set active at a height
/// is an ascending list of ids; the proposer of (h, r) is its entry (h + r) mod size, and its
/// quorum is ceil(2·size/3). Seals, envelope senders and trustee indexes are ids.

#include <ballotchain/chain/errc.hpp>
#include <ballotchain/chain/genesis.hpp>
#include <ballotchain/chain/types.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/key_encoding.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace ballotchain {

namespace validator_change_limits {
inline constexpr std::size_t max_registry = limits::max_registry;  ///< validators ever known to one chain
/// Heights a change may be scheduled ahead of the block that records it.
inline constexpr std::uint64_t max_lead = 1'000'000;
inline constexpr std::uint8_t version = 1;
}  // namespace validator_change_limits

/// What a change does, from `effective_height` on. Every list may be empty, not all of them.
struct validator_change {
    std::uint64_t sequence = 0;          ///< 1 for the chain's first change, then +1 each
    std::uint64_t effective_height = 0;  ///< the first height the new set decides
    std::vector<validator_info> add;     ///< new validators (new keys); they get the next ids in this order
    std::vector<std::uint32_t> remove;   ///< ids of active validators, ascending
    std::vector<public_key> add_submitters;
    std::vector<public_key> remove_submitters;
    bool operator==(const validator_change&) const = default;
};

/// One active validator's signature over change_message(chain id, change).
struct change_approval {
    std::uint32_t validator = 0;  ///< its id
    signature sig;
    bool operator==(const change_approval&) const = default;
};

/// The body of a `validator_set` transaction: the change and its approvals (ascending ids).
struct validator_change_record {
    validator_change change;
    std::vector<change_approval> approvals;
    bool operator==(const validator_change_record&) const = default;
};

namespace detail {
inline void write_change(wire::writer& w, const validator_change& c) {
    w.u8(validator_change_limits::version);
    w.u64(c.sequence);
    w.u64(c.effective_height);
    w.u32(static_cast<std::uint32_t>(c.add.size()));
    for (const auto& v : c.add) {
        w.var(as_bytes(v.name));
        w.fixed(v.key);
    }
    w.u32(static_cast<std::uint32_t>(c.remove.size()));
    for (auto id : c.remove) w.u32(id);
    w.u32(static_cast<std::uint32_t>(c.add_submitters.size()));
    for (const auto& k : c.add_submitters) w.fixed(k);
    w.u32(static_cast<std::uint32_t>(c.remove_submitters.size()));
    for (const auto& k : c.remove_submitters) w.fixed(k);
}
inline bool read_change(wire::reader& r, validator_change& c) {
    std::uint8_t v = 0;
    std::uint32_t n = 0;
    if (!r.u8(v)) return false;
    if (v != validator_change_limits::version) return r.fail(core::errc::bad_tag);
    if (!r.u64(c.sequence) || !r.u64(c.effective_height)) return false;
    if (!r.count(n, limits::max_validators, 4 + 32)) return false;
    c.add.resize(n);
    for (auto& a : c.add) {
        bytes name;
        if (!r.var(name, limits::max_name_bytes) || !r.fixed(a.key)) return false;
        a.name.assign(name.begin(), name.end());
    }
    if (!r.count(n, limits::max_validators, 4)) return false;
    c.remove.resize(n);
    for (auto& id : c.remove)
        if (!r.u32(id)) return false;
    if (!r.count(n, limits::max_submitters, 32)) return false;
    c.add_submitters.resize(n);
    for (auto& k : c.add_submitters)
        if (!r.fixed(k)) return false;
    if (!r.count(n, limits::max_submitters, 32)) return false;
    c.remove_submitters.resize(n);
    for (auto& k : c.remove_submitters)
        if (!r.fixed(k)) return false;
    return true;
}
}  // namespace detail

/// The bytes each approving validator signs: tag 0x09 ‖ u64 chain_id ‖ the change's encoding.
inline bytes change_message(std::uint64_t chain_id, const validator_change& c) {
    bytes out;
    out.reserve(128);
    wire::writer w(out);
    w.u8(static_cast<std::uint8_t>(tag::validator_change));
    w.u64(chain_id);
    detail::write_change(w, c);
    return out;
}

inline bytes encode(const validator_change_record& rec) {
    bytes out;
    out.reserve(256);
    wire::writer w(out);
    detail::write_change(w, rec.change);
    w.u32(static_cast<std::uint32_t>(rec.approvals.size()));
    for (const auto& a : rec.approvals) {
        w.u32(a.validator);
        w.fixed(a.sig);
    }
    return out;
}

/// Decodes a record (the whole input; every count bounded before allocating).
inline result<validator_change_record> decode_validator_change(byte_view in) {
    wire::reader r(in);
    validator_change_record rec;
    std::uint32_t n = 0;
    if (!detail::read_change(r, rec.change) || !r.count(n, limits::max_validators, 4 + 64)) return r.error();
    rec.approvals.resize(n);
    for (auto& a : rec.approvals)
        if (!r.u32(a.validator) || !r.fixed(a.sig)) return r.error();
    if (!r.finish()) return r.error();
    return rec;
}

/// The voter_tag of change `sequence` ("ballotchain-slot" ‖ 4 zero bytes ‖ u64 sequence ‖
/// u8 kind 7 ‖ 3 zero bytes), with election_id 0: one record per sequence number.
inline hash32 change_slot_tag(std::uint64_t sequence) {
    hash32 t;
    constexpr std::string_view prefix = "ballotchain-slot";
    std::copy(prefix.begin(), prefix.end(), t.data.begin());
    for (int i = 0; i < 8; ++i) t.data[20 + static_cast<std::size_t>(i)] = static_cast<byte>(sequence >> (56 - 8 * i));
    t.data[28] = static_cast<byte>(tx_kind::validator_set);
    return t;
}

/// The validators that decide heights from `from` on, and the submitter keys then allowed.
struct validator_epoch {
    std::uint64_t from = 0;
    std::uint64_t recorded_at = 0;  ///< the height of the block that recorded the change (0: the genesis set)
    std::vector<std::uint32_t> members;  ///< ids, ascending
    std::vector<public_key> submitters;

    bool operator==(const validator_epoch&) const = default;

    std::size_t n() const noexcept { return members.size(); }
    /// q = ceil(2n/3) (genesis_config::quorum's rule for this set).
    std::size_t quorum() const noexcept { return (2 * n() + 2) / 3; }
    /// f = floor((n-1)/3): Byzantine validators this set tolerates.
    std::size_t byzantine() const noexcept { return n() == 0 ? 0 : (n() - 1) / 3; }
    bool has(std::uint32_t id) const noexcept { return std::binary_search(members.begin(), members.end(), id); }
    /// The id proposing (height, round). @pre n() > 0
    std::uint32_t proposer(std::uint64_t height, std::uint32_t round) const noexcept {
        return members[static_cast<std::size_t>((height + round) % n())];
    }
    bool is_submitter(const public_key& k) const noexcept {
        return std::find(submitters.begin(), submitters.end(), k) != submitters.end();
    }
};

/// The registry and the epochs of one chain: the genesis's, then one per applied change.
/// Derived from the blocks (it lives in the chain state, election::election_registry).
/// @par Thread safety A value; not synchronized.
class validator_schedule {
public:
    validator_schedule() = default;
    explicit validator_schedule(const genesis_config& g) : registry_(g.validators) {
        validator_epoch e;
        for (std::uint32_t i = 0; i < g.validators.size(); ++i) e.members.push_back(i);
        e.submitters = g.submitters;
        epochs_.push_back(std::move(e));
    }

    bool operator==(const validator_schedule&) const = default;

    /// Every validator ever known, by id.
    const std::vector<validator_info>& registry() const noexcept { return registry_; }
    bool known(std::uint32_t id) const noexcept { return id < registry_.size(); }
    /// @pre known(id)
    const public_key& key(std::uint32_t id) const noexcept { return registry_[id].key; }
    std::optional<std::uint32_t> id_of(const public_key& k) const noexcept {
        for (std::size_t i = 0; i < registry_.size(); ++i)
            if (registry_[i].key == k) return static_cast<std::uint32_t>(i);
        return std::nullopt;
    }
    /// The epoch deciding `height` (the genesis's when none is recorded: an empty schedule
    /// answers an empty set).
    const validator_epoch& at(std::uint64_t height) const noexcept {
        static const validator_epoch none;
        for (auto it = epochs_.rbegin(); it != epochs_.rend(); ++it)
            if (it->from <= height) return *it;
        return none;
    }
    const std::vector<validator_epoch>& epochs() const noexcept { return epochs_; }
    /// Changes applied so far (the next one must carry sequence changes() + 1).
    std::uint64_t changes() const noexcept { return epochs_.empty() ? 0 : epochs_.size() - 1; }
    /// The id of `k` when it is active at `height`.
    std::optional<std::uint32_t> active_id(const public_key& k, std::uint64_t height) const noexcept {
        auto id = id_of(k);
        if (id && at(height).has(*id)) return id;
        return std::nullopt;
    }

    /// Every rule of data-format.md §17 but the approvals' signatures (chain_rules checks
    /// them, with the chain's suite): `rec` recorded in the block at `height`.
    error_code check(const validator_change_record& rec, std::uint64_t height) const {
        using chain::errc;
        const auto& c = rec.change;
        const auto& cur = at(height);
        if (c.sequence != changes() + 1) return make_error(errc::change_out_of_order);
        if (epochs_.back().from > height) return make_error(errc::change_pending);
        if (c.effective_height <= height || c.effective_height - height > validator_change_limits::max_lead)
            return make_error(errc::change_bad_height);
        if (c.add.empty() && c.remove.empty() && c.add_submitters.empty() && c.remove_submitters.empty())
            return make_error(errc::bad_validator_change);
        if (registry_.size() + c.add.size() > validator_change_limits::max_registry)
            return make_error(errc::bad_validator_change);
        for (std::size_t i = 0; i < c.add.size(); ++i) {
            const auto& a = c.add[i];
            if (a.name.empty() || a.name.size() > limits::max_name_bytes) return make_error(errc::bad_validator_change);
            if (ed25519_small_order(a.key) || !ed25519_canonical(a.key)) return make_error(errc::bad_validator_change);
            if (id_of(a.key)) return make_error(errc::bad_validator_change);  // never re-added
            for (std::size_t j = 0; j < i; ++j)
                if (c.add[j].key == a.key) return make_error(errc::bad_validator_change);
        }
        for (std::size_t i = 0; i < c.remove.size(); ++i) {
            if (!cur.has(c.remove[i])) return make_error(errc::bad_validator_change);
            if (i > 0 && c.remove[i] <= c.remove[i - 1]) return make_error(errc::bad_validator_change);
        }
        const std::size_t n_after = cur.n() - c.remove.size() + c.add.size();
        if (n_after == 0 || n_after > limits::max_validators) return make_error(errc::bad_validator_change);
        for (std::size_t i = 0; i < c.add_submitters.size(); ++i) {
            const auto& k = c.add_submitters[i];
            if (ed25519_small_order(k) || !ed25519_canonical(k) || cur.is_submitter(k))
                return make_error(errc::bad_validator_change);
            for (std::size_t j = 0; j < i; ++j)
                if (c.add_submitters[j] == k) return make_error(errc::bad_validator_change);
        }
        for (std::size_t i = 0; i < c.remove_submitters.size(); ++i) {
            if (!cur.is_submitter(c.remove_submitters[i])) return make_error(errc::bad_validator_change);
            for (std::size_t j = 0; j < i; ++j)
                if (c.remove_submitters[j] == c.remove_submitters[i]) return make_error(errc::bad_validator_change);
        }
        if (cur.submitters.size() - c.remove_submitters.size() + c.add_submitters.size() > limits::max_submitters)
            return make_error(errc::bad_validator_change);
        for (std::size_t i = 0; i < rec.approvals.size(); ++i) {
            if (!cur.has(rec.approvals[i].validator)) return make_error(errc::change_not_approved);
            if (i > 0 && rec.approvals[i].validator <= rec.approvals[i - 1].validator)
                return make_error(errc::change_not_approved);
        }
        if (rec.approvals.size() < cur.quorum()) return make_error(errc::change_not_approved);
        return {};
    }

    /// Schedules `rec`'s change. @pre check(rec, height) accepted it.
    void apply(const validator_change_record& rec, std::uint64_t height) {
        const auto& c = rec.change;
        validator_epoch next = at(height);
        next.from = c.effective_height;
        next.recorded_at = height;
        std::erase_if(next.members, [&](std::uint32_t id) {
            return std::find(c.remove.begin(), c.remove.end(), id) != c.remove.end();
        });
        for (const auto& a : c.add) {
            next.members.push_back(static_cast<std::uint32_t>(registry_.size()));
            registry_.push_back(a);
        }
        std::sort(next.members.begin(), next.members.end());
        std::erase_if(next.submitters, [&](const public_key& k) {
            return std::find(c.remove_submitters.begin(), c.remove_submitters.end(), k) != c.remove_submitters.end();
        });
        next.submitters.insert(next.submitters.end(), c.add_submitters.begin(), c.add_submitters.end());
        epochs_.push_back(std::move(next));
    }

private:
    std::vector<validator_info> registry_;
    std::vector<validator_epoch> epochs_;  ///< ascending `from`; the first is the genesis's (from 0)
};

}  // namespace ballotchain
