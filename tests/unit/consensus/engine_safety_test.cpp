// Consensus engine safety: the signed-state record across restarts,
// equivocation, justified re-proposals and the f+1 round-change rule.
#include "harness.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using consensus::errc;
using consensus::msg_type;

namespace {

std::vector<consensus::envelope> all_sent(const std::vector<consensus::effects>& fxs, msg_type t) {
    std::vector<consensus::envelope> out;
    for (const auto& fx : fxs)
        for (auto& e : sent_of_type(fx, t)) out.push_back(std::move(e));
    return out;
}

}  // namespace

TEST_CASE("restart safety: after PREPARE for A at (h, r) a re-created validator does not PREPARE B at (h, r)",
          "[consensus][engine][restart]") {
    single s(4, 0);  // validator 0; height 1 round 0 is proposed by validator 1
    REQUIRE(s.proposer(0) != 0);
    const block a = s.make_block(0, 10), b = s.make_block(0, 20);
    const hash32 ha = block_hash<S>(a.header), hb = block_hash<S>(b.header);
    REQUIRE(ha != hb);

    consensus::effects fx;
    REQUIRE_FALSE(s.deliver(s.proposal(a, 0), fx));
    const auto prepares = sent_of_type(fx, msg_type::prepare);
    REQUIRE(prepares.size() == 1);
    CHECK(prepares[0].height == 1);
    CHECK(prepares[0].round == 0);
    CHECK(prepares[0].sender == 0);
    CHECK(consensus::decode_prepare(prepares[0].body).value() == ha);
    const consensus::signed_vote signed_a{0, ha};
    CHECK(s.eng->record().prepare == signed_a);
    REQUIRE(s.stored_record());
    CHECK(s.stored_record()->prepare == signed_a);  // durable before the PREPARE left

    s.restart();  // the engine object is gone; only the storage remains
    CHECK(s.eng->height() == 1);
    CHECK(s.eng->round() == 0);
    CHECK(s.eng->record().height == 1);
    CHECK(s.eng->record().prepare == signed_a);  // the record survives

    std::vector<consensus::effects> fxs(5);
    (void)s.deliver(s.proposal(b, 0), fxs[0]);  // a valid proposal, but for another block at (1, 0)
    for (std::uint32_t v : {1u, 2u, 3u}) (void)s.deliver(s.prepare(v, 0, hb), fxs[v]);
    CHECK(all_sent(fxs, msg_type::prepare).empty());
    CHECK(s.eng->record().prepare == signed_a);
    CHECK(s.stored_record()->prepare == signed_a);

    // a later round is another matter: PREPARE for B in round 1 is allowed (record rule "later round ok")
    CHECK(s.eng->record().may_sign(false, 1, hb));
}

TEST_CASE("restart safety: after COMMIT for A at (h, r) a re-created validator does not COMMIT B at (h, r)",
          "[consensus][engine][restart]") {
    single s(4, 0);
    const block a = s.make_block(0, 10), b = s.make_block(0, 20);
    const hash32 ha = block_hash<S>(a.header), hb = block_hash<S>(b.header);

    std::vector<consensus::effects> before(3);
    REQUIRE_FALSE(s.deliver(s.proposal(a, 0), before[0]));
    REQUIRE_FALSE(s.deliver(s.prepare(1, 0, ha), before[1]));
    REQUIRE_FALSE(s.deliver(s.prepare(2, 0, ha), before[2]));  // own + 1 + 2 = q = 3: prepared
    const auto commits = all_sent(before, msg_type::commit);
    REQUIRE(commits.size() == 1);
    const auto cb = consensus::decode_commit(commits[0].body).value();
    CHECK(cb.block_hash == ha);
    CHECK(S::verify(s.net.validators[0].public_key(), seal_message(s.net.genesis.chain_id, 1, 0, ha), cb.seal));
    const consensus::signed_vote signed_a{0, ha};
    CHECK(s.eng->record().commit == signed_a);
    REQUIRE(s.eng->record().prepared);
    CHECK(s.eng->record().prepared->block_hash == ha);
    CHECK(s.stored_record()->commit == signed_a);
    CHECK(s.eng->chain().height() == 0);  // one COMMIT (its own) is not final

    s.restart();
    CHECK(s.eng->record().commit == signed_a);
    CHECK(s.eng->record().prepare == signed_a);
    REQUIRE(s.eng->record().prepared);
    CHECK(s.eng->record().prepared->block_hash == ha);
    CHECK(s.eng->record().prepared->prepares.size() == 3);

    // B at (1, 0) with a full prepared certificate from the others: still no COMMIT (nor PREPARE) for B
    std::vector<consensus::effects> after(4);
    (void)s.deliver(s.proposal(b, 0), after[0]);
    for (std::uint32_t v : {1u, 2u, 3u}) (void)s.deliver(s.prepare(v, 0, hb), after[v]);
    CHECK(all_sent(after, msg_type::commit).empty());
    CHECK(all_sent(after, msg_type::prepare).empty());
    CHECK(s.eng->record().commit == signed_a);
    CHECK(s.stored_record()->commit == signed_a);
    CHECK(s.eng->chain().height() == 0);
}

