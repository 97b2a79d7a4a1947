#pragma once
/// @file The PostgreSQL model of the backend's store: several backend instances
/// share one database (docs/operations.md, "Several backends on PostgreSQL").
///
/// The schema is created and migrated on start, inside one transaction under an
/// advisory lock, so instances that start together do not race; its version is
/// kept in `ballotchain_schema`, and a database of a newer version (or of
/// another application) is refused with a clear message. The tables are those
/// of the SQLite model (sqlite_store.hpp), with PostgreSQL types: BIGINT
/// identities, BYTEA, BOOLEAN. A vote's status is stored as its string.
///
/// What several instances need:
/// - one vote per voter and election: the partial unique index
///   `votes_one_per_voter`; two instances inserting a vote of one voter at once
///   both reach it, one waits for the other and then finds the conflict;
/// - the outbox: `claim_open_votes` takes votes with FOR UPDATE SKIP LOCKED and
///   stamps them with the instance and a lease, so two instances never work on
///   one vote at once and the votes of an instance that died are taken over
///   when its lease ends;
/// - the voter-tag secret and failed logins live in tables every instance reads.

#include "pg.hpp"
#include "store.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ballotchain::backend {

/// @par Thread safety Every operation borrows a connection from the pool for
/// its duration (store.hpp); the pool's size bounds the connections.
class pg_store final : public store {
public:
    /// What `ballotchain_schema.application` says.
    static constexpr const char* application = "ballotchain-backend";
    /// The newest schema version this backend writes (the number of migrations).
    static constexpr int schema_version = 1;

    /// Connects to `url` (postgresql://...), creates or upgrades the schema.
    static db_result<std::unique_ptr<pg_store>> open(const std::string& url, std::size_t pool_size = 8) {
        std::unique_ptr<pg_store> s(new pg_store(url, pool_size));
        if (auto r = s->migrate(); !r) return r.error();
        return s;
    }

    /// The schema version the database is at (for tests and messages).
    db_result<int> version() {
        return pool_.with([](pg::connection& c) -> db_result<int> {
            auto r = c.exec("SELECT version FROM ballotchain_schema");
            if (!r) return r.error();
            if (r->rows() != 1) return pg::error(pg::errc::schema, "ballotchain_schema has no row");
            return static_cast<int>(r->int64(0, 0));
        });
    }

    // ---- users and sessions -------------------------------------------------------

    db_result<std::optional<std::int64_t>> add_user(const user_row& u, std::uint64_t now_ms) override {
        return first_id("INSERT INTO users(email, full_name, salt, pw_hash, is_admin, created_ms)"
                        " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING id",
                        pg::params(u.email, u.full_name, u.salt, u.pw_hash, u.is_admin, now_ms));
    }

    db_result<void> set_password(std::int64_t user, const password_change& c) override {
        return in_transaction([&](pg::connection& conn) -> db_result<void> {
            if (auto r = conn.run("UPDATE users SET salt = $2, pw_hash = $3, is_admin = is_admin OR $4 WHERE id = $1",
                                  pg::params(user, c.salt, c.pw_hash, c.make_admin));
                !r)
                return r;
            if (c.revoke_sessions) return conn.run("DELETE FROM sessions WHERE user_id = $1", pg::params(user));
            return {};
        });
    }

    db_result<std::optional<user_row>> user_by_email(const std::string& email) override {
        return one<user_row>(user_cols + " WHERE email = $1", pg::params(email), user_of);
    }

    db_result<void> add_session(const hash32& token_hash, std::int64_t user, std::uint64_t expires_ms,
                                std::size_t max_per_user) override {
        return in_transaction([&](pg::connection& conn) -> db_result<void> {
            if (auto r = conn.run("INSERT INTO sessions(token_hash, user_id, expires_ms) VALUES($1, $2, $3)",
                                  pg::params(token_hash, user, expires_ms));
                !r)
                return r;
            return conn.run("DELETE FROM sessions WHERE user_id = $1 AND token_hash NOT IN"
                            " (SELECT token_hash FROM sessions WHERE user_id = $1 ORDER BY expires_ms DESC LIMIT $2)",
                            pg::params(user, static_cast<std::int64_t>(max_per_user)));
        });
    }

