// The consensus engine with real Ed25519/SHA-256, a manual clock and an in-test network.
#include "harness.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using consensus::errc;
using consensus::msg_type;

namespace {

/// A standalone engine for validator `self` of an n-validator network.
struct solo {
    test_network net;
    std::shared_ptr<memory_storage> store = std::make_shared<memory_storage>();
    std::shared_ptr<std::uint64_t> now = std::make_shared<std::uint64_t>(0);
    std::optional<engine_t> eng;
    std::uint32_t self;
    solo(int n, std::uint32_t self_index) : net(n), self(self_index) { restart(); }
    void restart() {
        eng.reset();
        auto c = blockchain<H, S, mem_shared>::open(net.genesis, mem_shared{store}).value();
        eng.emplace(engine_t::create(std::move(c), net.validators[self], shared_clock{now}).value());
    }
    /// A valid block for height 1 round `r` by its scheduled proposer, with timestamp offset `ts`.
    block block1(std::uint32_t r, std::uint64_t ts, std::vector<vote_tx> txs = {}) const {
        auto c = net.open_chain();
        return c.build_block(r, 1'700'000'000'000ull + ts, std::move(txs), net.validators[net.genesis.proposer_index(1, r)]);
    }
    bytes proposal(const block& b, std::uint32_t r, std::vector<consensus::signed_round_change> just = {}) const {
        return signed_msg(net, net.genesis.proposer_index(1, r), msg_type::proposal, 1, r,
                          consensus::encode(consensus::proposal_body{b, std::move(just)}));
    }
    error_code deliver(const bytes& m, consensus::effects& fx) { return eng->on_message(m, fx); }
};

std::vector<consensus::envelope> of_type(const consensus::effects& fx, msg_type t) {
    std::vector<consensus::envelope> out;
    for (const auto& m : fx.messages)
        if (m.type == t) out.push_back(consensus::decode_envelope(m.data).value());
    return out;
}

}  // namespace

TEST_CASE("n = 1: a submitted vote becomes final alone, certificate of one seal", "[consensus]") {
    cluster cl(1);
    REQUIRE(cl.submit(0, cl.net.vote(1)));
    REQUIRE(cl.run_until([&] { return cl.e(0).chain().height() == 1; }));
    const auto b = cl.e(0).chain().block_at(1).value();
    CHECK(b.blk.txs.size() == 1);
    CHECK(b.blk.header.proposer == 0);
    CHECK(b.cert.seals.size() == 1);
    CHECK(cl.e(0).chain().tally(1) == tally_map{{0, 1}});
    CHECK(*cl.now >= cl.net.genesis.block_interval_ms);  // waited for the interval
}

TEST_CASE("n = 3 and n = 4: gossip, scheduled proposer, identical final blocks with >= q seals", "[consensus]") {
    for (int n : {3, 4}) {
        INFO("n = " << n);
        cluster cl(n);
        for (std::uint64_t v = 0; v < 10; ++v) REQUIRE(cl.submit(static_cast<int>(v % 2), cl.net.vote(v)));
        REQUIRE(cl.run_until([&] {
            for (int i = 0; i < n; ++i)
                if (cl.e(i).chain().total_txs() < 10) return false;
            return true;
        }));
        const auto h = cl.e(0).chain().height();
        for (int i = 1; i < n; ++i) CHECK(cl.e(i).chain().head_hash() == cl.e(0).chain().head_hash());
        for (std::uint64_t k = 1; k <= h; ++k) {
            const auto fb = cl.e(0).chain().block_at(k).value();
            CHECK(fb.blk.header.proposer == cl.net.genesis.proposer_index(k, fb.blk.header.round));
            CHECK(fb.cert.seals.size() >= cl.net.genesis.quorum());
        }
        CHECK(cl.e(0).chain().verify().ok);
    }
}

