// client/answers.hpp and client/follower.hpp: every way a validator's answer can
// fail to decode is refused with a reason; the light follower applies only the
// next verified block, and its saved position loads back only for its chain.
#include "chain_validators.hpp"
#include "../support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using namespace ballotchain::test;
using namespace ballotchain::client;
namespace bj = boost::json;

namespace {

/// An honest poa_getTransactionProof answer for the first vote of block 1.
bj::value honest_proof(chain_world& w) {
    auto tx = w.net.vote(1);
    w.finalize({tx, w.net.vote(2)});
    bj::object req{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "poa_getTransactionProof"},
                   {"params", bj::array{to_hex(tx_hash<ed25519_sha256>(tx))}}};
    return bj::parse(rpc::handle_jsonrpc(bj::serialize(req), w.table)).as_object().at("result");
}

std::string decode_error_of(bj::value v) {
    auto r = decode_tx_proof(v);
    return r ? std::string() : r.error();
}

}  // namespace

TEST_CASE("a transaction proof decodes only with every member well formed", "[client][decode]") {
    chain_world w;
    const bj::value good = honest_proof(w);
    REQUIRE(decode_tx_proof(good));
    auto without = [&](const char* k) {
        bj::value v = good;
        v.as_object().erase(k);
        return decode_error_of(v);
    };
    auto with = [&](const char* k, bj::value x) {
        bj::value v = good;
        v.as_object()[k] = std::move(x);
        return decode_error_of(v);
    };
    CHECK_THAT(without("tx_hash"), Catch::Contains("tx_hash"));
    CHECK_THAT(without("block_number"), Catch::Contains("block_number"));
    CHECK_THAT(without("block_hash"), Catch::Contains("block_hash"));
    CHECK_THAT(without("index"), Catch::Contains("index"));
    CHECK_THAT(without("header"), Catch::Contains("header"));
    CHECK_THAT(without("certificate"), Catch::Contains("certificate"));
    CHECK_THAT(without("proof"), Catch::Contains("proof"));
    CHECK_THAT(with("tx_hash", "0x1234"), Catch::Contains("tx_hash"));
    CHECK_THAT(with("block_hash", 7), Catch::Contains("block_hash"));
    CHECK_THAT(with("index", -1), Catch::Contains("index"));
    CHECK_THAT(with("index", 1ull << 33), Catch::Contains("index"));
    CHECK_THAT(with("header", "0x00"), Catch::Contains("header"));
    CHECK_THAT(with("header", bj::string("0x" + std::string(2 * 200, '0'))), Catch::Contains("header"));  // longer than a header
    CHECK_THAT(with("header", "nothex"), Catch::Contains("header"));
    CHECK_THAT(with("certificate", bj::object{{"height", 1}}), Catch::Contains("certificate"));
    CHECK_THAT(with("proof", "0x"), Catch::Contains("proof"));
    CHECK_THAT(with("proof", bj::array(65, bj::value(bj::string("0x" + std::string(64, '0'))))), Catch::Contains("longer than 64"));
    CHECK_THAT(with("proof", bj::array{1}), Catch::Contains("proof step"));
    CHECK_THAT(decode_error_of(bj::array{}), Catch::Contains("not an object"));
}

TEST_CASE("status, chain state, reports, tallies and waits decode strictly", "[client][decode]") {
    using bj::object;
    const std::string h = "0x" + std::string(64, 'a');
    CHECK(decode_tx_status(object{{"status", "pending"}}));
    CHECK_FALSE(decode_tx_status(object{{"status", "maybe"}}));
    CHECK_FALSE(decode_tx_status(object{{"status", 1}}));
    CHECK_FALSE(decode_tx_status(object{{"status", "final"}}));  // without block
    CHECK(decode_tx_status(object{{"status", "final"}, {"block_number", 3}, {"block_hash", h}}));
    CHECK_FALSE(decode_tx_status(object{{"status", "dropped"}}));  // without the winner
    CHECK(decode_tx_status(object{{"status", "dropped"}, {"conflicting_tx", h}}));

    CHECK(decode_chain_state(object{{"height", 2}, {"head_hash", h}, {"chain_id", 1337}}));
    CHECK_FALSE(decode_chain_state(object{{"height", 2}, {"chain_id", 1337}}));
    CHECK_FALSE(decode_chain_state(object{{"height", "two"}, {"head_hash", h}, {"chain_id", 1337}}));

    CHECK(decode_integrity(object{{"ok", true}, {"complete", true}, {"head", 3}, {"verified_height", 3}, {"verified_hash", h}}));
    CHECK_FALSE(decode_integrity(object{{"ok", true}, {"complete", true}}));
    CHECK_FALSE(decode_integrity(object{{"ok", true}, {"complete", true}, {"head", 3}, {"verified_height", 3}}));

    auto t = decode_tally(object{{"election_id", 1}, {"results", object{{"0", 2}, {"5", 1}}}, {"total_votes", 3}, {"height", 9}});
    REQUIRE(t);
    CHECK(t->results == tally_map{{0, 2}, {5, 1}});
    CHECK_THAT(decode_tally(object{{"election_id", 1}, {"results", object{{"0", 2}}}, {"total_votes", 3}, {"height", 9}}).error(),
               Catch::Contains("sum"));
    CHECK_FALSE(decode_tally(object{{"election_id", 1}, {"results", object{{"x", 2}}}, {"total_votes", 2}, {"height", 9}}));
    CHECK_FALSE(decode_tally(object{{"election_id", 1}, {"results", object{{"0", -2}}}, {"total_votes", 2}, {"height", 9}}));
    CHECK_FALSE(decode_tally(object{{"election_id", 1}, {"total_votes", 0}, {"height", 9}}));

    CHECK(decode_head_event(object{{"height", 4}, {"head_hash", h}, {"timed_out", false}}));
    CHECK_FALSE(decode_head_event(object{{"height", 4}, {"head_hash", h}}));
    CHECK(decode_tx_hash(bj::value(h)));
    CHECK_FALSE(decode_tx_hash(bj::value("0x12")));
    CHECK_FALSE(decode_tx_hash(bj::value(nullptr)));
}

