#include <backend/pg_store.hpp>
#include <backend/sqlite_store.hpp>

#include "../support/catch_result.hpp"
#include "../support/postgres_server.hpp"
#include "../support/temp_dir.hpp"

#include <ballotchain/crypto/sha256.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// The backend's store, both models: SQLite on real files and PostgreSQL on a
// real server (one per test process, a fresh database per test). The same tests
// run against each: its operations, the one-vote-per-voter rule that ignores
// refused votes, session expiry, the outbox's claims, shared secrets and failed
// logins. Then what only one model has: files written by earlier versions of
// the backend (SQLite); two instances at once, schema versions and a server
// restart (PostgreSQL).

using namespace ballotchain;
using namespace ballotchain::backend;
using test::temp_dir;

namespace {

std::unique_ptr<sqlite_store> open_ok(const std::string& path) {
    auto s = sqlite_store::open(path);
    REQUIRE(s);
    return std::move(*s);
}

/// The PostgreSQL server of this test process (started on first use).
test::postgres_server& pg_server() {
    static test::postgres_server server;
    return server;
}

/// A fresh PostgreSQL database's URL.
std::string fresh_pg_database() {
    static std::atomic<int> n{0};
    return pg_server().create_database("store_test_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
}

std::unique_ptr<pg_store> open_pg_ok(const std::string& url, std::size_t pool = 8) {
    auto s = pg_store::open(url, pool);
    if (!s) FAIL(s.error().message);
    return std::move(*s);
}

/// Runs `f` with an empty store of each model, each in its own section.
template <class F>
void for_each_model(F f) {
    SECTION("sqlite") {
        temp_dir dir;
        auto s = open_ok(dir.file("backend.db"));
        f(static_cast<store*>(s.get()));
    }
    SECTION("postgresql") {
        auto s = open_pg_ok(fresh_pg_database());
        f(static_cast<store*>(s.get()));
    }
}

/// prefix + i + suffix (built by appending: g++ 12's -Wrestrict misfires on "x" + std::to_string(i)).
std::string numbered(std::string prefix, int i, std::string_view suffix = {}) {
    prefix += std::to_string(i);
    prefix += suffix;
    return prefix;
}

hash32 h(std::string_view label) { return sha256::hash(to_bytes(label)); }

user_row user(const std::string& email) { return {0, email, "Name of " + email, bytes{1, 2}, bytes{3, 4}, false}; }

std::int64_t add_user_ok(store& s, const std::string& email) {
    auto id = s.add_user(user(email), 1000);
    REQUIRE(id);
    REQUIRE(*id);
    return **id;
}

/// An election with candidates "a" and "b"; returns {election, candidate a}.
std::pair<std::int64_t, std::int64_t> add_election_ok(store& s, const std::string& name = "e") {
    election_row e = plain_election(name, 10, 20);
    e.description = "desc";
    e.created_ms = 5;
    auto id = s.add_election(e, {candidate_row{0, 0, "a", ""}, candidate_row{0, 0, "b", ""}});
    REQUIRE(id);
    REQUIRE(*id);
    auto cs = s.candidates(**id);
    REQUIRE(cs);
    REQUIRE(cs->size() == 2);
    return {**id, cs->front().id};
}

vote_row vote(std::int64_t u, std::pair<std::int64_t, std::int64_t> ec, std::string_view tag) {
    vote_row v;
    v.user_id = u;
    v.election_id = ec.first;
    v.candidate_id = ec.second;
    v.tx_hash = h(tag);
    v.ballot_hash = std::string(tag);
    v.raw_tx = bytes{9, 9};
    v.created_ms = 7;
    return v;
}

std::optional<std::int64_t> add_vote(store& s, const vote_row& v) {
    const vote_row* p = &v;
    auto ids = s.add_votes(std::span<const vote_row* const>(&p, 1));
    REQUIRE(ids);
    REQUIRE(ids->size() == 1);
    return ids->front();
}

void raw_exec(const std::string& path, const std::string& sql_text) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql_text.c_str(), nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    INFO(msg);
    REQUIRE(rc == SQLITE_OK);
}

/// The backend.db schema before the application id, as the backend wrote it
/// (version 0: votes with UNIQUE(user_id, election_id); version 1 without it).
std::string legacy_schema(int version) {
    std::string s = R"sql(
CREATE TABLE users(
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, full_name TEXT NOT NULL,
  salt BLOB NOT NULL, pw_hash BLOB NOT NULL, is_admin INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL);
CREATE TABLE sessions(
  token_hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), expires_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id, expires_ms);
CREATE TABLE elections(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE candidates(
  id INTEGER PRIMARY KEY, election_id INTEGER NOT NULL REFERENCES elections(id), name TEXT NOT NULL,
  description TEXT NOT NULL, UNIQUE(election_id, name));
CREATE TABLE votes(
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  election_id INTEGER NOT NULL REFERENCES elections(id), candidate_id INTEGER NOT NULL REFERENCES candidates(id),
  tx_hash BLOB NOT NULL UNIQUE, ballot_hash TEXT NOT NULL, raw_tx BLOB NOT NULL,
  status TEXT NOT NULL, validator TEXT NOT NULL DEFAULT '', block_number INTEGER, block_hash TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL, sent_ms INTEGER NOT NULL DEFAULT 0, fallback INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '')sql";
    s += version == 0 ? ",\n  UNIQUE(user_id, election_id));\n" : ");\n";
    s += "CREATE INDEX votes_open ON votes(status) WHERE status IN ('pending', 'submitted');\n";
    if (version == 1)
        s += "CREATE UNIQUE INDEX votes_one_per_voter ON votes(user_id, election_id) WHERE status != 'rejected';\n"
             "CREATE INDEX votes_by_voter ON votes(user_id, election_id, id);\n"
             "PRAGMA user_version = 1;\n";
    s += R"sql(
INSERT INTO users(id, email, full_name, salt, pw_hash, is_admin, created_ms) VALUES(1, 'old@example.org', 'Old', x'01', x'02', 1, 3);
INSERT INTO elections(id, name, description, start_ms, end_ms, created_ms) VALUES(1, 'old election', '', 0, 99, 0);
INSERT INTO candidates(id, election_id, name, description) VALUES(1, 1, 'a', '');
INSERT INTO votes(id, user_id, election_id, candidate_id, tx_hash, ballot_hash, raw_tx, status, created_ms)
  VALUES(1, 1, 1, 1, x'1111111111111111111111111111111111111111111111111111111111111111', 'b', x'00', 'rejected', 4);
)sql";
    return s;
}

}  // namespace

