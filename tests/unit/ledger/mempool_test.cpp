// ledger/mempool.hpp: bounded, FIFO, deduplicated by hash and by (election,
// voter_tag), refuses invalid or already-final votes with their reason.
#include <ballotchain/ledger/mempool.hpp>

#include "../support/fixtures.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using chain::errc;

namespace {
template <class Pool>
error_code add_error(Pool& p, const vote_tx& tx, const mem_chain& c) {
    auto r = p.add(tx, c);
    return r ? error_code{} : r.error();
}
std::vector<hash32> hashes_of(const std::vector<vote_tx>& txs) {
    std::vector<hash32> out;
    for (const auto& t : txs) out.push_back(tx_hash<S>(t));
    return out;
}
}  // namespace

TEST_CASE("mempool: batches are the oldest txs in arrival order", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    ledger::mempool<S> p(100);
    CHECK(p.empty());
    CHECK(p.capacity() == 100);
    std::vector<vote_tx> in;
    for (std::uint64_t v : {5, 3, 9, 1, 7, 2, 8, 4, 6, 0}) {  // arrival order differs from any key order
        in.push_back(net.vote(v));
        CHECK(p.add(in.back(), c).value() == tx_hash<S>(in.back()));
    }
    CHECK(p.size() == 10);
    CHECK(p.batch(4) == std::vector<vote_tx>(in.begin(), in.begin() + 4));
    CHECK(p.batch(4) == p.batch(4));  // batch() does not remove
    CHECK(p.batch(100) == in);
    CHECK(p.batch(10) == in);
    CHECK(p.batch(0).empty());
    CHECK(p.size() == 10);
    CHECK(p.contains(tx_hash<S>(in[3])));
    CHECK(p.is_known_valid(tx_hash<S>(in[3]), in[3]));
    CHECK_FALSE(p.is_known_valid(tx_hash<S>(net.vote(77)), net.vote(77)));
    REQUIRE(p.find(tx_hash<S>(in[5])) != nullptr);
    CHECK(*p.find(tx_hash<S>(in[5])) == in[5]);
    CHECK(p.find(tx_hash<S>(net.vote(77))) == nullptr);
}

TEST_CASE("mempool: erase keeps the order of the rest; a re-added tx goes to the back", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    ledger::mempool<S> p(10);
    std::vector<vote_tx> in;
    for (std::uint64_t v = 0; v < 5; ++v) {
        in.push_back(net.vote(v));
        REQUIRE(p.add(in.back(), c));
    }
    CHECK(p.erase(tx_hash<S>(in[1])));
    CHECK_FALSE(p.erase(tx_hash<S>(in[1])));
    CHECK_FALSE(p.contains(tx_hash<S>(in[1])));
    CHECK(p.batch(10) == std::vector<vote_tx>{in[0], in[2], in[3], in[4]});
    REQUIRE(p.add(in[1], c));  // its voter slot was freed too
    CHECK(p.batch(10) == std::vector<vote_tx>{in[0], in[2], in[3], in[4], in[1]});
    p.clear();
    CHECK(p.empty());
    CHECK(p.batch(10).empty());
    CHECK(p.add(in[0], c));
}

TEST_CASE("mempool: the capacity bound answers pool_full and frees up on removal", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    ledger::mempool<S> p(3);
    std::vector<vote_tx> in;
    for (std::uint64_t v = 0; v < 3; ++v) {
        in.push_back(net.vote(v));
        REQUIRE(p.add(in.back(), c));
    }
    CHECK(add_error(p, net.vote(3), c) == make_error(errc::pool_full));
    CHECK(p.size() == 3);
    CHECK(add_error(p, in[0], c) == make_error(errc::duplicate_tx));  // a duplicate is named as such even when full
    CHECK(add_error(p, net.vote(0, 1, 2), c) == make_error(errc::duplicate_vote));
    CHECK(p.batch(10) == in);
    REQUIRE(p.erase(tx_hash<S>(in[0])));
    CHECK(p.add(net.vote(3), c));
    CHECK(add_error(p, net.vote(4), c) == make_error(errc::pool_full));

    ledger::mempool<S> zero(0);  // a capacity of 0 is taken as 1
    CHECK(zero.capacity() == 1);
    CHECK(zero.add(net.vote(1), c));
    CHECK(add_error(zero, net.vote(2), c) == make_error(errc::pool_full));
}

TEST_CASE("mempool: duplicates by hash and by (election, voter_tag) are refused", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    ledger::mempool<S> p(100);
    const auto a = net.vote(1);
    REQUIRE(p.add(a, c));
    CHECK(add_error(p, a, c) == make_error(errc::duplicate_tx));
    CHECK(add_error(p, net.vote(1, 1, 4), c) == make_error(errc::duplicate_vote));  // same voter, other candidate
    CHECK(p.add(net.vote(1, 2, 4), c));  // same voter, another election
    CHECK(p.size() == 2);
    // add_unchecked applies the same pool rules
    CHECK(p.add_unchecked(a, tx_hash<S>(a)).error() == make_error(errc::duplicate_tx));
    const auto b = net.vote(1, 1, 6);
    CHECK(p.add_unchecked(b, tx_hash<S>(b)).error() == make_error(errc::duplicate_vote));
    const auto d = net.vote(2);
    CHECK(p.add_unchecked(d, tx_hash<S>(d)).value() == tx_hash<S>(d));
    CHECK(p.size() == 3);
}

