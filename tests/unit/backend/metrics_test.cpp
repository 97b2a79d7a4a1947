#include <backend/metrics.hpp>

#include <backend/service.hpp>

#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/file.hpp>
#include <ballotchain/crypto/key_file.hpp>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

// The backend's /metrics (apps/backend/metrics.hpp): route templates as labels, counters that
// many threads bump at once, and the text a real service answers, parsed back and checked
// after requests through service::handle (at once, and answered later through a deferred
// responder).

using namespace ballotchain;
using namespace ballotchain::backend;
namespace http = boost::beast::http;

namespace {

/// A parsed exposition text: each sample by `name{labels}` as written, and each family's TYPE.
struct exposition {
    std::map<std::string, double> samples;
    std::map<std::string, std::string> types;
    std::set<std::string> helps;

    double at(const std::string& series) const {
        auto it = samples.find(series);
        INFO(series);
        REQUIRE(it != samples.end());
        return it->second;
    }
    bool has(const std::string& series) const { return samples.count(series) != 0; }
};

/// Parses the text format 0.0.4 as this backend writes it, checking its shape: every line is
/// a comment or `series value`, every series belongs to a family with HELP and TYPE written
/// before it, no series twice.
exposition parse(const std::string& text) {
    exposition e;
    REQUIRE(!text.empty());
    REQUIRE(text.back() == '\n');
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        INFO(line);
        REQUIRE(!line.empty());
        if (line.starts_with("# HELP ")) {
            const auto name = line.substr(7, line.find(' ', 7) - 7);
            REQUIRE(e.helps.insert(name).second);
            continue;
        }
        if (line.starts_with("# TYPE ")) {
            const auto rest = line.substr(7);
            const auto sp = rest.find(' ');
            REQUIRE(sp != std::string::npos);
            REQUIRE(e.types.emplace(rest.substr(0, sp), rest.substr(sp + 1)).second);
            continue;
        }
        REQUIRE(line[0] != '#');
        const auto sp = line.rfind(' ');
        REQUIRE(sp != std::string::npos);
        const std::string series = line.substr(0, sp);
        std::size_t used = 0;
        const double v = std::stod(line.substr(sp + 1), &used);
        REQUIRE(used == line.size() - sp - 1);
        std::string name = series.substr(0, series.find('{'));
        for (const char* suffix : {"_bucket", "_sum", "_count"})
            if (name.ends_with(suffix) && e.types.count(name.substr(0, name.size() - std::strlen(suffix))) &&
                e.types.at(name.substr(0, name.size() - std::strlen(suffix))) == "histogram")
                name = name.substr(0, name.size() - std::strlen(suffix));
        REQUIRE(e.types.count(name) == 1);
        REQUIRE(e.helps.count(name) == 1);
        REQUIRE(e.samples.emplace(series, v).second);
    }
    return e;
}

std::string requests(std::string_view route, std::string_view method, unsigned status) {
    return "ballotchain_backend_http_requests_total{route=\"" + std::string(route) + "\",method=\"" + std::string(method) +
           "\",status=\"" + std::to_string(status) + "\"}";
}

std::uint16_t closed_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();  // closed again when `a` goes
}

/// A backend service in a temporary directory whose one validator never answers (a closed
/// port): every vote goes to the fallback chain.
struct service_rig {
    test::temp_dir dir{"ballotchain-metrics"};
    config cfg;
    std::optional<service> svc;

    service_rig() {
        test::test_network net(1);
        const auto gpath = (dir.path() / "genesis.json").string();
        REQUIRE(write_file_atomic(gpath, boost::json::serialize(json::to_json(net.genesis)), 0644, true));
        const auto kpath = (dir.path() / "submitter.key").string();
        REQUIRE(save_key_file(kpath, net.submitter, true));
        cfg.data_dir = (dir.path() / "data").string();
        cfg.genesis_path = gpath;
        cfg.submitter_key_path = kpath;
        cfg.validators = {{"validator-1", "http://127.0.0.1:" + std::to_string(closed_port()), ""}};
        cfg.rpc_timeout = std::chrono::milliseconds(500);
        cfg.pbkdf2_iterations = 1;
        cfg.admin_email = "admin@example.org";
        cfg.admin_password = "admin password 1";
        svc.emplace(cfg);
    }

