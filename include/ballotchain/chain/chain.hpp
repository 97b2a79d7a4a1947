#pragma once
/// @file The validated chain: genesis, append with full validation, lookups,
/// per-election tallies, and offline re-verification of everything stored.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/errc.hpp>
#include <ballotchain/chain/merkle.hpp>
#include <ballotchain/crypto/concepts.hpp>
#include <ballotchain/storage/concepts.hpp>
#include <ballotchain/storage/errc.hpp>

#include <map>
#include <unordered_set>

namespace ballotchain {

/// candidate id → votes
using tally_map = std::map<std::uint64_t, std::uint64_t>;

/// Outcome of chain::verify().
struct verify_report {
    bool ok = true;
    std::uint64_t blocks_checked = 0;
    std::uint64_t txs_checked = 0;
    std::optional<std::uint64_t> bad_height;  ///< first bad block
    error_code reason;                        ///< why it is bad
};

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

/// The header of block 0, derived from genesis alone.
template <hasher Hasher>
finalized_block make_genesis_block(const genesis_config& g) {
    finalized_block fb;
    auto& h = fb.blk.header;
    h.chain_id = g.chain_id;
    h.parent = genesis_hash<Hasher>(g);
    h.timestamp_ms = g.timestamp_ms;
    h.tx_root = merkle_root<Hasher>(std::span<const hash32>{});
    fb.cert.block_hash = block_hash<Hasher>(h);
    return fb;
}

/// Signs a commit seal for (height, round, block hash).
template <signer Signer>
commit_seal make_seal(const typename Signer::key_pair& kp, std::uint32_t validator, std::uint64_t chain_id,
                      std::uint64_t height, std::uint32_t round, const hash32& bh) {
    return {validator, Signer::sign(kp, seal_message(chain_id, height, round, bh))};
}

/// Signs a vote transaction in place (sets submitter and sig); returns its hash.
template <hasher Hasher, signer Signer>
hash32 sign_tx(vote_tx& tx, const typename Signer::key_pair& kp) {
    tx.submitter = kp.public_key();
    const hash32 h = tx_hash<Hasher>(tx);
    tx.sig = Signer::sign(kp, h.view());
    return h;
}

/// A chain of finalized blocks kept in `Storage`, validated on every append.
///
/// @tparam Hasher  hashes txs, headers and the Merkle tree (`hasher`)
/// @tparam Signer  checks tx, proposer and seal signatures (`signer`)
/// @tparam Storage where blocks live (`storage`)
/// @par Thread safety Not thread-safe; the owner serialises access.
template <hasher Hasher, signer Signer, storage Storage>
class blockchain {
public:
    using hasher_type = Hasher;
    using signer_type = Signer;
    using storage_type = Storage;

    /// Opens a chain on `s`: writes block 0 when `s` is empty, otherwise checks
    /// that the stored block 0 comes from `g` and rebuilds the tallies.
    static result<blockchain> open(genesis_config g, Storage s) {
        if (auto ec = check_genesis(g)) return ec;
        blockchain c(std::move(g), std::move(s));
        if (auto ec = c.init()) return ec;
        return c;
    }

    blockchain(blockchain&&) noexcept = default;
    blockchain& operator=(blockchain&&) noexcept = default;

    const genesis_config& genesis() const noexcept { return genesis_; }
    Storage& storage() noexcept { return storage_; }
    const Storage& storage() const noexcept { return storage_; }

    std::uint64_t height() const noexcept { return head_.height; }
    const block_header& head() const noexcept { return head_; }
    const hash32& head_hash() const noexcept { return head_hash_; }
    std::uint64_t total_txs() const noexcept { return total_txs_; }

    result<finalized_block> block_at(std::uint64_t h) const { return storage_.load(h); }
    std::optional<hash32> hash_at(std::uint64_t h) const { return storage_.hash_at(h); }
    std::optional<std::uint64_t> height_of(const hash32& bh) const { return storage_.height_of(bh); }
    std::optional<tx_location> find_tx(const hash32& th) const { return storage_.find_tx(th); }
    std::optional<tx_location> find_vote(std::uint64_t election, const hash32& tag) const {
        return storage_.find_vote(election, tag);
    }

