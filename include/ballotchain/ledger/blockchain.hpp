#pragma once
/// @file The validated chain: genesis, append with full validation, lookups
/// confirmed against the blocks, per-election tallies, and re-verification of
/// everything stored (full or incremental, verify.hpp).

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/errc.hpp>
#include <ballotchain/chain/merkle.hpp>
#include <ballotchain/chain/rules.hpp>
#include <ballotchain/ledger/verify.hpp>
#include <ballotchain/crypto/suite.hpp>
#include <ballotchain/storage/concepts.hpp>
#include <ballotchain/storage/errc.hpp>

#include <map>
#include <unordered_set>

namespace ballotchain::ledger {

/// A finalized block that passed every check (block and certificate) against
/// the head it extends, with the hashes computed on the way. Only
/// blockchain::check() makes one, so blockchain::append(checked_block) needs
/// no second validation (no signature is verified twice).
class checked_block {
public:
    const finalized_block& block() const noexcept { return fb_; }
    const hash32& hash() const noexcept { return hash_; }
    const std::vector<hash32>& tx_hashes() const noexcept { return tx_hashes_; }
    /// The election state after this block, when the block changes it.
    const std::optional<election::election_registry>& elections_after() const noexcept { return elections_; }
    /// Moves the block out (the checked_block is spent).
    finalized_block take() && { return std::move(fb_); }

private:
    template <suite, storage>
    friend class blockchain;
    checked_block() = default;

    finalized_block fb_;
    hash32 hash_;
    std::vector<hash32> tx_hashes_;
    std::optional<election::election_registry> elections_;
};

/// A chain of finalized blocks kept in `Storage`, validated on every append.
///
/// The blocks are the data; the storage's indexes only speed up lookups and
/// are never trusted over the blocks: a lookup hit is confirmed against the
/// block it points to, and open() compares every index row with the blocks
/// and rebuilds the indexes when they disagree (index_check() says what it found).
///
/// @tparam Suite   hashes txs, headers and the Merkle tree; checks tx, proposer and seal signatures (`suite`)
/// @tparam Storage where blocks live (`storage`)
/// @par Thread safety Not thread-safe; the owner serialises access.
template <suite Suite, storage Storage>
class blockchain {
public:
    using suite_type = Suite;
    using storage_type = Storage;

    /// Opens a chain on `s`: writes block 0 when `s` is empty; otherwise checks
    /// that the stored block 0 (certificate included) is the one `g` derives,
    /// reads every block once to rebuild the tallies, compares the storage's
    /// indexes with the blocks on the way, and rebuilds them from the blocks
    /// when they disagree (failing if they cannot be rebuilt, e.g. read-only).
    /// A block that does not load fails the open.
    /// @par Complexity O(chain) reads, decodes and hashes (no signature checks), once per open.
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
    /// The stored encoding of block h (block ‖ certificate, data-format.md §7).
    result<bytes> raw_block_at(std::uint64_t h) const { return storage_.load_raw(h); }
    std::optional<hash32> hash_at(std::uint64_t h) const { return storage_.hash_at(h); }
    std::optional<std::uint64_t> height_of(const hash32& bh) const { return storage_.height_of(bh); }

    /// Where tx `th` is final, if the block the index points to holds it there.
    std::optional<tx_location> find_tx(const hash32& th) const {
        return counted(find_tx_confirmed<Suite>(storage_, th));
    }
    /// Where (election, voter tag) voted, if the block the index points to holds that vote there.
    std::optional<tx_location> find_vote(std::uint64_t election, const hash32& tag) const {
        return counted(find_vote_confirmed(storage_, election, tag));
    }

    /// What open() found comparing the indexes with the blocks.
    const index_check_report& index_check() const noexcept { return index_check_; }
    /// Index hits refuted by their block since open (each is a damaged or forged row).
    std::uint64_t index_disagreements() const noexcept { return index_disagreements_; }