TEST_CASE("restart: the same block A may be signed again at (h, r) after a restart (idempotent)",
          "[consensus][engine][restart]") {
    single s(4, 0);
    const block a = s.make_block(0, 10);
    const hash32 ha = block_hash<S>(a.header);
    REQUIRE_FALSE(s.deliver(s.proposal(a, 0)));
    s.restart();
    consensus::effects fx;
    REQUIRE_FALSE(s.deliver(s.proposal(a, 0), fx));
    const auto again = sent_of_type(fx, msg_type::prepare);
    REQUIRE(again.size() == 1);
    CHECK(consensus::decode_prepare(again[0].body).value() == ha);
}

TEST_CASE("equivocation: a second, differently signed valid proposal for (h, r) is refused and reported",
          "[consensus][engine][equivocation]") {
    single s(4, 0);
    const auto proposer = s.proposer(0);
    const block a = s.make_block(0, 10), b = s.make_block(0, 20);
    const bytes pa = s.proposal(a, 0), pb = s.proposal(b, 0);
    REQUIRE(consensus::decode_envelope(pa).value().sig != consensus::decode_envelope(pb).value().sig);

    consensus::effects fx1;
    REQUIRE_FALSE(s.deliver(pa, fx1));
    CHECK(fx1.equivocations.empty());
    consensus::effects fx2;
    CHECK(s.deliver(pb, fx2) == make_error(errc::equivocation));
    REQUIRE(fx2.equivocations.size() == 1);
    CHECK(fx2.equivocations[0].validator == proposer);
    CHECK(fx2.equivocations[0].height == 1);
    CHECK(fx2.equivocations[0].round == 0);
    CHECK(fx2.equivocations[0].type == msg_type::proposal);
    CHECK(sent_of_type(fx2, msg_type::prepare).empty());
    CHECK(s.eng->record().prepare == consensus::signed_vote{0, block_hash<S>(a.header)});
    CHECK(s.eng->stats().equivocations == 1);
    // the same proposal again is a duplicate, not an equivocation
    consensus::effects fx3;
    CHECK_FALSE(s.deliver(pa, fx3));
    CHECK(fx3.equivocations.empty());
    CHECK(s.eng->stats().equivocations == 1);
}