    db_result<bool> delete_session(const hash32& token_hash) override {
        auto n = affected("DELETE FROM sessions WHERE token_hash = $1", pg::params(token_hash));
        if (!n) return n.error();
        return *n > 0;
    }

    db_result<std::uint64_t> delete_user_sessions(std::int64_t user) override {
        return affected("DELETE FROM sessions WHERE user_id = $1", pg::params(user));
    }

    db_result<std::optional<user_row>> user_by_session(const hash32& token_hash, std::uint64_t now_ms) override {
        return one<user_row>(
            "SELECT u.id, u.email, u.full_name, u.salt, u.pw_hash, u.is_admin FROM sessions s"
            " JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_ms > $2",
            pg::params(token_hash, now_ms), user_of);
    }

    db_result<std::uint64_t> purge_sessions(std::uint64_t now_ms) override {
        return affected("DELETE FROM sessions WHERE expires_ms <= $1", pg::params(now_ms));
    }

    // ---- elections ----------------------------------------------------------------

    db_result<std::optional<std::int64_t>> add_election(const election_row& e,
                                                        const std::vector<candidate_row>& cands) override {
        return pool_.with([&](pg::connection& conn) -> db_result<std::optional<std::int64_t>> {
            pg::transaction tx(conn);
            if (!tx.ok()) return tx.ok().error();
            auto r = conn.exec("INSERT INTO elections(name, description, start_ms, end_ms, created_ms, ballot,"
                               " key_deadline_ms, threshold, chain_status) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                               " RETURNING id",
                               pg::params(e.name, e.description, e.start_ms, e.end_ms, e.created_ms,
                                          std::string(to_string(e.ballot)), e.key_deadline_ms,
                                          static_cast<std::int64_t>(e.threshold), std::string(to_string(e.chain))));
            if (!r) return r.error();
            const std::int64_t id = r->int64(0, 0);
            for (const auto& c : cands) {
                auto cid = insert_candidate(conn, id, c);
                if (!cid) return cid.error();
                if (!*cid) return std::optional<std::int64_t>{};  // a repeated name: rolled back
            }
            if (auto c = tx.commit(); !c) return c.error();
            return std::optional<std::int64_t>{id};
        });
    }

    db_result<std::optional<std::int64_t>> add_candidate(std::int64_t election, const candidate_row& c) override {
        return pool_.with([&](pg::connection& conn) { return insert_candidate(conn, election, c); });
    }

    db_result<std::vector<election_row>> elections() override {
        return all<election_row>(election_cols + " ORDER BY id", {}, election_of);
    }

    db_result<std::optional<election_row>> election(std::int64_t id) override {
        return one<election_row>(election_cols + " WHERE id = $1", pg::params(id), election_of);
    }

    db_result<std::vector<candidate_row>> candidates(std::int64_t election) override {
        return all<candidate_row>(
            "SELECT id, election_id, name, description FROM candidates WHERE election_id = $1 ORDER BY id",
            pg::params(election), [](const pg::result& r, int i) -> db_result<candidate_row> {
                return candidate_row{r.int64(i, 0), r.int64(i, 1), r.text(i, 2), r.text(i, 3)};
            });
    }

    db_result<void> set_definition_status(std::int64_t election, definition_status st,
                                          const std::string& detail) override {
        return run("UPDATE elections SET chain_status = $2, chain_detail = $3 WHERE id = $1 AND chain_status <> 'final'",
                   pg::params(election, std::string(to_string(st)), detail));
    }

