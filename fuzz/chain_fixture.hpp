#pragma once
// The fixed chain behind fuzz_jsonrpc and fuzz_http_validator: three validators, one
// submitter, chain id 1337, and three final blocks (votes in elections 1 and 2, then an empty
// block); votes to pool, one dropped vote, and transactions for every outcome of a submission
// (accepted, duplicate, conflicting, bad signature, unknown submitter, too large, other
// chain). Everything comes from fixed seeds, so seeds written by fuzz_make_corpus name the
// same values in every run.
#include "structured.hpp"

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/storage/memory_storage.hpp>

namespace ballotchain::fuzz_fixture {

inline constexpr std::uint64_t chain_id = 1337;
inline constexpr std::uint64_t genesis_ms = 1'700'000'000'000ull;

/// Key i: validators 0..2, the submitter 50, a stranger 60.
inline ed25519::key_pair chain_key(int i) {
    secret_key sk;
    sk.data[0] = static_cast<byte>(i + 1);
    sk.data[1] = 0x42;
    return ed25519::from_secret(sk);
}

inline genesis_config chain_genesis() {
    genesis_config g;
    g.chain_id = chain_id;
    g.timestamp_ms = genesis_ms;
    for (int i = 0; i < 3; ++i) g.validators.push_back({"validator-" + std::to_string(i + 1), chain_key(i).public_key()});
    g.submitters.push_back(chain_key(50).public_key());
    return g;
}

/// A vote of voter `voter`, signed by `by` (default: the submitter).
inline vote_tx chain_vote(std::uint64_t voter, std::uint64_t election, std::uint64_t candidate, int by = 50,
                          std::size_t payload = 3) {
    vote_tx tx;
    tx.chain_id = chain_id;
    tx.election_id = election;
    tx.candidate_id = candidate;
    tx.encrypted_vote = bytes(payload, static_cast<byte>(voter));
    tx.voter_tag = sha256::hash(bytes{static_cast<byte>(voter), static_cast<byte>(voter >> 8), 0x7a});
    tx.timestamp_ms = genesis_ms + voter;
    sign_tx<ed25519_sha256>(tx, chain_key(by));
    return tx;
}

/// The transactions of the final blocks, by height (block 3 is empty).
inline std::vector<std::vector<vote_tx>> chain_block_txs() {
    return {{chain_vote(1, 1, 0), chain_vote(2, 1, 1)}, {chain_vote(3, 1, 1), chain_vote(4, 2, 0)}, {}};
}

/// Appends the three blocks (with quorum certificates) to a fresh `c`; false if any is refused.
template <class Chain>
bool append_chain_blocks(Chain& c) {
    const auto& g = c.genesis();
    for (auto& txs : chain_block_txs()) {
        const std::uint64_t h = c.height() + 1;
        finalized_block fb;
        fb.blk = c.build_block(0, genesis_ms + h * 1000, txs, chain_key(static_cast<int>(g.proposer_index(h, 0))));
        const hash32 bh = block_hash<ed25519_sha256>(fb.blk.header);
        fb.cert = {h, 0, bh, {}};
        for (std::uint32_t v = 0; v < g.quorum(); ++v)
            fb.cert.seals.push_back(make_seal<ed25519_sha256>(chain_key(static_cast<int>(v)), v, chain_id, h, 0, bh));
        if (!c.append(fb)) return false;
    }
    return true;
}

/// Votes a node holds in its pool (not final).
inline std::vector<vote_tx> chain_pooled() { return {chain_vote(5, 1, 0), chain_vote(6, 1, 2)}; }

/// A vote that lost to voter 1's final vote in election 1 (a node records it as dropped).
inline vote_tx chain_dropped() { return chain_vote(1, 1, 2, 50, 4); }

inline std::string hex_of(const vote_tx& tx) { return to_hex(encode(tx)); }

/// A JSON-RPC quantity: 0x-hex without leading zeros.
inline std::string quantity(std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    do {
        s.insert(s.begin(), digits[v % 16]);
        v /= 16;
    } while (v);
    return "0x" + s;
}

/// The meaningful values of the chain, for JSON-RPC params, and the keys of object params.
inline vocabulary chain_vocabulary() {
    vocabulary v;
    auto add = [&](std::string name, const auto& val) { v.specials.emplace_back(std::move(name), boost::json::value_from(val)); };
    for (const char* tag : {"latest", "earliest", "pending", "safe", "finalized"}) add(tag, std::string(tag));
    for (std::uint64_t h = 0; h <= 4; ++h) add("q" + std::to_string(h), quantity(h));
    add("q-max", std::string("0xffffffffffffffff"));
    add("q-leading-zero", std::string("0x01"));
    add("q-empty", std::string("0x"));
    const auto blocks = chain_block_txs();
    for (std::size_t b = 0; b < blocks.size(); ++b)
        for (std::size_t i = 0; i < blocks[b].size(); ++i) {
            const auto& tx = blocks[b][i];
            const auto name = "final-" + std::to_string(b + 1) + "-" + std::to_string(i);
            add(name + "-hash", to_hex(tx_hash<ed25519_sha256>(tx)));
            add(name + "-raw", hex_of(tx));
            add(name + "-json", json::to_json(tx));
        }
    const auto pooled = chain_pooled();
    for (std::size_t i = 0; i < pooled.size(); ++i) {
        add("pooled-" + std::to_string(i) + "-hash", to_hex(tx_hash<ed25519_sha256>(pooled[i])));
        add("pooled-" + std::to_string(i) + "-raw", hex_of(pooled[i]));
    }
    auto c = ledger::blockchain<ed25519_sha256, memory_storage>::open(chain_genesis(), memory_storage{}).value();
    if (!append_chain_blocks(c)) std::abort();
    for (std::uint64_t h = 0; h <= c.height(); ++h) add("block-" + std::to_string(h) + "-hash", to_hex(*c.hash_at(h)));
    add("dropped-hash", to_hex(tx_hash<ed25519_sha256>(chain_dropped())));
    add("unknown-hash", to_hex(sha256::hash(bytes{1, 2, 3})));
    for (int i = 0; i < 4; ++i) {
        const auto tx = chain_vote(static_cast<std::uint64_t>(10 + i), 1 + static_cast<std::uint64_t>(i % 2),
                                   static_cast<std::uint64_t>(i % 3));
        add("fresh-" + std::to_string(i) + "-raw", hex_of(tx));
        add("fresh-" + std::to_string(i) + "-hash", to_hex(tx_hash<ed25519_sha256>(tx)));
        add("fresh-" + std::to_string(i) + "-json", json::to_json(tx));
    }
    add("conflicting-raw", hex_of(chain_vote(3, 1, 0)));  // voter 3 is final in election 1
    {  // a batch signed together whose third vote is voter 3 again: refused whole (-32009)
        std::vector<vote_tx> batch{chain_vote(30, 1, 0), chain_vote(31, 1, 1), chain_vote(3, 1, 2), chain_vote(32, 2, 0)};
        sign_batch<ed25519_sha256>(batch, chain_key(50));
        for (std::size_t i = 0; i < batch.size(); ++i) add("batch-" + std::to_string(i) + "-raw", hex_of(batch[i]));
    }
    auto bad_sig = chain_vote(20, 1, 0);
    bad_sig.auth.sig.data[5] ^= 1;
    add("bad-signature-raw", hex_of(bad_sig));
    add("stranger-raw", hex_of(chain_vote(21, 1, 0, 60)));
    add("too-large-raw", hex_of(chain_vote(22, 1, 0, 50, 4097)));
    auto other_chain = chain_vote(23, 1, 0);
    other_chain.chain_id = 1338;
    sign_tx<ed25519_sha256>(other_chain, chain_key(50));
    add("other-chain-raw", hex_of(other_chain));
    const auto enc = encode(chain_vote(24, 1, 0));
    add("truncated-raw", to_hex(byte_view(enc).first(enc.size() - 1)));
    add("election-1", 1);
    add("election-2", 2);
    add("election-absent", 99);
    v.keys = {"election_id", "chain_id", "candidate_id", "encrypted_vote", "voter_tag", "timestamp_ms", "submitter",
              "signature"};
    return v;
}

}  // namespace ballotchain::fuzz_fixture