TEST_CASE("equivocation: two different PREPAREs (or COMMITs) from one validator for one round are refused and "
          "reported",
          "[consensus][engine][equivocation]") {
    single s(4, 0);
    const hash32 ha = block_hash<S>(s.make_block(0, 10).header), hb = block_hash<S>(s.make_block(0, 20).header);
    consensus::effects fx1;
    REQUIRE_FALSE(s.deliver(s.prepare(2, 0, ha), fx1));
    CHECK(fx1.equivocations.empty());
    REQUIRE_FALSE(s.deliver(s.prepare(2, 0, ha), fx1));  // duplicate: fine
    CHECK(fx1.equivocations.empty());
    REQUIRE_FALSE(s.deliver(s.prepare(2, 1, hb), fx1));  // another round: fine
    CHECK(fx1.equivocations.empty());
    consensus::effects fx2;
    CHECK(s.deliver(s.prepare(2, 0, hb), fx2) == make_error(errc::equivocation));
    REQUIRE(fx2.equivocations.size() == 1);
    CHECK(fx2.equivocations[0].validator == 2);
    CHECK(fx2.equivocations[0].height == 1);
    CHECK(fx2.equivocations[0].round == 0);
    CHECK(fx2.equivocations[0].type == msg_type::prepare);

    consensus::effects fx3;
    REQUIRE_FALSE(s.deliver(s.commit(3, 0, ha), fx3));
    CHECK(fx3.equivocations.empty());
    consensus::effects fx4;
    CHECK(s.deliver(s.commit(3, 0, hb), fx4) == make_error(errc::equivocation));
    REQUIRE(fx4.equivocations.size() == 1);
    CHECK(fx4.equivocations[0].validator == 3);
    CHECK(fx4.equivocations[0].type == msg_type::commit);
    CHECK(s.eng->stats().equivocations == 2);
}

TEST_CASE("a round > 0 proposal must re-propose the highest prepared block of its justification",
          "[consensus][engine][justification]") {
    single s(4, 0);
    const block a = s.make_block(0, 10);  // prepared in round 0 by validators 1, 2, 3
    const hash32 ha = block_hash<S>(a.header);
    const auto pc = prepared_cert(s.net, 1, 0, ha, {1, 2, 3});
    const std::vector<consensus::signed_round_change> just{signed_rc(s.net, 1, 1, 1, pc), signed_rc(s.net, 2, 1, 1),
                                                           signed_rc(s.net, 3, 1, 1)};
    const block fresh = s.make_block(1, 30);  // a new round-1 block B
    REQUIRE(block_hash<S>(fresh.header) != ha);

    consensus::effects fx;
    CHECK(s.deliver(s.proposal(fresh, 1, just), fx) == make_error(errc::bad_justification));
    CHECK(sent_of_type(fx, msg_type::prepare).empty());
    CHECK(s.eng->round() == 0);

    consensus::effects fx2;
    REQUIRE_FALSE(s.deliver(s.proposal(a, 1, just), fx2));
    CHECK(s.eng->round() == 1);
    const auto prep = sent_of_type(fx2, msg_type::prepare);
    REQUIRE(prep.size() == 1);
    CHECK(prep[0].round == 1);
    CHECK(consensus::decode_prepare(prep[0].body).value() == ha);
}

TEST_CASE("f+1 rule (n = 4, f = 1): ROUND-CHANGE for round 3 from 2 distinct validators moves a validator at round 0 "
          "to round 3; one alone does not",
          "[consensus][engine][round-change]") {
    single s(4, 1);  // validator 1: not the proposer of (1, 3)
    REQUIRE(s.proposer(3) != 1);
    consensus::effects fx1;
    REQUIRE_FALSE(s.deliver(s.round_change(2, 3), fx1));
    CHECK(s.eng->round() == 0);
    CHECK(sent_of_type(fx1, msg_type::round_change).empty());
    // the same validator again, even for another higher round, is still one validator
    REQUIRE_FALSE(s.deliver(s.round_change(2, 4), fx1));
    CHECK(s.eng->round() == 0);
    CHECK(sent_of_type(fx1, msg_type::round_change).empty());
    CHECK_FALSE(s.eng->record().round_change);

    consensus::effects fx2;
    REQUIRE_FALSE(s.deliver(s.round_change(3, 3), fx2));
    CHECK(s.eng->round() == 3);
    const auto mine = sent_of_type(fx2, msg_type::round_change);
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].sender == 1);
    CHECK(mine[0].height == 1);
    CHECK(mine[0].round == 3);
    CHECK(s.eng->record().round_change == 3u);
    CHECK(s.stored_record()->round_change == 3u);  // recorded before it was sent
    CHECK(s.eng->stats().round_changes == 1);
    CHECK(sent_of_type(fx2, msg_type::proposal).empty());  // not its round to propose
    bool timer = false;
    for (const auto& t : fx2.timers) timer = timer || (t.kind == consensus::timer_kind::round && t.round == 3);
    CHECK(timer);
}

