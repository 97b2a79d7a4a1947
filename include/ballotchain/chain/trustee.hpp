#pragma once
/// @file What a validator does as a trustee (docs/election-protocol.md): from
/// the chain's election state and its clock alone, the records it owes now —
/// its trustee key, its dealing, its verdict on the others' dealings, its
/// decryption shares once an election ended. No operator types anything: a
/// validator asks `due()` after each block and on a timer, and submits what it
/// gets like any transaction. Every secret is derived from the validator's key
/// (dkg::trustee_secrets), so a restarted validator owes the same records.

#include <ballotchain/chain/election.hpp>
#include <ballotchain/chain/rules.hpp>

#include <functional>

namespace ballotchain::election {

/// Trustee `index` (1-based: validator index + 1) of a chain.
///
/// @tparam Suite signs the records (`suite`)
/// @par Thread safety Immutable after construction; `due()` is const.
template <suite Suite>
class trustee {
public:
    trustee(const genesis_config& g, std::uint32_t index, typename Suite::key_pair kp, const secret_key& seed)
        : g_(g), index_(index), kp_(std::move(kp)), secrets_(seed) {}

    std::uint32_t index() const noexcept { return index_; }

    /// The records this trustee owes at `now_ms` given `state` (the head's election state),
    /// signed and ready to submit. Records already on the chain are not repeated, nor those for
    /// which `pending(election, slot tag)` says a record is waiting in the pool.
    std::vector<vote_tx> due(const election_registry& state, std::uint64_t now_ms,
                             const std::function<bool(std::uint64_t, const hash32&)>& pending = {}) const {
        std::vector<vote_tx> out;
        auto owed = [&](tx_kind kind, std::uint64_t election) {
            return !pending || !pending(election, slot_tag(kind, index_));
        };
        const auto& keys = state.trustee_keys();
        if (!keys.contains(index_)) {
            // The key is published when an election needs it (a chain without secret ballots
            // never carries trustee records).
            if (state.ceremony_open() && owed(tx_kind::trustee_key, 0))
                out.push_back(record(tx_kind::trustee_key, 0, encode(dkg::make_trustee_key(g_.chain_id, index_, x())), now_ms));
            return out;  // the rest needs the key on the chain
        }
        for (const auto& [id, e] : state.elections()) {
            if (e.def.ballot != ballot_kind::encrypted) continue;
            const dkg::ceremony_id c{g_.chain_id, id};
            if (e.ph == phase::ceremony) {
                // Deal once every validator's key is on the chain, or from half-way to the
                // deadline (a validator that is down gets no share).
                const std::uint64_t half_way = e.defined_ms + (e.def.key_deadline_ms - std::min(e.defined_ms, e.def.key_deadline_ms)) / 2;
                if (!e.dealings.contains(index_) && now_ms < e.def.key_deadline_ms &&
                    (keys.size() == g_.n() || now_ms >= half_way) && owed(tx_kind::dealing, id))
                    out.push_back(record(tx_kind::dealing, id, encode(dkg::deal(c, index_, e.def.threshold, secrets_, keys)), now_ms));
                // The verdict waits for every keyed trustee's dealing, or for the deadline; after
                // the deadline the verdict's block (late enough) closes the ceremony.
                bool all_dealt = true;
                for (const auto& [j, _] : keys) all_dealt = all_dealt && e.dealings.contains(j);
                if (!e.verdicts.contains(index_) && (all_dealt || now_ms >= e.def.key_deadline_ms) && owed(tx_kind::verdict, id))
                    out.push_back(record(tx_kind::verdict, id, encode(judge_dealings(c, e)), now_ms));
            } else if (e.ph == phase::ready && now_ms >= e.def.end_ms && !e.decryptions.contains(index_) &&
                       e.public_shares.contains(index_) && owed(tx_kind::decryption, id)) {
                if (auto d = decrypt(c, e)) out.push_back(record(tx_kind::decryption, id, encode(*d), now_ms));
            }
        }
        return out;
    }

