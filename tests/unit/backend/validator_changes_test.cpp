#include <backend/chain_view.hpp>

#include <backend/service.hpp>

#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"
#include "handler_checks.hpp"
#include "validators_rig.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/file.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/rpc/http_server.hpp>
#include <ballotchain/rpc/jsonrpc.hpp>

#include <catch2/catch.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>

// GET /api/chain/validator-changes (apps/backend/chain_view.hpp, service.hpp): the validator-set
// changes for the verify page, each with the block that recorded it exactly as the validators'
// poa_getValidatorChanges gives it, and only the changes the backend's own client verified
// (validators in memory over a real chain with two changes, test_network::append_two_changes);
// then the route through service::handle over a validator served on a real socket: the query's
// bounds (422) and Access-Control-Allow-Origin: * for a verify page saved to a file.

using namespace ballotchain;
using namespace ballotchain::backend;
using test::error_of;

namespace {

using vc_chain_view = chain_view<test::chain_transport, manual_clock>;

/// What the memory validators' method `method` answers to `params` (the validator's own code).
bjson::value vc_validator_answer(test::chain_world& w, const std::string& method, bjson::array params) {
    auto r = w.table.at(method)(bjson::value(std::move(params)));
    REQUIRE(std::holds_alternative<bjson::value>(r));
    return std::get<bjson::value>(std::move(r));
}

}  // namespace

TEST_CASE("validator changes: none before a change; after two, each with its block as the validators give it",
          "[backend][web][validator_changes]") {
    test::validators_rig r("ballotchain-vchanges");
    vc_chain_view cv(*r.client);
    CHECK(cv.validator_changes(1) == bjson::object{{"changes", bjson::array{}}});

    r.w->net.append_two_changes(r.w->node.c);
    const auto all = cv.validator_changes(1);
    const auto& list = all.at("changes").as_array();
    REQUIRE(list.size() == 2);
    // change 1: recorded in block 1, from height 3; change 2: recorded in block 3, from height 5
    const std::uint64_t heights[] = {1, 3}, effective[] = {3, 5};
    const char* quantities[] = {"0x1", "0x3"};  // poa_getRawBlock's block numbers
    for (std::size_t i = 0; i < 2; ++i) {
        INFO("change " << i + 1);
        const auto& e = list[i].as_object();
        CHECK(e.size() == 4);
        CHECK(e.at("sequence") == i + 1);
        CHECK(e.at("height") == heights[i]);
        CHECK(e.at("effective_height") == effective[i]);
        CHECK(e.at("raw_block") == vc_validator_answer(*r.w, "poa_getRawBlock", {quantities[i]}));
    }
    // the very answer of poa_getValidatorChanges, which the verify page's check is written against
    CHECK(bjson::value(list) == vc_validator_answer(*r.w, "poa_getValidatorChanges", {1}));
    CHECK(r.client->validators().changes() == 2);  // learned, verified, by the backend's client

    // A final block does not change: the entries are kept, a second page fetches no block.
    const std::size_t fetched = r.w->count("poa_getRawBlock");
    CHECK(cv.validator_changes(1) == all);
    CHECK(r.w->count("poa_getRawBlock") == fetched);

    const auto second = cv.validator_changes(2);
    REQUIRE(second.at("changes").as_array().size() == 1);
    CHECK(second.at("changes").as_array()[0] == list[1]);
    CHECK(cv.validator_changes(0) == all);  // 0 reads as 1 (the route refuses it first)
    CHECK(cv.validator_changes(3) == bjson::object{{"changes", bjson::array{}}});
    CHECK(cv.validator_changes(~std::uint64_t{0}) == bjson::object{{"changes", bjson::array{}}});
}

TEST_CASE("validator changes: a change no validator proves is not passed on; no validator reachable is 503",
          "[backend][web][validator_changes][lie]") {
    test::validators_rig r("ballotchain-vchanges-lie");
    vc_chain_view cv(*r.client);
    r.w->net.append_two_changes(r.w->node.c);
    // Every validator forges change 1's block (a seal's signature flipped): the client learns
    // nothing, and the backend answers what it knows, verified: no change.
    for (const auto& n : r.w->nodes())
        r.w->lies[{n.node_id, "poa_getValidatorChanges"}] = [](bjson::value& v) {
            if (!v.is_array() || v.as_array().empty()) return;
            auto& raw = v.as_array()[0].as_object()["raw_block"].as_string();
            raw[raw.size() - 3] = raw[raw.size() - 3] == '0' ? '1' : '0';
        };
    CHECK(cv.validator_changes(1) == bjson::object{{"changes", bjson::array{}}});
    CHECK(r.client->validators().changes() == 0);
    CHECK(r.status_of("validator-1") == client::node_status::misbehaving);

    r.w->lies.clear();
    r.w->all(test::node_mode::down);
    const auto down = error_of([&] { (void)cv.validator_changes(1); });
    CHECK(down.status == http::status::service_unavailable);
    CHECK(down.detail == "no validator reachable");
}

