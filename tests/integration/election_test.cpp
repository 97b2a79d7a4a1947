// Integration: a secret-ballot election through the backend on three real validator
// processes. An administrator creates it with "ballot": "encrypted"; the backend publishes its
// definition and the validators run the key ceremony by themselves; 200 voters vote (most seal
// their ballot themselves from GET /api/elections/{id}/ballot, some send candidate_id alone and
// the backend seals it, one uses the CLI) while one validator is killed and restarted; another
// validator is killed as the election ends; the tally the administrator asks for matches the
// votes cast, no ballot on the chain carries a candidate id, and `ballotchain verify` and the
// independent verifier re-check every proof offline (and a flipped byte in a ballot is named).
#include "backend.hpp"
#include "network.hpp"
#include "voter.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/chain/election.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/elgamal.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <chrono>

namespace election_itest {

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;

std::uint64_t now_wall_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

/// poa_getElection from validator i (nullopt when it does not answer or knows no such election).
std::optional<bj::object> election_at(const network& net, int i, std::uint64_t id) {
    auto r = rpc_call(net.rpc(i), "poa_getElection", {id});
    if (!r || !r->is_object()) return std::nullopt;
    return r->as_object();
}

}  // namespace election_itest

using namespace election_itest;

TEST_CASE("secret ballots through the backend on real validators: ceremony, 200 voters, kills during voting and "
          "tally, verify",
          "[integration][election]") {
    network net(3);
    wait_connected(net);
    backend be(net, 3);
    const auto admin = be.admin();
    // 200 voters register while the validators make the key (their accounts do not depend on it).
    constexpr int voters = 200;
    std::vector<std::string> tokens;

    // The key ceremony has 8 s, then voting lasts 45 s: the test waits on states, never on
    // these times, except to pass the end.
    const std::uint64_t t0 = now_wall_ms();
    const std::uint64_t end_ms = (t0 + 8'000 + 999) / 1000 * 1000 + 45'000;
    bj::array cands;
    for (const char* n : {"Alice", "Bob", "Carol"}) cands.push_back(bj::object{{"name", n}});
    bj::object create;
    create["name"] = "Board";
    create["ballot"] = "encrypted";
    create["key_ceremony_seconds"] = 8;
    create["end_date"] = app::iso_time(end_ms);
    create["candidates"] = cands;
    const auto made = be.post("/api/elections", create, admin);
    INFO(bj::serialize(made.body));
    REQUIRE(made.status == 201);
    const std::int64_t id = made.obj().at("id").as_int64();
    const auto& kc = made.obj().at("key_ceremony").as_object();
    CHECK(kc.at("threshold") == 2);
    CHECK(kc.at("definition") == "submitted");
    std::vector<std::int64_t> cand_ids;
    for (const auto& c : made.obj().at("candidates").as_array()) cand_ids.push_back(c.at("id").as_int64());
    // Its candidates are fixed on the chain.
    CHECK(be.post("/api/elections/" + std::to_string(id) + "/candidates", bj::object{{"name", "Dave"}}, admin).status == 409);

    for (int v = 0; v < voters; ++v) tokens.push_back(be.voter(v));

    // Every validator sees the key ready (all three deal and judge before the deadline); the
    // backend's election shows the definition final.
    REQUIRE(eventually([&] {
        for (int i = 0; i < 3; ++i) {
            auto e = election_at(net, i, static_cast<std::uint64_t>(id));
            if (!e || e->at("phase") != "ready") return false;
        }
        return true;
    }, std::chrono::seconds(60)));
    auto e0 = *election_at(net, 0, static_cast<std::uint64_t>(id));
    INFO(bj::serialize(e0));
    CHECK(e0.at("qualified").as_array().size() == 3);
    REQUIRE(eventually([&] {
        return be.get("/api/elections/" + std::to_string(id)).obj().at("key_ceremony").at("definition") == "final";
    }, std::chrono::seconds(30)));

    // A ballot before the start is refused (the election is not open) and nothing is kept.
    const auto start_ms = app::parse_iso_time(std::string(made.obj().at("start_date").as_string())).value();
    if (now_wall_ms() + 1'000 < start_ms) {
        const auto early = be.post("/api/votes/submit", bj::object{{"election_id", id}, {"candidate_id", cand_ids[0]}},
                                   tokens[0]);
        CHECK(early.status == 400);
    }
    REQUIRE(eventually([&] { return now_wall_ms() >= start_ms + 500; }, std::chrono::seconds(30)));
    // The administrator cannot ask for the tally before the end.
    const auto tally_path = "/api/admin/elections/" + std::to_string(id) + "/tally";
    const auto too_early = be.post(tally_path, bj::object{{"wait_seconds", 0}}, admin);
    CHECK(too_early.status == 400);
    CHECK(be.post(tally_path, bj::object{}, tokens[0]).status == 403);

    // 200 voters; validator 3 is killed after the first 50 and restarted after 150. Every 5th
    // sends candidate_id alone (the backend seals it); the others seal their own ballot.
    std::array<std::uint64_t, 3> cast{};
    std::vector<std::string> acked;
    for (int v = 0; v < voters; ++v) {
        if (v == 50) net.kill(2, SIGKILL);
        if (v == 150) net.start(2);
        const std::uint32_t choice = v % 7 == 0 ? 2 : (v % 2 == 0 ? 0 : 1);
        bj::object body;
        body["election_id"] = id;
        if (v % 5 == 0) {
            body["candidate_id"] = cand_ids[choice];
        } else {
            const auto ctx = be.get("/api/elections/" + std::to_string(id) + "/ballot", tokens[static_cast<std::size_t>(v)]);
            INFO(bj::serialize(ctx.body));
            REQUIRE(ctx.status == 200);
            const auto key = ristretto::point::decode(from_hex(ctx.str("election_key")).value()).value();
            const auto tag = from_hex_fixed<32>(ctx.str("voter_tag")).value();
            const auto chain_id = ctx.obj().at("chain_id").to_number<std::uint64_t>();
            const auto b = elgamal::seal_ballot({chain_id, static_cast<std::uint64_t>(id), key, tag, {}}, 3, choice);
            body["encrypted_vote"] = app::encode_base64(election::encode(b));
        }
        const auto r = be.post("/api/votes/submit", body, tokens[static_cast<std::size_t>(v)]);
        INFO("voter " << v << ": " << bj::serialize(r.body));
        REQUIRE(r.status == 200);
        acked.push_back(r.str("transaction_id"));
        ++cast[choice];
    }
    // The CLI seals the same way: voter 200 gets their tag from the backend, the CLI makes the
    // ballot for candidate Bob, and the voter submits what it printed.
    {
        const auto token = be.voter(voters);
        const auto ctx = be.get("/api/elections/" + std::to_string(id) + "/ballot", token);
        REQUIRE(ctx.status == 200);
        std::vector<std::string> argv{bin_dir + "/ballotchain", "ballot", "--genesis", (net.dir() / "genesis.json").string(),
                                      "--election", std::to_string(id), "--candidate", std::to_string(cand_ids[1]),
                                      "--voter-tag", ctx.str("voter_tag")};
        for (int i = 0; i < 3; ++i)
            if (net.running(i)) argv.insert(argv.end(), {"--rpc", "http://127.0.0.1:" + std::to_string(net.rpc(i))});
        auto [crc, cout_] = run(argv, net.dir() / "cli-ballot.log");
        INFO(cout_);
        REQUIRE(crc == 0);
        const auto line = bj::parse(cout_.substr(cout_.find('{'), cout_.find('}') - cout_.find('{') + 1)).as_object();
        const auto r = be.post("/api/votes/submit",
                               bj::object{{"election_id", id}, {"encrypted_vote", line.at("encrypted_vote")}}, token);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 200);
        acked.push_back(r.str("transaction_id"));
        ++cast[1];
    }
    // Every acknowledged ballot becomes confirmed (the backend's own verified receipts).
    for (const auto& h : acked)
        REQUIRE(eventually([&] { return confirmed(be, h, id); }, std::chrono::seconds(60)));
    REQUIRE(eventually([&] { return election_at(net, 0, static_cast<std::uint64_t>(id))->at("ballots") == 201; },
                       std::chrono::seconds(30)));
    {  // Before the end the results say how many ballots, not for whom.
        const auto open = be.get("/api/votes/results?election_id=" + std::to_string(id));
        INFO(bj::serialize(open.body));
        REQUIRE(open.status == 200);
        CHECK(open.obj().at("total_votes") == 201);
        CHECK(open.obj().at("results").as_array().at(0).at("vote_count").is_null());
    }

    // The tally: validator 1 is killed as the election ends; validators 2 and 3 decrypt.
    REQUIRE(eventually([&] { return now_wall_ms() + 1'500 >= end_ms; }, std::chrono::seconds(90)));
    const bool killed_before_end = now_wall_ms() + 500 < end_ms;  // else it may have posted its share already
    net.kill(0, SIGKILL);
    REQUIRE(eventually([&] { return now_wall_ms() >= end_ms; }, std::chrono::seconds(30)));
    reply tallied;
    REQUIRE(eventually([&] {
        tallied = be.post(tally_path, bj::object{{"wait_seconds", 10}}, admin);
        return tallied.status == 200;
    }, std::chrono::seconds(90)));
    INFO(bj::serialize(tallied.body));
    const auto& rows = tallied.obj().at("results").as_array();
    for (std::size_t k = 0; k < 3; ++k) {
        CHECK(rows.at(k).at("candidate_id") == cand_ids[k]);
        CHECK(rows.at(k).at("vote_count") == cast[k]);
    }
    CHECK(tallied.obj().at("total_votes") == 201);
    CHECK(tallied.obj().at("tally_verified") == true);
    CHECK(tallied.obj().at("verification").at("chain_valid") == true);
    CHECK(tallied.obj().at("verification").at("proofs_valid") == true);
    CHECK(tallied.obj().at("decrypted_by").as_array().size() == 2);
    if (killed_before_end) CHECK(tallied.obj().at("decrypted_by") == bj::array{2, 3});
    // GET results says the same.
    const auto res = be.get("/api/votes/results?election_id=" + std::to_string(id));
    REQUIRE(res.status == 200);
    CHECK(res.obj().at("results") == tallied.obj().at("results"));

    // No ballot on the chain names a candidate: every record of the election is tag 0x07.
    const auto top = net.height(1).value();
    std::uint64_t ballots_seen = 0;
    for (std::uint64_t h = 1; h <= top; ++h) {
        auto raw = rpc_call(net.rpc(1), "poa_getRawBlock", {hexq(h)});
        REQUIRE(raw);
        auto fb = decode_finalized_block(from_hex(std::string(raw->as_string())).value()).value();
        for (const auto& tx : fb.blk.txs) {
            if (tx.election_id != static_cast<std::uint64_t>(id)) continue;
            CHECK_FALSE(tx.is_vote());
            CHECK(encode(tx)[0] == 0x07);
            if (tx.kind == tx_kind::ballot) ++ballots_seen;
        }
    }
    CHECK(ballots_seen == 201);

    // Offline: `ballotchain verify` re-checks every proof and prints the tally ...
    net.stop_all();
    auto [rc, out] = run({bin_dir + "/ballotchain", "verify", "--data-dir", net.vdir(1).string()}, net.dir() / "verify.log");
    INFO(out);
    CHECK(rc == 0);
    CHECK(out.find("election " + std::to_string(id) + " (encrypted, \"Board\"): ready, 201 ballots") != std::string::npos);
    CHECK(out.find("candidate " + std::to_string(cand_ids[0]) + " = " + std::to_string(cast[0]) + " candidate " +
                   std::to_string(cand_ids[1]) + " = " + std::to_string(cast[1]) + " candidate " +
                   std::to_string(cand_ids[2]) + " = " + std::to_string(cast[2])) != std::string::npos);

    // The independent verifier (Python, written from docs/election-protocol.md alone) agrees.
    const std::string pyverify = eth_test_dir() + "/../tools/verify_election.py";
    auto [prc, pout] = run({"/usr/bin/python3", pyverify, "--db", (net.vdir(1) / "chain.db").string(), "--genesis",
                            (net.vdir(1) / "genesis.json").string(), "--json"},
                           net.dir() / "verify-election.log");
    INFO(pout);
    REQUIRE(prc == 0);
    {
        const auto rep = bj::parse(pout.substr(pout.find('{'))).as_object();
        INFO(bj::serialize(rep));
        bool found = false;
        for (const auto& e : rep.at("elections").as_array()) {
            if (e.at("id") != id) continue;
            found = true;
            CHECK(e.at("ballots") == 201);
            const auto& t = e.at("tally").as_object();
            for (std::size_t k = 0; k < 3; ++k) CHECK(t.at(std::to_string(cand_ids[k])) == cast[k]);
        }
        CHECK(found);
    }

    // ... and a flipped byte inside a stored ballot's proof is found and named.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((net.vdir(1) / "chain.db").c_str(), &db) == SQLITE_OK);
    std::uint64_t bad = 0;
    bytes data;
    for (std::uint64_t h = 1; h <= top && bad == 0; ++h) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "SELECT data FROM blocks WHERE height = ?1", -1, &st, nullptr) == SQLITE_OK);
        sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(h));
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        const auto* p = static_cast<const byte*>(sqlite3_column_blob(st, 0));
        data.assign(p, p + sqlite3_column_bytes(st, 0));
        sqlite3_finalize(st);
        auto fb = decode_finalized_block(data).value();
        std::size_t at = 1 + codec::header_size + 64;
        for (const auto& tx : fb.blk.txs) {
            if (tx.kind == tx_kind::ballot) {
                // Inside the body: tag, chain, kind, election, length, version, count, A_0, B_0, then c0.
                data[at + 22 + 1 + 4 + 64 + 3] ^= 0x01;
                bad = h;
                break;
            }
            at += encode(tx).size();
        }
    }
    REQUIRE(bad != 0);
    {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "UPDATE blocks SET data = ?1 WHERE height = ?2", -1, &st, nullptr) == SQLITE_OK);
        sqlite3_bind_blob(st, 1, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(bad));
        REQUIRE(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    auto [rc2, out2] = run({bin_dir + "/ballotchain", "verify", "--data-dir", net.vdir(1).string()}, net.dir() / "verify-bad.log");
    INFO(out2);
    CHECK(rc2 == 2);
    CHECK(out2.find("block " + std::to_string(bad) + " is bad") != std::string::npos);
    // The flipped byte breaks the submitter's signature first (it covers the whole record).
    CHECK(out2.find("transaction") != std::string::npos);
}
