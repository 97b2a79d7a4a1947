#include <backend/reports.hpp>

#include <backend/outbox.hpp>
#include <backend/sqlite_store.hpp>

#include "../support/catch_result.hpp"
#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"
#include "handler_checks.hpp"
#include "validators_rig.hpp"

#include <ballotchain/core/clock.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

// The backend's reports (apps/backend/reports.hpp) without processes: results
// (a tally the client re-derives from verified blocks) and chain verification
// from validators in memory over a real chain, reused within their time to
// live on a manual clock, the fallback chain's verification when no validator
// answers, and the validators' health, lying ones shown misbehaving.

using namespace ballotchain;
using namespace ballotchain::backend;
using test::error_of;
using test::node_mode;
using test::text;

namespace {

using reports_type = reports<test::chain_transport, manual_clock>;

constexpr std::uint64_t verify_ttl_ms = 10'000;
constexpr std::uint64_t results_ttl_ms = 2'000;

/// Reports over three validators in memory, a real store and an empty
/// fallback chain in a temp dir; one election with candidates "a" and "b",
/// and a block on the chain with 3 votes for a and 1 for b.
struct reports_rig : test::validators_rig {
    std::unique_ptr<sqlite_store> db = sqlite_store::open(dir.file("backend.db")).value();
    fallback_ledger fallback{dir.file("fallback"), net.genesis, net.submitter.public_key(), clock.wall_ms()};
    elections<manual_clock> el{*db, clock};
    reports_type rep{*db, *client, fallback, el, clock, {verify_ttl_ms, results_ttl_ms}};
    std::int64_t election = 0, a = 0, b = 0;
    std::uint64_t next_voter = 1;

    reports_rig() : validators_rig("ballotchain-reports") {
        election = db->add_election(plain_election("e", 0, ~0ull >> 2), {candidate_row{0, 0, "a", ""}, candidate_row{0, 0, "b", ""}})
                       .value()
                       .value();
        const auto cs = db->candidates(election).value();
        a = cs.at(0).id;
        b = cs.at(1).id;
        cast({{a, 3}, {b, 1}});
    }

    /// One final block with `n` new voters' votes for each (candidate, n) of `votes`.
    std::uint64_t cast(std::initializer_list<std::pair<std::int64_t, std::uint64_t>> votes) {
        std::vector<vote_tx> txs;
        for (const auto& [cand, n] : votes)
            for (std::uint64_t k = 0; k < n; ++k)
                txs.push_back(net.vote(next_voter++, static_cast<std::uint64_t>(election), static_cast<std::uint64_t>(cand)));
        return w->finalize(std::move(txs));
    }

    static std::uint64_t count_of(const bjson::object& results, std::size_t row) {
        return results.at("results").as_array().at(row).at("vote_count").to_number<std::uint64_t>();
    }
};

}  // namespace

TEST_CASE("reports: results by candidate from the verified tally", "[backend][reports]") {
    reports_rig r;
    r.cast({{99, 2}});  // votes for a candidate the backend does not know
    const auto out = r.rep.results(r.election);
    CHECK(out.at("election_id") == r.election);
    CHECK(out.at("election_name") == "e");
    CHECK(out.at("total_votes") == 6);  // a tally for a candidate we do not know still counts
    CHECK(out.at("block_height") == 2);
    CHECK(out.at("tally_verified") == true);
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

    // The client counted the blocks itself, and kept its position: a restarted backend's client resumes there.
    CHECK(r.client->follower().height == 2);
    CHECK(std::filesystem::exists(r.dir.file("follower.json")));
    r.connect();  // (the reports above hold the old client: not used again)
    CHECK(r.client->follower_load_error().empty());
    CHECK(r.client->follower().height == 2);
    CHECK(r.client->follower().tallies.at(static_cast<std::uint64_t>(r.election)).at(static_cast<std::uint64_t>(r.a)) == 3);
}

