#pragma once
/// @file Shared unit-test fixtures: deterministic keys, a genesis, signed votes
/// and finalized blocks with real commit certificates.
///
/// Everything here is derived from fixed seeds, so every run (and every
/// machine) builds byte-identical values; the golden files under
/// tests/data/golden are encodings of values made with these helpers.
///
/// Typical use:
/// @code
/// #include "../support/fixtures.hpp"
/// using namespace ballotchain::test;
///
/// test_network net(4);                       // 4 validators, 1 submitter
/// auto c = net.open_chain();                 // blockchain<ed25519_sha256, memory_storage>
/// auto fb = net.next_block(c, {net.vote(1), net.vote(2)});
/// REQUIRE(c.append(fb));
/// @endcode
///
/// Include it as "../support/fixtures.hpp" from tests/unit/<layer>/.

#include "paths.hpp"

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/ledger/mempool.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include "catch_result.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ballotchain::test {

using S = ed25519_sha256;  ///< the production crypto suite
using mem_chain = ledger::blockchain<S, memory_storage>;

/// The fixed secret key number `i`: byte b of the secret is `(i * 31 + b + 1) mod 256`.
inline secret_key seed(int i) {
    secret_key sk;
    for (std::size_t b = 0; b < sk.data.size(); ++b) sk.data[b] = static_cast<byte>(i * 31 + static_cast<int>(b) + 1);
    return sk;
}

/// The Ed25519 key pair of seed(i) (same bytes in every run).
inline S::key_pair key(int i) { return S::from_secret(seed(i)); }

/// The voter tag used by test_network::vote for voter number `voter`.
inline hash32 voter_tag_of(std::uint64_t voter) {
    return S::hash(bytes{static_cast<byte>(voter), static_cast<byte>(voter >> 8), 0x7a});
}

/// A deterministic test network: n validators (keys 0..n-1, named
/// "validator-1".."validator-n", in that proposer order), one authorized
/// submitter (key 100), chain id 1337, genesis timestamp 1.7e12 ms and the
/// other genesis parameters at their defaults. Tests may change `genesis`
/// before opening a chain.
struct test_network {
    explicit test_network(int n = 3) {
        for (int i = 0; i < n; ++i) {
            validators.push_back(key(i));
            genesis.validators.push_back({"validator-" + std::to_string(i + 1), validators.back().public_key()});
        }
        submitter = key(100);
        genesis.submitters.push_back(submitter.public_key());
        genesis.timestamp_ms = 1'700'000'000'000ull;
    }

    /// A fresh chain over empty memory storage (block 0 written).
    mem_chain open_chain() const { return mem_chain::open(genesis, memory_storage{}).value(); }

    /// A vote of voter number `voter` in `election` for `candidate`, signed by
    /// `by` (default: the submitter). Encrypted vote = e1 e2 <voter low byte>,
    /// voter tag = voter_tag_of(voter), timestamp = genesis timestamp + voter.
    vote_tx vote(std::uint64_t voter, std::uint64_t election = 1, std::uint64_t candidate = 0,
                 const S::key_pair* by = nullptr) const {
        vote_tx tx;
        tx.chain_id = genesis.chain_id;
        tx.election_id = election;
        tx.candidate_id = candidate;
        tx.encrypted_vote = bytes{0xe1, 0xe2, static_cast<byte>(voter)};
        tx.voter_tag = voter_tag_of(voter);
        tx.timestamp_ms = genesis.timestamp_ms + voter;
        sign_tx<S>(tx, by ? *by : submitter);
        return tx;
    }

    /// A validator-set change record approved by validators `approvers` (ids = key numbers,
    /// ascending), as a transaction signed by validator `by` (protocol.md §12).
    vote_tx validator_change(const validator_change& c, const std::vector<std::uint32_t>& approvers,
                             std::uint32_t by) const {
        validator_change_record rec{c, {}};
        const bytes msg = change_message(genesis.chain_id, c);
        for (auto a : approvers) rec.approvals.push_back({a, S::sign(validators.at(a), msg)});
        vote_tx tx;
        tx.chain_id = genesis.chain_id;
        tx.kind = tx_kind::validator_set;
        tx.voter_tag = change_slot_tag(c.sequence);
        tx.encrypted_vote = encode(rec);
        tx.timestamp_ms = genesis.timestamp_ms;
        sign_tx<S>(tx, validators.at(by));
        return tx;
    }

    /// The next block of `c` holding `txs`, proposed by the proposer the chain's validator
    /// schedule names for (height, 0) and sealed by `sealers` (ids = key numbers, ascending; a
    /// validator a change added has the key number of its id):
    /// blocks after a validator-set change (protocol.md §12).
    template <class Chain>
    finalized_block next_block_sealed(const Chain& c, std::vector<vote_tx> txs,
                                      const std::vector<std::uint32_t>& sealers) const {
        const auto h = c.height() + 1;
        const auto prop = c.validators().at(h).proposer(h, 0);
        finalized_block fb;
        fb.blk = c.build_block(0, genesis.timestamp_ms + h * 1000, std::move(txs), key(static_cast<int>(prop)));
        const hash32 bh = block_hash<S>(fb.blk.header);
        fb.cert = commit_certificate{h, 0, bh, {}};
        for (auto v : sealers) fb.cert.seals.push_back(make_seal<S>(key(static_cast<int>(v)), v, genesis.chain_id, h, 0, bh));
        return fb;
    }

