// rpc/: JSON-RPC dispatch, the bounded HTTP server on a real socket, validator methods.
#include "../support/fixtures.hpp"
#include "../support/golden.hpp"
#include "../support/memory_node.hpp"

#include <ballotchain/rpc/http_server.hpp>
#include <ballotchain/rpc/validator_api.hpp>

#include <ballotchain/client/http_client.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using namespace ballotchain;
using namespace ballotchain::test;
namespace bj = boost::json;

namespace {

/// A node_view over an in-memory chain + pool (capacity 3) with a 1-validator genesis.
struct test_node : memory_node {
    test_network net;
    test_node() : test_node(test_network{1}) {}
    explicit test_node(test_network n) : memory_node(n.open_chain(), ledger::mempool<S>{3}), net(std::move(n)) {}
    /// Finalizes everything pooled into one block.
    void commit() {
        auto txs = pool.batch(100);
        auto fb = net.next_block(c, txs);
        REQUIRE(c.append(fb));
        std::vector<hash32> ths;
        for (auto& t : txs) ths.push_back(tx_hash<S>(t));
        pool.remove_committed(fb.blk, ths);
    }
};
static_assert(rpc::node_view<test_node>);

bj::value call(const rpc::method_table& t, const std::string& method, bj::array params) {
    bj::object req{{"jsonrpc", "2.0"}, {"id", 7}, {"method", method}, {"params", std::move(params)}};
    return bj::parse(rpc::handle_jsonrpc(bj::serialize(req), t));
}
std::int64_t err_code(const bj::value& v) { return v.as_object().at("error").as_object().at("code").as_int64(); }
const bj::value& res(const bj::value& v) { return v.as_object().at("result"); }
std::string str(const bj::value& v) { return v.is_string() ? std::string(v.as_string()) : bj::serialize(v); }

}  // namespace

TEST_CASE("JSON-RPC: parse errors, invalid requests, unknown methods, batches, notifications", "[rpc]") {
    rpc::method_table t;
    t["echo"] = [](const bj::value& p) -> rpc::reply { return p; };
    t["boom"] = [](const bj::value&) -> rpc::reply { throw std::runtime_error("x"); };
    auto j = [&](std::string_view body) { return bj::parse(rpc::handle_jsonrpc(body, t)); };
    CHECK(err_code(j("{nope")) == -32700);
    CHECK(err_code(j("42")) == -32600);
    CHECK(err_code(j(R"({"jsonrpc":"1.0","id":1,"method":"echo"})")) == -32600);
    CHECK(err_code(j(R"({"jsonrpc":"2.0","id":1,"method":5})")) == -32600);
    CHECK(err_code(j(R"({"jsonrpc":"2.0","id":{},"method":"echo"})")) == -32600);
    // 1e400 parses as infinity, which an answer could only echo as `Infinity` (not JSON): refused (fuzz_jsonrpc)
    CHECK(err_code(j(R"({"jsonrpc":"2.0","id":1e400,"method":"echo"})")) == -32600);
    CHECK(err_code(j(R"([{"jsonrpc":"2.0","id":-1e400,"method":"echo"}])").as_array().at(0)) == -32600);
    CHECK(err_code(j(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":3})")) == -32600);
    CHECK(err_code(j(R"({"jsonrpc":"2.0","id":1,"method":"nope"})")) == -32601);
    CHECK(err_code(j(R"({"jsonrpc":"2.0","id":1,"method":"boom"})")) == -32603);
    CHECK(err_code(j("[]")) == -32600);
    auto ok = j(R"({"jsonrpc":"2.0","id":"a","method":"echo","params":[1]})");
    CHECK(ok.as_object().at("id") == "a");
    CHECK(res(ok) == bj::array{1});
    // batch: two answers (one error), notification answered with nothing
    auto b = j(R"([{"jsonrpc":"2.0","id":1,"method":"echo","params":[2]},{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","id":3,"method":"x"}])");
    REQUIRE(b.is_array());
    CHECK(b.as_array().size() == 2);
    CHECK(rpc::handle_jsonrpc(R"({"jsonrpc":"2.0","method":"echo"})", t).empty());
    std::string big = "[";
    for (int i = 0; i < 101; ++i) big += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","id":1,"method":"echo"})";
    CHECK(err_code(j(big + "]")) == -32600);
}