TEST_CASE("reports: the tally and the verification are reused within their time to live", "[backend][reports]") {
    reports_rig r;
    const auto verified_at = app::iso_time(r.clock.wall_ms());
    CHECK(reports_rig::count_of(r.rep.results(r.election), 0) == 3);
    CHECK(r.w->count("poa_getResults") == 1);
    CHECK(r.w->count("poa_verifyChain") == 1);

    r.cast({{r.a, 1}});  // the chain moves on; the cached tally is still served
    r.clock.advance(results_ttl_ms - 1);
    CHECK(reports_rig::count_of(r.rep.results(r.election), 0) == 3);
    CHECK(r.rep.verify_blockchain(r.election).at("total_votes") == 4);  // the same tally, from the cache
    CHECK(r.w->count("poa_getResults") == 1);
    CHECK(r.w->count("poa_verifyChain") == 1);

    r.clock.advance(1);  // the tally is stale, the verification is not
    const auto fresh = r.rep.results(r.election);
    CHECK(reports_rig::count_of(fresh, 0) == 4);
    CHECK(text(fresh.at("verification").at("timestamp")) == verified_at);
    CHECK(r.w->count("poa_getResults") == 2);
    CHECK(r.w->count("poa_verifyChain") == 1);

    r.clock.advance(verify_ttl_ms - results_ttl_ms);
    const auto later = r.rep.verify_blockchain(r.election);
    CHECK(r.w->count("poa_verifyChain") == 2);
    CHECK(text(later.at("timestamp")) == app::iso_time(r.clock.wall_ms()));
    CHECK(later.at("chain_valid") == true);
    CHECK(later.at("status") == "valid");
    CHECK(later.at("source") == "poa_validators");
    CHECK(later.at("total_blocks") == r.w->node.height() + 1);  // block 0 counts
    CHECK(later.at("total_votes") == 5);
    CHECK(later.at("verified_hash_certified") == true);  // the validator's verified prefix ends at a certified block
    CHECK(later.at("tally_verified") == true);
    CHECK(text(later.at("validator")).rfind("validator-", 0) == 0);

    // A tally per election: another election is looked up on its own.
    const auto e2 = r.db->add_election(plain_election("e2", 0, 1), {}).value().value();
    CHECK(r.rep.results(e2).at("total_votes") == 0);
    CHECK(r.w->count("poa_getResults") == 4);
}

TEST_CASE("reports: with no validator, results are 503 and the fallback chain is verified", "[backend][reports]") {
    reports_rig r;
    r.w->all(node_mode::down);
    const auto e = error_of([&] { r.rep.results(r.election); });
    CHECK(e.status == http::status::service_unavailable);
    CHECK(e.detail == "no validator reachable");

    const auto first_at = app::iso_time(r.clock.wall_ms());
    const auto v = r.rep.verify_blockchain(r.election);
    CHECK(v.at("source") == "fallback_chain");
    CHECK(v.at("chain_valid") == true);
    CHECK(v.at("status") == "valid");
    CHECK(v.at("total_blocks") == 1);  // the fallback chain's block 0
    CHECK(v.at("total_votes") == 0);
    CHECK(text(v.at("timestamp")) == first_at);
    CHECK(v.at("warning") == "PoA validators unreachable: verified the local fallback chain only");

    // A failed verification by the validators is not cached; the fallback chain's is.
    const auto asked = r.w->count("poa_verifyChain");
    r.clock.advance(verify_ttl_ms - 1);
    CHECK(text(r.rep.verify_blockchain(r.election).at("timestamp")) == first_at);
    CHECK(r.w->count("poa_verifyChain") > asked);
    r.clock.advance(1);
    CHECK(text(r.rep.verify_blockchain(r.election).at("timestamp")) == app::iso_time(r.clock.wall_ms()));

    // The validators are back: their verification again.
    r.w->all(node_mode::honest);
    CHECK(r.rep.verify_blockchain(r.election).at("source") == "poa_validators");
    CHECK(reports_rig::count_of(r.rep.results(r.election), 0) == 3);
}