TEST_CASE("the light verifier accepts honest receipts and blocks only", "[client][verify]") {
    chain_world w;
    light_verifier<ed25519_sha256> v(w.net.genesis);
    auto r = decode_tx_proof(honest_proof(w)).value();
    CHECK_FALSE(v.check_receipt(r, r.tx_hash));
    auto raw = w.node.c.raw_block_at(1).value();
    auto b = v.check_raw_block(to_hex(raw), true);
    REQUIRE(b);
    CHECK(b->hash == w.node.c.hash_at(1));
    CHECK(b->tx_hashes.size() == 2);
    // Block 0 is the genesis's own.
    CHECK(v.check_raw_block(to_hex(w.node.c.raw_block_at(0).value())));
    // Another chain's genesis refuses everything of this one.
    test_network other(3);
    other.genesis.chain_id = 7;
    light_verifier<ed25519_sha256> foreign(other.genesis);
    CHECK(foreign.check_receipt(r, r.tx_hash));
    CHECK_FALSE(foreign.check_raw_block(to_hex(raw)));
    // A block whose proposer signature is not the scheduled proposer's.
    auto fb = w.node.c.block_at(1).value();
    fb.blk.proposer_sig = S::sign(w.net.validators[2], block_hash<S>(fb.blk.header).view());
    CHECK_FALSE(v.check_block(fb));
    // A vote whose signature is bad, seen only when signatures are checked.
    auto fb2 = w.node.c.block_at(1).value();
    fb2.blk.txs[0].auth.sig.data[0] ^= 1;
    CHECK(v.check_block(fb2, false));  // the signature is outside the tx hash: the certificate vouches for it
    CHECK_FALSE(v.check_block(fb2, true));
}

TEST_CASE("the light follower applies the next verified block only and resumes from a saved position", "[client][follower]") {
    chain_world w;
    light_verifier<ed25519_sha256> v(w.net.genesis);
    light_follower<ed25519_sha256> f(v);
    w.finalize_votes(0, 4);
    w.finalize_votes(10, 5);
    auto b1 = v.check_raw_block(to_hex(w.node.c.raw_block_at(1).value())).value();
    auto b2 = v.check_raw_block(to_hex(w.node.c.raw_block_at(2).value())).value();
    CHECK(f.apply(b2));  // a gap
    CHECK_FALSE(f.apply(b1));
    CHECK(f.apply(b1));  // twice
    CHECK_FALSE(f.apply(b2));
    CHECK(f.height() == 2);
    CHECK(f.head_hash() == w.node.c.head_hash());
    CHECK(f.tally(1) == w.node.tally(1));
    CHECK(f.votes() == 9);

    temp_dir dir("follower");
    const auto path = (dir.path() / "f.json").string();
    REQUIRE(f.save(path));
    light_follower<ed25519_sha256> g(v);
    REQUIRE(g.load(path));
    CHECK(g.height() == 2);
    CHECK(g.tallies() == f.tallies());
    // Another chain's follower refuses the file and stays at block 0.
    test_network other(3);
    other.genesis.chain_id = 7;
    light_verifier<ed25519_sha256> ov(other.genesis);
    light_follower<ed25519_sha256> h(ov);
    std::string why;
    CHECK_FALSE(h.load(path, &why));
    CHECK_THAT(why, Catch::Contains("another chain"));
    CHECK(h.height() == 0);
    // Tallies that do not add up are refused.
    auto j = f.to_json();
    j["votes"] = 10;
    CHECK(g.restore(j));
    CHECK(g.height() == 2);
}