    rpc::http_response call(http::verb m, std::string target, std::string body = {}, std::string_view token = {},
                            const rpc::request_info* info = nullptr) {
        rpc::http_request req{m, target, 11};
        if (!token.empty()) req.set(http::field::authorization, "Bearer " + std::string(token));
        req.body() = std::move(body);
        req.prepare_payload();
        if (info) return svc->handle(req, *info);
        return svc->handle(req, {boost::asio::ip::make_address("127.0.0.1")});
    }
    std::string login(const char* email, const char* pw) {
        auto r = call(http::verb::post, "/api/auth/login",
                      boost::json::serialize(boost::json::object{{"email", email}, {"password", pw}}));
        REQUIRE(r.result() == http::status::ok);
        return std::string(boost::json::parse(r.body()).at("access_token").as_string());
    }
    /// An open election with one candidate: {election, candidate}.
    std::pair<std::int64_t, std::int64_t> election(const std::string& admin) {
        auto r = call(http::verb::post, "/api/elections", R"({"name":"e","candidates":[{"name":"A"}]})", admin);
        REQUIRE(r.result() == http::status::created);
        const auto v = boost::json::parse(r.body());
        return {v.at("id").as_int64(), v.at("candidates").as_array().at(0).at("id").as_int64()};
    }
    std::string voter(const char* email) {
        auto r = call(http::verb::post, "/api/auth/register",
                      boost::json::serialize(boost::json::object{{"email", email}, {"password", "voter password 1"}}));
        REQUIRE(r.result() == http::status::created);
        return login(email, "voter password 1");
    }
    static std::string vote_body(std::int64_t e, std::int64_t c) {
        return boost::json::serialize(boost::json::object{{"election_id", e}, {"candidate_id", c}, {"encrypted_vote", "AQID"}});
    }
    exposition metrics() {
        auto r = call(http::verb::get, "/metrics");
        REQUIRE(r.result() == http::status::ok);
        CHECK(std::string(r[http::field::content_type]) == "text/plain; version=0.0.4; charset=utf-8");
        return parse(r.body());
    }
};

}  // namespace

TEST_CASE("route_of maps a path to its route template, anything else to other", "[backend][metrics]") {
    // Each template matches itself with its parameters filled in.
    for (std::size_t i = 0; i < route_other; ++i) {
        std::string p(route_templates[i]);
        for (const char* param : {"{id}", "{height}"})
            if (auto at = p.find(param); at != std::string::npos) p.replace(at, std::strlen(param), "42");
        INFO(p);
        CHECK(route_of(p) == i);
    }
    CHECK(route_templates[route_of("/api/elections/7/candidates")] == "/api/elections/{id}/candidates");
    CHECK(route_templates[route_of("/api/admin/elections/3/tally")] == "/api/admin/elections/{id}/tally");
    CHECK(route_templates[route_of("/api/chain/blocks/123456")] == "/api/chain/blocks/{height}");
    for (const char* other : {"", "/", "/index.html", "/assets/app.js", "/api/elections/", "/api/elections//candidates",
                              "/api/elections/1/2", "/api/elections/1/candidates/x", "/healthz", "/health/",
                              "/api/votes/submit2", "/metrics/x", "/wp-admin/setup.php"}) {
        INFO(other);
        CHECK(route_of(other) == route_other);
    }
}

TEST_CASE("http_metrics counts from many threads at once and writes cumulative histograms", "[backend][metrics]") {
    http_metrics m;
    const auto submit = route_of("/api/votes/submit"), health = route_of("/health");
    constexpr int threads = 4, per_thread = 5000;
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                m.observe(submit, method_of(http::verb::post), i % 2 ? 200 : 409, std::chrono::milliseconds(3));
                m.observe(health, method_of(http::verb::get), 200, std::chrono::microseconds(500 + t));
            }
        });
    for (auto& t : ts) t.join();
    m.observe(route_other, method_of(http::verb::propfind), 404, std::chrono::seconds(20));

    std::string text;
    m.write(text);
    const auto e = parse(text);
    CHECK(e.types.at("ballotchain_backend_http_requests_total") == "counter");
    CHECK(e.types.at("ballotchain_backend_http_request_duration_seconds") == "histogram");
    CHECK(e.at(requests("/api/votes/submit", "POST", 200)) == threads * per_thread / 2);
    CHECK(e.at(requests("/api/votes/submit", "POST", 409)) == threads * per_thread / 2);
    CHECK(e.at(requests("/health", "GET", 200)) == threads * per_thread);
    CHECK(e.at(requests("other", "OTHER", 404)) == 1);
    CHECK_FALSE(e.has(requests("/health", "POST", 200)));
    CHECK(m.dropped() == 0);

    const std::string h = "ballotchain_backend_http_request_duration_seconds";
    // 3 ms: above the 2.5 ms bucket, within 5 ms.
    CHECK(e.at(h + "_bucket{route=\"/api/votes/submit\",le=\"0.0025\"}") == 0);
    CHECK(e.at(h + "_bucket{route=\"/api/votes/submit\",le=\"0.005\"}") == threads * per_thread);
    CHECK(e.at(h + "_bucket{route=\"/api/votes/submit\",le=\"+Inf\"}") == threads * per_thread);
    CHECK(e.at(h + "_count{route=\"/api/votes/submit\"}") == threads * per_thread);
    CHECK(e.at(h + "_sum{route=\"/api/votes/submit\"}") == Approx(threads * per_thread * 0.003));
    CHECK(e.at(h + "_bucket{route=\"/health\",le=\"0.001\"}") == threads * per_thread);
    CHECK(e.at(h + "_bucket{route=\"other\",le=\"10\"}") == 0);  // 20 s: only +Inf
    CHECK(e.at(h + "_bucket{route=\"other\",le=\"+Inf\"}") == 1);
    CHECK_FALSE(e.has(h + "_count{route=\"/api/elections\"}"));  // never asked for: no series
}

