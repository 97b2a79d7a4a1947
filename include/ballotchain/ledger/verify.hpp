#pragma once
/// @file Checking a stored chain: a full verification that trusts nothing but
/// the genesis (offline `ballotchain verify`, tests), an incremental one that
/// continues from a verified prefix (a running validator's poa_verifyChain),
/// the comparison of the storage's indexes with the blocks, and index lookups
/// confirmed against the block they point to. docs/data-format.md §9 and §15.

#include <ballotchain/chain/rules.hpp>
#include <ballotchain/storage/concepts.hpp>
#include <ballotchain/storage/errc.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace ballotchain::ledger {

/// Blocks 0..height were verified, and block `height` has hash `hash`.
struct verified_prefix {
    std::uint64_t height = 0;
    hash32 hash;
    bool operator==(const verified_prefix&) const = default;
};

/// Outcome of a verification (verify_chain, verify_incremental).
struct verify_report {
    bool ok = true;
    std::uint64_t blocks_checked = 0;  ///< blocks verified by this call
    std::uint64_t txs_checked = 0;     ///< their transactions
    std::optional<std::uint64_t> bad_height;  ///< first bad block (or the block a bad index row names)
    error_code reason;                        ///< why it is bad
    std::string detail;                       ///< what exactly: the differing field, the index row
    std::optional<verified_prefix> verified;  ///< the prefix known good after this call
    std::uint64_t head = 0;                   ///< the storage's head when checked
    std::map<std::uint64_t, tally_map> tallies;  ///< plain votes recomputed from the blocks (verify_chain only)
    election::election_registry elections;       ///< the election state recomputed from the blocks (verify_chain only)

    /// True when the whole chain up to `head` is verified.
    bool complete() const noexcept { return ok && verified && verified->height == head; }
};

/// How verify_chain runs.
struct verify_options {
    /// Threads that decode blocks and check votes' signatures ahead of the in-order checks,
    /// the caller's own thread included (1: the caller alone). The result does not depend on it.
    unsigned threads = 1;
    /// Called after each block is verified with (its height, the head): for a progress bar.
    std::function<void(std::uint64_t, std::uint64_t)> progress;
};

/// An index lookup checked against the stored block it points to.
struct confirmed_lookup {
    std::optional<tx_location> loc;  ///< the hit, when the block holds that tx there (or cannot be read)
    bool index_disagrees = false;    ///< the index had a hit that the block at that place refutes
};

/// `s.find_tx(th)`, kept only if the block at the location holds a tx with
/// hash `th` at that index. When the block cannot be read (I/O), the index's
/// answer is kept: for duplicate checks a hit is the safe side.
/// @par Complexity One block read, the tx located by skipping (no full decode), one hash.
template <suite Suite, storage Storage>
confirmed_lookup find_tx_confirmed(const Storage& s, const hash32& th) {
    auto loc = s.find_tx(th);
    if (!loc) return {};
    auto raw = s.load_raw(loc->height);
    if (!raw) return {loc, false};
    auto tx = decode_tx_at(*raw, loc->index);
    if (tx && tx_hash<Suite>(*tx) == th) return {loc, false};
    return {std::nullopt, true};
}

/// `s.find_vote(e, tag)`, kept only if the tx at that location has that election and voter tag.
template <storage Storage>
confirmed_lookup find_vote_confirmed(const Storage& s, std::uint64_t election, const hash32& voter_tag) {
    auto loc = s.find_vote(election, voter_tag);
    if (!loc) return {};
    auto raw = s.load_raw(loc->height);
    if (!raw) return {loc, false};
    auto tx = decode_tx_at(*raw, loc->index);
    if (tx && tx->election_id == election && tx->voter_tag == voter_tag) return {loc, false};
    return {std::nullopt, true};
}