    /// This trustee's secret share of election `c` over the qualified dealers, or nullopt when a
    /// qualified dealing holds no share that opens for it.
    std::optional<scalar> secret_share(const dkg::ceremony_id& c, const election_state& e) const {
        scalar s = scalar::zero();
        for (std::uint32_t i : e.qualified) {
            const auto& d = e.dealings.at(i);
            if (i == index_) {
                std::vector<scalar> coeffs;
                for (std::uint32_t k = 0; k < d.commitments.size(); ++k) coeffs.push_back(secrets_.coefficient(c, k));
                s = s + dkg::evaluate(coeffs, index_);
            } else {
                auto v = dkg::open_share(c, i, index_, x(), d);
                if (!v) return std::nullopt;
                s = s + *v;
            }
        }
        return s;
    }

private:
    scalar x() const { return secrets_.key(g_.chain_id); }

    vote_tx record(tx_kind kind, std::uint64_t election, bytes body, std::uint64_t now_ms) const {
        vote_tx tx;
        tx.kind = kind;
        tx.chain_id = g_.chain_id;
        tx.election_id = election;
        tx.encrypted_vote = std::move(body);
        tx.voter_tag = slot_tag(kind, index_);
        tx.timestamp_ms = now_ms;
        sign_tx<Suite>(tx, kp_);
        return tx;
    }

    /// Complaints against every dealing whose share for this trustee does not open.
    verdict judge_dealings(const dkg::ceremony_id& c, const election_state& e) const {
        verdict v;
        for (const auto& [i, d] : e.dealings) {
            if (i == index_ || !d.share_for(index_)) continue;
            if (!dkg::open_share(c, i, index_, x(), d)) v.complaints.push_back(dkg::make_complaint(c, i, x(), d));
        }
        return v;
    }

    std::optional<decryption> decrypt(const dkg::ceremony_id& c, const election_state& e) const {
        auto s = secret_share(c, e);
        if (!s) return std::nullopt;
        const auto ctx = elgamal::tally_context(c.chain_id, c.election_id, e.key, e.aggregate);
        decryption d;
        for (std::uint32_t k = 0; k < e.aggregate.size(); ++k) {
            auto sh = elgamal::make_share(ctx, k, index_, *s, e.aggregate[k]);
            d.d.push_back(sh.d);
            d.proofs.push_back(sh.proof);
        }
        return d;
    }

    const genesis_config& g_;
    std::uint32_t index_;
    typename Suite::key_pair kp_;
    dkg::trustee_secrets secrets_;
};

/// A signed definition record for `def` as election `id`, by a submitter.
template <suite Suite>
vote_tx definition_record(const genesis_config& g, std::uint64_t id, const definition& def,
                          const typename Suite::key_pair& submitter, std::uint64_t now_ms) {
    vote_tx tx;
    tx.kind = tx_kind::define_election;
    tx.chain_id = g.chain_id;
    tx.election_id = id;
    tx.encrypted_vote = encode(def);
    tx.voter_tag = slot_tag(tx_kind::define_election, 0);
    tx.timestamp_ms = now_ms;
    sign_tx<Suite>(tx, submitter);
    return tx;
}

/// A signed ballot record for `choice` (candidate position) in election `id` with key
/// `election_key`, by a submitter, for voter tag `tag`.
template <suite Suite>
vote_tx ballot_record(const genesis_config& g, std::uint64_t id, const point& election_key, std::uint32_t candidates,
                      std::uint32_t choice, const hash32& tag, const typename Suite::key_pair& submitter,
                      std::uint64_t now_ms) {
    vote_tx tx;
    tx.kind = tx_kind::ballot;
    tx.chain_id = g.chain_id;
    tx.election_id = id;
    tx.encrypted_vote = encode(elgamal::seal_ballot({g.chain_id, id, election_key, tag, {}}, candidates, choice));
    tx.voter_tag = tag;
    tx.timestamp_ms = now_ms;
    sign_tx<Suite>(tx, submitter);
    return tx;
}

}  // namespace ballotchain::election
