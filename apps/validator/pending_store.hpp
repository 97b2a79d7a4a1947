#pragma once
/// @file Durable record of the votes this validator acknowledged but has not
/// yet seen final. A vote is written here (fsync) before the RPC answers with
/// its hash, and deleted when its block is final; on restart the validator
/// re-submits what is left. So an acknowledged vote survives a kill -9 of the
/// validator that acknowledged it, even if its gossip never left the process.

#include <ballotchain/chain/codec.hpp>

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

namespace ballotchain::app {

class pending_store {
public:
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
            "CREATE TABLE IF NOT EXISTS pending(hash BLOB PRIMARY KEY, tx BLOB NOT NULL) WITHOUT ROWID;";
        char* err = nullptr;
        if (sqlite3_exec(p->db_, ddl, nullptr, nullptr, &err) != SQLITE_OK) {
            why = err ? err : "schema";
            sqlite3_free(err);
            return nullptr;
        }
        if (sqlite3_prepare_v2(p->db_, "INSERT OR IGNORE INTO pending(hash, tx) VALUES(?1, ?2)", -1, &p->ins_, nullptr) !=
                SQLITE_OK ||
            sqlite3_prepare_v2(p->db_, "DELETE FROM pending WHERE hash = ?1", -1, &p->del_, nullptr) != SQLITE_OK) {
            why = sqlite3_errmsg(p->db_);
            return nullptr;
        }
        return p;
    }

    ~pending_store() {
        sqlite3_finalize(ins_);
        sqlite3_finalize(del_);
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
        sqlite3_bind_blob(ins_, 1, th.data.data(), static_cast<int>(th.data.size()), SQLITE_TRANSIENT);
        sqlite3_bind_blob(ins_, 2, enc.data(), static_cast<int>(enc.size()), SQLITE_TRANSIENT);
        const bool ok = sqlite3_step(ins_) == SQLITE_DONE;
        if (!ok) last_error_ = sqlite3_errmsg(db_);
        sqlite3_reset(ins_);
        return ok;
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
            sqlite3_bind_blob(del_, 1, h.data.data(), static_cast<int>(h.data.size()), SQLITE_TRANSIENT);
            sqlite3_step(del_);
        }
        sqlite3_reset(del_);
        if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK && !sqlite3_get_autocommit(db_))
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
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
    sqlite3* db_ = nullptr;
    sqlite3_stmt* ins_ = nullptr;
    sqlite3_stmt* del_ = nullptr;
    std::string last_error_;
};

}  // namespace ballotchain::app
