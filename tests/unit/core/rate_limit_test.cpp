// core/rate_limit.hpp: token buckets per key, refill, retry-after, LRU bound.
#include <ballotchain/core/rate_limit.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace ballotchain;

TEST_CASE("keyed_rate_limiter: a burst, then one per refill interval; keys are independent", "[core]") {
    keyed_rate_limiter<std::string> rl({.rate_per_s = 2, .burst = 3, .max_keys = 100});
    for (int i = 0; i < 3; ++i) CHECK(rl.acquire("a", 1000) == 0);
    const auto wait = rl.acquire("a", 1000);
    CHECK(wait == 500);                  // one token at 2/s
    CHECK(rl.acquire("b", 1000) == 0);   // another key has its own bucket
    CHECK(rl.acquire("a", 1499) > 0);
    CHECK(rl.acquire("a", 1500) == 0);
    CHECK(rl.acquire("a", 1500) > 0);
    CHECK(rl.acquire("a", 100'000) == 0);  // refilled, but never above burst
    CHECK(rl.available("a", 100'000) == Approx(2));
}

TEST_CASE("keyed_rate_limiter: a refused call takes nothing; refund gives back; cost above burst never passes",
          "[core]") {
    keyed_rate_limiter<int> rl({.rate_per_s = 1, .burst = 2, .max_keys = 10});
    CHECK(rl.acquire(1, 0, 2) == 0);
    CHECK(rl.acquire(1, 0) == 1000);
    CHECK(rl.acquire(1, 0) == 1000);  // still one second: the refusal took nothing
    rl.refund(1, 0);
    CHECK(rl.acquire(1, 0) == 0);
    CHECK(rl.acquire(2, 0, 5) == 2000);  // more than a bucket holds: refused, with a bucket's refill time
    CHECK(rl.acquire(2, 0, 1) == 0);     // and nothing was taken
}

TEST_CASE("keyed_rate_limiter: the table is bounded; the least recently used key goes, not the others", "[core]") {
    keyed_rate_limiter<int> rl({.rate_per_s = 0.001, .burst = 1, .max_keys = 3});
    CHECK(rl.acquire(1, 0) == 0);
    CHECK(rl.acquire(2, 0) == 0);
    CHECK(rl.acquire(3, 0) == 0);
    CHECK(rl.acquire(1, 1) > 0);  // 1 is used again: now 2 is the oldest
    CHECK(rl.acquire(4, 2) == 0);  // evicts 2
    CHECK(rl.size() == 3);
    CHECK(rl.acquire(1, 3) > 0);  // 1 kept its empty bucket
    CHECK(rl.acquire(3, 3) > 0);  // so did 3
    CHECK(rl.acquire(2, 3) == 0);  // 2 was forgotten: a fresh bucket
}
