#include <ballotchain/storage/sqlite.hpp>

#include "storage_fixture.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

// Tests of the SQLite layer itself (storage/sqlite.hpp) on real files.

using namespace ballotchain;
namespace sql = ballotchain::storage_ns::sqlite;
using ballotchain::storage_ns::sqlite_errc;
using ballotchain::test::temp_dir;

namespace {

constexpr std::int32_t test_app_id = 0x54455354;  // "TEST"

/// Version 1: a key-value table with every column type.
sql::schema schema_v1() {
    return {test_app_id,
            {sql::sql_migration("CREATE TABLE t(k INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB,"
                                " u TEXT UNIQUE)")},
            ""};
}

/// Version 2: version 1 and a column added by a second migration.
sql::schema schema_v2() {
    auto s = schema_v1();
    s.migrations.push_back(sql::sql_migration("ALTER TABLE t ADD COLUMN extra TEXT NOT NULL DEFAULT 'added'"));
    return s;
}

sql::connection open_ok(const std::string& path, const sql::schema& s = schema_v1(), const sql::options& o = {}) {
    auto c = sql::connection::open(path, s, o);
    REQUIRE(c);
    return std::move(*c);
}

std::int64_t count_rows(sql::connection& c) {
    auto q = c.query("SELECT count(*) FROM t");
    REQUIRE(q);
    REQUIRE(q->step().value());
    return q->int64(0);
}

/// A plain SQLite file written without the layer (another application, or an old file).
void raw_exec(const std::string& path, const char* sql_text) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql_text, nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    INFO(msg);
    REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("sqlite layer: a new file is durable, WAL, with the owner's application id and version",
          "[storage][sqlite_layer]") {
    temp_dir dir;
    auto c = open_ok(dir.file("a.db"));
    CHECK(c.schema_version() == 1);
    auto pragma = [&](const char* p) {
        auto q = c.query(p);
        REQUIRE(q);
        REQUIRE(q->step().value());
        return q->get<std::string>(0);
    };
    CHECK(pragma("PRAGMA journal_mode") == "wal");
    CHECK(pragma("PRAGMA synchronous") == "2");  // FULL
    CHECK(pragma("PRAGMA foreign_keys") == "1");
    CHECK(pragma("PRAGMA application_id") == std::to_string(test_app_id));
    CHECK(pragma("PRAGMA user_version") == "1");
}

TEST_CASE("sqlite layer: every type binds and reads back", "[storage][sqlite_layer]") {
    temp_dir dir;
    auto c = open_ok(dir.file("types.db"));
    const std::uint64_t big = std::numeric_limits<std::uint64_t>::max() - 5;  // above 2^63
    const hash32 h = ballotchain::test::label_hash("h", 1);
    const bytes blob{1, 0, 2, 0, 3};
    const std::string text("a\0b", 3);  // an embedded NUL survives

    REQUIRE(c.run("INSERT INTO t(k, i, r, s, b) VALUES(?1, ?2, ?3, ?4, ?5)", 1, big, 2.5, text, blob));
    REQUIRE(c.run("INSERT INTO t(k, i, r, s, b) VALUES(?1, ?2, ?3, ?4, ?5)", std::int64_t{2}, true, 0.0,
                  std::string_view("view"), h));
    REQUIRE(c.run("INSERT INTO t(k, i, r, s, b) VALUES(?1, ?2, ?3, ?4, ?5)", 3, std::optional<std::int64_t>{},
                  nullptr, std::nullopt, std::optional<hash32>{}));
    REQUIRE(c.run("INSERT INTO t(k, i, r, s, b) VALUES(?1, ?2, ?3, ?4, ?5)", 4, std::optional<int>{-7}, -1.25,
                  std::string(), bytes{}));
    REQUIRE(c.run("INSERT INTO t(k, i, s, b) VALUES(?1, ?2, ?3, ?4)", 5, std::numeric_limits<std::int64_t>::min(),
                  "c-string", byte_view(blob).subspan(0, 2)));

    auto q = c.query("SELECT i, r, s, b, typeof(b) FROM t WHERE k = ?1", 1);
    REQUIRE(q);
    REQUIRE(q->step().value());
    CHECK(q->get<std::uint64_t>(0) == big);
    CHECK(q->get<double>(1) == 2.5);
    CHECK(q->get<std::string>(2) == text);
    CHECK(q->get<bytes>(3) == blob);
    CHECK_FALSE(q->fixed<32>(3));  // 5 bytes are not a hash32: absent, not padded
    CHECK_FALSE(q->step().value());

    REQUIRE(q->bind(2));
    REQUIRE(q->step().value());
    CHECK(q->get<bool>(0));
    CHECK(q->get<std::string>(2) == "view");
    CHECK(q->get<std::optional<hash32>>(3) == h);
    CHECK(q->fixed<32>(3) == h);

    REQUIRE(q->bind(3));
    REQUIRE(q->step().value());
    for (int i = 0; i < 4; ++i) CHECK(q->is_null(i));
    CHECK_FALSE(q->get<std::optional<std::int64_t>>(0));
    CHECK_FALSE(q->get<std::optional<std::string>>(2));
    CHECK_FALSE(q->get<std::optional<hash32>>(3));

    REQUIRE(q->bind(4));
    REQUIRE(q->step().value());
    CHECK(q->get<std::optional<std::int64_t>>(0) == -7);
    CHECK(q->get<int>(0) == -7);
    CHECK(q->get<double>(1) == -1.25);
    CHECK(q->get<std::optional<std::string>>(2) == std::string());  // empty text, not NULL
    CHECK(q->text(4) == "blob");                                     // empty blob, not NULL
    CHECK(q->get<bytes>(3).empty());

    REQUIRE(q->bind(5));
    REQUIRE(q->step().value());
    CHECK(q->get<std::int64_t>(0) == std::numeric_limits<std::int64_t>::min());
    CHECK(q->get<std::string>(2) == "c-string");
    CHECK(q->get<bytes>(3) == bytes{1, 0});
}

TEST_CASE("sqlite layer: statements are cached, and errors keep SQLite's message", "[storage][sqlite_layer]") {
    temp_dir dir;
    auto c = open_ok(dir.file("stmt.db"));
    const char* text = "SELECT k FROM t WHERE k = ?1";
    sqlite3_stmt* first = nullptr;
    {
        auto a = c.prepare(text);
        REQUIRE(a);
        first = a->native_handle();
        auto b = c.prepare(text);  // the cached one is in use: a second one
        REQUIRE(b);
        CHECK(b->native_handle() != first);
    }
    auto again = c.prepare(text);
    REQUIRE(again);
    CHECK(again->native_handle() == first);

    auto wrong_count = c.query(text, 1, 2);
    REQUIRE_FALSE(wrong_count);
    CHECK(wrong_count.error().code == sqlite_errc::sql_error);

    auto bad = c.prepare("SELECT nope FROM t");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == sqlite_errc::sql_error);
    CHECK_THAT(bad.error().message, Catch::Contains("no such column: nope"));
    CHECK_FALSE(sql::is_local_fault(bad.error()));