    db_result<void> set_election_key(std::int64_t election, const bytes& key) override {
        return run("UPDATE elections SET election_key = $2 WHERE id = $1 AND election_key IS NULL",
                   pg::params(election, key));
    }

    // ---- votes (the outbox) -------------------------------------------------------

    /// Rows go in in (election, voter, tx hash) order, whatever order `vs` has: two
    /// instances storing groups with the same voters take the index entries in the same
    /// order, so neither waits for the other in a cycle. A deadlock or serialization
    /// failure all the same (nothing was stored) is run again, up to 3 times.
    db_result<std::vector<std::optional<std::int64_t>>> add_votes(std::span<const vote_row* const> vs) override {
        std::vector<std::size_t> order(vs.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
            const auto* a = vs[x];
            const auto* b = vs[y];
            return std::tie(a->election_id, a->user_id, a->tx_hash.data) < std::tie(b->election_id, b->user_id, b->tx_hash.data);
        });
        for (int attempt = 1;; ++attempt) {
            auto r = add_votes_in_order(vs, order);
            if (r || r.error().code != make_error(pg::errc::retry) || attempt == 3) return r;
        }
    }

private:
    /// Rows per INSERT statement (9 parameters each; PostgreSQL takes at most 65,535).
    static constexpr std::size_t insert_rows = 1000;

    /// One INSERT per `insert_rows` rows (VALUES in `order`), all in one transaction.
    db_result<std::vector<std::optional<std::int64_t>>> add_votes_in_order(std::span<const vote_row* const> vs,
                                                                            const std::vector<std::size_t>& order) {
        return pool_.with([&](pg::connection& conn) -> db_result<std::vector<std::optional<std::int64_t>>> {
            std::vector<std::optional<std::int64_t>> ids(vs.size());
            if (vs.empty()) return ids;
            std::optional<pg::transaction> tx;  // one statement is its own transaction
            if (vs.size() > insert_rows) {
                tx.emplace(conn);
                if (!tx->ok()) return tx->ok().error();
            }
            std::map<std::string, std::size_t> at;  // tx hash → index in vs
            for (std::size_t from = 0; from < order.size(); from += insert_rows) {
                const auto to = std::min(order.size(), from + insert_rows);
                std::string sql =
                    "INSERT INTO votes(user_id, election_id, candidate_id, tx_hash, ballot_hash, raw_tx, status,"
                    " created_ms, claimed_by, claimed_until) VALUES";
                pg::params p;
                at.clear();
                for (std::size_t k = from; k < to; ++k) {
                    const vote_row* v = vs[order[k]];
                    at.emplace(std::string(v->tx_hash.begin(), v->tx_hash.end()), order[k]);
                    const auto cand = v->candidate_id ? std::optional<std::int64_t>(v->candidate_id) : std::nullopt;
                    p.add(v->user_id).add(v->election_id).add(cand).add(v->tx_hash).add(v->ballot_hash).add(v->raw_tx);
                    p.add(v->created_ms).add(v->claimed_by).add(v->claimed_until);
                    const auto base = static_cast<int>(9 * (k - from));
                    sql += k == from ? "(" : ",(";
                    for (int c = 1; c <= 9; ++c)
                        sql += '$' + std::to_string(base + c) + (c == 6 ? ",'pending'," : c == 9 ? ")" : ",");
                }
                // No conflict target: any unique index (tx hash, one vote per voter) makes a row a
                // no-op. An instance inserting the same voter's vote at this moment holds the index
                // entry; this waits for its transaction and then sees the conflict.
                sql += " ON CONFLICT DO NOTHING RETURNING id, tx_hash";
                auto r = conn.exec(sql, std::move(p));
                if (!r) return r.error();
                for (int row = 0; row < r->rows(); ++row) {
                    const auto th = r->blob(row, 1);
                    if (!th) return pg::error(pg::errc::corrupt, "an inserted vote came back without its tx hash");
                    if (const auto it = at.find(std::string(th->begin(), th->end())); it != at.end())
                        ids[it->second] = r->int64(row, 0);
                }
            }
            if (tx)
                if (auto c = tx->commit(); !c) return c.error();
            return ids;
        });
    }