TEST_CASE("backend store: users and passwords", "[backend][store]") {
    for_each_model([&](store* s) {
        const auto id = add_user_ok(*s, "ann@example.org");

        auto dup = s->add_user(user("ann@example.org"), 2000);
        REQUIRE(dup);
        CHECK_FALSE(*dup);  // a conflict is a value, not an error

        auto u = s->user_by_email("ann@example.org");
        REQUIRE(u);
        REQUIRE(*u);
        CHECK((*u)->id == id);
        CHECK((*u)->full_name == "Name of ann@example.org");
        CHECK((*u)->salt == bytes{1, 2});
        CHECK((*u)->pw_hash == bytes{3, 4});
        CHECK_FALSE((*u)->is_admin);
        CHECK_FALSE(s->user_by_email("nobody@example.org").value());

        REQUIRE(s->add_session(h("t1"), id, 5000, 10));
        REQUIRE(s->set_password(id, {bytes{5}, bytes{6}, true, false}));
        u = s->user_by_email("ann@example.org");
        REQUIRE(u);
        CHECK((*u)->pw_hash == bytes{6});
        CHECK((*u)->is_admin);
        CHECK(s->user_by_session(h("t1"), 0).value());  // sessions kept

        REQUIRE(s->set_password(id, {bytes{7}, bytes{8}, false, true}));
        CHECK(s->user_by_email("ann@example.org").value()->is_admin);  // never demoted
        CHECK_FALSE(s->user_by_session(h("t1"), 0).value());          // sessions revoked
    });
}