    /// Votes per candidate in `election` (empty when it has none).
    tally_map tally(std::uint64_t election) const {
        auto it = tallies_.find(election);
        return it == tallies_.end() ? tally_map{} : it->second;
    }
    std::vector<std::uint64_t> elections() const {
        std::vector<std::uint64_t> out;
        for (const auto& [e, _] : tallies_) out.push_back(e);
        return out;
    }

    // ---- validation -------------------------------------------------------------

    /// Checks that need no chain state: chain id, vote size, authorized
    /// submitter, signature. Returns the tx hash.
    result<hash32> check_tx_stateless(const vote_tx& tx) const {
        if (auto ec = check_tx_fields(tx)) return ec;
        const hash32 th = tx_hash<Hasher>(tx);
        if (!Signer::verify(tx.submitter, th.view(), tx.sig)) return make_error(chain::errc::invalid_signature);
        return th;
    }

    /// check_tx_stateless() plus: not already final, voter has not voted in
    /// that election. The signature is checked last, so replays of final txs
    /// cost a lookup, not a verification. Returns the tx hash.
    result<hash32> check_tx(const vote_tx& tx) const {
        if (auto ec = check_tx_fields(tx)) return ec;
        const hash32 th = tx_hash<Hasher>(tx);
        if (storage_.find_tx(th)) return make_error(chain::errc::duplicate_tx);
        if (storage_.find_vote(tx.election_id, tx.voter_tag)) return make_error(chain::errc::duplicate_vote);
        if (!Signer::verify(tx.submitter, th.view(), tx.sig)) return make_error(chain::errc::invalid_signature);
        return th;
    }

    /// Full check of `b` as the next block (everything but a certificate).
    /// `known_valid(tx_hash)` returning true skips that tx's signature check
    /// (the caller already checked it, e.g. on admission to its pool).
    /// On success, `tx_hashes` (if given) receives the tx hashes in order.
    template <class KnownValid = verify_all_signatures>
    error_code validate_block(const block& b, KnownValid known_valid = {},
                              std::vector<hash32>* tx_hashes = nullptr) const {
        return check_block(
            b, head_, head_hash_, [this](const hash32& th) { return storage_.find_tx(th).has_value(); },
            [this](std::uint64_t e, const hash32& t) { return storage_.find_vote(e, t).has_value(); }, known_valid,
            tx_hashes);
    }

    /// Checks that `c` proves finality of the block with header `h` and hash `bh`:
    /// same height and hash, round ≥ the header's, at least q seals from distinct
    /// genesis validators in ascending order, each a valid signature.
    error_code validate_certificate(const block_header& h, const hash32& bh, const commit_certificate& c) const {
        using chain::errc;
        if (c.height != h.height || c.block_hash != bh) return make_error(errc::cert_wrong_block);
        if (c.round < h.round) return make_error(errc::cert_wrong_round);
        if (c.seals.size() < genesis_.quorum()) return make_error(errc::cert_too_few_seals);
        const bytes msg = seal_message(genesis_.chain_id, c.height, c.round, bh);
        for (std::size_t i = 0; i < c.seals.size(); ++i) {
            const auto& s = c.seals[i];
            if (s.validator >= genesis_.n()) return make_error(errc::cert_unknown_validator);
            if (i > 0 && s.validator <= c.seals[i - 1].validator) return make_error(errc::cert_duplicate_seal);
            if (!Signer::verify(genesis_.validators[s.validator].key, msg, s.sig)) return make_error(errc::cert_bad_seal);
        }
        return {};
    }

    /// Validates `fb` (block and certificate) and durably appends it.
    template <class KnownValid = verify_all_signatures>
    result<void> append(const finalized_block& fb, KnownValid known_valid = {}) {
        std::vector<hash32> ths;
        if (auto ec = validate_block(fb.blk, known_valid, &ths)) return ec;
        const hash32 bh = block_hash<Hasher>(fb.blk.header);
        if (auto ec = validate_certificate(fb.blk.header, bh, fb.cert)) return ec;
        auto r = storage_.append(fb, bh, ths);
        if (!r) return r;
        apply(fb.blk, bh);
        return {};
    }

