// An encrypted election on a chain in SQLite storage, the input of the independent verifier
// (tests/tools/verify_election.py, ctest `election_python`): 3 trustees, a cheating dealer
// disqualified by a complaint, 30 ballots, the tally decrypted by 2 trustees, next to a plain
// election and a plain vote in an election that is not on the chain. With
// BALLOTCHAIN_ELECTION_RECORD_DIR set, the chain stays there as chain.db with genesis.json,
// expected.json (what the chain says about each election, for the verifier to match) and
// keys.json (the fixed test secrets, so the check can re-sign a block it tampers with).
#include "../support/election_world.hpp"
#include "../support/temp_dir.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace ballotchain;
using namespace ballotchain::test;

namespace {

using sql_chain = ledger::blockchain<S, sqlite_storage>;

/// $BALLOTCHAIN_ELECTION_RECORD_DIR (emptied of an earlier chain and kept), else `tmp`.
std::string record_dir(std::unique_ptr<temp_dir>& tmp) {
    if (const char* d = std::getenv("BALLOTCHAIN_ELECTION_RECORD_DIR"); d && *d) {
        std::filesystem::create_directories(d);
        for (const char* f : {"chain.db", "chain.db-wal", "chain.db-shm"}) std::filesystem::remove(std::filesystem::path(d) / f);
        return d;
    }
    tmp = std::make_unique<temp_dir>("ballotchain-election-record");
    return tmp->path().string();
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text << '\n';
    REQUIRE(out.good());
}

/// election_world over SQLite storage in the record directory.
struct record_world : election_world<sql_chain> {
    std::unique_ptr<temp_dir> tmp;
    std::string dir;
    record_world() : record_world(std::unique_ptr<temp_dir>{}, std::string{}) {}

private:
    // The directory is made while the base opens the chain (in the constructor's parameters,
    // which outlive the base's construction), then moved into the members.
    record_world(std::unique_ptr<temp_dir> t, std::string d)
        : election_world([&t, &d](const genesis_config& g) {
              d = record_dir(t);
              return sql_chain::open(g, sqlite_storage::open(d + "/chain.db").value()).value();
          }),
          tmp(std::move(t)),
          dir(std::move(d)) {}
};

/// 0x-hex of a point.
std::string hex_of(const ristretto::point& p) { return to_hex(p.view()); }

}  // namespace

