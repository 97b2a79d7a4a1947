// rpc/: JSON-RPC dispatch, the bounded HTTP server on a real socket, validator methods.
#include "../support/fixtures.hpp"
#include "../support/memory_node.hpp"

#include <ballotchain/rpc/http_server.hpp>
#include <ballotchain/rpc/validator_api.hpp>

#include <ballotchain/client/http_client.hpp>

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
