#pragma once
/// @file How the backend makes its transactions: a voter's vote (plain or a
/// secret ballot) and an encrypted election's definition, signed with the
/// backend's submitter key and checked against the chain's own rules from the
/// same genesis (docs/backend.md, "How a vote is kept").

#include "store.hpp"

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/rules.hpp>
#include <ballotchain/chain/types.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/hmac.hpp>
#include <ballotchain/crypto/sha256.hpp>
#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace ballotchain::backend {

/// What a voter asks for in POST /api/votes/submit, read and bounded.
struct vote_request {
    std::int64_t election_id = 0;
    std::int64_t candidate_id = 0;  ///< 0 when absent (a secret ballot made by the client)
    bytes encrypted_vote;  ///< decoded; at most the genesis's max_encrypted_vote_bytes
};

/// Makes the backend's vote transactions and checks them against the chain's
/// rules.
///
/// A vote's transaction carries the genesis's chain id, the election, the
/// candidate, the encrypted vote, the voter's tag and the time, and is signed
/// with the backend's submitter key. The voter tag is HMAC-SHA256 under the
/// backend's secret of (election, user): the chain refuses a second vote of
/// one voter in an election without learning who the voter is.
///
/// @par Thread safety
/// Every member may be called from any thread; use_submitter_sets() only before the
/// maker is shared.
class vote_maker {
public:
    /// The validators' rules, from the same genesis.
    using rules_chain = ledger::blockchain<ed25519_sha256, memory_storage>;

    /// A vote ready to be stored: its signed transaction and its row
    /// (status 'pending', as store::add_votes stores it; no id yet).
    struct made_vote {
        vote_tx tx;
        vote_row row;
    };

    /// @param rules     opened from the chain's genesis
    /// @param submitter the backend's signing key (an authorized submitter of that genesis, or
    ///                  every vote fails check())
    /// @param tag_key   the voter-tag secret (DATA_DIR/voter-tag.secret)
    vote_maker(rules_chain rules, ed25519::key_pair submitter, bytes tag_key)
        : rules_(std::move(rules)), submitter_(std::move(submitter)), tag_key_(std::move(tag_key)) {}

    const genesis_config& genesis() const noexcept { return rules_.genesis(); }

    /// Where check() finds the latest submitter set once validator-set changes may have
    /// changed it (protocol.md §12): the verifying client's schedule (the genesis's, then
    /// every change it learned, each checked against the set before it), and a way to learn
    /// the changes it lacks (blocking), tried when a vote's submitter is unauthorized, at most
    /// once per `refresh_every`. Unset: the genesis's submitters.
    struct submitter_sets {
        std::function<validator_schedule()> current;
        std::function<void()> refresh;
        std::chrono::milliseconds refresh_every{5'000};
    };
    /// @pre called before the maker is shared between threads
    void use_submitter_sets(submitter_sets s) { sets_ = std::move(s); }

    /// The voter tag of `user` in `election`: HMAC-SHA256 under the secret of
    /// "ballotchain/backend-voter" || u64 election || u64 user (big-endian).
    hash32 voter_tag(std::int64_t election, std::int64_t user) const {
        bytes m;
        const std::string_view dom = "ballotchain/backend-voter";
        m.insert(m.end(), dom.begin(), dom.end());
        wire::writer w(m);
        w.u64(static_cast<std::uint64_t>(election));
        w.u64(static_cast<std::uint64_t>(user));
        return hmac_sha256::mac(tag_key_, m);
    }

