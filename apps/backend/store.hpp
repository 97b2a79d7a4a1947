#pragma once
/// @file The backend's SQLite database: users, sessions, elections, candidates
/// and vote records. A vote record doubles as the outbox: every vote not yet
/// final on the validator chain is a row with status 'pending' (no validator
/// accepted it yet) or 'submitted' (a validator acknowledged it), and the
/// replayer works through those rows until they are 'confirmed'. A vote the
/// chain refused for good is 'rejected' (with the reason) and no longer holds
/// its voter's one place per election: the uniqueness of (user, election) is
/// a partial index over the votes not rejected.
///
/// One connection, WAL, synchronous=FULL; a mutex serialises all use.

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ballotchain::backend {

class sql_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A prepared statement with positional binds; finalized on destruction.
class stmt {
public:
    stmt(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
            throw sql_error(std::string("prepare: ") + sqlite3_errmsg(db) + " in " + sql);
    }
    ~stmt() { sqlite3_finalize(s_); }
    stmt(const stmt&) = delete;
    stmt& operator=(const stmt&) = delete;

    stmt& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(s_, i, v);
        return *this;
    }
    stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
    stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    stmt& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
    stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    stmt& bind(int i, const char* v) { return bind(i, std::string(v)); }
    stmt& bind(int i, byte_view v) {
        static const byte empty = 0;
        sqlite3_bind_blob(s_, i, v.empty() ? &empty : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    stmt& bind(int i, const bytes& v) { return bind(i, byte_view(v)); }
    stmt& bind(int i, std::nullptr_t) {
        sqlite3_bind_null(s_, i);
        return *this;
    }
    template <class T>
    stmt& bind(int i, const std::optional<T>& v) {
        return v ? bind(i, *v) : bind(i, nullptr);
    }

    /// Steps once: true when a row is available.
    bool step() {
        const int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        if (rc == SQLITE_CONSTRAINT) throw constraint_error(sqlite3_errmsg(db_));
        throw sql_error(std::string("step: ") + sqlite3_errmsg(db_));
    }
    void run() {
        while (step()) {
        }
    }

    std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
    std::uint64_t u64(int c) const { return static_cast<std::uint64_t>(i64(c)); }
    sqlite3_stmt* get() const noexcept { return s_; }
    bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
    std::string text(int c) const {
        const auto* p = sqlite3_column_text(s_, c);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
                 : std::string();
    }
    bytes blob(int c) const { return detail::sqlite::column_bytes(s_, c); }
    std::optional<hash32> hash(int c) const { return detail::sqlite::column_hash(s_, c); }

    class constraint_error : public sql_error {
    public:
        using sql_error::sql_error;
    };

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

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
    std::string status;     ///< pending | submitted | confirmed | rejected
    std::string validator;  ///< node that acknowledged it
    std::optional<std::uint64_t> block_number;
    std::string block_hash;
    std::uint64_t created_ms = 0;
    std::uint64_t sent_ms = 0;  ///< last time it went to a validator
    bool fallback = false;      ///< also recorded on the local fallback chain
    std::string detail;         ///< why it was rejected
};

class store {
public:
    explicit store(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK) {
            std::string why = db_ ? sqlite3_errmsg(db_) : "cannot open";
            sqlite3_close(db_);
            throw sql_error(path + ": " + why);
        }
        sqlite3_busy_timeout(db_, 5000);
        exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
        exec(R"sql(
CREATE TABLE IF NOT EXISTS users(
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, full_name TEXT NOT NULL,
  salt BLOB NOT NULL, pw_hash BLOB NOT NULL, is_admin INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(
  token_hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), expires_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id, expires_ms);
CREATE TABLE IF NOT EXISTS elections(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS candidates(
  id INTEGER PRIMARY KEY, election_id INTEGER NOT NULL REFERENCES elections(id), name TEXT NOT NULL,
  description TEXT NOT NULL, UNIQUE(election_id, name));
)sql");
        exec("BEGIN IMMEDIATE");
        try {
            // Before version 1 votes had UNIQUE(user_id, election_id), so a vote the chain refused
            // kept its voter from ever voting again. The table is rebuilt without it.
            const bool old_votes = has_old_votes_table();
            if (old_votes) exec("ALTER TABLE votes RENAME TO votes_v0");
            exec(votes_schema);
            if (old_votes) exec("INSERT INTO votes SELECT * FROM votes_v0; DROP TABLE votes_v0;");
            exec(R"sql(
CREATE INDEX IF NOT EXISTS votes_open ON votes(status) WHERE status IN ('pending', 'submitted');
CREATE UNIQUE INDEX IF NOT EXISTS votes_one_per_voter ON votes(user_id, election_id) WHERE status != 'rejected';
CREATE INDEX IF NOT EXISTS votes_by_voter ON votes(user_id, election_id, id);
PRAGMA user_version = 1;
)sql");
            exec("COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }
    ~store() { sqlite3_close(db_); }
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    std::unique_lock<std::mutex> lock() const { return std::unique_lock(mu_); }

    // ---- users and sessions (caller holds lock()) --------------------------------

    /// Inserts a user; nullopt when the email is taken.
    std::optional<std::int64_t> add_user(const user_row& u, std::uint64_t now_ms) {
        stmt s(db_, "INSERT INTO users(email, full_name, salt, pw_hash, is_admin, created_ms) VALUES(?1,?2,?3,?4,?5,?6)");
        s.bind(1, u.email).bind(2, u.full_name).bind(3, u.salt).bind(4, u.pw_hash).bind(5, u.is_admin).bind(6, now_ms);
        try {
            s.run();
        } catch (const stmt::constraint_error&) {
            return std::nullopt;
        }
        return sqlite3_last_insert_rowid(db_);
    }
    void set_password_admin(std::int64_t id, const bytes& salt, const bytes& pw_hash, bool admin) {
        stmt s(db_, "UPDATE users SET salt=?2, pw_hash=?3, is_admin=?4 WHERE id=?1");
        s.bind(1, id).bind(2, salt).bind(3, pw_hash).bind(4, admin).run();
    }
    void set_password(std::int64_t id, const bytes& salt, const bytes& pw_hash) {
        stmt s(db_, "UPDATE users SET salt=?2, pw_hash=?3 WHERE id=?1");
        s.bind(1, id).bind(2, salt).bind(3, pw_hash).run();
    }
    std::optional<user_row> user_by_email(const std::string& email) {
        stmt s(db_, "SELECT id, email, full_name, salt, pw_hash, is_admin FROM users WHERE email=?1");
        s.bind(1, email);
        return s.step() ? std::optional(user_of(s)) : std::nullopt;
    }
    /// Adds a session; the user keeps at most `max_per_user` (the oldest beyond are revoked).
    void add_session(const hash32& token_hash, std::int64_t user, std::uint64_t expires_ms, std::size_t max_per_user) {
        stmt s(db_, "INSERT INTO sessions(token_hash, user_id, expires_ms) VALUES(?1,?2,?3)");
        s.bind(1, token_hash.view()).bind(2, user).bind(3, expires_ms).run();
        stmt trim(db_,
                  "DELETE FROM sessions WHERE user_id=?1 AND token_hash NOT IN"
                  " (SELECT token_hash FROM sessions WHERE user_id=?1 ORDER BY expires_ms DESC LIMIT ?2)");
        trim.bind(1, user).bind(2, static_cast<std::int64_t>(max_per_user)).run();
    }
    /// Revokes one session; false when there was none.
    bool delete_session(const hash32& token_hash) {
        stmt s(db_, "DELETE FROM sessions WHERE token_hash=?1");
        s.bind(1, token_hash.view()).run();
        return sqlite3_changes(db_) > 0;
    }
    /// Revokes every session of a user; returns how many there were.
    std::uint64_t delete_user_sessions(std::int64_t user) {
        stmt s(db_, "DELETE FROM sessions WHERE user_id=?1");
        s.bind(1, user).run();
        return static_cast<std::uint64_t>(sqlite3_changes(db_));
    }
    /// The user of an unexpired session.
    std::optional<user_row> user_by_session(const hash32& token_hash, std::uint64_t now_ms) {
        stmt s(db_,
               "SELECT u.id, u.email, u.full_name, u.salt, u.pw_hash, u.is_admin FROM sessions s"
               " JOIN users u ON u.id = s.user_id WHERE s.token_hash=?1 AND s.expires_ms>?2");
        s.bind(1, token_hash.view()).bind(2, now_ms);
        return s.step() ? std::optional(user_of(s)) : std::nullopt;
    }
    void purge_sessions(std::uint64_t now_ms) {
        stmt s(db_, "DELETE FROM sessions WHERE expires_ms<=?1");
        s.bind(1, now_ms).run();
    }

    // ---- elections -----------------------------------------------------------------

    std::int64_t add_election(const election_row& e, const std::vector<candidate_row>& cands) {
        exec("BEGIN IMMEDIATE");
        try {
            stmt s(db_, "INSERT INTO elections(name, description, start_ms, end_ms, created_ms) VALUES(?1,?2,?3,?4,?5)");
            s.bind(1, e.name).bind(2, e.description).bind(3, e.start_ms).bind(4, e.end_ms).bind(5, e.created_ms).run();
            const auto id = sqlite3_last_insert_rowid(db_);
            for (const auto& c : cands) add_candidate_row(id, c);
            exec("COMMIT");
            return id;
        } catch (...) {
            exec("ROLLBACK");
            throw;
        }
    }
    /// nullopt when the election already has a candidate of that name.
    std::optional<std::int64_t> add_candidate(std::int64_t election, const candidate_row& c) {
        try {
            return add_candidate_row(election, c);
        } catch (const stmt::constraint_error&) {
            return std::nullopt;
        }
    }
    std::vector<election_row> elections() {
        stmt s(db_, "SELECT id, name, description, start_ms, end_ms, created_ms FROM elections ORDER BY id");
        std::vector<election_row> out;
        while (s.step()) out.push_back(election_of(s));
        return out;
    }
    std::optional<election_row> election(std::int64_t id) {
        stmt s(db_, "SELECT id, name, description, start_ms, end_ms, created_ms FROM elections WHERE id=?1");
        s.bind(1, id);
        return s.step() ? std::optional(election_of(s)) : std::nullopt;
    }
    std::vector<candidate_row> candidates(std::int64_t election) {
        stmt s(db_, "SELECT id, election_id, name, description FROM candidates WHERE election_id=?1 ORDER BY id");
        s.bind(1, election);
        std::vector<candidate_row> out;
        while (s.step()) out.push_back({s.i64(0), s.i64(1), s.text(2), s.text(3)});
        return out;
    }

    // ---- votes (the outbox) ---------------------------------------------------------

    /// Records several votes in one transaction (one fsync for all: group
    /// commit). ids[i] is the new row id, or nullopt when its user already has
    /// a vote not rejected in that election (or it repeats a transaction). Throws,
    /// with nothing recorded, if the transaction fails.
    std::vector<std::optional<std::int64_t>> add_votes(const std::vector<const vote_row*>& vs) {
        std::vector<std::optional<std::int64_t>> ids;
        exec("BEGIN IMMEDIATE");
        try {
            stmt s(db_,
                   "INSERT OR IGNORE INTO votes(user_id, election_id, candidate_id, tx_hash, ballot_hash, raw_tx, status,"
                   " created_ms) VALUES(?1,?2,?3,?4,?5,?6,'pending',?7)");
            for (const vote_row* v : vs) {
                sqlite3_reset(s.get());
                s.bind(1, v->user_id).bind(2, v->election_id).bind(3, v->candidate_id).bind(4, v->tx_hash.view());
                s.bind(5, v->ballot_hash).bind(6, v->raw_tx).bind(7, v->created_ms);
                s.run();
                if (sqlite3_changes(db_) == 1)
                    ids.emplace_back(sqlite3_last_insert_rowid(db_));
                else
                    ids.emplace_back(std::nullopt);
            }
            exec("COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
        return ids;
    }
    /// The voter's vote in an election that the chain has not refused (at most one).
    std::optional<vote_row> vote_by_user(std::int64_t user, std::int64_t election) {
        return one_vote("WHERE user_id=?1 AND election_id=?2 AND status!='rejected'",
                        [&](stmt& s) { s.bind(1, user).bind(2, election); });
    }
    /// The voter's most recent refused vote in an election.
    std::optional<vote_row> last_rejected_vote(std::int64_t user, std::int64_t election) {
        return one_vote("WHERE user_id=?1 AND election_id=?2 AND status='rejected' ORDER BY id DESC LIMIT 1",
                        [&](stmt& s) { s.bind(1, user).bind(2, election); });
    }
    std::optional<vote_row> vote_by_tx(const hash32& th) {
        return one_vote("WHERE tx_hash=?1", [&](stmt& s) { s.bind(1, th.view()); });
    }
    /// Votes not yet final, oldest first, at most `limit`.
    std::vector<vote_row> open_votes(std::size_t limit) {
        stmt s(db_, (std::string(vote_cols) + " WHERE status IN ('pending','submitted') ORDER BY id LIMIT ?1").c_str());
        s.bind(1, static_cast<std::int64_t>(limit));
        std::vector<vote_row> out;
        while (s.step()) out.push_back(vote_of(s));
        return out;
    }
    void mark_submitted(std::int64_t id, const std::string& validator, std::uint64_t now_ms) {
        stmt s(db_, "UPDATE votes SET status='submitted', validator=?2, sent_ms=?3 WHERE id=?1 AND status!='confirmed'");
        s.bind(1, id).bind(2, validator).bind(3, now_ms).run();
    }
    void mark_sent(std::int64_t id, std::uint64_t now_ms) {
        stmt s(db_, "UPDATE votes SET sent_ms=?2 WHERE id=?1");
        s.bind(1, id).bind(2, now_ms).run();
    }
    void mark_fallback(std::int64_t id) {
        stmt s(db_, "UPDATE votes SET fallback=1 WHERE id=?1");
        s.bind(1, id).run();
    }
    /// Marks the vote with transaction `th` final in `block` (no-op if unknown or already
    /// confirmed). A receipt outranks an earlier refusal (one validator may have refused what
    /// another finalized), unless the voter has another vote in flight (then it stays refused;
    /// the chain holds at most one of them).
    void confirm_by_tx(const hash32& th, std::uint64_t block, const std::string& block_hash) {
        stmt s(db_,
               "UPDATE OR IGNORE votes SET status='confirmed', block_number=?2, block_hash=?3"
               " WHERE tx_hash=?1 AND status!='confirmed'");
        s.bind(1, th.view()).bind(2, block).bind(3, block_hash).run();
    }
    /// Marks a vote not yet final as refused by the chain for good (its voter may vote again).
    void mark_rejected(std::int64_t id, const std::string& why) {
        stmt s(db_, "UPDATE votes SET status='rejected', detail=?2 WHERE id=?1 AND status IN ('pending','submitted')");
        s.bind(1, id).bind(2, why).run();
    }
    /// Counts of votes not yet final, by status (reads only the partial index on open votes).
    std::vector<std::pair<std::string, std::uint64_t>> open_vote_counts() {
        stmt s(db_, "SELECT status, COUNT(*) FROM votes WHERE status IN ('pending','submitted') GROUP BY status ORDER BY status");
        std::vector<std::pair<std::string, std::uint64_t>> out;
        while (s.step()) out.emplace_back(s.text(0), s.u64(1));
        return out;
    }

    void exec(const char* sql) {
        char* err = nullptr;
        if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            std::string why = err ? err : "exec failed";
            sqlite3_free(err);
            throw sql_error(why);
        }
    }

private:
    static constexpr const char* votes_schema = R"sql(
CREATE TABLE IF NOT EXISTS votes(
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  election_id INTEGER NOT NULL REFERENCES elections(id), candidate_id INTEGER NOT NULL REFERENCES candidates(id),
  tx_hash BLOB NOT NULL UNIQUE, ballot_hash TEXT NOT NULL, raw_tx BLOB NOT NULL,
  status TEXT NOT NULL, validator TEXT NOT NULL DEFAULT '', block_number INTEGER, block_hash TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL, sent_ms INTEGER NOT NULL DEFAULT 0, fallback INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '');
)sql";

    /// True when the votes table still has the version-0 UNIQUE(user_id, election_id).
    bool has_old_votes_table() {
        stmt s(db_, "SELECT sql FROM sqlite_master WHERE type='table' AND name='votes'");
        return s.step() && s.text(0).find("UNIQUE(user_id, election_id)") != std::string::npos;
    }

    static constexpr const char* vote_cols =
        "SELECT id, user_id, election_id, candidate_id, tx_hash, ballot_hash, raw_tx, status, validator, block_number,"
        " block_hash, created_ms, sent_ms, fallback, detail FROM votes";

    std::int64_t add_candidate_row(std::int64_t election, const candidate_row& c) {
        stmt s(db_, "INSERT INTO candidates(election_id, name, description) VALUES(?1,?2,?3)");
        s.bind(1, election).bind(2, c.name).bind(3, c.description).run();
        return sqlite3_last_insert_rowid(db_);
    }
    template <class Bind>
    std::optional<vote_row> one_vote(const char* where, Bind bind) {
        stmt s(db_, (std::string(vote_cols) + " " + where).c_str());
        bind(s);
        return s.step() ? std::optional(vote_of(s)) : std::nullopt;
    }
    static user_row user_of(const stmt& s) {
        return {s.i64(0), s.text(1), s.text(2), s.blob(3), s.blob(4), s.i64(5) != 0};
    }
    static election_row election_of(const stmt& s) {
        return {s.i64(0), s.text(1), s.text(2), s.u64(3), s.u64(4), s.u64(5)};
    }
    static vote_row vote_of(const stmt& s) {
        vote_row v;
        v.id = s.i64(0);
        v.user_id = s.i64(1);
        v.election_id = s.i64(2);
        v.candidate_id = s.i64(3);
        v.tx_hash = s.hash(4).value_or(hash32{});
        v.ballot_hash = s.text(5);
        v.raw_tx = s.blob(6);
        v.status = s.text(7);
        v.validator = s.text(8);
        if (!s.is_null(9)) v.block_number = s.u64(9);
        v.block_hash = s.text(10);
        v.created_ms = s.u64(11);
        v.sent_ms = s.u64(12);
        v.fallback = s.i64(13) != 0;
        v.detail = s.text(14);
        return v;
    }

    sqlite3* db_ = nullptr;
    mutable std::mutex mu_;
};

}  // namespace ballotchain::backend
