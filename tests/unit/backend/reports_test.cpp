#include <backend/reports.hpp>

#include <backend/sqlite_store.hpp>

#include "../support/catch_result.hpp"
#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"
#include "handler_checks.hpp"
#include "scripted_validators.hpp"

#include <ballotchain/core/clock.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

// The backend's reports (apps/backend/reports.hpp) without processes: results and
// chain verification from scripted validators, reused within their time to live on
// a manual clock, and the fallback chain's verification when no validator answers.

using namespace ballotchain;
using namespace ballotchain::backend;
using test::answer;
using test::error_of;
using test::script;
using test::scripted_transport;
using test::text;

namespace {

using reports_type = reports<scripted_transport, manual_clock>;

constexpr std::uint64_t verify_ttl_ms = 10'000;
constexpr std::uint64_t results_ttl_ms = 2'000;

/// Reports over three scripted validators, a real store and an empty fallback
/// chain in a temp dir; one election with candidates "a" and "b".
struct reports_rig : test::scripted_pool_rig {
    std::unique_ptr<sqlite_store> db = sqlite_store::open(dir.file("backend.db")).value();
    fallback_ledger fallback{dir.file("fallback"), net.genesis, net.submitter.public_key(), clock.wall_ms()};
    elections<manual_clock> el{*db, clock};
    reports_type rep{*db, pool, fallback, el, clock, {verify_ttl_ms, results_ttl_ms}};
    std::int64_t election = 0, a = 0, b = 0;

    reports_rig() : scripted_pool_rig("ballotchain-reports") {
        election = db->add_election({0, "e", "", 0, ~0ull >> 2, 0}, {candidate_row{0, 0, "a", ""}, candidate_row{0, 0, "b", ""}})
                       .value()
                       .value();
        const auto cs = db->candidates(election).value();
        a = cs.at(0).id;
        b = cs.at(1).id;
        tally(3, 1);
        sc->results["poa_verifyChain"] = bjson::object{{"ok", true}, {"blocks_checked", 12}};
    }

    /// What the validators' poa_getResults says from now on: `na` votes for a, `nb` for b.
    void tally(std::uint64_t na, std::uint64_t nb) {
        sc->results["poa_getResults"] = bjson::object{
            {"results", bjson::object{{std::to_string(a), na}, {std::to_string(b), nb}}},
            {"height", 12},
            {"total_votes", na + nb}};
    }

    static std::uint64_t count_of(const bjson::object& results, std::size_t row) {
        return results.at("results").as_array().at(row).at("vote_count").to_number<std::uint64_t>();
    }
};

}  // namespace

TEST_CASE("reports: results by candidate from the validators' tally", "[backend][reports]") {
    reports_rig r;
    r.sc->results["poa_getResults"] = bjson::object{
        {"results", bjson::object{{std::to_string(r.a), 3}, {std::to_string(r.b), 1}, {"99", 2}, {"junk", 5}}},
        {"height", 12}};
    const auto out = r.rep.results(r.election);
    CHECK(out.at("election_id") == r.election);
    CHECK(out.at("election_name") == "e");
    CHECK(out.at("total_votes") == 6);  // a tally for a candidate we do not know still counts; "junk" does not
    CHECK(out.at("block_height") == 12);
    const auto& rows = out.at("results").as_array();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].at("candidate_name") == "a");
    CHECK(rows[0].at("vote_count") == 3);
    CHECK(rows[0].at("percentage") == 50.0);
    CHECK(rows[1].at("candidate_name") == "b");
    CHECK(rows[1].at("percentage") == 16.67);
    CHECK(out.at("verification").at("chain_valid") == true);
    CHECK(text(out.at("verification").at("timestamp")) == app::iso_time(r.clock.wall_ms()));

    CHECK(error_of([&] { r.rep.results(999); }).status == http::status::not_found);
}