TEST_CASE("backend store: sessions expire, are capped per user and can be revoked", "[backend][store]") {
    for_each_model([&](store* s) {
        const auto ann = add_user_ok(*s, "ann@example.org");
        const auto bob = add_user_ok(*s, "bob@example.org");

        REQUIRE(s->add_session(h("ann-1"), ann, 1000, 2));
        auto at = s->user_by_session(h("ann-1"), 999);
        REQUIRE(at);
        REQUIRE(*at);
        CHECK((*at)->id == ann);
        CHECK_FALSE(s->user_by_session(h("ann-1"), 1000).value());  // expired at its expiry time
        CHECK_FALSE(s->user_by_session(h("unknown"), 0).value());

        // At most 2 per user: the third evicts the one that expires first.
        REQUIRE(s->add_session(h("ann-2"), ann, 2000, 2));
        REQUIRE(s->add_session(h("ann-3"), ann, 3000, 2));
        CHECK_FALSE(s->user_by_session(h("ann-1"), 0).value());
        CHECK(s->user_by_session(h("ann-2"), 0).value());
        CHECK(s->user_by_session(h("ann-3"), 0).value());

        REQUIRE(s->add_session(h("bob-1"), bob, 1500, 2));
        auto purged = s->purge_sessions(2000);  // bob-1 and ann-2 have expired
        REQUIRE(purged);
        CHECK(*purged == 2);
        CHECK(s->user_by_session(h("ann-3"), 0).value());

        CHECK(s->delete_session(h("ann-3")).value());
        CHECK_FALSE(s->delete_session(h("ann-3")).value());
        REQUIRE(s->add_session(h("bob-2"), bob, 9000, 5));
        REQUIRE(s->add_session(h("bob-3"), bob, 9000, 5));
        CHECK(s->delete_user_sessions(bob).value() == 2);
        CHECK_FALSE(s->user_by_session(h("bob-2"), 0).value());
    });
}

TEST_CASE("backend store: elections and candidates", "[backend][store]") {
    for_each_model([&](store* s) {
        const auto [e, a] = add_election_ok(*s);
        auto el = s->election(e);
        REQUIRE(el);
        REQUIRE(*el);
        CHECK((*el)->name == "e");
        CHECK((*el)->start_ms == 10);
        CHECK((*el)->end_ms == 20);
        CHECK((*el)->created_ms == 5);
        CHECK_FALSE(s->election(e + 100).value());

        // Two candidates of one name: nothing stored, not even the election.
        auto bad = s->add_election(plain_election("bad", 0, 1), {candidate_row{0, 0, "x", ""}, candidate_row{0, 0, "x", ""}});
        REQUIRE(bad);
        CHECK_FALSE(*bad);
        CHECK(s->elections().value().size() == 1);

        auto c = s->add_candidate(e, {0, 0, "c", "third"});
        REQUIRE(c);
        REQUIRE(*c);
        auto again = s->add_candidate(e, {0, 0, "c", "again"});
        REQUIRE(again);
        CHECK_FALSE(*again);
        const auto cs = s->candidates(e).value();
        REQUIRE(cs.size() == 3);
        CHECK(cs[0].id == a);
        CHECK(cs[2].description == "third");
    });
}

TEST_CASE("backend store: one vote per voter and election, refused votes do not count", "[backend][store]") {
    for_each_model([&](store* s) {
        const auto ann = add_user_ok(*s, "ann@example.org");
        const auto bob = add_user_ok(*s, "bob@example.org");
        const auto e1 = add_election_ok(*s, "one");
        const auto e2 = add_election_ok(*s, "two");

        // One group commit: ann in e1 twice (the second is refused), ann in e2, bob in e1.
        const vote_row v1 = vote(ann, e1, "v1"), v1b = vote(ann, e1, "v1b"), v2 = vote(ann, e2, "v2"),
                       v3 = vote(bob, e1, "v3");
        const vote_row* batch[] = {&v1, &v1b, &v2, &v3};
        auto ids = s->add_votes(batch);
        REQUIRE(ids);
        REQUIRE(ids->size() == 4);
        CHECK((*ids)[0]);
        CHECK_FALSE((*ids)[1]);
        CHECK((*ids)[2]);
        CHECK((*ids)[3]);
        CHECK_FALSE(add_vote(*s, vote(bob, e2, "v3")));  // a repeated transaction

        auto mine = s->vote_by_user(ann, e1.first);
        REQUIRE(mine);
        REQUIRE(*mine);
        CHECK((*mine)->tx_hash == h("v1"));
        CHECK((*mine)->status == vote_status::pending);
        CHECK_FALSE(s->last_rejected_vote(ann, e1.first).value());

        // Refused by the chain: ann may vote again in e1, and sees why the first was refused.
        REQUIRE(s->mark_rejected(*(*ids)[0], "bad signature"));
        CHECK_FALSE(s->vote_by_user(ann, e1.first).value());
        auto refused = s->last_rejected_vote(ann, e1.first);
        REQUIRE(refused);
        REQUIRE(*refused);
        CHECK((*refused)->detail == "bad signature");
        const auto again = add_vote(*s, vote(ann, e1, "v1-again"));
        REQUIRE(again);
        CHECK(s->vote_by_user(ann, e1.first).value()->id == *again);
        CHECK_FALSE(add_vote(*s, vote(ann, e1, "v1-third")));  // one again

        // A late receipt for the refused vote while another is in flight: it stays refused.
        REQUIRE(s->confirm_by_tx(h("v1"), 3, "0xblock"));
        CHECK(s->vote_by_tx(h("v1")).value()->status == vote_status::rejected);
    });
}