    REQUIRE(c.run("INSERT INTO t(k, u) VALUES(1, 'x')"));
    auto dup = c.run("INSERT INTO t(k, u) VALUES(2, 'x')");
    REQUIRE_FALSE(dup);
    CHECK(dup.error().code == sqlite_errc::constraint);
    CHECK(sql::is_conflict(dup.error()));
    CHECK_FALSE(sql::is_local_fault(dup.error()));
    CHECK_THAT(dup.error().message, Catch::Contains("UNIQUE constraint failed: t.u"));
}

TEST_CASE("sqlite layer: the transaction guard commits, and rolls back on an exception or early return",
          "[storage][sqlite_layer]") {
    temp_dir dir;
    auto c = open_ok(dir.file("tx.db"));

    {
        auto tx = c.begin();
        REQUIRE(tx);
        REQUIRE(c.run("INSERT INTO t(k) VALUES(1)"));
        REQUIRE(tx->commit());
        CHECK_FALSE(tx->active());
    }
    CHECK(count_rows(c) == 1);

    auto early_return = [&](bool fail) -> storage_ns::db_result<void> {
        auto tx = c.begin();
        if (!tx) return tx.error();
        if (auto r = c.run("INSERT INTO t(k) VALUES(2)"); !r) return r.error();
        if (fail) return storage_ns::db_error{make_error(sqlite_errc::sql_error), "gave up"};
        return tx->commit();
    };
    CHECK_FALSE(early_return(true));
    CHECK_FALSE(c.in_transaction());
    CHECK(count_rows(c) == 1);

    CHECK_THROWS_AS(
        [&] {
            auto tx = c.begin();
            REQUIRE(tx);
            REQUIRE(c.run("INSERT INTO t(k) VALUES(3)"));
            throw std::runtime_error("boom");
        }(),
        std::runtime_error);
    CHECK_FALSE(c.in_transaction());
    CHECK(count_rows(c) == 1);

    {  // no nesting
        auto tx = c.begin();
        REQUIRE(tx);
        auto inner = c.begin();
        REQUIRE_FALSE(inner);
        CHECK(inner.error().code == sqlite_errc::misuse);
    }
    CHECK(early_return(false));
    CHECK(count_rows(c) == 2);
}

