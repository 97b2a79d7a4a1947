// Every reason the consensus engine refuses a message, each next to an
// accepted control, and none of them changing the stored chain or record.
#include "harness.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using consensus::errc;
using consensus::msg_type;

namespace {

/// What must not change when a message is refused.
struct snapshot {
    std::uint64_t chain_height;
    hash32 head;
    std::optional<bytes> stored_record;
    std::optional<std::uint64_t> store_head;
    std::uint64_t height;
    std::uint32_t round;

    explicit snapshot(const single& s)
        : chain_height(s.eng->chain().height()), head(s.eng->chain().head_hash()),
          stored_record(s.store->get_meta(consensus::record_key)), store_head(s.store->head()),
          height(s.eng->height()), round(s.eng->round()) {}
    bool operator==(const snapshot&) const = default;
};

/// Delivers `m`, expects refusal with `want`, no PREPARE/COMMIT/ROUND-CHANGE out, nothing final, no state change.
void expect_refused(single& s, const bytes& m, errc want) {
    const snapshot before(s);
    const auto rejected = s.eng->stats().rejected;
    consensus::effects fx;
    CHECK(s.deliver(m, fx) == make_error(want));
    CHECK(fx.finalized.empty());
    CHECK(sent_of_type(fx, msg_type::prepare).empty());
    CHECK(sent_of_type(fx, msg_type::commit).empty());
    CHECK(sent_of_type(fx, msg_type::round_change).empty());
    CHECK(snapshot(s) == before);
    CHECK(s.eng->stats().rejected == rejected + 1);
}

/// Accepted and answered with a PREPARE for `bh`.
void expect_prepared(single& s, const bytes& m, const hash32& bh, std::uint32_t round) {
    consensus::effects fx;
    REQUIRE_FALSE(s.deliver(m, fx));
    const auto p = sent_of_type(fx, msg_type::prepare);
    REQUIRE(p.size() == 1);
    CHECK(p[0].round == round);
    CHECK(consensus::decode_prepare(p[0].body).value() == bh);
}

consensus::envelope env_of(const bytes& m) { return consensus::decode_envelope(m).value(); }

}  // namespace

TEST_CASE("refused: garbage bytes and undecodable bodies are malformed", "[consensus][engine][reject]") {
    single s(4, 0);
    expect_refused(s, bytes{}, errc::malformed);
    expect_refused(s, bytes{1, 2, 3}, errc::malformed);
    expect_refused(s, bytes(300, 0xab), errc::malformed);
    const bytes good = s.proposal(s.make_block(0, 10), 0);
    expect_refused(s, bytes(good.begin(), good.end() - 1), errc::malformed);  // truncated envelope
    // a well-signed envelope whose body is not a body of its type
    for (auto t : {msg_type::proposal, msg_type::prepare, msg_type::commit, msg_type::round_change, msg_type::status,
                   msg_type::get_blocks, msg_type::blocks, msg_type::txs}) {
        INFO(consensus::to_string(t));
        expect_refused(s, signed_msg(s.net, 1, t, 1, t == msg_type::round_change ? 1 : 0, bytes{0xff, 0xff, 0xff}),
                       errc::malformed);
    }
    expect_prepared(s, good, block_hash<S>(s.make_block(0, 10).header), 0);  // control
}

