#pragma once
/// @file The validity rules of docs/data-format.md §6, §8 and §9 as functions
/// of a genesis alone: block 0, a transaction's fields, a block after its
/// parent, a commit certificate. The ledger (ledger/blockchain.hpp) and the verifiers
/// (ledger/verify.hpp) apply them; neither keeps its own copy of a rule.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/election.hpp>
#include <ballotchain/chain/errc.hpp>
#include <ballotchain/chain/merkle.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/suite.hpp>

#include <map>
#include <string>
#include <unordered_set>
#include <vector>

namespace ballotchain {

/// candidate id → votes
using tally_map = std::map<std::uint64_t, std::uint64_t>;

/// Accepts no tx as pre-verified: every signature is checked.
struct verify_all_signatures {
    bool operator()(const hash32&) const noexcept { return false; }
};

namespace detail {
struct vote_key {
    std::uint64_t election;
    hash32 tag;
    bool operator==(const vote_key&) const = default;
};
struct vote_key_hash {
    std::size_t operator()(const vote_key& k) const noexcept {
        return std::hash<hash32>{}(k.tag) ^ (k.election * 0x9e3779b97f4a7c15ull);
    }
};
}  // namespace detail

/// Block 0 of `g` (data-format.md §8): derived from the genesis alone, with
/// an all-zero proposer signature and the certificate {0, 0, its hash, no seals}.
template <suite Suite>
finalized_block make_genesis_block(const genesis_config& g) {
    finalized_block fb;
    auto& h = fb.blk.header;
    h.chain_id = g.chain_id;
    h.parent = genesis_hash<Suite>(g);
    h.timestamp_ms = g.timestamp_ms;
    h.tx_root = merkle_root<Suite>(std::span<const hash32>{});
    fb.cert.block_hash = block_hash<Suite>(h);
    return fb;
}

/// Signs a commit seal for (height, round, block hash).
template <suite Suite>
commit_seal make_seal(const typename Suite::key_pair& kp, std::uint32_t validator, std::uint64_t chain_id,
                      std::uint64_t height, std::uint32_t round, const hash32& bh) {
    return {validator, Suite::sign(kp, seal_message(chain_id, height, round, bh))};
}

/// Signs a vote transaction in place (sets submitter and sig); returns its hash.
template <suite Suite>
hash32 sign_tx(vote_tx& tx, const typename Suite::key_pair& kp) {
    tx.submitter = kp.public_key();
    const hash32 h = tx_hash<Suite>(tx);
    tx.sig = Suite::sign(kp, h.view());
    return h;
}

/// The rules of one chain (its genesis), in the order docs/data-format.md lists them.
///
/// @tparam Suite hashes txs, headers and the Merkle tree; checks tx, proposer and seal signatures (`suite`)
/// @par Thread safety Immutable; safe to share. Holds a reference: `g` must outlive it.
template <suite Suite>
class chain_rules {
public:
    explicit chain_rules(const genesis_config& g) noexcept : g_(g) {}

    const genesis_config& genesis() const noexcept { return g_; }

    /// The checks of a transaction that need no chain state except its signature:
    /// chain id, vote size, authorized signer (§9 step 8, first three): a submitter for votes,
    /// definitions and ballots, a validator for a trustee's records.
    error_code check_tx_fields(const vote_tx& tx) const {
        if (tx.chain_id != g_.chain_id) return make_error(chain::errc::wrong_chain_id);
        if (tx.encrypted_vote.size() > g_.max_encrypted_vote_bytes) return make_error(chain::errc::vote_too_large);
        if (is_trustee_record(tx.kind) ? !g_.validator_index(tx.submitter) : !g_.is_submitter(tx.submitter))
            return make_error(chain::errc::unauthorized_submitter);
        return {};
    }

    static bool is_trustee_record(tx_kind k) noexcept {
        return k == tx_kind::trustee_key || k == tx_kind::dealing || k == tx_kind::verdict || k == tx_kind::decryption;
    }

