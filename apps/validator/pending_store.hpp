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

#include <ballotchain/chain/codec.hpp>

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ballotchain::app {

/// A vote acknowledged here that a conflicting final vote replaced.
struct dropped_vote {
    hash32 winner;          ///< tx hash of the final vote with the same (election, voter tag)
    std::uint64_t height = 0;  ///< its block
    hash32 block_hash;
};

class pending_store {
public:
    /// Dropped votes remembered (about 120 bytes each on disk).
    static constexpr std::int64_t max_dropped = 100'000;

    static std::unique_ptr<pending_store> open(const std::string& path, std::string& why) {
        auto p = std::unique_ptr<pending_store>(new pending_store());
        if (sqlite3_open_v2(path.c_str(), &p->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK) {
            why = p->db_ ? sqlite3_errmsg(p->db_) : "cannot open";
            return nullptr;
        }
        sqlite3_busy_timeout(p->db_, 5000);
        const char* ddl =
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
            "CREATE TABLE IF NOT EXISTS pending(hash BLOB PRIMARY KEY, tx BLOB NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS dropped(seq INTEGER PRIMARY KEY AUTOINCREMENT, hash BLOB UNIQUE NOT NULL,"
            " winner BLOB NOT NULL, height INTEGER NOT NULL, block_hash BLOB NOT NULL);";
        char* err = nullptr;
        if (sqlite3_exec(p->db_, ddl, nullptr, nullptr, &err) != SQLITE_OK) {
            why = err ? err : "schema";
            sqlite3_free(err);
            return nullptr;
        }
        const std::pair<sqlite3_stmt**, const char*> stmts[] = {
            {&p->ins_, "INSERT OR IGNORE INTO pending(hash, tx) VALUES(?1, ?2)"},
            {&p->del_, "DELETE FROM pending WHERE hash = ?1"},
            {&p->has_, "SELECT 1 FROM pending WHERE hash = ?1"},
            {&p->drop_, "INSERT OR REPLACE INTO dropped(hash, winner, height, block_hash) VALUES(?1, ?2, ?3, ?4)"},
            {&p->trim_, "DELETE FROM dropped WHERE seq <= (SELECT max(seq) FROM dropped) - ?1"},
            {&p->get_dropped_, "SELECT winner, height, block_hash FROM dropped WHERE hash = ?1"},
        };
        for (const auto& [slot, sql] : stmts)
            if (sqlite3_prepare_v2(p->db_, sql, -1, slot, nullptr) != SQLITE_OK) {
                why = sqlite3_errmsg(p->db_);
                return nullptr;
            }
        return p;
    }

    ~pending_store() {
        for (auto* s : {ins_, del_, has_, drop_, trim_, get_dropped_}) sqlite3_finalize(s);
        sqlite3_close(db_);
    }
    pending_store(const pending_store&) = delete;
    pending_store& operator=(const pending_store&) = delete;

    /// Durable when it returns true.
    bool put(const hash32& th, const vote_tx& tx) {
        // A transaction left open by a failed erase would hold this insert uncommitted.
        if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        const bytes enc = encode(tx);
        sqlite3_reset(ins_);
        bind(ins_, 1, th);
        sqlite3_bind_blob(ins_, 2, enc.data(), static_cast<int>(enc.size()), SQLITE_TRANSIENT);
        const bool ok = sqlite3_step(ins_) == SQLITE_DONE;
        if (!ok) last_error_ = sqlite3_errmsg(db_);
        sqlite3_reset(ins_);
        return ok;
    }

    bool contains(const hash32& th) {
        sqlite3_reset(has_);
        bind(has_, 1, th);
        const bool found = sqlite3_step(has_) == SQLITE_ROW;
        sqlite3_reset(has_);
        return found;
    }

    /// SQLite's message for the last failed put.
    const std::string& last_error() const noexcept { return last_error_; }

    /// Removes many in one transaction. On failure (e.g. a full disk) the
    /// transaction is rolled back and the votes stay: re-submitted after a
    /// restart, they are found final and dropped then.
    void erase(const std::vector<hash32>& hs) {
        if (hs.empty()) return;
        if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return;
        for (const auto& h : hs) {
            sqlite3_reset(del_);
            bind(del_, 1, h);
            sqlite3_step(del_);
        }
        sqlite3_reset(del_);
        if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK && !sqlite3_get_autocommit(db_))
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }

    /// Moves `th` from pending to dropped (one durable transaction), keeping
    /// the newest max_dropped dropped entries. Returns whether it committed.
    bool drop(const hash32& th, const dropped_vote& d) {
        if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return false;
        bool ok = true;
        sqlite3_reset(del_);
        bind(del_, 1, th);
        ok = ok && sqlite3_step(del_) == SQLITE_DONE;
        sqlite3_reset(drop_);
        bind(drop_, 1, th);
        bind(drop_, 2, d.winner);
        sqlite3_bind_int64(drop_, 3, static_cast<sqlite3_int64>(d.height));
        bind(drop_, 4, d.block_hash);
        ok = ok && sqlite3_step(drop_) == SQLITE_DONE;
        sqlite3_reset(trim_);
        sqlite3_bind_int64(trim_, 1, max_dropped);
        ok = ok && sqlite3_step(trim_) == SQLITE_DONE;
        for (auto* s : {del_, drop_, trim_}) sqlite3_reset(s);
        ok = ok && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
        if (!ok) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return ok;
    }

    /// The record of a dropped vote, if `th` is one (and not yet trimmed).
    std::optional<dropped_vote> dropped(const hash32& th) {
        sqlite3_reset(get_dropped_);
        bind(get_dropped_, 1, th);
        std::optional<dropped_vote> out;
        if (sqlite3_step(get_dropped_) == SQLITE_ROW && sqlite3_column_bytes(get_dropped_, 0) == 32 &&
            sqlite3_column_bytes(get_dropped_, 2) == 32) {
            dropped_vote d;
            std::memcpy(d.winner.data.data(), sqlite3_column_blob(get_dropped_, 0), 32);
            d.height = static_cast<std::uint64_t>(sqlite3_column_int64(get_dropped_, 1));
            std::memcpy(d.block_hash.data.data(), sqlite3_column_blob(get_dropped_, 2), 32);
            out = d;
        }
        sqlite3_reset(get_dropped_);
        return out;
    }

    /// Every stored vote that still decodes (anything else is dropped).
    std::vector<std::pair<hash32, vote_tx>> load() {
        std::vector<std::pair<hash32, vote_tx>> out;
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, "SELECT hash, tx FROM pending", -1, &st, nullptr) != SQLITE_OK) return out;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (sqlite3_column_bytes(st, 0) != 32) continue;
            hash32 h;
            std::memcpy(h.data.data(), sqlite3_column_blob(st, 0), 32);
            const auto* p = static_cast<const byte*>(sqlite3_column_blob(st, 1));
            auto tx = decode_tx(byte_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st, 1))));
            if (tx) out.emplace_back(h, std::move(*tx));
        }
        sqlite3_finalize(st);
        return out;
    }

private:
    pending_store() = default;
    static void bind(sqlite3_stmt* s, int i, const hash32& h) {
        sqlite3_bind_blob(s, i, h.data.data(), static_cast<int>(h.data.size()), SQLITE_TRANSIENT);
    }

    sqlite3* db_ = nullptr;
    sqlite3_stmt* ins_ = nullptr;
    sqlite3_stmt* del_ = nullptr;
    sqlite3_stmt* has_ = nullptr;
    sqlite3_stmt* drop_ = nullptr;
    sqlite3_stmt* trim_ = nullptr;
    sqlite3_stmt* get_dropped_ = nullptr;
    std::string last_error_;
};

}  // namespace ballotchain::app
