#include <backend/elections.hpp>
#include <backend/secret_ballots.hpp>
#include <backend/votes.hpp>

#include <backend/sqlite_store.hpp>

#include "../support/catch_result.hpp"
#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"
#include "handler_checks.hpp"
#include "validators_rig.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/chain/codec.hpp>
#include <ballotchain/core/clock.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

// Plain elections on a chain whose genesis sets elections_defined (apps/backend/elections.hpp,
// secret_ballots.hpp): the backend publishes the definition when the election is created, its
// candidates are fixed then, and a vote sent before the definition is final waits in the
// outbox (the validators refuse it with -32011, which is not definitive) and is taken once it
// is. Three validators in memory over one real chain.

using namespace ballotchain;
using namespace ballotchain::backend;
using test::error_of;

namespace {

using pd_secret_type = secret_ballots<test::chain_transport, manual_clock>;
using pd_votes_type = votes<test::chain_transport, manual_clock>;
using pd_outbox_type = outbox<test::chain_transport, manual_clock>;

elections<manual_clock>::options defining(const genesis_config& g) {
    elections<manual_clock>::options o;
    o.define_plain = g.elections_defined;
    o.max_record_bytes = g.max_encrypted_vote_bytes;
    return o;
}

struct plain_rig : test::validators_rig {
    std::unique_ptr<sqlite_store> db = sqlite_store::open(dir.file("backend.db")).value();
    fallback_ledger fallback{dir.file("fallback"), net.genesis, net.submitter.public_key(), clock.wall_ms()};
    group_commit commit{*db};
    pd_outbox_type box{*db, *client, fallback, clock, {1000, 15'000, 512}};
    elections<manual_clock> el{*db, clock, defining(net.genesis)};
    vote_maker maker{net.open_chain(), net.submitter, bytes(32, 0x5a)};
    pd_secret_type secret{*db, *client, maker, clock, {2'000}};
    pd_votes_type vs{*db, el, commit, box, maker, clock, &secret};
    user_row voter;

    plain_rig() : validators_rig("ballotchain-plaindef", true) {
        user_row u{0, "voter@example.org", "", bytes(16, 1), bytes(32, 2), false};
        u.id = db->add_user(u, clock.wall_ms()).value().value();
        voter = u;
    }
    std::uint64_t T() const { return net.genesis.timestamp_ms; }
    void finalize_pool() {
        std::vector<vote_tx> txs;
        for (const auto& tx : w->node.pool.batch(10'000)) txs.push_back(tx);
        w->finalize(std::move(txs));
    }
    bjson::object create(bjson::array candidates) {
        return el.create_election(bjson::object{{"name", "Poll"},
                                                {"start_date", app::iso_time(T())},
                                                {"candidates", std::move(candidates)}});
    }
};

}  // namespace

TEST_CASE("plain election with elections_defined: its definition goes on the chain; a vote waits for it",
          "[backend][elections]") {
    plain_rig r;
    REQUIRE(r.net.genesis.elections_defined);
    const auto made = r.create(bjson::array{bjson::object{{"name", "Yes"}}, bjson::object{{"name", "No"}}});
    CHECK(made.at("definition") == "pending");
    const auto id = made.at("id").as_int64();
    auto row = [&] { return r.db->election(id).value().value(); };
    CHECK(row().chain == definition_status::pending);
    const auto cands = r.db->candidates(id).value();
    REQUIRE(cands.size() == 2);

    // Its candidates are fixed; an election without any cannot be defined.
    CHECK(error_of([&] { (void)r.el.add_candidate(id, bjson::object{{"name", "Maybe"}}); }).status ==
          http::status::conflict);
    CHECK(error_of([&] { (void)r.create(bjson::array{}); }).status == http::status::unprocessable_entity);

    // The record: plain, the candidates by their ids, the window, no key deadline or threshold.
    const auto tx = r.secret.definition_tx(row());
    const auto def = election::decode_definition(tx.encrypted_vote).value();
    CHECK(def.ballot == election::ballot_kind::plain);
    REQUIRE(def.candidates.size() == 2);
    CHECK(def.candidates[0].id == static_cast<std::uint64_t>(cands[0].id));
    CHECK(def.candidates[1].name == "No");
    CHECK(def.start_ms == r.T());
    CHECK(def.key_deadline_ms == 0);
    CHECK(def.threshold == 0);

    // A vote before its definition is on the chain: the validators refuse it (-32011), the
    // outbox keeps it (pending, never rejected for that).
    const auto res = r.vs.submit(r.voter, bjson::object{{"election_id", id}, {"candidate_id", cands[0].id}}, 11);
    CHECK(res.result_int() == 200);
    const auto body = bjson::parse(res.body()).as_object();
    CHECK(body.at("status") == "pending");
    const auto th = from_hex_fixed<32>(std::string(body.at("transaction_id").as_string())).value();
    CHECK(r.db->vote_by_tx(th).value().value().status == vote_status::pending);
    CHECK(r.w->node.pool.size() == 0);
    r.clock.advance(2'000);
    r.box.tick();
    CHECK(r.db->vote_by_tx(th).value().value().status == vote_status::pending);

    // The definition published (the replay loop's tick), final; the outbox then sends the vote.
    CHECK(r.secret.tick() == 1);
    CHECK(row().chain == definition_status::submitted);
    r.finalize_pool();
    CHECK(r.secret.tick() == 1);
    CHECK(row().chain == definition_status::final);
    r.clock.advance(2'000);
    r.box.tick();
    CHECK(r.db->vote_by_tx(th).value().value().status == vote_status::submitted);
    r.finalize_pool();
    r.box.tick();
    CHECK(r.db->vote_by_tx(th).value().value().status == vote_status::confirmed);
    CHECK(r.w->node.c.tally(static_cast<std::uint64_t>(id)) == tally_map{{static_cast<std::uint64_t>(cands[0].id), 1}});

    // Junk on the chain is refused by the validators: an unknown candidate, an undefined election.
    auto junk = r.net.vote(77, static_cast<std::uint64_t>(id), 999'999);
    CHECK(r.w->node.submit(junk).error() == chain::errc::unknown_candidate);
    CHECK(r.w->node.submit(r.net.vote(78, 424'242, 1)).error() == chain::errc::unknown_election);
}

TEST_CASE("plain election without elections_defined: nothing is published; candidates may be added",
          "[backend][elections]") {
    test::temp_dir dir("ballotchain-plaindef-off");
    auto db = sqlite_store::open(dir.file("backend.db")).value();
    manual_clock clock{10'000};
    elections<manual_clock> el{*db, clock};
    const auto made = el.create_election(bjson::object{{"name", "Poll"}});
    CHECK_FALSE(made.contains("definition"));
    const auto id = made.at("id").as_int64();
    CHECK(db->election(id).value().value().chain == definition_status::none);
    CHECK(el.add_candidate(id, bjson::object{{"name", "Yes"}}).at("name") == "Yes");
}