TEST_CASE("f+1 rule: the proposer of the round it jumps to proposes once q round changes are in",
          "[consensus][engine][round-change]") {
    single s(4, 0);
    REQUIRE(s.proposer(3) == 0);
    consensus::effects fx;
    REQUIRE_FALSE(s.deliver(s.round_change(2, 3), fx));
    REQUIRE_FALSE(s.deliver(s.round_change(3, 3), fx));
    CHECK(s.eng->round() == 3);
    const auto props = sent_of_type(fx, msg_type::proposal);
    REQUIRE(props.size() == 1);  // own + 2 + 3 = q round changes for round 3
    CHECK(props[0].round == 3);
    const auto p = consensus::decode_proposal(props[0].body).value();
    CHECK(p.justification.size() >= s.net.genesis.quorum());
    CHECK(p.blk.header.round == 3);
    CHECK(p.blk.header.proposer == 0);
}

TEST_CASE("a validator restarted in a later round keeps its round timer running", "[consensus][engine][restart]") {
    single s(4, 1);
    REQUIRE_FALSE(s.deliver(s.round_change(2, 3)));
    REQUIRE_FALSE(s.deliver(s.round_change(3, 3)));
    REQUIRE(s.eng->round() == 3);
    s.restart();
    CHECK(s.eng->round() == 3);
    consensus::effects st;
    s.eng->start(st);
    bool armed = false;
    for (const auto& t : st.timers) armed = armed || (t.kind == consensus::timer_kind::round && t.round == 3);
    CHECK(armed);
}

TEST_CASE("a prepared (locked) block survives a restart: the next ROUND-CHANGE carries its certificate and the block",
          "[consensus][engine][restart]") {
    single s(4, 0);
    const block a = s.make_block(0, 10, {s.net.vote(1)});
    const hash32 ha = block_hash<S>(a.header);
    REQUIRE_FALSE(s.deliver(s.proposal(a, 0)));
    REQUIRE_FALSE(s.deliver(s.prepare(1, 0, ha)));
    REQUIRE_FALSE(s.deliver(s.prepare(3, 0, ha)));
    REQUIRE(s.eng->record().commit == consensus::signed_vote{0, ha});
    s.restart();
    consensus::effects fx;
    s.eng->on_timer({consensus::timer_kind::round, 1, 0, *s.now}, fx);  // round 0 times out
    CHECK(s.eng->round() == 1);
    const auto rcs = sent_of_type(fx, msg_type::round_change);
    REQUIRE(rcs.size() == 1);
    CHECK(rcs[0].round == 1);
    const auto body = consensus::decode_round_change(rcs[0].body).value();
    REQUIRE(body.prepared);
    CHECK(body.prepared->round == 0);
    CHECK(body.prepared->block_hash == ha);
    CHECK(body.prepared->prepares.size() >= s.net.genesis.quorum());
    CHECK(rcs[0].attachment == encode(a));  // the block itself came back from storage
    CHECK(s.stored_record()->round_change == 1u);
}

