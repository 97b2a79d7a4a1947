// A chain with validator-set changes in SQLite storage, the input of the independent verifier
// (tests/tools/verify_election.py, ctest `election_python`, step 5): test_network's two changes
// (block 1 adds a validator and removes one, block 3 removes another; blocks 3-5 sealed by ids
// the genesis does not know together) and plain votes before and after. With
// BALLOTCHAIN_VALSET_RECORD_DIR set, the chain stays there as chain.db with genesis.json and
// expected.json (height, changes, the last set, the tally) and keys.json (the test secrets of
// ids 0..3 and of the submitter, so the check can re-sign a block it tampers with).
#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

using namespace ballotchain;
using namespace ballotchain::test;

TEST_CASE("validator-set change record for the independent verifier: two changes, votes before and after",
          "[chain][validator_set][valset_record]") {
    std::unique_ptr<temp_dir> tmp;
    std::string dir;
    if (const char* d = std::getenv("BALLOTCHAIN_VALSET_RECORD_DIR"); d && *d) {
        dir = d;
        std::filesystem::create_directories(dir);
        for (const char* f : {"chain.db", "chain.db-wal", "chain.db-shm"}) std::filesystem::remove(std::filesystem::path(dir) / f);
    } else {
        tmp = std::make_unique<temp_dir>("ballotchain-valset-record");
        dir = tmp->path().string();
    }
    test_network net{3};
    {
        auto c = ledger::blockchain<S, sqlite_storage>::open(net.genesis, sqlite_storage::open(dir + "/chain.db").value()).value();
        net.append_two_changes(c, {net.vote(1, 4, 1), net.vote(2, 4, 2)}, {net.vote(3, 4, 1)});
        REQUIRE(c.height() == 5);
        CHECK(c.validators().changes() == 2);
        CHECK(c.validators().at(5).members == std::vector<std::uint32_t>{2, 3});
        CHECK(c.verify().ok);
        CHECK(c.tally(4) == tally_map{{1, 2}, {2, 1}});
    }
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
        out << text << '\n';
        REQUIRE(out.good());
    };
    write("genesis.json", boost::json::serialize(json::to_json(net.genesis)));
    boost::json::array vals;  // ids 0..3 are key numbers 0..3 (fixtures.hpp seed(i))
    for (int i = 0; i < 4; ++i) vals.push_back(boost::json::string(to_hex(seed(i))));
    write("keys.json", boost::json::serialize(boost::json::object{{"validators", vals}, {"submitter", to_hex(seed(100))}}));
    write("expected.json", R"({"height": 5, "changes": 2, "members": [2, 3], "plain_votes_without_definition": [{"id": 4, "tally": {"1": 2, "2": 1}}]})");
}