    /// Appends five blocks to `c` (a blockchain of test_network{3} at height 0) with two
    /// validator-set changes: block 1 records change 1 (adds key 3 as id 3, removes id 0;
    /// from height 3), block 3 records change 2 (removes id 1; from height 5). Blocks 1-2 are
    /// sealed by ids {0, 1}, 3-5 by {2, 3} (ids the genesis does not know together); `at3`
    /// and `at5` go into blocks 3 and 5. Returns the two change transactions.
    template <class Chain>
    std::vector<vote_tx> append_two_changes(Chain& c, std::vector<vote_tx> at3 = {}, std::vector<vote_tx> at5 = {}) const {
        ballotchain::validator_change c1;
        c1.sequence = 1;
        c1.effective_height = 3;
        c1.add.push_back({"validator-4", key(3).public_key()});
        c1.remove = {0};
        ballotchain::validator_change c2;
        c2.sequence = 2;
        c2.effective_height = 5;
        c2.remove = {1};
        const auto t1 = validator_change(c1, {0, 1}, 0);
        auto t2 = validator_change(c2, {}, 2);  // approved by ids 2 and 3 (key 3 is not in `validators`)
        {
            validator_change_record rec{c2, {}};
            const bytes msg = change_message(genesis.chain_id, c2);
            for (int a : {2, 3}) rec.approvals.push_back({static_cast<std::uint32_t>(a), S::sign(key(a), msg)});
            t2.encrypted_vote = encode(rec);
            sign_tx<S>(t2, validators.at(2));
        }
        auto add = [&](std::vector<vote_tx> txs, std::vector<std::uint32_t> sealers) {
            if (!c.append(next_block_sealed(c, std::move(txs), sealers))) throw std::logic_error("test block refused");
        };
        add({t1}, {0, 1});
        add({}, {0, 1});
        at3.push_back(t2);
        add(std::move(at3), {2, 3});
        add({}, {2, 3});
        add(std::move(at5), {2, 3});
        return {t1, t2};
    }

    /// A certificate for (height, round, block hash `bh`) with the seals of
    /// validators 0..count-1 in ascending order (count 0 = the quorum).
    commit_certificate certificate(std::uint64_t height, std::uint32_t round, const hash32& bh,
                                   std::size_t count = 0) const {
        if (count == 0) count = genesis.quorum();
        commit_certificate c{height, round, bh, {}};
        for (std::uint32_t v = 0; v < count; ++v)
            c.seals.push_back(make_seal<S>(validators[v], v, genesis.chain_id, height, round, bh));
        return c;
    }

    /// The next block of `c` holding `txs` (in that order), built and signed by
    /// the scheduled proposer of (height, round), timestamp genesis + 1000 ms per
    /// height, with a quorum certificate for the same round.
    finalized_block next_block(const mem_chain& c, std::vector<vote_tx> txs, std::uint32_t round = 0) const {
        const auto h = c.height() + 1;
        finalized_block fb;
        fb.blk = c.build_block(round, genesis.timestamp_ms + h * 1000, std::move(txs),
                               validators[genesis.proposer_index(h, round)]);
        fb.cert = certificate(h, round, block_hash<S>(fb.blk.header));
        return fb;
    }

    /// Re-signs a modified header as its (claimed) proposer would.
    /// @pre `b.header.proposer < validators.size()`.
    void resign(block& b) const {
        b.proposer_sig = S::sign(validators[b.header.proposer], block_hash<S>(b.header).view());
    }

    /// Re-signs `b` and replaces its certificate by a fresh quorum one, so
    /// that only the deliberate change under test is wrong.
    void reseal(finalized_block& fb) const {
        resign(fb.blk);
        fb.cert = certificate(fb.blk.header.height, fb.blk.header.round, block_hash<S>(fb.blk.header));
    }

    genesis_config genesis;
    std::vector<S::key_pair> validators;
    S::key_pair submitter;
};

/// Strict hex that must parse (test data only).
inline bytes from_hex_or_die(std::string_view s) { return from_hex(s).value(); }

/// The 32 bytes of a hash as a byte vector.
inline bytes raw(const hash32& h) { return bytes(h.data.begin(), h.data.end()); }

/// The genesis of test_network(n) with another chain id (the P2P tests' networks).
inline genesis_config genesis_of(int n, std::uint64_t chain_id = 1337) {
    test_network net(n);
    net.genesis.chain_id = chain_id;
    return net.genesis;
}

}  // namespace ballotchain::test
