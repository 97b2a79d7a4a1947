#include <backend/chain_view.hpp>
#include <backend/vote_events.hpp>
#include <backend/web_files.hpp>

#include "../support/catch_result.hpp"
#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"
#include "handler_checks.hpp"
#include "validators_rig.hpp"

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/merkle.hpp>
#include <ballotchain/client/light_verify.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

// What the backend gives browsers (apps/backend/web_files.hpp, chain_view.hpp,
// vote_events.hpp): the app's files with their types, caching and security headers, never a
// file outside the directory; the genesis, a vote's proof and the latest blocks (the proof
// re-checked here with the light verifier, as the browser does); vote statuses as server-sent
// events, held until they change.

using namespace ballotchain;
using namespace ballotchain::backend;
using test::error_of;
using test::temp_dir;
using test::text;

namespace {

void write(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

std::string header(const rpc::http_response& r, const char* name) { return std::string(r[name]); }

}  // namespace

TEST_CASE("web files: types, caching, security headers, app routes, and nothing outside the directory",
          "[backend][web]") {
    temp_dir dir("ballotchain-web");
    const std::filesystem::path root = dir.file("dist");
    write(root / "index.html", "<!doctype html><title>ballotchain</title>");
    write(root / "assets" / "app-3f2a.js", "console.log(1)");
    write(root / "assets" / "app-3f2a.css", "body{}");
    write(dir.file("secret.txt"), "not for the web");
    const web_files web(root.string());

    const auto index = web.serve("/", 11).value();
    CHECK(index.result() == http::status::ok);
    CHECK(index.body() == "<!doctype html><title>ballotchain</title>");
    CHECK(header(index, "Content-Type") == "text/html; charset=utf-8");
    CHECK(header(index, "Cache-Control") == "no-cache");
    CHECK(header(index, "Content-Security-Policy") == content_security_policy);
    CHECK_THAT(header(index, "Content-Security-Policy"), Catch::Contains("script-src 'self'") &&
                                                            Catch::Contains("frame-ancestors 'none'"));
    CHECK(header(index, "X-Content-Type-Options") == "nosniff");

    const auto js = web.serve("/assets/app-3f2a.js", 11).value();
    CHECK(header(js, "Content-Type") == "text/javascript; charset=utf-8");
    CHECK(header(js, "Cache-Control") == "public, max-age=31536000, immutable");
    CHECK(header(web.serve("/assets/app-3f2a.css", 11).value(), "Content-Type") == "text/css; charset=utf-8");
    // A page of the app's router (no extension) is index.html; a missing file is a miss.
    CHECK(web.serve("/vote", 11).value().body() == index.body());
    CHECK_FALSE(web.serve("/assets/missing.js", 11));
    // HEAD: the headers and the length, no body.
    const auto head = web.serve("/assets/app-3f2a.js", 11, true).value();
    CHECK(head.body().empty());
    CHECK(header(head, "Content-Length") == "14");

    for (const char* bad : {"/../secret.txt", "/assets/../../secret.txt", "/.hidden", "/assets//app-3f2a.js",
                            "/assets/", "assets/app-3f2a.js", "/a%2e%2e/secret.txt", "/assets/app\\x.js", ""}) {
        INFO(bad);
        CHECK_FALSE(web_files::safe_path(bad));
        CHECK_FALSE(web.serve(bad, 11));
    }
    CHECK(web_files::safe_path("/"));
    CHECK(web_files::safe_path("/assets/app-3f2a.js"));
    // No directory yet: every path is a miss.
    CHECK_FALSE(web_files(dir.file("nothing")).serve("/", 11));
}

namespace {

/// A status lookup the test moves by hand.
struct fake_votes {
    hash32 th = sha256::hash(to_bytes("vote"));
    std::string status = "pending";
    std::optional<std::int64_t> election_seen;
    std::optional<bjson::object> lookup(const hash32& h, std::optional<std::int64_t> e) {
        election_seen = e;
        if (h != th) return std::nullopt;
        bjson::object o;
        o["transaction_id"] = to_hex(th);
        o["status"] = status;
        o["source"] = "poa_validators";
        return o;
    }
};

/// A request_info whose defer() hands out a responder that records the answer.
struct held_answer {
    std::optional<rpc::http_response> res;
    rpc::request_info info() {
        rpc::request_info i;
        i.deferrer = [this] { return rpc::responder([this](rpc::http_response r) { res = std::move(r); }); };
        return i;
    }
};

}  // namespace

TEST_CASE("vote events: a new status is sent at once, the same one is held until it changes or time is up",
          "[backend][web]") {
    fake_votes v;
    vote_events ev([&](const hash32& h, std::optional<std::int64_t> e) { return v.lookup(h, e); },
                   {2, 1000, [](rpc::http_response& r) { security_headers(r); }});
    const std::string q = "transaction_id=" + to_hex(v.th) + "&election_id=4";

    // No Last-Event-ID: the status now, as an event EventSource reads.
    held_answer a;
    const auto first = ev.open(q, "", a.info(), 11, 0);
    CHECK(first.result() == http::status::ok);
    CHECK(header(first, "Content-Type") == "text/event-stream");
    CHECK_THAT(first.body(), Catch::Contains("retry: 1000\n") && Catch::Contains("id: pending:poa_validators\n") &&
                                 Catch::Contains("event: status\n") && Catch::Contains("\"status\":\"pending\""));
    CHECK(v.election_seen == 4);
    CHECK_FALSE(a.res);

    // Seen already: held; nothing is answered until the status changes.
    held_answer b;
    (void)ev.open(q, "pending:poa_validators", b.info(), 11, 0);
    CHECK(ev.held() == 1);
    CHECK(ev.tick(500) == 0);
    CHECK_FALSE(b.res);
    v.status = "submitted";
    CHECK(ev.tick(600) == 1);
    REQUIRE(b.res);
    CHECK_THAT(b.res->body(), Catch::Contains("id: submitted:poa_validators"));
    CHECK(header(*b.res, "X-Content-Type-Options") == "nosniff");  // a held answer carries the headers too
    CHECK(header(*b.res, "X-Frame-Options") == "DENY");
    CHECK(ev.held() == 0);

    // Time up with no change: a comment only (the browser reconnects with the same id).
    held_answer c;
    (void)ev.open(q, "submitted:poa_validators", c.info(), 11, 1000);
    CHECK(ev.tick(1500) == 0);
    CHECK(ev.tick(2000) == 1);
    REQUIRE(c.res);
    CHECK_THAT(c.res->body(), !Catch::Contains("event:") && Catch::Contains(": still waiting"));

    // At most max_watchers held: beyond, 503.
    held_answer d1, d2, d3;
    (void)ev.open(q, "submitted:poa_validators", d1.info(), 11, 0);
    (void)ev.open(q, "submitted:poa_validators", d2.info(), 11, 0);
    CHECK(ev.open(q, "submitted:poa_validators", d3.info(), 11, 0).result() == http::status::service_unavailable);
    CHECK_FALSE(d3.res);  // answered at once (not held), through the service's own path and headers
    CHECK(ev.tick(0, true) == 2);  // a stop answers every held request

    // Final and seen: 204, which ends EventSource.
    v.status = "confirmed";
    held_answer e;
    CHECK(ev.open(q, "confirmed:poa_validators", e.info(), 11, 0).result() == http::status::no_content);
    CHECK(ev.held() == 0);
    // Not ours, or a bad query.
    CHECK(error_of([&] { (void)ev.open("transaction_id=" + to_hex(hash32{}), "", e.info(), 11, 0); }).status ==
          http::status::not_found);
    CHECK(error_of([&] { (void)ev.open("transaction_id=xyz", "", e.info(), 11, 0); }).status ==
          http::status::unprocessable_entity);
}

TEST_CASE("chain view: genesis, a vote's proof that verifies against the genesis alone, the latest blocks",
          "[backend][web]") {
    test::validators_rig r("ballotchain-chainview");
    chain_view<test::chain_transport, manual_clock> cv(*r.client);

    const auto g = cv.genesis();
    CHECK(g.at("chain_id") == r.net.genesis.chain_id);
    CHECK(g.at("quorum") == 2);
    CHECK(g.at("validators").as_array().size() == 3);
    CHECK(text(g.at("validators").as_array()[0].at("public_key")) == to_hex(r.net.genesis.validators[0].key));
    CHECK(text(g.at("genesis_hash")) == to_hex(genesis_hash<test::S>(r.net.genesis)));

    const auto tx = r.net.vote(1, 1, 2);
    const hash32 th = tx_hash<test::S>(tx);
    CHECK(error_of([&] { (void)cv.proof(th); }).status == http::status::not_found);
    r.w->finalize({r.net.vote(2, 1, 0), tx, r.net.vote(3, 1, 1)});
    const auto p = cv.proof(th);
    // What the browser does: decode the header, hash it, check the certificate and the path.
    const auto hdr = decode_header(from_hex(std::string(p.at("header").as_string())).value()).value();
    CHECK(to_hex(block_hash<test::S>(hdr)) == text(p.at("block_hash")));
    CHECK(p.at("index") == 1);
    CHECK(p.at("tx_count") == 3);
    std::vector<hash32> path;
    for (const auto& h : p.at("proof").as_array()) path.push_back(from_hex_fixed<32>(std::string(h.as_string())).value());
    CHECK(merkle_verify<test::S>(th, 1, 3, path, hdr.tx_root));
    const auto cert = json::cert_from_json(p.at("certificate")).value();
    CHECK_FALSE(chain_rules<test::S>(r.net.genesis).check_certificate(hdr, block_hash<test::S>(hdr), cert, validator_schedule(r.net.genesis)));

    // The latest blocks: what the follower verified, newest first.
    r.w->finalize({r.net.vote(4, 1, 0)});
    cv.refresh();
    const auto bs = cv.blocks(10);
    CHECK(bs.at("height") == 2);
    REQUIRE(bs.at("blocks").as_array().size() == 2);
    CHECK(bs.at("blocks").as_array()[0].at("height") == 2);
    CHECK(bs.at("blocks").as_array()[1].at("tx_count") == 3);
    const auto b1 = cv.block(1);
    REQUIRE(b1.at("transactions").as_array().size() == 3);
    CHECK(text(b1.at("transactions").as_array()[1].at("hash")) == to_hex(th));
    CHECK(b1.at("transactions").as_array()[1].at("kind") == "vote");
    CHECK(error_of([&] { (void)cv.block(99); }).status == http::status::not_found);
}