namespace detail {

/// A tx index row as the blocks imply it.
struct expected_row {
    hash32 tx_hash;
    tx_location loc;
    std::uint64_t election = 0;
    hash32 voter_tag;
};

inline std::string describe_row(const tx_index_row& r) {
    return "tx_hash=" + (r.tx_hash ? to_hex(*r.tx_hash) : std::string("(not 32 bytes)")) +
           " height=" + std::to_string(r.height) + " idx=" + std::to_string(r.index) +
           " election=" + std::to_string(r.election) +
           " voter_tag=" + (r.voter_tag ? to_hex(*r.voter_tag) : std::string("(not 32 bytes)"));
}

inline std::string where(const tx_location& l) {
    return "block " + std::to_string(l.height) + " index " + std::to_string(l.index);
}

/// Walks the stored tx index (scan_tx_index, (height, index) order) and the
/// rows the blocks imply (block_rows(h) for h = 0..head, in order) side by
/// side, reporting every row that is missing, extra or different.
///
/// `block_rows(h)` returns block h's rows, or nullopt to stop (a bad block).
/// `on_problem(height or nullopt, description)` returns whether to go on.
/// Every block 0..head is passed to `block_rows` unless something stopped the walk.
/// @par Complexity One pass over the index and one over the blocks; memory: one block's rows.
template <storage Storage, class BlockRows, class OnProblem>
result<void> merge_tx_index(const Storage& s, std::uint64_t head, BlockRows&& block_rows, OnProblem&& on_problem) {
    std::vector<expected_row> rows;
    std::size_t i = 0;
    std::uint64_t next = 0;
    bool blocks_done = false, stopped = false;
    // The next expected row, loading blocks as needed; nullptr when none is left or the walk stopped.
    auto peek = [&]() -> const expected_row* {
        while (!stopped && i >= rows.size()) {
            if (blocks_done) return nullptr;
            auto r = block_rows(next);
            if (!r) {
                stopped = true;
                return nullptr;
            }
            rows = std::move(*r);
            i = 0;
            if (next == head) blocks_done = true;
            else ++next;
        }
        return stopped ? nullptr : &rows[i];
    };
    auto problem = [&](std::optional<std::uint64_t> h, std::string what) {
        if (!on_problem(h, std::move(what))) stopped = true;
    };
    auto in_chain = [&](std::uint64_t h) { return h <= head ? std::optional<std::uint64_t>(h) : std::nullopt; };
    auto missing = [&](const expected_row& e) {
        problem(e.loc.height, "index txs: no row for tx " + to_hex(e.tx_hash) + " (" + where(e.loc) + ")");
    };
    auto r = s.scan_tx_index([&](const tx_index_row& row) {
        auto before = [&](const expected_row& e) {
            return std::pair(e.loc.height, std::uint64_t{e.loc.index}) < std::pair(row.height, row.index);
        };
        const expected_row* e = peek();
        while (e && before(*e)) {
            missing(*e);
            ++i;
            e = peek();
        }
        if (stopped) return false;
        if (e && e->loc.height == row.height && e->loc.index == row.index) {
            if (row.tx_hash != e->tx_hash)
                problem(row.height, "index txs: the row at " + where(e->loc) + " names tx " +
                                        (row.tx_hash ? to_hex(*row.tx_hash) : std::string("(not 32 bytes)")) +
                                        ", the block has tx " + to_hex(e->tx_hash));
            else if (row.election != e->election || row.voter_tag != e->voter_tag)
                problem(row.height, "index txs: the row of tx " + to_hex(e->tx_hash) + " (" + where(e->loc) +
                                        ") says election " + std::to_string(row.election) + " voter_tag " +
                                        (row.voter_tag ? to_hex(*row.voter_tag) : std::string("(not 32 bytes)")) +
                                        ", the block says election " + std::to_string(e->election) +
                                        " voter_tag " + to_hex(e->voter_tag));
            ++i;
        } else {
            problem(in_chain(row.height), "index txs: extra row " + describe_row(row) + ": no such transaction there");
        }
        return !stopped;
    });
    if (!r) return r;
    for (const expected_row* e = peek(); e; e = peek()) {
        missing(*e);
        ++i;
    }
    return {};
}

/// Which transaction of `b` a rule refused: check_block leaves the hashes of those before it
/// in `ths`. Empty when the block as a whole was refused.
inline std::string which_tx(const block& b, const std::vector<hash32>& ths) {
    if (ths.size() >= b.txs.size()) return {};
    return "transaction " + std::to_string(ths.size()) + " of the block";
}

/// Decodes stored blocks and checks their plain votes' signatures ahead of the
/// in-order verification, on `threads - 1` worker threads plus the caller's
/// (which works on the queue while it waits). The caller reads the raw blocks
/// (the storage is used from its thread only) and takes the results in height
/// order; a vote marked in `signed_votes` needs no second signature check. A
/// ballot or an election record is never marked: its proofs need the election
/// state, which only the in-order pass has.
template <suite Suite>
class block_prefetch {
public:
    struct job {
        std::optional<error_code> load_error;         ///< the raw block could not be read
        bytes raw;
        std::optional<result<finalized_block>> fb;    ///< decoded (or why not)
        std::unordered_set<hash32> signed_votes;      ///< plain votes whose every copy in the block has a valid signature
        bool done = false;
    };