TEST_CASE("backend store: the outbox moves pending -> submitted -> confirmed", "[backend][store]") {
    for_each_model([&](store* s) {
        const auto ann = add_user_ok(*s, "ann@example.org");
        const auto bob = add_user_ok(*s, "bob@example.org");
        const auto e = add_election_ok(*s);
        const auto a = add_vote(*s, vote(ann, e, "a"));
        const auto b = add_vote(*s, vote(bob, e, "b"));
        REQUIRE(a);
        REQUIRE(b);

        auto open = s->open_votes(10);
        REQUIRE(open);
        REQUIRE(open->size() == 2);
        CHECK(open->front().id == *a);  // oldest first
        CHECK(s->open_votes(1).value().size() == 1);

        REQUIRE(s->mark_submitted(*a, "http://v1", 100));
        REQUIRE(s->mark_sent(*b, 200));
        REQUIRE(s->mark_fallback(*b));
        auto counts = s->open_vote_counts();
        REQUIRE(counts);
        CHECK(*counts == std::vector<std::pair<vote_status, std::uint64_t>>{{vote_status::pending, 1}, {vote_status::submitted, 1}});

        REQUIRE(s->confirm_by_tx(h("a"), 7, "0xbeef"));
        const auto va = s->vote_by_tx(h("a")).value();
        REQUIRE(va);
        CHECK(va->status == vote_status::confirmed);
        CHECK(va->block_number == 7u);
        CHECK(va->block_hash == "0xbeef");
        CHECK(va->validator == "http://v1");
        CHECK(va->sent_ms == 100);
        REQUIRE(s->mark_submitted(*a, "http://v2", 300));  // no step back from confirmed
        REQUIRE(s->mark_rejected(*a, "too late"));
        CHECK(s->vote_by_tx(h("a")).value()->status == vote_status::confirmed);

        const auto vb = s->vote_by_tx(h("b")).value();
        REQUIRE(vb);
        CHECK(vb->status == vote_status::pending);
        CHECK(vb->sent_ms == 200);
        CHECK(vb->fallback);
        CHECK(s->open_votes(10).value().size() == 1);
        CHECK_FALSE(s->vote_by_tx(h("none")).value());
    });
}

TEST_CASE("backend store: a vote status that is no status is a damaged row", "[backend][store]") {
    temp_dir dir;
    const auto path = dir.file("backend.db");
    auto s = open_ok(path);
    const auto ann = add_user_ok(*s, "ann@example.org");
    const auto e = add_election_ok(*s);
    const auto id = add_vote(*s, vote(ann, e, "a"));
    REQUIRE(id);
    s.reset();
    // Statuses are stored as their strings; "Pending" or "" is none of them (a damaged file).
    const std::string bad = GENERATE(as<std::string>{}, "Pending", "", "fallback");
    raw_exec(path, "UPDATE votes SET status = '" + bad + "'");
    s = open_ok(path);

    auto by_tx = s->vote_by_tx(h("a"));
    REQUIRE_FALSE(by_tx);
    CHECK(by_tx.error().code == storage_ns::sqlite_errc::corrupt);
    CHECK(storage_ns::sqlite::is_local_fault(by_tx.error().code));
    CHECK_THAT(by_tx.error().message, Catch::Contains("vote " + std::to_string(*id) + " has no valid status: '" + bad + "'"));
    CHECK_FALSE(s->vote_by_user(ann, e.first));
    CHECK(s->open_votes(10).value().empty());  // what is neither pending nor submitted is not open
    CHECK(s->open_vote_counts().value().empty());

    raw_exec(path, "UPDATE votes SET status = 'pending'");
    CHECK(s->vote_by_tx(h("a")).value()->status == vote_status::pending);
}