TEST_CASE("mempool: invalid votes are refused with the chain's reason and not pooled", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    ledger::mempool<S> p(100);
    auto bad = net.vote(1);
    bad.candidate_id = 3;
    CHECK(add_error(p, bad, c) == make_error(errc::invalid_signature));
    const auto stranger = key(60);
    CHECK(add_error(p, net.vote(2, 1, 0, &stranger), c) == make_error(errc::unauthorized_submitter));
    auto wrong_chain = net.vote(3);
    wrong_chain.chain_id++;
    sign_tx<S>(wrong_chain, net.submitter);
    CHECK(add_error(p, wrong_chain, c) == make_error(errc::wrong_chain_id));
    auto big = net.vote(4);
    big.encrypted_vote.assign(net.genesis.max_encrypted_vote_bytes + 1, 0);
    sign_tx<S>(big, net.submitter);
    CHECK(add_error(p, big, c) == make_error(errc::vote_too_large));
    CHECK(p.empty());
    // a refused tx takes no voter slot: the genuine vote of voter 1 still goes in
    CHECK(p.add(net.vote(1), c));
}

TEST_CASE("mempool: votes already final are refused; committing drops the committed and conflicting txs", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    ledger::mempool<S> p(100);
    const auto a = net.vote(1), b = net.vote(2), c1 = net.vote(3, 1, 0), d = net.vote(4);
    for (const auto& t : {a, b, c1, d}) REQUIRE(p.add(t, c));
    // voter 3 also voted through another validator's pool, and that vote is the one finalized
    const auto c2 = net.vote(3, 1, 2);
    const auto fb = net.next_block(c, {a, c2, d});
    REQUIRE(c.append(fb));
    CHECK(p.remove_committed(fb.blk, hashes_of(fb.blk.txs)) == 3);  // a, d and the conflicting c1
    CHECK(p.batch(10) == std::vector<vote_tx>{b});
    CHECK(add_error(p, a, c) == make_error(errc::duplicate_tx));     // final
    CHECK(add_error(p, c1, c) == make_error(errc::duplicate_vote));  // voter 3 is final in election 1
    CHECK(p.remove_committed(fb.blk, hashes_of(fb.blk.txs)) == 0);   // idempotent
    CHECK(p.size() == 1);
}

TEST_CASE("mempool: feeds the proposer; pooled txs are trusted as known-valid when the block is appended", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    ledger::mempool<S> p(1000);
    for (std::uint64_t v = 0; v < 70; ++v) REQUIRE(p.add(net.vote(v, 1, v % 4), c));
    std::uint64_t blocks = 0;
    while (!p.empty()) {
        auto txs = p.batch(net.genesis.max_block_txs);
        CHECK(txs.size() <= net.genesis.max_block_txs);
        const auto fb = net.next_block(c, txs);
        REQUIRE(c.append(fb, [&](const hash32& th, const vote_tx& tx) { return p.is_known_valid(th, tx); }));
        CHECK(p.remove_committed(fb.blk, hashes_of(fb.blk.txs)) == txs.size());
        ++blocks;
    }
    CHECK(blocks == 3);  // 32 + 32 + 6
    CHECK(c.total_txs() == 70);
    CHECK(c.tally(1) == tally_map{{0, 18}, {1, 18}, {2, 17}, {3, 17}});
    CHECK(c.verify().ok);
}

TEST_CASE("mempool: a pooled tx vouches only for its own authorization, not for a copy with another signature", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    ledger::mempool<S> p(100);
    const auto tx = net.vote(5);
    REQUIRE(p.add(tx, c));
    auto known = [&](const hash32& th, const vote_tx& t) { return p.is_known_valid(th, t); };
    // A proposer ships the pooled vote (same hash) with a forged signature: checked, refused.
    auto forged = tx;
    forged.auth.sig.data[33] ^= 1;
    REQUIRE(tx_hash<S>(forged) == tx_hash<S>(tx));
    CHECK_FALSE(p.is_known_valid(tx_hash<S>(tx), forged));
    CHECK(c.validate_block(net.next_block(c, {forged}).blk, known) == make_error(errc::invalid_signature));
    // The same vote re-signed in a batch (another valid authorization) is checked and taken.
    std::vector<vote_tx> batch{tx, net.vote(6)};
    sign_batch<S>(batch, net.submitter);
    CHECK_FALSE(p.is_known_valid(tx_hash<S>(tx), batch[0]));
    CHECK_FALSE(c.validate_block(net.next_block(c, {batch[0]}).blk, known));
    // The pooled copy itself skips the check.
    CHECK(p.is_known_valid(tx_hash<S>(tx), tx));
    CHECK_FALSE(c.validate_block(net.next_block(c, {tx}).blk, known));
}
