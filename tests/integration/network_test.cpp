// Integration tests: the real binaries (bootnode, validators, CLI) on 127.0.0.1
// with free ports and temp dirs, stopped afterwards.
#include "network.hpp"
#include "voter.hpp"

#include <ballotchain/chain/chain.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/crypto/sha256.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <set>

using namespace ballotchain;
using namespace ballotchain::itest;
namespace json = boost::json;

TEST_CASE("bootnode + 3 validators: 1,000 votes round-robin become final everywhere with identical blocks",
          "[integration]") {
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    std::vector<std::string> acked;
    for (std::uint64_t v = 0; v < 1000; ++v) {
        const auto tx = vc.make(v);
        auto h = vc.send(net.rpc(static_cast<int>(v % 3)), tx);
        REQUIRE(h);
        CHECK(*h == to_hex(tx_hash<sha256>(tx)));
        acked.push_back(*h);
    }
    check_all_final(net, 3, acked);
    // a second vote by the same voter is refused with a clear JSON-RPC error
    json::value err;
    auto again = vc.make(5);
    again.candidate_id += 1;
    sign_tx<sha256, ed25519>(again, load_key_file((net.dir() / "submitter.key").string()).value());
    CHECK_FALSE(vc.send(net.rpc(1), again, &err));
    REQUIRE(err.is_object());
    CHECK(err.as_object().at("code").to_number<std::int64_t>() <= -32000);
    CHECK(std::string(err.as_object().at("message").as_string()).find("duplicate") != std::string::npos);
}

TEST_CASE("kill -9 one validator under load: the others finalize, it catches up, every acked vote final once",
          "[integration]") {
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    std::vector<std::string> acked;
    std::uint64_t v = 0;
    for (; v < 150; ++v)
        if (auto h = vc.send(net.rpc(static_cast<int>(v % 3)), vc.make(v))) acked.push_back(*h);
    net.kill(2, SIGKILL);
    const auto h_kill = net.height(0).value_or(0);
    std::vector<std::string> after_kill;
    for (; v < 400; ++v)
        if (auto h = vc.send(net.rpc(static_cast<int>(v % 3)), vc.make(v))) after_kill.push_back(*h);
    CHECK(after_kill.size() >= 160);  // the dead validator's third is not acknowledged
    CHECK(after_kill.size() < 250);
    // the two survivors keep finalizing: every vote they acknowledged after the kill becomes final
    for (int i : {0, 1})
        REQUIRE(eventually(
            [&] {
                for (const auto& h : after_kill)
                    if (!receipt_final(net.rpc(i), h)) return false;
                return true;
            },
            std::chrono::seconds(60)));
    CHECK(net.height(0).value_or(0) > h_kill);
    acked.insert(acked.end(), after_kill.begin(), after_kill.end());
    net.start(2);
    REQUIRE(eventually([&] { return net.height(2).value_or(0) >= net.height(0).value_or(0) && net.height(0) > 0u; },
                       std::chrono::seconds(60)));
    check_all_final(net, 3, acked);
    CHECK(net.log(2).find("Synced block") != std::string::npos);
}

TEST_CASE("2 of 3 down: nothing becomes final, nothing is lost; after restart the votes become final",
          "[integration]") {
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    net.kill(1, SIGKILL);
    net.kill(2, SIGKILL);
    const auto h0 = net.height(0).value();
    std::vector<std::string> acked;
    for (std::uint64_t v = 0; v < 40; ++v) {
        auto h = vc.send(net.rpc(0), vc.make(v));
        REQUIRE(h);
        acked.push_back(*h);
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    CHECK(net.height(0).value() == h0);
    for (const auto& a : acked) CHECK_FALSE(receipt_final(net.rpc(0), a));
    // and the validator that holds them is killed too: they are on disk (pending.db)
    net.kill(0, SIGKILL);
    net.start(0);
    net.start(1);
    net.start(2);
    check_all_final(net, 3, acked);
}

TEST_CASE("restart all validators: chains intact, verify passes; a flipped bit makes verify name the block",
          "[integration]") {
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    std::vector<std::string> acked;
    // two batches, the second after the first is final: at least two blocks with votes
    for (std::uint64_t v = 0; v < 200; ++v) {
        acked.push_back(*vc.send(net.rpc(static_cast<int>(v % 3)), vc.make(v)));
        if (v == 99) check_all_final(net, 3, acked);
    }
    check_all_final(net, 3, acked);
    const auto h = net.height(0).value();
    REQUIRE(h >= 2);
    const auto hashes = net.block_hashes(0, h);
    net.stop_all();
    for (int i = 0; i < 3; ++i) net.start(i);
    REQUIRE(eventually([&] { return net.height(0).value_or(0) >= h && net.height(2).value_or(0) >= h; },
                       std::chrono::seconds(20)));
    CHECK(net.block_hashes(0, h) == hashes);
    CHECK(net.block_hashes(2, h) == hashes);
    net.stop_all();
    for (int i = 0; i < 3; ++i) {
        auto [rc, out] = run({bin_dir + "/ballotchain", "verify", "--data-dir", net.vdir(i).string()},
                             net.dir() / ("verify-" + std::to_string(i) + ".log"));
        INFO(out);
        CHECK(rc == 0);
        CHECK(out.find("OK:") != std::string::npos);
    }
    // flip one bit in the middle of the stored encoding of the largest block (inside its transactions)
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((net.vdir(0) / "chain.db").c_str(), &db) == SQLITE_OK);
    bytes data;
    std::uint64_t bad = 0;
    {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "SELECT height, data FROM blocks WHERE height > 0 ORDER BY length(data) DESC LIMIT 1",
                                   -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        bad = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
        const auto* p = static_cast<const byte*>(sqlite3_column_blob(st, 1));
        data.assign(p, p + sqlite3_column_bytes(st, 1));
        sqlite3_finalize(st);
    }
    REQUIRE(data.size() > 1000);  // a vote is ~200 bytes; 200 votes in a handful of blocks
    data[data.size() / 2] ^= 0x01;
    {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "UPDATE blocks SET data = ?1 WHERE height = ?2", -1, &st, nullptr) == SQLITE_OK);
        sqlite3_bind_blob(st, 1, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(bad));
        REQUIRE(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_finalize(st);
    }
    CHECK(sqlite3_changes(db) == 1);
    sqlite3_close(db);
    auto [rc, out] = run({bin_dir + "/ballotchain", "verify", "--data-dir", net.vdir(0).string()},
                         net.dir() / "verify-bad.log");
    INFO(out);
    CHECK(rc == 2);
    CHECK(out.find("block " + std::to_string(bad) + " is bad") != std::string::npos);
}

