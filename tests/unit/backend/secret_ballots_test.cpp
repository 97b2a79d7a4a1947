#include <backend/reports.hpp>
#include <backend/secret_ballots.hpp>
#include <backend/votes.hpp>

#include <backend/sqlite_store.hpp>

#include "../support/catch_result.hpp"
#include "../support/fixtures.hpp"
#include "../support/paths.hpp"
#include "../support/temp_dir.hpp"
#include "handler_checks.hpp"
#include "validators_rig.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/trustee.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/file.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

// Secret ballots in the backend (apps/backend/secret_ballots.hpp) over a real store and three
// validators in memory over one real chain, whose trustees (chain/trustee.hpp) make the key and
// decrypt the tally: the definition is published once, the key believed only when f + 1
// validators give it, a client's ballot checked against the voter's own tag before anything is
// stored, a candidate_id-only ballot sealed by the backend, and the decrypted results.

using namespace ballotchain;
using namespace ballotchain::backend;
using test::error_of;

namespace {

using secret_type = secret_ballots<test::chain_transport, manual_clock>;
using sb_votes_type = votes<test::chain_transport, manual_clock>;
using sb_outbox_type = outbox<test::chain_transport, manual_clock>;
using sb_reports_type = reports<test::chain_transport, manual_clock>;

/// Times relative to the genesis (block h is at genesis + h s; the clock's wall time is
/// genesis + now): created at 10 s, key by 20 s, voting 20 s .. 60 s.
constexpr std::uint64_t key_by = 20'000, start_at = 20'000, end_at = 60'000;

struct secret_rig : test::validators_rig {
    std::unique_ptr<sqlite_store> db = sqlite_store::open(dir.file("backend.db")).value();
    fallback_ledger fallback{dir.file("fallback"), net.genesis, net.submitter.public_key(), clock.wall_ms()};
    group_commit commit{*db};
    sb_outbox_type box{*db, *client, fallback, clock, {1000, 15'000, 512}};
    elections<manual_clock> el{*db, clock};
    vote_maker maker{net.open_chain(), net.submitter, bytes(32, 0x5a)};
    secret_type secret{*db, *client, maker, clock, {2'000}};
    sb_votes_type vs{*db, el, commit, box, maker, clock, &secret};
    sb_reports_type rep{*db, *client, fallback, el, clock, {10'000, 2'000}, &secret};
    std::vector<election::trustee<test::S>> trustees;
    user_row voter, other;
    std::int64_t election = 0;
    std::vector<std::int64_t> cands;

    secret_rig() : validators_rig("ballotchain-secret") {
        for (std::uint32_t i = 0; i < 3; ++i)
            trustees.emplace_back(net.genesis, i + 1, net.validators[i], test::seed(static_cast<int>(i)));
        voter = add_user("voter@example.org");
        other = add_user("other@example.org");
        election_row e = plain_election("board", T() + start_at, T() + end_at);
        e.ballot = ballot_kind::encrypted;
        e.key_deadline_ms = T() + key_by;
        e.threshold = 2;
        e.chain = definition_status::pending;
        e.created_ms = clock.wall_ms();
        election = db->add_election(e, {candidate_row{0, 0, "Alice", ""}, candidate_row{0, 0, "Bob", ""},
                                        candidate_row{0, 0, "Carol", ""}})
                       .value()
                       .value();
        for (const auto& c : db->candidates(election).value()) cands.push_back(c.id);
    }

    std::uint64_t T() const { return net.genesis.timestamp_ms; }
    election_row row() { return db->election(election).value().value(); }

    user_row add_user(const std::string& email) {
        user_row u{0, email, "", bytes(16, 1), bytes(32, 2), false};
        u.id = db->add_user(u, clock.wall_ms()).value().value();
        return u;
    }

    /// Makes everything in the validators' pool final in one block.
    void finalize_pool() {
        std::vector<vote_tx> txs;
        for (const auto& tx : w->node.pool.batch(10'000)) txs.push_back(tx);
        w->finalize(std::move(txs));
    }
    std::uint64_t next_time() const { return T() + (w->node.c.height() + 1) * 1000; }
    /// Blocks of what the trustees owe until they owe nothing.
    void run_trustees() {
        for (int k = 0; k < 10; ++k) {
            std::vector<vote_tx> txs;
            for (auto& t : trustees)
                for (auto& tx : t.due(w->node.c.election_state(), next_time())) txs.push_back(std::move(tx));
            if (txs.empty()) return;
            w->finalize(std::move(txs));
        }
    }
    /// Empty blocks until the next one is at or after genesis + `t`.
    void until(std::uint64_t t) {
        while (next_time() < T() + t) w->finalize({});
    }
    /// The definition published and final, the key made, the chain at the start, the clock in the window.
    void ready() {
        REQUIRE(secret.publish(row()) == definition_status::submitted);
        finalize_pool();
        run_trustees();
        REQUIRE(w->node.c.election_state().find(static_cast<std::uint64_t>(election))->ph == election::phase::ready);
        until(start_at + 1'000);  // the validators admit ballots by their head's time
        clock.set(start_at + 5'000);
    }
    ristretto::point chain_key() const {
        return w->node.c.election_state().find(static_cast<std::uint64_t>(election))->key;
    }

    /// The ballot `u`'s own client seals for candidate position `choice`, from GET .../ballot.
    std::string sealed(const user_row& u, std::uint32_t choice) {
        const auto ctx = secret.context(row(), u.id);
        const auto key = ristretto::point::decode(from_hex(std::string(ctx.at("election_key").as_string())).value()).value();
        const auto tag = from_hex_fixed<32>(std::string(ctx.at("voter_tag").as_string())).value();
        const auto b = elgamal::seal_ballot({net.genesis.chain_id, static_cast<std::uint64_t>(election), key, tag, {}},
                                            static_cast<std::uint32_t>(ctx.at("candidates").as_array().size()), choice);
        return app::encode_base64(election::encode(b));
    }

    std::pair<unsigned, bjson::object> submit(const user_row& u, const bjson::object& body) {
        const auto res = vs.submit(u, body, 11);
        return {res.result_int(), bjson::parse(res.body()).as_object()};
    }
    bjson::object ballot_body(const std::string& b64) { return {{"election_id", election}, {"encrypted_vote", b64}}; }
};

/// From now on `node` answers poa_getElection with another election key.
void lie_about_key(test::chain_world& w, const std::string& node, std::uint64_t seed) {
    w.lies[{node, "poa_getElection"}] = [seed](boost::json::value& v) {
        if (!v.is_object() || !v.as_object().contains("election_key")) return;
        v.as_object()["election_key"] = to_hex(ristretto::point::base_mul(ristretto::scalar::from_u64(seed)).view());
    };
}

}  // namespace

TEST_CASE("secret ballots: the definition goes on the chain as one deterministic record; its status follows",
          "[backend][secret]") {
    secret_rig r;
    const auto tx1 = r.secret.definition_tx(r.row());
    CHECK(encode(tx1) == encode(r.secret.definition_tx(r.row())));  // re-sending can never define it twice
    CHECK(tx1.kind == tx_kind::define_election);
    const auto def = election::decode_definition(tx1.encrypted_vote).value();
    CHECK(def.ballot == election::ballot_kind::encrypted);
    REQUIRE(def.candidates.size() == 3);
    CHECK(def.candidates[1].id == static_cast<std::uint64_t>(r.cands[1]));
    CHECK(def.candidates[1].name == "Bob");
    CHECK(def.threshold == 2);
    CHECK(def.key_deadline_ms == r.T() + key_by);

    CHECK(r.secret.publish(r.row()) == definition_status::submitted);
    CHECK(r.row().chain == definition_status::submitted);
    CHECK(r.w->node.pool.contains(tx_hash<test::S>(tx1)));
    r.finalize_pool();
    CHECK(r.secret.tick() == 1);  // a verified receipt shows it final
    CHECK(r.row().chain == definition_status::final);
    CHECK(r.secret.tick() == 0);
    CHECK(r.w->count("eth_sendRawTransaction") == 1);
}

TEST_CASE("secret ballots: a definition the validators refuse for good is recorded with the reason",
          "[backend][secret]") {
    secret_rig r;
    r.w->refuse_everywhere("eth_sendRawTransaction", rpc::tx_code::election_rule, "election already defined");
    CHECK(r.secret.publish(r.row()) == definition_status::rejected);
    const auto e = r.row();
    CHECK(e.chain == definition_status::rejected);
    CHECK_THAT(e.chain_detail, Catch::Contains("election already defined") && Catch::Contains("-32008"));
    const auto no_key = error_of([&] { (void)r.secret.key(r.row()); });
    CHECK(no_key.status == http::status::conflict);
    CHECK_THAT(no_key.detail, Catch::Contains("refused this election's definition"));
}

TEST_CASE("secret ballots: the key is believed only when f + 1 validators give it, then kept",
          "[backend][secret][lie]") {
    secret_rig r;
    REQUIRE(r.secret.publish(r.row()) == definition_status::submitted);
    r.finalize_pool();
    // Defined, no key yet: not ready, with the phase.
    const auto early = error_of([&] { (void)r.secret.key(r.row()); });
    CHECK(early.status == http::status::conflict);
    CHECK_THAT(early.detail, Catch::Contains("not ready"));
    r.run_trustees();

    SECTION("one liar among three: the two honest validators agree") {
        lie_about_key(*r.w, "validator-1", 7);
        const auto key = r.chain_key();
        CHECK(r.secret.key(r.row()) == key);
        CHECK(r.row().election_key == bytes(key.view().begin(), key.view().end()));
        // Kept: asked no more, even with every validator down.
        for (const auto& n : r.w->nodes()) r.w->modes[n.node_id] = test::node_mode::down;
        CHECK(r.secret.key(r.row()) == r.chain_key());
    }
    SECTION("one validator down and one liar: no f + 1 agree, nothing is believed or kept") {
        r.w->modes["validator-3"] = test::node_mode::down;
        lie_about_key(*r.w, "validator-1", 7);
        const auto e = error_of([&] { (void)r.secret.key(r.row()); });
        CHECK(e.status == http::status::bad_gateway);
        CHECK_THAT(e.detail, Catch::Contains("do not agree"));
        CHECK(r.row().election_key.empty());
    }
    SECTION("every validator down: 503") {
        for (const auto& n : r.w->nodes()) r.w->modes[n.node_id] = test::node_mode::down;
        CHECK(error_of([&] { (void)r.secret.key(r.row()); }).status == http::status::service_unavailable);
    }
}

TEST_CASE("agree_on_election: each value needs `need` equal answers", "[backend][secret]") {
    auto answer = [](const char* node, bjson::value v) {
        client::node_answer a;
        a.node = node;
        a.out.k = client::rpc_outcome::kind::result;
        a.out.value = std::move(v);
        return a;
    };
    auto election = [](const char* key, std::uint64_t ballots, bjson::value results, std::uint64_t height) {
        bjson::object o;
        o["phase"] = "ready";
        o["election_key"] = key;
        o["ballots"] = ballots;
        o["results"] = std::move(results);
        o["height"] = height;
        o["decrypted_by"] = bjson::array{1, 2};
        return o;
    };
    const auto k = to_hex(ristretto::point::generator().view());
    const bjson::object t1{{"1", 4}, {"2", 6}}, t2{{"1", 9}, {"2", 1}};
    {
        const auto a = agree_on_election({answer("v1", election(k.c_str(), 10, t1, 7)), answer("v2", election(k.c_str(), 10, t1, 5)),
                                          answer("v3", election(k.c_str(), 10, t2, 9))},
                                         2);
        CHECK(a.answered == 3);
        REQUIRE(a.key);
        CHECK(*a.key == ristretto::point::generator());
        REQUIRE(a.results);
        CHECK(a.results->at(1) == 4);
        CHECK(a.results->at(2) == 6);
        CHECK(a.results_agreeing == 2);
        CHECK(a.height == 5);  // the lowest height of those that agree
        CHECK(a.decrypted_by == std::vector<std::uint32_t>{1, 2});
    }
    {
        // Two different tallies, one each: none believed; the ballot count is the 2nd highest claim.
        const auto a = agree_on_election({answer("v1", election(k.c_str(), 12, t1, 7)), answer("v2", election(k.c_str(), 10, t2, 7)),
                                          answer("v3", election(k.c_str(), 999, nullptr, 7))},
                                         2);
        CHECK_FALSE(a.results);
        CHECK(a.ballots == 12);
        CHECK(a.phase == "ready");
    }
    {
        const auto a = agree_on_election({answer("v1", nullptr), answer("v2", election(k.c_str(), 0, nullptr, 1))}, 2);
        CHECK_FALSE(a.key);
        CHECK(a.phase.empty());
    }
}

TEST_CASE("secret ballots: a client's sealed ballot is checked, stored without a candidate and sent",
          "[backend][secret]") {
    secret_rig r;
    r.ready();
    const auto [st, out] = r.submit(r.voter, r.ballot_body(r.sealed(r.voter, 1)));
    INFO(bjson::serialize(out));
    REQUIRE(st == 200);
    CHECK(out.at("status") == "submitted");
    const auto stored = r.db->vote_by_user(r.voter.id, r.election).value().value();
    CHECK(stored.candidate_id == 0);  // the backend keeps no choice
    const auto tx = decode_tx(stored.raw_tx).value();
    CHECK(tx.kind == tx_kind::ballot);
    CHECK(tx.candidate_id == 0);
    CHECK(tx.voter_tag == r.maker.voter_tag(r.election, r.voter.id));
    CHECK(r.w->node.pool.contains(stored.tx_hash));
    r.finalize_pool();
    CHECK(r.w->node.c.election_state().find(static_cast<std::uint64_t>(r.election))->ballots == 1);
}

TEST_CASE("secret ballots: a ballot that fails its proofs, another voter's, or one with candidate_id is refused "
          "and nothing is stored",
          "[backend][secret]") {
    secret_rig r;
    r.ready();
    auto refused = [&](const bjson::object& body) {
        const auto e = error_of([&] { r.submit(r.voter, body); });
        CHECK(r.db->open_votes(10).value().empty());
        return e;
    };
    // Sealed for another voter's tag: its proofs are bound to that tag.
    const auto theirs = refused(r.ballot_body(r.sealed(r.other, 0)));
    CHECK(theirs.status == http::status::unprocessable_entity);
    CHECK_THAT(theirs.detail, Catch::Contains("do not verify for your voter tag"));
    // One flipped byte in a proof.
    auto body = app::decode_base64(r.sealed(r.voter, 0), 4096).value();
    body[1 + 4 + 64 + 3] ^= 1;
    CHECK(refused(r.ballot_body(app::encode_base64(body))).status == http::status::unprocessable_entity);
    // Cut short: not a ballot of this election.
    body.resize(body.size() - 32);
    CHECK_THAT(refused(r.ballot_body(app::encode_base64(body))).detail, Catch::Contains("not a ballot of this election"));
    // candidate_id next to a sealed ballot would tell the backend the choice.
    auto both = r.ballot_body(r.sealed(r.voter, 0));
    both["candidate_id"] = r.cands[0];
    CHECK_THAT(refused(both).detail, Catch::Contains("not both"));
    CHECK(refused({{"election_id", r.election}}).status == http::status::unprocessable_entity);
    CHECK(r.w->count("eth_sendRawTransaction") == 1);  // the definition only
}

TEST_CASE("secret ballots: candidate_id alone (the seed's API) is sealed by the backend for that voter",
          "[backend][secret]") {
    secret_rig r;
    r.ready();
    const auto [st, out] = r.submit(r.voter, {{"election_id", r.election}, {"candidate_id", r.cands[2]}});
    INFO(bjson::serialize(out));
    REQUIRE(st == 200);
    const auto stored = r.db->vote_by_user(r.voter.id, r.election).value().value();
    CHECK(stored.candidate_id == 0);
    const auto tx = decode_tx(stored.raw_tx).value();
    const auto b = election::decode_ballot(tx.encrypted_vote).value();
    CHECK(elgamal::verify_ballot({r.net.genesis.chain_id, static_cast<std::uint64_t>(r.election), r.chain_key(), tx.voter_tag, {}}, b));
    const auto foreign = error_of([&] { r.submit(r.other, {{"election_id", r.election}, {"candidate_id", 999}}); });
    CHECK(foreign.status == http::status::unprocessable_entity);
    // A second ballot of the same voter: 409, as a plain vote.
    CHECK(error_of([&] { r.submit(r.voter, r.ballot_body(r.sealed(r.voter, 0))); }).status == http::status::conflict);
}

TEST_CASE("secret ballots: results stay encrypted until the trustees decrypt; the tally is refused before the end",
          "[backend][secret]") {
    secret_rig r;
    r.ready();
    REQUIRE(r.submit(r.voter, r.ballot_body(r.sealed(r.voter, 1))).first == 200);
    REQUIRE(r.submit(r.other, {{"election_id", r.election}, {"candidate_id", r.cands[1]}}).first == 200);
    r.finalize_pool();

    auto open = r.rep.results(r.election);
    INFO(bjson::serialize(open));
    CHECK(open.at("ballot") == "encrypted");
    CHECK(open.at("phase") == "ready");
    CHECK(open.at("total_votes") == 2);
    CHECK(open.at("results").as_array().at(0).at("vote_count").is_null());
    CHECK(open.at("tally_verified") == false);
    const auto early = error_of([&] { r.rep.tally(r.election, 0); });
    CHECK(early.status == http::status::bad_request);
    CHECK_THAT(early.detail, Catch::Contains("has not ended"));

    r.until(end_at);
    r.clock.set(end_at + 1'000);
    auto pending = r.rep.tally(r.election, 0);
    CHECK(pending.first == http::status::accepted);
    r.run_trustees();  // each trustee posts its decryption share
    const auto [st, done] = r.rep.tally(r.election, 0);
    INFO(bjson::serialize(done));
    CHECK(st == http::status::ok);
    CHECK(done.at("phase") == "decrypted");
    const auto& rows = done.at("results").as_array();
    CHECK(rows.at(0).at("vote_count") == 0);
    CHECK(rows.at(1).at("vote_count") == 2);
    CHECK(rows.at(1).at("percentage") == 100.0);
    CHECK(done.at("total_votes") == 2);
    CHECK(done.at("tally_verified") == true);
    CHECK(done.at("verification").at("chain_valid") == true);
    CHECK(done.at("verification").at("proofs_valid") == true);
    CHECK(done.at("verification").at("validators_agreeing") == 3);
    CHECK(done.at("verification").at("validators_needed") == 2);
}

TEST_CASE("elgamal: a ballot sealed by the web app's JavaScript verifies here and decrypts to its choice",
          "[backend][secret][web]") {
    // apps/web/test/vectors/ballot-3.json, written by apps/web/src/lib/ballot.js (its own tests
    // check C++-made ballots the other way round).
    const auto path = ballotchain::test_support::data_dir() + "/../../apps/web/test/vectors/ballot-3.json";
    auto text = read_file(path, 1 << 20);
    REQUIRE(text);
    const auto v = boost::json::parse(*text).as_object();
    auto hex_of = [&](const char* k) { return from_hex(std::string(v.at(k).as_string())).value(); };
    const ristretto::point key = ristretto::point::decode(hex_of("election_key")).value();
    const ristretto::scalar x = ristretto::scalar::decode(hex_of("election_secret")).value();
    CHECK(ristretto::point::base_mul(x) == key);
    const auto tag = from_hex_fixed<32>(std::string(v.at("voter_tag").as_string())).value();
    const auto body = app::decode_base64(std::string(v.at("encrypted_vote").as_string()), 4096).value();
    const auto b = election::decode_ballot(body).value();
    REQUIRE(b.cts.size() == v.at("candidates").as_array().size());
    const elgamal::proof_context ctx{v.at("chain_id").to_number<std::uint64_t>(), v.at("election_id").to_number<std::uint64_t>(),
                                     key, tag, {}};
    CHECK(elgamal::verify_ballot(ctx, b));
    const auto choice = v.at("choice").to_number<std::size_t>();
    for (std::size_t k = 0; k < b.cts.size(); ++k)
        CHECK(elgamal::decrypt_to_point(b.cts[k], x) == (k == choice ? ristretto::point::generator() : ristretto::point::identity()));
    // Bound to its voter and election.
    auto other = ctx;
    other.voter_tag.data[0] ^= 1;
    CHECK_FALSE(elgamal::verify_ballot(other, b));
    other = ctx;
    other.election_id += 1;
    CHECK_FALSE(elgamal::verify_ballot(other, b));
}

// Writes tests/data/golden/ballot-cpp-3.json, a ballot sealed here for the web app's JavaScript
// verifier (apps/web/test/ballot.test.mjs checks it). Hidden: run it by name to write the file
// again (`unit_backend "[.write-vector]"`).
TEST_CASE("elgamal: write the C++ ballot vector for the JavaScript verifier", "[.write-vector]") {
    const ristretto::scalar x = ristretto::scalar::from_u64(0x5eed5eed5eedull) * ristretto::scalar::from_u64(977);
    const ristretto::point key = ristretto::point::base_mul(x);
    hash32 tag = sha256::hash(to_bytes("ballotchain-cpp-vector-voter"));
    const std::uint32_t choice = 2;
    const auto b = elgamal::seal_ballot({1337, 11, key, tag, {}}, 3, choice);
    REQUIRE(elgamal::verify_ballot({1337, 11, key, tag, {}}, b));
    bjson::object v;
    v["description"] = "One 3-candidate ballot sealed by the C++ library (crypto/elgamal.hpp seal_ballot), for the "
                       "web app's JavaScript verifier; written by unit_backend \"[.write-vector]\".";
    v["chain_id"] = 1337;
    v["election_id"] = 11;
    v["election_key"] = to_hex(key.view());
    v["election_secret"] = to_hex(byte_view(x.b.data(), 32));
    v["voter_tag"] = to_hex(tag);
    v["choice"] = choice;
    v["encrypted_vote"] = app::encode_base64(election::encode(b));
    const auto path = ballotchain::test_support::data_dir() + "/golden/ballot-cpp-3.json";
    REQUIRE(write_file_atomic(path, bjson::serialize(v) + "\n", 0644, false));
}
