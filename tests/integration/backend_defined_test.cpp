// Integration: a chain whose genesis sets elections_defined (`ballotchain testnet
// --elections-defined`), three real validators and the backend. An administrator creates a
// plain election; the backend puts its definition on the chain (poa_getElection shows its
// name and candidates on every validator); votes sent at once wait in the outbox until it is
// final and are then counted; the validators refuse junk sent straight to them with the
// submitter key (a candidate not in the definition: -32012; an election not defined: -32011).
#include "backend.hpp"
#include "voter.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using namespace ballotchain::itest;

TEST_CASE("backend with elections_defined: a plain election's definition on the chain; junk votes refused",
          "[integration][backend][elections]") {
    network_options o;
    o.elections_defined = true;
    network net(3, o);
    REQUIRE(net.genesis().elections_defined);
    wait_connected(net);
    backend b(net, 3);
    const auto admin = b.admin();
    // Votes right after the creation: before the definition is final (never refused for it).
    const auto [eid, cands] = b.election(admin, 2);
    const auto election_id = eid;
    std::vector<std::string> txs;
    for (int k = 0; k < 4; ++k) {
        auto r = b.vote(b.voter(k), election_id, cands[static_cast<std::size_t>(k % 2)]);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 200);
        CHECK(r.str("status") != "rejected");
        txs.push_back(r.str("transaction_id"));
    }
    // The definition, on every validator: the backend's name and candidates.
    for (int i = 0; i < 3; ++i) {
        INFO("validator " << i + 1);
        REQUIRE(eventually(
            [&] {
                auto e = rpc_call(net.rpc(i), "poa_getElection", {election_id});
                return e && e->is_object() && e->as_object().at("ballot") == "plain";
            },
            std::chrono::seconds(30)));
        const auto e = rpc_call(net.rpc(i), "poa_getElection", {election_id})->as_object();
        CHECK(e.at("name") == "Election");
        REQUIRE(e.at("candidates").as_array().size() == 2);
        CHECK(e.at("candidates").as_array()[0].as_object().at("id").as_int64() == cands[0]);
        CHECK(e.at("candidates").as_array()[1].as_object().at("name") == "Candidate B");
    }
    CHECK(eventually([&] { return b.get("/api/elections/" + std::to_string(election_id)).str("definition") == "final"; },
                     std::chrono::seconds(30)));
    // The votes that waited are final and counted.
    for (const auto& tx : txs)
        CHECK(eventually([&] { return confirmed(b, tx, election_id); }, std::chrono::seconds(60)));
    CHECK(eventually([&] { return chain_total(net, 0, election_id) == std::uint64_t{4}; }, std::chrono::seconds(30)));

    // Junk straight to a validator with the submitter key.
    voter_client junk(net.dir() / "submitter.key");
    auto bad_candidate = junk.make(1001, static_cast<std::uint64_t>(election_id));
    bad_candidate.candidate_id = 999'999;
    sign_tx<ed25519_sha256>(bad_candidate, junk.key());
    bj::value err;
    CHECK_FALSE(junk.send(net.rpc(0), bad_candidate, &err));
    CHECK(err.at("code").to_number<int>() == -32012);
    auto undefined = junk.make(1002, 777'777);
    CHECK_FALSE(junk.send(net.rpc(1), undefined, &err));
    CHECK(err.at("code").to_number<int>() == -32011);
    // Candidates are fixed on the chain: no candidate added afterwards.
    CHECK(b.post("/api/elections/" + std::to_string(election_id) + "/candidates", bj::object{{"name", "Late"}}, admin)
              .status == 409);
}