    /// The last `limit` transactions of `election`, newest first, each with where it is, read
    /// from its block: an index row that its block does not confirm (no such tx there, or one
    /// of another election) is left out and counted as a disagreement.
    /// @par Complexity O(limit) index rows and at most `limit` block reads, whatever the chain's length.
    result<std::vector<std::pair<tx_location, vote_tx>>> election_txs(std::uint64_t election, std::size_t limit) const {
        auto locs = storage_.election_txs(election, limit);
        if (!locs) return locs.error();
        std::vector<std::pair<tx_location, vote_tx>> out;
        out.reserve(locs->size());
        std::optional<finalized_block> blk;  // the last block read: rows come grouped by height
        for (const auto& l : *locs) {
            if (!blk || blk->blk.header.height != l.height) {
                auto fb = storage_.load(l.height);
                if (!fb) {
                    if (fb.error() == storage_ns::errc::io_error) return fb.error();
                    ++index_disagreements_;  // a row pointing where no block is
                    blk.reset();
                    continue;
                }
                blk = std::move(*fb);
            }
            if (l.index >= blk->blk.txs.size() || blk->blk.txs[l.index].election_id != election) {
                ++index_disagreements_;
                continue;
            }
            out.emplace_back(l, blk->blk.txs[l.index]);
        }
        return out;
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
    /// What the chain says about elections (definitions, key ceremonies, encrypted tallies).
    const election::election_registry& election_state() const noexcept { return elections_; }
    /// The validator registry and the sets by height, as of the head (protocol.md §12): exact
    /// for every height up to the head + 1, and beyond it as far as changes are known.
    const validator_schedule& validators() const noexcept { return elections_.validators(); }

    // ---- validation -------------------------------------------------------------

    chain_rules<Suite> rules() const noexcept { return chain_rules<Suite>(genesis_); }

    /// Checks that need no chain state: chain id, vote size, authorized
    /// submitter, signature (through `sigs` when given: it remembers the batches it verified).
    /// Returns the tx hash.
    result<hash32> check_tx_stateless(const vote_tx& tx, signature_checker<Suite>* sigs = nullptr) const {
        if (auto ec = rules().check_tx_fields(tx, validators(), head_.height + 1)) return ec;
        const hash32 th = tx_hash<Suite>(tx);
        if (!signature_ok(tx, th, sigs)) return make_error(chain::errc::invalid_signature);
        if (auto ec = rules().check_record_signatures(tx, validators())) return ec;
        return th;
    }

    /// check_tx_stateless() plus: not already final, voter has not voted in
    /// that election (both looked up and confirmed against the blocks), and the
    /// election rules (election.hpp) against the head's election state at time
    /// max(`now_ms`, head time): proofs, ceremony phase, voting window. The
    /// signature and the proofs are checked last, so replays of final txs cost
    /// a lookup, not a verification. Returns the tx hash.
    result<hash32> check_tx(const vote_tx& tx, std::uint64_t now_ms = 0, signature_checker<Suite>* sigs = nullptr) const {
        if (auto ec = rules().check_tx_fields(tx, validators(), head_.height + 1)) return ec;
        const hash32 th = tx_hash<Suite>(tx);
        if (find_tx(th)) return make_error(chain::errc::duplicate_tx);
        if (find_vote(tx.election_id, tx.voter_tag)) return make_error(chain::errc::duplicate_vote);
        if (!signature_ok(tx, th, sigs)) return make_error(chain::errc::invalid_signature);
        if (auto ec = rules().check_record_signatures(tx, validators())) return ec;
        if (auto ec = elections_.check(genesis_, tx, head_.height + 1, std::max(now_ms, head_.timestamp_ms))) return ec;
        return th;
    }

    /// Full check of `b` as the next block (everything but a certificate).
    /// `known_valid(tx_hash, tx)` returning true skips that tx's signature check
    /// (the caller already checked that very tx, authorization included, e.g. on admission
    /// to its pool); the others go through `sigs` when given.
    /// On success, `tx_hashes` (if given) receives the tx hashes in order.
    /// `elections_after` (if given) receives the election state after `b` when `b` changes it.
    template <class KnownValid = verify_all_signatures>
    error_code validate_block(const block& b, KnownValid known_valid = {}, std::vector<hash32>* tx_hashes = nullptr,
                              std::optional<election::election_registry>* elections_after = nullptr,
                              signature_checker<Suite>* sigs = nullptr) const {
        return rules().check_block(
            b, head_, head_hash_, [this](const hash32& th) { return find_tx(th).has_value(); },
            [this](std::uint64_t e, const hash32& t) { return find_vote(e, t).has_value(); }, elections_,
            known_valid, tx_hashes, elections_after, sigs);
    }

    /// Checks that `c` proves finality of the block with header `h` and hash `bh`:
    /// same height and hash, round ≥ the header's, at least q seals from distinct
    /// genesis validators in ascending order, each a valid signature.
    error_code validate_certificate(const block_header& h, const hash32& bh, const commit_certificate& c) const {
        return rules().check_certificate(h, bh, c, validators());
    }

    /// Validates `fb` as the next block (block and certificate) without
    /// storing it: the result can be appended without checking it again.
    template <class KnownValid = verify_all_signatures>
    result<checked_block> check(finalized_block fb, KnownValid known_valid = {},
                                signature_checker<Suite>* sigs = nullptr) const {
        checked_block c;
        if (auto ec = validate_block(fb.blk, known_valid, &c.tx_hashes_, &c.elections_, sigs)) return ec;
        c.hash_ = block_hash<Suite>(fb.blk.header);
        if (auto ec = validate_certificate(fb.blk.header, c.hash_, fb.cert)) return ec;
        c.fb_ = std::move(fb);
        return c;
    }

    /// Durably appends a block check() accepted. Fails (storing nothing) if the
    /// chain moved since: the block must still extend the head it was checked on.
    result<void> append(const checked_block& c) {
        const auto& h = c.block().blk.header;
        if (h.height != head_.height + 1 || h.parent != head_hash_) return make_error(storage_ns::errc::out_of_order);
        auto r = storage_.append(c.block(), c.hash(), c.tx_hashes());
        if (!r) return r;
        apply(c.block().blk, c.hash());
        if (c.elections_after()) elections_ = *c.elections_after();
        return {};
    }

    /// Validates `fb` (block and certificate) and durably appends it: check() then append().
    template <class KnownValid = verify_all_signatures>
    result<void> append(const finalized_block& fb, KnownValid known_valid = {}) {
        auto c = check(fb, known_valid);
        if (!c) return c.error();
        return append(*c);
    }

    /// Builds and signs the next block (proposer side). @pre txs passed check_tx
    /// and `txs.size() <= genesis().max_block_txs`. A tx the election rules refuse
    /// at the block's time (a ballot after the end, a dealing after the deadline)
    /// is left out; `left_out` (if given) receives its hash.
    block build_block(std::uint32_t round, std::uint64_t timestamp_ms, std::vector<vote_tx> txs,
                      const typename Suite::key_pair& kp, std::vector<hash32>* left_out = nullptr) const {
        block b;
        auto& h = b.header;
        h.chain_id = genesis_.chain_id;
        h.height = head_.height + 1;
        h.round = round;
        h.parent = head_hash_;
        h.timestamp_ms = std::max(timestamp_ms, head_.timestamp_ms);
        h.proposer = validators().at(h.height).proposer(h.height, round);
        std::vector<hash32> ths;
        ths.reserve(txs.size());
        std::optional<election::election_registry> staged;
        std::erase_if(txs, [&](const vote_tx& tx) {
            const auto& state = staged ? *staged : elections_;
            if (state.check(genesis_, tx, h.height, h.timestamp_ms, true)) {
                if (left_out) left_out->push_back(tx_hash<Suite>(tx));
                return true;
            }
            if (state.writes(tx)) {
                if (!staged) staged = elections_;
                staged->apply(genesis_, tx, h.height, h.timestamp_ms);
            }
            return false;
        });
        for (const auto& tx : txs) ths.push_back(tx_hash<Suite>(tx));
        h.tx_root = merkle_root<Suite>(ths);
        h.tx_count = static_cast<std::uint32_t>(txs.size());
        b.txs = std::move(txs);
        b.proposer_sig = Suite::sign(kp, block_hash<Suite>(h).view());
        return b;
    }

    /// Re-checks everything stored, trusting only the genesis (verify_chain):
    /// every block, signature and certificate with fresh state, and every
    /// index row against the blocks. Stops at the first problem.
    verify_report verify() const { return verify_chain<Suite>(genesis_, storage_); }

    /// Verifies the blocks after `from` (everything when empty), at most
    /// about `max_signatures` signature checks' worth (verify_incremental).
    /// `elections` is the election state after `from` (empty when `from` is); it moves on with
    /// the blocks verified.
    verify_report verify_from(std::optional<verified_prefix> from, election::election_registry& elections,
                              std::uint64_t max_signatures = std::numeric_limits<std::uint64_t>::max()) const {
        return verify_incremental<Suite>(genesis_, storage_, from, elections, max_signatures);
    }

private:
    static bool signature_ok(const vote_tx& tx, const hash32& th, signature_checker<Suite>* sigs) {
        if (sigs) return (*sigs)(tx, th);
        signature_checker<Suite> once;
        return once(tx, th);
    }

    blockchain(genesis_config g, Storage s) : genesis_(std::move(g)), storage_(std::move(s)), elections_(genesis_) {}

    std::optional<tx_location> counted(const confirmed_lookup& l) const {
        if (l.index_disagrees) ++index_disagreements_;
        return l.loc;
    }

    static block_index_entry index_entry(const finalized_block& fb) {
        block_index_entry e;
        e.block_hash = block_hash<Suite>(fb.blk.header);
        e.tx_hashes.reserve(fb.blk.txs.size());
        for (const auto& tx : fb.blk.txs) e.tx_hashes.push_back(tx_hash<Suite>(tx));
        return e;
    }

    error_code init() {
        const finalized_block g = make_genesis_block<Suite>(genesis_);
        const hash32 gh = g.cert.block_hash;
        if (!storage_.head()) {
            if (auto r = storage_.append(g, gh, {}); !r) return r.error();
        } else {
            auto b0 = storage_.load(0);
            if (!b0) return b0.error();
            if (auto ec = chain_rules<Suite>::check_genesis_block(*b0, g)) return ec;
        }
        head_ = g.blk.header;
        head_hash_ = gh;
        // One pass over the blocks: tallies, and every index row compared with them.
        const std::uint64_t top = *storage_.head();
        error_code load_error;
        auto block_rows = [&](std::uint64_t h) -> std::optional<std::vector<detail::expected_row>> {
            auto fb = storage_.load(h);
            if (!fb) {
                load_error = fb.error();
                return std::nullopt;
            }
            const auto e = index_entry(*fb);
            if (h > 0) {
                apply(fb->blk, e.block_hash);
                replay_elections(fb->blk);
            }
            if (storage_.hash_at(h) != e.block_hash || storage_.height_of(e.block_hash) != h)
                note_index_problem("index blocks.hash disagrees with block " + std::to_string(h));
            std::vector<detail::expected_row> rows;
            rows.reserve(e.tx_hashes.size());
            for (std::uint32_t i = 0; i < e.tx_hashes.size(); ++i)
                rows.push_back({e.tx_hashes[i], {h, i}, fb->blk.txs[i].election_id, fb->blk.txs[i].voter_tag});
            return rows;
        };
        auto on_problem = [&](std::optional<std::uint64_t>, std::string what) {
            note_index_problem(std::move(what));
            return true;
        };
        if (auto r = detail::merge_tx_index(storage_, top, block_rows, on_problem); !r) return r.error();
        if (load_error) return load_error;
        if (auto r = detail::extra_block_index_rows(storage_, top, on_problem); !r) return r.error();
        if (index_check_.problems > 0) {
            if (auto r = storage_.rebuild_indexes(&blockchain::index_entry); !r) return r.error();
            index_check_.repaired = true;
        }
        return {};
    }

    /// Moves the election state on by a stored block (validated when it was appended).
    void replay_elections(const block& b) {
        for (const auto& tx : b.txs)
            if (elections_.writes(tx)) elections_.apply(genesis_, tx, b.header.height, b.header.timestamp_ms);
        elections_.end_block(b.header.timestamp_ms);
    }

    void note_index_problem(std::string what) {
        if (index_check_.examples.size() < max_index_examples) index_check_.examples.push_back(std::move(what));
        ++index_check_.problems;
    }

    void apply(const block& b, const hash32& bh) {
        for (const auto& tx : b.txs)
            if (tx.is_vote()) ++tallies_[tx.election_id][tx.candidate_id];
        total_txs_ += b.txs.size();
        head_ = b.header;
        head_hash_ = bh;
    }

    static constexpr std::size_t max_index_examples = 5;

    genesis_config genesis_;
    Storage storage_;
    block_header head_;
    hash32 head_hash_;
    std::map<std::uint64_t, tally_map> tallies_;
    election::election_registry elections_;
    std::uint64_t total_txs_ = 0;
    index_check_report index_check_;
    mutable std::uint64_t index_disagreements_ = 0;
};

}  // namespace ballotchain::ledger
