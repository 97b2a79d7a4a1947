// Integration tests: what a verifying client asks of real validators (the validator side of
// issue 15): the long-poll for new final blocks (poa_waitForBlock), several raw blocks in one
// call (poa_getRawBlocks), and inclusion proofs carrying their header and certificate.
#include "network.hpp"
#include "voter.hpp"

#include <ballotchain/chain/rules.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <thread>

namespace light_client_itest {

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;
using S = ed25519_sha256;

/// POSTs a JSON-RPC body from local address `from` with a timeout above the longest wait.
bj::value post(std::uint16_t port, const std::string& body, const std::string& from = "127.0.0.1") {
    const auto r = http_request_from(from, port, http::verb::post, "/", body, {}, std::chrono::seconds(60));
    INFO(r.body);
    REQUIRE(r.status == 200);
    return bj::parse(r.body);
}

std::string call_body(const std::string& method, const bj::array& params, int id = 1) {
    return bj::serialize(bj::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
}

/// A long-poll on its own thread (no Catch2 assertion there); its answer once joined.
struct waiting_call {
    http_reply reply;
    std::thread th;
    waiting_call(std::uint16_t port, std::uint64_t after, std::uint64_t timeout_ms, int id, std::string from)
        : th([this, port, after, timeout_ms, id, f = std::move(from)] {
              reply = http_request_from(f, port, http::verb::post, "/",
                                        call_body("poa_waitForBlock", {after, timeout_ms}, id), {},
                                        std::chrono::seconds(60));
          }) {}
    ~waiting_call() {
        if (th.joinable()) th.join();
    }
    bj::object answer() {
        th.join();
        INFO(reply.body);
        REQUIRE(reply.status == 200);
        return bj::parse(reply.body).as_object();
    }
};

double waiting(std::uint16_t port) { return metric(port, "ballotchain_rpc_long_polls"); }

hash32 hash_of(const bj::value& v) { return from_hex_fixed<32>(std::string_view(v.as_string())).value(); }

/// A certificate from its JSON (docs/api.md), read here rather than with the library's
/// bj::cert_from_json (unit-tested in tests/unit/chain): an outside client's reading.
/// (chain/json.hpp stays out of this file: in the one-TU build its namespace `json` would
/// clash with the `json` alias of the files after it.)
commit_certificate cert_of(const bj::value& v) {
    const auto& o = v.as_object();
    commit_certificate c;
    c.height = o.at("height").to_number<std::uint64_t>();
    c.round = o.at("round").to_number<std::uint32_t>();
    c.block_hash = hash_of(o.at("block_hash"));
    for (const auto& s : o.at("seals").as_array())
        c.seals.push_back({s.at("validator").to_number<std::uint32_t>(),
                           from_hex_fixed<64>(std::string_view(s.at("signature").as_string())).value()});
    return c;
}

}  // namespace light_client_itest

TEST_CASE("poa_waitForBlock: a long-poll ends when a vote becomes final, times out on an idle chain, and is bounded",
          "[integration][longpoll]") {
    using namespace light_client_itest;
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    const int watcher = 2;  // long-polls go to validator 3; votes to validator 1
    const auto h0 = net.height(watcher).value();

    // waits (30 s) until a vote sent to another validator is final
    waiting_call w(net.rpc(watcher), h0, 30'000, 5, "127.0.0.1");
    REQUIRE(eventually([&] { return waiting(net.rpc(watcher)) == 1; }, std::chrono::seconds(20)));
    const auto tx = vc.send(net.rpc(0), vc.make(1));
    REQUIRE(tx);
    const auto a = w.answer();
    CHECK(a.at("id") == 5);
    const auto& r = a.at("result").as_object();
    CHECK(r.at("timed_out") == false);  // with 30 s, only a block could end the wait
    const auto h1 = r.at("height").to_number<std::uint64_t>();
    CHECK(h1 > h0);
    auto blk = rpc_call(net.rpc(watcher), "eth_getBlockByNumber", {hexq(h1), false});
    REQUIRE(blk);
    CHECK(r.at("head_hash") == blk->as_object().at("hash"));
    REQUIRE(eventually([&] { return receipt_final(net, watcher, *tx); }, std::chrono::seconds(30)));

    // the chain is idle (testnet makes no empty blocks): a short wait times out
    const auto idle = post(net.rpc(watcher), call_body("poa_waitForBlock", {h1, 300})).as_object();
    INFO(bj::serialize(idle));
    CHECK(idle.at("result").at("timed_out") == true);
    CHECK(idle.at("result").at("height") == h1);

    // 8 waiting requests per client address; the 9th is refused at once, another address still waits
    std::vector<std::unique_ptr<waiting_call>> parked;
    for (int i = 0; i < 8; ++i) parked.push_back(std::make_unique<waiting_call>(net.rpc(watcher), h1, 30'000, i, "127.0.0.2"));
    REQUIRE(eventually([&] { return waiting(net.rpc(watcher)) == 8; }, std::chrono::seconds(20)));
    const auto refused = post(net.rpc(watcher), call_body("poa_waitForBlock", {h1, 30'000}, 9), "127.0.0.2").as_object();
    INFO(bj::serialize(refused));
    REQUIRE(refused.contains("error"));
    CHECK(refused.at("id") == 9);
    CHECK(refused.at("error").at("code") == -32029);
    CHECK(refused.at("error").at("data").at("retry_after_ms").to_number<std::uint64_t>() >= 1);
    CHECK(metric(net.rpc(watcher), "ballotchain_rpc_long_polls_refused_total") == 1);
    parked.push_back(std::make_unique<waiting_call>(net.rpc(watcher), h1, 30'000, 8, "127.0.0.3"));
    REQUIRE(eventually([&] { return waiting(net.rpc(watcher)) == 9; }, std::chrono::seconds(20)));
    // one vote ends all nine waits
    REQUIRE(vc.send(net.rpc(0), vc.make(2)));
    for (std::size_t i = 0; i < parked.size(); ++i) {
        const auto p = parked[i]->answer();
        CHECK(p.at("id") == static_cast<int>(i));
        CHECK(p.at("result").at("timed_out") == false);
        CHECK(p.at("result").at("height").to_number<std::uint64_t>() > h1);
    }
    CHECK(waiting(net.rpc(watcher)) == 0);
}

TEST_CASE("poa_getRawBlocks and poa_getTransactionProof: a client checks blocks and votes against the genesis alone",
          "[integration][verify]") {
    using namespace light_client_itest;
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    std::vector<std::string> acked;
    for (std::uint64_t v = 0; v < 30; ++v) {
        acked.push_back(*vc.send(net.rpc(static_cast<int>(v % 3)), vc.make(v)));
        if (v % 10 == 9) check_all_final(net, 3, acked);  // several blocks
    }
    const int i = 1;
    const auto head = net.height(i).value();
    REQUIRE(head >= 3);
    auto gen = rpc_call(net.rpc(i), "poa_getGenesis", {});
    REQUIRE(gen);
    const auto g = decode_genesis(from_hex(std::string_view(gen->as_object().at("encoding").as_string()), 1u << 20).value());
    REQUIRE(g.has_value());
    const chain_rules<S> rules(*g);

    // raw blocks: every block 0..head in runs of 2, each as poa_getRawBlock gives it
    for (std::uint64_t from = 0; from <= head; from += 2) {
        INFO("from " << from);
        const auto r = post(net.rpc(i), call_body("poa_getRawBlocks", {hexq(from), 2})).as_object().at("result").as_object();
        CHECK(r.at("from") == from);
        const auto& blocks = r.at("blocks").as_array();
        REQUIRE(blocks.size() == std::min<std::uint64_t>(2, head - from + 1));
        for (std::size_t k = 0; k < blocks.size(); ++k) {
            auto raw = rpc_call(net.rpc(i), "poa_getRawBlock", {hexq(from + k)});
            REQUIRE(raw);
            CHECK(blocks[k] == *raw);
            const auto fb = decode_finalized_block(from_hex(std::string_view(blocks[k].as_string()), 64u << 20).value());
            REQUIRE(fb.has_value());
            CHECK(fb->blk.header.height == from + k);
            if (from + k > 0) CHECK_FALSE(rules.check_certificate(fb->blk.header, block_hash<S>(fb->blk.header), fb->cert, validator_schedule(*g)));
        }
    }
    // bounds: all up to the head in one call; none above it; count 1..256; one call per body
    const auto all = post(net.rpc(i), call_body("poa_getRawBlocks", {"earliest", 256})).as_object();
    CHECK(all.at("result").at("blocks").as_array().size() >= head + 1);  // more blocks may have come meanwhile
    CHECK(post(net.rpc(i), call_body("poa_getRawBlocks", {hexq(head + 1000), 5})).at("result").at("blocks").as_array().empty());
    for (const auto& count : {bj::value(0), bj::value(257)}) {
        const auto e = post(net.rpc(i), call_body("poa_getRawBlocks", {"0x0", count})).as_object();
        CHECK(e.at("error").at("code") == -32602);
        CHECK(std::string(e.at("error").at("message").as_string()).find("count") != std::string::npos);
    }
    const auto two = post(net.rpc(i), "[" + call_body("poa_getRawBlocks", {"0x0", 1}, 1) + "," +
                                          call_body("poa_getRawBlocks", {"0x1", 1}, 2) + "]")
                         .as_array();
    REQUIRE(two.size() == 2);
    CHECK(two[0].as_object().contains("result"));
    CHECK(two[1].at("error").at("code") == -32020);

    // every vote: header → block hash, certificate under the genesis, audit path → the header's root
    for (const auto& a : acked) {
        INFO(a);
        auto p = rpc_call(net.rpc(i), "poa_getTransactionProof", {a});
        REQUIRE(p);
        const auto& o = p->as_object();
        const auto header_bytes = from_hex(std::string_view(o.at("header").as_string()), 1024).value();
        const auto header = decode_header(header_bytes);
        REQUIRE(header.has_value());
        const hash32 bh = S::hash(header_bytes);
        CHECK(bh == hash_of(o.at("block_hash")));
        CHECK(header->height == o.at("block_number").to_number<std::uint64_t>());
        const auto cert = cert_of(o.at("certificate"));
        CHECK(cert.seals.size() >= g->quorum());
        CHECK_FALSE(rules.check_certificate(*header, bh, cert, validator_schedule(*g)));
        std::vector<hash32> path;
        for (const auto& e : o.at("proof").as_array()) path.push_back(hash_of(e));
        CHECK(merkle_verify<S>(hash_of(bj::value(a)), o.at("index").to_number<std::size_t>(), header->tx_count, path,
                               header->tx_root));
        // a certificate for another block does not pass for this header
        auto other = cert;
        other.block_hash.data[0] ^= 1;
        CHECK(rules.check_certificate(*header, bh, other, validator_schedule(*g)));
    }
}