    /// Builds and signs the next block (proposer side). @pre txs are valid
    /// for this chain and `txs.size() <= genesis().max_block_txs`.
    block build_block(std::uint32_t round, std::uint64_t timestamp_ms, std::vector<vote_tx> txs,
                      const typename Signer::key_pair& kp) const {
        block b;
        auto& h = b.header;
        h.chain_id = genesis_.chain_id;
        h.height = head_.height + 1;
        h.round = round;
        h.parent = head_hash_;
        h.timestamp_ms = std::max(timestamp_ms, head_.timestamp_ms);
        h.proposer = genesis_.proposer_index(h.height, round);
        std::vector<hash32> ths;
        ths.reserve(txs.size());
        for (const auto& tx : txs) ths.push_back(tx_hash<Hasher>(tx));
        h.tx_root = merkle_root<Hasher>(ths);
        h.tx_count = static_cast<std::uint32_t>(txs.size());
        b.txs = std::move(txs);
        b.proposer_sig = Signer::sign(kp, block_hash<Hasher>(h).view());
        return b;
    }

    /// Re-checks every stored block from genesis with fresh state: decoding,
    /// links, proposers, signatures, Merkle roots, certificates, no duplicate
    /// tx or vote, and that the stored indexes agree. Stops at the first bad block.
    verify_report verify() const {
        verify_report rep;
        const auto head = storage_.head();
        if (!head) {
            rep.ok = false;
            rep.bad_height = 0;
            rep.reason = make_error(storage_ns::errc::not_found);
            return rep;
        }
        std::unordered_set<hash32> seen_tx;
        std::unordered_set<detail::vote_key, detail::vote_key_hash> seen_vote;
        const finalized_block g = make_genesis_block<Hasher>(genesis_);
        block_header parent;
        hash32 parent_hash;
        auto fail = [&](std::uint64_t h, error_code ec) {
            rep.ok = false;
            rep.bad_height = h;
            rep.reason = ec;
            return rep;
        };
        for (std::uint64_t h = 0; h <= *head; ++h) {
            auto fb = storage_.load(h);
            if (!fb) return fail(h, fb.error());
            const hash32 bh = block_hash<Hasher>(fb->blk.header);
            if (storage_.hash_at(h) != bh || storage_.height_of(bh) != h)
                return fail(h, make_error(storage_ns::errc::corrupt));
            if (h == 0) {
                if (fb->blk != g.blk) return fail(0, make_error(chain::errc::genesis_mismatch));
            } else {
                std::vector<hash32> ths;
                auto ec = check_block(
                    fb->blk, parent, parent_hash, [&](const hash32& th) { return seen_tx.contains(th); },
                    [&](std::uint64_t e, const hash32& t) { return seen_vote.contains({e, t}); },
                    verify_all_signatures{}, &ths);
                if (ec) return fail(h, ec);
                if (auto cec = validate_certificate(fb->blk.header, bh, fb->cert)) return fail(h, cec);
                for (std::size_t i = 0; i < ths.size(); ++i) {
                    const auto& tx = fb->blk.txs[i];
                    if (storage_.find_tx(ths[i]) != tx_location{h, static_cast<std::uint32_t>(i)})
                        return fail(h, make_error(storage_ns::errc::corrupt));
                    seen_tx.insert(ths[i]);
                    seen_vote.insert({tx.election_id, tx.voter_tag});
                }
                rep.txs_checked += ths.size();
            }
            parent = fb->blk.header;
            parent_hash = bh;
            ++rep.blocks_checked;
        }
        return rep;
    }

private:
    error_code check_tx_fields(const vote_tx& tx) const {
        if (tx.chain_id != genesis_.chain_id) return make_error(chain::errc::wrong_chain_id);
        if (tx.encrypted_vote.size() > genesis_.max_encrypted_vote_bytes) return make_error(chain::errc::vote_too_large);
        if (!genesis_.is_submitter(tx.submitter)) return make_error(chain::errc::unauthorized_submitter);
        return {};
    }