TEST_CASE("validator methods: submit, lookups, blocks, receipts and their errors", "[rpc]") {
    test_node n;
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    CHECK(res(call(t, "eth_chainId", {})) == "0x539");
    CHECK(res(call(t, "net_version", {})) == "1337");
    CHECK(res(call(t, "eth_blockNumber", {})) == "0x0");
    const auto v1 = n.net.vote(1);
    auto r = call(t, "eth_sendRawTransaction", {to_hex(encode(v1))});
    CHECK(str(res(r)) == to_hex(tx_hash<S>(v1)));
    const auto v2 = n.net.vote(2);
    CHECK(str(res(call(t, "eth_sendTransaction", {json::to_json(v2)}))) == to_hex(tx_hash<S>(v2)));
    // pending: visible, no receipt yet
    auto pend = res(call(t, "eth_getTransactionByHash", {to_hex(tx_hash<S>(v1))}));
    CHECK(pend.as_object().at("blockNumber").is_null());
    CHECK(res(call(t, "eth_getTransactionReceipt", {to_hex(tx_hash<S>(v1))})).is_null());
    // refusals with their codes
    CHECK(err_code(call(t, "eth_sendRawTransaction", {to_hex(encode(v1))})) == -32004);
    CHECK(err_code(call(t, "eth_sendRawTransaction", {to_hex(encode(n.net.vote(1, 1, 2)))})) == -32003);
    auto bad = n.net.vote(3);
    bad.candidate_id = 9;
    CHECK(err_code(call(t, "eth_sendRawTransaction", {to_hex(encode(bad))})) == -32001);
    const auto stranger = key(70);
    CHECK(err_code(call(t, "eth_sendRawTransaction", {to_hex(encode(n.net.vote(4, 1, 0, &stranger)))})) == -32002);
    CHECK(res(call(t, "eth_sendRawTransaction", {to_hex(encode(n.net.vote(5)))})).is_string());
    CHECK(err_code(call(t, "eth_sendRawTransaction", {to_hex(encode(n.net.vote(6)))})) == -32005);  // pool of 3
    CHECK(err_code(call(t, "eth_sendRawTransaction", {"0x0102"})) == -32602);
    CHECK(err_code(call(t, "eth_sendRawTransaction", {"zz"})) == -32602);
    CHECK(err_code(call(t, "eth_sendRawTransaction", {})) == -32602);
    CHECK(err_code(call(t, "eth_sendTransaction", {bj::object{{"chain_id", 1}}})) == -32602);
    // finalize and read back
    n.commit();
    CHECK(res(call(t, "eth_blockNumber", {})) == "0x1");
    auto rc = res(call(t, "eth_getTransactionReceipt", {to_hex(tx_hash<S>(v1))})).as_object();
    CHECK(rc.at("status") == "0x1");
    CHECK(rc.at("blockNumber") == "0x1");
    CHECK(rc.at("gasUsed") == "0x0");
    auto blk = res(call(t, "eth_getBlockByNumber", {"latest", false})).as_object();
    CHECK(blk.at("number") == "0x1");
    CHECK(blk.at("transactions").as_array().size() == 3);
    CHECK(blk.at("hash") == rc.at("blockHash"));
    auto by_hash = res(call(t, "eth_getBlockByHash", {blk.at("hash"), true})).as_object();
    CHECK(by_hash.at("transactions").as_array()[0].is_object());
    CHECK(res(call(t, "eth_getBlockByNumber", {"0x5", false})).is_null());
    CHECK(res(call(t, "eth_getBlockByNumber", {"earliest", false})).as_object().at("number") == "0x0");
    CHECK(err_code(call(t, "eth_getBlockByNumber", {"0xZZ"})) == -32602);
    CHECK(err_code(call(t, "eth_getBlockByNumber", {"latest", "yes"})) == -32602);
    CHECK(err_code(call(t, "eth_getTransactionByHash", {"0x12"})) == -32602);
    CHECK(res(call(t, "eth_getTransactionByHash", {to_hex(sha256::hash(bytes{1}))})).is_null());
    auto results = res(call(t, "poa_getResults", {1})).as_object();
    CHECK(results.at("total_votes").to_number<std::uint64_t>() == 3);
    CHECK(res(call(t, "poa_verifyChain", {})).as_object().at("ok") == true);
    CHECK(res(call(t, "poa_getBlockCertificate", {"0x1"})).as_object().at("seals").as_array().size() == 1);
    CHECK(res(call(t, "poa_validators", {})).as_array().size() == 1);
    auto view = rpc::blockchain_json(n, 1);
    CHECK(view.at("votes").as_array().size() == 3);
    CHECK(rpc::health_json(n).at("height").to_number<std::uint64_t>() == 1);
}

TEST_CASE("poa_sendRawTransactions: each vote answered on its own, in order; the call's shape is checked", "[rpc]") {
    test_node n;  // a pool of 3
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    const auto v1 = n.net.vote(1), v2 = n.net.vote(2), v3 = n.net.vote(3), v4 = n.net.vote(4);
    auto bad_sig = n.net.vote(5);
    bad_sig.candidate_id = 9;
    REQUIRE(res(call(t, "eth_sendRawTransaction", {to_hex(encode(v1))})).is_string());
    bj::array raws{to_hex(encode(v1)), to_hex(encode(v2)), "0x0102", to_hex(encode(bad_sig)), 7, to_hex(encode(v3)),
                   to_hex(encode(n.net.vote(2, 1, 1))), to_hex(encode(v4))};
    // (bj::value(...): a braced bj::array alone would copy it instead of nesting it)
    auto out = res(call(t, "poa_sendRawTransactions", bj::array{bj::value(raws)})).as_array();
    REQUIRE(out.size() == raws.size());
    auto code_at = [&](std::size_t i) { return out[i].as_object().at("error").as_object().at("code").as_int64(); };
    CHECK(code_at(0) == -32004);  // already pooled: this very transaction
    CHECK(out[1].as_object().at("hash").as_string() == to_hex(tx_hash<S>(v2)));
    CHECK(code_at(2) == -32602);  // does not decode
    CHECK(code_at(3) == -32001);  // bad signature
    CHECK(code_at(4) == -32602);  // not a string
    CHECK(out[5].as_object().at("hash").as_string() == to_hex(tx_hash<S>(v3)));
    CHECK(code_at(6) == -32003);  // voter 2 again, another candidate
    CHECK(code_at(7) == -32005);  // the pool (3) is full
    CHECK(n.pool.size() == 3);
    // The call itself: one array of 1..1000 transactions.
    CHECK(err_code(call(t, "poa_sendRawTransactions", {})) == -32602);
    CHECK(err_code(call(t, "poa_sendRawTransactions", bj::array{bj::value(bj::array{})})) == -32602);
    CHECK(err_code(call(t, "poa_sendRawTransactions", {to_hex(encode(v4))})) == -32602);
    CHECK(err_code(call(t, "poa_sendRawTransactions", bj::array{bj::value(bj::array(1001, bj::value("0x00")))})) == -32602);
}

