#include <ballotchain/storage/sqlite_storage.hpp>

#include "storage_fixture.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace ballotchain;
using ballotchain::test::raw_db;
using ballotchain::test::synthetic_block;
using ballotchain::test::synthetic_tx_hashes;
using ballotchain::test::temp_dir;

namespace {

/// Appends synthetic blocks 0..n-1.
void fill(sqlite_storage& s, std::uint64_t n, std::size_t ntx = 3) {
    for (std::uint64_t h = 0; h < n; ++h) {
        const auto fb = synthetic_block(h, ntx);
        REQUIRE(s.append(fb, fb.cert.block_hash, synthetic_tx_hashes(fb)));
    }
}

std::int64_t pragma_int(raw_db& db, const char* pragma) {
    sqlite3_stmt* s = nullptr;
    std::int64_t v = -1;
    if (sqlite3_prepare_v2(db.get(), pragma, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

}  // namespace

TEST_CASE("sqlite_storage: a new file gets the schema, WAL, application id and version", "[storage][sqlite]") {
    temp_dir dir;
    const auto path = dir.file("chain.db");
    {
        auto s = sqlite_storage::open(path);
        REQUIRE(s);
        CHECK(s->path() == path);
        CHECK_FALSE(s->head());
        CHECK(s->integrity_check());
        std::int64_t fk = 0;
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(s->native_handle(), "PRAGMA foreign_keys", -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        fk = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        CHECK(fk == 1);
        REQUIRE(sqlite3_prepare_v2(s->native_handle(), "PRAGMA synchronous", -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        CHECK(sqlite3_column_int64(st, 0) == 2);  // FULL
        sqlite3_finalize(st);
    }
    raw_db db(path);
    CHECK(pragma_int(db, "PRAGMA application_id") == sqlite_storage::application_id);
    CHECK(pragma_int(db, "PRAGMA user_version") == sqlite_storage::schema_version);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode", -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
    sqlite3_finalize(st);
    for (const char* table : {"blocks", "txs", "meta"}) {
        INFO(table);
        CHECK(db.exec(std::string("SELECT count(*) FROM ") + table) == SQLITE_OK);
    }
    CHECK(db.exec("SELECT election, voter_tag FROM txs INDEXED BY txs_vote") == SQLITE_OK);
    CHECK(db.exec("SELECT election, height, idx FROM txs INDEXED BY txs_election") == SQLITE_OK);
}

TEST_CASE("sqlite_storage: a version 1 file gets the election index when opened for writing; read-only, it is refused "
          "with the reason",
          "[storage][sqlite]") {
    temp_dir dir;
    const auto path = dir.file("v1.db");
    {
        auto s = sqlite_storage::open(path);
        REQUIRE(s);
        fill(*s, 3);
    }
    {  // as version 1 left it
        raw_db db(path);
        REQUIRE(db.exec("DROP INDEX txs_election") == SQLITE_OK);
        REQUIRE(db.exec("PRAGMA user_version=1") == SQLITE_OK);
    }
    sqlite_options ro;
    ro.read_only = true;
    std::string why;
    auto r = sqlite_storage::open(path, ro, &why);
    REQUIRE_FALSE(r);
    CHECK_THAT(why, Catch::Contains("version 1"));
    auto s = sqlite_storage::open(path);
    REQUIRE(s);
    CHECK(s->election_txs(1, 100).value().size() > 0);
    raw_db db(path);
    CHECK(pragma_int(db, "PRAGMA user_version") == 2);
    CHECK(db.exec("SELECT election, height, idx FROM txs INDEXED BY txs_election") == SQLITE_OK);
}

TEST_CASE("sqlite_storage: synchronous NORMAL is applied when asked", "[storage][sqlite]") {
    temp_dir dir;
    sqlite_options o;
    o.synchronous = sqlite_options::sync_mode::normal;
    auto s = sqlite_storage::open(dir.file("n.db"), o);
    REQUIRE(s);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(s->native_handle(), "PRAGMA synchronous", -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int64(st, 0) == 1);  // NORMAL
    sqlite3_finalize(st);
}

TEST_CASE("sqlite_storage: reopening restores the exact chain", "[storage][sqlite]") {
    temp_dir dir;
    const auto path = dir.file("chain.db");
    std::vector<finalized_block> blocks;
    {
        auto s = sqlite_storage::open(path);
        REQUIRE(s);
        for (std::uint64_t h = 0; h < 6; ++h) {
            blocks.push_back(synthetic_block(h, h % 4));
            REQUIRE(s->append(blocks.back(), blocks.back().cert.block_hash, synthetic_tx_hashes(blocks.back())));
        }
        REQUIRE(s->put_meta("lock", to_bytes("round 7")));
    }
    auto s = sqlite_storage::open(path);
    REQUIRE(s);
    REQUIRE(s->head() == 5u);
    for (std::uint64_t h = 0; h < blocks.size(); ++h) {
        INFO("height " << h);
        auto fb = s->load(h);
        REQUIRE(fb);
        CHECK(*fb == blocks[h]);
        auto raw = s->load_raw(h);
        REQUIRE(raw);
        CHECK(*raw == encode(blocks[h]));
        CHECK(s->hash_at(h) == blocks[h].cert.block_hash);
        CHECK(s->height_of(blocks[h].cert.block_hash) == h);
        const auto ths = synthetic_tx_hashes(blocks[h]);
        for (std::uint32_t i = 0; i < ths.size(); ++i) {
            CHECK(s->find_tx(ths[i]) == tx_location{h, i});
            const auto& tx = blocks[h].blk.txs[i];
            CHECK(s->find_vote(tx.election_id, tx.voter_tag) == tx_location{h, i});
        }
    }
    CHECK(s->get_meta("lock") == to_bytes("round 7"));
    // And the chain continues where it stopped.
    const auto next = synthetic_block(6, 2);
    CHECK(s->append(next, next.cert.block_hash, synthetic_tx_hashes(next)));
    CHECK(s->head() == 6u);
}

TEST_CASE("sqlite_storage: a moved storage keeps working; a moved-from one answers with errors",
          "[storage][sqlite]") {
    temp_dir dir;
    auto s = sqlite_storage::open(dir.file("m.db"));
    REQUIRE(s);
    fill(*s, 2);
    sqlite_storage a = std::move(*s);
    CHECK(a.head() == 1u);
    const auto fb = synthetic_block(2, 1);
    CHECK(a.append(fb, fb.cert.block_hash, synthetic_tx_hashes(fb)));
    sqlite_storage& moved_from = *s;
    CHECK_FALSE(moved_from.head());
    CHECK(moved_from.load(0).error() == storage_ns::errc::io_error);
    CHECK(moved_from.append(fb, fb.cert.block_hash, {}).error() == storage_ns::errc::io_error);
    CHECK_FALSE(moved_from.get_meta("x"));
    // Move-assign over a live storage: the old connection is closed, the new one works.
    auto b = sqlite_storage::open(dir.file("other.db"));
    REQUIRE(b);
    *b = std::move(a);
    CHECK(b->head() == 2u);
    CHECK(b->load(2).value() == fb);
}

TEST_CASE("sqlite_storage: refused appends leave no trace and no open transaction", "[storage][sqlite]") {
    temp_dir dir;
    auto s = sqlite_storage::open(dir.file("c.db"));
    REQUIRE(s);
    fill(*s, 3);

    SECTION("a duplicate tx hash is an io_error, rolled back") {
        auto fb = synthetic_block(3, 2, 99);
        auto ths = synthetic_tx_hashes(fb);
        ths[1] = synthetic_tx_hashes(synthetic_block(1, 3))[0];  // already stored at height 1
        auto r = s->append(fb, fb.cert.block_hash, ths);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::errc::io_error);
        CHECK_THAT(s->last_error(), Catch::Contains("UNIQUE"));
        CHECK(s->head() == 2u);
        CHECK(s->load(3).error() == storage_ns::errc::not_found);
        CHECK_FALSE(s->height_of(fb.cert.block_hash));
        CHECK_FALSE(s->find_tx(ths[0]));  // the first tx row was rolled back too
        CHECK(sqlite3_get_autocommit(s->native_handle()) != 0);
    }
    SECTION("a duplicate (election, voter_tag) is an io_error, rolled back") {
        auto fb = synthetic_block(3, 2, 99);
        fb.blk.txs[1].voter_tag = synthetic_block(2, 3).blk.txs[1].voter_tag;
        fb.blk.txs[1].election_id = synthetic_block(2, 3).blk.txs[1].election_id;
        auto r = s->append(fb, fb.cert.block_hash, synthetic_tx_hashes(fb));
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::errc::io_error);
        CHECK(s->head() == 2u);
        CHECK(sqlite3_get_autocommit(s->native_handle()) != 0);
    }
    SECTION("a duplicate block hash is an io_error, rolled back") {
        auto fb = synthetic_block(3, 1, 5);
        auto r = s->append(fb, synthetic_block(0, 3).cert.block_hash, synthetic_tx_hashes(fb));
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::errc::io_error);
        CHECK(s->head() == 2u);
        CHECK_FALSE(s->find_tx(synthetic_tx_hashes(fb)[0]));
    }
    SECTION("a block encoding over the bound is refused before touching the file") {
        temp_dir d2;
        sqlite_options o;
        o.max_block_bytes = 4096;
        auto small = sqlite_storage::open(d2.file("small.db"), o);
        REQUIRE(small);
        const auto ok = synthetic_block(0, 1);
        REQUIRE(encode(ok).size() <= 4096);
        REQUIRE(small->append(ok, ok.cert.block_hash, synthetic_tx_hashes(ok)));
        const auto big = synthetic_block(1, 40);
        REQUIRE(encode(big).size() > 4096);
        CHECK(small->append(big, big.cert.block_hash, synthetic_tx_hashes(big)).error() ==
              storage_ns::sqlite_errc::block_too_large);
        CHECK(small->head() == 0u);
    }
    // Whatever was refused, the storage still appends the right block.
    const auto fb = synthetic_block(3, 2);
    CHECK(s->append(fb, fb.cert.block_hash, synthetic_tx_hashes(fb)));
    CHECK(s->head() == 3u);
}

TEST_CASE("sqlite_storage: the head is re-checked against the file inside the transaction", "[storage][sqlite]") {
    temp_dir dir;
    const auto path = dir.file("two.db");
    auto a = sqlite_storage::open(path);
    auto b = sqlite_storage::open(path);
    REQUIRE(a);
    REQUIRE(b);
    fill(*a, 2);
    CHECK_FALSE(b->head());  // cached at open
    const auto fb0 = synthetic_block(0, 3);
    CHECK(b->append(fb0, fb0.cert.block_hash, synthetic_tx_hashes(fb0)).error() == storage_ns::errc::out_of_order);
    CHECK(b->head() == 1u);  // refreshed from the file
    const auto fb2 = synthetic_block(2, 1);
    CHECK(b->append(fb2, fb2.cert.block_hash, synthetic_tx_hashes(fb2)));
    CHECK(a->load(2).value() == fb2);
}

TEST_CASE("sqlite_storage: meta keys and values are bounded", "[storage][sqlite]") {
    temp_dir dir;
    auto s = sqlite_storage::open(dir.file("meta.db"));
    REQUIRE(s);
    const std::string max_key(sqlite_storage::max_meta_key_bytes, 'k');
    CHECK(s->put_meta(max_key, to_bytes("v")));
    CHECK(s->get_meta(max_key) == to_bytes("v"));
    CHECK(s->put_meta(max_key + "k", to_bytes("v")).error() == storage_ns::sqlite_errc::key_too_long);
    CHECK_FALSE(s->get_meta(max_key + "k"));

    const bytes max_value(sqlite_storage::max_meta_value_bytes, 0x5a);
    CHECK(s->put_meta("big", max_value));
    CHECK(s->get_meta("big") == max_value);
    const bytes too_big(sqlite_storage::max_meta_value_bytes + 1, 0x5a);
    CHECK(s->put_meta("big", too_big).error() == storage_ns::sqlite_errc::value_too_large);
    CHECK(s->get_meta("big") == max_value);

    // An empty value is stored as an empty value, not as "absent".
    CHECK(s->put_meta("empty", {}));
    REQUIRE(s->get_meta("empty"));
    CHECK(s->get_meta("empty")->empty());
    CHECK(make_error(storage_ns::sqlite_errc::key_too_long).message() == "metadata key is too long");
}

TEST_CASE("sqlite_storage: read-only open serves lookups and refuses writes", "[storage][sqlite]") {
    temp_dir dir;
    const auto path = dir.file("ro.db");
    {
        auto s = sqlite_storage::open(path);
        REQUIRE(s);
        fill(*s, 3);
        REQUIRE(s->put_meta("k", to_bytes("v")));
    }
    sqlite_options ro;
    ro.read_only = true;
    auto s = sqlite_storage::open(path, ro);
    REQUIRE(s);
    CHECK(s->head() == 2u);
    CHECK(s->load(2).value() == synthetic_block(2, 3));
    CHECK(s->get_meta("k") == to_bytes("v"));
    CHECK(s->integrity_check());
    const auto fb = synthetic_block(3, 1);
    CHECK(s->append(fb, fb.cert.block_hash, synthetic_tx_hashes(fb)).error() == storage_ns::sqlite_errc::read_only);
    CHECK(s->put_meta("k", to_bytes("w")).error() == storage_ns::sqlite_errc::read_only);
    CHECK(s->head() == 2u);

    SECTION("a missing file is not created") {
        std::string why;
        auto missing = sqlite_storage::open(dir.file("missing.db"), ro, &why);
        REQUIRE_FALSE(missing);
        CHECK(missing.error() == storage_ns::errc::io_error);
        CHECK_FALSE(why.empty());
        CHECK_FALSE(std::filesystem::exists(dir.file("missing.db")));
    }
    SECTION("an empty SQLite file is not a ballotchain database") {
        std::ofstream(dir.file("empty2.db")).flush();  // a zero-length file is an empty SQLite database
        auto r = sqlite_storage::open(dir.file("empty2.db"), ro);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::sqlite_errc::foreign_database);
    }
}

TEST_CASE("sqlite_storage: files that are not ours are refused with a clear error", "[storage][sqlite]") {
    temp_dir dir;
    std::string why;

    SECTION("not an SQLite file") {
        const auto path = dir.file("text.db");
        {
            std::ofstream f(path, std::ios::binary);
            for (int i = 0; i < 200; ++i) f << "this is not a database, just some text. ";
        }
        auto r = sqlite_storage::open(path, {}, &why);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::sqlite_errc::not_a_database);
        CHECK(r.error().message() == "file is not an SQLite database");
        CHECK_THAT(why, Catch::Contains("not a database"));
    }
    SECTION("a short non-SQLite file") {
        const auto path = dir.file("short.db");
        std::ofstream(path, std::ios::binary) << "hello";
        auto r = sqlite_storage::open(path, {}, &why);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::sqlite_errc::not_a_database);
    }
    SECTION("another application's SQLite database") {
        const auto path = dir.file("other.db");
        {
            sqlite3* db = nullptr;
            REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
            REQUIRE(sqlite3_exec(db, "CREATE TABLE users(name TEXT)", nullptr, nullptr, nullptr) == SQLITE_OK);
            sqlite3_close(db);
        }
        auto r = sqlite_storage::open(path, {}, &why);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::sqlite_errc::foreign_database);
        raw_db db(path);
        CHECK(db.exec("SELECT * FROM blocks") != SQLITE_OK);  // we did not add our tables to it
    }
    SECTION("a database with another application_id") {
        const auto path = dir.file("appid.db");
        {
            sqlite3* db = nullptr;
            REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
            REQUIRE(sqlite3_exec(db, "PRAGMA application_id=42", nullptr, nullptr, nullptr) == SQLITE_OK);
            sqlite3_close(db);
        }
        auto r = sqlite_storage::open(path, {}, &why);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::sqlite_errc::foreign_database);
        CHECK_THAT(why, Catch::Contains("42"));
    }
    SECTION("a schema version from the future") {
        const auto path = dir.file("future.db");
        {
            auto s = sqlite_storage::open(path);
            REQUIRE(s);
            fill(*s, 2);
        }
        {
            raw_db db(path);
            REQUIRE(db.exec("PRAGMA user_version=" + std::to_string(sqlite_storage::schema_version + 1)) ==
                    SQLITE_OK);
        }
        auto r = sqlite_storage::open(path, {}, &why);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::sqlite_errc::schema_too_new);
        CHECK_THAT(why, Catch::Contains("schema version 3"));
        sqlite_options ro;
        ro.read_only = true;
        CHECK(sqlite_storage::open(path, ro).error() == storage_ns::sqlite_errc::schema_too_new);
    }
    SECTION("our ids but a missing table") {
        const auto path = dir.file("damaged.db");
        {
            auto s = sqlite_storage::open(path);
            REQUIRE(s);
        }
        {
            raw_db db(path);
            REQUIRE(db.exec("DROP TABLE meta") == SQLITE_OK);
        }
        auto r = sqlite_storage::open(path, {}, &why);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::errc::corrupt);
        CHECK_THAT(why, Catch::Contains("meta"));
    }
    SECTION("a directory") {
        auto r = sqlite_storage::open(dir.path().string(), {}, &why);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::errc::io_error);
    }
}

