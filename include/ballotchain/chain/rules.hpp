#pragma once
/// @file The validity rules of docs/data-format.md §6, §8 and §9 as functions
/// of a genesis alone: block 0, a transaction's fields, a block after its
/// parent, a commit certificate. The ledger (ledger/blockchain.hpp) and the verifiers
/// (ledger/verify.hpp) apply them; neither keeps its own copy of a rule.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/election.hpp>
#include <ballotchain/chain/errc.hpp>
#include <ballotchain/chain/merkle.hpp>
#include <ballotchain/chain/validator_set.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/suite.hpp>

#include <map>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

namespace ballotchain {

/// candidate id → votes
using tally_map = std::map<std::uint64_t, std::uint64_t>;

/// Accepts no tx as pre-verified: every signature is checked.
struct verify_all_signatures {
    bool operator()(const hash32&, const vote_tx&) const noexcept { return false; }
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

/// The root of the batch that `tx` (whose hash is `th`) claims to be part of: its audit
/// path followed from `th`; nullopt when the path cannot belong to a batch of that size.
template <suite Suite>
std::optional<hash32> batch_root(const vote_tx& tx, const hash32& th) {
    return merkle_root_from_path<Suite>(th, tx.auth.index, tx.auth.size, tx.auth.path);
}

/// Signs `txs` as batches (data-format.md §2): one signature per limits::max_batch_txs of
/// them, over the Merkle root of their hashes; each tx gets its index and audit path. Sets
/// `submitter` and `auth` of each; returns their hashes in order.
/// @pre every tx has the same chain_id (the signed message names it).
template <suite Suite>
std::vector<hash32> sign_batch(std::span<vote_tx> txs, const typename Suite::key_pair& kp) {
    std::vector<hash32> ths;
    ths.reserve(txs.size());
    for (auto& tx : txs) {
        tx.submitter = kp.public_key();
        ths.push_back(tx_hash<Suite>(tx));
    }
    std::vector<std::vector<hash32>> paths;
    for (std::size_t at = 0; at < txs.size(); at += limits::max_batch_txs) {
        const std::size_t n = std::min(limits::max_batch_txs, txs.size() - at);
        const hash32 root = merkle_root_and_paths<Suite>(std::span<const hash32>(ths).subspan(at, n), paths);
        const auto size = static_cast<std::uint32_t>(n);
        const signature sig = Suite::sign(kp, batch_message(txs[at].chain_id, size, root));
        for (std::size_t i = 0; i < n; ++i) {
            auto& a = txs[at + i].auth;
            a.size = size;
            a.index = static_cast<std::uint32_t>(i);
            a.path = std::move(paths[i]);
            a.sig = sig;
        }
    }
    return ths;
}

/// Signs one transaction in place: a batch of one (sets submitter and auth); returns its hash.
template <suite Suite>
hash32 sign_tx(vote_tx& tx, const typename Suite::key_pair& kp) {
    return sign_batch<Suite>(std::span<vote_tx>(&tx, 1), kp).front();
}

/// Whether the refusal of one vote of a signed batch refuses the whole batch (whole or not at
/// all, data-format.md §2): every reason but "already there" (duplicate_tx: a resent vote) and
/// "try again later" (pool_full).
inline bool refuses_batch(const error_code& ec) noexcept {
    return ec && ec != make_error(chain::errc::duplicate_tx) && ec != make_error(chain::errc::pool_full) &&
           ec != make_error(chain::errc::batch_refused);
}

/// For each of `txs`, the index of the first of them that carries the same batch signature
/// (signer, signature, batch size): txs with the same leader came in one signed batch.
inline std::vector<std::size_t> batch_leaders(std::span<const vote_tx> txs) {
    std::map<std::tuple<public_key, signature, std::uint32_t>, std::size_t> first;
    std::vector<std::size_t> out(txs.size());
    for (std::size_t i = 0; i < txs.size(); ++i)
        out[i] = first.try_emplace({txs[i].submitter, txs[i].auth.sig, txs[i].auth.size}, i).first->second;
    return out;
}

/// Checks transactions' batch signatures, remembering the batches it verified: the votes of
/// one batch cost one Ed25519 verification however they arrive (together, or spread over
/// blocks and messages). What it remembers is keyed by a hash of everything verified (signer,
/// signed message, signature), so a remembered batch vouches for nothing else.
///
/// @tparam Suite hashes and verifies (`suite`)
/// @par Thread safety Not thread-safe: one per thread or owner.
template <suite Suite>
class signature_checker {
public:
    /// @param capacity batches remembered at most; all are forgotten when it is reached.
    explicit signature_checker(std::size_t capacity = 4096) : capacity_(capacity) {}