TEST_CASE("poa_sendRawTransactions: a signed batch with one bad vote is refused whole, naming that vote", "[rpc]") {
    test_network net(1);
    test_node n(net);
    n.pool = ledger::mempool<S>{100};
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    REQUIRE(res(call(t, "eth_sendRawTransaction", {to_hex(encode(n.net.vote(1)))})).is_string());
    n.commit();  // voter 1 has voted
    // A batch of 4 signed together; its third vote is voter 1 again (a double vote).
    std::vector<vote_tx> batch{n.net.vote(2), n.net.vote(3), n.net.vote(1, 1, 2), n.net.vote(4)};
    sign_batch<S>(batch, n.net.submitter);
    const auto alone = n.net.vote(5);  // signed alone: another batch, not affected
    bj::array raws;
    for (const auto& tx : batch) raws.push_back(bj::value(to_hex(encode(tx))));
    raws.push_back(bj::value(to_hex(encode(alone))));
    auto out = res(call(t, "poa_sendRawTransactions", bj::array{bj::value(raws)})).as_array();
    REQUIRE(out.size() == 5);
    auto error_at = [&](std::size_t i) { return out[i].as_object().at("error").as_object(); };
    CHECK(error_at(2).at("code").as_int64() == -32003);  // the double vote, for what it is
    for (std::size_t i : {0u, 1u, 3u}) {
        INFO("vote " << i);
        CHECK(error_at(i).at("code").as_int64() == -32009);
        const std::string msg(error_at(i).at("message").as_string());
        CHECK(msg.find(to_hex(tx_hash<S>(batch[2]))) != std::string::npos);
        CHECK(msg.find("transaction 2") != std::string::npos);
        CHECK(msg.find("duplicate vote") != std::string::npos);
    }
    CHECK(out[4].as_object().at("hash").as_string() == to_hex(tx_hash<S>(alone)));
    CHECK(n.pool.size() == 1);  // nothing of the batch stayed
    // The rest of the batch, without the bad vote: taken (each still carries its path to the signed root).
    bj::array rest{bj::value(raws[0]), bj::value(raws[1]), bj::value(raws[3])};
    out = res(call(t, "poa_sendRawTransactions", bj::array{bj::value(rest)})).as_array();
    for (const auto& o : out) CHECK(o.as_object().contains("hash"));
    // Resending a vote already pooled does not count against its batch.
    out = res(call(t, "poa_sendRawTransactions", bj::array{bj::value(rest)})).as_array();
    for (const auto& o : out) CHECK(o.as_object().at("error").as_object().at("code").as_int64() == -32004);
    n.commit();
    CHECK(n.c.total_txs() == 5);
    CHECK(res(call(t, "poa_verifyChain", {})).as_object().at("ok") == true);
}

TEST_CASE("JSON-RPC limits: a capped method runs once per request; the admit hook refuses the rest", "[rpc]") {
    int runs = 0;
    rpc::method_table t;
    t["costly"] = [&](const bj::value&) -> rpc::reply {
        ++runs;
        return bj::value(runs);
    };
    t["cheap"] = [](const bj::value&) -> rpc::reply { return bj::value("ok"); };
    rpc::jsonrpc_limits lim;
    lim.max_per_request["costly"] = 1;
    std::string batch = "[";
    for (int i = 0; i < 100; ++i)
        batch += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":")" +
                 (i == 50 ? "cheap" : "costly") + R"("})";
    batch += "]";
    auto out = bj::parse(rpc::handle_jsonrpc(batch, t, lim)).as_array();
    REQUIRE(out.size() == 100);
    int results = 0, capped = 0;
    for (const auto& r : out) {
        if (r.as_object().contains("result")) ++results;
        else if (err_code(r) == rpc::code::too_many_in_batch) ++capped;
    }
    CHECK(results == 2);  // one costly, one cheap
    CHECK(capped == 98);
    CHECK(runs == 1);
    CHECK(str(out[1].as_object().at("error").as_object().at("message")).find("at most 1") != std::string::npos);
    // every request body has its own count
    CHECK(res(bj::parse(rpc::handle_jsonrpc(R"({"jsonrpc":"2.0","id":1,"method":"costly"})", t, lim))) == 2);
    // the admit hook (a per-client rate limit in the validator) refuses with its own error
    int asked = 0;
    lim.admit = [&](std::string_view m) -> std::optional<rpc::rpc_error> {
        ++asked;
        if (m == "costly") return rpc::rpc_error{rpc::code::rate_limited, "slow down", bj::object{{"retry_after_ms", 5}}};
        return std::nullopt;
    };
    auto refused = bj::parse(rpc::handle_jsonrpc(R"({"jsonrpc":"2.0","id":1,"method":"costly"})", t, lim));
    CHECK(err_code(refused) == rpc::code::rate_limited);
    CHECK(refused.as_object().at("error").as_object().at("data").as_object().at("retry_after_ms") == 5);
    CHECK(res(bj::parse(rpc::handle_jsonrpc(R"({"jsonrpc":"2.0","id":1,"method":"cheap"})", t, lim))) == "ok");
    CHECK(runs == 2);
    CHECK(asked == 2);
}