TEST_CASE("a backend's /metrics counts its requests, votes, outbox and fallback chain", "[backend][metrics]") {
    service_rig rig;
    using V = http::verb;
    const auto before = rig.metrics();
    CHECK(before.at("ballotchain_backend_outbox_votes{status=\"pending\"}") == 0);
    CHECK(before.at("ballotchain_backend_outbox_votes{status=\"submitted\"}") == 0);
    CHECK(before.at("ballotchain_backend_outbox_oldest_age_seconds") == 0);
    CHECK(before.at("ballotchain_backend_fallback_chain_votes") == 0);
    CHECK(before.at("ballotchain_backend_fallback_in_use") == 0);
    CHECK(before.at("ballotchain_backend_validators_configured") == 1);
    CHECK(before.at("ballotchain_backend_build_info{version=\"" + std::string(version) + "\"}") == 1);
    CHECK(before.at("process_start_time_seconds") > 1.7e9);
    CHECK(before.at("ballotchain_backend_votes_accepted_total{state=\"fallback\"}") == 0);

    CHECK(rig.call(V::get, "/health").result() == http::status::ok);
    CHECK(rig.call(V::get, "/health?x=1").result() == http::status::ok);
    CHECK(rig.call(V::get, "/api/elections/999").result() == http::status::not_found);
    CHECK(rig.call(V::get, "/api/elections/999?a=b").result() == http::status::not_found);
    CHECK(rig.call(V::get, "/no/such/page").result() == http::status::not_found);
    CHECK(rig.call(V::get, "/scanner/1").result() == http::status::not_found);
    CHECK(rig.call(V::post, "/metrics").result() == http::status::method_not_allowed);

    const auto admin = rig.login("admin@example.org", "admin password 1");
    const auto [e, c] = rig.election(admin);
    const auto voter = rig.voter("voter@example.org");
    CHECK(rig.call(V::post, "/api/votes/submit", R"({"election_id":"x"})", voter).result() ==
          http::status::unprocessable_entity);
    CHECK(rig.call(V::post, "/api/votes/submit", service_rig::vote_body(e + 100, c), voter).result() ==
          http::status::not_found);
    // No validator answers: the vote is stored, on the fallback chain, and waits in the outbox.
    const auto voted = rig.call(V::post, "/api/votes/submit", service_rig::vote_body(e, c), voter);
    INFO(voted.body());
    REQUIRE(voted.result() == http::status::ok);
    CHECK(boost::json::parse(voted.body()).at("source") == "fallback_chain");
    CHECK(rig.call(V::post, "/api/votes/submit", service_rig::vote_body(e, c), voter).result() == http::status::conflict);

    const auto m = rig.metrics();
    CHECK(m.at(requests("/health", "GET", 200)) == 2);
    CHECK(m.at(requests("/api/elections/{id}", "GET", 404)) == 2);
    CHECK(m.at(requests("other", "GET", 404)) == 2);
    CHECK(m.at(requests("/metrics", "POST", 405)) == 1);
    CHECK(m.at(requests("/metrics", "GET", 200)) == 1);  // the first scrape (this one counts after its text)
    CHECK(m.at(requests("/api/votes/submit", "POST", 200)) == 1);
    CHECK(m.at(requests("/api/votes/submit", "POST", 422)) == 1);
    CHECK(m.at(requests("/api/votes/submit", "POST", 404)) == 1);
    CHECK(m.at(requests("/api/votes/submit", "POST", 409)) == 1);
    CHECK(m.at(requests("/api/elections", "POST", 201)) == 1);
    for (const auto& [series, v] : m.samples) {  // no raw path ever becomes a label
        INFO(series);
        CHECK(series.find("999") == std::string::npos);
        CHECK(series.find("/no/such") == std::string::npos);
    }
    CHECK(m.at("ballotchain_backend_http_request_duration_seconds_count{route=\"/health\"}") == 2);
    CHECK(m.at("ballotchain_backend_http_request_duration_seconds_count{route=\"/api/votes/submit\"}") == 4);

    CHECK(m.at("ballotchain_backend_votes_accepted_total{state=\"fallback\"}") == 1);
    CHECK(m.at("ballotchain_backend_votes_accepted_total{state=\"submitted\"}") == 0);
    CHECK(m.at("ballotchain_backend_votes_refused_total{reason=\"invalid\"}") == 1);
    CHECK(m.at("ballotchain_backend_votes_refused_total{reason=\"no_election\"}") == 1);
    CHECK(m.at("ballotchain_backend_votes_refused_total{reason=\"conflict\"}") == 1);
    CHECK(m.at("ballotchain_backend_votes_refused_total{reason=\"busy\"}") == 0);

    CHECK(m.at("ballotchain_backend_outbox_votes{status=\"pending\"}") == 1);
    CHECK(m.at("ballotchain_backend_outbox_votes{status=\"submitted\"}") == 0);
    CHECK(m.at("ballotchain_backend_outbox_oldest_age_seconds") >= 0);
    CHECK(m.at("ballotchain_backend_fallback_chain_votes") == 1);
    CHECK(m.at("ballotchain_backend_fallback_in_use") == 1);

    // The replay's counters (outbox_test.cpp counts them under a manual clock) are there.
    const auto after = rig.metrics();
    for (const char* what : {"attempts", "resends", "confirmations", "rejections", "stalls"})
        CHECK(after.types.at(std::string("ballotchain_backend_replay_") + what + "_total") == "counter");
    CHECK(after.at("ballotchain_backend_validators{status=\"healthy\"}") +
              after.at("ballotchain_backend_validators{status=\"degraded\"}") +
              after.at("ballotchain_backend_validators{status=\"unreachable\"}") +
              after.at("ballotchain_backend_validators{status=\"misbehaving\"}") ==
          1);
    CHECK(after.at("ballotchain_backend_validators{status=\"healthy\"}") == 0);
}