TEST_CASE("reports: the tally and the verification are reused within their time to live", "[backend][reports]") {
    reports_rig r;
    const auto verified_at = app::iso_time(r.clock.wall_ms());
    CHECK(reports_rig::count_of(r.rep.results(r.election), 0) == 3);
    CHECK(r.sc->count("poa_getResults") == 1);
    CHECK(r.sc->count("poa_verifyChain") == 1);

    r.tally(4, 1);  // the chain moves on; the cached tally is still served
    r.clock.advance(results_ttl_ms - 1);
    CHECK(reports_rig::count_of(r.rep.results(r.election), 0) == 3);
    CHECK(r.rep.verify_blockchain(r.election).at("total_votes") == 4);  // the same tally, from the cache
    CHECK(r.sc->count("poa_getResults") == 1);
    CHECK(r.sc->count("poa_verifyChain") == 1);

    r.clock.advance(1);  // the tally is stale, the verification is not
    const auto fresh = r.rep.results(r.election);
    CHECK(reports_rig::count_of(fresh, 0) == 4);
    CHECK(text(fresh.at("verification").at("timestamp")) == verified_at);
    CHECK(r.sc->count("poa_getResults") == 2);
    CHECK(r.sc->count("poa_verifyChain") == 1);

    r.clock.advance(verify_ttl_ms - results_ttl_ms);
    const auto later = r.rep.verify_blockchain(r.election);
    CHECK(r.sc->count("poa_verifyChain") == 2);
    CHECK(text(later.at("timestamp")) == app::iso_time(r.clock.wall_ms()));
    CHECK(later.at("chain_valid") == true);
    CHECK(later.at("status") == "valid");
    CHECK(later.at("source") == "poa_validators");
    CHECK(later.at("total_blocks") == 12);

    // A tally per election: another election is looked up on its own.
    const auto e2 = r.db->add_election({0, "e2", "", 0, 1, 0}, {}).value().value();
    r.rep.results(e2);
    CHECK(r.sc->count("poa_getResults") == 4);
}

TEST_CASE("reports: with no validator, results are 503 and the fallback chain is verified", "[backend][reports]") {
    reports_rig r;
    r.sc->all(answer::down);
    const auto e = error_of([&] { r.rep.results(r.election); });
    CHECK(e.status == http::status::service_unavailable);
    CHECK(e.detail == "no validator reachable");

    const auto first_at = app::iso_time(r.clock.wall_ms());
    const auto v = r.rep.verify_blockchain(r.election);
    CHECK(v.at("source") == "fallback_chain");
    CHECK(v.at("chain_valid") == true);
    CHECK(v.at("status") == "valid");
    CHECK(v.at("total_blocks") == 0);
    CHECK(v.at("total_votes") == 0);
    CHECK(text(v.at("timestamp")) == first_at);
    CHECK(v.at("warning") == "PoA validators unreachable: verified the local fallback chain only");

    // A failed verification by the validators is not cached; the fallback chain's is.
    const auto asked = r.sc->count("poa_verifyChain");
    r.clock.advance(verify_ttl_ms - 1);
    CHECK(text(r.rep.verify_blockchain(r.election).at("timestamp")) == first_at);
    CHECK(r.sc->count("poa_verifyChain") > asked);
    r.clock.advance(1);
    CHECK(text(r.rep.verify_blockchain(r.election).at("timestamp")) == app::iso_time(r.clock.wall_ms()));

    // The validators are back: their verification again.
    r.sc->all(answer::accept);
    CHECK(r.rep.verify_blockchain(r.election).at("source") == "poa_validators");
}

TEST_CASE("reports: a validator's error answer to poa_getResults is 502", "[backend][reports]") {
    reports_rig r;
    r.sc->all(answer::refuse);
    r.sc->refuse_code = -32603;
    r.sc->refuse_message = "internal error";
    const auto e = error_of([&] { r.rep.results(r.election); });
    CHECK(e.status == http::status::bad_gateway);
    CHECK(e.detail == R"(validator error: {"code":-32603,"message":"internal error"})");
}

TEST_CASE("reports: the validators' health from the pool's last probes", "[backend][reports]") {
    reports_rig r;
    r.sc->nodes["validator-2"] = answer::down;
    r.pool.check_health();
    const auto h = r.rep.validators_health();
    CHECK(text(h.at("timestamp")) == app::iso_time(r.clock.wall_ms()));
    const auto& vs = h.at("validators").as_array();
    REQUIRE(vs.size() == 3);
    CHECK(vs[0].at("node_id") == "validator-1");
    CHECK(vs[0].at("status") == "healthy");
    CHECK(vs[1].at("status") == "unreachable");
    CHECK(h.at("summary").at("healthy") == 2);
    CHECK(h.at("summary").at("total") == 3);
    CHECK(h.at("summary").at("health_percentage") == 66.67);
}
