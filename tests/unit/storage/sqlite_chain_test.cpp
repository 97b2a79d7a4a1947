// blockchain<ed25519_sha256, sqlite_storage> end to end: real keys, real
// certificates, real files; reopen, genesis checks, and tampering with the file.
#include <ballotchain/storage/sqlite_storage.hpp>

#include "storage_fixture.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using ballotchain::test::chain_keys;
using ballotchain::test::label_hash;
using ballotchain::test::raw_db;
using ballotchain::test::sqlite_chain;
using ballotchain::test::temp_dir;

namespace {

sqlite_storage open_storage(const std::string& path, sqlite_options o = {}) {
    std::string why;
    auto s = sqlite_storage::open(path, o, &why);
    INFO(why);
    REQUIRE(s.has_value());
    return std::move(*s);
}

sqlite_chain open_chain(const genesis_config& g, const std::string& path, sqlite_options o = {}) {
    auto c = sqlite_chain::open(g, open_storage(path, o));
    REQUIRE(c.has_value());
    return std::move(*c);
}

/// Appends `blocks` blocks of `per_block` votes, spread over elections 1 and 2.
/// Vote numbers start at `*n` (voter tags are unique by number).
void grow(sqlite_chain& c, const chain_keys& keys, int blocks, int per_block, std::uint64_t& n) {
    for (int b = 0; b < blocks; ++b) {
        std::vector<vote_tx> txs;
        for (int i = 0; i < per_block; ++i, ++n) txs.push_back(keys.vote(1 + n % 2, n % 5, n));
        auto fb = keys.next_block(c, std::move(txs), static_cast<std::uint32_t>(b % 2));
        auto r = c.append(fb);
        INFO(r);
        REQUIRE(r);
    }
}

struct snapshot {
    std::uint64_t height;
    hash32 head_hash;
    tally_map t1, t2;
    std::uint64_t total;
};
snapshot snap(const sqlite_chain& c) { return {c.height(), c.head_hash(), c.tally(1), c.tally(2), c.total_txs()}; }

}  // namespace