public:

    db_result<std::optional<vote_row>> vote_by_user(std::int64_t user, std::int64_t election) override {
        return one<vote_row>(vote_cols + " WHERE user_id = $1 AND election_id = $2 AND status <> 'rejected'",
                             pg::params(user, election), vote_of);
    }

    db_result<std::optional<vote_row>> last_rejected_vote(std::int64_t user, std::int64_t election) override {
        return one<vote_row>(
            vote_cols + " WHERE user_id = $1 AND election_id = $2 AND status = 'rejected' ORDER BY id DESC LIMIT 1",
            pg::params(user, election), vote_of);
    }

    db_result<std::optional<vote_row>> vote_by_tx(const hash32& th) override {
        return one<vote_row>(vote_cols + " WHERE tx_hash = $1", pg::params(th), vote_of);
    }

    db_result<std::vector<vote_row>> open_votes(std::size_t limit) override {
        return all<vote_row>(vote_cols + " WHERE status IN ('pending', 'submitted') ORDER BY id LIMIT $1",
                             pg::params(static_cast<std::int64_t>(limit)), vote_of);
    }

    db_result<void> mark_submitted(std::int64_t id, const std::string& validator, std::uint64_t now_ms) override {
        return run("UPDATE votes SET status = 'submitted', validator = $2, sent_ms = $3 WHERE id = $1 AND"
                   " status <> 'confirmed'",
                   pg::params(id, validator, now_ms));
    }

    db_result<void> mark_submitted_many(std::span<const std::int64_t> ids, const std::string& validator,
                                        std::uint64_t now_ms) override {
        if (ids.empty()) return {};
        // One statement: the ids as a BIGINT[] literal.
        std::string arr = "{";
        for (std::size_t i = 0; i < ids.size(); ++i) arr += (i ? "," : "") + std::to_string(ids[i]);
        arr += '}';
        return run("UPDATE votes SET status = 'submitted', validator = $2, sent_ms = $3 WHERE id = ANY($1::bigint[])"
                   " AND status <> 'confirmed'",
                   pg::params(arr, validator, now_ms));
    }

    db_result<void> mark_sent(std::int64_t id, std::uint64_t now_ms) override {
        return run("UPDATE votes SET sent_ms = $2 WHERE id = $1", pg::params(id, now_ms));
    }

    db_result<void> mark_fallback(std::int64_t id) override {
        return run("UPDATE votes SET fallback = TRUE WHERE id = $1", pg::params(id));
    }

    db_result<void> confirm_by_tx(const hash32& th, std::uint64_t block, const std::string& block_hash) override {
        // A refused vote whose voter has another vote in flight stays refused (confirming it would
        // break the one-vote index): the NOT EXISTS, and a conflict with a vote inserted meanwhile.
        auto r = run("UPDATE votes v SET status = 'confirmed', block_number = $2, block_hash = $3"
                     " WHERE v.tx_hash = $1 AND v.status <> 'confirmed' AND (v.status <> 'rejected' OR NOT EXISTS"
                     " (SELECT 1 FROM votes o WHERE o.user_id = v.user_id AND o.election_id = v.election_id AND"
                     " o.status <> 'rejected' AND o.id <> v.id))",
                     pg::params(th, block, block_hash));
        if (!r && r.error().code == make_error(pg::errc::conflict)) return {};
        return r;
    }

    db_result<void> mark_rejected(std::int64_t id, const std::string& why) override {
        return run("UPDATE votes SET status = 'rejected', detail = $2 WHERE id = $1 AND status IN ('pending', 'submitted')",
                   pg::params(id, why));
    }

    db_result<std::vector<std::pair<vote_status, std::uint64_t>>> open_vote_counts() override {
        return all<std::pair<vote_status, std::uint64_t>>(
            "SELECT status, COUNT(*) FROM votes WHERE status IN ('pending', 'submitted') GROUP BY status ORDER BY status",
            {}, [](const pg::result& r, int i) -> db_result<std::pair<vote_status, std::uint64_t>> {
                auto st = parse_vote_status(r.text(i, 0));
                if (!st) return pg::error(pg::errc::corrupt, "open votes have no valid status: '" + r.text(i, 0) + "'");
                return std::pair{*st, r.uint64(i, 1)};
            });
    }

    // ---- several instances ------------------------------------------------------------

    db_result<std::vector<vote_row>> claim_open_votes(const std::string& owner, std::size_t limit,
                                                      std::uint64_t now_ms, std::uint64_t lease_ms) override {
        // Two statements (store.hpp): take or renew the claims that need it (no row of a claim
        // with more than half its lease left is locked or written), then read what `owner` holds.
        if (auto r = run("UPDATE votes SET claimed_by = $1, claimed_until = $3::bigint + $4::bigint WHERE id IN"
                         " (SELECT id FROM votes WHERE status IN ('pending', 'submitted') AND (claimed_until <= $3::bigint"
                         " OR (claimed_by = $1 AND claimed_until < $3::bigint + $4::bigint / 2)) ORDER BY id LIMIT $2"
                         " FOR UPDATE SKIP LOCKED)",
                         pg::params(owner, static_cast<std::int64_t>(limit), now_ms, lease_ms));
            !r)
            return r.error();
        static const std::string held = vote_cols + " WHERE status IN ('pending', 'submitted') AND claimed_by = $1 AND"
                                                    " claimed_until > $3::bigint ORDER BY id LIMIT $2";
        return all<vote_row>(held, pg::params(owner, static_cast<std::int64_t>(limit), now_ms), vote_of);
    }

    db_result<void> release_claims(const std::string& owner) override {
        return run("UPDATE votes SET claimed_until = 0 WHERE claimed_by = $1 AND claimed_until > 0 AND"
                   " status IN ('pending', 'submitted')",
                   pg::params(owner));
    }

    db_result<bytes> keep_secret(const std::string& name, const bytes& candidate) override {
        return pool_.with([&](pg::connection& conn) -> db_result<bytes> {
            if (auto r = conn.run("INSERT INTO secrets(name, value) VALUES($1, $2) ON CONFLICT (name) DO NOTHING",
                                  pg::params(name, candidate));
                !r)
                return r.error();
            auto r = conn.exec("SELECT value FROM secrets WHERE name = $1", pg::params(name));
            if (!r) return r.error();
            if (r->rows() != 1 || !r->blob(0, 0)) return pg::error(pg::errc::corrupt, "secret " + name + " was not stored");
            return *r->blob(0, 0);
        });
    }

    db_result<std::uint64_t> login_blocked_until(const std::string& a, const std::string& b) override {
        return pool_.with([&](pg::connection& conn) -> db_result<std::uint64_t> {
            auto r = conn.exec("SELECT COALESCE(MAX(blocked_until_ms), 0) FROM login_failures WHERE key IN ($1, $2)",
                               pg::params(a, b));
            if (!r) return r.error();
            return r->uint64(0, 0);
        });
    }

    db_result<std::uint32_t> add_login_failure(const std::string& key, std::uint64_t now_ms,
                                               std::uint64_t forget_ms) override {
        return pool_.with([&](pg::connection& conn) -> db_result<std::uint32_t> {
            auto r = conn.exec(
                "INSERT INTO login_failures AS f(key, failures, last_ms, blocked_until_ms) VALUES($1, 1, $2, 0)"
                " ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN f.last_ms + $3::bigint <= $2::bigint THEN 1"
                " ELSE f.failures + 1 END, last_ms = $2 RETURNING failures",
                pg::params(key, now_ms, forget_ms));
            if (!r) return r.error();
            return static_cast<std::uint32_t>(r->uint64(0, 0));
        });
    }

    db_result<void> block_login(const std::string& key, std::uint64_t until_ms) override {
        return run("UPDATE login_failures SET blocked_until_ms = $2 WHERE key = $1 AND blocked_until_ms < $2",
                   pg::params(key, until_ms));
    }

    db_result<void> clear_login_failures(const std::string& key) override {
        return run("DELETE FROM login_failures WHERE key = $1", pg::params(key));
    }

    db_result<std::uint64_t> purge_login_failures(std::uint64_t before_ms, std::uint64_t now_ms) override {
        return affected("DELETE FROM login_failures WHERE last_ms < $1 AND blocked_until_ms <= $2",
                        pg::params(before_ms, now_ms));
    }