TEST_CASE("refused: bad signature, unknown sender, wrong chain id", "[consensus][engine][reject]") {
    single s(4, 0);
    const block a = s.make_block(0, 10);
    const bytes good = s.proposal(a, 0);

    bytes bad_sig = good;
    bad_sig[consensus::signing_bytes(env_of(good)).size() + 5] ^= 0x01;  // a byte of the signature
    expect_refused(s, bad_sig, errc::bad_signature);
    auto e = env_of(good);
    e.body.back() ^= 0x01;  // a body byte changed after signing
    expect_refused(s, consensus::encode(e), errc::bad_signature);
    e = env_of(good);
    e.sender = 2;  // claims another validator, keeps validator 1's signature
    expect_refused(s, consensus::encode(e), errc::bad_signature);
    e = env_of(good);
    e.sig = consensus::decode_envelope(s.prepare(1, 0, block_hash<S>(a.header))).value().sig;  // another message's
    expect_refused(s, consensus::encode(e), errc::bad_signature);

    for (std::uint32_t sender : {4u, 5u, 255u, 0xffffffffu}) {
        e = env_of(good);
        e.sender = sender;  // not a genesis validator index
        consensus::sign_envelope<S>(e, s.net.validators[1]);
        expect_refused(s, consensus::encode(e), errc::unknown_sender);
    }
    for (std::uint64_t chain : {std::uint64_t{0}, std::uint64_t{1338}, s.net.genesis.chain_id ^ (std::uint64_t{1} << 63)}) {
        e = env_of(good);
        e.chain_id = chain;
        consensus::sign_envelope<S>(e, s.net.validators[1]);  // correctly signed, for another chain
        expect_refused(s, consensus::encode(e), errc::wrong_chain);
    }
    expect_prepared(s, good, block_hash<S>(a.header), 0);  // control: the untouched message is fine
}

TEST_CASE("refused: a proposal from a validator that is not the scheduled proposer", "[consensus][engine][reject]") {
    single s(4, 0);
    const block a = s.make_block(0, 10);
    for (std::uint32_t v = 0; v < 4; ++v) {
        if (v == s.proposer(0) || v == s.self) continue;  // (its own messages are echoes, ignored)
        INFO("from " << v);
        expect_refused(s, s.proposal(a, 0, {}, v), errc::not_proposer);
    }
    // round 1 is proposed by proposer(1): the round-0 proposer is not it
    expect_refused(s, s.proposal(s.make_block(1, 10), 1, {}, s.proposer(0)), errc::not_proposer);
    expect_prepared(s, s.proposal(a, 0), block_hash<S>(a.header), 0);
}

TEST_CASE("refused: a round > 0 proposal without q valid round changes is badly justified",
          "[consensus][engine][reject]") {
    single s(4, 0);  // q = 3
    const auto& net = s.net;
    const block b1 = s.make_block(1, 10);  // fresh round-1 block by proposer(1)
    const hash32 h1 = block_hash<S>(b1.header);
    auto rc = [&](std::uint32_t v, std::uint32_t r = 1) { return signed_rc(net, v, 1, r); };

    expect_refused(s, s.proposal(b1, 1, {}), errc::bad_justification);
    expect_refused(s, s.proposal(b1, 1, {rc(0), rc(2)}), errc::bad_justification);  // q - 1
    expect_refused(s, s.proposal(b1, 1, {rc(0), rc(2), rc(2)}), errc::bad_justification);  // duplicate sender
    auto forged = rc(3);
    forged.sig.data[0] ^= 1;
    expect_refused(s, s.proposal(b1, 1, {rc(0), rc(2), forged}), errc::bad_justification);  // bad signature
    expect_refused(s, s.proposal(b1, 1, {rc(0), rc(2), rc(3, 2)}), errc::bad_justification);  // signed for round 2
    auto stranger = rc(3);
    stranger.sender = 7;
    expect_refused(s, s.proposal(b1, 1, {rc(0), rc(2), stranger}), errc::bad_justification);  // unknown sender
    auto other_height = signed_rc(net, 3, 2, 1);
    expect_refused(s, s.proposal(b1, 1, {rc(0), rc(2), other_height}), errc::bad_justification);
    // a prepared certificate with too few (or forged) PREPAREs makes the round change invalid, even
    // when the proposal re-proposes exactly the block that certificate names
    const block a = s.make_block(0, 10);
    const hash32 ha = block_hash<S>(a.header);
    expect_refused(s, s.proposal(a, 1, {rc(0), rc(2), signed_rc(net, 3, 1, 1, prepared_cert(net, 1, 0, ha, {1, 3}))}),
                   errc::bad_justification);
    auto forged_pc = prepared_cert(net, 1, 0, ha, {1, 2, 3});
    forged_pc.prepares[1].sig = forged_pc.prepares[0].sig;
    expect_refused(s, s.proposal(a, 1, {rc(0), rc(2), signed_rc(net, 3, 1, 1, forged_pc)}), errc::bad_justification);
    auto wrong_round_pc = prepared_cert(net, 1, 0, ha, {1, 2, 3});
    wrong_round_pc.round = 1;  // PREPAREs signed for round 0, claimed for round 1 (not below the proposal's round)
    expect_refused(s, s.proposal(a, 2, {signed_rc(net, 0, 1, 2), signed_rc(net, 1, 1, 2),
                                        signed_rc(net, 3, 1, 2, wrong_round_pc)}),
                   errc::bad_justification);
    // a round-0 proposal carries no justification
    const block a0 = s.make_block(0, 10);
    expect_refused(s, s.proposal(a0, 0, {rc(0, 0), rc(2, 0), rc(3, 0)}), errc::bad_justification);
    CHECK(s.eng->round() == 0);

    // control: q valid round changes without prepared certificates justify a fresh round-1 block
    expect_prepared(s, s.proposal(b1, 1, {rc(0), rc(2), rc(3)}), h1, 1);
    CHECK(s.eng->round() == 1);
}