TEST_CASE("sqlite chain: blocks survive close and reopen with the same head, tallies and lookups",
          "[storage][sqlite][chain]") {
    const chain_keys keys;
    temp_dir dir;
    const auto path = dir.file("chain.db");
    std::uint64_t n = 0;
    snapshot before{};
    std::vector<vote_tx> all;
    {
        auto c = open_chain(keys.genesis, path);
        CHECK(c.height() == 0);
        grow(c, keys, 6, 5, n);
        before = snap(c);
        REQUIRE(before.height == 6);
        REQUIRE(before.total == 30);
        for (std::uint64_t h = 1; h <= 6; ++h)
            for (const auto& tx : c.block_at(h).value().blk.txs) all.push_back(tx);
    }
    auto c = open_chain(keys.genesis, path);
    const auto after = snap(c);
    CHECK(after.height == before.height);
    CHECK(after.head_hash == before.head_hash);
    CHECK(after.t1 == before.t1);
    CHECK(after.t2 == before.t2);
    CHECK(after.total == before.total);
    std::uint64_t votes = 0;
    for (const auto& [cand, v] : after.t1) votes += v;
    for (const auto& [cand, v] : after.t2) votes += v;
    CHECK(votes == 30);
    for (const auto& tx : all) {
        const auto loc = c.find_tx(tx_hash<ed25519_sha256>(tx));
        REQUIRE(loc);
        CHECK(c.block_at(loc->height).value().blk.txs.at(loc->index) == tx);
        CHECK(c.find_vote(tx.election_id, tx.voter_tag) == loc);
    }
    const auto rep = c.verify();
    CHECK(rep.ok);
    CHECK(rep.blocks_checked == 7);
    CHECK(rep.txs_checked == 30);

    // The chain continues after the reopen.
    grow(c, keys, 2, 3, n);
    CHECK(c.height() == 8);
    CHECK(c.verify().ok);

    SECTION("offline verification through a read-only open") {
        sqlite_options ro;
        ro.read_only = true;
        auto offline = open_chain(keys.genesis, path, ro);
        CHECK(offline.height() == 8);
        CHECK(offline.head_hash() == c.head_hash());
        CHECK(offline.verify().ok);
        CHECK(offline.storage().integrity_check());
    }
    SECTION("verified on several threads: the same report, progress after every block in order") {
        std::vector<std::uint64_t> seen;
        ledger::verify_options opt{4, [&](std::uint64_t h, std::uint64_t head) {
                                       CHECK(head == 8);
                                       seen.push_back(h);
                                   }};
        const auto one = ledger::verify_chain<ed25519_sha256>(keys.genesis, c.storage());
        const auto four = ledger::verify_chain<ed25519_sha256>(keys.genesis, c.storage(), opt);
        CHECK(four.ok);
        CHECK(four.blocks_checked == one.blocks_checked);
        CHECK(four.txs_checked == one.txs_checked);
        CHECK(four.verified == one.verified);
        CHECK(four.tallies == one.tallies);
        CHECK(seen == std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
    }
}

TEST_CASE("sqlite chain: reopening with another genesis is refused", "[storage][sqlite][chain]") {
    const chain_keys keys;
    temp_dir dir;
    const auto path = dir.file("chain.db");
    std::uint64_t n = 0;
    {
        auto c = open_chain(keys.genesis, path);
        grow(c, keys, 2, 2, n);
    }
    SECTION("other validators") {
        const chain_keys other(1337, 1);
        auto c = sqlite_chain::open(other.genesis, open_storage(path));
        REQUIRE_FALSE(c.has_value());
        CHECK(c.error() == chain::errc::genesis_mismatch);
    }
    SECTION("another chain id") {
        const chain_keys other(4242, 0);
        auto c = sqlite_chain::open(other.genesis, open_storage(path));
        REQUIRE_FALSE(c.has_value());
        CHECK(c.error() == chain::errc::genesis_mismatch);
    }
    SECTION("the same genesis is accepted") {
        auto c = sqlite_chain::open(keys.genesis, open_storage(path));
        REQUIRE(c.has_value());
        CHECK(c->height() == 2);
    }
    // A refused open changed nothing on disk.
    auto s = open_storage(path);
    CHECK(s.head() == 2u);
}

TEST_CASE("sqlite chain: a second vote by one voter is refused by the chain, a duplicate tx by the storage",
          "[storage][sqlite][chain]") {
    const chain_keys keys;
    temp_dir dir;
    auto c = open_chain(keys.genesis, dir.file("dup.db"));
    std::uint64_t n = 0;
    grow(c, keys, 2, 3, n);
    const hash32 head = c.head_hash();

    SECTION("same (election, voter_tag) in a later block: duplicate_vote, nothing stored") {
        vote_tx again = keys.vote(1, 4, 100);
        const auto first = c.block_at(1).value().blk.txs[0];
        again.election_id = first.election_id;
        again.voter_tag = first.voter_tag;  // the same voter, another ballot
        sign_tx<ed25519_sha256>(again, keys.submitter);
        auto fb = keys.next_block(c, {again});
        auto r = c.append(fb);
        REQUIRE_FALSE(r);
        CHECK(r.error() == chain::errc::duplicate_vote);
        CHECK(c.head_hash() == head);
        CHECK(c.storage().head() == 2u);
    }
    SECTION("the storage itself refuses a duplicate tx hash with an error") {
        const auto old_tx = c.block_at(2).value().blk.txs[1];
        auto fb = keys.next_block(c, {keys.vote(1, 0, 200)});
        const hash32 bh = block_hash<ed25519_sha256>(fb.blk.header);
        const std::vector<hash32> ths{tx_hash<ed25519_sha256>(old_tx)};  // lie: claims an already stored tx hash
        auto r = c.storage().append(fb, bh, ths);
        REQUIRE_FALSE(r);
        CHECK(r.error() == storage_ns::errc::io_error);
        CHECK(c.storage().head() == 2u);
        CHECK(c.find_tx(tx_hash<ed25519_sha256>(old_tx)) == tx_location{2, 1});
        // The real block still goes in afterwards.
        CHECK(c.append(fb));
        CHECK(c.height() == 3);
    }
    CHECK(c.verify().ok);
}

TEST_CASE("sqlite chain: tampering with the file is found by verify() at the right height",
          "[storage][sqlite][chain][tamper]") {
    const chain_keys keys;
    temp_dir dir;
    const auto path = dir.file("tamper.db");
    constexpr std::uint64_t k = 3;
    std::uint64_t n = 0;
    finalized_block original;
    {
        auto c = open_chain(keys.genesis, path);
        grow(c, keys, 5, 4, n);
        original = c.block_at(k).value();
        REQUIRE(c.verify().ok);
    }
    const std::string where = "SELECT data FROM blocks WHERE height = " + std::to_string(k);
    const std::string update = "UPDATE blocks SET data = ?1 WHERE height = " + std::to_string(k);
    // Byte offsets inside encode(finalized_block): block tag, header, proposer signature, txs, certificate.
    constexpr std::size_t header_at = 1;
    constexpr std::size_t parent_at = header_at + 1 + 8 + 8 + 4;
    constexpr std::size_t tx0_at = 1 + codec::header_size + 64;
    const std::size_t tx0_size = encode(original.blk.txs[0]).size();

    auto flip = [&](std::size_t offset) {
        raw_db db(path);
        bytes data = db.blob(where);
        REQUIRE(data == encode(original));
        REQUIRE(offset < data.size());
        data[offset] ^= 0x01;
        REQUIRE(db.set_blob(update, data) == SQLITE_OK);
    };
    // Checked as `ballotchain verify` does: read-only, no blockchain::open (which repairs indexes).
    auto verify_file = [&](unsigned threads = 1) {
        sqlite_options ro;
        ro.read_only = true;
        return ledger::verify_chain<ed25519_sha256>(keys.genesis, open_storage(path, ro), {threads, {}});
    };
    // The same finding on one thread and with signatures checked ahead on three.
    auto verify_fails_at_k = [&](const error_code& expected) {
        for (unsigned threads : {1u, 3u}) {
            INFO("threads: " << threads);
            const auto rep = verify_file(threads);
            CHECK_FALSE(rep.ok);
            CHECK(rep.bad_height == k);
            CHECK(rep.reason == expected);
            CHECK(rep.blocks_checked == k);  // every block below k passed
        }
    };

    SECTION("a header byte: the parent link breaks") {
        flip(parent_at + 5);
        verify_fails_at_k(make_error(chain::errc::wrong_parent));
    }
    SECTION("a vote's candidate: the tx signature no longer matches") {
        flip(tx0_at + 1 + 8 + 8 + 7);  // low byte of candidate_id
        verify_fails_at_k(make_error(chain::errc::invalid_signature));
    }
    SECTION("a tx signature byte") {
        flip(tx0_at + tx0_size - 10);
        verify_fails_at_k(make_error(chain::errc::invalid_signature));
    }
    SECTION("the proposer signature") {
        flip(1 + codec::header_size + 3);
        verify_fails_at_k(make_error(chain::errc::bad_proposer_signature));
    }
    SECTION("a commit seal") {
        flip(encode(original).size() - 5);  // inside the last seal's signature
        verify_fails_at_k(make_error(chain::errc::cert_bad_seal));
    }
    SECTION("the hash column") {
        {
            raw_db db(path);
            bytes h = db.blob("SELECT hash FROM blocks WHERE height = " + std::to_string(k));
            REQUIRE(h.size() == 32);
            h[0] ^= 0x80;
            REQUIRE(db.set_blob("UPDATE blocks SET hash = ?1 WHERE height = " + std::to_string(k), h) == SQLITE_OK);
        }
        verify_fails_at_k(make_error(storage_ns::errc::bad_index));
    }
    SECTION("a tx index row pointing elsewhere") {
        {
            raw_db db(path);
            const hash32 th = tx_hash<ed25519_sha256>(original.blk.txs[2]);
            sqlite3_stmt* s = nullptr;
            REQUIRE(sqlite3_prepare_v2(db.get(), "UPDATE txs SET idx = 0 WHERE hash = ?1", -1, &s, nullptr) ==
                    SQLITE_OK);
            sqlite3_bind_blob(s, 1, th.data.data(), 32, SQLITE_TRANSIENT);
            CHECK(sqlite3_step(s) == SQLITE_DONE);
            sqlite3_finalize(s);
            CHECK(sqlite3_changes(db.get()) == 1);
        }
        verify_fails_at_k(make_error(storage_ns::errc::bad_index));
    }
    SECTION("a block replaced by a validly signed block of another chain at the same height") {
        // Everything about it is valid in isolation; only the links give it away.
        const chain_keys other(1337, 7);
        temp_dir d2;
        auto oc = open_chain(other.genesis, d2.file("other.db"));
        std::uint64_t m = 1000;
        grow(oc, other, static_cast<int>(k), 4, m);
        {
            raw_db db(path);
            REQUIRE(db.set_blob(update, encode(oc.block_at(k).value())) == SQLITE_OK);
        }
        const auto rep = verify_file();
        CHECK_FALSE(rep.ok);
        CHECK(rep.bad_height == k);
    }
    SECTION("truncated bytes: loading the block reports corrupt") {
        {
            raw_db db(path);
            bytes data = db.blob(where);
            data.resize(data.size() / 2);
            REQUIRE(db.set_blob(update, data) == SQLITE_OK);
        }
        const auto rep = verify_file();
        CHECK_FALSE(rep.ok);
        CHECK(rep.bad_height == k);
        CHECK(rep.reason == make_error(core::errc::truncated));
        CHECK(rep.detail.find("do not decode") != std::string::npos);
        auto s = open_storage(path);
        CHECK(s.load(k).error() == storage_ns::errc::corrupt);
        CHECK(s.load(k - 1));
        // The chain cannot even be rebuilt from it.
        auto c = sqlite_chain::open(keys.genesis, std::move(s));
        REQUIRE_FALSE(c.has_value());
        CHECK(c.error() == storage_ns::errc::corrupt);
    }
    SECTION("a missing block in the middle") {
        {
            raw_db db(path);
            REQUIRE(db.exec("DELETE FROM txs WHERE height = " + std::to_string(k)) == SQLITE_OK);
            REQUIRE(db.exec("DELETE FROM blocks WHERE height = " + std::to_string(k)) == SQLITE_OK);
        }
        const auto rep = verify_file();
        CHECK_FALSE(rep.ok);
        CHECK(rep.bad_height == k);
        CHECK(rep.reason == make_error(storage_ns::errc::not_found));
        CHECK(rep.blocks_checked == k);
        auto s = open_storage(path);
        CHECK(s.head() == 5u);
        CHECK(s.load(k).error() == storage_ns::errc::not_found);
        auto c = sqlite_chain::open(keys.genesis, std::move(s));
        REQUIRE_FALSE(c.has_value());
        CHECK(c.error() == storage_ns::errc::not_found);
    }
    SECTION("a stored block 0 whose certificate was changed: verify names block 0, open refuses it") {
        const std::string w0 = "SELECT data FROM blocks WHERE height = 0";
        const std::string u0 = "UPDATE blocks SET data = ?1 WHERE height = 0";
        const finalized_block g0 = make_genesis_block<ed25519_sha256>(keys.genesis);
        struct variant {
            const char* what;
            std::function<void(finalized_block&)> change;
        };
        const variant variants[] = {
            {"height", [](finalized_block& fb) { fb.cert.height = 7; }},
            {"round", [](finalized_block& fb) { fb.cert.round = 3; }},
            {"block_hash", [](finalized_block& fb) { fb.cert.block_hash.data[5] ^= 1; }},
            {"an extra junk seal", [](finalized_block& fb) { fb.cert.seals.push_back({1, signature{}}); }},
        };
        for (const auto& v : variants) {
            INFO(v.what);
            finalized_block t = g0;
            v.change(t);
            {
                raw_db db(path);
                REQUIRE(db.blob(w0) == encode(g0));
                REQUIRE(db.set_blob(u0, encode(t)) == SQLITE_OK);
            }
            const auto rep = verify_file();
            CHECK_FALSE(rep.ok);
            CHECK(rep.bad_height == 0u);
            CHECK(rep.reason == make_error(chain::errc::genesis_mismatch));
            CHECK(rep.detail.find("certificate") != std::string::npos);
            auto c = sqlite_chain::open(keys.genesis, open_storage(path));
            REQUIRE_FALSE(c.has_value());
            CHECK(c.error() == chain::errc::genesis_mismatch);
            raw_db db(path);
            REQUIRE(db.set_blob(u0, encode(g0)) == SQLITE_OK);
        }
        CHECK(verify_file().ok);
    }
    SECTION("untouched: verify passes (the checks above can tell)") {
        auto c = open_chain(keys.genesis, path);
        CHECK(c.verify().ok);
    }
}

namespace {

/// Runs one statement with a 32-byte blob bound to ?1; returns the rows changed.
int exec_with_hash(raw_db& db, const std::string& sql, const hash32& h) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    sqlite3_bind_blob(st, 1, h.data.data(), 32, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    REQUIRE(rc == SQLITE_DONE);
    return sqlite3_changes(db.get());
}

ledger::verify_report verify_read_only(const genesis_config& g, const std::string& path) {
    sqlite_options ro;
    ro.read_only = true;
    return ledger::verify_chain<ed25519_sha256>(g, open_storage(path, ro));
}

}  // namespace

TEST_CASE("sqlite chain: a forged index row for a vote in no block is found by verify, and open rebuilds the index",
          "[storage][sqlite][chain][tamper][index]") {
    const chain_keys keys;
    temp_dir dir;
    const auto path = dir.file("forged.db");
    std::uint64_t n = 0;
    {
        auto c = open_chain(keys.genesis, path);
        grow(c, keys, 3, 3, n);
    }
    // Voter 500 never voted; the forged row claims they did, in election 1, at block 2 index 7.
    const vote_tx never = keys.vote(1, 0, 500);
    const hash32 forged = label_hash("forged tx", 1);
    {
        raw_db db(path);
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db.get(), "INSERT INTO txs(hash, height, idx, election, voter_tag) VALUES(?1, 2, 7, 1, ?2)",
                                   -1, &st, nullptr) == SQLITE_OK);
        sqlite3_bind_blob(st, 1, forged.data.data(), 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 2, never.voter_tag.data.data(), 32, SQLITE_TRANSIENT);
        REQUIRE(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_finalize(st);
    }
    const auto rep = verify_read_only(keys.genesis, path);
    INFO(rep.detail);
    CHECK_FALSE(rep.ok);
    CHECK(rep.reason == make_error(storage_ns::errc::bad_index));
    CHECK(rep.bad_height == 2u);
    CHECK(rep.detail.find("extra row") != std::string::npos);
    CHECK(rep.detail.find(to_hex(forged)) != std::string::npos);
    CHECK(rep.blocks_checked == 4);  // every block is fine; only the index is not

    SECTION("the lookup alone is refuted by the block it points to") {
        sqlite_options ro;
        ro.read_only = true;
        auto s = open_storage(path, ro);
        CHECK(s.find_vote(1, never.voter_tag) == tx_location{2, 7});  // what the index says
        CHECK_FALSE(ledger::find_vote_confirmed(s, 1, never.voter_tag).loc);
        CHECK(ledger::find_vote_confirmed(s, 1, never.voter_tag).index_disagrees);
    }
    SECTION("a read-only open cannot repair it and refuses") {
        sqlite_options ro;
        ro.read_only = true;
        auto c = sqlite_chain::open(keys.genesis, open_storage(path, ro));
        REQUIRE_FALSE(c.has_value());
        CHECK(c.error() == storage_ns::sqlite_errc::read_only);
    }
    SECTION("a writable open rebuilds the index; the voter who never voted is accepted") {
        auto c = open_chain(keys.genesis, path);
        CHECK(c.index_check().problems == 1);
        CHECK(c.index_check().repaired);
        REQUIRE(c.index_check().examples.size() == 1);
        CHECK(c.index_check().examples[0].find(to_hex(forged)) != std::string::npos);
        CHECK(c.check_tx(never));
        CHECK(c.verify().ok);
        REQUIRE(c.append(keys.next_block(c, {never})));
        CHECK(c.find_vote(1, never.voter_tag) == tx_location{4, 0});
        CHECK(verify_read_only(keys.genesis, path).ok);
    }
}