private:
    pg_store(const std::string& url, std::size_t pool_size) : pool_(url, pool_size) {}

    /// Creates or upgrades the schema in one transaction under an advisory lock
    /// (instances starting together take turns; the second finds it done).
    db_result<void> migrate() {
        return pool_.with([](pg::connection& c) -> db_result<void> {
            pg::transaction tx(c);
            if (!tx.ok()) return tx.ok().error();
            if (auto r = c.run("SELECT pg_advisory_xact_lock(1112293957)"); !r) return r;  // "BLBE"
            auto have = c.exec("SELECT to_regclass('ballotchain_schema') IS NOT NULL");
            if (!have) return have.error();
            int version = 0;
            if (have->boolean(0, 0)) {
                auto r = c.exec("SELECT application, version FROM ballotchain_schema");
                if (!r) return r.error();
                if (r->rows() != 1 || r->text(0, 0) != application)
                    return pg::error(pg::errc::schema, "the database belongs to another application (ballotchain_schema"
                                                       " does not name " + std::string(application) + ")");
                version = static_cast<int>(r->int64(0, 1));
                if (version > schema_version)
                    return pg::error(pg::errc::schema,
                                     "the database has schema version " + std::to_string(version) +
                                         ", newer than this backend's " + std::to_string(schema_version) +
                                         ": upgrade the backend (docs/operations.md, \"Upgrades\")");
            } else {
                // A database with tables but no ballotchain_schema is someone else's: leave it alone.
                auto n = c.exec("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()");
                if (!n) return n.error();
                if (n->int64(0, 0) != 0)
                    return pg::error(pg::errc::schema, "the database has tables but is not a ballotchain backend database"
                                                       " (no ballotchain_schema table): use an empty database");
                if (auto r = c.run("CREATE TABLE ballotchain_schema(application TEXT NOT NULL, version INTEGER NOT NULL)");
                    !r)
                    return r;
                if (auto r = c.run("INSERT INTO ballotchain_schema VALUES($1, 0)", pg::params(application)); !r) return r;
            }
            static const char* const migrations[] = {migration_1};
            for (int v = version; v < schema_version; ++v)
                if (auto r = c.run(migrations[v]); !r) return r;
            if (version != schema_version)
                if (auto r = c.run("UPDATE ballotchain_schema SET version = $1", pg::params(schema_version)); !r) return r;
            return tx.commit();
        });
    }

    /// Version 1: the SQLite model's version 3, in PostgreSQL's types.
    static constexpr const char* migration_1 = R"sql(