TEST_CASE("no empty blocks unless genesis enables them", "[consensus]") {
    {
        cluster cl(3, false);
        cl.run_until([] { return false; }, 30'000);
        CHECK(cl.e(0).chain().height() == 0);
    }
    {
        cluster cl(3, true);
        REQUIRE(cl.run_until([&] { return cl.e(2).chain().height() >= 3; }, 30'000));
        CHECK(cl.e(0).chain().block_at(1).value().blk.txs.empty());
    }
}

TEST_CASE("proposer down: round change, the next round's proposer finalizes", "[consensus]") {
    cluster cl(4);
    const int p = static_cast<int>(cl.net.genesis.proposer_index(1, 0));
    cl.stop(p);
    const int other = (p + 1) % 4;
    REQUIRE(cl.submit(other, cl.net.vote(1)));
    REQUIRE(cl.run_until([&] { return cl.e(other).chain().height() == 1; }));
    const auto fb = cl.e(other).chain().block_at(1).value();
    CHECK(fb.cert.round >= 1);
    CHECK(fb.blk.header.proposer != static_cast<std::uint32_t>(p));
    CHECK(cl.e(other).stats().round_changes > 0);
    // the stopped validator comes back and catches up through BLOCKS
    cl.start(p);
    REQUIRE(cl.run_until([&] { return cl.e(p).chain().height() == 1; }));
    CHECK(cl.e(p).chain().head_hash() == cl.e(other).chain().head_hash());
    CHECK(cl.e(p).stats().synced == 1);
}

TEST_CASE("a restarted validator never signs a second block for the same (height, round)", "[consensus]") {
    solo s(4, 0);
    const block a = s.block1(0, 1), b = s.block1(0, 2);
    REQUIRE(block_hash<H>(a.header) != block_hash<H>(b.header));
    consensus::effects fx;
    REQUIRE_FALSE(s.deliver(s.proposal(a, 0), fx));
    auto prepares = of_type(fx, msg_type::prepare);
    REQUIRE(prepares.size() == 1);
    CHECK(consensus::decode_prepare(prepares[0].body).value() == block_hash<H>(a.header));
    REQUIRE(s.eng->record().prepare);
    CHECK(s.eng->record().prepare->block_hash == block_hash<H>(a.header));

    s.restart();  // state comes back from storage only
    CHECK(s.eng->record().prepare->block_hash == block_hash<H>(a.header));
    consensus::effects fx2;
    (void)s.deliver(s.proposal(b, 0), fx2);
    CHECK(of_type(fx2, msg_type::prepare).empty());
    CHECK(s.eng->record().prepare->block_hash == block_hash<H>(a.header));
    // the same block again is fine to prepare (same hash)
    s.restart();
    consensus::effects fx3;
    (void)s.deliver(s.proposal(a, 0), fx3);
    auto again = of_type(fx3, msg_type::prepare);
    REQUIRE(again.size() == 1);
    CHECK(consensus::decode_prepare(again[0].body).value() == block_hash<H>(a.header));
}

TEST_CASE("equivocation is refused and reported", "[consensus]") {
    solo s(4, 0);
    const block a = s.block1(0, 1), b = s.block1(0, 2);
    consensus::effects fx;
    REQUIRE_FALSE(s.deliver(s.proposal(a, 0), fx));
    consensus::effects fx2;
    CHECK(s.deliver(s.proposal(b, 0), fx2) == make_error(errc::equivocation));
    REQUIRE(fx2.equivocations.size() == 1);
    CHECK(fx2.equivocations[0].validator == s.net.genesis.proposer_index(1, 0));
    CHECK(fx2.equivocations[0].type == msg_type::proposal);
    // two different PREPAREs from validator 2 in round 0
    consensus::effects fx3;
    CHECK_FALSE(s.deliver(signed_msg(s.net, 2, msg_type::prepare, 1, 0, consensus::encode_prepare(block_hash<H>(a.header))), fx3));
    CHECK(s.deliver(signed_msg(s.net, 2, msg_type::prepare, 1, 0, consensus::encode_prepare(block_hash<H>(b.header))), fx3) ==
          make_error(errc::equivocation));
    CHECK(s.eng->stats().equivocations == 2);
}

TEST_CASE("bad messages are refused with their reason and change nothing", "[consensus]") {
    solo s(4, 0);
    const block a = s.block1(0, 1);
    consensus::effects fx;
    CHECK(s.deliver(bytes{1, 2, 3}, fx) == make_error(errc::malformed));
    bytes bad_sig = s.proposal(a, 0);
    bad_sig[bad_sig.size() - 10] ^= 1;  // inside the signature (before the 4-byte attachment length)
    CHECK(s.deliver(bad_sig, fx) == make_error(errc::bad_signature));
    {
        consensus::envelope e = consensus::decode_envelope(s.proposal(a, 0)).value();
        e.sender = 9;
        CHECK(s.deliver(consensus::encode(e), fx) == make_error(errc::unknown_sender));
        e = consensus::decode_envelope(s.proposal(a, 0)).value();
        e.chain_id = 1;
        consensus::sign_envelope<H, S>(e, s.net.validators[e.sender]);
        CHECK(s.deliver(consensus::encode(e), fx) == make_error(errc::wrong_chain));
    }
    const auto wrong = (s.net.genesis.proposer_index(1, 0) + 1) % 4;
    CHECK(s.deliver(signed_msg(s.net, wrong, msg_type::proposal, 1, 0, consensus::encode(consensus::proposal_body{a, {}})), fx) ==
          make_error(errc::not_proposer));
    // round 1 proposal without round-change justification
    const block r1 = s.block1(1, 5);
    CHECK(s.deliver(s.proposal(r1, 1), fx) == make_error(errc::bad_justification));
    // a tx with a broken signature in the block
    auto t = s.net.vote(1);
    t.candidate_id = 7;
    CHECK(s.deliver(s.proposal(s.block1(0, 3, {t}), 0), fx) == make_error(errc::invalid_block));
    CHECK(s.deliver(signed_msg(s.net, 1, msg_type::prepare, 500, 0, consensus::encode_prepare({})), fx) ==
          make_error(errc::too_far_ahead));
    CHECK(s.eng->chain().height() == 0);
    CHECK(fx.messages.empty());
}

TEST_CASE("justified round-change proposals: the highest prepared block must be re-proposed", "[consensus]") {
    solo s(4, 0);
    const block a = s.block1(0, 1);  // prepared in round 0
    const hash32 ha = block_hash<H>(a.header);
    consensus::prepared_certificate pc{0, ha, {}};
    for (std::uint32_t v : {1u, 2u, 3u}) {
        const bytes sb = consensus::signing_bytes(s.net.genesis.chain_id, msg_type::prepare, v, 1, 0, consensus::encode_prepare(ha));
        pc.prepares.push_back({v, S::sign(s.net.validators[v], H::hash(sb).view())});
    }
    auto rc = [&](std::uint32_t v, std::optional<consensus::prepared_certificate> p) {
        consensus::round_change_body body{std::move(p)};
        const bytes sb = consensus::signing_bytes(s.net.genesis.chain_id, msg_type::round_change, v, 1, 1, consensus::encode(body));
        return consensus::signed_round_change{v, body, S::sign(s.net.validators[v], H::hash(sb).view())};
    };
    std::vector<consensus::signed_round_change> just{rc(1, pc), rc(2, std::nullopt), rc(3, std::nullopt)};
    consensus::effects fx;
    // a fresh round-1 block when a prepared certificate exists: refused
    CHECK(s.deliver(s.proposal(s.block1(1, 9), 1, just), fx) == make_error(errc::bad_justification));
    // the prepared block itself: accepted and prepared in round 1
    consensus::effects fx2;
    CHECK_FALSE(s.deliver(s.proposal(a, 1, just), fx2));
    CHECK(s.eng->round() == 1);
    auto prep = of_type(fx2, msg_type::prepare);
    REQUIRE(prep.size() == 1);
    CHECK(prep[0].round == 1);
    CHECK(consensus::decode_prepare(prep[0].body).value() == ha);
}

TEST_CASE("f+1 round changes for a higher round make a validator jump there", "[consensus]") {
    solo s(4, 0);  // f = 1
    auto rc_msg = [&](std::uint32_t v) {
        return signed_msg(s.net, v, msg_type::round_change, 1, 3, consensus::encode(consensus::round_change_body{}));
    };
    consensus::effects fx;
    CHECK_FALSE(s.deliver(rc_msg(1), fx));
    CHECK(s.eng->round() == 0);
    CHECK_FALSE(s.deliver(rc_msg(2), fx));
    CHECK(s.eng->round() == 3);
    auto mine = of_type(fx, msg_type::round_change);
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].round == 3);
    CHECK(s.eng->record().round_change == 3u);
}

TEST_CASE("a BLOCKS message with a forged certificate is refused; a genuine one syncs", "[consensus]") {
    solo s(3, 2);
    auto c = s.net.open_chain();
    auto fb = s.net.next_block(c, {s.net.vote(1)});
    auto forged = fb;
    forged.cert.seals.resize(1);  // q = 2
    consensus::effects fx;
    CHECK(s.deliver(signed_msg(s.net, 0, msg_type::blocks, 1, 0, consensus::encode_blocks({encode(forged)})), fx) ==
          make_error(errc::bad_certificate));
    CHECK(s.eng->chain().height() == 0);
    CHECK_FALSE(s.deliver(signed_msg(s.net, 0, msg_type::blocks, 1, 0, consensus::encode_blocks({encode(fb)})), fx));
    CHECK(s.eng->chain().height() == 1);
    REQUIRE(fx.finalized.size() == 1);
    CHECK(fx.finalized[0].via_sync);
}

TEST_CASE("a validator that is behind asks for blocks and does not vote until caught up", "[consensus]") {
    solo s(3, 2);
    consensus::effects fx;
    // a peer says it has height 5
    CHECK_FALSE(s.deliver(signed_msg(s.net, 0, msg_type::status, 5, 0,
                                     consensus::encode(consensus::status_body{5, sha256::hash(bytes{1})})), fx));
    CHECK(s.eng->syncing());
    auto asks = of_type(fx, msg_type::get_blocks);
    REQUIRE(asks.size() == 1);
    CHECK(consensus::decode_get_blocks(asks[0].body).value().from == 1);
    // a valid proposal now gets no PREPARE
    consensus::effects fx2;
    (void)s.deliver(s.proposal(s.block1(0, 1), 0), fx2);
    CHECK(of_type(fx2, msg_type::prepare).empty());
}

TEST_CASE("the future-message buffer is bounded", "[consensus]") {
    test_network net(4);
    auto store = std::make_shared<memory_storage>();
    consensus::engine_options o;
    o.max_future_messages = 3;
    auto c = blockchain<H, S, mem_shared>::open(net.genesis, mem_shared{store}).value();
    auto eng = engine_t::create(std::move(c), net.validators[0], shared_clock{std::make_shared<std::uint64_t>(0)}, o).value();
    consensus::effects fx;
    for (std::uint32_t i = 0; i < 3; ++i)
        CHECK_FALSE(eng.on_message(signed_msg(net, 1, msg_type::prepare, 3, i, consensus::encode_prepare({})), fx));
    CHECK(eng.on_message(signed_msg(net, 1, msg_type::prepare, 3, 9, consensus::encode_prepare({})), fx) ==
          make_error(errc::buffer_full));
    CHECK(eng.on_message(signed_msg(net, 1, msg_type::prepare, 0, 0, consensus::encode_prepare({})), fx) ==
          make_error(errc::stale));
}

TEST_CASE("a validator restarted in a later round keeps its round timer running", "[consensus]") {
    solo s(4, 0);
    consensus::effects fx;
    for (std::uint32_t v : {1u, 2u})
        (void)s.deliver(signed_msg(s.net, v, msg_type::round_change, 1, 3, consensus::encode(consensus::round_change_body{})), fx);
    REQUIRE(s.eng->round() == 3);
    s.restart();
    CHECK(s.eng->round() == 3);
    consensus::effects st;
    s.eng->start(st);
    bool armed = false;
    for (const auto& t : st.timers) armed = armed || (t.kind == consensus::timer_kind::round && t.round == 3);
    CHECK(armed);  // without it an idle restarted validator never times out of round 3
}
