// core/clock.hpp: the manual clock moves only when told; the real one is monotonic.
#include <ballotchain/core/clock.hpp>

#include <catch2/catch.hpp>

using namespace ballotchain;

TEST_CASE("manual_clock moves only when told to; wall = offset + now", "[core]") {
    manual_clock c(10, 1000);
    CHECK(c.now_ms() == 10);
    CHECK(c.wall_ms() == 1010);
    c.advance(5);
    CHECK(c.now_ms() == 15);
    c.set(3);
    CHECK(c.now_ms() == 3);
    CHECK(c.wall_ms() == 1003);
}

TEST_CASE("steady_clock_adapter: monotonic timer, Unix wall time after 2020", "[core]") {
    steady_clock_adapter c;
    const auto a = c.now_ms();
    const auto b = c.now_ms();
    CHECK(b >= a);
    CHECK(c.wall_ms() > 1'577'836'800'000ull);  // 2020-01-01
}
