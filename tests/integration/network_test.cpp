// Integration tests: the real binaries (bootnode, validators, CLI) on 127.0.0.1
// with free ports and temp dirs, stopped afterwards.
#include "network.hpp"
#include "voter.hpp"

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <atomic>
#include <functional>
#include <set>
#include <variant>

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;

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
        CHECK(*h == to_hex(tx_hash<ed25519_sha256>(tx)));
        acked.push_back(*h);
    }
    check_all_final(net, 3, acked);
    // a second vote by the same voter is refused with a clear JSON-RPC error
    bj::value err;
    auto again = vc.make(5);
    again.candidate_id += 1;
    sign_tx<ed25519_sha256>(again, load_key_file((net.dir() / "submitter.key").string()).value());
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
                    if (!receipt_final(net, i, h)) return false;
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
    for (const auto& a : acked) CHECK_FALSE(receipt_final(net, 0, a));
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
    const std::string eth_dir = eth_test_dir();
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

// ---- the verifier trusts nothing (issue 9) ------------------------------------------------

namespace {

/// A raw connection to a stopped validator's chain.db, for tampering behind its back.
class chain_db {
public:
    explicit chain_db(const fs::path& file) {
        REQUIRE(sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    }
    ~chain_db() { sqlite3_close_v2(db_); }
    chain_db(const chain_db&) = delete;
    chain_db& operator=(const chain_db&) = delete;

    /// Runs `sql` with ?1.. bound to the given blobs or integers; returns the rows changed.
    int run(const std::string& sql, const std::vector<std::variant<bytes, std::int64_t>>& args = {}) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
        for (std::size_t i = 0; i < args.size(); ++i) {
            const int at = static_cast<int>(i + 1);
            if (const auto* b = std::get_if<bytes>(&args[i]))
                sqlite3_bind_blob(st, at, b->data(), static_cast<int>(b->size()), SQLITE_TRANSIENT);
            else
                sqlite3_bind_int64(st, at, std::get<std::int64_t>(args[i]));
        }
        const int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        INFO(sql << ": " << sqlite3_errmsg(db_));
        REQUIRE(rc == SQLITE_DONE);
        return sqlite3_changes(db_);
    }
    bytes blob(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        const auto* p = static_cast<const byte*>(sqlite3_column_blob(st, 0));
        bytes out(p, p + sqlite3_column_bytes(st, 0));
        sqlite3_finalize(st);
        return out;
    }

private:
    sqlite3* db_ = nullptr;
};

bytes raw32(const hash32& h) { return bytes(h.data.begin(), h.data.end()); }

/// A copy of validator i's data dir (genesis.json and chain.db; the validator is stopped).
fs::path copy_data_dir(const network& net, int i, const std::string& name) {
    const fs::path to = net.dir() / ("copy-" + name);
    fs::create_directories(to);
    for (const char* f : {"genesis.json", "chain.db", "chain.db-wal"})
        if (fs::exists(net.vdir(i) / f)) fs::copy_file(net.vdir(i) / f, to / f, fs::copy_options::overwrite_existing);
    return to;
}

std::pair<int, std::string> verify_dir(const network& net, const fs::path& dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{bin_dir + "/ballotchain", "verify", "--data-dir", dir.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv, net.dir() / ("verify-" + dir.filename().string() + ".log"));
}

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

/// A one-validator network with blocks of votes: voters 1..n_voters in election 1, in `batches` blocks or more.
std::vector<vote_tx> grow_chain(network& net, voter_client& vc, std::uint64_t n_voters, int batches) {
    REQUIRE(eventually([&] { return net.health(0).has_value(); }, std::chrono::seconds(20)));
    std::vector<vote_tx> txs;
    std::vector<std::string> acked;
    for (std::uint64_t v = 1; v <= n_voters; ++v) {
        txs.push_back(vc.make(v));
        auto h = vc.send(net.rpc(0), txs.back());
        REQUIRE(h);
        acked.push_back(*h);
        if (v % ((n_voters + static_cast<std::uint64_t>(batches) - 1) / static_cast<std::uint64_t>(batches)) == 0)
            REQUIRE(eventually([&] { return receipt_final(net, 0, acked.back()); }, std::chrono::seconds(30)));
    }
    REQUIRE(eventually(
        [&] {
            for (const auto& a : acked)
                if (!receipt_final(net, 0, a)) return false;
            return true;
        },
        std::chrono::seconds(30)));
    return txs;
}

/// POSTs a JSON-RPC body from local address `from` and parses the answer. (The socket is bound,
/// then connected to the one endpoint: asio's connect over an endpoint range closes the socket
/// first, which would drop the bind.)
bj::value rpc_body(std::uint16_t port, const std::string& body, const std::string& from = "127.0.0.1") {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::tcp::socket sock(io);
    sock.open(asio::ip::tcp::v4());
    sock.bind({asio::ip::make_address(from), 0});
    sock.connect({asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{http::verb::post, "/", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(sock, req);
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(sock, buf, res);
    REQUIRE(res.result_int() == 200);
    return bj::parse(res.body());
}

std::string verify_call(int id) {
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"poa_verifyChain","params":[]})";
}

}  // namespace

TEST_CASE("verify: exit 0 with tallies, 2 naming the first bad block or index row, 1 when it cannot run",
          "[integration][verify]") {
    network net(1, /*bootnode=*/false, 200, /*static_peers=*/false);
    voter_client vc(net.dir() / "submitter.key");
    const auto txs = grow_chain(net, vc, 12, 3);
    const auto head = net.height(0).value();
    REQUIRE(head >= 3);
    net.stop_all();

    {
        auto [rc, out] = verify_dir(net, copy_data_dir(net, 0, "good"));
        INFO(out);
        CHECK(rc == 0);
        CHECK(contains(out, "OK: " + std::to_string(head + 1) + " blocks"));
        CHECK(contains(out, "election 1:"));
        CHECK(contains(out, "candidate 0 = 4"));  // voters 3, 6, 9, 12 (candidate = voter % 3)
    }
    // block 0's certificate is checked exactly as data-format.md §8 says: {0, 0, block 0 hash, no seals}
    const std::pair<const char*, std::function<void(finalized_block&)>> block0_cases[] = {
        {"certificate height", [](finalized_block& fb) { fb.cert.height = 5; }},
        {"certificate round", [](finalized_block& fb) { fb.cert.round = 1; }},
        {"certificate block_hash", [](finalized_block& fb) { fb.cert.block_hash.data[0] ^= 1; }},
        {"certificate has 1 seals", [](finalized_block& fb) { fb.cert.seals.push_back({0, signature{}}); }},
    };
    int k = 0;
    for (const auto& [what, change] : block0_cases) {
        INFO(what);
        const auto dir = copy_data_dir(net, 0, "block0-" + std::to_string(k++));
        {
            chain_db db(dir / "chain.db");
            auto b0 = decode_finalized_block(db.blob("SELECT data FROM blocks WHERE height = 0")).value();
            change(b0);
            CHECK(db.run("UPDATE blocks SET data = ?1 WHERE height = 0", {encode(b0)}) == 1);
        }
        auto [rc, out] = verify_dir(net, dir);
        INFO(out);
        CHECK(rc == 2);
        CHECK(contains(out, "block 0 is bad"));
        CHECK(contains(out, what));
    }
    {
        INFO("a block that does not decode");
        const auto dir = copy_data_dir(net, 0, "undecodable");
        {
            chain_db db(dir / "chain.db");
            bytes data = db.blob("SELECT data FROM blocks WHERE height = 2");
            REQUIRE(data.size() > 200);
            data.erase(data.end() - 7, data.end());
            CHECK(db.run("UPDATE blocks SET data = ?1 WHERE height = 2", {data}) == 1);
        }
        auto [rc, out] = verify_dir(net, dir);
        INFO(out);
        CHECK(rc == 2);
        CHECK(contains(out, "block 2 is bad"));
        CHECK(contains(out, "do not decode"));
    }
    {
        INFO("a missing block in the middle");
        const auto dir = copy_data_dir(net, 0, "missing");
        {
            chain_db db(dir / "chain.db");
            db.run("DELETE FROM txs WHERE height = 2");
            CHECK(db.run("DELETE FROM blocks WHERE height = 2") == 1);
        }
        auto [rc, out] = verify_dir(net, dir);
        INFO(out);
        CHECK(rc == 2);
        CHECK(contains(out, "block 2 is bad"));
        CHECK(contains(out, "missing"));
    }
    const hash32 forged = sha256::hash(bytes{'f', 'o', 'r', 'g', 'e', 'd'});
    const vote_tx never = vc.make(500);  // voter 500 never voted
    {
        INFO("a forged tx row for a vote in no block");
        const auto dir = copy_data_dir(net, 0, "forged");
        {
            chain_db db(dir / "chain.db");
            CHECK(db.run("INSERT INTO txs(hash, height, idx, election, voter_tag) VALUES(?1, 1, 77, 1, ?2)",
                         {raw32(forged), raw32(never.voter_tag)}) == 1);
        }
        auto [rc, out] = verify_dir(net, dir);
        INFO(out);
        CHECK(rc == 2);
        CHECK(contains(out, "index txs: extra row"));
        CHECK(contains(out, to_hex(forged)));
        CHECK(contains(out, "block 1 is bad"));
    }
    {
        INFO("a voter-tag row whose election was changed");
        const auto dir = copy_data_dir(net, 0, "moved");
        {
            chain_db db(dir / "chain.db");
            CHECK(db.run("UPDATE txs SET election = 2 WHERE hash = ?1", {raw32(tx_hash<ed25519_sha256>(txs[4]))}) == 1);
        }
        auto [rc, out] = verify_dir(net, dir);
        INFO(out);
        CHECK(rc == 2);
        CHECK(contains(out, "(election, voter_tag)"));
        CHECK(contains(out, to_hex(txs[4].voter_tag)));
    }
    // exit 1: it could not run
    {
        auto [rc, out] = run({bin_dir + "/ballotchain", "verify"}, net.dir() / "verify-usage.log");
        INFO(out);
        CHECK(rc == 1);
    }
    {
        const auto dir = net.dir() / "empty-dir";
        fs::create_directories(dir);
        fs::copy_file(net.vdir(0) / "genesis.json", dir / "genesis.json");
        auto [rc, out] = verify_dir(net, dir);
        INFO(out);
        CHECK(rc == 1);
        CHECK(contains(out, "no such database"));
        std::ofstream(dir / "chain.db") << std::string(4096, 'x');  // not SQLite at all
        std::tie(rc, out) = verify_dir(net, dir);
        INFO(out);
        CHECK(rc == 1);
        CHECK(contains(out, "not a database"));
        auto [rc2, out2] = verify_dir(net, copy_data_dir(net, 0, "no-genesis"), {"--genesis", (dir / "none.json").string()});
        INFO(out2);
        CHECK(rc2 == 1);
    }
}

TEST_CASE("a validator does not trust its indexes: a forged row does not lock a voter out, a moved row does not let "
          "a voter vote twice",
          "[integration][verify]") {
    network net(1, /*bootnode=*/false, 200, /*static_peers=*/false);
    voter_client vc(net.dir() / "submitter.key");
    const auto txs = grow_chain(net, vc, 6, 2);
    net.stop_all();
    const vote_tx never = vc.make(500);  // voter 500 never voted
    const vote_tx voted = txs[2];        // voter 3 did, in election 1
    {
        chain_db db(net.vdir(0) / "chain.db");
        CHECK(db.run("INSERT INTO txs(hash, height, idx, election, voter_tag) VALUES(?1, 1, 77, 1, ?2)",
                     {raw32(sha256::hash(bytes{9, 9})), raw32(never.voter_tag)}) == 1);
        CHECK(db.run("UPDATE txs SET election = 2 WHERE hash = ?1", {raw32(tx_hash<ed25519_sha256>(voted))}) == 1);
    }
    net.start(0, /*static_peers=*/false);
    REQUIRE(eventually([&] { return net.health(0).has_value(); }, std::chrono::seconds(20)));
    CHECK(contains(net.log(0), "index rows disagreed with the blocks"));
    // the voter who did vote is refused a second vote in the same election
    vote_tx again = vc.make(3);
    again.candidate_id = (voted.candidate_id + 1) % 3;
    sign_tx<ed25519_sha256>(again, load_key_file((net.dir() / "submitter.key").string()).value());
    bj::value err;
    CHECK_FALSE(vc.send(net.rpc(0), again, &err));
    CHECK((err.is_object() && err.as_object().at("code").to_number<std::int64_t>() == -32003));
    // the voter who never voted is accepted and counted
    auto h = vc.send(net.rpc(0), never);
    CHECK(h);
    if (h) CHECK(eventually([&] { return receipt_final(net, 0, *h); }, std::chrono::seconds(30)));
    auto tally = rpc_call(net.rpc(0), "poa_getResults", {1});
    REQUIRE(tally);
    CHECK(tally->as_object().at("total_votes").to_number<std::uint64_t>() == 7);
    net.stop_all();
    auto [rc, out] = verify_dir(net, net.vdir(0));
    INFO(out);
    CHECK(rc == 0);
}

TEST_CASE("an outside verifier re-checks a running validator's chain from RPC answers alone", "[integration][verify]") {
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    std::vector<std::string> acked;
    for (std::uint64_t v = 0; v < 60; ++v) {
        acked.push_back(*vc.send(net.rpc(static_cast<int>(v % 3)), vc.make(v, 1 + v % 2)));
        if (v == 29) check_all_final(net, 3, acked);
    }
    check_all_final(net, 3, acked);
    const int i = 2;  // ask one validator; trust none of its answers without checking them
    auto gen = rpc_call(net.rpc(i), "poa_getGenesis", {});
    REQUIRE(gen);
    const auto& go = gen->as_object();
    auto enc = from_hex(std::string_view(go.at("encoding").as_string()), 1u << 20);
    REQUIRE(enc.has_value());
    auto g = decode_genesis(*enc);  // strict: one encoding per genesis
    REQUIRE(g.has_value());
    REQUIRE_FALSE(check_genesis(*g));
    CHECK(go.at("genesis_hash").as_string() == to_hex(genesis_hash<ed25519_sha256>(*g)));
    // the JSON says the same as the encoding that is hashed
    const auto& gj = go.at("genesis").as_object();
    CHECK(gj.at("chain_id").to_number<std::uint64_t>() == g->chain_id);
    REQUIRE(gj.at("validators").as_array().size() == g->n());
    for (std::size_t v = 0; v < g->n(); ++v)
        CHECK(gj.at("validators").as_array()[v].as_object().at("public_key").as_string() == to_hex(g->validators[v].key));
    REQUIRE(g->submitters.size() == 1);
    CHECK(gj.at("submitters").as_array()[0].as_string() == to_hex(g->submitters[0]));
    CHECK(g->submitters[0] == load_key_file((net.dir() / "submitter.key").string()).value().public_key());
    // A chain of our own, in memory, that every block must append to: hashes, links, proposer and tx
    // signatures, duplicate votes, Merkle roots and certificates are all checked on the way.
    auto mine = ledger::blockchain<ed25519_sha256, memory_storage>::open(*g, memory_storage{});
    REQUIRE(mine.has_value());
    const auto head = net.height(i).value();
    for (std::uint64_t h = 0; h <= head; ++h) {
        INFO("block " << h);
        auto raw = rpc_call(net.rpc(i), "poa_getRawBlock", {hexq(h)});
        REQUIRE(raw);
        auto bytes_ = from_hex(std::string_view(raw->as_string()), 64u << 20);
        REQUIRE(bytes_.has_value());
        auto fb = decode_finalized_block(*bytes_);
        REQUIRE(fb.has_value());
        CHECK(encode(*fb) == *bytes_);
        if (h == 0)
            CHECK(*fb == make_genesis_block<ed25519_sha256>(*g));
        else
            REQUIRE(mine->append(*fb).has_value());
        auto blk = rpc_call(net.rpc(i), "eth_getBlockByNumber", {hexq(h), false});
        REQUIRE(blk);
        const auto& o = blk->as_object();
        CHECK(o.at("hash").as_string() == to_hex(block_hash<ed25519_sha256>(fb->blk.header)));
        CHECK(o.at("proposerSignature").as_string() == to_hex(fb->blk.proposer_sig));
        CHECK(o.at("chainId").as_string() == hexq(fb->blk.header.chain_id));
    }
    CHECK(mine->height() == head);
    // every acknowledged vote: an inclusion proof against the root of the block we checked
    for (const auto& a : acked) {
        auto p = rpc_call(net.rpc(i), "poa_getTransactionProof", {a});
        REQUIRE(p);
        const auto& o = p->as_object();
        const auto bn = o.at("block_number").to_number<std::uint64_t>();
        const auto fb = mine->block_at(bn).value();
        std::vector<hash32> path;
        for (const auto& e : o.at("proof").as_array()) path.push_back(from_hex_fixed<32>(std::string_view(e.as_string())).value());
        const auto th = from_hex_fixed<32>(std::string_view(a)).value();
        CHECK(merkle_verify<ed25519_sha256>(th, o.at("index").to_number<std::size_t>(), fb.blk.header.tx_count, path,
                                    fb.blk.header.tx_root));
        CHECK(mine->find_tx(th) == tx_location{bn, o.at("index").to_number<std::uint32_t>()});
    }
    // and the tallies it serves are the ones we count
    for (std::uint64_t e : {1, 2}) {
        auto r = rpc_call(net.rpc(i), "poa_getResults", {e});
        REQUIRE(r);
        std::uint64_t total = 0;
        for (auto [cand, n] : mine->tally(e)) {
            CHECK(r->as_object().at("results").as_object().at(std::to_string(cand)).to_number<std::uint64_t>() == n);
            total += n;
        }
        CHECK(r->as_object().at("total_votes").to_number<std::uint64_t>() == total);
    }
}

TEST_CASE("two conflicting votes at the same moment: both acknowledged, one final, the other reported dropped",
          "[integration][verify]") {
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    // Send vote A of a voter to validator 1 and vote B of the same voter (same election) to validator 2 at
    // the same moment, until both are acknowledged (otherwise one validator heard the other's gossip first).
    std::optional<std::string> ha, hb;
    std::uint64_t voter = 1000;
    for (int attempt = 0; attempt < 60 && !(ha && hb); ++attempt, ++voter) {
        vote_tx a = vc.make(voter), b = vc.make(voter);
        b.candidate_id = (a.candidate_id + 1) % 3;
        sign_tx<ed25519_sha256>(b, load_key_file((net.dir() / "submitter.key").string()).value());
        std::atomic<int> ready{0};
        auto send_at_once = [&](int port_of, const vote_tx& tx, std::optional<std::string>& out) {
            ++ready;
            while (ready.load() < 2) std::this_thread::yield();
            out = vc.send(net.rpc(port_of), tx);
        };
        ha.reset();
        hb.reset();
        std::thread ta(send_at_once, 0, std::cref(a), std::ref(ha));
        std::thread tb(send_at_once, 1, std::cref(b), std::ref(hb));
        ta.join();
        tb.join();
    }
    REQUIRE(ha);
    REQUIRE(hb);
    // exactly one becomes final, everywhere
    std::string winner, loser;
    int loser_at = -1;
    REQUIRE(eventually(
        [&] {
            for (int i = 0; i < 3; ++i)
                if (!receipt_final(net, i, *ha) && !receipt_final(net, i, *hb)) return false;
            return true;
        },
        std::chrono::seconds(60)));
    const bool a_won = receipt_final(net, 0, *ha);
    winner = a_won ? *ha : *hb;
    loser = a_won ? *hb : *ha;
    loser_at = a_won ? 1 : 0;  // the validator that acknowledged the loser
    for (int i = 0; i < 3; ++i) {
        CHECK(receipt_final(net, i, winner));
        CHECK_FALSE(receipt_final(net, i, loser));
    }
    auto win_status = rpc_call(net.rpc(loser_at), "poa_getTransactionStatus", {winner});
    REQUIRE(win_status);
    CHECK(win_status->as_object().at("status").as_string() == "final");
    const auto win_block = win_status->as_object().at("block_number").to_number<std::uint64_t>();
    auto check_dropped = [&] {
        auto st = rpc_call(net.rpc(loser_at), "poa_getTransactionStatus", {loser});
        REQUIRE(st);
        const auto& o = st->as_object();
        INFO(bj::serialize(o));
        CHECK(o.at("status").as_string() == "dropped");
        CHECK(o.at("conflicting_tx").as_string() == winner);
        CHECK(o.at("conflicting_block").to_number<std::uint64_t>() == win_block);
        CHECK(o.at("conflicting_block_hash") == win_status->as_object().at("block_hash"));
        CHECK(std::string(o.at("reason").as_string()) ==
              "conflicting vote " + winner + " final at block " + std::to_string(win_block));
    };
    REQUIRE(eventually(
        [&] {
            auto st = rpc_call(net.rpc(loser_at), "poa_getTransactionStatus", {loser});
            return st && st->as_object().at("status").as_string() == "dropped";
        },
        std::chrono::seconds(30)));
    check_dropped();
    // the validator that never acknowledged it may not know it
    auto third = rpc_call(net.rpc(2), "poa_getTransactionStatus", {loser});
    REQUIRE(third);
    CHECK(third->as_object().at("status").as_string() == "unknown");
    // and the acknowledging validator remembers across a restart
    net.kill(loser_at, SIGTERM);
    net.start(loser_at);
    REQUIRE(eventually([&] { return net.health(loser_at).has_value(); }, std::chrono::seconds(20)));
    check_dropped();
}

TEST_CASE("poa_verifyChain: once per batch, rate-limited per client, and only new blocks after the first call",
          "[integration][verify]") {
    network net(1, /*bootnode=*/false, 200, /*static_peers=*/false);
    voter_client vc(net.dir() / "submitter.key");
    grow_chain(net, vc, 9, 3);
    // one 8 KB batch of 100 calls: 1 verification, 99 refusals
    std::string batch = "[";
    for (int i = 0; i < 100; ++i) batch += (i ? "," : "") + verify_call(i);
    batch += "]";
    const auto out = rpc_body(net.rpc(0), batch).as_array();
    REQUIRE(out.size() == 100);
    int results = 0, refused = 0;
    const bj::object* first = nullptr;
    for (const auto& r : out) {
        if (const auto* res = r.as_object().if_contains("result")) {
            ++results;
            first = &res->as_object();
        } else if (r.as_object().at("error").as_object().at("code").to_number<std::int64_t>() == -32020) {
            ++refused;
        }
    }
    CHECK(results == 1);
    CHECK(refused == 99);
    REQUIRE(first);
    CHECK(first->at("ok").as_bool());
    CHECK(first->at("complete").as_bool());
    const auto h1 = first->at("verified_height").to_number<std::uint64_t>();
    CHECK(first->at("blocks_checked").to_number<std::uint64_t>() == h1 + 1);  // the first call checks everything
    // new blocks; the next call checks only those
    std::vector<vote_tx> more;
    for (std::uint64_t v = 100; v < 104; ++v) {
        auto h = vc.send(net.rpc(0), vc.make(v));
        REQUIRE(h);
        REQUIRE(eventually([&] { return receipt_final(net, 0, *h); }, std::chrono::seconds(30)));
    }
    auto next = rpc_call(net.rpc(0), "poa_verifyChain", {});
    REQUIRE(next);
    const auto h2 = next->as_object().at("verified_height").to_number<std::uint64_t>();
    CHECK(h2 >= h1 + 1);
    CHECK(next->as_object().at("blocks_checked").to_number<std::uint64_t>() == h2 - h1);
    CHECK(next->as_object().at("txs_checked").to_number<std::uint64_t>() == 4);
    // a client from another address that keeps asking is slowed down; the first client is not
    int limited = 0;
    for (int i = 0; i < 30; ++i) {
        auto r = rpc_body(net.rpc(0), verify_call(i), "127.0.0.2").as_object();
        if (const auto* e = r.if_contains("error")) {
            CHECK(e->as_object().at("code").to_number<std::int64_t>() == -32029);
            CHECK(e->as_object().at("data").as_object().at("retry_after_ms").to_number<std::uint64_t>() >= 1);
            ++limited;
        }
    }
    CHECK(limited >= 15);  // bursts of 10, then 1 per second
    auto mine = rpc_body(net.rpc(0), verify_call(1)).as_object();
    INFO(bj::serialize(mine));
    CHECK(mine.contains("result"));
}
