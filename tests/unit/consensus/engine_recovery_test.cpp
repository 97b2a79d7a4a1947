// Recovery after a loss of quorum (issue 16, point 5): the round timeout is capped
// (engine_options::round_timeout_cap_ms) and a validator that (re)connects is told our
// STATUS, pooled votes and last ROUND-CHANGE (engine::on_peer_connected), so a vote that
// waited through a long partition is final within a few block intervals once the
// validators are back, instead of after the survivor's next (up to 60 s) round timeout.
#include "harness.hpp"

using namespace ballotchain;
using namespace ballotchain::test;

namespace {

/// Genesis timing as `ballotchain testnet` makes it: 2 s base round timeout doubling to 60 s.
cluster_config recovery_config() {
    cluster_config c;
    c.n = 3;
    c.block_interval_ms = 1000;
    c.round_timeout_ms = 2000;
    c.round_timeout_max_ms = 60'000;
    return c;
}

/// Validators a and b report each other's session up, as the transport does.
void connect_pair(cluster& cl, int a, int b) {
    cl.event(a, [b](engine_t& en, consensus::effects& fx) { en.on_peer_connected(static_cast<std::uint32_t>(b), fx); });
    cl.event(b, [a](engine_t& en, consensus::effects& fx) { en.on_peer_connected(static_cast<std::uint32_t>(a), fx); });
}

}  // namespace

TEST_CASE("recovery: after 2 minutes without quorum, a pending vote is final within 3 s of the validators' return",
          "[consensus][engine][recovery]") {
    const auto cfg = recovery_config();
    cluster cl(cfg);
    cl.run_for(2000);
    cl.stop(1);
    cl.stop(2);
    const auto th = cl.submit(0, cl.net.vote(1));
    REQUIRE(th);
    cl.run_for(120'000);
    REQUIRE(cl.e(0).chain().height() == 0);
    CHECK(cl.e(0).round() > 3);
    // The round timer is capped at 10 s, not the genesis's 60 s.
    const auto rt = cl.nodes[0].timers.find(static_cast<int>(consensus::timer_kind::round));
    REQUIRE(rt != cl.nodes[0].timers.end());
    CHECK(rt->second.at_ms <= *cl.now + 10'000);

    cl.start(1);
    cl.start(2);
    const std::uint64_t back = *cl.now;
    connect_pair(cl, 0, 1);
    connect_pair(cl, 0, 2);
    connect_pair(cl, 1, 2);
    REQUIRE(cl.run_until([&] { return cl.all_at(1); }, 120'000));
    const std::uint64_t took = *cl.now - back;
    INFO("final " << took << " ms after the validators came back");
    CHECK(took <= 3 * cfg.block_interval_ms);
    for (int i = 0; i < 3; ++i) {
        const auto fb = cl.e(i).chain().block_at(1).value();
        REQUIRE(fb.blk.txs.size() == 1);
        CHECK(tx_hash<S>(fb.blk.txs[0]) == *th);
    }
}

TEST_CASE("recovery: round timeouts double up to engine_options::round_timeout_cap_ms (0: the genesis's cap)",
          "[consensus][engine][recovery]") {
    for (const std::uint64_t cap : {std::uint64_t{10'000}, std::uint64_t{0}, std::uint64_t{500}}) {
        INFO("cap " << cap);
        auto cfg = recovery_config();
        cfg.n = 3;
        cfg.opts.round_timeout_cap_ms = cap;
        cluster cl(cfg);
        cl.stop(1);
        cl.stop(2);
        REQUIRE(cl.submit(0, cl.net.vote(1)));
        std::uint64_t longest = 0;
        std::uint64_t last_at = *cl.now;
        std::uint32_t last_round = 0;
        for (int k = 0; k < 2000 && *cl.now < 400'000; ++k) {
            if (!cl.step(120'000)) break;
            if (cl.e(0).round() != last_round) {
                if (last_round > 0) longest = std::max(longest, *cl.now - last_at);
                last_round = cl.e(0).round();
                last_at = *cl.now;
            }
        }
        // cap 0: the genesis's 60 s; a cap below the base timeout: the base (2 s)
        const std::uint64_t want = cap == 0 ? cfg.round_timeout_max_ms : std::max(cap, cfg.round_timeout_ms);
        CHECK(longest == want);
    }
}
