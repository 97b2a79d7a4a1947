// catch_up: peer claims, f+1 counting, one request in flight, timeouts and
// penalties that double, and answers that do or do not move the chain. Pure
// bookkeeping (no engine): the engine tests check how it is wired in.
#include <ballotchain/consensus/catch_up.hpp>

#include <catch2/catch.hpp>

using ballotchain::consensus::catch_up;

TEST_CASE("catch_up: claims count per validator and only grow; a claim reaching the height being decided asks "
          "for a fetch",
          "[consensus][catch_up]") {
    catch_up c(4, 2000);
    CHECK(c.claims_at_or_above(1) == 0);
    CHECK_FALSE(c.note_claim(1, 4, 5, 0));  // below what we decide: remembered, no fetch
    CHECK(c.note_claim(2, 7, 5, 0));
    CHECK(c.note_claim(2, 6, 5, 0));  // a lower claim does not lower the standing one
    CHECK(c.peer(2).height == 7);
    CHECK(c.claims_at_or_above(5) == 1);
    CHECK(c.claims_at_or_above(4) == 2);
    CHECK(c.best_height() == 7);
    // Not a validator index: ignored. (volatile: g++ 12 -O3 otherwise propagates the
    // constant into the branch the bounds check skips and warns -Warray-bounds.)
    volatile std::uint32_t outside = 9;
    CHECK_FALSE(c.note_claim(outside, 100, 5, 0));
    CHECK(c.best_height() == 7);
}

TEST_CASE("catch_up: one request at a time; it sticks with a peer that serves, and after a timeout counts a "
          "failure and moves to the next claimer",
          "[consensus][catch_up]") {
    catch_up c(3, 2000);
    c.note_claim(1, 10, 5, 0);
    c.note_claim(2, 10, 5, 0);
    auto p = c.next_request(5, 0);
    REQUIRE(p);
    CHECK(*p == 1);
    CHECK(c.in_flight());
    CHECK_FALSE(c.next_request(5, 1999));  // still waiting
    // It served: the chain moved; the next request goes to the same peer.
    CHECK_FALSE(c.on_answer(1, true, 10, 6, 2000));
    CHECK_FALSE(c.in_flight());
    p = c.next_request(6, 2000);
    REQUIRE(p);
    CHECK(*p == 1);
    // No answer within the timeout: a failure of peer 1 (its claim drops to what we have), next is peer 2.
    p = c.next_request(6, 4000);
    REQUIRE(p);
    CHECK(*p == 2);
    CHECK(c.failures() == 1);
    CHECK(c.peer(1).height == 5);
    CHECK(c.peer(1).failures == 1);
}

TEST_CASE("catch_up: a peer that answers without moving the chain loses its claim and is distrusted for a "
          "period that doubles with each failure in a row (at most 2^5)",
          "[consensus][catch_up]") {
    catch_up c(2, 1000);
    std::uint64_t now = 0;
    for (std::uint32_t k = 0; k < 7; ++k) {
        REQUIRE(c.note_claim(1, 50, 5, now));
        REQUIRE(c.next_request(5, now) == std::optional<std::uint32_t>(1));
        CHECK(c.on_answer(1, false, 50, 5, now));  // served nothing
        CHECK(c.peer(1).height == 4);
        const std::uint64_t expect = 1000ull << std::min<std::uint32_t>(k, 5);
        CHECK(c.peer(1).distrust_until == now + expect);
        // While distrusted, its claims above what we have are ignored...
        CHECK_FALSE(c.note_claim(1, 50, 5, now + expect - 1));
        CHECK(c.claims_at_or_above(5) == 0);
        now += expect;  // ...and heard again once the penalty ends.
    }
    CHECK(c.failures() == 7);
    // A good answer resets the count.
    REQUIRE(c.note_claim(1, 50, 5, now));
    REQUIRE(c.next_request(5, now));
    CHECK_FALSE(c.on_answer(1, true, 50, 6, now));
    CHECK(c.peer(1).failures == 0);
}

TEST_CASE("catch_up: an unrequested answer, or one from a peer that no longer claims our height, is not a failure",
          "[consensus][catch_up]") {
    catch_up c(3, 1000);
    c.note_claim(1, 9, 5, 0);
    REQUIRE(c.next_request(5, 0) == std::optional<std::uint32_t>(1));
    CHECK_FALSE(c.on_answer(2, false, 9, 5, 10));  // peer 2 was not asked
    CHECK(c.in_flight());                          // still waiting for peer 1
    CHECK(c.peer(2).failures == 0);
    catch_up d(3, 1000);
    d.note_claim(1, 4, 5, 0);  // claims less than we decide: never asked
    CHECK_FALSE(d.next_request(5, 0));
    CHECK_FALSE(d.on_answer(1, false, 4, 5, 0));
    CHECK(d.failures() == 0);
}

TEST_CASE("catch_up: forgive() clears a peer's failures and distrust (a node a change adds, refused until its peers "
          "knew its key)",
          "[consensus][catch_up]") {
    catch_up c(4, 2000);
    CHECK(c.note_claim(1, 9, 5, 0));
    std::uint64_t now = 0;
    REQUIRE(c.next_request(5, now) == std::optional<std::uint32_t>(1));
    now += 2000;
    CHECK_FALSE(c.next_request(5, now));          // unanswered: a failure, the claim is forgotten
    CHECK_FALSE(c.note_claim(1, 9, 5, now));      // and the peer is distrusted for a while
    CHECK(c.peer(1).failures == 1);
    c.forgive(1);
    CHECK(c.peer(1).failures == 0);
    CHECK(c.note_claim(1, 9, 5, now));
    CHECK(c.next_request(5, now) == std::optional<std::uint32_t>(1));
}