CREATE TABLE users(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email TEXT NOT NULL UNIQUE, full_name TEXT NOT NULL,
  salt BYTEA NOT NULL, pw_hash BYTEA NOT NULL, is_admin BOOLEAN NOT NULL DEFAULT FALSE, created_ms BIGINT NOT NULL);
CREATE TABLE sessions(
  token_hash BYTEA PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id), expires_ms BIGINT NOT NULL);
CREATE INDEX sessions_user ON sessions(user_id, expires_ms);
CREATE TABLE elections(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
  start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL,
  ballot TEXT NOT NULL DEFAULT 'plain', key_deadline_ms BIGINT NOT NULL DEFAULT 0, threshold INTEGER NOT NULL DEFAULT 0,
  chain_status TEXT NOT NULL DEFAULT '', chain_detail TEXT NOT NULL DEFAULT '', election_key BYTEA);
CREATE TABLE candidates(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, election_id BIGINT NOT NULL REFERENCES elections(id),
  name TEXT NOT NULL, description TEXT NOT NULL, UNIQUE(election_id, name));
CREATE TABLE votes(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id),
  election_id BIGINT NOT NULL REFERENCES elections(id), candidate_id BIGINT REFERENCES candidates(id),
  tx_hash BYTEA NOT NULL UNIQUE, ballot_hash TEXT NOT NULL, raw_tx BYTEA NOT NULL,
  status TEXT NOT NULL, validator TEXT NOT NULL DEFAULT '', block_number BIGINT, block_hash TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL, sent_ms BIGINT NOT NULL DEFAULT 0, fallback BOOLEAN NOT NULL DEFAULT FALSE,
  detail TEXT NOT NULL DEFAULT '', claimed_by TEXT NOT NULL DEFAULT '', claimed_until BIGINT NOT NULL DEFAULT 0);
