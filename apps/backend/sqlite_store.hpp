#pragma once
/// @file The SQLite model of the backend's store: one file, `backend.db`,
/// through the SQLite layer (storage/sqlite.hpp): WAL, synchronous=FULL,
/// foreign keys, application id "BLBE", schema version 3 (docs/data-format.md
/// §15). Files from before the application id (id 0 with a `users` table, at
/// user_version 0 or 1) are adopted and upgraded in place. A vote's status is
/// stored as its string (vote_status.hpp) and converted here only.

#include "store.hpp"

#include <ballotchain/storage/sqlite.hpp>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ballotchain::backend {

/// @par Thread safety One connection; every operation holds `mu_` from its
/// first statement to its last, so operations from the server's worker
/// threads and the background threads never interleave on the connection.
class sqlite_store final : public store {
public:
    /// `PRAGMA application_id` of backend.db: "BLBE".
    static constexpr std::int32_t application_id = 0x424c4245;

    /// Version 1. Before it (version 0) votes had UNIQUE(user_id, election_id),
    /// so a vote the chain refused kept its voter from ever voting again: the
    /// migration rebuilds that table without it, keeping every row, and the
    /// one-vote rule becomes a partial index over the votes not rejected.
    ///
    /// Version 2 (secret ballots): an election has a ballot kind, a key deadline, a threshold,
    /// its definition's status on the chain and, once agreed, its key; a vote's candidate may be
    /// NULL (a secret ballot: the backend keeps no choice), so the votes table is rebuilt again.
    ///
    /// Version 3 (several instances, the PostgreSQL model's schema): a vote has a claim (who
    /// works on it, until when), secrets and failed logins live in the database.
    static const storage_ns::sqlite::schema& db_schema() {
        static const storage_ns::sqlite::schema s{application_id, {&migrate_to_1, &migrate_to_2, &migrate_to_3}, "users"};
        return s;
    }