TEST_CASE("backend store: operations from many threads", "[backend][store]") {
    for_each_model([&](store* s) {
        const auto e = add_election_ok(*s);
        std::vector<std::thread> threads;
        std::atomic<int> failures{0};
        constexpr int per_thread = 25;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    std::string email = std::to_string(t);
                    email += '-';
                    email += std::to_string(i);
                    email += "@example.org";
                    auto id = s->add_user(user(email), 1);
                    if (!id || !*id) {
                        ++failures;
                        continue;
                    }
                    vote_row v = vote(**id, e, email);
                    const vote_row* p = &v;
                    auto ids = s->add_votes(std::span<const vote_row* const>(&p, 1));
                    if (!ids || !ids->front() || !s->open_vote_counts() || !s->user_by_email(email)) ++failures;
                }
            });
        for (auto& t : threads) t.join();
        CHECK(failures == 0);
        CHECK(s->open_votes(1000).value().size() == 4 * per_thread);
    });
}

TEST_CASE("backend store: files of earlier backends open and keep their data", "[backend][store]") {
    temp_dir dir;
    const auto path = dir.file("backend.db");
    const int legacy_version = GENERATE(0, 1);
    INFO("legacy backend.db at user_version " << legacy_version);
    raw_exec(path, "PRAGMA journal_mode=WAL;" + legacy_schema(legacy_version));

    auto s = open_ok(path);
    auto u = s->user_by_email("old@example.org");
    REQUIRE(u);
    REQUIRE(*u);
    CHECK((*u)->is_admin);
    auto old = s->vote_by_tx(hash32::from(bytes(32, 0x11)));
    REQUIRE(old);
    REQUIRE(*old);
    CHECK((*old)->status == vote_status::rejected);
    // Version 0 had UNIQUE(user_id, election_id): after the upgrade a refused vote no longer blocks.
    CHECK(add_vote(*s, vote(1, {1, 1}, "new")));
    CHECK_FALSE(add_vote(*s, vote(1, {1, 1}, "newer")));
    // Version 2: the old election is a plain one, and a secret ballot keeps no candidate (NULL).
    const auto e = s->election(1).value().value();
    CHECK(e.ballot == ballot_kind::plain);
    CHECK(e.chain == definition_status::none);
    CHECK(e.election_key.empty());
    const auto e2 = add_election_ok(*s, "after the upgrade");
    CHECK(add_vote(*s, vote(1, {e2.first, 0}, "secret")));
    CHECK(s->vote_by_user(1, e2.first).value().value().candidate_id == 0);
    s.reset();

    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT (SELECT application_id FROM pragma_application_id),"
                                   " (SELECT user_version FROM pragma_user_version)",
                               -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int64(st, 0) == sqlite_store::application_id);
    CHECK(sqlite3_column_int64(st, 1) == sqlite_store::db_schema().version());
    sqlite3_finalize(st);
    sqlite3_close(db);

    CHECK(sqlite_store::open(path));  // and again, now with the application id
}