    blockchain(genesis_config g, Storage s) : genesis_(std::move(g)), storage_(std::move(s)) {}

    error_code init() {
        const finalized_block g = make_genesis_block<Hasher>(genesis_);
        const hash32 gh = g.cert.block_hash;
        if (!storage_.head()) {
            if (auto r = storage_.append(g, gh, {}); !r) return r.error();
        } else {
            auto b0 = storage_.load(0);
            if (!b0) return b0.error();
            if (b0->blk.header != g.blk.header) return make_error(chain::errc::genesis_mismatch);
        }
        head_ = g.blk.header;
        head_hash_ = gh;
        const std::uint64_t top = *storage_.head();
        for (std::uint64_t h = 1; h <= top; ++h) {
            auto fb = storage_.load(h);
            if (!fb) return fb.error();
            apply(fb->blk, block_hash<Hasher>(fb->blk.header));
        }
        return {};
    }

    void apply(const block& b, const hash32& bh) {
        for (const auto& tx : b.txs) ++tallies_[tx.election_id][tx.candidate_id];
        total_txs_ += b.txs.size();
        head_ = b.header;
        head_hash_ = bh;
    }

    template <class SeenTx, class SeenVote, class KnownValid>
    error_code check_block(const block& b, const block_header& parent, const hash32& parent_hash, SeenTx seen_tx,
                           SeenVote seen_vote, const KnownValid& known_valid, std::vector<hash32>* out) const {
        using chain::errc;
        const auto& h = b.header;
        if (h.chain_id != genesis_.chain_id) return make_error(errc::wrong_chain_id);
        if (h.height != parent.height + 1) return make_error(errc::wrong_height);
        if (h.parent != parent_hash) return make_error(errc::wrong_parent);
        if (h.timestamp_ms < parent.timestamp_ms) return make_error(errc::bad_timestamp);
        if (h.proposer != genesis_.proposer_index(h.height, h.round)) return make_error(errc::wrong_proposer);
        if (h.tx_count != b.txs.size() || h.tx_count > genesis_.max_block_txs) return make_error(errc::too_many_txs);
        const hash32 bh = block_hash<Hasher>(h);
        if (!Signer::verify(genesis_.validators[h.proposer].key, bh.view(), b.proposer_sig))
            return make_error(errc::bad_proposer_signature);
        std::vector<hash32> ths;
        ths.reserve(b.txs.size());
        std::unordered_set<hash32> block_txs;
        std::unordered_set<detail::vote_key, detail::vote_key_hash> block_votes;
        for (const auto& tx : b.txs) {
            if (tx.chain_id != genesis_.chain_id) return make_error(errc::wrong_chain_id);
            if (tx.encrypted_vote.size() > genesis_.max_encrypted_vote_bytes) return make_error(errc::vote_too_large);
            if (!genesis_.is_submitter(tx.submitter)) return make_error(errc::unauthorized_submitter);
            const hash32 th = tx_hash<Hasher>(tx);
            if (!known_valid(th) && !Signer::verify(tx.submitter, th.view(), tx.sig))
                return make_error(errc::invalid_signature);
            if (!block_txs.insert(th).second || seen_tx(th)) return make_error(errc::duplicate_tx);
            if (!block_votes.insert({tx.election_id, tx.voter_tag}).second || seen_vote(tx.election_id, tx.voter_tag))
                return make_error(errc::duplicate_vote);
            ths.push_back(th);
        }
        if (merkle_root<Hasher>(ths) != h.tx_root) return make_error(errc::bad_tx_root);
        if (out) *out = std::move(ths);
        return {};
    }

    genesis_config genesis_;
    Storage storage_;
    block_header head_;
    hash32 head_hash_;
    std::map<std::uint64_t, tally_map> tallies_;
    std::uint64_t total_txs_ = 0;
};

}  // namespace ballotchain
