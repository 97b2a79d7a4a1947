// Integration test of the /metrics texts: a real backend in front of real validators, under a
// few requests, serves the series docs/operations.md ("Monitoring") lists with the counts those
// requests make; its text and a validator's pass `promtool check metrics`, and every metric the
// alert rules and the Grafana dashboard use is in them (tests/tools/check_monitoring.py).
#include "backend.hpp"

#include <filesystem>
#include <fstream>
#include <string>

using namespace ballotchain;
using namespace ballotchain::itest;

namespace {

/// The value of the sample line that starts with `series` followed by a space; -1 when none.
double sample(const std::string& text, const std::string& series) {
    const std::string key = "\n" + series + " ";
    const auto at = ("\n" + text).find(key);
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + key.size() - 1));
}

}  // namespace

TEST_CASE("backend and validator /metrics: the expected series, valid for promtool, every name the alerts use",
          "[integration][backend][metrics]") {
    network net(3);
    backend b(net, 3);
    const auto admin = b.admin();
    const auto made = b.election(admin, 2);
    const std::int64_t eid = made.first;
    const std::vector<std::int64_t> cands = made.second;
    const auto token = b.voter(1);
    const auto voted = b.vote(token, eid, cands[0]);
    REQUIRE(voted.status == 200);
    const auto tx = voted.str("transaction_id");
    CHECK(b.vote(token, eid, cands[1]).status == 409);
    CHECK(b.get("/api/elections/" + std::to_string(eid)).status == 200);
    CHECK(b.get("/api/elections/9999").status == 404);
    CHECK(b.get("/no/such/path").status == 404);
    REQUIRE(eventually([&] { return confirmed(b, tx, eid); }, std::chrono::seconds(30)));

    const auto res = client::http_get("127.0.0.1", b.port(), "/metrics");
    REQUIRE(res.status == 200);
    CHECK(res.field("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    const std::string& m = res.body;
    INFO(m);
    auto requests = [&](const char* route, const char* method, int status) {
        return sample(m, std::string("ballotchain_backend_http_requests_total{route=\"") + route + "\",method=\"" + method +
                             "\",status=\"" + std::to_string(status) + "\"}");
    };
    CHECK(requests("/api/votes/submit", "POST", 200) == 1);
    CHECK(requests("/api/votes/submit", "POST", 409) == 1);
    CHECK(requests("/api/elections/{id}", "GET", 200) == 1);
    CHECK(requests("/api/elections/{id}", "GET", 404) == 1);
    CHECK(requests("other", "GET", 404) == 1);
    CHECK(requests("/api/auth/register", "POST", 201) == 1);
    CHECK(requests("/health", "GET", 200) >= 1);  // the harness waits for /health at start
    CHECK(m.find("9999") == std::string::npos);
    CHECK(m.find("/no/such/path") == std::string::npos);
    CHECK(sample(m, "ballotchain_backend_http_request_duration_seconds_count{route=\"/api/votes/submit\"}") == 2);
    CHECK(sample(m, "ballotchain_backend_votes_accepted_total{state=\"submitted\"}") == 1);
    CHECK(sample(m, "ballotchain_backend_votes_refused_total{reason=\"conflict\"}") == 1);
    CHECK(sample(m, "ballotchain_backend_outbox_votes{status=\"pending\"}") == 0);
    CHECK(sample(m, "ballotchain_backend_outbox_votes{status=\"submitted\"}") == 0);  // final: out of the outbox
    CHECK(sample(m, "ballotchain_backend_outbox_oldest_age_seconds") == 0);
    CHECK(sample(m, "ballotchain_backend_fallback_chain_votes") == 0);
    CHECK(sample(m, "ballotchain_backend_fallback_in_use") == 0);
    CHECK(sample(m, "ballotchain_backend_validators_configured") == 3);
    CHECK(sample(m, "ballotchain_backend_validators{status=\"healthy\"}") >= 0);
    CHECK(sample(m, "ballotchain_backend_replay_attempts_total") >= 0);
    CHECK(sample(m, "ballotchain_backend_build_info{version=\"0.1.0\"}") == 1);
    CHECK(sample(m, "process_start_time_seconds") > 1.7e9);
    CHECK(b.get("/openapi.json").obj().at("paths").as_object().contains("/metrics"));

    // The vote is final when one validator says so; validator 0 may append the block a moment later.
    client::http_reply vres;
    CHECK(eventually(
        [&] {
            vres = client::http_get("127.0.0.1", net.rpc(0), "/metrics");
            return vres.status == 200 && sample(vres.body, "ballotchain_height") >= 1;
        },
        std::chrono::seconds(30)));
    REQUIRE(vres.status == 200);
    INFO(vres.body);
    CHECK(sample(vres.body, "ballotchain_height") >= 1);
    CHECK(sample(vres.body, "ballotchain_last_block_timestamp_seconds") > 1.7e9);
    CHECK(sample(vres.body, "ballotchain_block_interval_seconds") == 0.2);  // the test network's 200 ms

    // promtool check metrics on both texts; the alerts' and the dashboard's names against them.
    temp_dir tmp;
    const auto backend_txt = tmp.path() / "backend.txt", validator_txt = tmp.path() / "validator.txt";
    std::ofstream(backend_txt) << m;
    std::ofstream(validator_txt) << vres.body;
    const auto [rc, out] = run({"/usr/bin/env", "python3", source_dir() + "/tests/tools/check_monitoring.py", source_dir(),
                                "--metrics", backend_txt.string(), "--metrics", validator_txt.string()},
                               tmp.path() / "check.log");
    INFO(out);
    CHECK(rc == 0);
}