TEST_CASE("an answer given later counts when it is given, once", "[backend][metrics]") {
    service_rig rig;
    rig.svc->start();  // votes are answered from the pipeline's thread
    const auto admin = rig.login("admin@example.org", "admin password 1");
    const auto [e, c] = rig.election(admin);
    const auto voter = rig.voter("voter@example.org");

    std::mutex mu;
    std::condition_variable cv;
    std::optional<rpc::http_response> later;
    rpc::request_info info{boost::asio::ip::make_address("127.0.0.1"), [&] {
                               return rpc::responder([&](rpc::http_response r) {
                                   std::lock_guard lk(mu);
                                   later = std::move(r);
                                   cv.notify_all();
                               });
                           }};
    (void)rig.call(http::verb::post, "/api/votes/submit", service_rig::vote_body(e, c), voter, &info);
    {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return later.has_value(); });
    }
    REQUIRE(later->result() == http::status::ok);
    const auto m = rig.metrics();
    rig.svc->stop();
    CHECK(m.at(requests("/api/votes/submit", "POST", 200)) == 1);
    CHECK(m.at("ballotchain_backend_http_request_duration_seconds_count{route=\"/api/votes/submit\"}") == 1);
    CHECK(m.at("ballotchain_backend_votes_accepted_total{state=\"fallback\"}") == 1);
}

TEST_CASE("a held request counts when it is answered, not when the handler returns", "[backend][metrics]") {
    service_rig rig;
    const auto admin = rig.login("admin@example.org", "admin password 1");
    const auto [e, c] = rig.election(admin);
    const auto voter = rig.voter("voter@example.org");
    const auto voted = rig.call(http::verb::post, "/api/votes/submit", service_rig::vote_body(e, c), voter);
    REQUIRE(voted.result() == http::status::ok);
    const std::string tx(boost::json::parse(voted.body()).at("transaction_id").as_string());

    // The page has seen this status already: the request is held until the status changes.
    std::optional<rpc::http_response> later;
    rpc::request_info info{boost::asio::ip::make_address("127.0.0.1"),
                           [&] { return rpc::responder([&](rpc::http_response r) { later = std::move(r); }); }};
    rpc::http_request req{http::verb::get, "/api/votes/events?transaction_id=" + tx, 11};
    req.set("Last-Event-ID", "pending:fallback_chain");
    (void)rig.svc->handle(req, info);
    REQUIRE_FALSE(later);
    const std::string events = "/api/votes/events";
    const auto held = rig.metrics();
    CHECK_FALSE(held.has(requests(events, "GET", 200)));
    CHECK_FALSE(held.has("ballotchain_backend_http_request_duration_seconds_count{route=\"" + events + "\"}"));

    rig.svc->stop();  // held requests get their answer (a keep-alive comment)
    REQUIRE(later);
    CHECK(later->result() == http::status::ok);
    const auto answered = rig.metrics();
    CHECK(answered.at(requests(events, "GET", 200)) == 1);
    CHECK(answered.at("ballotchain_backend_http_request_duration_seconds_count{route=\"" + events + "\"}") == 1);
}