    /// §9 steps 1–9 for `b` after the block with header `parent` and hash
    /// `parent_hash`, with `elections` the election state after the parent.
    /// `seen_tx(th)` / `seen_vote(e, tag)` say whether a tx hash
    /// or vote key is final in an earlier block; `known_valid(th)` returning
    /// true skips that tx's signature check and its ballot or trustee proofs. On success `out` (if given)
    /// receives the tx hashes in block order (on a bad transaction, those before it), and `elections_after` (if given) the election state
    /// after `b` when `b` changes it (left empty when it does not).
    template <class SeenTx, class SeenVote, class KnownValid = verify_all_signatures>
    error_code check_block(const block& b, const block_header& parent, const hash32& parent_hash, SeenTx&& seen_tx,
                           SeenVote&& seen_vote, const election::election_registry& elections,
                           const KnownValid& known_valid = {}, std::vector<hash32>* out = nullptr,
                           std::optional<election::election_registry>* elections_after = nullptr) const {
        using chain::errc;
        const auto& h = b.header;
        if (h.chain_id != g_.chain_id) return make_error(errc::wrong_chain_id);
        if (h.height != parent.height + 1) return make_error(errc::wrong_height);
        if (h.parent != parent_hash) return make_error(errc::wrong_parent);
        if (h.timestamp_ms < parent.timestamp_ms) return make_error(errc::bad_timestamp);
        if (h.proposer != g_.proposer_index(h.height, h.round)) return make_error(errc::wrong_proposer);
        if (h.tx_count != b.txs.size() || h.tx_count > g_.max_block_txs) return make_error(errc::too_many_txs);
        const hash32 bh = block_hash<Suite>(h);
        if (!Suite::verify(g_.validators[h.proposer].key, bh.view(), b.proposer_sig))
            return make_error(errc::bad_proposer_signature);
        std::vector<hash32> ths;
        ths.reserve(b.txs.size());
        std::unordered_set<hash32> block_txs;
        std::unordered_set<detail::vote_key, detail::vote_key_hash> block_votes;
        std::optional<election::election_registry> staged;  // copied on the first record that changes it
        // On a bad transaction `out` receives the hashes of those before it (which_tx says which).
        auto bad = [&](error_code ec) {
            if (out) *out = std::move(ths);
            return ec;
        };
        for (const auto& tx : b.txs) {
            if (auto ec = check_tx_fields(tx)) return bad(ec);
            const hash32 th = tx_hash<Suite>(tx);
            const bool known = known_valid(th);
            if (!known && !Suite::verify(tx.submitter, th.view(), tx.sig)) return bad(make_error(errc::invalid_signature));
            if (!block_txs.insert(th).second || seen_tx(th)) return bad(make_error(errc::duplicate_tx));
            if (!block_votes.insert({tx.election_id, tx.voter_tag}).second || seen_vote(tx.election_id, tx.voter_tag))
                return bad(make_error(errc::duplicate_vote));
            const auto& state = staged ? *staged : elections;
            if (auto ec = state.check(g_, tx, h.timestamp_ms, known)) return bad(ec);
            if (state.writes(tx)) {
                if (!staged) staged = elections;
                staged->apply(g_, tx, h.timestamp_ms);
            }
            ths.push_back(th);
        }
        if (merkle_root<Suite>(ths) != h.tx_root) return make_error(errc::bad_tx_root);
        if (!staged && elections.due(h.timestamp_ms)) staged = elections;
        if (staged) staged->end_block(h.timestamp_ms);
        if (out) *out = std::move(ths);
        if (elections_after) *elections_after = std::move(staged);
        return {};
    }

    /// §6: `c` proves finality of the block with header `h` and hash `bh`:
    /// same height and hash, round ≥ the header's, at least q seals from
    /// distinct genesis validators in ascending order, each a valid signature.
    /// Checked for every block above 0; block 0 is compared whole (check_genesis_block).
    error_code check_certificate(const block_header& h, const hash32& bh, const commit_certificate& c) const {
        using chain::errc;
        if (c.height != h.height || c.block_hash != bh) return make_error(errc::cert_wrong_block);
        if (c.round < h.round) return make_error(errc::cert_wrong_round);
        if (c.seals.size() < g_.quorum()) return make_error(errc::cert_too_few_seals);
        const bytes msg = seal_message(g_.chain_id, c.height, c.round, bh);
        for (std::size_t i = 0; i < c.seals.size(); ++i) {
            const auto& s = c.seals[i];
            if (s.validator >= g_.n()) return make_error(errc::cert_unknown_validator);
            if (i > 0 && s.validator <= c.seals[i - 1].validator) return make_error(errc::cert_duplicate_seal);
            if (!Suite::verify(g_.validators[s.validator].key, msg, s.sig)) return make_error(errc::cert_bad_seal);
        }
        return {};
    }

    /// §8: the stored block 0 must equal, field for field and certificate
    /// included, the block derived from the genesis (`expected`, from
    /// make_genesis_block). Returns genesis_mismatch with the first differing
    /// part in `*why` (when given).
    static error_code check_genesis_block(const finalized_block& stored, const finalized_block& expected,
                                          std::string* why = nullptr) {
        auto bad = [&](std::string what) {
            if (why) *why = std::move(what);
            return make_error(chain::errc::genesis_mismatch);
        };
        const auto& s = stored.blk.header;
        const auto& e = expected.blk.header;
        if (s.chain_id != e.chain_id) return bad("header chain_id is " + std::to_string(s.chain_id) + ", genesis says " + std::to_string(e.chain_id));
        if (s.height != 0) return bad("header height is " + std::to_string(s.height));
        if (s.round != 0) return bad("header round is " + std::to_string(s.round) + ", must be 0");
        if (s.parent != e.parent) return bad("header parent is " + to_hex(s.parent) + ", the genesis hash is " + to_hex(e.parent));
        if (s.timestamp_ms != e.timestamp_ms) return bad("header timestamp_ms differs from the genesis timestamp_ms");
        if (s != e) return bad("header differs from the one derived from the genesis (proposer, tx_root or tx_count)");
        if (stored.blk.proposer_sig != expected.blk.proposer_sig) return bad("proposer_sig is not 64 zero bytes");
        if (!stored.blk.txs.empty()) return bad("block 0 holds transactions");
        const auto& sc = stored.cert;
        const auto& ec = expected.cert;
        if (sc.height != ec.height) return bad("certificate height is " + std::to_string(sc.height) + ", must be 0");
        if (sc.round != ec.round) return bad("certificate round is " + std::to_string(sc.round) + ", must be 0");
        if (sc.block_hash != ec.block_hash)
            return bad("certificate block_hash is " + to_hex(sc.block_hash) + ", block 0's hash is " + to_hex(ec.block_hash));
        if (!sc.seals.empty()) return bad("certificate has " + std::to_string(sc.seals.size()) + " seals, block 0 has none");
        return {};
    }

private:
    const genesis_config& g_;
};

}  // namespace ballotchain