TEST_CASE("sqlite_storage: undecodable stored bytes load as corrupt", "[storage][sqlite]") {
    temp_dir dir;
    const auto path = dir.file("bad.db");
    {
        auto s = sqlite_storage::open(path);
        REQUIRE(s);
        fill(*s, 3);
    }
    {
        raw_db db(path);
        bytes data = db.blob("SELECT data FROM blocks WHERE height = 1");
        REQUIRE(data.size() > 10);
        data.pop_back();  // truncated
        REQUIRE(db.set_blob("UPDATE blocks SET data = ?1 WHERE height = 1", data) == SQLITE_OK);
        bytes other = encode(synthetic_block(5, 0));  // decodes, but claims height 5
        REQUIRE(db.set_blob("UPDATE blocks SET data = ?1 WHERE height = 2", other) == SQLITE_OK);
    }
    auto s = sqlite_storage::open(path);
    REQUIRE(s);
    CHECK(s->load(0));
    CHECK(s->load(1).error() == storage_ns::errc::corrupt);
    CHECK_THAT(s->last_error(), Catch::Contains("block 1"));
    CHECK(s->load_raw(1));  // the raw bytes are still there to inspect
    CHECK(s->load(2).error() == storage_ns::errc::corrupt);
    CHECK(s->load(3).error() == storage_ns::errc::not_found);
    CHECK(s->integrity_check());  // the file itself is sound
}