TEST_CASE("backend store: an encrypted election keeps its ballot kind, ceremony, definition status and key",
          "[backend][store]") {
    for_each_model([&](store* s) {
        election_row e = plain_election("secret", 100, 200);
        e.ballot = ballot_kind::encrypted;
        e.key_deadline_ms = 90;
        e.threshold = 2;
        e.chain = definition_status::pending;
        const auto id = s->add_election(e, {candidate_row{0, 0, "a", ""}}).value().value();
        auto got = s->election(id).value().value();
        CHECK(got.ballot == ballot_kind::encrypted);
        CHECK(got.key_deadline_ms == 90);
        CHECK(got.threshold == 2);
        CHECK(got.chain == definition_status::pending);
        CHECK(got.election_key.empty());

        REQUIRE(s->set_definition_status(id, definition_status::submitted, ""));
        CHECK(s->election(id).value()->chain == definition_status::submitted);
        REQUIRE(s->set_definition_status(id, definition_status::final, ""));
        // Nothing leaves 'final'.
        REQUIRE(s->set_definition_status(id, definition_status::rejected, "late refusal"));
        got = s->election(id).value().value();
        CHECK(got.chain == definition_status::final);
        CHECK(got.chain_detail.empty());

        // The key is set once and never changes.
        REQUIRE(s->set_election_key(id, bytes(32, 7)));
        REQUIRE(s->set_election_key(id, bytes(32, 8)));
        CHECK(s->election(id).value()->election_key == bytes(32, 7));
        CHECK(s->elections().value().at(0).election_key == bytes(32, 7));
    });
}

TEST_CASE("backend store: a file of another application is refused with a clear error", "[backend][store]") {
    temp_dir dir;
    const auto path = dir.file("backend.db");
    raw_exec(path, "CREATE TABLE something_else(a)");
    auto s = sqlite_store::open(path);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == storage_ns::sqlite_errc::foreign_database);
    CHECK_THAT(s.error().message, Catch::Contains(path));
}

TEST_CASE("backend store: the outbox's claims keep two instances off each other's votes", "[backend][store]") {
    for_each_model([&](store* s) {
        const auto e = add_election_ok(*s);
        std::vector<std::int64_t> ids;
        for (int i = 0; i < 4; ++i) {
            vote_row v = vote(add_user_ok(*s, numbered("v", i, "@example.org")), e, numbered("c", i));
            if (i == 0) {  // stored by instance A while it sends it: claimed until 5000
                v.claimed_by = "A";
                v.claimed_until = 5000;
            }
            ids.push_back(add_vote(*s, v).value());
        }
        // B at 1000 gets the three nobody holds, oldest first, for 2000 ms.
        auto b = s->claim_open_votes("B", 10, 1000, 2000).value();
        REQUIRE(b.size() == 3);
        CHECK(b[0].id == ids[1]);
        CHECK(b[2].id == ids[3]);
        CHECK(b[0].claimed_by == "B");
        CHECK(b[0].claimed_until == 3000);
        // A at 1000 gets only its own: B's claims are live.
        auto a = s->claim_open_votes("A", 10, 1000, 4000).value();
        REQUIRE(a.size() == 1);
        CHECK(a[0].id == ids[0]);
        CHECK(a[0].claimed_until == 5000);
        // B renews its own, and `limit` bounds what it takes.
        CHECK(s->claim_open_votes("B", 2, 2000, 2000).value().size() == 2);
        // A dies: at 6000 its claim is over and B takes its vote too.
        auto later = s->claim_open_votes("B", 10, 6000, 2000).value();
        CHECK(later.size() == 4);
        // B stops cleanly: A (restarted) takes everything at once.
        REQUIRE(s->release_claims("B"));
        CHECK(s->claim_open_votes("A", 10, 6001, 2000).value().size() == 4);
        // What is final is never claimed.
        REQUIRE(s->confirm_by_tx(h("c1"), 1, "0xb"));
        CHECK(s->claim_open_votes("A", 10, 6002, 2000).value().size() == 3);
        // The claim is stored with the vote.
        CHECK(s->vote_by_tx(h("c2")).value()->claimed_by == "A");
    });
}

TEST_CASE("backend store: a claim is renewed only once half its lease is gone", "[backend][store]") {
    for_each_model([&](store* s) {
        const auto e = add_election_ok(*s);
        REQUIRE(add_vote(*s, vote(add_user_ok(*s, "r@example.org"), e, "r1")));
        CHECK(s->claim_open_votes("A", 10, 1000, 2000).value().at(0).claimed_until == 3000);
        // 1500: 1500 ms of 2000 left, nothing is written; the vote is still returned as A's.
        auto held = s->claim_open_votes("A", 10, 1500, 2000).value();
        REQUIRE(held.size() == 1);
        CHECK(held[0].claimed_until == 3000);
        CHECK(s->vote_by_tx(h("r1")).value()->claimed_until == 3000);
        // 2001: 999 ms left, less than half: renewed.
        CHECK(s->claim_open_votes("A", 10, 2001, 2000).value().at(0).claimed_until == 4001);
        CHECK(s->vote_by_tx(h("r1")).value()->claimed_until == 4001);
        // Another owner still cannot take it while it is live.
        CHECK(s->claim_open_votes("B", 10, 3000, 2000).value().empty());
    });
}

