#pragma once
/// @file Shared test fixtures: deterministic keys, a genesis, signed votes and
/// finalized blocks with real commit certificates.

#include <ballotchain/chain/chain.hpp>
#include <ballotchain/chain/mempool.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/sha256.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <ballotchain/core/hex.hpp>

#include <catch2/catch.hpp>

/// Lets Catch print result<T> (REQUIRE(r) on any result type).
namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, boost::system::error_code>> {
    static std::string convert(const boost::system::result<T, boost::system::error_code>& r) {
        return r ? std::string("ok") : "error: " + r.error().message();
    }
};
}  // namespace Catch

namespace ballotchain::test {

using H = sha256;
using S = ed25519;
using mem_chain = blockchain<H, S, memory_storage>;

/// Key number i, derived from a fixed seed (same bytes in every run).
inline S::key_pair key(int i) {
    secret_key sk;
    for (std::size_t b = 0; b < sk.data.size(); ++b) sk.data[b] = static_cast<byte>(i * 31 + static_cast<int>(b) + 1);
    return S::from_secret(sk);
}

/// n validators (keys 0..n-1) and one submitter (key 100).
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

    mem_chain open_chain() const { return mem_chain::open(genesis, memory_storage{}).value(); }

    /// A vote by `voter` in `election`, signed by `by` (default: the submitter).
    vote_tx vote(std::uint64_t voter, std::uint64_t election = 1, std::uint64_t candidate = 0,
                 const S::key_pair* by = nullptr) const {
        vote_tx tx;
        tx.chain_id = genesis.chain_id;
        tx.election_id = election;
        tx.candidate_id = candidate;
        tx.encrypted_vote = bytes{0xe1, 0xe2, static_cast<byte>(voter)};
        tx.voter_tag = H::hash(bytes{static_cast<byte>(voter), static_cast<byte>(voter >> 8), 0x7a});
        tx.timestamp_ms = genesis.timestamp_ms + voter;
        sign_tx<H, S>(tx, by ? *by : submitter);
        return tx;
    }

    /// Seals of the first `count` validators (default: quorum) for block hash `bh`.
    commit_certificate certificate(std::uint64_t height, std::uint32_t round, const hash32& bh, std::size_t count = 0) const {
        if (count == 0) count = genesis.quorum();
        commit_certificate c{height, round, bh, {}};
        for (std::uint32_t v = 0; v < count; ++v)
            c.seals.push_back(make_seal<S>(validators[v], v, genesis.chain_id, height, round, bh));
        return c;
    }

    /// The next block of `c` with `txs`, built by the scheduled proposer and certified.
    finalized_block next_block(const mem_chain& c, std::vector<vote_tx> txs, std::uint32_t round = 0) const {
        const auto h = c.height() + 1;
        finalized_block fb;
        fb.blk = c.build_block(round, genesis.timestamp_ms + h * 1000, std::move(txs),
                               validators[genesis.proposer_index(h, round)]);
        fb.cert = certificate(h, round, block_hash<H>(fb.blk.header));
        return fb;
    }

    /// Re-signs a modified header as its proposer would.
    void resign(block& b) const { b.proposer_sig = S::sign(validators[b.header.proposer], block_hash<H>(b.header).view()); }

    genesis_config genesis;
    std::vector<S::key_pair> validators;
    S::key_pair submitter;
};

inline bytes from_hex_or_die(std::string_view s) { return from_hex(s).value(); }

}  // namespace ballotchain::test
