// Consensus message codec and the signed-state record.
#include "harness.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using consensus::msg_type;

TEST_CASE("envelopes round-trip; every truncation and a trailing byte fail", "[consensus]") {
    test_network net(3);
    const bytes enc = signed_msg(net, 1, msg_type::prepare, 7, 2, consensus::encode_prepare(H::hash(bytes{1})));
    auto e = consensus::decode_envelope(enc);
    REQUIRE(e);
    CHECK(consensus::encode(*e) == enc);
    CHECK(e->sender == 1);
    CHECK(e->height == 7);
    CHECK(e->round == 2);
    for (std::size_t n = 0; n < enc.size(); ++n) CHECK_FALSE(consensus::decode_envelope(byte_view(enc.data(), n)));
    bytes longer = enc;
    longer.push_back(0);
    CHECK_FALSE(consensus::decode_envelope(longer));
    bytes bad_type = enc;
    bad_type[9] = 42;
    CHECK_FALSE(consensus::decode_envelope(bad_type));
}

TEST_CASE("the signature covers type, sender, height, round and body; not the attachment", "[consensus]") {
    test_network net(3);
    consensus::envelope e;
    e.chain_id = net.genesis.chain_id;
    e.type = msg_type::round_change;
    e.sender = 2;
    e.height = 4;
    e.round = 1;
    e.body = consensus::encode(consensus::round_change_body{});
    consensus::sign_envelope<H, S>(e, net.validators[2]);
    auto ok = [&](const consensus::envelope& x) {
        return consensus::verify_envelope_sig<H, S>(net.validators[2].public_key(), consensus::signing_bytes(x), x.sig);
    };
    CHECK(ok(e));
    auto x = e;
    x.type = msg_type::prepare;
    CHECK_FALSE(ok(x));
    x = e;
    x.height = 5;
    CHECK_FALSE(ok(x));
    x = e;
    x.round = 2;
    CHECK_FALSE(ok(x));
    x = e;
    x.body.push_back(0);
    CHECK_FALSE(ok(x));
    x = e;
    x.chain_id = 1;
    CHECK_FALSE(ok(x));
    x = e;
    x.attachment = bytes{1, 2, 3};  // checked against the signed prepared hash instead
    CHECK(ok(x));
}

TEST_CASE("bodies round-trip and refuse unordered prepared certificates", "[consensus]") {
    test_network net(4);
    consensus::prepared_certificate pc{3, H::hash(bytes{5}), {{0, {}}, {2, {}}, {3, {}}}};
    consensus::round_change_body rc{pc};
    CHECK(consensus::decode_round_change(consensus::encode(rc)).value() == rc);
    CHECK(consensus::decode_round_change(consensus::encode(consensus::round_change_body{})).value() ==
          consensus::round_change_body{});
    auto bad = rc;
    std::swap(bad.prepared->prepares[0], bad.prepared->prepares[1]);
    CHECK_FALSE(consensus::decode_round_change(consensus::encode(bad)));
    auto c = net.open_chain();
    auto fb = net.next_block(c, {net.vote(1), net.vote(2)});
    consensus::proposal_body p{fb.blk, {consensus::signed_round_change{1, rc, {}}}};
    CHECK(consensus::decode_proposal(consensus::encode(p)).value() == p);
    std::vector<vote_tx> txs{net.vote(3), net.vote(4)};
    CHECK(consensus::decode_txs(consensus::encode_txs(txs)).value() == txs);
    auto blocks = consensus::decode_blocks(consensus::encode_blocks({encode(fb)})).value();
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0] == fb);
    const bytes huge{0xff, 0xff, 0xff, 0xff};
    CHECK_FALSE(consensus::decode_txs(huge));
    CHECK_FALSE(consensus::decode_blocks(huge));
}

TEST_CASE("signed-state record round-trips and forbids a second block per round", "[consensus]") {
    consensus::signed_record r;
    r.height = 9;
    r.round = 2;
    const hash32 a = H::hash(bytes{1}), b = H::hash(bytes{2});
    r.prepare = consensus::signed_vote{2, a};
    r.commit = consensus::signed_vote{1, b};
    r.round_change = 2;
    r.prepared = consensus::prepared_certificate{1, b, {{0, {}}, {1, {}}}};
    CHECK(consensus::decode_signed_record(consensus::encode(r)).value() == r);
    CHECK(r.may_sign(false, 2, a));   // same round, same hash
    CHECK_FALSE(r.may_sign(false, 2, b));  // same round, other hash
    CHECK_FALSE(r.may_sign(false, 1, a));  // an earlier round
    CHECK(r.may_sign(false, 3, b));   // a later round
    CHECK(r.may_sign(true, 1, b));
    CHECK_FALSE(r.may_sign(true, 1, a));
    CHECK(r.may_sign(true, 2, a));
    bytes enc = consensus::encode(r);
    enc[0] = 9;  // unknown version
    CHECK_FALSE(consensus::decode_signed_record(enc));
}