TEST_CASE("backend store: a secret is kept once, failed logins are counted and expire", "[backend][store]") {
    for_each_model([&](store* s) {
        CHECK(s->keep_secret("voter_tag", bytes(32, 1)).value() == bytes(32, 1));
        CHECK(s->keep_secret("voter_tag", bytes(32, 2)).value() == bytes(32, 1));  // the first one stays
        CHECK(s->keep_secret("other", bytes(3, 9)).value() == bytes(3, 9));

        CHECK(s->login_blocked_until("k1", "k2").value() == 0);
        CHECK(s->add_login_failure("k1", 1000, 500).value() == 1);
        CHECK(s->add_login_failure("k1", 1200, 500).value() == 2);
        CHECK(s->add_login_failure("k1", 1800, 500).value() == 1);  // 600 ms after the last: forgotten first
        REQUIRE(s->block_login("k1", 5000));
        REQUIRE(s->block_login("k1", 4000));  // never shortened
        CHECK(s->add_login_failure("k2", 1900, 500).value() == 1);
        REQUIRE(s->block_login("k2", 7000));
        CHECK(s->login_blocked_until("k1", "none").value() == 5000);
        CHECK(s->login_blocked_until("k1", "k2").value() == 7000);
        // Purged: k1's last failure is before 1850 and its wait is over at 6000; k2's wait is not.
        CHECK(s->purge_login_failures(1850, 6000).value() == 1);
        CHECK(s->login_blocked_until("k1", "k2").value() == 7000);
        REQUIRE(s->clear_login_failures("k2"));
        CHECK(s->login_blocked_until("k1", "k2").value() == 0);
    });
}

