#pragma once
/// @file Helpers shared by the storage tests: a real 3-validator chain (real
/// Ed25519 keys, real commit certificates), synthetic blocks, raw access to a
/// database; with the test support's temp dirs and result printing.

#include "../support/catch_result.hpp"
#include "../support/temp_dir.hpp"

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/storage/memory_storage.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace ballotchain::test {

/// Deterministic 32-byte value from a label and a number (test data only).
inline hash32 label_hash(std::string_view label, std::uint64_t n) {
    bytes b = to_bytes(label);
    for (int i = 7; i >= 0; --i) b.push_back(static_cast<byte>(n >> (8 * i)));
    return sha256::hash(b);
}

using sqlite_chain = ledger::blockchain<ed25519_sha256, sqlite_storage>;
using memory_chain = ledger::blockchain<ed25519_sha256, memory_storage>;

/// A genesis with 3 validators and 1 submitter whose keys are derived from
/// fixed secrets (so a forked child or a reopen sees the same chain).
struct chain_keys {
    std::vector<ed25519::key_pair> validators;
    ed25519::key_pair submitter;
    genesis_config genesis;

    explicit chain_keys(std::uint64_t chain_id = 1337, std::uint64_t seed = 0) {
        for (std::uint64_t i = 0; i < 3; ++i) {
            validators.push_back(ed25519::from_secret(label_hash("validator", seed * 16 + i)));
            genesis.validators.push_back({"validator-" + std::to_string(i + 1), validators.back().public_key()});
        }
        submitter = ed25519::from_secret(label_hash("submitter", seed));
        genesis.submitters.push_back(submitter.public_key());
        genesis.chain_id = chain_id;
        genesis.timestamp_ms = 1'700'000'000'000;
    }

    /// A signed vote; `n` makes the voter tag unique.
    vote_tx vote(std::uint64_t election, std::uint64_t candidate, std::uint64_t n) const {
        vote_tx tx;
        tx.chain_id = genesis.chain_id;
        tx.election_id = election;
        tx.candidate_id = candidate;
        tx.encrypted_vote = to_bytes("ciphertext-" + std::to_string(n));
        tx.voter_tag = label_hash("voter", n);
        tx.timestamp_ms = genesis.timestamp_ms + n;
        sign_tx<ed25519_sha256>(tx, submitter);
        return tx;
    }

    /// The next block of `c` holding `txs`, signed by its proposer and
    /// finalized by a certificate with seals of the first q validators.
    template <class Chain>
    finalized_block next_block(const Chain& c, std::vector<vote_tx> txs, std::uint32_t round = 0) const {
        const std::uint64_t h = c.height() + 1;
        const auto proposer = genesis.proposer_index(h, round);
        finalized_block fb;
        fb.blk = c.build_block(round, c.head().timestamp_ms + 1000, std::move(txs), validators[proposer]);
        const hash32 bh = block_hash<ed25519_sha256>(fb.blk.header);
        fb.cert.height = h;
        fb.cert.round = round;
        fb.cert.block_hash = bh;
        for (std::uint32_t v = 0; v < genesis.quorum(); ++v)
            fb.cert.seals.push_back(make_seal<ed25519_sha256>(validators[v], v, genesis.chain_id, h, round, bh));
        return fb;
    }
};

/// A block that only needs to encode and decode (the storage validates nothing).
inline finalized_block synthetic_block(std::uint64_t h, std::size_t ntx, std::uint64_t salt = 0) {
    finalized_block fb;
    auto& hd = fb.blk.header;
    hd.chain_id = 7;
    hd.height = h;
    hd.round = static_cast<std::uint32_t>(salt % 3);
    hd.parent = label_hash("parent", h * 1000 + salt);
    hd.timestamp_ms = 1000 + h;
    hd.tx_root = label_hash("root", h);
    hd.tx_count = static_cast<std::uint32_t>(ntx);
    fb.blk.proposer_sig = signature::from(bytes(64, static_cast<byte>(h)));
    for (std::size_t i = 0; i < ntx; ++i) {
        vote_tx tx;
        tx.chain_id = 7;
        tx.election_id = 1 + (i % 2);
        tx.candidate_id = i;
        tx.encrypted_vote = bytes(i * 3, static_cast<byte>(i));
        tx.voter_tag = label_hash("tag", h * 1'000'000 + i + salt * 7919);
        tx.timestamp_ms = h * 10 + i;
        tx.submitter = label_hash("submitter", 1);
        tx.auth.sig = signature::from(bytes(64, static_cast<byte>(i + 1)));
        fb.blk.txs.push_back(std::move(tx));
    }
    fb.cert.height = h;
    fb.cert.block_hash = label_hash("block", h * 1000 + salt);
    fb.cert.seals = {{0, signature::from(bytes(64, 0xaa))}, {2, signature::from(bytes(64, 0xbb))}};
    return fb;
}

/// Hashes the storage would be given for a synthetic block.
inline std::vector<hash32> synthetic_tx_hashes(const finalized_block& fb) {
    std::vector<hash32> out;
    for (const auto& tx : fb.blk.txs) out.push_back(tx_hash<ed25519_sha256>(tx));
    return out;
}

/// A raw sqlite3 connection for tampering with a database behind the storage's back.
class raw_db {
public:
    explicit raw_db(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
            throw std::runtime_error("cannot open " + path);
    }
    ~raw_db() { sqlite3_close_v2(db_); }
    raw_db(const raw_db&) = delete;
    raw_db& operator=(const raw_db&) = delete;

    /// Runs SQL; returns the SQLite result code.
    int exec(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); }

    bytes blob(const std::string& sql) {
        sqlite3_stmt* s = nullptr;
        bytes out;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
            const auto* p = static_cast<const byte*>(sqlite3_column_blob(s, 0));
            out.assign(p, p + sqlite3_column_bytes(s, 0));
        }
        sqlite3_finalize(s);
        return out;
    }

    int set_blob(const std::string& sql, byte_view v) {
        sqlite3_stmt* s = nullptr;
        int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr);
        if (rc == SQLITE_OK) {
            sqlite3_bind_blob(s, 1, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
            rc = sqlite3_step(s);
        }
        sqlite3_finalize(s);
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
    }

    sqlite3* get() const noexcept { return db_; }

private:
    sqlite3* db_ = nullptr;
};

}  // namespace ballotchain::test
