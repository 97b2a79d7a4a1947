// Fuzz target: the validator's HTTP routes (apps/validator/rpc_routes.hpp, make_rpc_handler)
// as the RPC server hands requests to them. Per input a fresh validator_node (validator-1 of
// the fixed chain: its SQLite chain.db with three final blocks, a pending.db acknowledging two
// votes and recording one dropped, an engine that is not started, a transport that does not
// listen) and a fresh handler; then up to four requests, each: the client's address, method,
// target and query, version, headers, and a body that is empty, a structured JSON-RPC body
// (jsonrpc_fixture.hpp) or raw bytes. Each request is written out and parsed back as the
// server does (http_fixture.hpp); what the server would refuse itself never reaches a handler.
// Properties: nothing crashes or throws; every status is one docs/api.md lists for a route
// (200, 204, 400, 404, 405) in the request's HTTP version with a matching Content-Length;
// JSON bodies parse and errors are exactly {"detail": "..."}; JSON-RPC answers pass the checks
// of fuzz_jsonrpc (at most one poa_verifyChain and one poa_getRawBlocks result per body; a
// poa_waitForBlock never waits: no server to defer its answer); GET /health, /blockchain and
// /metrics answer their shapes; the chain's height and head never change.
#include "http_fixture.hpp"
#include "jsonrpc_fixture.hpp"

#include <validator/rpc_routes.hpp>

namespace {
using namespace ballotchain;
namespace fx = fuzz_fixture;
namespace fs = std::filesystem;

struct validator_fixture {
    fs::path dir = fx::temp_dir("ballotchain-fuzz-validator");
    fs::path chain_db = dir / "chain.db";
    fs::path pending_template = dir / "pending.template.db";
    fs::path pending_db = dir / "pending.db";
    fx::vocabulary voc = fx::chain_vocabulary();
    fx::request_vocabulary routes = fx::validator_routes();

    validator_fixture() {
        spdlog::set_level(spdlog::level::off);
        {
            auto c = app::chain_t::open(fx::chain_genesis(), sqlite_storage::open(chain_db.string()).value()).value();
            if (!fx::append_chain_blocks(c)) std::abort();
        }
        auto p = app::pending_store::open(pending_template.string());
        if (!p) std::abort();
        for (const auto& tx : fx::chain_pooled())
            if (!p->put(tx_hash<ed25519_sha256>(tx), tx)) std::abort();
        const auto winner = fx::chain_block_txs()[0][0];
        auto c = app::chain_t::open(fx::chain_genesis(), sqlite_storage::open(chain_db.string()).value()).value();
        if (!p->drop(tx_hash<ed25519_sha256>(fx::chain_dropped()), {tx_hash<ed25519_sha256>(winner), 1, *c.hash_at(1)})) std::abort();
    }
};

/// The validator's routes answer only these statuses (the server itself adds 400, 413, 431,
/// 501 and 503 before a handler runs).
const std::set<unsigned> validator_statuses{200, 204, 400, 404, 405, 503};  // 503: /health failing
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static validator_fixture f;
    const auto& names = fx::validator_method_names();
    fx::reader in{data, size};

    std::error_code fec;
    fs::copy_file(f.pending_template, f.pending_db, fs::copy_options::overwrite_existing, fec);
    if (fec) std::abort();
    boost::asio::io_context io(1);
    consensus::engine_options eo;
    eo.mempool_capacity = 5;
    auto chain = app::chain_t::open(fx::chain_genesis(), sqlite_storage::open(f.chain_db.string()).value()).value();
    auto eng = app::engine_t::create(std::move(chain), fx::chain_key(0), steady_clock_adapter{}, eo).value();
    auto pending = app::pending_store::open(f.pending_db.string());
    if (!pending) std::abort();
    app::validator_node node(io, std::move(eng), app::transport_t::create(io, fx::chain_genesis(), fx::chain_key(0), 0),
                             std::make_unique<app::pending_store>(std::move(*pending)));
    const auto handler = app::make_rpc_handler(node, std::make_shared<rpc::http_server_stats>());
    const auto height = node.height();
    const auto head = node.head_hash();
    const rpc::http_server_options server_bounds;

    for (std::size_t k = 0, n = 1 + in.u8() % 4; k < n; ++k) {
        rpc::request_info info{fx::read_remote(in)};
        const auto parts = fx::read_request_parts(in, f.routes);
        const std::uint8_t body_kind = in.u8() % 3;
        const std::string body = body_kind == 0   ? std::string()
                                 : body_kind == 1 ? fx::read_jsonrpc_body(in, f.voc, names)
                                                  : in.str(1 << 16);
        const auto req = fx::parse_like_server(fx::wire_request(parts, body), server_bounds);
        if (!req) continue;
        const rpc::http_response res = handler(*req, info);
        fx::trace("request", std::string(req->method_string()) + " " + std::string(req->target()) + " " + req->body());
        fx::trace("answer", std::to_string(res.result_int()) + " " + res.body());
        const std::string_view target = req->target();
        const std::string_view path = target.substr(0, target.find('?'));
        // /health's 503 (failing) is the whole health answer with its detail
        const bool health_failing = path == "/health" && res.result() == rpc::http::status::service_unavailable;
        const auto json = fx::check_http_response(*req, res, validator_statuses, health_failing);
        if (res.result() == rpc::http::status::service_unavailable && !health_failing) fx::violated("503 outside /health", target, res.body());
        const bool rpc_path = path == "/" || path.empty();
        auto fail = [&](std::string_view what) { fx::violated(what, target, res.body()); };
        if (res.result() == rpc::http::status::no_content && !(rpc_path && req->method() == rpc::http::verb::post))
            fail("204 outside JSON-RPC");
        if (res.result() != rpc::http::status::ok) continue;
        if (rpc_path) {
            const auto sum = fx::check_jsonrpc(req->body(), res.body(), node, names, {{"poa_getRawBlocks", 1}});
            if (sum.verify_results > 1) fail("two poa_verifyChain results in one body");
        } else if (path == "/health") {
            if (!json.is_object() || json.as_object().at("status") != "ok") fail("/health shape");
        } else if (path == "/blockchain") {
            if (!json.is_object() || json.as_object().at("height") != node.height()) fail("/blockchain shape");
        } else if (path == "/metrics") {
            if (res.body().find("ballotchain_height ") == std::string::npos) fail("/metrics without the height");
        } else {
            fail("200 for a path that is not a route");
        }
    }
    if (node.height() != height || node.head_hash() != head) fx::violated("a request changed the chain", "", "");
    return 0;
}
