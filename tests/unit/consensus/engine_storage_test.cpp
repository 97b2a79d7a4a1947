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
    s.faults->meta = storage_faults::mode::write_fails;
    s.faults->meta_key = std::string(consensus::prepared_block_key);
    fx.clear();
    REQUIRE_FALSE(s.deliver(s.prepare(1, 0, bh), fx));
    CHECK(sent_of_type(fx, msg_type::commit).empty());
    CHECK(s.eng->storage_failure() == make_error(storage_ns::errc::io_error));
    CHECK_FALSE(s.stored_record()->commit);
    // A local fault, in the effects: what failed and at which height.
    REQUIRE(fx.faults.size() == 1);
    CHECK(fx.faults[0].what == consensus::fault_event::write::prepared_block);
    CHECK(fx.faults[0].height == 1);
    CHECK(fx.faults[0].error == make_error(storage_ns::errc::io_error));
    CHECK(s.eng->stats().faults == 1);

    // Writes work again, but nothing is signed until the disk is proven: the
    // next PREPARE brings no COMMIT.
    s.faults->clear();
    fx.clear();
    REQUIRE_FALSE(s.deliver(s.prepare(2, 0, bh), fx));
    CHECK(sent_of_type(fx, msg_type::commit).empty());
    CHECK(s.eng->storage_failure());
    // The STATUS tick's probe write succeeds: the failure clears and the held-back COMMIT goes out.
    *s.now += 1000;
    fx.clear();
    s.eng->on_timer({consensus::timer_kind::status, 0, 0, *s.now}, fx);
    CHECK_FALSE(s.eng->storage_failure());
    REQUIRE(sent_of_type(fx, msg_type::commit).size() == 1);
    CHECK(s.stored_record()->commit);
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
    s.faults->appends = storage_faults::mode::write_fails;
    fx.clear();
    REQUIRE_FALSE(s.deliver(signed_msg(s.net, 1, msg_type::blocks, 3, 0, consensus::encode_blocks(blocks)), fx));
    CHECK(s.eng->chain().height() == 0);
    CHECK(s.eng->storage_failure());
    REQUIRE(fx.faults.size() == 1);
    CHECK(fx.faults[0].what == consensus::fault_event::write::append);
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
    s.faults->appends = storage_faults::mode::none;
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
    s.faults->meta = storage_faults::mode::write_fails;
    fx.clear();
    REQUIRE_FALSE(s.deliver(s.proposal(b, 0), fx));
    CHECK(sent_of_type(fx, msg_type::prepare).empty());  // its record could not be written
    CHECK(s.eng->storage_failure());
    *s.now += 1000;
    s.eng->on_timer({consensus::timer_kind::status, 0, 0, *s.now}, fx);
    CHECK(s.eng->storage_failure());  // still full
    s.faults->meta = storage_faults::mode::none;
    *s.now += 1000;
    s.eng->on_timer({consensus::timer_kind::status, 0, 0, *s.now}, fx);
    CHECK_FALSE(s.eng->storage_failure());
}

TEST_CASE("while its disk fails a validator signs nothing, even where the write would now work",
          "[consensus][engine][storage]") {
    single s(3, 0);
    consensus::effects fx;
    s.eng->start(fx);
    // Height 1 is decided with this validator's COMMIT, but the final block cannot be appended.
    const block b = s.make_block(0, 1000, {s.net.vote(1)});
    const hash32 bh = block_hash<S>(b.header);
    REQUIRE_FALSE(s.deliver(s.proposal(b, 0)));
    REQUIRE_FALSE(s.deliver(s.prepare(1, 0, bh)));
    s.faults->appends = storage_faults::mode::write_fails;
    REQUIRE_FALSE(s.deliver(s.commit(1, 0, bh), fx));
    REQUIRE(s.eng->chain().height() == 0);
    REQUIRE(s.eng->storage_failure());
    CHECK_FALSE(s.eng->syncing());  // no peer claims more: it is the disk, not catch-up, that stops it
    // The round times out: record writes would work, but no ROUND-CHANGE is signed.
    *s.now += 60'000;
    fx.clear();
    s.eng->on_timer({consensus::timer_kind::round, 1, 0, *s.now}, fx);
    CHECK(fx.messages.empty());
    CHECK(s.eng->round() == 0);
    CHECK(s.eng->storage_failure());
}