    /// Whether `tx`'s authorization is a valid signature by `tx.submitter` over a batch that
    /// holds `th` (its hash) at its index.
    bool operator()(const vote_tx& tx, const hash32& th) {
        const auto root = batch_root<Suite>(tx, th);
        if (!root) return false;
        const bytes msg = batch_message(tx.chain_id, tx.auth.size, *root);
        if (tx.auth.size == 1) return Suite::verify(tx.submitter, msg, tx.auth.sig);  // nothing to share
        typename Suite::hasher h;
        h.update(tx.submitter.view());
        h.update(msg);
        h.update(tx.auth.sig.view());
        const hash32 key = h.finish();
        if (verified_.contains(key)) return true;
        if (!Suite::verify(tx.submitter, msg, tx.auth.sig)) return false;
        if (verified_.size() >= capacity_) verified_.clear();
        verified_.insert(key);
        return true;
    }

private:
    std::size_t capacity_;
    std::unordered_set<hash32> verified_;
};

/// The rules of one chain (its genesis), in the order docs/data-format.md lists them.
///
/// @tparam Suite hashes txs, headers and the Merkle tree; checks tx, proposer and seal signatures (`suite`)
/// @par Thread safety Immutable; safe to share. Holds a reference: `g` must outlive it.
template <suite Suite>
class chain_rules {
public:
    explicit chain_rules(const genesis_config& g) noexcept : g_(g) {}

    const genesis_config& genesis() const noexcept { return g_; }

    /// The checks of a transaction that need no chain state but the validator set and no
    /// signature: chain id, size, authorized signer (§9 step 8, first three) in the block at
    /// `height` of a chain whose validators are `vs`: a submitter of that height for votes,
    /// definitions and ballots, a validator active at that height for a trustee's records and
    /// validator-set changes. A change is bounded by the codec's record size, not the genesis's.
    error_code check_tx_fields(const vote_tx& tx, const validator_schedule& vs, std::uint64_t height) const {
        if (tx.chain_id != g_.chain_id) return make_error(chain::errc::wrong_chain_id);
        const std::size_t max_body =
            tx.kind == tx_kind::validator_set ? limits::max_encrypted_vote_bytes : g_.max_encrypted_vote_bytes;
        if (tx.encrypted_vote.size() > max_body) return make_error(chain::errc::vote_too_large);
        const bool by_validator = is_trustee_record(tx.kind) || tx.kind == tx_kind::validator_set;
        if (by_validator ? !vs.active_id(tx.submitter, height) : !vs.at(height).is_submitter(tx.submitter))
            return make_error(chain::errc::unauthorized_submitter);
        return {};
    }

    /// The approvals' signatures of a validator-set change (§17; the other rules are
    /// validator_schedule::check's); anything else passes. Keys by id from `vs`.
    error_code check_record_signatures(const vote_tx& tx, const validator_schedule& vs) const {
        if (tx.kind != tx_kind::validator_set) return {};
        auto r = decode_validator_change(tx.encrypted_vote);
        if (!r) return make_error(chain::errc::bad_validator_change);
        const bytes msg = change_message(g_.chain_id, r->change);
        for (const auto& a : r->approvals)
            if (!vs.known(a.validator) || !Suite::verify(vs.key(a.validator), msg, a.sig))
                return make_error(chain::errc::bad_change_approval);
        return {};
    }

    static bool is_trustee_record(tx_kind k) noexcept {
        return k == tx_kind::trustee_key || k == tx_kind::dealing || k == tx_kind::verdict || k == tx_kind::decryption;
    }

