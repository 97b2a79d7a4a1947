// The verifying client (client/client.hpp) against real validator processes:
// one validator replaced by a proxy that rewrites its JSON-RPC answers, and the
// client still reports only verified, correct results; the examples/ programs
// and the CLI's status, submit --wait and watch, run as a user runs them.
#include "network.hpp"
#include "voter.hpp"

#include <ballotchain/client/client.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/rpc/http_server.hpp>

#include <catch2/catch.hpp>
#include <catch_client.hpp>
#include <catch_result.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <thread>

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;
using namespace std::chrono_literals;

namespace {

/// A validator's RPC port behind an HTTP proxy that forwards every request and
/// rewrites the JSON-RPC result of chosen methods: a validator that lies.
class lying_proxy {
public:
    using rewrite = std::function<void(bj::value& result)>;

    lying_proxy(std::uint16_t target, std::map<std::string, rewrite> lies) : target_(target), lies_(std::move(lies)) {
        namespace asio = boost::asio;
        auto srv = rpc::http_server::create(io_, {asio::ip::make_address("127.0.0.1"), 0},
                                            [this](const rpc::http_request& req) { return forward(req); });
        REQUIRE(srv);
        server_ = *srv;
        th_ = std::thread([this] { io_.run(); });
    }
    ~lying_proxy() {
        boost::asio::post(io_, [this] { server_->stop(); });
        th_.join();
    }
    std::uint16_t port() const { return server_->port(); }
    std::size_t lies_told() const {
        std::lock_guard lk(mu_);
        return told_;
    }

private:
    rpc::http_response forward(const rpc::http_request& req) {
        auto r = client::http_request("127.0.0.1", target_, req.method(), std::string(req.target()), req.body(), 30s);
        rpc::http_response res{static_cast<rpc::http::status>(r.status == 0 ? 502 : r.status), req.version()};
        res.set(rpc::http::field::content_type, "application/json");
        res.body() = r.body;
        boost::system::error_code ec;
        auto in = bj::parse(req.body(), ec);
        auto out = bj::parse(r.body, ec);
        if (!ec && in.is_object() && out.is_object() && out.as_object().contains("result")) {
            const auto* m = in.as_object().if_contains("method");
            if (m && m->is_string())
                if (auto it = lies_.find(std::string(m->as_string())); it != lies_.end() && !out.as_object()["result"].is_null()) {
                    it->second(out.as_object()["result"]);
                    res.body() = bj::serialize(out);
                    std::lock_guard lk(mu_);
                    ++told_;
                }
        }
        res.prepare_payload();
        return res;
    }

