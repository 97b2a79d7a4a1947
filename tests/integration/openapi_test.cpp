// Integration: the backend's OpenAPI 3.1 document, /docs and the validators' P2P addresses,
// against a real backend (with the web app's build, --web-dir) in front of three real
// validators. tests/openapi/check.mjs validates the served document with an OpenAPI validator
// and checks every live answer of every route (errors too) against it;
// tests/browser/docs.test.mjs opens /docs in Chromium. This side owns the processes and checks
// what the administrators' validator health shows of each validator's P2P address.
#include "backend.hpp"
#include "network.hpp"
#include "voter.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using namespace ballotchain::itest;

namespace openapi_itest {

std::string check_dir() { return eth_test_dir() + "/../openapi"; }
std::string docs_browser_dir() { return eth_test_dir() + "/../browser"; }
std::string docs_web_dist() { return eth_test_dir() + "/../../apps/web/dist"; }

}  // namespace openapi_itest

TEST_CASE("OpenAPI: the served document is valid OpenAPI 3.1, every live answer of every route conforms to it, "
          "/docs renders it in Chromium (404 without --web-dir), and validator health shows each validator's P2P address",
          "[integration][openapi]") {
    INFO("needs node, chromium, apps/web/dist (with docs/), tests/openapi/node_modules and tests/browser/node_modules "
         "(scripts/test builds and installs them)");
    REQUIRE(fs::exists(fs::path(openapi_itest::docs_web_dist()) / "docs" / "index.html"));
    REQUIRE(fs::exists(fs::path(openapi_itest::check_dir()) / "node_modules" / "ajv"));
    REQUIRE(fs::exists(fs::path(openapi_itest::docs_browser_dir()) / "node_modules" / "playwright-core"));
    network net(3);
    wait_connected(net);
    // A low verification limit: check.mjs reaches it and checks the 429 answer and its Retry-After.
    backend b(net, 3, {{"--web-dir", openapi_itest::docs_web_dist()}, {"--verify-limit", "5/60"}});

    // p2p_url: each validator's /health gives its P2P address; the backend's probes record it.
    const auto admin = b.admin();
    const bool shown = eventually(
        [&] {
            auto h = b.get("/api/admin/validators/health", admin);
            if (h.status != 200) return false;
            for (const auto& v : h.obj().at("validators").as_array())
                if (v.as_object().at("p2p_url").as_string().empty()) return false;
            return true;
        },
        std::chrono::seconds(30));
    REQUIRE(shown);
    const auto health = b.get("/api/admin/validators/health", admin);
    const auto& vs = health.obj().at("validators").as_array();
    REQUIRE(vs.size() == 3);
    for (std::size_t i = 0; i < vs.size(); ++i) {
        const auto& v = vs[i].as_object();
        INFO(bj::serialize(v));
        CHECK(v.at("rpc_url").as_string() == "http://127.0.0.1:" + std::to_string(net.rpc(static_cast<int>(i))));
        CHECK(v.at("p2p_url").as_string() == "tcp://127.0.0.1:" + std::to_string(net.p2p(static_cast<int>(i))));
    }
    const auto public_view = b.get("/api/chain/validators");
    REQUIRE(public_view.status == 200);
    for (const auto& v : public_view.obj().at("validators").as_array()) {
        CHECK_FALSE(v.as_object().contains("p2p_url"));  // the public view keeps no addresses
        CHECK_FALSE(v.as_object().contains("rpc_url"));
    }
    const std::string url = "http://127.0.0.1:" + std::to_string(b.port());

    // The document and every route's live answers.
    {
        auto [rc, log] = run({"/usr/bin/env", "node", openapi_itest::check_dir() + "/check.mjs", url, backend::admin_password},
                             net.dir() / "openapi-check.log");
        INFO(log);
        CHECK(rc == 0);
        CHECK(log.find("openapi: ok") != std::string::npos);
    }

    // Swagger UI, served by the backend, renders the document.
    const fs::path out = net.dir() / "browser";
    fs::create_directories(out);
    {
        auto [rc, log] = run({"/usr/bin/env", "node", openapi_itest::docs_browser_dir() + "/docs.test.mjs", url, out.string()},
                             net.dir() / "docs-browser.log");
        INFO(log);
        CHECK(rc == 0);
        CHECK(log.find("docs: ok") != std::string::npos);
    }

    // Without --web-dir, /docs answers 404 saying why; /openapi.json is served all the same.
    backend bare(net, 3);
    const auto docs = bare.get("/docs");
    CHECK(docs.status == 404);
    CHECK(docs.str("detail").find("--web-dir") != std::string::npos);
    const auto api = bare.get("/openapi.json");
    REQUIRE(api.status == 200);
    CHECK(api.str("openapi") == "3.1.0");
    CHECK(api.obj().at("info").as_object().at("version").as_string() == bare.get("/health").str("version"));
}
