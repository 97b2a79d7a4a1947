#pragma once
/// @file Durable record of the votes this validator acknowledged but has not
/// yet seen final. A vote is written here (fsync) before the RPC answers with
/// its hash, and deleted when its block is final; on restart the validator
/// re-submits what is left. So an acknowledged vote survives a kill -9 of the
/// validator that acknowledged it, even if its gossip never left the process.
///
/// An acknowledged vote that loses to a conflicting vote (same election and
/// voter tag) final first is moved, in one transaction, to `dropped` with the
/// winner, so poa_getTransactionStatus can say so after any restart. `dropped`
/// keeps the newest max_dropped entries (older ones are deleted).
///
/// The file `pending.db` goes through the SQLite layer (storage/sqlite.hpp):
/// application id "BLPD", schema version 1 (docs/data-format.md §15). Files
/// from before the id (application id 0 with a `pending` table) are adopted.
///
/// Every operation returns its failure as a value with SQLite's message; a
/// failed write leaves nothing half done (one transaction each).
///
/// @par Thread safety One thread at a time: the validator's io thread.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/storage/sqlite.hpp>

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ballotchain::app {

/// A vote acknowledged here that a conflicting final vote replaced.
struct dropped_vote {
    hash32 winner;             ///< tx hash of the final vote with the same (election, voter tag)
    std::uint64_t height = 0;  ///< its block
    hash32 block_hash;
};

class pending_store {
public:
    /// Dropped votes remembered (about 120 bytes each on disk).
    static constexpr std::int64_t max_dropped = 100'000;
    /// `PRAGMA application_id` of pending.db: "BLPD".
    static constexpr std::int32_t application_id = 0x424c5044;

    /// Version 1: the `pending` and `dropped` tables. A file from before the
    /// application id may hold only `pending` (dropped came later): the
    /// migration creates what is missing.
    static const storage_ns::sqlite::schema& db_schema() {
        static const storage_ns::sqlite::schema s{
            application_id,
            {storage_ns::sqlite::sql_migration(
                "CREATE TABLE IF NOT EXISTS pending(hash BLOB PRIMARY KEY, tx BLOB NOT NULL) WITHOUT ROWID;"
                "CREATE TABLE IF NOT EXISTS dropped(seq INTEGER PRIMARY KEY AUTOINCREMENT, hash BLOB UNIQUE NOT NULL,"
                " winner BLOB NOT NULL, height INTEGER NOT NULL, block_hash BLOB NOT NULL);")},
            "pending"};
        return s;
    }

    /// Opens (creating or upgrading) pending.db at `path`: WAL, synchronous=FULL.
    static storage_ns::db_result<pending_store> open(const std::string& path) {
        auto c = storage_ns::sqlite::connection::open(path, db_schema());
        if (!c) return c.error();
        return pending_store(std::move(*c));
    }

    /// Records an acknowledged vote; durable when it returns without error.
    storage_ns::db_result<void> put(const hash32& th, const vote_tx& tx) {
        const bytes enc = encode(tx);
        auto r = db_.run("INSERT OR IGNORE INTO pending(hash, tx) VALUES(?1, ?2)", th, enc);
        if (!r) return r.error();
        return {};
    }

    /// Records many acknowledged votes in one transaction (one fsync); durable when it returns
    /// without error, nothing recorded otherwise.
    storage_ns::db_result<void> put_many(std::span<const std::pair<hash32, vote_tx>> votes) {
        if (votes.empty()) return {};
        auto tx = db_.begin();
        if (!tx) return tx.error();
        for (const auto& [th, v] : votes)
            if (auto r = db_.run("INSERT OR IGNORE INTO pending(hash, tx) VALUES(?1, ?2)", th, encode(v)); !r)
                return r.error();
        return tx->commit();
    }

    storage_ns::db_result<bool> contains(const hash32& th) {
        auto q = db_.query("SELECT 1 FROM pending WHERE hash = ?1", th);
        if (!q) return q.error();
        return q->step();
    }

    /// Removes many in one transaction. On failure (e.g. a full disk) nothing
    /// is removed and the votes stay: re-submitted after a restart, they are
    /// found final and removed then.
    storage_ns::db_result<void> erase(std::span<const hash32> hs) {
        if (hs.empty()) return {};
        auto tx = db_.begin();
        if (!tx) return tx.error();
        for (const auto& h : hs)
            if (auto r = db_.run("DELETE FROM pending WHERE hash = ?1", h); !r) return r.error();
        return tx->commit();
    }

    /// Moves `th` from pending to dropped (one durable transaction), keeping
    /// the newest max_dropped dropped entries.
    storage_ns::db_result<void> drop(const hash32& th, const dropped_vote& d) {
        auto tx = db_.begin();
        if (!tx) return tx.error();
        if (auto r = db_.run("DELETE FROM pending WHERE hash = ?1", th); !r) return r.error();
        if (auto r = db_.run("INSERT OR REPLACE INTO dropped(hash, winner, height, block_hash) VALUES(?1, ?2, ?3, ?4)",
                             th, d.winner, d.height, d.block_hash);
            !r)
            return r.error();
        if (auto r = db_.run("DELETE FROM dropped WHERE seq <= (SELECT max(seq) FROM dropped) - ?1", max_dropped); !r)
            return r.error();
        return tx->commit();
    }

    /// The record of a dropped vote, if `th` is one (and not yet trimmed). A
    /// row whose hashes are not 32 bytes is damaged and reads as absent.
    storage_ns::db_result<std::optional<dropped_vote>> dropped(const hash32& th) {
        auto q = db_.query("SELECT winner, height, block_hash FROM dropped WHERE hash = ?1", th);
        if (!q) return q.error();
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) return std::optional<dropped_vote>{};
        const auto winner = q->fixed<32>(0);
        const auto block = q->fixed<32>(2);
        if (!winner || !block) return std::optional<dropped_vote>{};
        return std::optional<dropped_vote>{dropped_vote{*winner, q->uint64(1), *block}};
    }

    /// Every stored vote that still decodes (a damaged row is skipped).
    storage_ns::db_result<std::vector<std::pair<hash32, vote_tx>>> load() {
        std::vector<std::pair<hash32, vote_tx>> out;
        auto q = db_.query("SELECT hash, tx FROM pending");
        if (!q) return q.error();
        auto r = q->each([&](const storage_ns::sqlite::statement& s) {
            const auto h = s.fixed<32>(0);
            if (!h) return;
            if (auto tx = decode_tx(s.blob(1))) out.emplace_back(*h, std::move(*tx));
        });
        if (!r) return r.error();
        return out;
    }

    const std::string& path() const noexcept { return db_.path(); }

private:
    explicit pending_store(storage_ns::sqlite::connection c) noexcept : db_(std::move(c)) {}

    storage_ns::sqlite::connection db_;
};

}  // namespace ballotchain::app
