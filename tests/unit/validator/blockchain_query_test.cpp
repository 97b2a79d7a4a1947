#include <validator/blockchain_query.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>

// The validator's GET /blockchain?election_id=N: which queries it answers for every
// election, for one election, or refuses with 400 (election_param's nullopt). These
// answers are part of the RPC port's behaviour (docs/api.md) and must not change.

using ballotchain::app::election_param;

namespace {

using answer = std::optional<std::optional<std::uint64_t>>;
const answer all_elections = std::optional<std::uint64_t>{};  ///< 200, the chain summary only
const answer refused = std::nullopt;                           ///< 400
answer election(std::uint64_t n) { return std::optional<std::uint64_t>(n); }

}  // namespace

TEST_CASE("blockchain query: no election_id is every election", "[validator][query]") {
    CHECK(election_param("") == all_elections);
    CHECK(election_param("&") == all_elections);
    CHECK(election_param("foo=1") == all_elections);
    CHECK(election_param("foo=1&bar") == all_elections);
    CHECK(election_param("election_idx=3") == all_elections);  // keys are compared whole
    CHECK(election_param("xelection_id=3") == all_elections);
    CHECK(election_param("ELECTION_ID=3") == all_elections);   // and with their case
    CHECK(election_param("election%5Fid=3") == all_elections); // no percent-decoding
}

TEST_CASE("blockchain query: a bare election_id (no '=') is no election_id", "[validator][query]") {
    CHECK(election_param("election_id") == all_elections);
    CHECK(election_param("election_id&foo=1") == all_elections);
    CHECK(election_param("election_id&election_id=3") == election(3));  // the search goes on past it
}

TEST_CASE("blockchain query: election_id=N is election N", "[validator][query]") {
    CHECK(election_param("election_id=5") == election(5));
    CHECK(election_param("election_id=0") == election(0));
    CHECK(election_param("election_id=007") == election(7));
    CHECK(election_param("election_id=18446744073709551615") == election(UINT64_MAX));
    CHECK(election_param("foo=1&election_id=2") == election(2));  // other keys around it are ignored
    CHECK(election_param("election_id=2&foo=x") == election(2));
    CHECK(election_param("&&election_id=4&") == election(4));     // empty items are skipped
}

TEST_CASE("blockchain query: the first election_id= counts", "[validator][query]") {
    CHECK(election_param("election_id=1&election_id=2") == election(1));
    CHECK(election_param("election_id=1&election_id=x") == election(1));
    CHECK(election_param("election_id=x&election_id=1") == refused);
    CHECK(election_param("election_id=&election_id=1") == refused);
}

TEST_CASE("blockchain query: a value that is not a decimal u64 is refused", "[validator][query]") {
    for (const std::string bad : {"", "abc", "-1", "+1", " 1", "1 ", "1.5", "0x10", "1e3", "5#top", "%35", "1=2",
                                  "18446744073709551616", "99999999999999999999999"}) {
        INFO("election_id=" << bad);
        CHECK(election_param("election_id=" + bad) == refused);
    }
}
