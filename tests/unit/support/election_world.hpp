#pragma once
/// @file Elections on a real chain for unit tests: test_network(3)'s validators as trustees
/// (chain/trustee.hpp), blocks at genesis + 1 s per height with quorum certificates, and the
/// records a test needs (definitions, ballots, a cheating dealing). `Chain` is a
/// ledger::blockchain over any storage: the caller opens it from the network's genesis.
///
/// Include it as "../support/election_world.hpp" from tests/unit/<layer>/.

#include "fixtures.hpp"

#include <ballotchain/chain/trustee.hpp>

#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

namespace ballotchain::test {

template <class Chain>
struct election_world {
    test_network net{3};
    Chain c;
    std::vector<election::trustee<S>> trustees;
    std::uint64_t t0 = net.genesis.timestamp_ms;

    /// `open(genesis)` opens the chain; `elections_defined` sets that genesis flag first.
    template <class Open>
    explicit election_world(Open&& open, bool elections_defined = false)
        : c(open(flagged(net, elections_defined))) {
        for (std::uint32_t i = 0; i < 3; ++i)
            trustees.emplace_back(net.genesis, i + 1, net.validators[i], seed(static_cast<int>(i)));
    }

    static const genesis_config& flagged(test_network& n, bool elections_defined) {
        n.genesis.elections_defined = elections_defined;
        return n.genesis;
    }

    std::uint64_t next_time() const { return t0 + (c.height() + 1) * 1000; }
    const election::election_state& state(std::uint64_t id) const { return *c.election_state().find(id); }

    /// The next block with exactly `txs` (round 0, signed by its proposer, quorum certificate).
    finalized_block next_block(std::vector<vote_tx> txs) const {
        const auto h = c.height() + 1;
        finalized_block fb;
        fb.blk.header.chain_id = net.genesis.chain_id;
        fb.blk.header.height = h;
        fb.blk.header.parent = c.head_hash();
        fb.blk.header.timestamp_ms = next_time();
        fb.blk.header.proposer = net.genesis.proposer_index(h, 0);
        std::vector<hash32> ths;
        for (const auto& tx : txs) ths.push_back(tx_hash<S>(tx));
        fb.blk.header.tx_root = merkle_root<S>(ths);
        fb.blk.header.tx_count = static_cast<std::uint32_t>(txs.size());
        fb.blk.txs = std::move(txs);
        net.reseal(fb);
        return fb;
    }
    /// Appends the next block with `txs`; fails the test when the chain refuses it.
    void block(std::vector<vote_tx> txs) {
        auto r = c.append(next_block(std::move(txs)));
        INFO((r ? std::string("appended") : r.error().message()));
        REQUIRE(r);
    }
    /// Why the next block with `txs` is refused (no error when it is valid; nothing is appended).
    error_code refused(std::vector<vote_tx> txs) const { return c.validate_block(next_block(std::move(txs)).blk); }

    /// Every record the `up` trustees owe at the next block's time.
    std::vector<vote_tx> owed(std::initializer_list<std::uint32_t> up) const {
        std::vector<vote_tx> out;
        for (auto i : up)
            for (auto& tx : trustees[i - 1].due(c.election_state(), next_time())) out.push_back(std::move(tx));
        return out;
    }
    /// Blocks of what the `up` trustees owe until they owe nothing (at most `max` blocks).
    void run_trustees(std::initializer_list<std::uint32_t> up, int max = 10) {
        for (int i = 0; i < max; ++i) {
            auto txs = owed(up);
            if (txs.empty()) return;
            block(std::move(txs));
        }
    }
    /// Empty blocks until the next one is at or after `t`.
    void until(std::uint64_t t) {
        while (next_time() < t) block({});
    }

    vote_tx define(std::uint64_t id, const election::definition& d) const {
        return election::definition_record<S>(net.genesis, id, d, net.submitter, next_time());
    }
    /// A 3-candidate ballot for `choice` of voter number `voter` (voter_tag_of) under the election's key.
    vote_tx ballot(std::uint64_t id, std::uint32_t choice, std::uint64_t voter) const {
        return election::ballot_record<S>(net.genesis, id, state(id).key, 3, choice, voter_tag_of(voter), net.submitter,
                                          next_time());
    }

    /// Turns trustee `dealer`'s dealing record into a cheat: the share for `victim` no longer
    /// matches the commitments, yet the dealing's proof (re-made with the dealer's a_0) and
    /// signature hold, as a dealer that knows its polynomial can arrange.
    void cheat(vote_tx& dealing, std::uint32_t dealer, std::uint32_t victim) const {
        auto d = election::decode_dealing(dealing.encrypted_vote).value();
        bool found = false;
        for (auto& s : d.shares)
            if (s.recipient == victim) {
                s.value = s.value + ristretto::scalar::from_u64(1);
                found = true;
            }
        REQUIRE(found);
        const dkg::ceremony_id cid{net.genesis.chain_id, dealing.election_id};
        const auto ctx = elgamal::proof_context{cid.chain_id, cid.election_id, ristretto::point::identity(), {},
                                                dkg::dealing_digest(d)};
        d.pok = elgamal::detail::prove_dleq(dkg::dealing_domain, &ctx, dealer, ristretto::point::generator(),
                                            d.commitments[0], d.commitments[0],
                                            dkg::trustee_secrets(seed(static_cast<int>(dealer - 1))).coefficient(cid, 0));
        REQUIRE(dkg::verify_dealing(cid, dealer, d));
        dealing.encrypted_vote = election::encode(d);
        sign_tx<S>(dealing, net.validators[dealer - 1]);
    }
};

}  // namespace ballotchain::test
