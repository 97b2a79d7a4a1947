// Integration: a secret-ballot election on three real validator processes. The validators run
// the key ceremony by themselves once the definition is final, 200 voters cast encrypted
// ballots while one validator is killed and restarted, another validator is killed during the
// tally, the decrypted tally matches the votes cast, no ballot carries a candidate id, and
// `ballotchain verify` re-checks every proof offline (and names a flipped byte in a ballot).
#include "network.hpp"
#include "voter.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/chain/trustee.hpp>
#include <ballotchain/core/hex.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <chrono>

namespace election_itest {

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;
using S = ed25519_sha256;

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

hash32 tag_of(std::uint64_t voter) {
    bytes b{0x5e, 0xc7, static_cast<byte>(voter), static_cast<byte>(voter >> 8)};
    return sha256::hash(b);
}

}  // namespace election_itest

using namespace election_itest;

TEST_CASE("secret ballots on real validators: ceremony, 200 ballots, kills during voting and tally, verify",
          "[integration][election]") {
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    const auto& g = vc.genesis();
    constexpr std::uint64_t id = 77;
    // The key ceremony has until the start; voting lasts until the end. Generous windows: the
    // test waits on the chain's state, never on these times, except to pass the end.
    const std::uint64_t t0 = now_wall_ms();
    election::definition def{election::ballot_kind::encrypted,
                             "Board",
                             {{1, "Alice"}, {2, "Bob"}, {3, "Carol"}},
                             t0 + 6'000,
                             t0 + 26'000,
                             t0 + 6'000,
                             static_cast<std::uint32_t>(g.quorum())};
    REQUIRE(vc.send(net.rpc(0), election::definition_record<S>(g, id, def, vc.key(), t0)));

    // Every validator sees the key ready (all three deal and judge: before the deadline).
    REQUIRE(eventually([&] {
        for (int i = 0; i < 3; ++i) {
            auto e = election_at(net, i, id);
            if (!e || e->at("phase") != "ready") return false;
        }
        return true;
    }, std::chrono::seconds(60)));
    auto e0 = *election_at(net, 0, id);
    INFO(bj::serialize(e0));
    CHECK(e0.at("qualified").as_array().size() == 3);
    const auto key_hex = std::string(e0.at("election_key").as_string());
    CHECK(election_at(net, 1, id)->at("election_key") == e0.at("election_key"));
    const auto key = ristretto::point::decode(from_hex(key_hex).value()).value();

    // A ballot before the start is refused by the chain's rules with a reason.
    if (now_wall_ms() + 1'000 < def.start_ms) {
        bj::value err;
        auto early = election::ballot_record<S>(g, id, key, 3, 0, tag_of(9'999), vc.key(), now_wall_ms());
        CHECK_FALSE(vc.send(net.rpc(0), early, &err));
        INFO(bj::serialize(err));
        CHECK(err.at("code") == -32008);
    }
    REQUIRE(eventually([&] { return now_wall_ms() >= def.start_ms + 500; }, std::chrono::seconds(30)));

    // 200 voters; validator 3 is killed after the first 50 and restarted after 150.
    std::array<std::uint64_t, 3> cast{};
    std::vector<std::string> acked;
    for (std::uint64_t v = 0; v < 200; ++v) {
        if (v == 50) net.kill(2, SIGKILL);
        if (v == 150) net.start(2);
        const std::uint32_t choice = v % 7 == 0 ? 2 : (v % 2 == 0 ? 0 : 1);
        auto tx = election::ballot_record<S>(g, id, key, 3, choice, tag_of(v), vc.key(), now_wall_ms());
        const int to = static_cast<int>(v % 2);  // validators 1 and 2 are up throughout
        auto h = vc.send(net.rpc(to), tx);
        REQUIRE(h);
        acked.push_back(*h);
        ++cast[choice];
    }
    // The CLI encrypts the same way: one more ballot (candidate id 2), sent and confirmed.
    {
        std::vector<std::string> argv{bin_dir + "/ballotchain", "ballot", "--genesis", (net.dir() / "genesis.json").string(),
                                      "--election", std::to_string(id), "--candidate", "2", "--voter", "cli-voter",
                                      "--key", (net.dir() / "submitter.key").string(), "--wait", "30"};
        for (int i = 0; i < 3; ++i)
            if (net.running(i)) argv.insert(argv.end(), {"--rpc", "http://127.0.0.1:" + std::to_string(net.rpc(i))});
        auto [crc, cout_] = run(argv, net.dir() / "cli-ballot.log");
        INFO(cout_);
        REQUIRE(crc == 0);
        CHECK(cout_.find("final in block") != std::string::npos);
        const auto line = bj::parse(cout_.substr(cout_.find('{'), cout_.find('}') - cout_.find('{') + 1)).as_object();
        const auto body = app::decode_base64(std::string(line.at("encrypted_vote").as_string()), 4096);
        REQUIRE(body);
        const auto b = election::decode_ballot(*body);
        REQUIRE(b);
        const auto tag = from_hex_fixed<32>(std::string(line.at("voter_tag").as_string())).value();
        CHECK(elgamal::verify_ballot({g.chain_id, id, key, tag, {}}, *b));
        ++cast[1];
    }
    for (const auto& h : acked) REQUIRE(eventually([&] { return receipt_final(net, 0, h); }, std::chrono::seconds(30)));
    REQUIRE(eventually([&] { return election_at(net, 0, id)->at("ballots") == 201; }, std::chrono::seconds(30)));

    // The tally: validator 1 is killed as the election ends; validators 2 and 3 decrypt.
    REQUIRE(eventually([&] { return now_wall_ms() + 1'500 >= def.end_ms; }, std::chrono::seconds(60)));
    const bool killed_before_end = now_wall_ms() + 500 < def.end_ms;  // else it may have posted its share already
    net.kill(0, SIGKILL);
    REQUIRE(eventually([&] {
        auto e = election_at(net, 1, id);
        return e && e->at("results").is_object();
    }, std::chrono::seconds(60)));
    const auto e1 = *election_at(net, 1, id);
    INFO(bj::serialize(e1));
    const auto& res = e1.at("results").as_object();
    CHECK(res.at("1") == cast[0]);
    CHECK(res.at("2") == cast[1]);
    CHECK(res.at("3") == cast[2]);
    CHECK(e1.at("decrypted_by").as_array().size() == 2);
    if (killed_before_end) CHECK(e1.at("decrypted_by") == bj::array{2, 3});

    // No ballot on the chain names a candidate: every record of election 77 is tag 0x07.
    const auto top = net.height(1).value();
    std::uint64_t ballots_seen = 0;
    for (std::uint64_t h = 1; h <= top; ++h) {
        auto raw = rpc_call(net.rpc(1), "poa_getRawBlock", {hexq(h)});
        REQUIRE(raw);
        auto fb = decode_finalized_block(from_hex(std::string(raw->as_string())).value()).value();
        for (const auto& tx : fb.blk.txs) {
            if (tx.election_id != id) continue;
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
    CHECK(out.find("election 77 (encrypted, \"Board\"): ready, 201 ballots") != std::string::npos);
    CHECK(out.find("candidate 1 = " + std::to_string(cast[0]) + " candidate 2 = " + std::to_string(cast[1]) +
                   " candidate 3 = " + std::to_string(cast[2])) != std::string::npos);

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
            CHECK(t.at("1") == cast[0]);
            CHECK(t.at("2") == cast[1]);
            CHECK(t.at("3") == cast[2]);
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