    std::uint16_t target_;
    std::map<std::string, rewrite> lies_;
    boost::asio::io_context io_;
    std::shared_ptr<rpc::http_server> server_;
    std::thread th_;
    mutable std::mutex mu_;
    std::size_t told_ = 0;
};

std::string flip(std::string_view hex, std::size_t from_end) {
    std::string s(hex);
    auto& c = s[s.size() - from_end];
    c = c == '0' ? '1' : '0';
    return s;
}

std::string url(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

}  // namespace

TEST_CASE("a validator behind a lying proxy: the client reports only verified, correct results", "[integration][client]") {
    network net(3);
    wait_connected(net);
    lying_proxy liar(net.rpc(0), {
        {"poa_getTransactionProof", [](bj::value& v) { v.as_object()["certificate"].as_object()["seals"].as_array().resize(1); }},
        {"poa_getResults", [](bj::value& v) {
             auto& res = v.as_object()["results"].as_object();
             res["0"] = res.contains("0") ? res["0"].to_number<std::uint64_t>() + 5 : 5;
             v.as_object()["total_votes"] = v.as_object()["total_votes"].to_number<std::uint64_t>() + 5;
         }},
        {"poa_status", [](bj::value& v) { v.as_object()["head_hash"] = flip(v.as_object()["head_hash"].as_string(), 1); }},
        {"poa_getRawBlocks", [](bj::value& v) {
             for (auto& b : v.as_object()["blocks"].as_array()) b = flip(b.as_string(), 300);
         }},
        {"poa_getRawBlock", [](bj::value& v) { v = flip(v.as_string(), 300); }},
        {"eth_sendRawTransaction", [](bj::value& v) { v = flip(v.as_string(), 1); }},
    });
    auto g = ballotchain::json::load_genesis_file((net.dir() / "genesis.json").string());
    REQUIRE(g);
    boost::asio::io_context io;
    client::verifying_client<ed25519_sha256> c(io.get_executor(),
                               {{"liar", url(liar.port()), ""}, {"validator-2", url(net.rpc(1)), ""}, {"validator-3", url(net.rpc(2)), ""}},
                               *g);
    voter_client vc(net.dir() / "submitter.key");
    std::vector<hash32> sent;
    for (std::uint64_t v = 0; v < 9; ++v) {
        const auto tx = vc.make(v);
        auto h = c.submit_vote(tx);
        REQUIRE(h);
        CHECK(*h == tx_hash<ed25519_sha256>(tx));
        sent.push_back(*h);
    }
    for (const auto& th : sent) {
        auto conf = c.wait_for_confirmation(th, 60s);
        REQUIRE(conf);
        REQUIRE(conf->state == client::tx_state::final);
        CHECK(conf->proof->certificate.seals.size() >= g->quorum());
        // the honest validators agree on the block
        auto b = rpc_call(net.rpc(1), "eth_getBlockByNumber", {hexq(conf->proof->block_number), false});
        REQUIRE(b);
        CHECK(b->as_object().at("hash").as_string() == to_hex(conf->proof->block_hash));
    }
    for (int k = 0; k < 3; ++k) {  // each validator gets to answer first
        auto t = c.get_election_results(1);
        REQUIRE(t);
        CHECK(t->verified);
        CHECK(t->total == 9);
        auto honest = rpc_call(net.rpc(1), "poa_getResults", {1});
        REQUIRE(honest);
        for (const auto& [cand, n] : t->results)
            CHECK(honest->as_object().at("results").as_object().at(std::to_string(cand)).to_number<std::uint64_t>() == n);
        auto s = c.get_blockchain_state();
        REQUIRE(s);
        CHECK(s->head_verified);
        CHECK(s->node != "liar");
    }
    CHECK(liar.lies_told() > 0);
    bool caught = false;
    for (const auto& n : c.health())
        if (n.info.node_id == "liar") caught = n.status == client::node_status::misbehaving && n.misbehaviours > 0;
    CHECK(caught);
}

TEST_CASE("the examples and the CLI's status, submit --wait and watch run against real validators", "[integration][client]") {
    network net(3);
    wait_connected(net);
    const auto genesis = (net.dir() / "genesis.json").string();
    const auto key = (net.dir() / "submitter.key").string();
    std::vector<std::string> rpcs;
    for (int i = 0; i < 3; ++i) {
        rpcs.push_back("--rpc");
        rpcs.push_back(url(net.rpc(i)));
    }
    auto with = [&](std::vector<std::string> argv, std::vector<std::string> more) {
        argv.insert(argv.end(), rpcs.begin(), rpcs.end());
        argv.insert(argv.end(), more.begin(), more.end());
        return argv;
    };
    temp_dir tmp;
    const auto ex = examples_bin_dir();

    SECTION("submit_and_confirm: a vote, awaited with coroutines until verified final") {
        auto [rc, out] = run(with({ex + "/example_submit_and_confirm"},
                                  {"--genesis", genesis, "--key", key, "--election", "1", "--candidate", "2", "--voter", "alice"}),
                             tmp.path() / "submit.log");
        INFO(out);
        CHECK(rc == 0);
        CHECK_THAT(out, Catch::Contains("final in block"));
        CHECK_THAT(out, Catch::Contains("(verified)"));
        // The same voter again: refused (duplicate vote), exit 1 with the validator's reason.
        auto [rc2, out2] = run(with({ex + "/example_submit_and_confirm"},
                                    {"--genesis", genesis, "--key", key, "--election", "1", "--candidate", "1", "--voter", "alice"}),
                               tmp.path() / "submit2.log");
        INFO(out2);
        CHECK(rc2 == 1);
        CHECK_THAT(out2, Catch::Contains("duplicate vote"));
    }
    SECTION("follow_tally: the tally from verified blocks until 4 votes are counted") {
        for (int v = 0; v < 4; ++v) {
            auto [rc, out] = run(with({bin_dir + "/ballotchain", "submit"},
                                      {"--key", key, "--election", "3", "--candidate", std::to_string(v % 2), "--voter",
                                       "v" + std::to_string(v)}),
                                 tmp.path() / "cli-submit.log");
            INFO(out);
            REQUIRE(rc == 0);
        }
        auto [rc, out] = run(with({ex + "/example_follow_tally"},
                                  {"--genesis", genesis, "--election", "3", "--until-votes", "4", "--state",
                                   (tmp.path() / "f.json").string()}),
                             tmp.path() / "follow.log");
        INFO(out);
        CHECK(rc == 0);
        CHECK_THAT(out, Catch::Contains("candidate 0 = 2 candidate 1 = 2 (total 4)"));
        CHECK(fs::exists(tmp.path() / "f.json"));
    }
    SECTION("validator_health: a quorum healthy, a certified head; then with one validator down") {
        auto [rc, out] = run(with({ex + "/example_validator_health"}, {"--genesis", genesis}), tmp.path() / "health.log");
        INFO(out);
        CHECK(rc == 0);
        CHECK_THAT(out, Catch::Contains("3 of 3 healthy"));
        CHECK_THAT(out, Catch::Contains("(certified)"));
        net.kill(2, SIGKILL);
        auto [rc2, out2] = run(with({ex + "/example_validator_health"}, {"--genesis", genesis}), tmp.path() / "health2.log");
        INFO(out2);
        CHECK_THAT(out2, Catch::Contains("unreachable"));
    }
    SECTION("the CLI: status, submit --wait, watch") {
        auto [rc, out] = run(with({bin_dir + "/ballotchain", "status"}, {"--genesis", genesis}), tmp.path() / "status.log");
        INFO(out);
        CHECK(rc == 0);
        CHECK_THAT(out, Catch::Contains("(certified;"));
        auto [rc2, out2] = run(with({bin_dir + "/ballotchain", "submit"},
                                    {"--key", key, "--election", "5", "--candidate", "1", "--voter", "bob", "--wait", "60"}),
                               tmp.path() / "cli-wait.log");
        INFO(out2);
        CHECK(rc2 == 0);
        CHECK_THAT(out2, Catch::Contains("final in block"));
        // Without --genesis, the validators' genesis hash is printed for the operator to compare.
        auto [rc3, out3] = run(with({bin_dir + "/ballotchain", "watch"}, {"--election", "5", "--blocks", "1"}),
                               tmp.path() / "watch.log");
        INFO(out3);
        CHECK(rc3 == 0);
        CHECK_THAT(out3, Catch::Contains("genesis, hash 0x"));
        CHECK_THAT(out3, Catch::Contains("block 1 0x"));
        CHECK_THAT(out3, Catch::Contains("signed by"));
    }
}
