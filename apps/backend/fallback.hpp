#pragma once
/// @file The fallback ledger: where a vote is kept when no validator answers.
///
/// A one-validator chain under DATA_DIR/fallback (the backend's own
/// `fallback.key`) with the real chain id and submitter, so its transactions
/// are the very ones the outbox later sends to the validators, and it can be
/// checked offline like any chain (`ballotchain verify --data-dir
/// DATA_DIR/fallback`). docs/backend.md, "How a vote is kept".

#include "store.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/file.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace ballotchain::backend {

/// The local fallback chain.
///
/// @par Thread safety
/// Every member may be called from any thread: each takes the ledger's own
/// mutex for its whole duration, and none calls out while holding it.
class fallback_ledger {
public:
    using chain_type = ledger::blockchain<ed25519_sha256, sqlite_storage>;

    /// What a verification of the whole fallback chain found.
    struct report {
        bool ok = false;
        std::uint64_t blocks_checked = 0;
    };

    /// Opens (on first start creates) the chain in `dir` for the votes of
    /// `genesis` signed by `submitter`. A chain made for another genesis or
    /// submitter (a misconfiguration since fixed) is moved aside to
    /// `<dir>.replaced-<wall_ms>` and a new one started. Throws
    /// std::runtime_error with a clear message when something is unusable.
    fallback_ledger(const std::string& dir, const genesis_config& genesis, const public_key& submitter,
                    std::uint64_t wall_ms) {
        std::filesystem::create_directories(dir);
        const auto key_path = dir + "/fallback.key";
        if (!std::filesystem::exists(key_path))
            if (auto r = save_key_file(key_path, ed25519::generate(), false); !r)
                throw std::runtime_error(key_path + ": " + r.error().message());
        auto kp = load_key_file(key_path);
        if (!kp) throw std::runtime_error(key_path + ": " + kp.error().message());
        key_ = *kp;
        const auto gpath = dir + "/genesis.json";
        genesis_config fg;
        if (std::filesystem::exists(gpath)) {
            auto g = json::load_genesis_file(gpath);
            if (!g) throw std::runtime_error(gpath + ": " + g.error().message());
            fg = *g;
        }
        if (std::filesystem::exists(gpath) &&
            (fg.chain_id != genesis.chain_id || fg.max_encrypted_vote_bytes != genesis.max_encrypted_vote_bytes ||
             fg.submitters != std::vector<public_key>{submitter})) {
            // That chain cannot hold this configuration's votes. Keep it aside, start a new one.
            const auto aside = dir + ".replaced-" + std::to_string(wall_ms);
            spdlog::warn("fallback chain {} was made for another genesis or submitter; moved to {}", dir, aside);
            std::filesystem::rename(dir, aside);
            std::filesystem::create_directories(dir);
            std::filesystem::copy_file(aside + "/fallback.key", key_path);
        }
        if (!std::filesystem::exists(gpath)) {
            fg = genesis;
            fg.validators = {{"backend-fallback", key_->public_key()}};
            fg.submitters = {submitter};
            fg.max_block_txs = 1;
            if (auto ec = check_genesis(fg)) throw std::runtime_error("fallback genesis: " + ec.message());
            if (auto r = write_file_atomic(gpath, boost::json::serialize(json::to_json(fg)) + "\n", 0644, false); !r)
                throw std::runtime_error(gpath + ": " + r.error().message());
        }
        auto st = sqlite_storage::open(dir + "/chain.db");
        if (!st) throw std::runtime_error(dir + "/chain.db: " + st.error().message());
        auto c = chain_type::open(fg, std::move(*st));
        if (!c) throw std::runtime_error("fallback chain: " + c.error().message());
        chain_.emplace(std::move(*c));
    }

    /// Appends the vote's transaction in a block of its own (nothing if it is
    /// already there). True when the vote is on the fallback chain afterwards;
    /// false when it could not be recorded (logged), or is a secret ballot (which
    /// only the validators' chain can check).
    bool record(const vote_row& v, std::uint64_t wall_ms) {
        auto tx = decode_tx(v.raw_tx);
        if (!tx) {
            spdlog::error("fallback chain: vote {} does not decode: {}", to_hex(v.tx_hash), tx.error().message());
            return false;
        }
        // A secret ballot is valid only against its election's state on the validators' chain
        // (its definition and key): this chain cannot hold it. It stays in the outbox.
        if (!tx->is_vote()) return false;
        std::lock_guard lk(mu_);
        auto& c = *chain_;
        if (c.find_tx(v.tx_hash)) return true;
        block b = c.build_block(0, wall_ms, {*tx}, *key_);
        const hash32 bh = block_hash<ed25519_sha256>(b.header);
        finalized_block fb{b, commit_certificate{b.header.height, 0, bh,
                                                 {make_seal<ed25519_sha256>(*key_, 0, c.genesis().chain_id,
                                                                            b.header.height, 0, bh)}}};
        if (auto r = c.append(fb); !r) {
            spdlog::error("fallback chain: could not record vote {}: {}", to_hex(v.tx_hash), r.error().message());
            return false;
        }
        return true;
    }

    /// Verifies the whole chain (grows with it: callers cache the result).
    report verify() {
        std::lock_guard lk(mu_);
        const auto rep = chain_->verify();
        return {rep.ok, rep.blocks_checked};
    }

    /// Votes recorded for `election`, over all candidates.
    std::uint64_t total_votes(std::uint64_t election) {
        std::lock_guard lk(mu_);
        std::uint64_t total = 0;
        for (auto [cand, n] : chain_->tally(election)) total += n;
        return total;
    }

    std::uint64_t height() {
        std::lock_guard lk(mu_);
        return chain_->height();
    }

    bool contains(const hash32& tx_hash) {
        std::lock_guard lk(mu_);
        return static_cast<bool>(chain_->find_tx(tx_hash));
    }

private:
    std::mutex mu_;
    std::optional<ed25519::key_pair> key_;
    std::optional<chain_type> chain_;
};

}  // namespace ballotchain::backend
