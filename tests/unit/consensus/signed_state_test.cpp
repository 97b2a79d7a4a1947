// The forward-only signed-state file and the start-up guard: a validator
// restored from an older chain.db (or an older signed-state file) does not sign
// twice (docs/protocol.md §6, docs/data-format.md §16).
#include "harness.hpp"
#include "../support/temp_dir.hpp"

#include <fstream>

using namespace ballotchain;
using namespace ballotchain::test;
using consensus::msg_type;
using consensus::signed_state;
using consensus::signed_vote;

namespace {

hash32 ss_digest(byte b) {
    hash32 h;
    h.data.fill(b);
    return h;
}

consensus::signed_record ss_sample() {
    consensus::signed_record s;
    s.height = 0x0102030405060708ull;
    s.round = 7;
    s.proposal = signed_vote{5, ss_digest(0x11)};
    s.prepare = signed_vote{6, ss_digest(0x22)};
    s.commit = signed_vote{6, ss_digest(0x22)};
    s.round_change = 7;
    s.prepared = consensus::prepared_certificate{6, ss_digest(0x22), {{0, {}}, {2, {}}, {3, {}}}};
    return s;
}

/// The signed-state "file" in memory, shared across restarts of one node.
struct ss_memory_file {
    std::shared_ptr<std::optional<consensus::signed_record>> s =
        std::make_shared<std::optional<consensus::signed_record>>();
    std::uint64_t writes = 0;
    consensus::signed_state_io io() {
        consensus::signed_state_io out;
        out.loaded = *s;
        out.save = [this](const consensus::signed_record& st) -> result<void> {
            *s = st;
            ++writes;
            return {};
        };
        return out;
    }
};

/// One validator over a storage and a signed-state file, both replaceable (a restore).
struct ss_node {
    test_network net;
    std::uint32_t self;
    consensus::engine_options opts;
    std::shared_ptr<memory_storage> store = std::make_shared<memory_storage>();
    ss_memory_file file;
    std::shared_ptr<std::uint64_t> now = std::make_shared<std::uint64_t>(0);
    std::optional<engine_t> eng;

    ss_node(int n, std::uint32_t s, consensus::engine_options o = {}) : net(n), self(s), opts(o) { restart(); }

    void restart() {
        eng.reset();
        auto c = shared_chain::open(net.genesis, make_mem_shared(store)).value();
        eng.emplace(engine_t::create(std::move(c), net.validators[self], shared_clock{now}, opts, file.io()).value());
        consensus::effects fx;
        eng->start(fx);
    }
    std::uint64_t next_height() const { return eng->chain().height() + 1; }
    std::uint32_t proposer(std::uint32_t r) const { return net.genesis.proposer_index(next_height(), r); }
    block make_block(std::uint32_t r, std::uint64_t ts, std::vector<vote_tx> txs = {}) const {
        return eng->chain().build_block(r, 1'700'000'000'000ull + ts, std::move(txs),
                                        net.validators[proposer(r)]);
    }
    bytes proposal(const block& b, std::uint32_t r) const {
        return signed_msg(net, proposer(r), msg_type::proposal, next_height(), r,
                          consensus::encode(consensus::proposal_body{b, {}}));
    }
    bytes prepare(std::uint32_t from, std::uint32_t r, const hash32& bh) const {
        return signed_msg(net, from, msg_type::prepare, next_height(), r, consensus::encode_prepare(bh));
    }
    bytes status(std::uint32_t from, std::uint64_t h) const {
        return signed_msg(net, from, msg_type::status, h, 0, consensus::encode(consensus::status_body{h, {}}));
    }
    std::size_t sent(const bytes& m, msg_type t) {
        consensus::effects fx;
        (void)eng->on_message(m, fx);
        return sent_of_type(fx, t).size();
    }
};

}  // namespace

TEST_CASE("signed-state file layout: round trip, every corruption refused", "[consensus][signed_state]") {
    const consensus::signed_record s = ss_sample();
    const bytes b = consensus::encode_signed_state<S>(s);
    REQUIRE(b.size() == consensus::signed_state_overhead + consensus::encode(s).size());
    CHECK(consensus::decode_signed_state<S>(b).value() == s);
    const bytes empty = consensus::encode_signed_state<S>(consensus::signed_record{});
    CHECK(consensus::decode_signed_state<S>(empty).value() == consensus::signed_record{});

    const auto bad = make_error(consensus::errc::bad_signed_state);
    // Every single flipped byte (magic, version, fields, checksum) is refused.
    for (std::size_t i = 0; i < b.size(); ++i) {
        bytes c = b;
        c[i] ^= 0x01;
        CHECK(consensus::decode_signed_state<S>(c).error() == bad);
    }
    bytes shorter(b.begin(), b.end() - 1);
    CHECK(consensus::decode_signed_state<S>(shorter).error() == bad);
    bytes longer = b;
    longer.push_back(0);
    CHECK(consensus::decode_signed_state<S>(longer).error() == bad);
}

