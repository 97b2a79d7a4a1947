// mempool: bounded, FIFO, deduplicated, rejects invalid votes with their reason.
#include "../support/fixtures.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using chain::errc;

TEST_CASE("mempool hands out batches in arrival order", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    mempool<H> p(100);
    std::vector<vote_tx> in;
    for (std::uint64_t v = 0; v < 10; ++v) {
        in.push_back(net.vote(v));
        REQUIRE(p.add(in.back(), c));
    }
    CHECK(p.size() == 10);
    CHECK(p.batch(4) == std::vector<vote_tx>(in.begin(), in.begin() + 4));
    CHECK(p.batch(100) == in);
    CHECK(p.batch(0).empty());
    CHECK(p.contains(tx_hash<H>(in[3])));
    CHECK(p.is_known_valid(tx_hash<H>(in[3])));
    CHECK(*p.find(tx_hash<H>(in[5])) == in[5]);
}

TEST_CASE("mempool bound, duplicates and invalid votes are refused with a reason", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    mempool<H> p(3);
    const auto a = net.vote(1), b = net.vote(2);
    REQUIRE(p.add(a, c));
    CHECK(p.add(a, c).error() == make_error(errc::duplicate_tx));
    CHECK(p.add(net.vote(1, 1, 4), c).error() == make_error(errc::duplicate_vote));
    CHECK(p.add(net.vote(1, 2, 4), c));  // another election
    auto bad = b;
    bad.candidate_id = 3;
    CHECK(p.add(bad, c).error() == make_error(errc::invalid_signature));
    const auto stranger = key(60);
    CHECK(p.add(net.vote(3, 1, 0, &stranger), c).error() == make_error(errc::unauthorized_submitter));
    REQUIRE(p.add(b, c));
    CHECK(p.size() == 3);
    CHECK(p.add(net.vote(4), c).error() == make_error(errc::pool_full));
    CHECK(p.size() == 3);
}

TEST_CASE("mempool refuses what is already final and drops committed and conflicting votes", "[mempool]") {
    test_network net;
    auto c = net.open_chain();
    mempool<H> p(100);
    const auto a = net.vote(1), b = net.vote(2), c1 = net.vote(3, 1, 0);
    REQUIRE(p.add(a, c));
    REQUIRE(p.add(b, c));
    REQUIRE(p.add(c1, c));
    // voter 3 voted through another validator: that other vote is the one finalized
    const auto c2 = net.vote(3, 1, 2);
    auto fb = net.next_block(c, {a, c2});
    REQUIRE(c.append(fb));
    const std::vector<hash32> ths{tx_hash<H>(a), tx_hash<H>(c2)};
    CHECK(p.remove_committed(fb.blk, ths) == 2);  // a itself and the conflicting c1
    CHECK(p.batch(10) == std::vector<vote_tx>{b});
    CHECK(p.add(a, c).error() == make_error(errc::duplicate_tx));
    CHECK(p.add(c1, c).error() == make_error(errc::duplicate_vote));
    CHECK(p.erase(tx_hash<H>(b)));
    CHECK_FALSE(p.erase(tx_hash<H>(b)));
    CHECK(p.empty());
}