    explicit block_prefetch(unsigned threads) : check_sigs_(threads > 1) {
        for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
    }
    ~block_prefetch() {
        {
            std::lock_guard lk(mu_);
            stop_ = true;
        }
        work_cv_.notify_all();
        for (auto& t : workers_) t.join();
    }
    block_prefetch(const block_prefetch&) = delete;
    block_prefetch& operator=(const block_prefetch&) = delete;

    /// Block `h` decoded and pre-checked. `load(height)` reads a raw block; blocks
    /// h..h+window-1 (at most up to `head`) are read and queued first. @pre h rises by one per call.
    template <class Load>
    std::shared_ptr<job> get(std::uint64_t h, std::uint64_t head, Load&& load) {
        const std::uint64_t window = check_sigs_ ? 4 * (workers_.size() + 1) + 4 : 1;
        if (next_ < h) next_ = h;
        while (next_ <= head && next_ < h + window) {
            auto j = std::make_shared<job>();
            auto raw = load(next_);
            std::lock_guard lk(mu_);
            if (raw) {
                j->raw = std::move(*raw);
                queue_.push_back(j);
            } else {
                j->load_error = raw.error();
                j->done = true;
            }
            jobs_.emplace(next_++, std::move(j));
        }
        work_cv_.notify_all();
        std::unique_lock lk(mu_);
        auto it = jobs_.find(h);
        if (it == jobs_.end()) return nullptr;
        auto mine = it->second;
        jobs_.erase(it);
        while (!mine->done) {
            if (!queue_.empty())
                run_next(lk, helper_sigs_);  // help rather than wait
            else
                done_cv_.wait(lk);
        }
        return mine;
    }

private:
    void work() {
        signature_checker<Suite> sigs;  // this thread's: remembers the batches it verified
        std::unique_lock lk(mu_);
        for (;;) {
            work_cv_.wait(lk, [this] { return stop_ || !queue_.empty(); });
            if (stop_) return;
            run_next(lk, sigs);
        }
    }

    /// Takes the oldest queued job and runs it outside the lock. @pre `lk` holds mu_ and the queue is not empty.
    void run_next(std::unique_lock<std::mutex>& lk, signature_checker<Suite>& sigs) {
        auto j = queue_.front();
        queue_.pop_front();
        lk.unlock();
        run(*j, sigs);
        lk.lock();
        j->done = true;
        done_cv_.notify_all();
    }

    void run(job& j, signature_checker<Suite>& sigs) const {
        j.fb = decode_finalized_block(j.raw);
        j.raw = {};
        if (!check_sigs_ || !*j.fb) return;
        std::unordered_map<hash32, bool> ok;
        for (const auto& tx : (*j.fb)->blk.txs) {
            if (!tx.is_vote()) continue;
            const hash32 th = tx_hash<Suite>(tx);
            const bool good = sigs(tx, th);
            auto [it, fresh] = ok.emplace(th, good);
            if (!fresh) it->second = it->second && good;
        }
        for (const auto& [th, good] : ok)
            if (good) j.signed_votes.insert(th);
    }

    const bool check_sigs_;
    signature_checker<Suite> helper_sigs_;  ///< for the thread that calls get() (one at a time)
    std::mutex mu_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<std::shared_ptr<job>> queue_;
    std::map<std::uint64_t, std::shared_ptr<job>> jobs_;
    std::uint64_t next_ = 0;
    bool stop_ = false;
    std::vector<std::thread> workers_;
};

/// Rows of the block index above the head (e.g. at a negative stored height): no block is there.
template <storage Storage, class OnProblem>
result<void> extra_block_index_rows(const Storage& s, std::uint64_t head, OnProblem&& on_problem) {
    bool go = true;
    return s.scan_block_index([&](const block_index_row& row) {
        if (row.height > head)
            go = on_problem(std::nullopt, "index blocks.hash: extra row height=" + std::to_string(row.height) +
                                              " (as unsigned; the head is " + std::to_string(head) + ")");
        return go;
    });
}

}  // namespace detail