TEST_CASE("signed-state file on disk: missing is nothing, a store is read back, a corrupt file is an error",
          "[consensus][signed_state]") {
    temp_dir dir;
    const consensus::signed_state_file<S> f(dir.file("signed-state"));
    CHECK_FALSE(f.load().value().has_value());
    REQUIRE(f.store(ss_sample()));
    CHECK(f.load().value() == ss_sample());
    {
        std::ofstream o(f.path(), std::ios::binary | std::ios::trunc);
        o << "not a signed-state file";
    }
    CHECK(f.load().error() == make_error(consensus::errc::bad_signed_state));
    {
        std::ofstream o(f.path(), std::ios::binary | std::ios::trunc);
        o << std::string(1 << 20, 'x');  // larger than the bound: refused without reading it all
    }
    CHECK(f.load().error() == make_error(consensus::errc::bad_signed_state));
    CHECK_FALSE(f.io());  // the engine is never built over a corrupt file
}

TEST_CASE("covers and later: the file only moves forward", "[consensus][signed_state]") {
    signed_state a;
    a.height = 3;
    a.round = 1;
    a.prepare = signed_vote{1, ss_digest(1)};
    signed_state b = a;
    b.commit = signed_vote{1, ss_digest(1)};
    CHECK(consensus::covers(b, a));
    CHECK_FALSE(consensus::covers(a, b));
    CHECK(consensus::later(a, b) == b);
    signed_state c;
    c.height = 2;
    c.round = 9;
    CHECK(consensus::covers(a, c));
    CHECK(consensus::later(c, a) == a);
}

TEST_CASE("every signature is saved to the signed-state file before it is sent", "[consensus][signed_state]") {
    ss_node n(4, 0);
    const block b = n.make_block(0, 1000, {n.net.vote(1)});
    const hash32 bh = block_hash<S>(b.header);
    REQUIRE(n.sent(n.proposal(b, 0), msg_type::prepare) == 1);
    REQUIRE(n.file.s->has_value());
    CHECK((*n.file.s)->height == 1);
    CHECK((*n.file.s)->prepare == signed_vote{0, bh});
    REQUIRE(n.sent(n.prepare(2, 0, bh), msg_type::commit) == 0);
    REQUIRE(n.sent(n.prepare(3, 0, bh), msg_type::commit) == 1);
    CHECK((*n.file.s)->commit == signed_vote{0, bh});
}

TEST_CASE("restoring an older chain.db at the same height: the file still forbids a second PREPARE",
          "[consensus][signed_state]") {
    ss_node n(4, 0);
    const block b1 = n.make_block(0, 1000, {n.net.vote(1)});
    REQUIRE(n.sent(n.proposal(b1, 0), msg_type::prepare) == 1);
    // The backup: a chain.db taken before the PREPARE (no record at all).
    n.store = std::make_shared<memory_storage>();
    n.restart();
    CHECK(n.eng->record().prepare == signed_vote{0, block_hash<S>(b1.header)});
    CHECK(n.file.writes == 1);  // nothing older was written over it
    CHECK(n.eng->sign_floor() == 0);
    // The proposer equivocates (or a crashed proposer re-proposes): another block in round 0.
    const block b2 = n.make_block(0, 2000, {n.net.vote(2)});
    CHECK(n.sent(n.proposal(b2, 0), msg_type::prepare) == 0);
}

TEST_CASE("restoring an older chain.db behind a COMMIT: the file brings back the COMMIT and its lock",
          "[consensus][signed_state]") {
    ss_node n(4, 0);
    const block b1 = n.make_block(0, 1000, {n.net.vote(1)});
    const hash32 bh = block_hash<S>(b1.header);
    REQUIRE(n.sent(n.proposal(b1, 0), msg_type::prepare) == 1);
    (void)n.sent(n.prepare(2, 0, bh), msg_type::commit);
    REQUIRE(n.sent(n.prepare(3, 0, bh), msg_type::commit) == 1);
    n.store = std::make_shared<memory_storage>();  // chain.db from before the votes
    n.restart();
    CHECK(n.eng->sign_floor() == 0);
    CHECK(n.eng->record().commit == signed_vote{0, bh});
    REQUIRE(n.eng->record().prepared);
    CHECK(n.eng->record().prepared->block_hash == bh);
    // Its round times out: the ROUND-CHANGE carries the lock (the prepared certificate).
    consensus::effects fx;
    *n.now += 60'000;
    n.eng->on_timer({consensus::timer_kind::round, 1, 0, *n.now}, fx);
    auto rcs = sent_of_type(fx, msg_type::round_change);
    REQUIRE(rcs.size() == 1);
    auto body = consensus::decode_round_change(rcs[0].body).value();
    REQUIRE(body.prepared);
    CHECK(body.prepared->block_hash == bh);
}