TEST_CASE("validator methods: raw blocks, genesis, proofs and statuses are enough to re-check the chain", "[rpc]") {
    test_node n;
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    std::vector<vote_tx> votes;
    for (std::uint64_t v = 1; v <= 3; ++v) {
        votes.push_back(n.net.vote(v, 1, v % 2));
        REQUIRE(res(call(t, "eth_sendRawTransaction", {to_hex(encode(votes.back()))})).is_string());
    }
    const hash32 pending = tx_hash<S>(votes[2]);
    CHECK(res(call(t, "poa_getTransactionStatus", {to_hex(pending)})).as_object().at("status") == "pending");
    n.commit();

    // genesis: the JSON parses to the genesis whose hash and encoding are given
    auto gen = res(call(t, "poa_getGenesis", {})).as_object();
    auto g = json::genesis_from_json(gen.at("genesis"));
    REQUIRE(g);
    CHECK(*g == n.genesis());
    CHECK(str(gen.at("genesis_hash")) == to_hex(genesis_hash<S>(*g)));
    CHECK(str(gen.at("encoding")) == to_hex(encode(*g)));
    CHECK(gen.at("genesis").as_object().at("submitters").as_array().size() == 1);

    // raw blocks: block 0 is the derived one; block 1 appends to a fresh chain (every check)
    auto fresh = mem_chain::open(*g, memory_storage{}).value();
    for (std::uint64_t h = 0; h <= n.height(); ++h) {
        auto raw = from_hex(str(res(call(t, "poa_getRawBlock", {rpc::quantity(h)}))));
        REQUIRE(raw);
        auto fb = decode_finalized_block(*raw);
        REQUIRE(fb);
        auto blk = res(call(t, "eth_getBlockByNumber", {rpc::quantity(h), false})).as_object();
        CHECK(str(blk.at("hash")) == to_hex(block_hash<S>(fb->blk.header)));
        CHECK(str(blk.at("proposerSignature")) == to_hex(fb->blk.proposer_sig));
        CHECK(str(blk.at("chainId")) == rpc::quantity(g->chain_id));
        if (h == 0) CHECK(*fb == make_genesis_block<S>(*g));
        else CHECK(fresh.append(*fb));
    }
    CHECK(fresh.head_hash() == n.head_hash());
    CHECK(res(call(t, "poa_getRawBlock", {"0x9"})).is_null());

    // a Merkle proof for each final vote verifies against the header's root
    for (std::uint32_t i = 0; i < votes.size(); ++i) {
        const hash32 th = tx_hash<S>(votes[i]);
        auto p = res(call(t, "poa_getTransactionProof", {to_hex(th)})).as_object();
        std::vector<hash32> path;
        for (const auto& e : p.at("proof").as_array()) path.push_back(from_hex_fixed<32>(std::string_view(e.as_string())).value());
        const auto root = from_hex_fixed<32>(std::string_view(p.at("tx_root").as_string())).value();
        CHECK(root == fresh.block_at(1).value().blk.header.tx_root);
        const auto idx = p.at("index").to_number<std::size_t>();
        CHECK(merkle_verify<S>(th, idx, p.at("tx_count").to_number<std::size_t>(), path, root));
        CHECK_FALSE(merkle_verify<S>(th, idx ^ 1, p.at("tx_count").to_number<std::size_t>(), path, root));
    }
    CHECK(res(call(t, "poa_getTransactionProof", {to_hex(sha256::hash(bytes{9}))})).is_null());

    // statuses
    auto fin = res(call(t, "poa_getTransactionStatus", {to_hex(pending)})).as_object();
    CHECK(fin.at("status") == "final");
    CHECK(fin.at("block_number") == 1);
    CHECK(str(fin.at("block_hash")) == to_hex(n.head_hash()));
    CHECK(res(call(t, "poa_getTransactionStatus", {to_hex(sha256::hash(bytes{9}))})).as_object().at("status") ==
          "unknown");
    rpc::tx_status d;
    d.status = rpc::tx_status::state::dropped;
    d.conflicting_tx = pending;
    d.conflicting_block = 1;
    d.conflicting_block_hash = n.head_hash();
    d.reason = "conflicting vote " + to_hex(pending) + " final at block 1";
    n.dropped[sha256::hash(bytes{7})] = d;
    auto dr = res(call(t, "poa_getTransactionStatus", {to_hex(sha256::hash(bytes{7}))})).as_object();
    CHECK(dr.at("status") == "dropped");
    CHECK(str(dr.at("conflicting_tx")) == to_hex(pending));
    CHECK(dr.at("conflicting_block") == 1);
    CHECK(dr.at("block_number").is_null());
    CHECK(str(dr.at("reason")).find("final at block 1") != std::string::npos);
    CHECK(err_code(call(t, "poa_getTransactionStatus", {"0x12"})) == -32602);
    CHECK(err_code(call(t, "poa_getGenesis", {1})) == -32602);
}

TEST_CASE("poa_verifyChain: the first call verifies everything, later calls only the blocks added since", "[rpc]") {
    test_node n;
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    for (std::uint64_t v = 1; v <= 4; ++v) {
        REQUIRE(res(call(t, "eth_sendRawTransaction", {to_hex(encode(n.net.vote(v)))})).is_string());
        if (v % 2 == 0) n.commit();
    }
    REQUIRE(n.height() == 2);
    auto first = res(call(t, "poa_verifyChain", {})).as_object();
    CHECK(first.at("ok") == true);
    CHECK(first.at("complete") == true);
    CHECK(first.at("blocks_checked") == 3);  // 0, 1, 2
    CHECK(first.at("txs_checked") == 4);
    CHECK(first.at("verified_height") == 2);
    CHECK(str(first.at("verified_hash")) == to_hex(n.head_hash()));
    auto again = res(call(t, "poa_verifyChain", {})).as_object();
    CHECK(again.at("blocks_checked") == 0);
    CHECK(again.at("verified_height") == 2);
    REQUIRE(res(call(t, "eth_sendRawTransaction", {to_hex(encode(n.net.vote(9)))})).is_string());
    n.commit();
    auto later = res(call(t, "poa_verifyChain", {})).as_object();
    CHECK(later.at("ok") == true);
    CHECK(later.at("blocks_checked") == 1);
    CHECK(later.at("txs_checked") == 1);
    CHECK(later.at("verified_height") == 3);
    // a block changed after it was verified is not re-read by later calls, but a new block after a bad one is refused
    auto b3 = n.c.block_at(3).value();
    b3.blk.txs[0].candidate_id ^= 1;
    n.c.storage().tamper(3, b3);
    CHECK(res(call(t, "poa_verifyChain", {})).as_object().at("blocks_checked") == 0);
    CHECK_FALSE(n.c.verify().ok);  // a full verification does see it
}