    /// Opens (creating or upgrading) the database at `path`.
    static db_result<std::unique_ptr<sqlite_store>> open(const std::string& path) {
        auto c = storage_ns::sqlite::connection::open(path, db_schema());
        if (!c) return c.error();
        return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(*c)));
    }

    // ---- users and sessions -------------------------------------------------------

    db_result<std::optional<std::int64_t>> add_user(const user_row& u, std::uint64_t now_ms) override {
        std::lock_guard lk(mu_);
        auto n = db_.run("INSERT INTO users(email, full_name, salt, pw_hash, is_admin, created_ms)"
                         " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(email) DO NOTHING",
                         u.email, u.full_name, u.salt, u.pw_hash, u.is_admin, now_ms);
        if (!n) return n.error();
        if (*n == 0) return std::optional<std::int64_t>{};
        return std::optional<std::int64_t>{db_.last_insert_rowid()};
    }

    db_result<void> set_password(std::int64_t user, const password_change& c) override {
        std::lock_guard lk(mu_);
        auto tx = db_.begin();
        if (!tx) return tx.error();
        if (auto r = db_.run("UPDATE users SET salt = ?2, pw_hash = ?3, is_admin = is_admin OR ?4 WHERE id = ?1", user,
                             c.salt, c.pw_hash, c.make_admin);
            !r)
            return r.error();
        if (c.revoke_sessions)
            if (auto r = db_.run("DELETE FROM sessions WHERE user_id = ?1", user); !r) return r.error();
        return tx->commit();
    }

    db_result<std::optional<user_row>> user_by_email(const std::string& email) override {
        std::lock_guard lk(mu_);
        static const std::string sql = user_cols + " WHERE email = ?1";
        return one<user_row>(sql, user_of, email);
    }

    db_result<void> add_session(const hash32& token_hash, std::int64_t user, std::uint64_t expires_ms,
                                std::size_t max_per_user) override {
        std::lock_guard lk(mu_);
        auto tx = db_.begin();
        if (!tx) return tx.error();
        if (auto r = db_.run("INSERT INTO sessions(token_hash, user_id, expires_ms) VALUES(?1, ?2, ?3)", token_hash,
                             user, expires_ms);
            !r)
            return r.error();
        if (auto r = db_.run("DELETE FROM sessions WHERE user_id = ?1 AND token_hash NOT IN"
                             " (SELECT token_hash FROM sessions WHERE user_id = ?1 ORDER BY expires_ms DESC LIMIT ?2)",
                             user, static_cast<std::int64_t>(max_per_user));
            !r)
            return r.error();
        return tx->commit();
    }

    db_result<bool> delete_session(const hash32& token_hash) override {
        std::lock_guard lk(mu_);
        auto n = db_.run("DELETE FROM sessions WHERE token_hash = ?1", token_hash);
        if (!n) return n.error();
        return *n > 0;
    }

    db_result<std::uint64_t> delete_user_sessions(std::int64_t user) override {
        std::lock_guard lk(mu_);
        return count(db_.run("DELETE FROM sessions WHERE user_id = ?1", user));
    }

    db_result<std::optional<user_row>> user_by_session(const hash32& token_hash, std::uint64_t now_ms) override {
        std::lock_guard lk(mu_);
        static const std::string sql =
            "SELECT u.id, u.email, u.full_name, u.salt, u.pw_hash, u.is_admin FROM sessions s"
            " JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires_ms > ?2";
        return one<user_row>(sql, user_of, token_hash, now_ms);
    }

    db_result<std::uint64_t> purge_sessions(std::uint64_t now_ms) override {
        std::lock_guard lk(mu_);
        return count(db_.run("DELETE FROM sessions WHERE expires_ms <= ?1", now_ms));
    }

    // ---- elections ----------------------------------------------------------------

    db_result<std::optional<std::int64_t>> add_election(const election_row& e,
                                                        const std::vector<candidate_row>& cands) override {
        std::lock_guard lk(mu_);
        auto tx = db_.begin();
        if (!tx) return tx.error();
        if (auto r = db_.run("INSERT INTO elections(name, description, start_ms, end_ms, created_ms, ballot,"
                             " key_deadline_ms, threshold, chain_status) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                             e.name, e.description, e.start_ms, e.end_ms, e.created_ms, std::string(to_string(e.ballot)),
                             e.key_deadline_ms, static_cast<std::int64_t>(e.threshold), std::string(to_string(e.chain)));
            !r)
            return r.error();
        const std::int64_t id = db_.last_insert_rowid();
        for (const auto& c : cands) {
            auto cid = insert_candidate(id, c);
            if (!cid) return cid.error();
            if (!*cid) return std::optional<std::int64_t>{};  // a repeated name: the guard rolls back
        }
        if (auto r = tx->commit(); !r) return r.error();
        return std::optional<std::int64_t>{id};
    }

    db_result<std::optional<std::int64_t>> add_candidate(std::int64_t election, const candidate_row& c) override {
        std::lock_guard lk(mu_);
        return insert_candidate(election, c);
    }

    db_result<std::vector<election_row>> elections() override {
        std::lock_guard lk(mu_);
        static const std::string sql = election_cols + " ORDER BY id";
        return all<election_row>(sql, election_of);
    }

    db_result<std::optional<election_row>> election(std::int64_t id) override {
        std::lock_guard lk(mu_);
        static const std::string sql = election_cols + " WHERE id = ?1";
        return one<election_row>(sql, election_of, id);
    }

    db_result<std::vector<candidate_row>> candidates(std::int64_t election) override {
        std::lock_guard lk(mu_);
        return all<candidate_row>(
            "SELECT id, election_id, name, description FROM candidates WHERE election_id = ?1 ORDER BY id",
            [](const storage_ns::sqlite::statement& s) {
                return candidate_row{s.int64(0), s.int64(1), s.text(2), s.text(3)};
            },
            election);
    }

    db_result<void> set_definition_status(std::int64_t election, definition_status st,
                                          const std::string& detail) override {
        std::lock_guard lk(mu_);
        // Nothing leaves 'final'.
        return done(db_.run("UPDATE elections SET chain_status = ?2, chain_detail = ?3 WHERE id = ?1 AND"
                            " chain_status != 'final'",
                            election, std::string(to_string(st)), detail));
    }

    db_result<void> set_election_key(std::int64_t election, const bytes& key) override {
        std::lock_guard lk(mu_);
        return done(db_.run("UPDATE elections SET election_key = ?2 WHERE id = ?1 AND election_key IS NULL", election, key));
    }

    // ---- votes (the outbox) -------------------------------------------------------

    db_result<std::vector<std::optional<std::int64_t>>> add_votes(std::span<const vote_row* const> vs) override {
        std::lock_guard lk(mu_);
        std::vector<std::optional<std::int64_t>> ids;
        ids.reserve(vs.size());
        auto tx = db_.begin();
        if (!tx) return tx.error();
        auto s = db_.prepare(
            "INSERT OR IGNORE INTO votes(user_id, election_id, candidate_id, tx_hash, ballot_hash, raw_tx, status,"
            " created_ms, claimed_by, claimed_until) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?9)");
        if (!s) return s.error();
        for (const vote_row* v : vs) {
            const auto cand = v->candidate_id ? std::optional<std::int64_t>(v->candidate_id) : std::nullopt;
            if (auto b = s->bind(v->user_id, v->election_id, cand, v->tx_hash, v->ballot_hash, v->raw_tx,
                                 v->created_ms, v->claimed_by, v->claimed_until);
                !b)
                return b.error();
            auto n = s->run();
            if (!n) return n.error();
            ids.push_back(*n == 1 ? std::optional<std::int64_t>{db_.last_insert_rowid()} : std::nullopt);
        }
        if (auto r = tx->commit(); !r) return r.error();
        return ids;
    }

    db_result<std::optional<vote_row>> vote_by_user(std::int64_t user, std::int64_t election) override {
        std::lock_guard lk(mu_);
        static const std::string sql = vote_cols + " WHERE user_id = ?1 AND election_id = ?2 AND status != 'rejected'";
        return one<vote_row>(sql, vote_of, user, election);
    }

    db_result<std::optional<vote_row>> last_rejected_vote(std::int64_t user, std::int64_t election) override {
        std::lock_guard lk(mu_);
        static const std::string sql =
            vote_cols + " WHERE user_id = ?1 AND election_id = ?2 AND status = 'rejected' ORDER BY id DESC LIMIT 1";
        return one<vote_row>(sql, vote_of, user, election);
    }

    db_result<std::optional<vote_row>> vote_by_tx(const hash32& th) override {
        std::lock_guard lk(mu_);
        static const std::string sql = vote_cols + " WHERE tx_hash = ?1";
        return one<vote_row>(sql, vote_of, th);
    }

    db_result<std::vector<vote_row>> open_votes(std::size_t limit) override {
        std::lock_guard lk(mu_);
        static const std::string sql = vote_cols + " WHERE status IN ('pending', 'submitted') ORDER BY id LIMIT ?1";
        return all<vote_row>(sql, vote_of, static_cast<std::int64_t>(limit));
    }

    db_result<void> mark_submitted(std::int64_t id, const std::string& validator, std::uint64_t now_ms) override {
        std::lock_guard lk(mu_);
        return done(db_.run(
            "UPDATE votes SET status = 'submitted', validator = ?2, sent_ms = ?3 WHERE id = ?1 AND status != 'confirmed'",
            id, validator, now_ms));
    }

    db_result<void> mark_submitted_many(std::span<const std::int64_t> ids, const std::string& validator,
                                        std::uint64_t now_ms) override {
        std::lock_guard lk(mu_);
        if (ids.empty()) return {};
        auto tx = db_.begin();
        if (!tx) return tx.error();
        auto s = db_.prepare(
            "UPDATE votes SET status = 'submitted', validator = ?2, sent_ms = ?3 WHERE id = ?1 AND status != 'confirmed'");
        if (!s) return s.error();
        for (const auto id : ids) {
            if (auto b = s->bind(id, validator, now_ms); !b) return b.error();
            if (auto n = s->run(); !n) return n.error();
        }
        return tx->commit();
    }

    db_result<void> mark_sent(std::int64_t id, std::uint64_t now_ms) override {
        std::lock_guard lk(mu_);
        return done(db_.run("UPDATE votes SET sent_ms = ?2 WHERE id = ?1", id, now_ms));
    }

    db_result<void> mark_fallback(std::int64_t id) override {
        std::lock_guard lk(mu_);
        return done(db_.run("UPDATE votes SET fallback = 1 WHERE id = ?1", id));
    }

    db_result<void> confirm_by_tx(const hash32& th, std::uint64_t block, const std::string& block_hash) override {
        std::lock_guard lk(mu_);
        // OR IGNORE: a refused vote whose voter has another vote in flight stays refused
        // (confirming it would break the one-vote index).
        return done(db_.run("UPDATE OR IGNORE votes SET status = 'confirmed', block_number = ?2, block_hash = ?3"
                            " WHERE tx_hash = ?1 AND status != 'confirmed'",
                            th, block, block_hash));
    }

    db_result<void> mark_rejected(std::int64_t id, const std::string& why) override {
        std::lock_guard lk(mu_);
        return done(db_.run(
            "UPDATE votes SET status = 'rejected', detail = ?2 WHERE id = ?1 AND status IN ('pending', 'submitted')", id,
            why));
    }

    db_result<std::vector<std::pair<vote_status, std::uint64_t>>> open_vote_counts() override {
        std::lock_guard lk(mu_);
        // Reads only the partial index on open votes.
        return all<std::pair<vote_status, std::uint64_t>>(
            "SELECT status, COUNT(*) FROM votes WHERE status IN ('pending', 'submitted') GROUP BY status ORDER BY status",
            [](const storage_ns::sqlite::statement& s) -> db_result<std::pair<vote_status, std::uint64_t>> {
                auto st = status_of(s.text(0), [] { return std::string("open votes"); });
                if (!st) return st.error();
                return std::pair{*st, s.uint64(1)};
            });
    }

    db_result<std::vector<vote_row>> claim_open_votes(const std::string& owner, std::size_t limit,
                                                      std::uint64_t now_ms, std::uint64_t lease_ms) override {
        std::lock_guard lk(mu_);
        // One process holds the file: the mutex is the lock; the claim still records who works on
        // what. Two statements (store.hpp): take or renew the claims that need it (a claim with more
        // than half its lease left is not written again), then read what `owner` holds.
        if (auto r = db_.run("UPDATE votes SET claimed_by = ?1, claimed_until = ?3 + ?4 WHERE id IN (SELECT id FROM"
                             " votes WHERE status IN ('pending', 'submitted') AND (claimed_until <= ?3 OR"
                             " (claimed_by = ?1 AND claimed_until < ?3 + ?4 / 2)) ORDER BY id LIMIT ?2)",
                             owner, static_cast<std::int64_t>(limit), now_ms, lease_ms);
            !r)
            return r.error();
        static const std::string sql =
            vote_cols + " WHERE status IN ('pending', 'submitted') AND claimed_by = ?1 AND claimed_until > ?3 ORDER BY id LIMIT ?2";
        return all<vote_row>(sql, vote_of, owner, static_cast<std::int64_t>(limit), now_ms);
    }

    db_result<void> release_claims(const std::string& owner) override {
        std::lock_guard lk(mu_);
        return done(db_.run("UPDATE votes SET claimed_until = 0 WHERE claimed_by = ?1 AND claimed_until > 0 AND"
                            " status IN ('pending', 'submitted')",
                            owner));
    }

    db_result<bytes> keep_secret(const std::string& name, const bytes& candidate) override {
        std::lock_guard lk(mu_);
        if (auto r = db_.run("INSERT INTO secrets(name, value) VALUES(?1, ?2) ON CONFLICT(name) DO NOTHING", name,
                             candidate);
            !r)
            return r.error();
        auto v = one<bytes>("SELECT value FROM secrets WHERE name = ?1",
                            [](const storage_ns::sqlite::statement& s) { return s.blob(0); }, name);
        if (!v) return v.error();
        if (!*v) return db_error{make_error(storage_ns::sqlite_errc::corrupt), "secret " + name + " was not stored"};
        return std::move(**v);
    }

    db_result<std::uint64_t> login_blocked_until(const std::string& a, const std::string& b) override {
        std::lock_guard lk(mu_);
        auto v = one<std::uint64_t>(
            "SELECT COALESCE(MAX(blocked_until_ms), 0) FROM login_failures WHERE key IN (?1, ?2)",
            [](const storage_ns::sqlite::statement& s) { return s.uint64(0); }, a, b);
        if (!v) return v.error();
        return v->value_or(0);
    }

    db_result<std::uint32_t> add_login_failure(const std::string& key, std::uint64_t now_ms,
                                               std::uint64_t forget_ms) override {
        std::lock_guard lk(mu_);
        auto v = one<std::uint32_t>(
            "INSERT INTO login_failures(key, failures, last_ms, blocked_until_ms) VALUES(?1, 1, ?2, 0)"
            " ON CONFLICT(key) DO UPDATE SET failures = CASE WHEN last_ms + ?3 <= ?2 THEN 1 ELSE failures + 1 END,"
            " last_ms = ?2 RETURNING failures",
            [](const storage_ns::sqlite::statement& s) { return static_cast<std::uint32_t>(s.uint64(0)); }, key, now_ms,
            forget_ms);
        if (!v) return v.error();
        return v->value_or(1);
    }

    db_result<void> block_login(const std::string& key, std::uint64_t until_ms) override {
        std::lock_guard lk(mu_);
        return done(db_.run("UPDATE login_failures SET blocked_until_ms = ?2 WHERE key = ?1 AND blocked_until_ms < ?2",
                            key, until_ms));
    }

    db_result<void> clear_login_failures(const std::string& key) override {
        std::lock_guard lk(mu_);
        return done(db_.run("DELETE FROM login_failures WHERE key = ?1", key));
    }

    db_result<std::uint64_t> purge_login_failures(std::uint64_t before_ms, std::uint64_t now_ms) override {
        std::lock_guard lk(mu_);
        return count(db_.run("DELETE FROM login_failures WHERE last_ms < ?1 AND blocked_until_ms <= ?2", before_ms, now_ms));
    }

    /// The file's path (for messages).
    const std::string& path() const noexcept { return db_.path(); }