namespace {

/// A backend service in a temporary directory in front of one validator served over HTTP on
/// 127.0.0.1 from the memory validators' method table (the validator's JSON-RPC, as
/// apps/validator answers it on POST /).
struct vc_service_rig {
    test::temp_dir dir{"ballotchain-vchanges-service"};
    std::shared_ptr<test::chain_world> w = std::make_shared<test::chain_world>();
    std::mutex world_mu;  ///< the server's thread reads the world, the test changes it
    boost::asio::io_context io;
    std::shared_ptr<rpc::http_server> server;
    std::thread io_thread;
    std::optional<service> svc;

    vc_service_rig() {
        auto srv = rpc::http_server::create(io, {boost::asio::ip::make_address("127.0.0.1"), 0},
                                            [this](const rpc::http_request& req) {
                                                std::lock_guard lk(world_mu);
                                                rpc::http_response res{http::status::ok, req.version()};
                                                res.set(http::field::content_type, "application/json");
                                                res.body() = rpc::handle_jsonrpc(req.body(), w->table);
                                                res.prepare_payload();
                                                return res;
                                            });
        REQUIRE(srv);
        server = *srv;
        io_thread = std::thread([this] { io.run(); });
        const auto gpath = (dir.path() / "genesis.json").string();
        REQUIRE(write_file_atomic(gpath, boost::json::serialize(json::to_json(w->net.genesis)), 0644, true));
        const auto kpath = (dir.path() / "submitter.key").string();
        REQUIRE(save_key_file(kpath, w->net.submitter, true));
        config cfg;
        cfg.data_dir = (dir.path() / "data").string();
        cfg.genesis_path = gpath;
        cfg.submitter_key_path = kpath;
        std::string url = "http://127.0.0.1:";
        url += std::to_string(server->port());
        cfg.validators = {{"validator-1", url, ""}};
        cfg.rpc_timeout = std::chrono::milliseconds(2000);
        cfg.pbkdf2_iterations = 1;
        svc.emplace(cfg);
    }
    ~vc_service_rig() {
        svc.reset();
        boost::asio::post(io, [s = server] { s->stop(); });
        io_thread.join();
    }

    rpc::http_response get(const std::string& target) {
        rpc::http_request req{http::verb::get, target, 11};
        req.prepare_payload();
        return svc->handle(req, {boost::asio::ip::make_address("127.0.0.1")});
    }
};

}  // namespace

TEST_CASE("validator changes route: from_sequence's bounds, the changes for any origin",
          "[backend][web][validator_changes]") {
    vc_service_rig rig;
    const auto before = rig.get("/api/chain/validator-changes");
    CHECK(before.result() == http::status::ok);
    CHECK(bjson::parse(before.body()) == bjson::object{{"changes", bjson::array{}}});
    CHECK(before["Access-Control-Allow-Origin"] == "*");

    bjson::value from_validator;
    {
        std::lock_guard lk(rig.world_mu);
        rig.w->net.append_two_changes(rig.w->node.c);
        from_validator = vc_validator_answer(*rig.w, "poa_getValidatorChanges", {1});
    }
    const auto after = rig.get("/api/chain/validator-changes");
    CHECK(after.result() == http::status::ok);
    CHECK(after["Access-Control-Allow-Origin"] == "*");
    CHECK(bjson::parse(after.body()) == bjson::object{{"changes", from_validator}});
    const auto second = rig.get("/api/chain/validator-changes?from_sequence=2");
    CHECK(second.result() == http::status::ok);
    CHECK(bjson::parse(second.body()) == bjson::object{{"changes", bjson::array{from_validator.as_array()[1]}}});
    CHECK(bjson::parse(rig.get("/api/chain/validator-changes?from_sequence=1").body()) ==
          bjson::object{{"changes", from_validator}});

    for (const char* bad : {"0", "-1", "x", "99999999999999999999", "", "1x", "9223372036854775808"}) {
        INFO("from_sequence=" << bad);
        const auto res = rig.get(std::string("/api/chain/validator-changes?from_sequence=") + bad);
        CHECK(res.result() == http::status::unprocessable_entity);
        const auto body = bjson::parse(res.body());
        CHECK(body.at("detail") == "from_sequence must be a positive integer");
    }
    CHECK(rig.get("/api/chain/validator-changes?from_sequence=9223372036854775807").result() == http::status::ok);
    rpc::http_request post{http::verb::post, "/api/chain/validator-changes", 11};
    post.prepare_payload();
    CHECK(rig.svc->handle(post, {boost::asio::ip::make_address("127.0.0.1")}).result() ==
          http::status::method_not_allowed);
}