CREATE INDEX votes_open ON votes(id) WHERE status IN ('pending', 'submitted');
CREATE UNIQUE INDEX votes_one_per_voter ON votes(user_id, election_id) WHERE status <> 'rejected';
CREATE INDEX votes_by_voter ON votes(user_id, election_id, id);
CREATE TABLE secrets(name TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE login_failures(
  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_ms BIGINT NOT NULL, blocked_until_ms BIGINT NOT NULL);
)sql";

    inline static const std::string user_cols = "SELECT " + std::string(columns::user) + " FROM users";
    inline static const std::string election_cols = "SELECT " + std::string(columns::election) + " FROM elections";
    inline static const std::string vote_cols = "SELECT " + std::string(columns::vote) + " FROM votes";

    static db_result<user_row> user_of(const pg::result& r, int i) {
        auto salt = r.blob(i, 3), hash = r.blob(i, 4);
        if (!salt || !hash) return pg::error(pg::errc::corrupt, "user " + r.text(i, 0) + " has no password hash");
        return user_row{r.int64(i, 0), r.text(i, 1), r.text(i, 2), std::move(*salt), std::move(*hash), r.boolean(i, 5)};
    }
    static db_result<election_row> election_of(const pg::result& r, int i) {
        election_row e = plain_election(r.text(i, 1), r.uint64(i, 3), r.uint64(i, 4));
        e.id = r.int64(i, 0);
        e.description = r.text(i, 2);
        e.created_ms = r.uint64(i, 5);
        const auto ballot = parse_ballot_kind(r.text(i, 6));
        const auto chain = parse_definition_status(r.text(i, 9));
        if (!ballot || !chain)
            return pg::error(pg::errc::corrupt,
                             "election " + std::to_string(e.id) + " has no valid ballot kind or chain status");
        e.ballot = *ballot;
        e.key_deadline_ms = r.uint64(i, 7);
        e.threshold = static_cast<std::uint32_t>(r.uint64(i, 8));
        e.chain = *chain;
        e.chain_detail = r.text(i, 10);
        e.election_key = r.blob(i, 11).value_or(bytes{});
        return e;
    }
    static db_result<vote_row> vote_of(const pg::result& r, int i) {
        vote_row v;
        v.id = r.int64(i, 0);
        v.user_id = r.int64(i, 1);
        v.election_id = r.int64(i, 2);
        v.candidate_id = r.opt_int64(i, 3).value_or(0);
        const auto th = r.blob(i, 4);
        auto raw = r.blob(i, 6);
        if (!th || th->size() != 32 || !raw)
            return pg::error(pg::errc::corrupt, "vote " + std::to_string(v.id) + " has no valid tx hash or transaction");
        std::copy(th->begin(), th->end(), v.tx_hash.begin());
        v.ballot_hash = r.text(i, 5);
        v.raw_tx = std::move(*raw);
        const auto st = parse_vote_status(r.text(i, 7));
        if (!st)
            return pg::error(pg::errc::corrupt,
                             "vote " + std::to_string(v.id) + " has no valid status: '" + r.text(i, 7).substr(0, 32) + "'");
        v.status = *st;
        v.validator = r.text(i, 8);
        if (const auto b = r.opt_int64(i, 9)) v.block_number = static_cast<std::uint64_t>(*b);
        v.block_hash = r.text(i, 10);
        v.created_ms = r.uint64(i, 11);
        v.sent_ms = r.uint64(i, 12);
        v.fallback = r.boolean(i, 13);
        v.detail = r.text(i, 14);
        v.claimed_by = r.text(i, 15);
        v.claimed_until = r.uint64(i, 16);
        return v;
    }

    /// nullopt when the election already has a candidate of that name.
    static db_result<std::optional<std::int64_t>> insert_candidate(pg::connection& conn, std::int64_t election,
                                                                   const candidate_row& c) {
        auto r = conn.exec("INSERT INTO candidates(election_id, name, description) VALUES($1, $2, $3)"
                           " ON CONFLICT (election_id, name) DO NOTHING RETURNING id",
                           pg::params(election, c.name, c.description));
        if (!r) return r.error();
        if (r->rows() == 0) return std::optional<std::int64_t>{};
        return std::optional<std::int64_t>{r->int64(0, 0)};
    }

    template <class Op>
    db_result<void> in_transaction(Op op) {
        return pool_.with([&](pg::connection& conn) -> db_result<void> {
            pg::transaction tx(conn);
            if (!tx.ok()) return tx.ok();
            if (auto r = op(conn); !r) return r;
            return tx.commit();
        });
    }

    db_result<void> run(const std::string& sql, pg::params p) {
        return pool_.with([&](pg::connection& conn) { return conn.run(sql, p); });
    }

    db_result<std::uint64_t> affected(const std::string& sql, pg::params p) {
        return pool_.with([&](pg::connection& conn) -> db_result<std::uint64_t> {
            auto r = conn.exec(sql, p);
            if (!r) return r.error();
            return static_cast<std::uint64_t>(r->affected());
        });
    }

    db_result<std::optional<std::int64_t>> first_id(const std::string& sql, pg::params p) {
        return pool_.with([&](pg::connection& conn) -> db_result<std::optional<std::int64_t>> {
            auto r = conn.exec(sql, p);
            if (!r) return r.error();
            if (r->rows() == 0) return std::optional<std::int64_t>{};
            return std::optional<std::int64_t>{r->int64(0, 0)};
        });
    }

    template <class T, class Of>
    db_result<std::optional<T>> one(const std::string& sql, pg::params p, Of of) {
        return pool_.with([&](pg::connection& conn) -> db_result<std::optional<T>> {
            auto r = conn.exec(sql, p);
            if (!r) return r.error();
            if (r->rows() == 0) return std::optional<T>{};
            auto v = of(*r, 0);
            if (!v) return v.error();
            return std::optional<T>{std::move(*v)};
        });
    }

    template <class T, class Of>
    db_result<std::vector<T>> all(const std::string& sql, pg::params p, Of of) {
        return pool_.with([&](pg::connection& conn) -> db_result<std::vector<T>> {
            auto r = conn.exec(sql, p);
            if (!r) return r.error();
            std::vector<T> out;
            out.reserve(static_cast<std::size_t>(r->rows()));
            for (int i = 0; i < r->rows(); ++i) {
                auto v = of(*r, i);
                if (!v) return v.error();
                out.push_back(std::move(*v));
            }
            return out;
        });
    }

    pg::pool pool_;
};

}  // namespace ballotchain::backend