TEST_CASE("refused: a justification with a prepared certificate for A does not justify proposing B",
          "[consensus][engine][reject]") {
    single s(4, 0);
    const block a = s.make_block(0, 10);
    const hash32 ha = block_hash<S>(a.header);
    const auto pc = prepared_cert(s.net, 1, 0, ha, {0, 2, 3});
    const std::vector<consensus::signed_round_change> just{signed_rc(s.net, 0, 1, 1), signed_rc(s.net, 2, 1, 1, pc),
                                                           signed_rc(s.net, 3, 1, 1)};
    const block b = s.make_block(1, 20);
    expect_refused(s, s.proposal(b, 1, just), errc::bad_justification);
    // B built as a round-0 block (same round as the certificate) is not A either
    block b0 = s.make_block(0, 30);
    b0.header.proposer = s.proposer(1);
    s.net.resign(b0);
    expect_refused(s, s.proposal(b0, 1, just), errc::bad_justification);
    expect_prepared(s, s.proposal(a, 1, just), ha, 1);  // control: A itself
}

TEST_CASE("refused: a proposal whose block is invalid (bad tx signature, bad proposer signature, wrong height)",
          "[consensus][engine][reject]") {
    single s(4, 0);
    auto tx = s.net.vote(1);
    tx.candidate_id ^= 1;  // the submitter's signature no longer matches
    expect_refused(s, s.proposal(s.make_block(0, 10, {tx}), 0), errc::invalid_block);
    block bad_sig = s.make_block(0, 10, {s.net.vote(1)});
    bad_sig.proposer_sig.data[3] ^= 1;
    expect_refused(s, s.proposal(bad_sig, 0), errc::invalid_block);
    block wrong_parent = s.make_block(0, 10, {s.net.vote(1)});
    wrong_parent.header.parent = S::hash(bytes{9});
    s.net.resign(wrong_parent);
    expect_refused(s, s.proposal(wrong_parent, 0), errc::invalid_block);
    block wrong_height = s.make_block(0, 10, {s.net.vote(1)});
    wrong_height.header.height = 2;
    s.net.resign(wrong_height);
    expect_refused(s, s.proposal(wrong_height, 0), errc::invalid_block);
    // a refused invalid proposal does not count as the round's proposal: the valid one is accepted after it
    const block good = s.make_block(0, 10, {s.net.vote(1)});
    expect_prepared(s, s.proposal(good, 0), block_hash<S>(good.header), 0);
}