    /// The transaction of `user`'s vote `r` at wall time `now_ms`, not yet signed
    /// (sign_rows signs it with the others stored at the same time), and its row: tx hash
    /// (the signature is not part of it), raw transaction, ballot hash (SHA-256 of the
    /// encrypted vote in hex without 0x), created at `now_ms`. Checks nothing.
    made_vote make(std::int64_t user, vote_request r, std::uint64_t now_ms) const {
        made_vote out;
        vote_tx& tx = out.tx;
        tx.chain_id = genesis().chain_id;
        tx.election_id = static_cast<std::uint64_t>(r.election_id);
        tx.candidate_id = static_cast<std::uint64_t>(r.candidate_id);
        tx.encrypted_vote = std::move(r.encrypted_vote);
        tx.voter_tag = voter_tag(r.election_id, user);
        tx.timestamp_ms = now_ms;
        vote_row& v = out.row;
        v.user_id = user;
        v.election_id = r.election_id;
        v.candidate_id = r.candidate_id;
        tx.submitter = submitter_.public_key();
        v.tx_hash = tx_hash<ed25519_sha256>(tx);
        v.ballot_hash = to_hex(sha256::hash(tx.encrypted_vote)).substr(2);
        v.raw_tx = encode(tx);
        v.created_ms = now_ms;
        v.status = vote_status::pending;
        return out;
    }

    /// A secret ballot: the transaction of `user`'s encoded ballot `body` (checked by the
    /// caller, secret_ballots.hpp) in `election` at `now_ms`, and its row, which keeps no
    /// candidate. Checks nothing.
    made_vote make_ballot(std::int64_t user, std::int64_t election, bytes body, std::uint64_t now_ms) const {
        vote_request r;
        r.election_id = election;
        r.encrypted_vote = std::move(body);
        made_vote out = make(user, std::move(r), now_ms);
        out.tx.kind = tx_kind::ballot;
        out.row.tx_hash = tx_hash<ed25519_sha256>(out.tx);
        out.row.raw_tx = encode(out.tx);
        return out;
    }

    /// Signs `tx` with the submitter key; its hash.
    hash32 sign(vote_tx& tx) const { return sign_tx<ed25519_sha256>(tx, submitter_); }

    /// Signs the transactions of `rows` (made by make or make_ballot) as one batch
    /// (data-format.md §2): one signature for all, and each raw transaction gets its audit
    /// path. Their tx hashes do not change. Throws std::runtime_error on a row that does not decode.
    void sign_rows(std::span<vote_row* const> rows) const {
        std::vector<vote_tx> txs;
        txs.reserve(rows.size());
        for (const auto* r : rows) {
            auto tx = decode_tx(r->raw_tx);
            if (!tx) throw std::runtime_error("a vote to sign does not decode: " + tx.error().message());
            txs.push_back(std::move(*tx));
        }
        sign_batch<ed25519_sha256>(txs, submitter_);
        for (std::size_t i = 0; i < rows.size(); ++i) rows[i]->raw_tx = encode(txs[i]);
    }

    /// Every rule the chain applies to a transaction on its own but its signature (chain id,
    /// vote size, authorized submitter: the signature is made with the others at storing
    /// time, by the key checked here); the tx hash when it passes. The submitter must be one
    /// of the latest set of submitters these rules know (protocol.md §12).
    result<hash32> check(const vote_tx& tx) const {
        if (!sets_.current) return check_with(tx, rules_.validators());
        auto r = check_with(tx, sets_.current());
        if (r || r.error() != chain::errc::unauthorized_submitter || !sets_.refresh || !refresh_due()) return r;
        sets_.refresh();  // a change may have made the key a submitter: learn the changes, once more
        return check_with(tx, sets_.current());
    }

private:
    result<hash32> check_with(const vote_tx& tx, const validator_schedule& vs) const {
        if (vs.epochs().empty()) return make_error(chain::errc::unauthorized_submitter);
        if (auto ec = rules_.rules().check_tx_fields(tx, vs, vs.epochs().back().from)) return ec;
        return tx_hash<ed25519_sha256>(tx);
    }

    /// True at most once per refresh_every (the first time at once).
    bool refresh_due() const {
        const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count();
        std::int64_t last = last_refresh_ms_.load();
        if (last != 0 && now - last < sets_.refresh_every.count()) return false;
        return last_refresh_ms_.compare_exchange_strong(last, now);
    }

    submitter_sets sets_;
    mutable std::atomic<std::int64_t> last_refresh_ms_{0};
    rules_chain rules_;
    ed25519::key_pair submitter_;
    bytes tag_key_;
};

}  // namespace ballotchain::backend