TEST_CASE("sqlite chain: an index row whose election was changed is found by verify; after open a second vote is refused",
          "[storage][sqlite][chain][tamper][index]") {
    const chain_keys keys;
    temp_dir dir;
    const auto path = dir.file("moved.db");
    std::uint64_t n = 0;
    vote_tx voted;
    {
        auto c = open_chain(keys.genesis, path);
        grow(c, keys, 3, 3, n);
        voted = c.block_at(2).value().blk.txs[1];
    }
    {
        raw_db db(path);
        CHECK(exec_with_hash(db, "UPDATE txs SET election = election + 100 WHERE hash = ?1", tx_hash<ed25519_sha256>(voted)) == 1);
    }
    const auto rep = verify_read_only(keys.genesis, path);
    INFO(rep.detail);
    CHECK_FALSE(rep.ok);
    CHECK(rep.reason == make_error(storage_ns::errc::bad_index));
    CHECK(rep.bad_height == 2u);
    CHECK(rep.detail.find("(election, voter_tag)") != std::string::npos);
    CHECK(rep.detail.find(to_hex(voted.voter_tag)) != std::string::npos);

    // The same voter, another ballot in the same election.
    vote_tx again = keys.vote(voted.election_id, voted.candidate_id + 1, 900);
    again.voter_tag = voted.voter_tag;
    sign_tx<ed25519_sha256>(again, keys.submitter);
    auto c = open_chain(keys.genesis, path);
    CHECK(c.index_check().problems >= 1);
    CHECK(c.index_check().repaired);
    CHECK(c.check_tx(again).error() == chain::errc::duplicate_vote);
    CHECK(c.append(keys.next_block(c, {again})).error() == chain::errc::duplicate_vote);
    CHECK(c.verify().ok);
}