TEST_CASE("bootnode down from the start: validators with static peers still form the network", "[integration]") {
    network net(3, /*bootnode=*/false);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    auto h = vc.send(net.rpc(0), vc.make(1));
    REQUIRE(h);
    check_all_final(net, 3, {*h});
}

TEST_CASE("garbage on the P2P and RPC ports changes nothing and crashes nothing", "[integration]") {
    network net(3);
    wait_connected(net);
    const auto h0 = net.height(0).value();
    // HTTP: malformed JSON, wrong version, unknown method, oversize body
    auto r = http_request(net.rpc(0), http::verb::post, "/", "{not json");
    CHECK(r.status == 200);
    CHECK(r.body.find("-32700") != std::string::npos);
    r = http_request(net.rpc(0), http::verb::post, "/", R"({"jsonrpc":"2.0","id":1,"method":"nope","params":[]})");
    CHECK(r.body.find("-32601") != std::string::npos);
    r = http_request(net.rpc(0), http::verb::post, "/", std::string(3 << 20, 'x'));
    CHECK(r.status == 413);
    r = http_request(net.rpc(0), http::verb::post, "/",
                     R"({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x0102"]})");
    CHECK(r.body.find("-32602") != std::string::npos);
    // P2P: garbage, a length prefix other than handshake message 1's, and a zero length
    for (const bytes& junk : {bytes(64, 0xab), bytes{0xff, 0xff, 0xff, 0xff, 1, 2, 3},
                              bytes{0, 0, 0, 3, 0x20, 0, 0}}) {
        boost::asio::io_context io;
        boost::asio::ip::tcp::socket sock(io);
        sock.connect({boost::asio::ip::make_address("127.0.0.1"), net.p2p(1)});
        boost::asio::write(sock, boost::asio::buffer(junk));
        boost::system::error_code ec;
        std::array<byte, 256> buf{};
        for (int k = 0; k < 10 && !ec; ++k) sock.read_some(boost::asio::buffer(buf), ec);
        CHECK(ec);  // the validator closed this connection
    }
    CHECK(net.health(0).has_value());
    CHECK(net.health(1).has_value());
    CHECK(net.height(0).value() >= h0);
    // and the network still works
    voter_client vc(net.dir() / "submitter.key");
    auto h = vc.send(net.rpc(1), vc.make(42));
    REQUIRE(h);
    check_all_final(net, 3, {*h});
}

TEST_CASE("ethers v6 reads the chain from a running validator", "[integration][eth]") {
    const std::string eth_dir = BALLOTCHAIN_ETH_DIR;
    INFO("needs node and tests/eth/node_modules (scripts/test runs npm ci there)");
    REQUIRE(fs::exists(fs::path(eth_dir) / "node_modules" / "ethers"));
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    auto first = vc.send(net.rpc(0), vc.make(1));
    REQUIRE(first);
    check_all_final(net, 3, {*first});
    auto second = vc.send(net.rpc(1), vc.make(2));
    REQUIRE(second);
    check_all_final(net, 3, {*first, *second});
    auto [rc, out] = run({"/usr/bin/env", "node", eth_dir + "/check.mjs", "http://127.0.0.1:" + std::to_string(net.rpc(2)),
                          *first, "1337"},
                         net.dir() / "ethers.log");
    INFO(out);
    CHECK(rc == 0);
    CHECK(out.find(": ok") != std::string::npos);
}