TEST_CASE("locking (n = 4): a block prepared in round 0 whose COMMITs are lost is re-proposed and finalized in "
          "round 1",
          "[consensus][engine][round-change]") {
    cluster cl(4);
    // every COMMIT of round 0 is lost: everyone prepares A, nobody can finalize it in round 0
    cl.hold = [](const cluster::pending_msg& m) {
        const auto e = consensus::decode_envelope(m.data).value();
        return e.type == msg_type::commit && e.round == 0;
    };
    const auto th = cl.submit(0, cl.net.vote(1));
    REQUIRE(th);
    REQUIRE(cl.run_until([&] { return cl.e(0).record().commit.has_value(); }, 10'000));
    const hash32 ha = cl.e(0).record().commit->block_hash;
    for (int i = 0; i < 4; ++i) {
        REQUIRE(cl.e(i).record().prepared);
        CHECK(cl.e(i).record().prepared->block_hash == ha);
    }
    // a new tx meanwhile: a fresh round-1 block would take it, a locked re-proposal must not
    REQUIRE(cl.submit(1, cl.net.vote(2)));
    REQUIRE(cl.run_until([&] { return cl.all_at(1); }, 60'000));
    for (int i = 0; i < 4; ++i) {
        const auto fb = cl.e(i).chain().block_at(1).value();
        CHECK(block_hash<S>(fb.blk.header) == ha);  // the same block A, not a new one
        CHECK(fb.cert.round >= 1);
        CHECK(fb.blk.header.round == 0);
        CHECK(fb.blk.header.proposer == cl.net.genesis.proposer_index(1, 0));
        REQUIRE(fb.blk.txs.size() == 1);
        CHECK(tx_hash<S>(fb.blk.txs[0]) == *th);
    }
    // the round-1 proposal came from round 1's proposer and carried A
    bool reproposed = false;
    for (const auto& m : cl.sent)
        if (m.env.type == msg_type::proposal && m.env.round == 1) {
            CHECK(m.from == static_cast<int>(cl.net.genesis.proposer_index(1, 1)));
            const auto p = consensus::decode_proposal(m.env.body).value();
            CHECK(block_hash<S>(p.blk.header) == ha);
            reproposed = true;
        }
    CHECK(reproposed);
    // and the second tx follows in block 2
    CHECK(cl.run_until([&] { return cl.all_at(2); }, 60'000));
}

TEST_CASE("equivocation: a second, different ROUND-CHANGE from one validator for one round is refused and "
          "reported; an identical copy is not",
          "[consensus][engine][equivocation][round-change]") {
    single s(4, 0);
    const block a = s.make_block(0, 10);
    const auto pc = prepared_cert(s.net, 1, 0, block_hash<S>(a.header), {1, 2, 3});
    consensus::effects fx1;
    REQUIRE_FALSE(s.deliver(s.round_change(2, 1), fx1));
    consensus::effects fx2;
    CHECK_FALSE(s.deliver(s.round_change(2, 1), fx2));  // a retransmission
    CHECK(fx2.equivocations.empty());
    consensus::effects fx3;
    CHECK(s.deliver(s.round_change(2, 1, pc, encode(a)), fx3) == make_error(errc::equivocation));
    REQUIRE(fx3.equivocations.size() == 1);
    CHECK(fx3.equivocations[0].validator == 2);
    CHECK(fx3.equivocations[0].round == 1);
    CHECK(fx3.equivocations[0].type == msg_type::round_change);
    CHECK(s.eng->stats().equivocations == 1);
}

TEST_CASE("restart in round 0 after a PREPARE, with an empty pool: the round timer is armed so a stalled block "
          "leads to a round change",
          "[consensus][engine][restart]") {
    single s(4, 0);
    const block a = s.make_block(0, 10);
    consensus::effects fx;
    REQUIRE_FALSE(s.deliver(s.proposal(a, 0), fx));
    REQUIRE(sent_of_type(fx, msg_type::prepare).size() == 1);
    s.restart();  // the pool is gone; the record says it PREPAREd at (1, 0)
    REQUIRE(s.eng->pool().empty());
    consensus::effects fs;
    s.eng->start(fs);
    const consensus::timer_request* round_timer = nullptr;
    for (const auto& t : fs.timers)
        if (t.kind == consensus::timer_kind::round) round_timer = &t;
    REQUIRE(round_timer);
    CHECK(round_timer->height == 1);
    CHECK(round_timer->round == 0);
    *s.now = round_timer->at_ms;
    consensus::effects ft;
    s.eng->on_timer(*round_timer, ft);
    CHECK(s.eng->round() == 1);
    const auto rc = sent_of_type(ft, msg_type::round_change);
    REQUIRE(rc.size() == 1);
    CHECK(rc[0].round == 1);
}
