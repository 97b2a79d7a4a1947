// The consensus engine reaching finality: real Ed25519/SHA-256, shared memory
// storage, a manual clock and the synchronous in-test network of harness.hpp.
#include "harness.hpp"

using namespace ballotchain;
using namespace ballotchain::test;
using consensus::msg_type;

namespace {

/// The block hash at height h on node i.
hash32 hash_at(cluster& cl, int i, std::uint64_t h) { return cl.e(i).chain().hash_at(h).value(); }

}  // namespace

TEST_CASE("n = 1: a submitted tx is final after the block interval, block 1 by validator 0, certificate of 1 seal",
          "[consensus][engine]") {
    cluster cl(cluster_config{1});
    const auto interval = cl.net.genesis.block_interval_ms;
    REQUIRE(cl.net.genesis.proposer_index(1, 0) == 0);
    const vote_tx tx = cl.net.vote(1, 1, 2);  // election 1, candidate 2
    const auto th = cl.submit(0, tx);
    REQUIRE(th);
    CHECK(cl.e(0).pool().contains(*th));

    // not before the block interval
    CHECK_FALSE(cl.run_until([&] { return cl.e(0).chain().height() >= 1; }, interval - 1));
    CHECK(cl.e(0).chain().height() == 0);
    REQUIRE(cl.run_until([&] { return cl.e(0).chain().height() >= 1; }, 10'000));
    CHECK(*cl.now >= interval);
    CHECK(cl.e(0).chain().height() == 1);

    const auto fb = cl.e(0).chain().block_at(1).value();
    CHECK(fb.blk.header.proposer == 0);
    CHECK(fb.blk.header.round == 0);
    CHECK(fb.blk.header.timestamp_ms >= cl.net.genesis.timestamp_ms + interval);
    REQUIRE(fb.blk.txs.size() == 1);
    CHECK(fb.blk.txs[0] == tx);
    CHECK(fb.cert.round == 0);
    REQUIRE(fb.cert.seals.size() == 1);
    CHECK(fb.cert.seals[0].validator == 0);
    CHECK(fb.cert.block_hash == block_hash<S>(fb.blk.header));
    CHECK(cl.e(0).chain().verify().ok);

    // the tally counts it, the engine reports it, the pool forgets it
    CHECK(cl.e(0).chain().tally(1) == tally_map{{2, 1}});
    CHECK(cl.e(0).chain().find_tx(*th) == tx_location{1, 0});
    REQUIRE(cl.finalized[0].size() == 1);
    CHECK(cl.finalized[0][0].tx_hashes == std::vector<hash32>{*th});
    CHECK_FALSE(cl.finalized[0][0].via_sync);
    CHECK(cl.e(0).pool().empty());
    CHECK(cl.e(0).stats().committed == 1);
    CHECK(cl.e(0).stats().proposals == 1);
    CHECK(cl.e(0).height() == 2);
}

TEST_CASE("n = 3 and n = 4: txs sent to one validator are gossiped, proposed by the scheduled proposer and final "
          "with identical hashes and >= q seals everywhere",
          "[consensus][engine]") {
    for (int n : {3, 4}) {
        INFO("n = " << n);
        cluster_config cfg{n};
        cfg.max_block_txs = 4;  // 10 txs need 3 blocks: 3 different proposers
        cluster cl(cfg);
        const auto& g = cl.net.genesis;
        const int entry = static_cast<int>((g.proposer_index(1, 0) + 1) % static_cast<std::uint32_t>(n));
        std::vector<hash32> ths;
        for (std::uint64_t v = 0; v < 10; ++v) {
            auto th = cl.submit(entry, cl.net.vote(v));
            REQUIRE(th);
            ths.push_back(*th);
        }
        cl.deliver();
        for (int i = 0; i < n; ++i) {
            INFO("node " << i);
            for (const auto& th : ths) CHECK(cl.e(i).pool().contains(th));  // gossiped before any block
            CHECK(cl.e(i).chain().height() == 0);
        }

        REQUIRE(cl.run_until(
            [&] {
                for (int i = 0; i < n; ++i)
                    if (cl.e(i).chain().total_txs() < 10) return false;
                return true;
            },
            60'000));
        const auto height = cl.e(0).chain().height();
        CHECK(height == 3);
        std::set<std::uint32_t> proposers;
        for (std::uint64_t h = 1; h <= height; ++h) {
            INFO("height " << h);
            const auto fb = cl.e(0).chain().block_at(h).value();
            CHECK(fb.blk.header.round == 0);  // nothing failed: every block in round 0
            CHECK(fb.blk.header.proposer == g.proposer_index(h, 0));
            proposers.insert(fb.blk.header.proposer);
            CHECK(fb.cert.seals.size() >= g.quorum());
            CHECK_FALSE(cl.e(0).chain().validate_certificate(fb.blk.header, block_hash<S>(fb.blk.header), fb.cert));
            for (int i = 1; i < n; ++i) CHECK(hash_at(cl, i, h) == hash_at(cl, 0, h));
            // the proposal went out from the scheduled proposer, and from no one else
            for (int i = 0; i < n; ++i) {
                std::size_t proposals = 0;
                for (const auto& m : cl.sent_by(i, msg_type::proposal)) proposals += m.env.height == h;
                CHECK(proposals == (static_cast<std::uint32_t>(i) == g.proposer_index(h, 0) ? 1u : 0u));
            }
        }
        CHECK(proposers.size() == 3);
        for (int i = 0; i < n; ++i) {
            INFO("node " << i);
            CHECK(cl.e(i).chain().height() == height);
            CHECK(cl.e(i).chain().verify().ok);
            for (const auto& th : ths) CHECK(cl.e(i).chain().find_tx(th));
            CHECK(cl.e(i).pool().empty());
            CHECK(cl.e(i).stats().round_changes == 0);
        }
        CHECK(cl.equivocations.empty());
    }
}

TEST_CASE("empty_blocks = false: with an empty pool no block is produced however long we wait", "[consensus][engine]") {
    for (int n : {1, 3, 4}) {
        INFO("n = " << n);
        cluster cl(n, false);
        cl.run_for(120'000);  // 120 block intervals
        CHECK(*cl.now >= 120'000);
        for (int i = 0; i < n; ++i) {
            CHECK(cl.e(i).chain().height() == 0);
            CHECK(cl.e(i).height() == 1);
            CHECK(cl.e(i).round() == 0);  // no pointless round changes while idle either
            CHECK(cl.sent_by(i, msg_type::proposal).empty());
        }
        // and a tx after the long idle still becomes final
        REQUIRE(cl.submit(0, cl.net.vote(1)));
        CHECK(cl.run_until([&] { return cl.all_at(1); }, 30'000));
    }
}

TEST_CASE("empty_blocks = true: empty blocks are produced by the scheduled proposers", "[consensus][engine]") {
    for (int n : {1, 3, 4}) {
        INFO("n = " << n);
        cluster cl(n, true);
        REQUIRE(cl.run_until([&] { return cl.all_at(4); }, 60'000));
        for (std::uint64_t h = 1; h <= 4; ++h) {
            const auto fb = cl.e(0).chain().block_at(h).value();
            CHECK(fb.blk.txs.empty());
            CHECK(fb.blk.header.proposer == cl.net.genesis.proposer_index(h, fb.blk.header.round));
            CHECK(fb.cert.seals.size() >= cl.net.genesis.quorum());
            for (int i = 1; i < n; ++i) CHECK(hash_at(cl, i, h) == hash_at(cl, 0, h));
        }
        // one block per interval, not faster
        const auto b1 = cl.e(0).chain().block_at(1).value().blk.header.timestamp_ms;
        const auto b4 = cl.e(0).chain().block_at(4).value().blk.header.timestamp_ms;
        CHECK(b4 - b1 >= 3 * cl.net.genesis.block_interval_ms);
    }
}

TEST_CASE("proposer down (n = 4): the others time out, send ROUND-CHANGE, round 1's proposer proposes, final in "
          "round 1",
          "[consensus][engine]") {
    cluster cl(4);
    const auto& g = cl.net.genesis;
    const int down = static_cast<int>(g.proposer_index(1, 0));
    const int next = static_cast<int>(g.proposer_index(1, 1));
    REQUIRE(down != next);
    cl.isolated.insert(down);  // never receives, never sends
    const int entry = (next + 1) % 4;
    REQUIRE(entry != down);
    const auto th = cl.submit(entry, cl.net.vote(1));
    REQUIRE(th);
    REQUIRE(cl.run_until([&] { return cl.all_at(1); }, 60'000));

    for (int i = 0; i < 4; ++i) {
        if (i == down) continue;
        INFO("node " << i);
        const auto fb = cl.e(i).chain().block_at(1).value();
        CHECK(fb.cert.round == 1);
        CHECK(fb.blk.header.round == 1);
        CHECK(fb.blk.header.proposer == static_cast<std::uint32_t>(next));
        REQUIRE(fb.blk.txs.size() == 1);
        CHECK(tx_hash<S>(fb.blk.txs[0]) == *th);
        CHECK(fb.cert.seals.size() >= g.quorum());
        for (const auto& s : fb.cert.seals) CHECK(s.validator != static_cast<std::uint32_t>(down));
        CHECK(hash_at(cl, i, 1) == hash_at(cl, next, 1));
        CHECK(cl.e(i).stats().round_changes > 0);
        // it sent ROUND-CHANGE for (1, 1)
        bool rc = false;
        for (const auto& m : cl.sent_by(i, msg_type::round_change)) rc = rc || (m.env.height == 1 && m.env.round == 1);
        CHECK(rc);
    }
    // round 1's proposal came from round 1's proposer, justified by >= q round changes
    std::size_t round1_proposals = 0;
    for (const auto& m : cl.sent)
        if (m.env.type == msg_type::proposal && m.env.height == 1) {
            CHECK(m.from == next);
            CHECK(m.env.round == 1);
            const auto p = consensus::decode_proposal(m.env.body).value();
            CHECK(p.justification.size() >= g.quorum());
            ++round1_proposals;
        }
    CHECK(round1_proposals == 1);
    CHECK(cl.e(down).chain().height() == 0);
    for (const auto& d : cl.delivered) CHECK(d.from != down);

    // healed, the former proposer catches up to the same block
    cl.isolated.clear();
    REQUIRE(cl.run_until([&] { return cl.e(down).chain().height() == 1; }, 30'000));
    CHECK(hash_at(cl, down, 1) == hash_at(cl, next, 1));
}