TEST_CASE("a final block whose write failed but reached the disk (failed fsync): the validator stays failed "
          "and fetches nothing until a restart, which finds the block",
          "[consensus][engine][storage]") {
    single s(3, 0);
    consensus::effects fx;
    s.eng->start(fx);
    auto c = s.net.open_chain();
    std::vector<bytes> blocks;
    for (std::uint64_t k = 1; k <= 2; ++k) {
        auto fb = s.net.next_block(c, {s.net.vote(k)});
        REQUIRE(c.append(fb));
        blocks.push_back(encode(fb));
    }
    const auto status = signed_msg(s.net, 1, msg_type::status, 2, 0,
                                   consensus::encode(consensus::status_body{2, c.head_hash()}));
    REQUIRE_FALSE(s.deliver(status));
    s.faults->appends = storage_faults::mode::sync_fails;
    REQUIRE_FALSE(s.deliver(signed_msg(s.net, 1, msg_type::blocks, 2, 0, consensus::encode_blocks(blocks))));
    CHECK(s.eng->chain().height() == 0);  // as far as the engine knows
    CHECK(s.store->head() == 1);          // but block 1 is on the disk
    CHECK(s.eng->storage_failure());
    s.faults->clear();
    // Writes work, but its state is unknown: no probe clears the failure, no fetch.
    for (int i = 0; i < 3; ++i) {
        *s.now += 1000;
        fx.clear();
        s.eng->on_timer({consensus::timer_kind::status, 0, 0, *s.now}, fx);
        CHECK(sent_of_type(fx, msg_type::get_blocks).empty());
        CHECK(s.eng->storage_failure());
    }
    // A restart reopens the chain from the disk and catches up.
    s.restart();
    CHECK(s.eng->chain().height() == 1);
    CHECK_FALSE(s.eng->storage_failure());
    fx.clear();
    s.eng->start(fx);
    REQUIRE_FALSE(s.deliver(status, fx));
    REQUIRE(sent_of_type(fx, msg_type::get_blocks).size() == 1);
    REQUIRE_FALSE(s.deliver(signed_msg(s.net, 1, msg_type::blocks, 2, 0, consensus::encode_blocks({blocks[1]}))));
    CHECK(s.eng->chain().height() == 2);
}

TEST_CASE("a peer that (re)connects gets the last ROUND-CHANGE again, but not from a validator whose disk failed",
          "[consensus][engine][storage][recovery]") {
    single s(3, 0);
    consensus::effects fx;
    s.eng->start(fx);
    // No proposal: round 0 times out and this validator signs a ROUND-CHANGE for round 1.
    *s.now += 60'000;
    fx.clear();
    s.eng->on_timer({consensus::timer_kind::round, 1, 0, *s.now}, fx);
    REQUIRE(sent_of_type(fx, msg_type::round_change).size() == 1);
    REQUIRE(s.eng->round() == 1);
    fx.clear();
    s.eng->on_peer_connected(1, fx);
    CHECK(sent_of_type(fx, msg_type::round_change).size() == 1);  // the same message again
    CHECK(sent_of_type(fx, msg_type::status).size() == 1);

    // Round 1's proposal (justified by round changes of 0 and 1) is prepared, but the prepared
    // block cannot be written: the disk failed, and from then on no vote leaves, not even the
    // ROUND-CHANGE it signed before (found by the simulator once it modelled P2P sessions).
    const block b = s.make_block(1, 1000, {s.net.vote(1)});
    const hash32 bh = block_hash<S>(b.header);
    const std::vector<consensus::signed_round_change> just{signed_rc(s.net, 0, 1, 1), signed_rc(s.net, 1, 1, 1)};
    fx.clear();
    REQUIRE_FALSE(s.deliver(s.proposal(b, 1, just), fx));
    REQUIRE(sent_of_type(fx, msg_type::prepare).size() == 1);
    s.faults->meta = storage_faults::mode::write_fails;
    s.faults->meta_key = std::string(consensus::prepared_block_key);
    REQUIRE_FALSE(s.deliver(s.prepare(1, 1, bh)));
    REQUIRE(s.eng->storage_failure());
    fx.clear();
    s.eng->on_peer_connected(2, fx);
    CHECK(sent_of_type(fx, msg_type::round_change).empty());
    CHECK(sent_of_type(fx, msg_type::status).size() == 1);  // where it is, still
}