TEST_CASE("restoring a chain.db several heights behind the file: no signature below the file's height until "
          "synced past it",
          "[consensus][signed_state]") {
    ss_node n(4, 0);
    consensus::signed_record ahead;
    ahead.height = 2;
    ahead.prepare = signed_vote{0, ss_digest(7)};
    *n.file.s = ahead;
    n.restart();
    CHECK(n.eng->sign_floor() == 2);
    CHECK_FALSE(n.eng->may_vote());
    const block b = n.make_block(0, 1000, {n.net.vote(1)});
    CHECK(n.sent(n.proposal(b, 0), msg_type::prepare) == 0);
    // The file does not move back: it still says height 2.
    CHECK((*n.file.s)->height == 2);

    // Synced block 1: at height 2 the file's record binds (its PREPARE of round 0).
    auto c = n.net.open_chain();
    {
        auto fb1 = n.net.next_block(c, {n.net.vote(11)});
        REQUIRE(c.append(c.check(fb1).value()));
        consensus::effects fx1;
        REQUIRE_FALSE(n.eng->on_message(
            signed_msg(n.net, 1, msg_type::blocks, 1, 0, consensus::encode_blocks({ballotchain::encode(fb1)})), fx1));
        REQUIRE(n.eng->chain().height() == 1);
        CHECK(n.eng->record().prepare == signed_vote{0, ss_digest(7)});
        CHECK(n.eng->may_vote());
        const block other = n.make_block(0, 3000, {n.net.vote(3)});
        CHECK(n.sent(n.proposal(other, 0), msg_type::prepare) == 0);  // another block in round 0: refused
    }
    // Synced block 2 (certified by the others): from height 3 it signs again.
    std::vector<finalized_block> blocks;
    for (std::uint64_t h = 2; h <= 2; ++h) {
        auto fb = n.net.next_block(c, {n.net.vote(10 + h)});
        REQUIRE(c.append(c.check(fb).value()));
        blocks.push_back(std::move(fb));
    }
    std::vector<bytes> raw;
    for (const auto& fb : blocks) raw.push_back(ballotchain::encode(fb));
    consensus::effects fx;
    REQUIRE_FALSE(n.eng->on_message(
        signed_msg(n.net, 1, msg_type::blocks, 2, 0, consensus::encode_blocks(raw)), fx));
    REQUIRE(n.eng->chain().height() == 2);
    CHECK(n.eng->may_vote());
    const block b3 = n.make_block(0, 5000, {n.net.vote(2)});
    CHECK(n.sent(n.proposal(b3, 0), msg_type::prepare) == 1);
    CHECK((*n.file.s)->height == 3);
}

TEST_CASE("a proposer restarted in the round it proposed in does not propose a second block",
          "[consensus][signed_state]") {
    // Validator 1 proposes height 1, round 0 (test_network's proposer order).
    ss_node n(4, 1);
    REQUIRE(n.proposer(0) == 1);
    consensus::effects fx;
    REQUIRE(n.eng->submit(n.net.vote(1), fx));
    *n.now += 1000;
    fx.clear();
    n.eng->on_timer({consensus::timer_kind::propose, 1, 0, *n.now}, fx);
    REQUIRE(sent_of_type(fx, msg_type::proposal).size() == 1);
    REQUIRE(n.eng->record().proposal);
    // Crash before anyone answered, restart (same disk), a new vote, the interval ends again.
    n.restart();
    fx.clear();
    REQUIRE(n.eng->submit(n.net.vote(2), fx));
    *n.now += 1000;
    fx.clear();
    n.eng->on_timer({consensus::timer_kind::propose, 1, 0, *n.now}, fx);
    CHECK(sent_of_type(fx, msg_type::proposal).empty());
}

TEST_CASE("start-up guard: nothing is signed until f+1 peers said where the network is, or the hold passed",
          "[consensus][signed_state][guard]") {
    consensus::engine_options o;
    o.startup_hold_ms = 5000;
    SECTION("peers at the same height release the hold") {
        ss_node n(4, 0, o);
        CHECK(n.eng->holding());
        const block b = n.make_block(0, 1000, {n.net.vote(1)});
        CHECK(n.sent(n.proposal(b, 0), msg_type::prepare) == 0);
        (void)n.sent(n.status(2, 0), msg_type::prepare);
        CHECK(n.eng->holding());  // one peer is not f+1 = 2
        (void)n.sent(n.status(3, 0), msg_type::prepare);
        CHECK_FALSE(n.eng->holding());
        CHECK(n.eng->may_vote());
    }
    SECTION("f+1 peers ahead: released from the hold, but catching up, still no signature") {
        ss_node n(4, 0, o);
        (void)n.sent(n.status(2, 5), msg_type::prepare);
        (void)n.sent(n.status(3, 5), msg_type::prepare);
        CHECK_FALSE(n.eng->holding());
        CHECK(n.eng->syncing());
        const block b = n.make_block(0, 1000, {n.net.vote(1)});
        CHECK(n.sent(n.proposal(b, 0), msg_type::prepare) == 0);
    }
    SECTION("nobody answers: the hold ends after startup_hold_ms (a whole network starting together)") {
        ss_node n(4, 0, o);
        *n.now += 4999;
        CHECK(n.eng->holding());
        *n.now += 1;
        CHECK_FALSE(n.eng->holding());
        const block b = n.make_block(0, 1000, {n.net.vote(1)});
        CHECK(n.sent(n.proposal(b, 0), msg_type::prepare) == 1);
    }
    SECTION("off by default") {
        ss_node n(4, 0);
        CHECK_FALSE(n.eng->holding());
    }
}