TEST_CASE("sqlite layer: a failed COMMIT is reported and nothing of the transaction stays",
          "[storage][sqlite_layer]") {
    temp_dir dir;
    // A deferred foreign key is checked only at COMMIT, so COMMIT itself fails.
    const sql::schema s{test_app_id,
                        {sql::sql_migration("CREATE TABLE parent(id INTEGER PRIMARY KEY);"
                                            "CREATE TABLE child(id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id)"
                                            " DEFERRABLE INITIALLY DEFERRED)")},
                        ""};
    auto c = open_ok(dir.file("commit.db"), s);
    auto tx = c.begin();
    REQUIRE(tx);
    REQUIRE(c.run("INSERT INTO child(id, p) VALUES(1, 42)"));  // no parent 42
    auto r = tx->commit();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == sqlite_errc::constraint);
    CHECK_THAT(r.error().message, Catch::Contains("commit failed") && Catch::Contains("FOREIGN KEY"));
    CHECK_FALSE(tx->active());
    CHECK_FALSE(c.in_transaction());
    auto q = c.query("SELECT count(*) FROM child");
    REQUIRE(q);
    REQUIRE(q->step().value());
    CHECK(q->int64(0) == 0);
}

TEST_CASE("sqlite layer: a database locked by another connection is reported busy, a local fault",
          "[storage][sqlite_layer]") {
    temp_dir dir;
    const auto path = dir.file("busy.db");
    auto holder = open_ok(path);
    sql::options quick;
    quick.busy_timeout_ms = 50;
    auto other = open_ok(path, schema_v1(), quick);

    auto tx = holder.begin();
    REQUIRE(tx);
    REQUIRE(holder.run("INSERT INTO t(k) VALUES(1)"));

    auto blocked = other.begin();
    REQUIRE_FALSE(blocked);
    CHECK(blocked.error().code == sqlite_errc::busy);
    CHECK(sql::is_local_fault(blocked.error()));
    CHECK_FALSE(sql::is_conflict(blocked.error()));
    auto write = other.run("INSERT INTO t(k) VALUES(2)");
    REQUIRE_FALSE(write);
    CHECK(write.error().code == sqlite_errc::busy);

    REQUIRE(tx->commit());
    REQUIRE(other.run("INSERT INTO t(k) VALUES(2)"));
    CHECK(count_rows(holder) == 2);
}

TEST_CASE("sqlite layer: files of another application or a newer schema are refused", "[storage][sqlite_layer]") {
    temp_dir dir;

    SECTION("another application id") {
        const auto path = dir.file("foreign.db");
        raw_exec(path, "PRAGMA application_id = 1234; CREATE TABLE x(a)");
        auto c = sql::connection::open(path, schema_v1());
        REQUIRE_FALSE(c);
        CHECK(c.error().code == sqlite_errc::foreign_database);
        CHECK_THAT(c.error().message, Catch::Contains("1234") && Catch::Contains(path));
    }
    SECTION("application id 0 with tables but not the owner's legacy table") {
        const auto path = dir.file("other.db");
        raw_exec(path, "CREATE TABLE x(a)");
        auto c = sql::connection::open(path, schema_v1());
        REQUIRE_FALSE(c);
        CHECK(c.error().code == sqlite_errc::foreign_database);
    }
    SECTION("not an SQLite file") {
        const auto path = dir.file("text.db");
        std::ofstream(path) << std::string(4096, 'x');
        auto c = sql::connection::open(path, schema_v1());
        REQUIRE_FALSE(c);
        CHECK(c.error().code == sqlite_errc::not_a_database);
        CHECK_THAT(c.error().message, Catch::Contains(path));
    }
    SECTION("a schema newer than this build knows") {
        const auto path = dir.file("newer.db");
        open_ok(path, schema_v2());
        auto c = sql::connection::open(path, schema_v1());
        REQUIRE_FALSE(c);
        CHECK(c.error().code == sqlite_errc::schema_too_new);
        CHECK_THAT(c.error().message, Catch::Contains("schema version 2") && Catch::Contains("up to 1"));
    }
}