TEST_CASE("election record for the independent verifier: cheating dealer, 30 ballots, two decryptions",
          "[chain][election][record]") {
    record_world w;
    constexpr std::uint64_t board = 9, poll = 3, legacy = 2;
    w.block({w.define(board, {election::ballot_kind::encrypted, "Board", {{1, "Alice"}, {2, "Bob"}, {3, "Carol"}},
                              w.t0 + 10'000, w.t0 + 20'000, w.t0 + 10'000, 2}),
             w.define(poll, {election::ballot_kind::plain, "Poll", {{7, "Yes"}, {8, "No"}}, w.t0 + 2'000, w.t0 + 30'000, 0, 0}),
             w.net.vote(1, legacy, 4)});
    w.block(w.owed({1, 2, 3}));  // trustee keys
    REQUIRE(w.c.election_state().trustee_keys().size() == 3);

    // Trustee 3 deals trustee 1 a share that does not match its commitments (and re-proves the dealing).
    auto dealings = w.owed({1, 2, 3});
    REQUIRE(dealings.size() == 3);
    w.cheat(dealings[2], 3, 1);
    for (std::uint64_t v = 1; v <= 5; ++v) dealings.push_back(w.net.vote(v, poll, v % 2 ? 7 : 8));
    w.block(std::move(dealings));
    // Verdicts: trustee 1 complains about dealer 3, which is disqualified; the key is ready.
    w.run_trustees({1, 2, 3});
    REQUIRE(w.state(board).ph == election::phase::ready);
    CHECK(w.state(board).disqualified == std::set<std::uint32_t>{3});
    CHECK(w.state(board).qualified == std::vector<std::uint32_t>{1, 2});

    w.until(w.t0 + 10'000);
    std::vector<std::uint64_t> expected(3, 0);
    for (std::uint64_t part = 0; part < 2; ++part) {
        std::vector<vote_tx> ballots;
        for (std::uint64_t v = 15 * part; v < 15 * (part + 1); ++v) {
            const auto choice = static_cast<std::uint32_t>((v * 7 + v / 4) % 3);
            ++expected[choice];
            ballots.push_back(election::ballot_record<S>(w.net.genesis, board, w.state(board).key, 3, choice,
                                                         voter_tag_of(100 + v), w.net.submitter, w.next_time()));
        }
        w.block(std::move(ballots));
    }
    CHECK(w.state(board).ballots == 30);

    w.until(w.t0 + 20'000);
    w.run_trustees({1, 3});  // the disqualified dealer still holds a share and decrypts with trustee 1
    REQUIRE(w.state(board).tally.has_value());
    CHECK(*w.state(board).tally == expected);
    CHECK(w.state(board).decrypted_by == std::vector<std::uint32_t>{1, 3});
    CHECK(w.c.tally(poll) == tally_map{{7, 3}, {8, 2}});
    auto rep = w.c.verify();
    CHECK(rep.ok);

    if (!w.tmp) {  // BALLOTCHAIN_ELECTION_RECORD_DIR: what the verifier must find
        const auto& e = w.state(board);
        boost::json::object tally, shares, plain;
        for (std::size_t k = 0; k < e.def.candidates.size(); ++k)
            tally[std::to_string(e.def.candidates[k].id)] = (*e.tally)[k];
        for (const auto& [j, y] : e.public_shares) shares[std::to_string(j)] = hex_of(y);
        for (const auto& [cand, n] : w.c.tally(poll)) plain[std::to_string(cand)] = n;
        boost::json::array q(e.qualified.begin(), e.qualified.end()), dq(e.disqualified.begin(), e.disqualified.end()),
            by(e.decrypted_by.begin(), e.decrypted_by.end());
        boost::json::object enc{{"id", board},          {"ballots", e.ballots},       {"qualified_dealers", q},
                                {"disqualified", dq},   {"decrypted_by", by},         {"key", hex_of(e.key)},
                                {"public_shares", shares}, {"tally", tally}};
        boost::json::object pl{{"id", poll}, {"tally", plain}};
        boost::json::object legacy_votes{{"id", legacy}, {"tally", boost::json::object{{"4", 1}}}};
        write_text(w.dir + "/expected.json",
                   boost::json::serialize(boost::json::object{{"elections", boost::json::array{enc, pl}},
                                                              {"plain_votes_without_definition", boost::json::array{legacy_votes}}}));
        write_text(w.dir + "/genesis.json", boost::json::serialize(json::to_json(w.net.genesis)));
        boost::json::array vals;
        for (int i = 0; i < 3; ++i) vals.push_back(boost::json::string(to_hex(seed(i))));
        write_text(w.dir + "/keys.json",
                   boost::json::serialize(boost::json::object{{"validators", vals}, {"submitter", to_hex(seed(100))}}));
    }
}

TEST_CASE("a stored record altered after validation: the chain still opens, verify names the block",
          "[chain][election]") {
    record_world w;
    w.block({w.define(9, {election::ballot_kind::encrypted, "Board", {{1, "A"}, {2, "B"}}, w.t0 + 10'000, w.t0 + 20'000,
                          w.t0 + 10'000, 2})});
    w.block(w.owed({1, 2, 3}));  // trustee keys
    w.block(w.owed({1, 2, 3}));  // dealings, at height 3
    REQUIRE(w.state(9).dealings.size() == 3);
    // Behind the validator's back: the first dealing's body gets an unknown version byte.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((w.dir + "/chain.db").c_str(), &db) == SQLITE_OK);
    bytes data;
    {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "SELECT data FROM blocks WHERE height = 3", -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        const auto* p = static_cast<const byte*>(sqlite3_column_blob(st, 0));
        data.assign(p, p + sqlite3_column_bytes(st, 0));
        sqlite3_finalize(st);
    }
    const std::size_t first_tx = 1 + codec::header_size + 64;
    REQUIRE(data[first_tx] == 0x07);
    REQUIRE(data[first_tx + 9] == static_cast<byte>(tx_kind::dealing));
    data[first_tx + 22] = 2;  // the body's version
    {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "UPDATE blocks SET data = ?1 WHERE height = 3", -1, &st, nullptr) == SQLITE_OK);
        sqlite3_bind_blob(st, 1, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
        REQUIRE(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    // Reopened, the replay skips the record it cannot read (no exception) ...
    auto again = sql_chain::open(w.net.genesis, sqlite_storage::open(w.dir + "/chain.db").value());
    REQUIRE(again);
    CHECK(again->election_state().find(9)->dealings.size() == 2);
    // ... and a full verification names the block.
    const auto rep = again->verify();
    CHECK_FALSE(rep.ok);
    CHECK(rep.bad_height == 3u);
}