TEST_CASE("backend store (PostgreSQL): two instances take one voter's votes at the same moment: one is stored",
          "[backend][store][postgresql]") {
    const auto url = fresh_pg_database();
    auto a = open_pg_ok(url);
    auto b = open_pg_ok(url);  // a second backend on the same database: the schema is there already
    CHECK(b->version().value() == pg_store::schema_version);
    const auto e = add_election_ok(*a);
    constexpr int voters = 400;
    std::vector<std::int64_t> users;
    for (int i = 0; i < voters; ++i) users.push_back(add_user_ok(*a, numbered("u", i, "@example.org")));
    std::atomic<int> stored{0}, errors{0};
    std::latch go(2);
    // Groups of 20 (group commit), A's in ascending voter order and B's descending: without a
    // common order inside the transaction, the two would deadlock on the one-vote index.
    auto cast = [&](pg_store& s, const std::string& tag, bool descending) {
        go.wait();
        for (int g = 0; g < voters; g += 20) {
            std::vector<vote_row> rows;
            for (int j = 0; j < 20; ++j) {
                const int i = descending ? voters - 1 - (g + j) : g + j;
                rows.push_back(vote(users[static_cast<std::size_t>(i)], e, numbered(tag, i)));
            }
            std::vector<const vote_row*> ptrs;
            for (const auto& r : rows) ptrs.push_back(&r);
            auto ids = s.add_votes(ptrs);
            if (!ids) {
                ++errors;
                continue;
            }
            for (const auto& id : *ids) stored += id ? 1 : 0;
        }
    };
    std::thread ta([&] {
        go.count_down();
        cast(*a, "a", false);
    }),
        tb([&] {
            go.count_down();
            cast(*b, "b", true);
        });
    ta.join();
    tb.join();
    CHECK(errors == 0);
    CHECK(stored == voters);  // each voter exactly once, whichever instance won
    for (int i = 0; i < voters; ++i) CHECK(b->vote_by_user(users[static_cast<std::size_t>(i)], e.first).value());
    // Claims from both at once: every open vote goes to exactly one of them.
    std::vector<vote_row> ca, cb;
    std::thread xa([&] { ca = a->claim_open_votes("A", 1000, 10, 60'000).value(); }),
        xb([&] { cb = b->claim_open_votes("B", 1000, 10, 60'000).value(); });
    xa.join();
    xb.join();
    CHECK(ca.size() + cb.size() == voters);
    for (const auto& v : ca)
        for (const auto& w : cb) CHECK(v.id != w.id);
}

TEST_CASE("backend store (PostgreSQL): a newer schema or another application's database is refused",
          "[backend][store][postgresql]") {
    {
        const auto url = fresh_pg_database();
        (void)open_pg_ok(url);
        const auto db = url.substr(url.rfind('/') + 1, url.find('?') - url.rfind('/') - 1);
        pg_server().query(db, "UPDATE ballotchain_schema SET version = 99");
        auto s = pg_store::open(url);
        REQUIRE_FALSE(s);
        CHECK(s.error().code == make_error(pg::errc::schema));
        CHECK_THAT(s.error().message, Catch::Contains("schema version 99") && Catch::Contains("upgrade the backend"));
    }
    {
        const auto url = fresh_pg_database();
        const auto db = url.substr(url.rfind('/') + 1, url.find('?') - url.rfind('/') - 1);
        pg_server().query(db, "CREATE TABLE something_else(a INTEGER)");
        auto s = pg_store::open(url);
        REQUIRE_FALSE(s);
        CHECK_THAT(s.error().message, Catch::Contains("not a ballotchain backend database"));
    }
    auto bad = pg_store::open("postgresql://ballotchain:secret@127.0.0.1:1/none?connect_timeout=2");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == make_error(pg::errc::connection));
    CHECK_THAT(bad.error().message, !Catch::Contains("secret"));  // the password is not repeated
}

TEST_CASE("backend store (PostgreSQL): after a server restart the store goes on without being reopened",
          "[backend][store][postgresql]") {
    test::postgres_server server;  // its own: this test stops it
    const auto url = server.create_database("restart");
    auto s = open_pg_ok(url, 2);
    const auto e = add_election_ok(*s);
    const auto ann = add_user_ok(*s, "ann@example.org");
    server.stop();
    auto down = s->vote_by_user(ann, e.first);
    REQUIRE_FALSE(down);
    CHECK(down.error().code == make_error(pg::errc::connection));
    server.restart();
    // The pooled connections died with the server; the next operations reconnect.
    for (int i = 0; i < 3; ++i) CHECK(s->elections().value().size() == 1);
    CHECK(add_vote(*s, vote(ann, e, "after")));
    CHECK(s->vote_by_user(ann, e.first).value());
}

TEST_CASE("backend store (PostgreSQL): a group larger than one INSERT statement is stored whole, in one transaction",
          "[backend][store][postgresql]") {
    const auto url = fresh_pg_database();
    auto s = open_pg_ok(url);
    const auto e = add_election_ok(*s);
    const auto db = url.substr(url.rfind('/') + 1, url.find('?') - url.rfind('/') - 1);
    constexpr int voters = 2100;  // three statements of at most 1,000 rows
    pg_server().query(db, "INSERT INTO users(email, full_name, salt, pw_hash, created_ms) SELECT 'u' || g || "
                          "'@example.org', 'u', '\\x01', '\\x02', 0 FROM generate_series(1, " +
                              std::to_string(voters) + ") g");
    std::vector<vote_row> rows;
    for (int i = voters; i >= 1; --i) rows.push_back(vote(i, e, numbered("g", i)));
    rows.push_back(vote(7, e, "second-of-7"));  // a second vote of one voter: not stored
    std::vector<const vote_row*> ptrs;
    for (const auto& r : rows) ptrs.push_back(&r);
    const auto ids = s->add_votes(ptrs).value();
    REQUIRE(ids.size() == rows.size());
    for (std::size_t i = 0; i + 1 < rows.size(); ++i) {
        REQUIRE(ids[i]);
        CHECK(s->vote_by_tx(rows[i].tx_hash).value()->id == *ids[i]);  // each id is its own row's
    }
    CHECK_FALSE(ids.back());
    CHECK(s->open_votes(10'000).value().size() == static_cast<std::size_t>(voters));
}
