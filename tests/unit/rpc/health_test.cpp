// rpc::classify_health: GET /health's verdict as a table of situations.
#include <ballotchain/rpc/health.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace ballotchain;
using rpc::health_status;

namespace {
/// A 4-validator chain (quorum 3) with all peers up and nothing pending.
rpc::health_inputs health_all_up4() {
    rpc::health_inputs in;
    in.validators = 4;
    in.quorum = 3;
    in.peers_connected = 3;
    in.since_final_ms = 1000;
    in.stall_after_ms = 10'000;
    return in;
}
bool health_has_reason(const rpc::health_report& r, std::string_view prefix) {
    return std::any_of(r.reasons.begin(), r.reasons.end(), [&](const std::string& s) { return s.starts_with(prefix); });
}
}  // namespace

TEST_CASE("classify_health: a table of situations", "[rpc][health]") {
    struct row {
        const char* what;
        void (*change)(rpc::health_inputs&);
        health_status want;
        const char* reason;  ///< the first reason's start ("" for none)
    };
    const row rows[] = {
        {"all peers, nothing pending", [](rpc::health_inputs&) {}, health_status::ok, ""},
        {"one peer down: still a quorum", [](rpc::health_inputs& in) { in.peers_connected = 2; }, health_status::ok, ""},
        {"2 of 4 up: quorum lost", [](rpc::health_inputs& in) { in.peers_connected = 1; }, health_status::failing,
         "quorum lost"},
        {"isolated", [](rpc::health_inputs& in) { in.peers_connected = 0; }, health_status::failing, "quorum lost"},
        {"storage faulted", [](rpc::health_inputs& in) { in.storage_fault = true; }, health_status::failing,
         "storage faulted"},
        {"votes waited longer than a block should take",
         [](rpc::health_inputs& in) {
             in.pending = 5;
             in.pending_wait_ms = 10'001;
         },
         health_status::degraded, "votes waiting"},
        {"votes waiting briefly",
         [](rpc::health_inputs& in) {
             in.pending = 5;
             in.pending_wait_ms = 10'000;
         },
         health_status::ok, ""},
        {"no votes: an old last block is no signal (empty blocks off)",
         [](rpc::health_inputs& in) { in.since_final_ms = 3'600'000; }, health_status::ok, ""},
        {"a round change at this height", [](rpc::health_inputs& in) { in.round = 2; }, health_status::degraded,
         "round changes"},
        {"round changes in the past only", [](rpc::health_inputs& in) { in.round_changes = 7; }, health_status::ok, ""},
        {"catching up", [](rpc::health_inputs& in) { in.catching_up = true; }, health_status::degraded, "catching up"},
        {"restore guard holds (signed-state file ahead of chain.db)",
         [](rpc::health_inputs& in) {
             in.deciding = 7;
             in.sign_floor = 12;
         },
         health_status::degraded, "restore guard: signs nothing below height 12"},
        {"restore guard passed", [](rpc::health_inputs& in) {
             in.deciding = 12;
             in.sign_floor = 12;
         },
         health_status::ok, ""},
        {"in no validator set: follows", [](rpc::health_inputs& in) { in.in_set = false; }, health_status::degraded,
         "not in the validator set"},
        {"quorum lost outweighs degraded reasons",
         [](rpc::health_inputs& in) {
             in.peers_connected = 1;
             in.round = 3;
             in.pending = 1;
             in.pending_wait_ms = 60'000;
         },
         health_status::failing, "quorum lost"},
    };
    for (const auto& r : rows) {
        INFO(r.what);
        auto in = health_all_up4();
        r.change(in);
        const auto rep = rpc::classify_health(in);
        CHECK(rep.status == r.want);
        CHECK(rep.peers_needed == 2);
        if (*r.reason == '\0') {
            CHECK(rep.reasons.empty());
        } else {
            REQUIRE_FALSE(rep.reasons.empty());
            CHECK(rep.reasons.front().starts_with(r.reason));
        }
    }
}

TEST_CASE("classify_health: every reason is listed, failing first", "[rpc][health]") {
    auto in = health_all_up4();
    in.peers_connected = 0;
    in.storage_fault = true;
    in.round = 1;
    in.catching_up = true;
    const auto rep = rpc::classify_health(in);
    CHECK(rep.status == health_status::failing);
    REQUIRE(rep.reasons.size() == 4);
    CHECK(rep.reasons[0].starts_with("quorum lost: 0 of 2 peers"));
    CHECK(rep.reasons[1].starts_with("storage faulted"));
    CHECK(health_has_reason(rep, "round changes"));
    CHECK(health_has_reason(rep, "catching up"));
}

TEST_CASE("classify_health: a lone validator needs no peers", "[rpc][health]") {
    rpc::health_inputs in;
    in.validators = 1;
    in.quorum = 1;
    CHECK(rpc::classify_health(in).status == health_status::ok);
    CHECK(rpc::peers_needed_for_quorum(1) == 0);
    CHECK(rpc::default_stall_after_ms(0, 0) == 5'000);
    CHECK(rpc::default_stall_after_ms(1000, 2000) == 7'000);
    CHECK(std::string(rpc::to_string(health_status::degraded)) == "degraded");
}