TEST_CASE("HTTP server: 413 for oversize bodies, 400 for garbage, keep-alive, header deadline", "[rpc]") {
    boost::asio::io_context io;
    rpc::http_server_options o;
    o.body_limit = 1024;
    o.header_timeout = std::chrono::milliseconds(300);
    int calls = 0;
    auto srv = rpc::http_server::create(
        io, {boost::asio::ip::make_address("127.0.0.1"), 0},
        [&](const rpc::http_request& r) {
            ++calls;
            return rpc::json_response(rpc::http::status::ok, bj::object{{"path", std::string(r.target())}}, r.version());
        },
        o);
    REQUIRE(srv);
    const auto port = (*srv)->port();
    std::thread th([&] { io.run_for(std::chrono::seconds(20)); });
    using namespace std::chrono_literals;
    auto ok = client::http_request("127.0.0.1", port, rpc::http::verb::post, "/x", "{}");
    CHECK(ok.status == 200);
    CHECK(ok.body.find("/x") != std::string::npos);
    auto big = client::http_request("127.0.0.1", port, rpc::http::verb::post, "/", std::string(4096, 'a'));
    CHECK(big.status == 413);
    CHECK(big.body.find("detail") != std::string::npos);
    {
        boost::asio::io_context cio;
        boost::asio::ip::tcp::socket s(cio);
        s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        boost::asio::write(s, boost::asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
        std::string got(256, '\0');
        boost::system::error_code ec;
        const auto n = s.read_some(boost::asio::buffer(got), ec);
        CHECK(got.substr(0, n).find("400") != std::string::npos);
    }
    {
        // a client that sends nothing is disconnected at the header deadline
        boost::asio::io_context cio;
        boost::asio::ip::tcp::socket s(cio);
        s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        std::array<char, 16> buf{};
        boost::system::error_code ec;
        const auto t0 = std::chrono::steady_clock::now();
        s.read_some(boost::asio::buffer(buf), ec);
        CHECK(ec);  // closed by the server, not by us
        CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    }
    CHECK(calls == 1);
    boost::asio::post(io, [&] { (*srv)->stop(); });
    th.join();
}

TEST_CASE("HTTP server with a handler executor: a blocked handler does not hold up other requests", "[rpc]") {
    boost::asio::io_context io;
    boost::asio::thread_pool workers(2);
    rpc::http_server_options o;
    o.handler_executor = workers.get_executor();
    std::promise<void> release, started;
    auto released = release.get_future().share();
    auto slow_started = started.get_future();
    auto srv = rpc::http_server::create(
        io, {boost::asio::ip::make_address("127.0.0.1"), 0},
        [&](const rpc::http_request& r) {
            std::string what = "fast";
            if (r.target() == "/slow") {
                started.set_value();
                // waits until /fast has been answered; the bound only keeps a broken server from hanging the test
                what = released.wait_for(std::chrono::seconds(20)) == std::future_status::ready ? "released" : "stuck";
            } else if (r.target() == "/throw") {
                throw std::runtime_error("boom");
            }
            return rpc::json_response(rpc::http::status::ok, bj::object{{"got", what}}, r.version());
        },
        o);
    REQUIRE(srv);
    const auto port = (*srv)->port();
    std::thread th([&] { io.run_for(std::chrono::seconds(60)); });
    client::http_reply slow;
    std::thread slow_client([&] {
        slow = client::http_request("127.0.0.1", port, rpc::http::verb::get, "/slow", "", std::chrono::seconds(30));
    });
    REQUIRE(slow_started.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    // /fast is answered while /slow's handler is still blocked on a worker
    auto fast = client::http_request("127.0.0.1", port, rpc::http::verb::get, "/fast", "");
    CHECK(fast.status == 200);
    release.set_value();
    slow_client.join();
    CHECK(slow.status == 200);
    CHECK(slow.body.find("released") != std::string::npos);
    auto thrown = client::http_request("127.0.0.1", port, rpc::http::verb::get, "/throw", "");
    CHECK(thrown.status == 500);
    CHECK(thrown.body.find("detail") != std::string::npos);
    boost::asio::post(io, [&] { (*srv)->stop(); });
    th.join();
    workers.join();
}

TEST_CASE("poa_getTransactionProof: the header and certificate a light client checks the proof against", "[rpc]") {
    test_node n(test_network{4});  // quorum 3: a real certificate with three seals
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    std::vector<vote_tx> votes;
    for (std::uint64_t v = 1; v <= 3; ++v) {
        votes.push_back(n.net.vote(v));
        REQUIRE(res(call(t, "eth_sendRawTransaction", {to_hex(encode(votes.back()))})).is_string());
    }
    n.commit();
    const chain_rules<S> rules(n.genesis());
    for (std::uint32_t i = 0; i < votes.size(); ++i) {
        INFO("vote " << i);
        const hash32 th = tx_hash<S>(votes[i]);
        const auto p = res(call(t, "poa_getTransactionProof", {to_hex(th)})).as_object();
        // what was there before stays
        for (const char* k : {"tx_hash", "block_number", "block_hash", "index", "tx_count", "tx_root", "proof"})
            CHECK(p.contains(k));
        // the header: the canonical encoding whose hash is the block hash
        const auto header_bytes = from_hex(std::string_view(p.at("header").as_string()));
        REQUIRE(header_bytes);
        CHECK(header_bytes->size() == codec::header_size);
        const auto header = decode_header(*header_bytes);
        REQUIRE(header);
        CHECK(*header == n.c.block_at(1).value().blk.header);
        const auto bh = from_hex_fixed<32>(std::string_view(p.at("block_hash").as_string())).value();
        CHECK(S::hash(*header_bytes) == bh);
        CHECK(header->height == p.at("block_number").to_number<std::uint64_t>());
        CHECK(to_hex(header->tx_root) == str(p.at("tx_root")));
        // the certificate: the block's, valid for that header under the genesis
        const auto cert = json::cert_from_json(p.at("certificate"));
        REQUIRE(cert);
        CHECK(*cert == n.c.block_at(1).value().cert);
        CHECK(cert->seals.size() == 3);
        CHECK_FALSE(rules.check_certificate(*header, bh, *cert, validator_schedule(n.genesis())));
        CHECK(p.at("certificate") == res(call(t, "eth_getBlockByNumber", {"0x1", false})).as_object().at("certificate"));
        // and the audit path leads from the tx hash to the header's root
        std::vector<hash32> path;
        for (const auto& e : p.at("proof").as_array()) path.push_back(from_hex_fixed<32>(std::string_view(e.as_string())).value());
        CHECK(merkle_verify<S>(th, p.at("index").to_number<std::size_t>(), header->tx_count, path, header->tx_root));
    }
}

TEST_CASE("poa_getRawBlocks: a run of raw blocks as poa_getRawBlock gives them, bounded; bad params are named", "[rpc]") {
    test_node n;
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    for (std::uint64_t v = 1; v <= 5; ++v) {
        REQUIRE(res(call(t, "eth_sendRawTransaction", {to_hex(encode(n.net.vote(v)))})).is_string());
        n.commit();
    }
    REQUIRE(n.height() == 5);
    auto blocks_of = [&](bj::array params) {
        const auto r = res(call(t, "poa_getRawBlocks", std::move(params))).as_object();
        std::vector<std::string> out;
        for (const auto& b : r.at("blocks").as_array()) out.emplace_back(b.as_string());
        return std::pair{r.at("from").to_number<std::uint64_t>(), out};
    };
    auto raw_of = [&](std::uint64_t h) { return str(res(call(t, "poa_getRawBlock", {rpc::quantity(h)}))); };
    SECTION("from..from+count-1, each decoding to the block poa_getRawBlock gives") {
        const auto [from, blocks] = blocks_of({"0x1", 3});
        CHECK(from == 1);
        REQUIRE(blocks.size() == 3);
        for (std::uint64_t k = 0; k < 3; ++k) {
            CHECK(blocks[k] == raw_of(1 + k));
            auto fb = decode_finalized_block(from_hex(blocks[k]).value());
            REQUIRE(fb);
            CHECK(fb->blk.header.height == 1 + k);
        }
    }
    SECTION("up to the head, from a tag, with count as 0x-quantity or string") {
        CHECK(blocks_of({"0x3", 256}).second.size() == 3);  // 3, 4, 5
        CHECK(blocks_of({"earliest", "0x100"}).second.size() == 6);
        const auto latest = blocks_of({"latest", 10});
        CHECK(latest.first == 5);
        CHECK(latest.second == std::vector<std::string>{raw_of(5)});
        CHECK(blocks_of({"0x0", 1}).second == std::vector<std::string>{raw_of(0)});
    }
    SECTION("above the head: none") {
        const auto [from, blocks] = blocks_of({"0x6", 5});
        CHECK(from == 6);
        CHECK(blocks.empty());
        CHECK(blocks_of({"0xffffffffffffffff", 256}).second.empty());
    }
    SECTION("invalid params: -32602 saying which") {
        auto message = [](const bj::value& v) { return str(v.as_object().at("error").as_object().at("message")); };
        for (auto params : {bj::array{}, bj::array{"0x1"}, bj::array{"0x1", 1, 2}}) {
            const auto r = call(t, "poa_getRawBlocks", params);
            CHECK(err_code(r) == -32602);
            CHECK(message(r).find("expected [from") != std::string::npos);
        }
        for (auto from : {bj::value("1"), bj::value(1), bj::value("0x"), bj::value("newest"), bj::value(nullptr)}) {
            const auto r = call(t, "poa_getRawBlocks", {from, 1});
            CHECK(err_code(r) == -32602);
            CHECK(message(r).find("from must be") != std::string::npos);
        }
        for (auto count : {bj::value(0), bj::value(257), bj::value("0x101"), bj::value(-1), bj::value(1.5), bj::value("x")}) {
            const auto r = call(t, "poa_getRawBlocks", {"0x1", count});
            CHECK(err_code(r) == -32602);
            CHECK(message(r).find("count must be an integer in 1..256") != std::string::npos);
        }
    }
}

TEST_CASE("poa_getRawBlocks: stops before 4 MiB of hex, but always answers one block", "[rpc]") {
    test_network net(1);
    net.genesis.max_encrypted_vote_bytes = 64 * 1024;
    net.genesis.max_block_txs = 100;
    test_node n(net);
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    // blocks of about 1.3 MB (2.6 MB of hex): 20 votes of 64 KiB each
    std::uint64_t voter = 1;
    for (int b = 0; b < 4; ++b) {
        std::vector<vote_tx> txs;
        for (int k = 0; k < 20; ++k, ++voter) {
            auto tx = n.net.vote(voter);
            tx.encrypted_vote.assign(64 * 1024, static_cast<byte>(voter));
            sign_tx<S>(tx, n.net.submitter);
            txs.push_back(tx);
        }
        REQUIRE(n.c.append(n.net.next_block(n.c, txs)));
    }
    const auto r = res(call(t, "poa_getRawBlocks", {"0x1", 4})).as_object();
    const auto& blocks = r.at("blocks").as_array();
    REQUIRE(blocks.size() == 1);  // a second block would pass 4 MiB
    CHECK(blocks[0].as_string().size() > (2u << 20));
    CHECK(str(blocks[0]) == str(res(call(t, "poa_getRawBlock", {"0x1"}))));
    const auto from0 = call(t, "poa_getRawBlocks", {"0x0", 4});
    const auto& two = res(from0).as_object().at("blocks").as_array();
    CHECK(two.size() == 2);  // blocks 0 and 1
    std::size_t chars = 0;
    for (const auto& b : two) chars += b.as_string().size();
    CHECK(chars <= rpc::raw_blocks_max_hex_chars);
}

TEST_CASE("poa_getValidatorChanges: each change with the raw block that recorded it, from a sequence number; bounds", "[rpc]") {
    test_node n(test_network{3});
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    CHECK(res(call(t, "poa_getValidatorChanges", {1})).as_array().empty());  // none yet
    n.net.append_two_changes(n.c);
    REQUIRE(n.height() == 5);
    auto raw_of = [&](std::uint64_t h) { return str(res(call(t, "poa_getRawBlock", {rpc::quantity(h)}))); };
    const auto all = res(call(t, "poa_getValidatorChanges", {1})).as_array();
    REQUIRE(all.size() == 2);
    const std::uint64_t heights[] = {1, 3}, effective[] = {3, 5};
    for (std::size_t k = 0; k < 2; ++k) {
        const auto& e = all[k].as_object();
        CHECK(e.at("sequence").to_number<std::uint64_t>() == k + 1);
        CHECK(e.at("height").to_number<std::uint64_t>() == heights[k]);
        CHECK(e.at("effective_height").to_number<std::uint64_t>() == effective[k]);
        CHECK(str(e.at("raw_block")) == raw_of(heights[k]));
    }
    const auto second = res(call(t, "poa_getValidatorChanges", {"0x2"})).as_array();
    REQUIRE(second.size() == 1);
    CHECK(second[0] == all[1]);
    CHECK(res(call(t, "poa_getValidatorChanges", {3})).as_array().empty());
    CHECK(res(call(t, "poa_getValidatorChanges", {"0xffffffffffffffff"})).as_array().empty());
    for (auto params : {bj::array{}, bj::array{0}, bj::array{"x"}, bj::array{1, 2}, bj::array{-1}}) {
        const auto r = call(t, "poa_getValidatorChanges", params);
        CHECK(err_code(r) == -32602);
    }
}

TEST_CASE("poa_waitForBlock without waiting: at once, timed_out when no block above after_height; bounds", "[rpc]") {
    test_node n;
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    REQUIRE(res(call(t, "eth_sendRawTransaction", {to_hex(encode(n.net.vote(1)))})).is_string());
    n.commit();
    const auto head = to_hex(n.head_hash());
    const auto done = res(call(t, "poa_waitForBlock", {0, 30000})).as_object();
    CHECK(done == bj::object{{"height", 1}, {"head_hash", head}, {"timed_out", false}});
    // not met: the synchronous form (batches, no server) answers at once with timed_out
    for (auto after : {bj::value(1), bj::value("0x1"), bj::value(5)}) {
        const auto r = res(call(t, "poa_waitForBlock", {after, 0})).as_object();
        CHECK(r == bj::object{{"height", 1}, {"head_hash", head}, {"timed_out", true}});
        CHECK(res(call(t, "poa_waitForBlock", {after, 30000})).as_object().at("timed_out") == true);
    }
    // in a batch too
    const auto batch = bj::parse(rpc::handle_jsonrpc(
        R"([{"jsonrpc":"2.0","id":1,"method":"poa_waitForBlock","params":[0,1000]},)"
        R"({"jsonrpc":"2.0","id":2,"method":"poa_waitForBlock","params":[1,1000]}])",
        t));
    CHECK(batch.as_array().at(0).at("result").at("timed_out") == false);
    CHECK(batch.as_array().at(1).at("result").at("timed_out") == true);
    // bounds
    CHECK(err_code(call(t, "poa_waitForBlock", {1, 30001})) == -32602);
    CHECK(err_code(call(t, "poa_waitForBlock", {1, -1})) == -32602);
    CHECK(err_code(call(t, "poa_waitForBlock", {-1, 0})) == -32602);
    CHECK(err_code(call(t, "poa_waitForBlock", {"latest", 0})) == -32602);
    CHECK(err_code(call(t, "poa_waitForBlock", {1})) == -32602);
    CHECK(err_code(call(t, "poa_waitForBlock", {})) == -32602);
    CHECK(err_code(call(t, "poa_waitForBlock", {1, 2, 3})) == -32602);
    // what the long-poll reads
    auto p = rpc::read_wait_for_block_params(bj::array{7, "0x7530"});
    REQUIRE(std::holds_alternative<rpc::wait_for_block_params>(p));
    CHECK(std::get<rpc::wait_for_block_params>(p).after_height == 7);
    CHECK(std::get<rpc::wait_for_block_params>(p).timeout_ms == 30000);
    CHECK(std::holds_alternative<rpc::rpc_error>(rpc::read_wait_for_block_params(bj::object{})));
}

TEST_CASE("JSON-RPC: as_single_call takes exactly the single calls handle_jsonrpc answers", "[rpc]") {
    auto single = [](std::string_view body) { return rpc::as_single_call(bj::parse(body)); };
    auto c = single(R"({"jsonrpc":"2.0","id":"x","method":"m","params":[1]})");
    REQUIRE(c);
    CHECK(c->id == "x");
    CHECK(c->method == "m");
    CHECK(c->params == bj::array{1});
    CHECK(single(R"({"jsonrpc":"2.0","id":null,"method":"m"})")->params == bj::array{});
    CHECK_FALSE(single(R"({"jsonrpc":"2.0","method":"m"})"));  // a notification
    CHECK_FALSE(single(R"([{"jsonrpc":"2.0","id":1,"method":"m"}])"));
    CHECK_FALSE(single(R"({"jsonrpc":"1.0","id":1,"method":"m"})"));
    CHECK_FALSE(single(R"({"jsonrpc":"2.0","id":{},"method":"m"})"));
    CHECK_FALSE(single(R"({"jsonrpc":"2.0","id":1e400,"method":"m"})"));
    CHECK_FALSE(single(R"({"jsonrpc":"2.0","id":1,"method":5})"));
    CHECK_FALSE(single(R"({"jsonrpc":"2.0","id":1,"method":"m","params":3})"));
    CHECK(rpc::response_object(bj::value(3), 9) == bj::object{{"jsonrpc", "2.0"}, {"result", 3}, {"id", 9}});
    CHECK(rpc::response_object(rpc::rpc_error{-32029, "slow down", bj::object{{"retry_after_ms", 5}}}, "a") ==
          bj::object{{"jsonrpc", "2.0"},
                     {"error", bj::object{{"code", -32029}, {"message", "slow down"}, {"data", bj::object{{"retry_after_ms", 5}}}}},
                     {"id", "a"}});
}

TEST_CASE("tx_error: a plain vote's election rules each have their own code; the others stay -32008", "[rpc]") {
    using chain::errc;
    CHECK(rpc::tx_error(make_error(errc::unknown_election)).code == rpc::tx_code::unknown_election);
    CHECK(rpc::tx_error(make_error(errc::unknown_candidate)).code == rpc::tx_code::unknown_candidate);
    CHECK(rpc::tx_error(make_error(errc::outside_voting_window)).code == rpc::tx_code::outside_voting_window);
    CHECK(rpc::tx_error(make_error(errc::invalid_ballot_proof)).code == rpc::tx_code::election_rule);
    CHECK(rpc::tx_error(make_error(errc::unknown_election)).message == "election is not defined on the chain");
    CHECK(rpc::tx_code::unknown_election == -32011);
    CHECK(rpc::tx_code::unknown_candidate == -32012);
    CHECK(rpc::tx_code::outside_voting_window == -32013);
}

TEST_CASE("tx_error: each validator-set change rule has its own code (-32014..-32019)", "[rpc]") {
    using chain::errc;
    const std::pair<errc, int> cases[] = {{errc::bad_validator_change, -32014}, {errc::change_out_of_order, -32015},
                                          {errc::change_pending, -32016},       {errc::change_bad_height, -32017},
                                          {errc::change_not_approved, -32018},  {errc::bad_change_approval, -32019}};
    for (const auto& [e, code] : cases) {
        CAPTURE(static_cast<int>(e));
        const auto err = rpc::tx_error(make_error(e));
        CHECK(err.code == code);
        CHECK(err.message == chain::describe(e));
    }
}

namespace {

/// What the web app's receipt check gets from a chain whose validator set changed
/// (apps/web/test/receipt.test.mjs): test_network(3)'s two changes (block 1 adds id 3 and removes
/// id 0, effective at 3; block 3 removes id 1, effective at 5), a vote in block 3 and one in
/// block 5 (both sealed by ids 2 and 3, which the genesis does not know together), as the
/// validator's JSON-RPC answers them: poa_getGenesis, poa_getValidatorChanges [1] and
/// poa_getTransactionProof of each vote.
std::string valset_receipts_json() {
    test_node n(test_network{3});
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    const auto v3 = n.net.vote(1, 4, 1), v5 = n.net.vote(2, 4, 2);
    n.net.append_two_changes(n.c, {v3}, {v5});
    REQUIRE(n.height() == 5);
    bj::array receipts;
    for (const auto& [v, height] : {std::pair{v3, 3}, std::pair{v5, 5}}) {
        const auto th = to_hex(tx_hash<S>(v));
        const auto proof = res(call(t, "poa_getTransactionProof", {th}));
        REQUIRE(proof.as_object().at("block_number").to_number<int>() == height);
        receipts.push_back(bj::object{{"tx_hash", th}, {"proof", proof}});
    }
    const bj::object out{{"genesis", res(call(t, "poa_getGenesis", {}))},
                         {"changes", res(call(t, "poa_getValidatorChanges", {1}))},
                         {"receipts", std::move(receipts)}};
    return bj::serialize(out);
}

}  // namespace

TEST_CASE("regenerate the web app's validator-set receipt vector", "[.generate]") {
    std::ofstream(golden_dir() + "/valset-receipts.json") << valset_receipts_json() << "\n";
}

TEST_CASE("golden: the web app's validator-set receipt vector is what the validator answers now", "[rpc][golden]") {
    CHECK(golden_text("valset-receipts.json") == valset_receipts_json());
}