TEST_CASE("sqlite_storage: integrity_check reports a damaged file", "[storage][sqlite]") {
    temp_dir dir;
    const auto path = dir.file("damaged.db");
    {
        auto s = sqlite_storage::open(path);
        REQUIRE(s);
        for (std::uint64_t h = 0; h < 40; ++h) {
            const auto fb = synthetic_block(h, 20);
            REQUIRE(s->append(fb, fb.cert.block_hash, synthetic_tx_hashes(fb)));
        }
        // Move everything from the WAL into the main file, so the damage below hits live pages.
        REQUIRE(sqlite3_wal_checkpoint_v2(s->native_handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                          nullptr) == SQLITE_OK);
    }
    std::int64_t root = 0, page_size = 0;
    {
        raw_db db(path);
        root = pragma_int(db, "SELECT rootpage FROM sqlite_schema WHERE name = 'txs_vote'");
        page_size = pragma_int(db, "PRAGMA page_size");
    }
    REQUIRE(root > 1);
    REQUIRE(page_size >= 512);
    {
        // Wreck the b-tree page header of the (election, voter_tag) index's root:
        // opening and block lookups never read it, SQLite's own check must notice.
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>((root - 1) * page_size));
        const std::string junk(12, '\xff');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
        REQUIRE(f.good());
    }
    std::string why;
    auto s = sqlite_storage::open(path, {}, &why);
    REQUIRE(s.has_value());
    CHECK(s->load(39));
    auto r = s->integrity_check();
    REQUIRE_FALSE(r);
    CHECK(r.error() == storage_ns::errc::corrupt);
    CHECK_FALSE(s->last_error().empty());
}