/// Re-checks everything stored in `s` against genesis `g`, trusting nothing
/// else: every block from 0 in order (decoding, §8 block 0 with its
/// certificate, §9 validity with fresh in-memory duplicate sets, §6 the
/// certificate), then that every index agrees with the blocks (§15): each
/// block's hash row and each tx's two lookups, every stored tx row (none
/// missing, extra or different), no block-index row beyond the head.
/// Stops at the first problem, in height order; also recomputes the tallies.
///
/// Reasons: a storage_ns::errc (not_found: a missing block; io_error), a
/// core::errc decoding reason, a chain::errc rule, or storage_ns::errc::bad_index.
/// `opt.threads` > 1 decodes blocks and checks votes' signatures on that many threads ahead
/// of the in-order checks; the report is the same.
/// @par Complexity O(chain): every signature once; memory O(transactions) for the duplicate sets.
template <suite Suite, storage Storage>
verify_report verify_chain(const genesis_config& g, const Storage& s, const verify_options& opt = {}) {
    verify_report rep;
    rep.elections = election::election_registry(g);
    const chain_rules<Suite> rules(g);
    signature_checker<Suite> sigs;  // the signatures the workers did not check: remembers batches
    auto fail = [&](std::optional<std::uint64_t> h, error_code ec, std::string detail) {
        if (!rep.ok) return;
        rep.ok = false;
        rep.bad_height = h;
        rep.reason = ec;
        rep.detail = std::move(detail);
    };
    const auto head = s.head();
    if (!head) {
        fail(0, make_error(storage_ns::errc::not_found), "the storage holds no blocks (block 0 is missing)");
        return rep;
    }
    rep.head = *head;
    std::unordered_set<hash32> seen_tx;
    std::unordered_set<ballotchain::detail::vote_key, ballotchain::detail::vote_key_hash> seen_vote;
    const finalized_block genesis_block = make_genesis_block<Suite>(g);
    block_header parent;
    hash32 parent_hash;

    detail::block_prefetch<Suite> prefetch(std::max(1u, opt.threads));
    auto block_rows = [&](std::uint64_t h) -> std::optional<std::vector<detail::expected_row>> {
        const std::string at = "block " + std::to_string(h);
        const auto job = prefetch.get(h, *head, [&](std::uint64_t k) { return s.load_raw(k); });
        if (job->load_error) {
            const auto& e = *job->load_error;
            fail(h, e,
                 e == storage_ns::errc::not_found
                     ? at + " is missing (the head is " + std::to_string(*head) + ")"
                     : at + " cannot be read");
            return std::nullopt;
        }
        auto& fb = *job->fb;
        if (!fb) {
            fail(h, fb.error(), "the stored bytes of " + at + " do not decode");
            return std::nullopt;
        }
        if (fb->blk.header.height != h) {
            fail(h, make_error(chain::errc::wrong_height),
                 "the block stored at height " + std::to_string(h) + " says height " + std::to_string(fb->blk.header.height));
            return std::nullopt;
        }
        std::vector<hash32> ths;
        if (h == 0) {
            std::string why;
            if (auto ec = chain_rules<Suite>::check_genesis_block(*fb, genesis_block, &why)) {
                fail(0, ec, why);
                return std::nullopt;
            }
        } else {
            std::optional<election::election_registry> after;
            auto ec = rules.check_block(
                fb->blk, parent, parent_hash, [&](const hash32& th) { return seen_tx.contains(th); },
                [&](std::uint64_t e, const hash32& t) { return seen_vote.contains({e, t}); }, rep.elections,
                [&](const hash32& th, const vote_tx&) { return job->signed_votes.contains(th); }, &ths, &after, &sigs);
            if (ec) {
                fail(h, ec, detail::which_tx(fb->blk, ths));
                return std::nullopt;
            }
            const hash32 bh = block_hash<Suite>(fb->blk.header);
            if (auto cec = rules.check_certificate(fb->blk.header, bh, fb->cert, rep.elections.validators())) {
                fail(h, cec, "certificate of " + at);
                return std::nullopt;
            }
            if (after) rep.elections = std::move(*after);
        }
        const hash32 bh = block_hash<Suite>(fb->blk.header);
        const auto bad_index = make_error(storage_ns::errc::bad_index);
        if (auto ih = s.hash_at(h); ih != bh) {
            fail(h, bad_index, "index blocks.hash: height " + std::to_string(h) + " holds " +
                                   (ih ? to_hex(*ih) : std::string("no 32-byte hash")) + ", the block's hash is " + to_hex(bh));
            return std::nullopt;
        }
        if (auto ih = s.height_of(bh); ih != h) {
            fail(h, bad_index, "index blocks.hash: lookup of " + to_hex(bh) + " gives " +
                                   (ih ? "height " + std::to_string(*ih) : std::string("nothing")) + ", expected " + at);
            return std::nullopt;
        }
        std::vector<detail::expected_row> rows;
        rows.reserve(ths.size());
        for (std::uint32_t i = 0; i < ths.size(); ++i) {
            const auto& tx = fb->blk.txs[i];
            const tx_location loc{h, i};
            auto got = [](const std::optional<tx_location>& l) {
                return l ? detail::where(*l) : std::string("nothing");
            };
            if (auto l = s.find_tx(ths[i]); l != loc) {
                fail(h, bad_index, "index txs (tx hash): lookup of tx " + to_hex(ths[i]) + " gives " + got(l) +
                                       ", the tx is at " + detail::where(loc));
                return std::nullopt;
            }
            if (auto l = s.find_vote(tx.election_id, tx.voter_tag); l != loc) {
                fail(h, bad_index, "index txs (election, voter_tag): lookup of election " + std::to_string(tx.election_id) +
                                       " voter_tag " + to_hex(tx.voter_tag) + " gives " + got(l) + ", the vote is at " +
                                       detail::where(loc));
                return std::nullopt;
            }
            seen_tx.insert(ths[i]);
            seen_vote.insert({tx.election_id, tx.voter_tag});
            if (tx.is_vote()) ++rep.tallies[tx.election_id][tx.candidate_id];
            rows.push_back({ths[i], loc, tx.election_id, tx.voter_tag});
        }
        rep.txs_checked += ths.size();
        ++rep.blocks_checked;
        parent = fb->blk.header;
        parent_hash = bh;
        rep.verified = verified_prefix{h, bh};
        if (opt.progress) opt.progress(h, *head);
        return rows;
    };
    auto on_problem = [&](std::optional<std::uint64_t> h, std::string what) {
        fail(h, make_error(storage_ns::errc::bad_index), std::move(what));
        return false;
    };
    auto r = detail::merge_tx_index(s, *head, block_rows, on_problem);
    if (r && rep.ok) r = detail::extra_block_index_rows(s, *head, on_problem);
    if (!r) fail(std::nullopt, r.error(), "cannot scan the indexes");
    if (!rep.ok) rep.tallies.clear();
    return rep;
}

