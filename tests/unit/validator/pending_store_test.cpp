#include <validator/pending_store.hpp>

#include "../support/catch_result.hpp"
#include "../support/temp_dir.hpp"

#include <ballotchain/crypto/sha256.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

// The validator's pending.db on real files: every operation reports its
// failure (a failed erase or drop is no longer silent) and leaves nothing half done.

using namespace ballotchain;
using ballotchain::app::dropped_vote;
using ballotchain::app::pending_store;
using ballotchain::storage_ns::sqlite_errc;
using ballotchain::test::temp_dir;

namespace {

hash32 h(std::string_view label) { return sha256::hash(to_bytes(label)); }

vote_tx tx_of(std::uint64_t n) {
    vote_tx tx;
    tx.chain_id = 7;
    tx.election_id = 1;
    tx.candidate_id = n;
    tx.encrypted_vote = bytes(16, static_cast<byte>(n));
    tx.voter_tag = h("voter" + std::to_string(n));
    tx.timestamp_ms = n;
    return tx;
}

pending_store open_ok(const std::string& path) {
    auto p = pending_store::open(path);
    REQUIRE(p);
    return std::move(*p);
}

void raw_exec(sqlite3* db, const char* sql_text) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql_text, nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    INFO(msg);
    REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("pending_store: acknowledged votes survive a reopen until final or dropped", "[validator][pending]") {
    temp_dir dir;
    const auto path = dir.file("pending.db");
    {
        auto p = open_ok(path);
        for (std::uint64_t n = 1; n <= 3; ++n) REQUIRE(p.put(h("tx" + std::to_string(n)), tx_of(n)));
        REQUIRE(p.put(h("tx1"), tx_of(1)));  // again: no-op
        CHECK(p.contains(h("tx2")).value());
        CHECK_FALSE(p.contains(h("none")).value());
        // Many in one transaction; one already there is no-op.
        const std::vector<std::pair<hash32, vote_tx>> many{{h("tx4"), tx_of(4)}, {h("tx5"), tx_of(5)}, {h("tx1"), tx_of(1)}};
        REQUIRE(p.put_many(many));
        REQUIRE(p.put_many({}));
    }
    auto p = open_ok(path);
    auto all = p.load();
    REQUIRE(all);
    REQUIRE(all->size() == 5);
    const std::vector<hash32> later{h("tx4"), h("tx5")};
    REQUIRE(p.erase(later));

    const std::vector<hash32> final_txs{h("tx1"), h("tx2")};
    REQUIRE(p.erase(final_txs));
    REQUIRE(p.drop(h("tx3"), dropped_vote{h("winner"), 9, h("block")}));
    CHECK(p.load().value().empty());
    auto d = p.dropped(h("tx3"));
    REQUIRE(d);
    REQUIRE(*d);
    CHECK((*d)->winner == h("winner"));
    CHECK((*d)->height == 9);
    CHECK((*d)->block_hash == h("block"));
    CHECK_FALSE(p.dropped(h("tx1")).value());
}

TEST_CASE("pending_store: a failed erase, drop or put_many is reported and changes nothing", "[validator][pending]") {
    temp_dir dir;
    const auto path = dir.file("pending.db");
    auto p = open_ok(path);
    REQUIRE(p.put(h("a"), tx_of(1)));
    REQUIRE(p.put(h("b"), tx_of(2)));

    // Another connection holds the write lock past the busy timeout.
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
    raw_exec(other, "BEGIN IMMEDIATE");

    const std::vector<hash32> both{h("a"), h("b")};
    auto e = p.erase(both);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == sqlite_errc::busy);
    CHECK(storage_ns::sqlite::is_local_fault(e.error()));
    auto d = p.drop(h("a"), dropped_vote{h("w"), 1, h("blk")});
    REQUIRE_FALSE(d);
    CHECK(d.error().code == sqlite_errc::busy);
    const std::vector<std::pair<hash32, vote_tx>> more{{h("c"), tx_of(3)}, {h("d"), tx_of(4)}};
    auto pm = p.put_many(more);
    REQUIRE_FALSE(pm);
    CHECK(pm.error().code == sqlite_errc::busy);

    raw_exec(other, "ROLLBACK");
    sqlite3_close(other);
    CHECK(p.load().value().size() == 2);  // nothing half removed, nothing half added
    CHECK_FALSE(p.dropped(h("a")).value());
    REQUIRE(p.erase(both));  // and the store works on
    CHECK(p.load().value().empty());
}

TEST_CASE("pending_store: a pending.db from before the application id is adopted", "[validator][pending]") {
    temp_dir dir;
    const auto path = dir.file("pending.db");
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        raw_exec(db, "CREATE TABLE pending(hash BLOB PRIMARY KEY, tx BLOB NOT NULL) WITHOUT ROWID");
        const bytes enc = encode(tx_of(5));
        const hash32 th = h("old");
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO pending VALUES(?1, ?2)", -1, &st, nullptr) == SQLITE_OK);
        sqlite3_bind_blob(st, 1, th.data.data(), 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 2, enc.data(), static_cast<int>(enc.size()), SQLITE_TRANSIENT);
        REQUIRE(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    auto p = open_ok(path);
    auto all = p.load();
    REQUIRE(all);
    REQUIRE(all->size() == 1);
    CHECK(all->front().first == h("old"));
    CHECK(all->front().second == tx_of(5));
    REQUIRE(p.drop(h("old"), dropped_vote{h("w"), 2, h("blk")}));  // the dropped table was created
}

TEST_CASE("pending_store: another application's file is refused", "[validator][pending]") {
    temp_dir dir;
    const auto path = dir.file("pending.db");
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    raw_exec(db, "CREATE TABLE photos(id INTEGER)");
    sqlite3_close(db);
    auto p = pending_store::open(path);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == sqlite_errc::foreign_database);
}