TEST_CASE("sqlite chain: open repairs swapped block hashes, a removed tx row and junk rows in one transaction",
          "[storage][sqlite][chain][tamper][index]") {
    const chain_keys keys;
    temp_dir dir;
    const auto path = dir.file("swapped.db");
    std::uint64_t n = 0;
    {
        auto c = open_chain(keys.genesis, path);
        grow(c, keys, 4, 2, n);
    }
    {
        raw_db db(path);
        REQUIRE(db.exec("UPDATE blocks SET hash = X'00' WHERE height = 1") == SQLITE_OK);
        const bytes h2 = db.blob("SELECT hash FROM blocks WHERE height = 2");
        const bytes h3 = db.blob("SELECT hash FROM blocks WHERE height = 3");
        REQUIRE(db.exec("UPDATE blocks SET hash = X'aa' WHERE height = 2") == SQLITE_OK);
        REQUIRE(db.set_blob("UPDATE blocks SET hash = ?1 WHERE height = 3", h2) == SQLITE_OK);
        REQUIRE(db.set_blob("UPDATE blocks SET hash = ?1 WHERE height = 2", h3) == SQLITE_OK);
        REQUIRE(db.exec("UPDATE txs SET idx = 4294967297 WHERE height = 3 AND idx = 1") == SQLITE_OK);  // 2^32 + 1
        REQUIRE(db.exec("DELETE FROM txs WHERE height = 4 AND idx = 0") == SQLITE_OK);
        REQUIRE(db.exec("INSERT INTO blocks(height, hash, data) VALUES(-5, X'01', X'02')") == SQLITE_OK);
    }
    const auto rep = verify_read_only(keys.genesis, path);
    CHECK_FALSE(rep.ok);
    CHECK(rep.bad_height == 1u);
    CHECK(rep.reason == make_error(storage_ns::errc::bad_index));
    auto c = open_chain(keys.genesis, path);
    CHECK(c.index_check().problems >= 4);
    CHECK(c.index_check().repaired);
    CHECK(c.height() == 4);
    const auto after = verify_read_only(keys.genesis, path);
    INFO(after.detail);
    CHECK(after.ok);
    CHECK(after.blocks_checked == 5);
}