TEST_CASE("refused: messages too far ahead, a full future buffer, stale heights and rounds",
          "[consensus][engine][reject]") {
    SECTION("too far ahead in height or round") {
        single s(4, 0);
        const auto max_h = s.opts.max_future_heights;
        for (std::uint64_t h : {1 + max_h + 1, std::uint64_t{1'000'000}, ~std::uint64_t{0}})
            expect_refused(s, signed_msg(s.net, 1, msg_type::prepare, h, 0, consensus::encode_prepare({})),
                           errc::too_far_ahead);
        expect_refused(s, s.prepare(1, s.opts.max_future_rounds + 1, {}), errc::too_far_ahead);
        // the edges are accepted (buffered / kept)
        CHECK_FALSE(s.deliver(s.prepare(1, s.opts.max_future_rounds, {})));
        CHECK_FALSE(s.deliver(signed_msg(s.net, 1, msg_type::prepare, 1 + max_h, 0, consensus::encode_prepare({}))));
    }
    SECTION("the future buffer holds max_future_messages") {
        consensus::engine_options o;
        o.max_future_messages = 3;
        single s(4, 0, o);
        for (std::uint32_t r = 0; r < 3; ++r)
            CHECK_FALSE(s.deliver(signed_msg(s.net, 1, msg_type::prepare, 3, r, consensus::encode_prepare({}))));
        for (std::uint32_t v : {1u, 2u, 3u})
            expect_refused(s, signed_msg(s.net, v, msg_type::prepare, 2, 9, consensus::encode_prepare({})),
                           errc::buffer_full);
        // current-height traffic is not buffered, so it still flows
        const block a = s.make_block(0, 10);
        consensus::effects fx;
        CHECK_FALSE(s.deliver(s.proposal(a, 0), fx));
    }
    SECTION("stale: a past height, a round left behind") {
        single s(4, 0);
        expect_refused(s, signed_msg(s.net, 2, msg_type::prepare, 0, 0, consensus::encode_prepare({})), errc::stale);
        expect_refused(s, signed_msg(s.net, 2, msg_type::commit, 0, 0,
                                     consensus::encode(consensus::commit_body{})),
                       errc::stale);
        // move to round 3 (f+1 round changes), then round-0 traffic is stale
        REQUIRE_FALSE(s.deliver(s.round_change(2, 3)));
        REQUIRE_FALSE(s.deliver(s.round_change(3, 3)));
        REQUIRE(s.eng->round() == 3);
        expect_refused(s, s.proposal(s.make_block(0, 10), 0), errc::stale);
        expect_refused(s, s.round_change(2, 2), errc::stale);
    }
}

TEST_CASE("refused: a ROUND-CHANGE carrying an invalid prepared certificate", "[consensus][engine][reject]") {
    single s(4, 0);
    const block a = s.make_block(0, 10);
    const hash32 ha = block_hash<S>(a.header);
    expect_refused(s, s.round_change(2, 1, prepared_cert(s.net, 1, 0, ha, {1, 2})), errc::bad_certificate);  // q - 1
    auto forged = prepared_cert(s.net, 1, 0, ha, {1, 2, 3});
    forged.prepares[2].sig = forged.prepares[1].sig;
    expect_refused(s, s.round_change(2, 1, forged), errc::bad_certificate);
    // a certificate must be from a round below the round change's
    expect_refused(s, s.round_change(2, 1, prepared_cert(s.net, 1, 1, ha, {1, 2, 3})), errc::bad_certificate);
    expect_refused(s, s.round_change(2, 0), errc::malformed);  // there is no round change to round 0
    // control: a genuine certificate (with the block attached) is accepted
    CHECK_FALSE(s.deliver(s.round_change(2, 1, prepared_cert(s.net, 1, 0, ha, {1, 2, 3}), encode(a))));
}
