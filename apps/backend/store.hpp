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
#include <string_view>
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

/// How an election's votes are cast (docs/backend.md, "Secret ballots").
enum class ballot_kind : std::uint8_t {
    plain,      ///< the candidate id is on the chain in clear (the seed's votes)
    encrypted,  ///< secret ballots: ElGamal under the key the validators make (docs/election-protocol.md)
};

/// Where an encrypted election's definition record stands on the chain.
enum class definition_status : std::uint8_t {
    none,       ///< a plain election: no definition is published
    pending,    ///< not yet taken by a validator
    submitted,  ///< a validator took it
    final,      ///< in a final block (a verified receipt says so)
    rejected,   ///< refused for good (chain_detail says why): the election cannot take ballots
};

inline constexpr std::string_view to_string(ballot_kind b) noexcept {
    return b == ballot_kind::encrypted ? "encrypted" : "plain";
}
inline constexpr std::optional<ballot_kind> parse_ballot_kind(std::string_view s) noexcept {
    if (s == "plain") return ballot_kind::plain;
    if (s == "encrypted") return ballot_kind::encrypted;
    return std::nullopt;
}
/// "" (none), "pending", "submitted", "final", "rejected": as stored and as the API shows it.
inline constexpr std::string_view to_string(definition_status d) noexcept {
    switch (d) {
    case definition_status::none: return "";
    case definition_status::pending: return "pending";
    case definition_status::submitted: return "submitted";
    case definition_status::final: return "final";
    case definition_status::rejected: return "rejected";
    }
    return "unknown";
}
inline constexpr std::optional<definition_status> parse_definition_status(std::string_view s) noexcept {
    for (auto d : {definition_status::none, definition_status::pending, definition_status::submitted,
                   definition_status::final, definition_status::rejected})
        if (s == to_string(d)) return d;
    return std::nullopt;
}

struct election_row {
    std::int64_t id = 0;
    std::string name, description;
    std::uint64_t start_ms = 0, end_ms = 0;  ///< open when start <= now < end
    std::uint64_t created_ms = 0;
    ballot_kind ballot = ballot_kind::plain;
    std::uint64_t key_deadline_ms = 0;  ///< encrypted: the key ceremony closes by then (<= start)
    std::uint32_t threshold = 0;        ///< encrypted: trustees needed to decrypt the tally
    definition_status chain = definition_status::none;
    std::string chain_detail;  ///< why the definition was refused
    bytes election_key;        ///< encrypted: the key the validators agreed on, once known (32 bytes)
};

/// A plain election `name`, open from `start_ms` to `end_ms`, with nothing else set.
inline election_row plain_election(std::string name, std::uint64_t start_ms, std::uint64_t end_ms) {
    election_row e;
    e.name = std::move(name);
    e.start_ms = start_ms;
    e.end_ms = end_ms;
    return e;
}

/// The columns each model reads a row from, in the order its decoders (`user_of`,
/// `election_of`, `vote_of` in sqlite_store.hpp and pg_store.hpp) read them by index.
namespace columns {
inline constexpr std::string_view user = "id, email, full_name, salt, pw_hash, is_admin";
inline constexpr std::string_view election =
    "id, name, description, start_ms, end_ms, created_ms, ballot, key_deadline_ms, threshold, chain_status,"
    " chain_detail, election_key";
inline constexpr std::string_view vote =
    "id, user_id, election_id, candidate_id, tx_hash, ballot_hash, raw_tx, status, validator, block_number,"
    " block_hash, created_ms, sent_ms, fallback, detail, claimed_by, claimed_until";
}  // namespace columns

struct vote_row {
    std::int64_t id = 0;
    std::int64_t user_id = 0, election_id = 0;
    std::int64_t candidate_id = 0;  ///< 0 for a secret ballot: the backend keeps no choice (stored as NULL)
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
    /// The backend instance working on it (outbox claims, store::claim_open_votes) and until
    /// when (wall ms); "" / 0: nobody. add_votes stores the claim the new row carries.
    std::string claimed_by;
    std::uint64_t claimed_until = 0;
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
/// for the duration of each operation; the PostgreSQL model gives each its own
/// connection). Each operation is atomic; nothing spans two operations, so
/// callers never hold a lock.
///
/// @par Several instances
/// Several backend processes may share one database (the PostgreSQL model).
/// Every promise then holds across them: the one-vote rule is a unique index,
/// the outbox's votes are claimed (claim_open_votes) so that two instances never
/// work on one vote at once, and what every instance must agree on (the
/// voter-tag secret, failed logins) lives in the database.
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
    /// Records where an encrypted election's definition stands (and why, when refused).
    virtual db_result<void> set_definition_status(std::int64_t election, definition_status st,
                                                  const std::string& detail) = 0;
    /// Records the election key the validators agreed on (never changes once set).
    virtual db_result<void> set_election_key(std::int64_t election, const bytes& key) = 0;

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
    /// mark_submitted for many votes acknowledged by one validator, in one transaction.
    virtual db_result<void> mark_submitted_many(std::span<const std::int64_t> ids, const std::string& validator,
                                                std::uint64_t now_ms) = 0;
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

    // ---- several instances ------------------------------------------------------------

    /// Claims for `owner` until `now_ms + lease_ms` up to `limit` votes not yet final,
    /// oldest first, and returns up to `limit` of the votes `owner` then holds, oldest
    /// first. It takes those nobody claims or whose claim has expired, and renews its own
    /// only once less than half the lease is left, so a pass over votes it already holds
    /// writes nothing. A vote another owner holds is skipped (and, in the PostgreSQL
    /// model, so is one another transaction is claiming at that moment).
    virtual db_result<std::vector<vote_row>> claim_open_votes(const std::string& owner, std::size_t limit,
                                                              std::uint64_t now_ms, std::uint64_t lease_ms) = 0;
    /// Ends every claim of `owner` (a clean stop: another instance may take its votes at once).
    virtual db_result<void> release_claims(const std::string& owner) = 0;
    /// The secret stored under `name`; `candidate` is stored first when there is none
    /// (so every instance gets the first one stored).
    virtual db_result<bytes> keep_secret(const std::string& name, const bytes& candidate) = 0;
    /// The latest time (wall ms) until which logins under key `a` or `b` must wait (0: none).
    virtual db_result<std::uint64_t> login_blocked_until(const std::string& a, const std::string& b) = 0;
    /// Counts a failed login under `key` at `now_ms` and returns how many there are now
    /// (failures older than `forget_ms` before the latest are forgotten first).
    virtual db_result<std::uint32_t> add_login_failure(const std::string& key, std::uint64_t now_ms,
                                                       std::uint64_t forget_ms) = 0;
    /// Logins under `key` must wait until `until_ms` (never shortens a wait already set).
    virtual db_result<void> block_login(const std::string& key, std::uint64_t until_ms) = 0;
    /// Forgets the failed logins under `key` (a success).
    virtual db_result<void> clear_login_failures(const std::string& key) = 0;
    /// Deletes failed-login records whose last failure is before `before_ms` and whose wait is over.
    virtual db_result<std::uint64_t> purge_login_failures(std::uint64_t before_ms, std::uint64_t now_ms) = 0;
};

}  // namespace ballotchain::backend