TEST_CASE("reports: a validator's error answer to poa_getResults is 502", "[backend][reports]") {
    reports_rig r;
    r.w->refuse_everywhere("poa_getResults", -32603, "internal error");
    const auto e = error_of([&] { r.rep.results(r.election); });
    CHECK(e.status == http::status::bad_gateway);
    CHECK(e.detail == R"(validator error: {"code":-32603,"message":"internal error"})");
}

TEST_CASE("reports: a validator's lie about the tally is caught; the results are the verified blocks'",
          "[backend][reports][lie]") {
    reports_rig r;
    // validator-1 moves a vote from a to b and adds a candidate that got none.
    r.w->lies[{"validator-1", "poa_getResults"}] = [a = r.a, b = r.b](bjson::value& v) {
        auto& res = v.as_object()["results"].as_object();
        res[std::to_string(a)] = 2;
        res[std::to_string(b)] = 2;
    };
    for (int k = 0; k < 3; ++k) {  // every validator is asked first once (the cache is stale each time)
        const auto out = r.rep.results(r.election);
        CHECK(reports_rig::count_of(out, 0) == 3);
        CHECK(reports_rig::count_of(out, 1) == 1);
        r.clock.advance(results_ttl_ms);
    }
    CHECK(r.status_of("validator-1") == client::node_status::misbehaving);

    // When every validator lies, no tally is given out on their word.
    for (const auto* n : {"validator-2", "validator-3"}) r.w->lies[{n, "poa_getResults"}] = r.w->lies[{"validator-1", "poa_getResults"}];
    const auto e = error_of([&] { r.rep.results(r.election); });
    CHECK(e.status == http::status::bad_gateway);
    CHECK(e.detail.rfind("no validator gave results that verify: ", 0) == 0);
}

TEST_CASE("reports: the validators' health from the client's last probes", "[backend][reports]") {
    reports_rig r;
    r.w->modes["validator-2"] = node_mode::down;
    REQUIRE(r.client->check_health());
    const auto h = r.rep.validators_health();
    CHECK(text(h.at("timestamp")) == app::iso_time(r.clock.wall_ms()));
    const auto& vs = h.at("validators").as_array();
    REQUIRE(vs.size() == 3);
    CHECK(vs[0].at("node_id") == "validator-1");
    CHECK(vs[0].at("status") == "healthy");
    CHECK(vs[0].at("block_height") == 1);
    CHECK(vs[0].at("misbehaviours") == 0);
    CHECK(vs[1].at("status") == "unreachable");
    CHECK(vs[1].at("detail") == "no answer");
    CHECK(h.at("summary").at("healthy") == 2);
    CHECK(h.at("summary").at("total") == 3);
    CHECK(h.at("summary").at("health_percentage") == 66.67);
}

TEST_CASE("reports: a validator that forges a receipt is shown misbehaving, and stays so through probes",
          "[backend][reports][lie]") {
    reports_rig r;
    outbox<test::chain_transport, manual_clock> box{*r.db, *r.client, r.fallback, r.clock, {1000, 15'000, 512}};
    const auto tx = r.net.vote(500, static_cast<std::uint64_t>(r.election), static_cast<std::uint64_t>(r.a));
    const hash32 th = tx_hash<test::S>(tx);
    REQUIRE(r.client->submit_vote(tx));
    r.lie_about_receipt("validator-1", tx);
    for (int k = 0; k < 3; ++k) CHECK(box.lookup_receipt(th).st == receipt_info::state::not_final);

    REQUIRE(r.client->check_health());  // a probe says it is up and in consensus: the quarantine holds
    const auto h = r.rep.validators_health();
    const auto& liar = h.at("validators").as_array().at(0);
    CHECK(liar.at("node_id") == "validator-1");
    CHECK(liar.at("status") == "misbehaving");
    CHECK(liar.at("misbehaviours") == 1);
    CHECK(text(liar.at("detail")).find("forged receipt") != std::string::npos);
    CHECK(h.at("summary").at("healthy") == 2);
}
