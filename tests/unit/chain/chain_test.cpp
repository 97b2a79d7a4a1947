// blockchain<>: genesis, append with full validation (every rejection reason),
// lookups, tallies, and verify() naming the first tampered block.
#include "../support/fixtures.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using chain::errc;

namespace {
error_code append_err(mem_chain& c, const finalized_block& fb) {
    auto r = c.append(fb);
    return r ? error_code{} : r.error();
}
}  // namespace

TEST_CASE("open writes block 0 derived from genesis; reopening with another genesis is refused", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    CHECK(c.height() == 0);
    CHECK(c.head().parent == genesis_hash<H>(net.genesis));
    CHECK(c.head_hash() == make_genesis_block<H>(net.genesis).cert.block_hash);
    auto other = net.genesis;
    other.chain_id = 7;
    memory_storage st;
    auto g0 = make_genesis_block<H>(net.genesis);
    REQUIRE(st.append(g0, g0.cert.block_hash, {}));
    CHECK(mem_chain::open(other, std::move(st)).error() == make_error(errc::genesis_mismatch));
    auto bad = net.genesis;
    bad.validators.clear();
    CHECK(mem_chain::open(bad, memory_storage{}).error() == make_error(errc::bad_genesis));
}

TEST_CASE("valid blocks append; lookups by height, hash, tx and vote; tallies", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    const auto v1 = net.vote(1, 1, 0), v2 = net.vote(2, 1, 2), v3 = net.vote(3, 2, 1), v4 = net.vote(4, 1, 2);
    auto b1 = net.next_block(c, {v1, v2});
    REQUIRE(c.append(b1));
    auto b2 = net.next_block(c, {v3, v4}, 1);
    REQUIRE(c.append(b2));
    CHECK(c.height() == 2);
    CHECK(c.total_txs() == 4);
    CHECK(c.block_at(1).value() == b1);
    CHECK(c.height_of(block_hash<H>(b2.blk.header)) == 2u);
    CHECK(c.hash_at(2) == block_hash<H>(b2.blk.header));
    CHECK(c.find_tx(tx_hash<H>(v4)) == tx_location{2, 1});
    CHECK(c.find_vote(2, v3.voter_tag) == tx_location{2, 0});
    CHECK_FALSE(c.find_vote(1, v3.voter_tag));
    CHECK(c.tally(1) == tally_map{{0, 1}, {2, 2}});
    CHECK(c.tally(2) == tally_map{{1, 1}});
    CHECK(c.tally(9).empty());
    CHECK(c.elections() == std::vector<std::uint64_t>{1, 2});
    auto rep = c.verify();
    CHECK(rep.ok);
    CHECK(rep.blocks_checked == 3);
    CHECK(rep.txs_checked == 4);
}

TEST_CASE("check_tx names every reason a vote is refused", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    const auto ok = net.vote(1);
    CHECK(c.check_tx(ok).value() == tx_hash<H>(ok));
    auto t = ok;
    t.chain_id = 1;
    CHECK(c.check_tx(t).error() == make_error(errc::wrong_chain_id));
    t = ok;
    t.encrypted_vote = bytes(net.genesis.max_encrypted_vote_bytes + 1, 0);
    CHECK(c.check_tx(t).error() == make_error(errc::vote_too_large));
    const auto stranger = key(55);
    CHECK(c.check_tx(net.vote(2, 1, 0, &stranger)).error() == make_error(errc::unauthorized_submitter));
    t = ok;
    t.candidate_id = 9;  // changed after signing
    CHECK(c.check_tx(t).error() == make_error(errc::invalid_signature));
    REQUIRE(c.append(net.next_block(c, {ok})));
    CHECK(c.check_tx(ok).error() == make_error(errc::duplicate_tx));
    CHECK(c.check_tx(net.vote(1, 1, 4)).error() == make_error(errc::duplicate_vote));  // same voter, same election
    CHECK(c.check_tx(net.vote(1, 2, 4)));                                             // same voter, other election
}

