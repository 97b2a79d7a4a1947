#pragma once
/// @file What the backend keeps in its database: users, sessions, elections,
/// candidates and vote records, behind an interface (`store`) that each
/// database model implements. The SQLite model is sqlite_store.hpp; a second
/// model (PostgreSQL) implements the same class.
///
/// A vote record doubles as the outbox: every vote not yet final on the
/// validator chain is a row with status 'pending' (no validator accepted it
/// yet) or 'submitted' (a validator acknowledged it), and the replayer works
/// through those rows until they are 'confirmed'. A vote the chain refused for
/// good is 'rejected' (with the reason) and no longer holds its voter's one
/// place per election: one vote per (user, election) counts only the votes
/// not rejected.

#include "vote_status.hpp"

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/storage/db_error.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ballotchain::backend {

using storage_ns::db_error;
using storage_ns::db_result;

struct user_row {
    std::int64_t id = 0;
    std::string email, full_name;
    bytes salt, pw_hash;
    bool is_admin = false;
};

struct candidate_row {
    std::int64_t id = 0;
    std::int64_t election_id = 0;
    std::string name, description;
};

struct election_row {
    std::int64_t id = 0;
    std::string name, description;
    std::uint64_t start_ms = 0, end_ms = 0;  ///< open when start <= now < end
    std::uint64_t created_ms = 0;
};

struct vote_row {
    std::int64_t id = 0;
    std::int64_t user_id = 0, election_id = 0, candidate_id = 0;
    hash32 tx_hash;
    std::string ballot_hash;
    bytes raw_tx;
    vote_status status = vote_status::pending;
    std::string validator;  ///< node that acknowledged it
    std::optional<std::uint64_t> block_number;
    std::string block_hash;
    std::uint64_t created_ms = 0;
    std::uint64_t sent_ms = 0;  ///< last time it went to a validator
    bool fallback = false;      ///< also recorded on the local fallback chain
    std::string detail;         ///< why it was rejected
};

/// A new password for an account, and what else changes with it (all at once).
struct password_change {
    bytes salt, pw_hash;
    bool make_admin = false;       ///< the account becomes an administrator
    bool revoke_sessions = false;  ///< every session of the account ends
};

/// The backend's database.
///
/// @par Errors
/// Every operation returns a `db_result`. An error is always a failure of the
/// database itself (busy, full, I/O, damaged: a local fault); its message is
/// the database's own. The service answers such a request with 500 and logs
/// the message. Conflicts the service expects (an email already registered, a
/// voter's second vote, two candidates with one name) are values, not errors.
///
/// @par Thread safety
/// Every operation may be called from any thread at any time: each model
/// serializes or isolates operations itself (the SQLite model holds one mutex
/// for the duration of each operation). Each operation is atomic; nothing
/// spans two operations, so callers never hold a lock.
class store {
public:
    virtual ~store() = default;

    // ---- users and sessions -------------------------------------------------------

    /// Inserts a user; nullopt when the email is taken.
    virtual db_result<std::optional<std::int64_t>> add_user(const user_row& u, std::uint64_t now_ms) = 0;
    /// Sets a user's password hash (and what `c` asks besides) in one transaction.
    virtual db_result<void> set_password(std::int64_t user, const password_change& c) = 0;
    virtual db_result<std::optional<user_row>> user_by_email(const std::string& email) = 0;
    /// Adds a session; the user keeps at most `max_per_user` (the oldest beyond are revoked).
    virtual db_result<void> add_session(const hash32& token_hash, std::int64_t user, std::uint64_t expires_ms,
                                        std::size_t max_per_user) = 0;
    /// Revokes one session; false when there was none.
    virtual db_result<bool> delete_session(const hash32& token_hash) = 0;
    /// Revokes every session of a user; returns how many there were.
    virtual db_result<std::uint64_t> delete_user_sessions(std::int64_t user) = 0;
    /// The user of a session that has not expired at `now_ms`.
    virtual db_result<std::optional<user_row>> user_by_session(const hash32& token_hash, std::uint64_t now_ms) = 0;
    /// Deletes the sessions expired at `now_ms`; returns how many.
    virtual db_result<std::uint64_t> purge_sessions(std::uint64_t now_ms) = 0;

    // ---- elections ----------------------------------------------------------------

    /// Inserts an election with its candidates; nullopt (nothing stored) when
    /// two candidates have the same name.
    virtual db_result<std::optional<std::int64_t>> add_election(const election_row& e,
                                                                const std::vector<candidate_row>& cands) = 0;
    /// nullopt when the election already has a candidate of that name.
    virtual db_result<std::optional<std::int64_t>> add_candidate(std::int64_t election, const candidate_row& c) = 0;
    virtual db_result<std::vector<election_row>> elections() = 0;
    virtual db_result<std::optional<election_row>> election(std::int64_t id) = 0;
    virtual db_result<std::vector<candidate_row>> candidates(std::int64_t election) = 0;

    // ---- votes (the outbox) -------------------------------------------------------

    /// Records several votes (status 'pending') in one transaction: one durable
    /// write for all (group commit). ids[i] is the new row id, or nullopt when
    /// its user already has a vote not rejected in that election (or it repeats
    /// a transaction). On an error nothing is recorded.
    virtual db_result<std::vector<std::optional<std::int64_t>>> add_votes(std::span<const vote_row* const> vs) = 0;
    /// The voter's vote in an election that the chain has not refused (at most one).
    virtual db_result<std::optional<vote_row>> vote_by_user(std::int64_t user, std::int64_t election) = 0;
    /// The voter's most recent refused vote in an election.
    virtual db_result<std::optional<vote_row>> last_rejected_vote(std::int64_t user, std::int64_t election) = 0;
    virtual db_result<std::optional<vote_row>> vote_by_tx(const hash32& th) = 0;
    /// Votes not yet final, oldest first, at most `limit`.
    virtual db_result<std::vector<vote_row>> open_votes(std::size_t limit) = 0;
    /// A validator acknowledged the vote (unless it is already confirmed).
    virtual db_result<void> mark_submitted(std::int64_t id, const std::string& validator, std::uint64_t now_ms) = 0;
    /// The vote went to a validator at `now_ms` (and will be re-sent later).
    virtual db_result<void> mark_sent(std::int64_t id, std::uint64_t now_ms) = 0;
    /// The vote is also on the local fallback chain.
    virtual db_result<void> mark_fallback(std::int64_t id) = 0;
    /// Marks the vote with transaction `th` final in `block` (no-op if unknown or already
    /// confirmed). A receipt outranks an earlier refusal (one validator may have refused what
    /// another finalized), unless the voter has another vote in flight (then it stays refused;
    /// the chain holds at most one of them).
    virtual db_result<void> confirm_by_tx(const hash32& th, std::uint64_t block, const std::string& block_hash) = 0;
    /// Marks a vote not yet final as refused by the chain for good (its voter may vote again).
    virtual db_result<void> mark_rejected(std::int64_t id, const std::string& why) = 0;
    /// Counts of votes not yet final, by status.
    virtual db_result<std::vector<std::pair<vote_status, std::uint64_t>>> open_vote_counts() = 0;
};

}  // namespace ballotchain::backend