TEST_CASE("sqlite layer: an older schema is migrated, keeping its rows", "[storage][sqlite_layer]") {
    temp_dir dir;
    const auto path = dir.file("old.db");
    {
        auto c = open_ok(path, schema_v1());
        REQUIRE(c.run("INSERT INTO t(k, s) VALUES(1, 'kept')"));
    }
    SECTION("read-only: refused, not upgraded") {
        sql::options ro;
        ro.read_only = true;
        auto c = sql::connection::open(path, schema_v2(), ro);
        REQUIRE_FALSE(c);
        CHECK(c.error().code == sqlite_errc::schema_too_old);
    }
    SECTION("a failing migration leaves the file at its version") {
        auto s = schema_v2();
        s.migrations.push_back(sql::sql_migration("CREATE TABLE broken("));
        auto c = sql::connection::open(path, s);
        REQUIRE_FALSE(c);
        CHECK(c.error().code == sqlite_errc::sql_error);
        CHECK_THAT(c.error().message, Catch::Contains("from schema version 2 to 3"));
        auto v1 = open_ok(path, schema_v1());  // neither migration 2 nor 3 stayed
        CHECK(v1.schema_version() == 1);
    }
    auto c = open_ok(path, schema_v2());
    CHECK(c.schema_version() == 2);
    auto q = c.query("SELECT s, extra FROM t WHERE k = 1");
    REQUIRE(q);
    REQUIRE(q->step().value());
    CHECK(q->text(0) == "kept");
    CHECK(q->text(1) == "added");
    auto v = c.query("PRAGMA user_version");
    REQUIRE(v);
    REQUIRE(v->step().value());
    CHECK(v->int64(0) == 2);
}

TEST_CASE("sqlite layer: a file from before the application id is adopted through its legacy table",
          "[storage][sqlite_layer]") {
    temp_dir dir;
    const auto path = dir.file("legacy.db");
    raw_exec(path, "CREATE TABLE t(k INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, u TEXT UNIQUE);"
                   "INSERT INTO t(k) VALUES(9); PRAGMA user_version = 1;");
    auto s = schema_v2();
    s.legacy_table = "t";
    auto c = open_ok(path, s);
    CHECK(c.schema_version() == 2);
    CHECK(count_rows(c) == 1);
    auto q = c.query("PRAGMA application_id");
    REQUIRE(q);
    REQUIRE(q->step().value());
    CHECK(q->int64(0) == test_app_id);
}

TEST_CASE("sqlite layer: a full database is reported as a local fault, not a conflict", "[storage][sqlite_layer]") {
    temp_dir dir;
    auto c = open_ok(dir.file("full.db"));
    // SQLite's own size limit stands in for a full disk: the same SQLITE_FULL.
    std::int64_t limit = 0;
    {
        auto pages = c.query("PRAGMA page_count");
        REQUIRE(pages);
        REQUIRE(pages->step().value());
        limit = pages->int64(0) + 4;
    }
    REQUIRE(c.exec("PRAGMA max_page_count = " + std::to_string(limit)));

    std::optional<storage_ns::db_error> failure;
    for (int k = 0; k < 100 && !failure; ++k) {
        auto tx = c.begin();
        REQUIRE(tx);
        auto r = c.run("INSERT INTO t(k, b) VALUES(?1, ?2)", k, bytes(2048, static_cast<byte>(k)));
        if (!r) {
            failure = r.error();
            break;
        }
        if (auto cm = tx->commit(); !cm) failure = cm.error();
    }
    REQUIRE(failure);
    CHECK(failure->code == sqlite_errc::full);
    CHECK(sql::is_local_fault(*failure));
    CHECK_FALSE(sql::is_conflict(*failure));
    CHECK_THAT(failure->message, Catch::Contains("full"));
    CHECK_FALSE(c.in_transaction());
    // What was committed before stays readable.
    CHECK(count_rows(c) > 0);
}
