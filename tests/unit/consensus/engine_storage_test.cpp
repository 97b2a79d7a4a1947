// Consensus engine with failing writes (a full disk): nothing is signed whose
// record could not be written, the failure is reported, a block the node cannot
// store is not held against the peer that served it, and writes that work again
// clear the failure. The real-process version is the full-disk chaos test.
#include "harness.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using consensus::msg_type;

TEST_CASE("a prepared block that cannot be written: no COMMIT, the failure is reported; once writes work the "
          "COMMIT goes out and the appended block clears the failure",
          "[consensus][engine][storage]") {
    single s(3, 0);  // proposer of height 1, round 0 is validator 1
    consensus::effects fx;
    s.eng->start(fx);
    const block b = s.make_block(0, 1000, {s.net.vote(1)});
    const hash32 bh = block_hash<S>(b.header);
    fx.clear();
    REQUIRE_FALSE(s.deliver(s.proposal(b, 0), fx));
    REQUIRE(sent_of_type(fx, msg_type::prepare).size() == 1);
    CHECK_FALSE(s.eng->storage_failure());

    // The second PREPARE makes it prepared; the prepared block cannot be written.
    s.faults->meta = true;
    s.faults->meta_key = std::string(consensus::prepared_block_key);
    fx.clear();
    REQUIRE_FALSE(s.deliver(s.prepare(1, 0, bh), fx));
    CHECK(sent_of_type(fx, msg_type::commit).empty());
    CHECK(s.eng->storage_failure() == make_error(storage_ns::errc::io_error));
    CHECK_FALSE(s.stored_record()->commit);

    // Writes work again: the next PREPARE brings the COMMIT, the COMMITs finalize.
    s.faults->meta = false;
    fx.clear();
    REQUIRE_FALSE(s.deliver(s.prepare(2, 0, bh), fx));
    REQUIRE(sent_of_type(fx, msg_type::commit).size() == 1);
    CHECK(s.stored_record()->commit);
    CHECK(s.eng->storage_failure());  // until something proves the disk works
    REQUIRE_FALSE(s.deliver(s.commit(1, 0, bh)));
    CHECK(s.eng->chain().height() == 1);
    CHECK_FALSE(s.eng->storage_failure());
}

TEST_CASE("blocks a validator cannot append are not held against the peer that served them; it asks again "
          "at most once per STATUS period and catches up when writes work",
          "[consensus][engine][storage][sync]") {
    single s(3, 0);
    auto c = s.net.open_chain();
    std::vector<bytes> blocks;
    for (std::uint64_t k = 1; k <= 3; ++k) {
        auto fb = s.net.next_block(c, {s.net.vote(k)});
        REQUIRE(c.append(fb));
        blocks.push_back(encode(fb));
    }
    consensus::effects fx;
    s.eng->start(fx);
    const auto status = signed_msg(s.net, 1, msg_type::status, 3, 0,
                                   consensus::encode(consensus::status_body{3, c.head_hash()}));
    fx.clear();
    REQUIRE_FALSE(s.deliver(status, fx));
    REQUIRE(sent_of_type(fx, msg_type::get_blocks).size() == 1);

    // The disk is full: the served blocks cannot be stored.
    s.faults->appends = true;
    fx.clear();
    REQUIRE_FALSE(s.deliver(signed_msg(s.net, 1, msg_type::blocks, 3, 0, consensus::encode_blocks(blocks)), fx));
    CHECK(s.eng->chain().height() == 0);
    CHECK(s.eng->storage_failure());
    CHECK(s.eng->stats().sync_failures == 0);  // validator 2 served good blocks
    CHECK(sent_of_type(fx, msg_type::get_blocks).empty());  // no tight loop of re-fetching
    fx.clear();
    REQUIRE_FALSE(s.deliver(status, fx));  // a STATUS right after: still not yet
    CHECK(sent_of_type(fx, msg_type::get_blocks).empty());

    // One STATUS period later it asks validator 2 again (its claim still stands).
    *s.now += 1000;
    fx.clear();
    s.eng->on_timer({consensus::timer_kind::status, 0, 0, *s.now}, fx);
    const auto again = sent_of_type(fx, msg_type::get_blocks);
    REQUIRE(again.size() == 1);
    s.faults->appends = false;
    fx.clear();
    REQUIRE_FALSE(s.deliver(signed_msg(s.net, 1, msg_type::blocks, 3, 0, consensus::encode_blocks(blocks)), fx));
    CHECK(s.eng->chain().height() == 3);
    CHECK_FALSE(s.eng->storage_failure());
    CHECK(s.eng->stats().sync_failures == 0);
}

TEST_CASE("with nothing to fetch, a STATUS tick probes the disk: a record write that succeeds clears the failure",
          "[consensus][engine][storage]") {
    single s(3, 0);
    consensus::effects fx;
    s.eng->start(fx);
    const block b = s.make_block(0, 1000, {s.net.vote(1)});
    s.faults->meta = true;
    fx.clear();
    REQUIRE_FALSE(s.deliver(s.proposal(b, 0), fx));
    CHECK(sent_of_type(fx, msg_type::prepare).empty());  // its record could not be written
    CHECK(s.eng->storage_failure());
    *s.now += 1000;
    s.eng->on_timer({consensus::timer_kind::status, 0, 0, *s.now}, fx);
    CHECK(s.eng->storage_failure());  // still full
    s.faults->meta = false;
    *s.now += 1000;
    s.eng->on_timer({consensus::timer_kind::status, 0, 0, *s.now}, fx);
    CHECK_FALSE(s.eng->storage_failure());
}