TEST_CASE("append refuses blocks for every reason, and the chain is unchanged", "[chain]") {
    test_network net(4);
    auto c = net.open_chain();
    REQUIRE(c.append(net.next_block(c, {net.vote(1)})));
    const auto head = c.head_hash();
    auto fresh = [&](std::vector<vote_tx> txs = {}) { return net.next_block(c, std::move(txs)); };
    auto recertify = [&](finalized_block& fb) {
        net.resign(fb.blk);
        fb.cert = net.certificate(fb.blk.header.height, fb.blk.header.round, block_hash<H>(fb.blk.header));
    };

    SECTION("wrong_chain_id") {
        auto fb = fresh();
        fb.blk.header.chain_id = 5;
        recertify(fb);
        CHECK(append_err(c, fb) == make_error(errc::wrong_chain_id));
    }
    SECTION("wrong_height") {
        auto fb = fresh();
        fb.blk.header.height = 5;
        recertify(fb);
        CHECK(append_err(c, fb) == make_error(errc::wrong_height));
    }
    SECTION("wrong_parent") {
        auto fb = fresh();
        fb.blk.header.parent.data[0] ^= 1;
        recertify(fb);
        CHECK(append_err(c, fb) == make_error(errc::wrong_parent));
    }
    SECTION("bad_timestamp") {
        auto fb = fresh();
        fb.blk.header.timestamp_ms = 0;
        recertify(fb);
        CHECK(append_err(c, fb) == make_error(errc::bad_timestamp));
    }
    SECTION("wrong_proposer") {
        auto fb = fresh();
        fb.blk.header.proposer = (fb.blk.header.proposer + 1) % 4;
        recertify(fb);
        CHECK(append_err(c, fb) == make_error(errc::wrong_proposer));
    }
    SECTION("bad_proposer_signature") {
        auto fb = fresh();
        fb.blk.proposer_sig.data[3] ^= 1;
        CHECK(append_err(c, fb) == make_error(errc::bad_proposer_signature));
    }
    SECTION("too_many_txs") {
        auto g = net.genesis;
        std::vector<vote_tx> txs;
        for (std::uint32_t i = 0; i <= g.max_block_txs; ++i) txs.push_back(net.vote(100 + i));
        auto fb = fresh(txs);
        CHECK(append_err(c, fb) == make_error(errc::too_many_txs));
        auto fb2 = fresh({net.vote(7)});
        fb2.blk.header.tx_count = 2;
        recertify(fb2);
        CHECK(append_err(c, fb2) == make_error(errc::too_many_txs));
    }
    SECTION("bad_tx_root") {
        auto fb = fresh({net.vote(7), net.vote(8)});
        std::swap(fb.blk.txs[0], fb.blk.txs[1]);
        CHECK(append_err(c, fb) == make_error(errc::bad_tx_root));
    }
    SECTION("invalid_signature, unauthorized_submitter, wrong chain in a tx, vote_too_large") {
        auto t = net.vote(7);
        t.candidate_id = 3;
        CHECK(append_err(c, fresh({t})) == make_error(errc::invalid_signature));
        const auto stranger = key(77);
        CHECK(append_err(c, fresh({net.vote(8, 1, 0, &stranger)})) == make_error(errc::unauthorized_submitter));
        auto w = net.vote(9);
        w.chain_id = 3;
        sign_tx<H, S>(w, net.submitter);
        CHECK(append_err(c, fresh({w})) == make_error(errc::wrong_chain_id));
        auto big = net.vote(10);
        big.encrypted_vote.assign(net.genesis.max_encrypted_vote_bytes + 1, 1);
        sign_tx<H, S>(big, net.submitter);
        CHECK(append_err(c, fresh({big})) == make_error(errc::vote_too_large));
    }
    SECTION("duplicate_tx and duplicate_vote, within a block and across blocks") {
        const auto v = net.vote(7);
        CHECK(append_err(c, fresh({v, v})) == make_error(errc::duplicate_tx));
        CHECK(append_err(c, fresh({net.vote(1)})) == make_error(errc::duplicate_tx));
        CHECK(append_err(c, fresh({net.vote(7, 1, 0), net.vote(7, 1, 1)})) == make_error(errc::duplicate_vote));
        CHECK(append_err(c, fresh({net.vote(1, 1, 3)})) == make_error(errc::duplicate_vote));
    }
    SECTION("certificate reasons") {
        auto fb = fresh();
        const hash32 bh = block_hash<H>(fb.blk.header);
        auto f2 = fb;
        f2.cert = net.certificate(2, 0, bh, 2);  // q = 3 for n = 4
        CHECK(append_err(c, f2) == make_error(errc::cert_too_few_seals));
        f2.cert = net.certificate(2, 0, sha256::hash(bytes{1}));
        CHECK(append_err(c, f2) == make_error(errc::cert_wrong_block));
        f2.cert = net.certificate(3, 0, bh);
        CHECK(append_err(c, f2) == make_error(errc::cert_wrong_block));
        auto later = net.next_block(c, {}, 2);  // header round 2, certificate round 1
        later.cert = net.certificate(2, 1, block_hash<H>(later.blk.header));
        CHECK(append_err(c, later) == make_error(errc::cert_wrong_round));
        f2 = fb;
        f2.cert.seals[2].validator = 9;
        CHECK(append_err(c, f2) == make_error(errc::cert_unknown_validator));
        f2 = fb;
        f2.cert.seals[1] = f2.cert.seals[0];
        CHECK(append_err(c, f2) == make_error(errc::cert_duplicate_seal));
        f2 = fb;
        f2.cert.seals[1].sig.data[0] ^= 1;
        CHECK(append_err(c, f2) == make_error(errc::cert_bad_seal));
        f2 = fb;
        f2.cert = net.certificate(2, 1, bh);  // seals for another round than the cert says
        f2.cert.round = 0;
        CHECK(append_err(c, f2) == make_error(errc::cert_bad_seal));
        CHECK(c.append(fb));  // the genuine one still goes in
    }
    if (c.height() == 1) CHECK(c.head_hash() == head);
}

TEST_CASE("verify() names the first tampered block and why", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    for (std::uint64_t b = 0; b < 5; ++b) REQUIRE(c.append(net.next_block(c, {net.vote(10 * b + 1), net.vote(10 * b + 2)})));
    REQUIRE(c.verify().ok);
    const std::uint64_t k = 3;
    const auto orig = c.block_at(k).value();
    auto expect = [&](finalized_block tampered, error_code why) {
        c.storage().tamper(k, tampered);
        auto rep = c.verify();
        CHECK_FALSE(rep.ok);
        CHECK(rep.bad_height == k);
        CHECK(rep.reason == why);
        CHECK(rep.blocks_checked == k);  // 0..k-1 were fine
        c.storage().tamper(k, orig);
        CHECK(c.verify().ok);
    };
    auto t = orig;
    t.blk.txs[0].candidate_id ^= 1;
    expect(t, make_error(errc::invalid_signature));
    t = orig;
    std::swap(t.blk.txs[0], t.blk.txs[1]);
    expect(t, make_error(errc::bad_tx_root));
    t = orig;
    t.cert.seals[0].sig.data[9] ^= 1;
    expect(t, make_error(errc::cert_bad_seal));
    t = orig;
    t.blk.proposer_sig.data[1] ^= 1;
    expect(t, make_error(errc::bad_proposer_signature));
    t = orig;
    t.blk.header.timestamp_ms += 1;  // header change: hash no longer the indexed one
    expect(t, make_error(storage_ns::errc::corrupt));
}
