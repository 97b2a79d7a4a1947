// GET /health tells the truth (issue 16, point 1): real validators and a real backend.
// A validator that lost quorum (2 of 4 up) answers 503 "failing" with the reason; a
// backend with no validator reachable answers 503 "failing"; both are ok again after.
#include "backend.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using namespace ballotchain::itest;
using namespace std::chrono_literals;

namespace {
bool health_has_reason(const bj::object& h, std::string_view prefix) {
    const auto* r = h.if_contains("reasons");
    if (!r || !r->is_array()) return false;
    for (const auto& s : r->as_array())
        if (s.is_string() && std::string_view(s.as_string()).starts_with(prefix)) return true;
    return false;
}
}  // namespace

TEST_CASE("validator /health: failing (503, quorum lost) with 2 of 4 up, ok again when they return",
          "[integration][health]") {
    network net(4);
    REQUIRE(eventually([&] { return net.all_connected(); }, 60s));
    {
        const auto r = http_get(net.rpc(0), "/health");
        INFO(r.body);
        REQUIRE(r.status == 200);
        const auto h = bj::parse(r.body).as_object();
        CHECK(h.at("status") == "ok");
        CHECK(h.at("peers_connected").to_number<int>() == 3);
        CHECK(h.at("peers_needed").to_number<int>() == 2);
        CHECK(h.at("quorum").to_number<int>() == 3);
        CHECK(h.at("round").to_number<int>() == 0);
        CHECK(h.at("faults").to_number<int>() == 0);
        CHECK(h.at("reasons").as_array().empty());
        CHECK(h.at("blocks").to_number<std::uint64_t>() == h.at("height").to_number<std::uint64_t>() + 1);
    }
    net.kill(2, SIGKILL);
    net.kill(3, SIGKILL);
    // The survivors notice the closed links and say so.
    REQUIRE(eventually([&] { return http_get(net.rpc(0), "/health").status == 503; }, 60s));
    const auto r = http_get(net.rpc(0), "/health");
    INFO(r.body);
    CHECK(r.status == 503);
    const auto h = bj::parse(r.body).as_object();
    CHECK(h.at("status") == "failing");
    CHECK(health_has_reason(h, "quorum lost"));
    CHECK(h.at("peers_connected").to_number<int>() == 1);
    CHECK(h.contains("height"));  // the old fields stay
    CHECK(h.contains("peers"));
    CHECK(eventually([&] { return net.log(0).find("quorum lost") != std::string::npos; }, 10s));

    net.start(2);
    net.start(3);
    REQUIRE(eventually([&] { return http_get(net.rpc(0), "/health").status == 200; }, 60s));
    CHECK(eventually([&] { return net.log(0).find("quorum reached") != std::string::npos; }, 10s));
}

TEST_CASE("backend /health: failing (503) with no validator reachable, degraded with some", "[integration][health]") {
    network net(3);
    REQUIRE(eventually([&] { return net.all_connected(); }, 60s));
    // validator-1 real, the others at ports nobody listens on
    std::vector<std::string> none{"validator-1=http://127.0.0.1:" + std::to_string(free_port()),
                                  "validator-2=http://127.0.0.1:" + std::to_string(free_port())};
    {
        backend b(net.dir() / "genesis.json", net.dir() / "submitter.key", none);
        const auto h = b.get("/health");
        INFO(bj::serialize(h.body));
        CHECK(h.status == 503);
        CHECK(h.str("status") == "failing");
        CHECK(health_has_reason(h.obj(), "no validator reachable"));
        CHECK(h.obj().at("validators_reachable").to_number<int>() == 0);
        CHECK(h.obj().contains("outbox"));  // the old fields stay
    }
    std::vector<std::string> some{"validator-1=http://127.0.0.1:" + std::to_string(net.rpc(0)), none[1]};
    backend b(net.dir() / "genesis.json", net.dir() / "submitter.key", some);
    REQUIRE(eventually([&] { return b.get("/health").str("status") == "degraded"; }, 30s));
    const auto h = b.get("/health");
    CHECK(h.status == 200);
    CHECK(health_has_reason(h.obj(), "validators unreachable: 1 of 2"));
}