    /// §9 steps 1–9 for `b` after the block with header `parent` and hash
    /// `parent_hash`, with `elections` the election state after the parent.
    /// `seen_tx(th)` / `seen_vote(e, tag)` say whether a tx hash
    /// or vote key is final in an earlier block; `known_valid(th, tx)` returning
    /// true skips that tx's signature check and its ballot or trustee proofs. On success `out` (if given)
    /// receives the tx hashes in block order (on a bad transaction, those before it), and `elections_after` (if given) the election state
    /// after `b` when `b` changes it (left empty when it does not). `known_valid(th, tx)` must
    /// vouch for `tx` as it is, its authorization included (not merely for another copy with
    /// hash `th`). Other signatures are checked through `sigs` (if given; else a checker of this call).
    template <class SeenTx, class SeenVote, class KnownValid = verify_all_signatures>
    error_code check_block(const block& b, const block_header& parent, const hash32& parent_hash, SeenTx&& seen_tx,
                           SeenVote&& seen_vote, const election::election_registry& elections,
                           const KnownValid& known_valid = {}, std::vector<hash32>* out = nullptr,
                           std::optional<election::election_registry>* elections_after = nullptr,
                           signature_checker<Suite>* sigs = nullptr) const {
        using chain::errc;
        const auto& h = b.header;
        if (h.chain_id != g_.chain_id) return make_error(errc::wrong_chain_id);
        if (h.height != parent.height + 1) return make_error(errc::wrong_height);
        if (h.parent != parent_hash) return make_error(errc::wrong_parent);
        if (h.timestamp_ms < parent.timestamp_ms) return make_error(errc::bad_timestamp);
        const auto& vs = elections.validators();
        const auto& set = vs.at(h.height);
        if (set.n() == 0 || h.proposer != set.proposer(h.height, h.round)) return make_error(errc::wrong_proposer);
        if (h.tx_count != b.txs.size() || h.tx_count > g_.max_block_txs) return make_error(errc::too_many_txs);
        const hash32 bh = block_hash<Suite>(h);
        if (!Suite::verify(vs.key(h.proposer), bh.view(), b.proposer_sig))
            return make_error(errc::bad_proposer_signature);
        std::vector<hash32> ths;
        ths.reserve(b.txs.size());
        std::unordered_set<hash32> block_txs;
        std::unordered_set<detail::vote_key, detail::vote_key_hash> block_votes;
        std::optional<election::election_registry> staged;  // copied on the first record that changes it
        std::optional<signature_checker<Suite>> own_sigs;
        if (!sigs) sigs = &own_sigs.emplace();
        // On a bad transaction `out` receives the hashes of those before it (which_tx says which).
        auto bad = [&](error_code ec) {
            if (out) *out = std::move(ths);
            return ec;
        };
        for (const auto& tx : b.txs) {
            if (auto ec = check_tx_fields(tx, vs, h.height)) return bad(ec);
            const hash32 th = tx_hash<Suite>(tx);
            const bool known = known_valid(th, tx);
            if (!known && !(*sigs)(tx, th)) return bad(make_error(errc::invalid_signature));
            // Approvals are checked even for a tx known valid: changes are rare, and a
            // `known_valid` that vouches only for tx signatures (verify's workers) must not skip them.
            if (auto ec = check_record_signatures(tx, vs)) return bad(ec);
            if (!block_txs.insert(th).second || seen_tx(th)) return bad(make_error(errc::duplicate_tx));
            if (!block_votes.insert({tx.election_id, tx.voter_tag}).second || seen_vote(tx.election_id, tx.voter_tag))
                return bad(make_error(errc::duplicate_vote));
            const auto& state = staged ? *staged : elections;
            if (auto ec = state.check(g_, tx, h.height, h.timestamp_ms, known)) return bad(ec);
            if (state.writes(tx)) {
                if (!staged) staged = elections;
                staged->apply(g_, tx, h.height, h.timestamp_ms);
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
    /// distinct validators active at that height (`vs`, protocol.md §12) in ascending id
    /// order, each a valid signature. Checked for every block above 0; block 0 is compared
    /// whole (check_genesis_block).
    error_code check_certificate(const block_header& h, const hash32& bh, const commit_certificate& c,
                                 const validator_schedule& vs) const {
        using chain::errc;
        if (c.height != h.height || c.block_hash != bh) return make_error(errc::cert_wrong_block);
        if (c.round < h.round) return make_error(errc::cert_wrong_round);
        const auto& set = vs.at(h.height);
        if (set.n() == 0 || c.seals.size() < set.quorum()) return make_error(errc::cert_too_few_seals);
        const bytes msg = seal_message(g_.chain_id, c.height, c.round, bh);
        for (std::size_t i = 0; i < c.seals.size(); ++i) {
            const auto& s = c.seals[i];
            if (!set.has(s.validator)) return make_error(errc::cert_unknown_validator);
            if (i > 0 && s.validator <= c.seals[i - 1].validator) return make_error(errc::cert_duplicate_seal);
            if (!Suite::verify(vs.key(s.validator), msg, s.sig)) return make_error(errc::cert_bad_seal);
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