private:
    explicit sqlite_store(storage_ns::sqlite::connection c) noexcept : db_(std::move(c)) {}

    static db_result<void> migrate_to_1(storage_ns::sqlite::connection& c) {
        if (auto r = c.exec(R"sql(
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
            !r)
            return r;
        bool old_votes = false;
        {  // the read ends (its statement is reset) before the table changes
            auto q = c.query("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'votes'");
            if (!q) return q.error();
            auto row = q->step();
            if (!row) return row.error();
            old_votes = *row && q->text(0).find("UNIQUE(user_id, election_id)") != std::string::npos;
        }
        if (old_votes)
            if (auto r = c.exec("ALTER TABLE votes RENAME TO votes_v0"); !r) return r;
        if (auto r = c.exec(R"sql(
CREATE TABLE IF NOT EXISTS votes(
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  election_id INTEGER NOT NULL REFERENCES elections(id), candidate_id INTEGER NOT NULL REFERENCES candidates(id),
  tx_hash BLOB NOT NULL UNIQUE, ballot_hash TEXT NOT NULL, raw_tx BLOB NOT NULL,
  status TEXT NOT NULL, validator TEXT NOT NULL DEFAULT '', block_number INTEGER, block_hash TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL, sent_ms INTEGER NOT NULL DEFAULT 0, fallback INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '');
)sql");
            !r)
            return r;
        if (old_votes)
            if (auto r = c.exec("INSERT INTO votes SELECT * FROM votes_v0; DROP TABLE votes_v0;"); !r) return r;
        return c.exec(R"sql(
CREATE INDEX IF NOT EXISTS votes_open ON votes(status) WHERE status IN ('pending', 'submitted');
CREATE UNIQUE INDEX IF NOT EXISTS votes_one_per_voter ON votes(user_id, election_id) WHERE status != 'rejected';
CREATE INDEX IF NOT EXISTS votes_by_voter ON votes(user_id, election_id, id);
)sql");
    }

    static db_result<void> migrate_to_2(storage_ns::sqlite::connection& c) {
        return c.exec(R"sql(
ALTER TABLE elections ADD COLUMN ballot TEXT NOT NULL DEFAULT 'plain';
ALTER TABLE elections ADD COLUMN key_deadline_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE elections ADD COLUMN threshold INTEGER NOT NULL DEFAULT 0;
ALTER TABLE elections ADD COLUMN chain_status TEXT NOT NULL DEFAULT '';
ALTER TABLE elections ADD COLUMN chain_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE elections ADD COLUMN election_key BLOB;
CREATE TABLE votes_v2(
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  election_id INTEGER NOT NULL REFERENCES elections(id), candidate_id INTEGER REFERENCES candidates(id),
  tx_hash BLOB NOT NULL UNIQUE, ballot_hash TEXT NOT NULL, raw_tx BLOB NOT NULL,
  status TEXT NOT NULL, validator TEXT NOT NULL DEFAULT '', block_number INTEGER, block_hash TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL, sent_ms INTEGER NOT NULL DEFAULT 0, fallback INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '');
INSERT INTO votes_v2 SELECT * FROM votes;
DROP TABLE votes;
ALTER TABLE votes_v2 RENAME TO votes;
CREATE INDEX votes_open ON votes(status) WHERE status IN ('pending', 'submitted');
CREATE UNIQUE INDEX votes_one_per_voter ON votes(user_id, election_id) WHERE status != 'rejected';
CREATE INDEX votes_by_voter ON votes(user_id, election_id, id);
)sql");
    }

    static db_result<void> migrate_to_3(storage_ns::sqlite::connection& c) {
        return c.exec(R"sql(
ALTER TABLE votes ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE votes ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
CREATE TABLE secrets(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE login_failures(
  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_ms INTEGER NOT NULL, blocked_until_ms INTEGER NOT NULL)
  WITHOUT ROWID;
)sql");
    }

    inline static const std::string user_cols = "SELECT " + std::string(columns::user) + " FROM users";
    inline static const std::string election_cols = "SELECT " + std::string(columns::election) + " FROM elections";
    inline static const std::string vote_cols = "SELECT " + std::string(columns::vote) + " FROM votes";

    static user_row user_of(const storage_ns::sqlite::statement& s) {
        return {s.int64(0), s.text(1), s.text(2), s.blob(3), s.blob(4), s.boolean(5)};
    }
    static db_result<election_row> election_of(const storage_ns::sqlite::statement& s) {
        election_row e = plain_election(s.text(1), s.uint64(3), s.uint64(4));
        e.id = s.int64(0);
        e.description = s.text(2);
        e.created_ms = s.uint64(5);
        const auto ballot = parse_ballot_kind(s.text(6));
        const auto chain = parse_definition_status(s.text(9));
        if (!ballot || !chain)
            return db_error{make_error(storage_ns::sqlite_errc::corrupt),
                            "election " + std::to_string(e.id) + " has no valid ballot kind or chain status"};
        e.ballot = *ballot;
        e.key_deadline_ms = s.uint64(7);
        e.threshold = static_cast<std::uint32_t>(s.uint64(8));
        e.chain = *chain;
        e.chain_detail = s.text(10);
        e.election_key = s.get<std::optional<bytes>>(11).value_or(bytes{});
        return e;
    }
    /// The status a `votes.status` string spells (vote_status.hpp); any other
    /// string is a damaged row: a `corrupt` error naming the row (`what()`).
    template <class What>
    static db_result<vote_status> status_of(const std::string& text, What what) {
        if (auto st = parse_vote_status(text)) return *st;
        return db_error{make_error(storage_ns::sqlite_errc::corrupt),
                        what() + " has no valid status: '" + text.substr(0, 32) + "'"};
    }
    static db_result<vote_row> vote_of(const storage_ns::sqlite::statement& s) {
        vote_row v;
        v.id = s.int64(0);
        v.user_id = s.int64(1);
        v.election_id = s.int64(2);
        v.candidate_id = s.get<std::optional<std::int64_t>>(3).value_or(0);
        v.tx_hash = s.fixed<32>(4).value_or(hash32{});
        v.ballot_hash = s.text(5);
        v.raw_tx = s.blob(6);
        auto st = status_of(s.text(7), [&] { return "vote " + std::to_string(v.id); });
        if (!st) return st.error();
        v.status = *st;
        v.validator = s.text(8);
        v.block_number = s.get<std::optional<std::uint64_t>>(9);
        v.block_hash = s.text(10);
        v.created_ms = s.uint64(11);
        v.sent_ms = s.uint64(12);
        v.fallback = s.boolean(13);
        v.detail = s.text(14);
        v.claimed_by = s.text(15);
        v.claimed_until = s.uint64(16);
        return v;
    }

    /// A row as T through `of`, which returns a T or, when the row may be
    /// damaged, a db_result<T>.
    template <class T, class Of>
    static db_result<T> row_of(Of& of, const storage_ns::sqlite::statement& s) {
        if constexpr (std::is_same_v<std::invoke_result_t<Of&, const storage_ns::sqlite::statement&>, db_result<T>>)
            return of(s);
        else
            return db_result<T>{of(s)};
    }

    /// The first row of a query as T (through `of`), or nullopt.
    template <class T, class Of, class... A>
    db_result<std::optional<T>> one(const std::string& sql, Of of, A&&... args) {
        auto q = db_.query(sql, std::forward<A>(args)...);
        if (!q) return q.error();
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) return std::optional<T>{};
        auto v = row_of<T>(of, *q);
        if (!v) return v.error();
        return std::optional<T>{std::move(*v)};
    }

    /// Every row of a query as T (through `of`); the first damaged row is the error.
    template <class T, class Of, class... A>
    db_result<std::vector<T>> all(const std::string& sql, Of of, A&&... args) {
        auto q = db_.query(sql, std::forward<A>(args)...);
        if (!q) return q.error();
        std::vector<T> out;
        std::optional<db_error> damaged;
        if (auto r = q->each([&](const storage_ns::sqlite::statement& s) {
                auto v = row_of<T>(of, s);
                if (!v) {
                    damaged = v.error();
                    return false;
                }
                out.push_back(std::move(*v));
                return true;
            });
            !r)
            return r.error();
        if (damaged) return *damaged;
        return out;
    }

    /// nullopt when the election already has a candidate of that name.
    db_result<std::optional<std::int64_t>> insert_candidate(std::int64_t election, const candidate_row& c) {
        auto n = db_.run("INSERT INTO candidates(election_id, name, description) VALUES(?1, ?2, ?3)"
                         " ON CONFLICT(election_id, name) DO NOTHING",
                         election, c.name, c.description);
        if (!n) return n.error();
        if (*n == 0) return std::optional<std::int64_t>{};
        return std::optional<std::int64_t>{db_.last_insert_rowid()};
    }

    static db_result<void> done(const db_result<std::int64_t>& n) {
        if (!n) return n.error();
        return {};
    }
    static db_result<std::uint64_t> count(const db_result<std::int64_t>& n) {
        if (!n) return n.error();
        return static_cast<std::uint64_t>(*n);
    }

    storage_ns::sqlite::connection db_;
    std::mutex mu_;
};

}  // namespace ballotchain::backend