/// Verifies the blocks after `from` (from block 0 when `from` is empty) up
/// to the head, or fewer: it stops after the block that brings the
/// signatures checked to `max_signatures` (the result then has
/// `complete() == false`; call again with `verified`). Each block gets the
/// full §9 and §6 checks and its own index rows are checked; "final in an
/// earlier block" is looked up in the storage's indexes, confirmed against
/// the block they point to. It relies on those indexes covering the verified
/// prefix — which a blockchain checks against the blocks when it opens — and
/// does not re-read the prefix: a change there after it was verified is found
/// by the next verify_chain (e.g. `ballotchain verify`), not here.
/// @par Complexity O(blocks checked), memory O(one block).
template <suite Suite, storage Storage>
verify_report verify_incremental(const genesis_config& g, const Storage& s, std::optional<verified_prefix> from,
                                 election::election_registry& elections,
                                 std::uint64_t max_signatures = std::numeric_limits<std::uint64_t>::max()) {
    verify_report rep;
    rep.verified = from;
    const chain_rules<Suite> rules(g);
    signature_checker<Suite> sigs;
    auto fail = [&](std::uint64_t h, error_code ec, std::string detail) {
        rep.ok = false;
        rep.bad_height = h;
        rep.reason = ec;
        rep.detail = std::move(detail);
        return rep;
    };
    const auto head = s.head();
    if (!head) return fail(0, make_error(storage_ns::errc::not_found), "the storage holds no blocks");
    rep.head = *head;
    const auto bad_index = make_error(storage_ns::errc::bad_index);
    auto load = [&](std::uint64_t h, finalized_block& out) -> bool {
        auto raw = s.load_raw(h);
        if (!raw) {
            fail(h, raw.error(), "block " + std::to_string(h) + (raw.error() == storage_ns::errc::not_found ? " is missing" : " cannot be read"));
            return false;
        }
        auto fb = decode_finalized_block(*raw);
        if (!fb) {
            fail(h, fb.error(), "the stored bytes of block " + std::to_string(h) + " do not decode");
            return false;
        }
        if (fb->blk.header.height != h) {
            fail(h, make_error(chain::errc::wrong_height), "the block stored at height " + std::to_string(h) + " says height " +
                                                               std::to_string(fb->blk.header.height));
            return false;
        }
        out = std::move(*fb);
        return true;
    };
    auto index_ok = [&](std::uint64_t h, const hash32& bh) -> bool {
        if (s.hash_at(h) != bh || s.height_of(bh) != h) {
            fail(h, bad_index, "index blocks.hash disagrees with block " + std::to_string(h) + " (hash " + to_hex(bh) + ")");
            return false;
        }
        return true;
    };
    finalized_block fb;
    block_header parent;
    hash32 parent_hash;
    if (!from) {
        elections = election::election_registry(g);
        if (!load(0, fb)) return rep;
        std::string why;
        if (auto ec = chain_rules<Suite>::check_genesis_block(fb, make_genesis_block<Suite>(g), &why))
            return fail(0, ec, why);
        parent_hash = block_hash<Suite>(fb.blk.header);
        if (!index_ok(0, parent_hash)) return rep;
        parent = fb.blk.header;
        ++rep.blocks_checked;
        rep.verified = verified_prefix{0, parent_hash};
    } else {
        if (from->height > *head) return fail(from->height, make_error(storage_ns::errc::not_found), "the verified block is gone");
        if (!load(from->height, fb)) return rep;
        parent_hash = block_hash<Suite>(fb.blk.header);
        if (parent_hash != from->hash)
            return fail(from->height, make_error(chain::errc::unknown_block),
                        "block " + std::to_string(from->height) + " is no longer the block verified earlier (" +
                            to_hex(from->hash) + ")");
        parent = fb.blk.header;
    }
    std::uint64_t signatures = 0;
    for (std::uint64_t h = rep.verified->height + 1; h <= *head && signatures < max_signatures; ++h) {
        if (!load(h, fb)) return rep;
        std::vector<hash32> ths;
        std::optional<election::election_registry> after;
        auto ec = rules.check_block(
            fb.blk, parent, parent_hash,
            // An index entry at this height is this block's own row (checked below); only one
            // pointing to an earlier block can be a duplicate, and it must be confirmed there.
            [&](const hash32& th) {
                auto l = s.find_tx(th);
                return l && l->height < h && find_tx_confirmed<Suite>(s, th).loc.has_value();
            },
            [&](std::uint64_t e, const hash32& t) {
                auto l = s.find_vote(e, t);
                return l && l->height < h && find_vote_confirmed(s, e, t).loc.has_value();
            },
            elections, verify_all_signatures{}, &ths, &after, &sigs);
        if (ec) return fail(h, ec, detail::which_tx(fb.blk, ths));
        const hash32 bh = block_hash<Suite>(fb.blk.header);
        if (auto cec = rules.check_certificate(fb.blk.header, bh, fb.cert, elections.validators()))
            return fail(h, cec, "certificate of block " + std::to_string(h));
        if (after) elections = std::move(*after);
        if (!index_ok(h, bh)) return rep;
        for (std::uint32_t i = 0; i < ths.size(); ++i) {
            const auto& tx = fb.blk.txs[i];
            const tx_location loc{h, i};
            if (s.find_tx(ths[i]) != loc || s.find_vote(tx.election_id, tx.voter_tag) != loc)
                return fail(h, bad_index, "index txs: the rows of tx " + to_hex(ths[i]) + " do not point to " + detail::where(loc));
        }
        signatures += 1 + ths.size() + fb.cert.seals.size();
        rep.txs_checked += ths.size();
        ++rep.blocks_checked;
        parent = fb.blk.header;
        parent_hash = bh;
        rep.verified = verified_prefix{h, bh};
    }
    return rep;
}

/// What comparing the indexes with the blocks found (blockchain::open).
struct index_check_report {
    std::uint64_t problems = 0;          ///< rows missing, extra or different
    std::vector<std::string> examples;   ///< the first few, described
    bool repaired = false;               ///< the indexes were rebuilt from the blocks
};

}  // namespace ballotchain::ledger
