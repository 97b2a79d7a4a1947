#pragma once
/// @file Durable storage in one SQLite file (WAL mode): the production model
/// of the storage concept. An append is one transaction, durable when it
/// returns; a process killed at any moment reopens to the last complete block.
///
/// Schema (version 1, `PRAGMA user_version`, `PRAGMA application_id` = 'BLCH'):
///
///     blocks(height INTEGER PRIMARY KEY, hash BLOB UNIQUE NOT NULL, data BLOB NOT NULL)
///         data = encode(finalized_block), the canonical encoding (codec.hpp)
///     txs(hash BLOB PRIMARY KEY, height INTEGER NOT NULL REFERENCES blocks(height),
///         idx INTEGER NOT NULL, election INTEGER NOT NULL, voter_tag BLOB NOT NULL)
///         UNIQUE INDEX txs_vote ON txs(election, voter_tag)
///     meta(key TEXT PRIMARY KEY, value BLOB NOT NULL)
///
/// 64-bit unsigned values (heights, election ids) are stored as the SQLite
/// INTEGER with the same bit pattern (two's complement).
///
/// `blocks.data` is the data; `blocks.hash` and every `txs` row are indexes
/// derived from it (what each must equal: docs/data-format.md §15). They can
/// be scanned (scan_block_index, scan_tx_index) and re-created from the
/// blocks (rebuild_indexes).

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/storage/concepts.hpp>
#include <ballotchain/storage/errc.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace ballotchain {

namespace storage_ns {

/// Reasons specific to the SQLite model: the file is not ours, or a request
/// exceeds a bound. Failures of SQLite itself are `storage_ns::errc::io_error`,
/// with SQLite's message in `sqlite_storage::last_error()`.
enum class sqlite_errc {
    ok = 0,
    not_a_database,    ///< the file is not an SQLite database
    foreign_database,  ///< an SQLite database, but not a ballotchain one
    schema_too_new,    ///< written by a newer ballotchain (user_version above ours)
    schema_too_old,    ///< a ballotchain schema version this build cannot read
    read_only,         ///< a write on a storage opened with read_only
    key_too_long,      ///< meta key longer than sqlite_storage::max_meta_key_bytes
    value_too_large,   ///< meta value larger than sqlite_storage::max_meta_value_bytes
    block_too_large,   ///< block encoding larger than sqlite_options::max_block_bytes
};

inline const char* category_name(sqlite_errc) noexcept { return "ballotchain.sqlite"; }
inline std::string describe(sqlite_errc e) {
    switch (e) {
    case sqlite_errc::ok: return "ok";
    case sqlite_errc::not_a_database: return "file is not an SQLite database";
    case sqlite_errc::foreign_database: return "SQLite database was not created by ballotchain";
    case sqlite_errc::schema_too_new: return "database schema is newer than this ballotchain supports";
    case sqlite_errc::schema_too_old: return "database schema version is not supported";
    case sqlite_errc::read_only: return "storage is open read-only";
    case sqlite_errc::key_too_long: return "metadata key is too long";
    case sqlite_errc::value_too_large: return "metadata value is too large";
    case sqlite_errc::block_too_large: return "block encoding is too large to store";
    }
    return "unknown sqlite storage error";
}
inline error_code make_error_code(sqlite_errc e) noexcept { return make_error(e); }

}  // namespace storage_ns
}  // namespace ballotchain

BALLOTCHAIN_ERROR_ENUM(ballotchain::storage_ns::sqlite_errc)

namespace ballotchain {

/// How sqlite_storage opens its file.
struct sqlite_options {
    enum class sync_mode {
        full,    ///< fsync the WAL on every commit: an append survives power loss (default)
        normal,  ///< fsync only at checkpoints: survives a process crash, may lose the
                 ///< last appends on power loss. For benchmarks and simulations.
    };
    sync_mode synchronous = sync_mode::full;
    /// How long a statement waits for another connection's lock before failing.
    int busy_timeout_ms = 5000;
    /// Open with SQLITE_OPEN_READONLY (offline verification): the file must
    /// exist and hold a ballotchain database; append and put_meta fail.
    bool read_only = false;
    /// Appends whose block encoding exceeds this are refused (block_too_large).
    std::size_t max_block_bytes = 64u * 1024 * 1024;
};

namespace detail::sqlite {

struct db_closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;

struct stmt_finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

/// Resets a cached statement (and clears its bindings) when a use ends, so a
/// statement never stays active and never keeps a read transaction open.
class stmt_use {
public:
    explicit stmt_use(sqlite3_stmt* s) noexcept : s_(s) {}
    ~stmt_use() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    stmt_use(const stmt_use&) = delete;
    stmt_use& operator=(const stmt_use&) = delete;
    sqlite3_stmt* get() const noexcept { return s_; }

private:
    sqlite3_stmt* s_;
};

inline std::int64_t to_i64(std::uint64_t v) noexcept { return static_cast<std::int64_t>(v); }
inline std::uint64_t to_u64(std::int64_t v) noexcept { return static_cast<std::uint64_t>(v); }

/// sqlite3_bind_blob binds NULL for a null pointer; an empty value must stay a blob.
inline int bind_blob(sqlite3_stmt* s, int i, byte_view v) noexcept {
    static const byte empty = 0;
    return sqlite3_bind_blob(s, i, v.empty() ? &empty : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
inline int bind_text(sqlite3_stmt* s, int i, std::string_view v) noexcept {
    static const char empty = 0;
    return sqlite3_bind_text(s, i, v.empty() ? &empty : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
inline bytes column_bytes(sqlite3_stmt* s, int i) {
    const auto* p = static_cast<const byte*>(sqlite3_column_blob(s, i));
    const int n = sqlite3_column_bytes(s, i);
    if (!p || n <= 0) return {};
    return bytes(p, p + n);
}
inline std::optional<hash32> column_hash(sqlite3_stmt* s, int i) {
    const auto* p = static_cast<const byte*>(sqlite3_column_blob(s, i));
    if (!p || sqlite3_column_bytes(s, i) != static_cast<int>(hash32::size())) return std::nullopt;
    return hash32::from(byte_view(p, hash32::size()));
}

}  // namespace detail::sqlite

/// The `storage` concept over one SQLite file.
///
/// Every block is stored as its canonical encoding with its hash and a row
/// per transaction (indexed by tx hash and by (election, voter_tag)). The
/// head height is cached in memory and re-checked inside every append's
/// transaction. Statements are prepared once at open and reused.
///
/// Errors are values, never exceptions: SQLite failures give
/// `storage_ns::errc::io_error` (details in last_error()), a stored block
/// that does not decode gives `storage_ns::errc::corrupt`, refusals of the
/// file or of a request give a `storage_ns::sqlite_errc`. A failed append
/// rolls its transaction back and leaves the storage usable.
///
/// @par Thread safety Not thread-safe: one thread at a time per object.
/// Several processes may open the same file (one writer at a time).
/// Do not carry an open object across fork().
class sqlite_storage {
public:
    /// Newest (and only) schema version this build reads and writes.
    static constexpr std::int64_t schema_version = 1;
    /// `PRAGMA application_id` of a ballotchain database: "BLCH".
    static constexpr std::int32_t application_id = 0x424c4348;
    static constexpr std::size_t max_meta_key_bytes = 256;
    /// Large enough for a prepared block the consensus engine keeps (blocks are bounded by 64 MiB).
    static constexpr std::size_t max_meta_value_bytes = 64u << 20;

    /// Opens (creating it unless `opts.read_only`) the database at `path`,
    /// switches it to WAL, checks the application id and the schema version,
    /// creates the schema in a new file, and loads the head height.
    /// On failure, `*why` (when given) receives SQLite's message or the reason.
    static result<sqlite_storage> open(const std::string& path, sqlite_options opts = {},
                                       std::string* why = nullptr) {
        sqlite_storage s;
        s.st_ = std::make_unique<state>();
        s.st_->path = path;
        s.st_->opts = opts;
        error_code ec = s.init();
        if (ec) {
            if (why) *why = s.st_->last_error.empty() ? ec.message() : s.st_->last_error;
            return ec;
        }
        return s;
    }

    sqlite_storage(sqlite_storage&&) noexcept = default;
    sqlite_storage& operator=(sqlite_storage&&) noexcept = default;
    sqlite_storage(const sqlite_storage&) = delete;
    sqlite_storage& operator=(const sqlite_storage&) = delete;
    ~sqlite_storage() = default;

    /// Stores `fb` at height head+1 (0 when empty) in one transaction; durable
    /// when it returns (with sync_mode::full, also across power loss).
    /// Tx i of `fb` is indexed under `tx_hashes[i]` (up to the shorter of the two).
    result<void> append(const finalized_block& fb, const hash32& block_hash, std::span<const hash32> tx_hashes) {
        using storage_ns::errc;
        if (!st_) return make_error(errc::io_error);
        if (st_->opts.read_only) return make_error(storage_ns::sqlite_errc::read_only);
        const std::uint64_t h = fb.blk.header.height;
        if (h != next_height()) return make_error(errc::out_of_order);
        const bytes data = encode(fb);
        if (data.size() > st_->opts.max_block_bytes) return make_error(storage_ns::sqlite_errc::block_too_large);

        if (!exec_cached(st_->begin.get())) return make_error(errc::io_error);
        // Another process may have appended since the head was cached.
        auto db_head = read_head();
        if (!db_head) return rollback(db_head.error());
        if (h != (*db_head ? **db_head + 1 : 0)) {
            st_->head = *db_head;
            return rollback(make_error(errc::out_of_order));
        }
        {
            detail::sqlite::stmt_use u(st_->insert_block.get());
            sqlite3_stmt* s = u.get();
            if (sqlite3_bind_int64(s, 1, detail::sqlite::to_i64(h)) != SQLITE_OK ||
                detail::sqlite::bind_blob(s, 2, block_hash.view()) != SQLITE_OK ||
                detail::sqlite::bind_blob(s, 3, data) != SQLITE_OK || !step_done(s))
                return rollback(make_error(errc::io_error));
        }
        const std::size_t n = std::min(tx_hashes.size(), fb.blk.txs.size());
        for (std::size_t i = 0; i < n; ++i) {
            const auto& tx = fb.blk.txs[i];
            detail::sqlite::stmt_use u(st_->insert_tx.get());
            sqlite3_stmt* s = u.get();
            if (detail::sqlite::bind_blob(s, 1, tx_hashes[i].view()) != SQLITE_OK ||
                sqlite3_bind_int64(s, 2, detail::sqlite::to_i64(h)) != SQLITE_OK ||
                sqlite3_bind_int64(s, 3, static_cast<std::int64_t>(i)) != SQLITE_OK ||
                sqlite3_bind_int64(s, 4, detail::sqlite::to_i64(tx.election_id)) != SQLITE_OK ||
                detail::sqlite::bind_blob(s, 5, tx.voter_tag.view()) != SQLITE_OK || !step_done(s))
                return rollback(make_error(errc::io_error));
        }
        if (!exec_cached(st_->commit.get())) return rollback(make_error(errc::io_error));
        st_->head = h;
        return {};
    }

    /// Height of the last block; nullopt when empty.
    std::optional<std::uint64_t> head() const {
        if (!st_) return std::nullopt;
        return st_->head;
    }

    /// The block at height h: not_found if absent, corrupt if it does not
    /// decode or claims another height.
    result<finalized_block> load(std::uint64_t h) const {
        auto raw = load_raw(h);
        if (!raw) return raw.error();
        auto fb = decode_finalized_block(*raw);
        if (!fb || fb->blk.header.height != h) {
            set_error("block " + std::to_string(h) + " does not decode" +
                      (fb ? std::string(" to that height") : ": " + fb.error().message()));
            return make_error(storage_ns::errc::corrupt);
        }
        return fb;
    }

    /// The stored encoding of the block at height h.
    result<bytes> load_raw(std::uint64_t h) const {
        if (!st_) return make_error(storage_ns::errc::io_error);
        detail::sqlite::stmt_use u(st_->select_block.get());
        sqlite3_stmt* s = u.get();
        if (sqlite3_bind_int64(s, 1, detail::sqlite::to_i64(h)) != SQLITE_OK) return io_failure();
        const int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) return make_error(storage_ns::errc::not_found);
        if (rc != SQLITE_ROW) return io_failure();
        return detail::sqlite::column_bytes(s, 0);
    }

    /// Hash indexed at height h; nullopt if absent (or not 32 bytes).
    std::optional<hash32> hash_at(std::uint64_t h) const {
        if (!st_) return std::nullopt;
        detail::sqlite::stmt_use u(st_->select_hash.get());
        sqlite3_stmt* s = u.get();
        if (sqlite3_bind_int64(s, 1, detail::sqlite::to_i64(h)) != SQLITE_OK || !step_row(s)) return std::nullopt;
        return detail::sqlite::column_hash(s, 0);
    }

    std::optional<std::uint64_t> height_of(const hash32& bh) const {
        if (!st_) return std::nullopt;
        detail::sqlite::stmt_use u(st_->select_height.get());
        sqlite3_stmt* s = u.get();
        if (detail::sqlite::bind_blob(s, 1, bh.view()) != SQLITE_OK || !step_row(s)) return std::nullopt;
        return detail::sqlite::to_u64(sqlite3_column_int64(s, 0));
    }

    std::optional<tx_location> find_tx(const hash32& th) const {
        if (!st_) return std::nullopt;
        detail::sqlite::stmt_use u(st_->select_tx.get());
        sqlite3_stmt* s = u.get();
        if (detail::sqlite::bind_blob(s, 1, th.view()) != SQLITE_OK || !step_row(s)) return std::nullopt;
        return location(s);
    }

    std::optional<tx_location> find_vote(std::uint64_t election, const hash32& voter_tag) const {
        if (!st_) return std::nullopt;
        detail::sqlite::stmt_use u(st_->select_vote.get());
        sqlite3_stmt* s = u.get();
        if (sqlite3_bind_int64(s, 1, detail::sqlite::to_i64(election)) != SQLITE_OK ||
            detail::sqlite::bind_blob(s, 2, voter_tag.view()) != SQLITE_OK || !step_row(s))
            return std::nullopt;
        return location(s);
    }

    /// Every row of the block index (the `hash` column of `blocks`), heights
    /// ascending as unsigned values (a negative stored height sorts last).
    result<void> scan_block_index(const block_index_visitor& f) const {
        if (!st_) return make_error(storage_ns::errc::io_error);
        auto s = prepare_once("SELECT height, hash FROM blocks ORDER BY height < 0, height");
        if (!s) return s.error();
        int rc;
        while ((rc = sqlite3_step(s->get())) == SQLITE_ROW) {
            const block_index_row row{detail::sqlite::to_u64(sqlite3_column_int64(s->get(), 0)),
                                      detail::sqlite::column_hash(s->get(), 1)};
            if (!f(row)) return {};
        }
        if (rc != SQLITE_DONE) return io_failure();
        return {};
    }

    /// Every row of `txs` as stored, (height, idx) ascending as unsigned values.
    result<void> scan_tx_index(const tx_index_visitor& f) const {
        if (!st_) return make_error(storage_ns::errc::io_error);
        auto s = prepare_once(
            "SELECT hash, height, idx, election, voter_tag FROM txs ORDER BY height < 0, height, idx < 0, idx");
        if (!s) return s.error();
        int rc;
        sqlite3_stmt* q = s->get();
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            const tx_index_row row{detail::sqlite::column_hash(q, 0), detail::sqlite::to_u64(sqlite3_column_int64(q, 1)),
                                   detail::sqlite::to_u64(sqlite3_column_int64(q, 2)),
                                   detail::sqlite::to_u64(sqlite3_column_int64(q, 3)), detail::sqlite::column_hash(q, 4)};
            if (!f(row)) return {};
        }
        if (rc != SQLITE_DONE) return io_failure();
        return {};
    }

    /// Re-creates both indexes from the stored blocks in one transaction:
    /// every `txs` row is deleted and re-inserted from `ix(block)` for blocks
    /// 0..head, a `blocks.hash` that differs from `ix(block).block_hash` is
    /// corrected, and rows of `blocks` at negative heights (no block can be
    /// there) are deleted. A block that does not load rolls everything back.
    /// @par Complexity One read and decode of every block; O(total txs) writes.
    result<void> rebuild_indexes(const block_indexer& ix) {
        using storage_ns::errc;
        if (!st_) return make_error(errc::io_error);
        if (st_->opts.read_only) return make_error(storage_ns::sqlite_errc::read_only);
        if (!exec_cached(st_->begin.get())) return make_error(errc::io_error);
        auto db_head = read_head();
        if (!db_head) return rollback(db_head.error());
        st_->head = *db_head;
        if (exec("DELETE FROM txs") != SQLITE_OK || exec("DELETE FROM blocks WHERE height < 0") != SQLITE_OK)
            return rollback(io_failure());
        std::vector<std::pair<std::uint64_t, hash32>> fixes;  // heights whose hash column is wrong
        for (std::uint64_t h = 0; *db_head && h <= **db_head; ++h) {
            auto fb = load(h);
            if (!fb) return rollback(fb.error());
            const auto e = ix(*fb);
            if (hash_at(h) != e.block_hash) fixes.emplace_back(h, e.block_hash);
            const std::size_t n = std::min(e.tx_hashes.size(), fb->blk.txs.size());
            for (std::size_t i = 0; i < n; ++i) {
                const auto& tx = fb->blk.txs[i];
                detail::sqlite::stmt_use u(st_->insert_tx.get());
                sqlite3_stmt* s = u.get();
                if (detail::sqlite::bind_blob(s, 1, e.tx_hashes[i].view()) != SQLITE_OK ||
                    sqlite3_bind_int64(s, 2, detail::sqlite::to_i64(h)) != SQLITE_OK ||
                    sqlite3_bind_int64(s, 3, static_cast<std::int64_t>(i)) != SQLITE_OK ||
                    sqlite3_bind_int64(s, 4, detail::sqlite::to_i64(tx.election_id)) != SQLITE_OK ||
                    detail::sqlite::bind_blob(s, 5, tx.voter_tag.view()) != SQLITE_OK || !step_done(s))
                    return rollback(make_error(errc::io_error));
            }
        }
        // Two steps, so that swapped hashes never collide on the UNIQUE column:
        // first a placeholder no 32-byte hash can equal (the height as text), then the hash.
        for (const char* sql : {"UPDATE blocks SET hash = CAST(height AS TEXT) WHERE height = ?1",
                                "UPDATE blocks SET hash = ?2 WHERE height = ?1"}) {
            auto s = prepare_once(sql);
            if (!s) return rollback(s.error());
            for (const auto& [h, bh] : fixes) {
                sqlite3_reset(s->get());
                if (sqlite3_bind_int64(s->get(), 1, detail::sqlite::to_i64(h)) != SQLITE_OK ||
                    (sqlite3_bind_parameter_count(s->get()) == 2 &&
                     detail::sqlite::bind_blob(s->get(), 2, bh.view()) != SQLITE_OK) ||
                    !step_done(s->get()))
                    return rollback(make_error(errc::io_error));
            }
        }
        if (!exec_cached(st_->commit.get())) return rollback(make_error(errc::io_error));
        return {};
    }

    /// Durably stores (or replaces) `v` under `k`. Keys are at most
    /// max_meta_key_bytes, values at most max_meta_value_bytes.
    result<void> put_meta(std::string_view k, byte_view v) {
        if (!st_) return make_error(storage_ns::errc::io_error);
        if (st_->opts.read_only) return make_error(storage_ns::sqlite_errc::read_only);
        if (k.size() > max_meta_key_bytes) return make_error(storage_ns::sqlite_errc::key_too_long);
        if (v.size() > max_meta_value_bytes) return make_error(storage_ns::sqlite_errc::value_too_large);
        detail::sqlite::stmt_use u(st_->put_meta.get());
        sqlite3_stmt* s = u.get();
        if (detail::sqlite::bind_text(s, 1, k) != SQLITE_OK || detail::sqlite::bind_blob(s, 2, v) != SQLITE_OK ||
            !step_done(s))
            return io_failure();
        return {};
    }

    std::optional<bytes> get_meta(std::string_view k) const {
        if (!st_ || k.size() > max_meta_key_bytes) return std::nullopt;
        detail::sqlite::stmt_use u(st_->get_meta.get());
        sqlite3_stmt* s = u.get();
        if (detail::sqlite::bind_text(s, 1, k) != SQLITE_OK || !step_row(s)) return std::nullopt;
        return detail::sqlite::column_bytes(s, 0);
    }

    // ---- beyond the concept ------------------------------------------------------

    /// The path given to open().
    const std::string& path() const noexcept {
        static const std::string none;
        return st_ ? st_->path : none;
    }

    /// SQLite's `PRAGMA quick_check` of the whole file: corrupt (with the
    /// findings in last_error()) unless SQLite answers "ok".
    result<void> integrity_check() const {
        if (!st_) return make_error(storage_ns::errc::io_error);
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(st_->db.get(), "PRAGMA quick_check", -1, &raw, nullptr) != SQLITE_OK)
            return io_failure();
        detail::sqlite::stmt_ptr s(raw);
        std::string findings;
        int rc;
        std::size_t rows = 0;
        while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
            const auto* t = sqlite3_column_text(s.get(), 0);
            const std::string line = t ? reinterpret_cast<const char*>(t) : "";
            if (rows++ == 0 && line == "ok") continue;
            if (!findings.empty()) findings += '\n';
            findings += line;
        }
        if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
            set_error(sqlite3_errmsg(st_->db.get()));
            return make_error(storage_ns::errc::corrupt);
        }
        if (rc != SQLITE_DONE) return io_failure();
        if (rows != 1 || !findings.empty()) {
            set_error(findings);
            return make_error(storage_ns::errc::corrupt);
        }
        return {};
    }

    /// The last failure's detail (SQLite's message or the reason); empty if none.
    const std::string& last_error() const noexcept {
        static const std::string none;
        return st_ ? st_->last_error : none;
    }

    const sqlite_options& options() const noexcept {
        static const sqlite_options none;
        return st_ ? st_->opts : none;
    }

    /// The underlying connection, for tools and tests (e.g. a commit hook).
    /// Do not change the schema or leave a transaction open through it.
    sqlite3* native_handle() const noexcept { return st_ ? st_->db.get() : nullptr; }

private:
    sqlite_storage() = default;

    /// Everything behind one pointer: moves are cheap and a moved-from object
    /// answers every call with an error instead of crashing.
    /// Statements are declared after the connection so they are finalized first.
    struct state {
        std::string path;
        sqlite_options opts;
        std::optional<std::uint64_t> head;
        std::string last_error;
        detail::sqlite::db_ptr db;
        detail::sqlite::stmt_ptr begin, commit, rollback, max_height, insert_block, insert_tx, select_block,
            select_hash, select_height, select_tx, select_vote, put_meta, get_meta;
    };

    std::uint64_t next_height() const noexcept { return st_->head ? *st_->head + 1 : 0; }

    void set_error(std::string msg) const { st_->last_error = std::move(msg); }
    /// The error for a failed SQLite call: corrupt when SQLite found the file
    /// damaged, io_error otherwise; SQLite's message goes to last_error().
    error_code io_failure() const {
        set_error(sqlite3_errmsg(st_->db.get()));
        const int rc = sqlite3_errcode(st_->db.get()) & 0xff;
        if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return make_error(storage_ns::errc::corrupt);
        return make_error(storage_ns::errc::io_error);
    }

    bool step_done(sqlite3_stmt* s) const {
        if (sqlite3_step(s) == SQLITE_DONE) return true;
        set_error(sqlite3_errmsg(st_->db.get()));
        return false;
    }
    /// True when `s` yields a row; a failed step is remembered in last_error().
    bool step_row(sqlite3_stmt* s) const {
        const int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) return true;
        if (rc != SQLITE_DONE) set_error(sqlite3_errmsg(st_->db.get()));
        return false;
    }
    bool exec_cached(sqlite3_stmt* s) const {
        detail::sqlite::stmt_use u(s);
        return step_done(s);
    }

    /// Ends a failed append: rolls back if a transaction is still open.
    error_code rollback(error_code ec) {
        if (!sqlite3_get_autocommit(st_->db.get())) {
            detail::sqlite::stmt_use u(st_->rollback.get());
            sqlite3_step(u.get());
        }
        return ec;
    }

    /// The (height, idx) of a lookup; nullopt for an idx no block can have
    /// (a damaged row must not be truncated into a plausible location).
    static std::optional<tx_location> location(sqlite3_stmt* s) {
        const std::int64_t idx = sqlite3_column_int64(s, 1);
        if (idx < 0 || idx > std::int64_t{0xffffffff}) return std::nullopt;
        return tx_location{detail::sqlite::to_u64(sqlite3_column_int64(s, 0)), static_cast<std::uint32_t>(idx)};
    }

    /// Prepares a one-off statement (scans and repairs are rare).
    result<detail::sqlite::stmt_ptr> prepare_once(const char* sql) const {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(st_->db.get(), sql, -1, &raw, nullptr) != SQLITE_OK) {
            detail::sqlite::stmt_ptr guard(raw);
            return io_failure();
        }
        return detail::sqlite::stmt_ptr(raw);
    }

    /// MAX(height) as stored: nullopt when there are no blocks.
    result<std::optional<std::uint64_t>> read_head() const {
        detail::sqlite::stmt_use u(st_->max_height.get());
        sqlite3_stmt* s = u.get();
        if (sqlite3_step(s) != SQLITE_ROW) return io_failure();
        if (sqlite3_column_type(s, 0) == SQLITE_NULL) return std::optional<std::uint64_t>{};
        return std::optional<std::uint64_t>{detail::sqlite::to_u64(sqlite3_column_int64(s, 0))};
    }

    /// Maps an SQLite result code met while opening to our error.
    error_code open_failure(int rc) const {
        set_error(st_->db ? sqlite3_errmsg(st_->db.get()) : sqlite3_errstr(rc));
        if ((rc & 0xff) == SQLITE_NOTADB) return make_error(storage_ns::sqlite_errc::not_a_database);
        if ((rc & 0xff) == SQLITE_CORRUPT) return make_error(storage_ns::errc::corrupt);
        return make_error(storage_ns::errc::io_error);
    }

    int exec(const char* sql) const { return sqlite3_exec(st_->db.get(), sql, nullptr, nullptr, nullptr); }

    /// Runs a one-value query (a PRAGMA); the value as text in *out_text or integer in *out_int.
    int query_one(const char* sql, std::int64_t* out_int, std::string* out_text = nullptr) const {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(st_->db.get(), sql, -1, &raw, nullptr);
        if (rc != SQLITE_OK) return rc;
        detail::sqlite::stmt_ptr s(raw);
        rc = sqlite3_step(s.get());
        if (rc == SQLITE_ROW) {
            if (out_int) *out_int = sqlite3_column_int64(s.get(), 0);
            if (out_text) {
                const auto* t = sqlite3_column_text(s.get(), 0);
                *out_text = t ? reinterpret_cast<const char*>(t) : "";
            }
            rc = sqlite3_step(s.get());
        }
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
    }

    error_code init() {
        auto& st = *st_;
        const int flags = (st.opts.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                          SQLITE_OPEN_NOMUTEX;
        sqlite3* raw = nullptr;
        int rc = sqlite3_open_v2(st.path.c_str(), &raw, flags, nullptr);
        st.db.reset(raw);  // even on failure the handle must be closed
        if (rc != SQLITE_OK) return open_failure(rc);
        sqlite3_extended_result_codes(st.db.get(), 1);
        sqlite3_busy_timeout(st.db.get(), st.opts.busy_timeout_ms);

        // The first read of the file: a non-SQLite file fails here with SQLITE_NOTADB.
        std::int64_t app_id = 0, version = 0;
        if ((rc = query_one("PRAGMA application_id", &app_id)) != SQLITE_OK) return open_failure(rc);
        if ((rc = query_one("PRAGMA user_version", &version)) != SQLITE_OK) return open_failure(rc);

        if (!st.opts.read_only) {
            std::string mode;
            if ((rc = query_one("PRAGMA journal_mode=WAL", nullptr, &mode)) != SQLITE_OK) return open_failure(rc);
            if (mode != "wal") {
                set_error("cannot switch to WAL journal mode (got '" + mode + "')");
                return make_error(storage_ns::errc::io_error);
            }
        }
        const char* sync = st.opts.synchronous == sqlite_options::sync_mode::full ? "PRAGMA synchronous=FULL"
                                                                                  : "PRAGMA synchronous=NORMAL";
        if ((rc = exec(sync)) != SQLITE_OK) return open_failure(rc);
        if ((rc = exec("PRAGMA foreign_keys=ON")) != SQLITE_OK) return open_failure(rc);

        if (app_id == 0 && version == 0) {
            if (st.opts.read_only) {
                set_error("'" + st.path + "' holds no ballotchain database");
                return make_error(storage_ns::sqlite_errc::foreign_database);
            }
            if (auto ec = create_schema(app_id, version)) return ec;
        }
        if (app_id != application_id) {
            set_error("'" + st.path + "' is an SQLite database of another application (application_id " +
                      std::to_string(app_id) + ")");
            return make_error(storage_ns::sqlite_errc::foreign_database);
        }
        if (version > schema_version) {
            set_error("'" + st.path + "' has schema version " + std::to_string(version) +
                      "; this build supports up to " + std::to_string(schema_version));
            return make_error(storage_ns::sqlite_errc::schema_too_new);
        }
        if (version < schema_version) {
            set_error("'" + st.path + "' has unsupported schema version " + std::to_string(version));
            return make_error(storage_ns::sqlite_errc::schema_too_old);
        }

        if (auto ec = prepare_all()) return ec;
        auto h = read_head();
        if (!h) return h.error();
        st.head = *h;
        return {};
    }

    /// Creates the schema in an empty file, in one transaction. Another process
    /// may race us: re-read the ids under the write lock. Sets the ids found or written.
    error_code create_schema(std::int64_t& app_id, std::int64_t& version) {
        int rc = exec("BEGIN IMMEDIATE");
        if (rc != SQLITE_OK) return open_failure(rc);
        auto fail = [&](int code) {
            const error_code ec = open_failure(code);
            exec("ROLLBACK");
            return ec;
        };
        if ((rc = query_one("PRAGMA application_id", &app_id)) != SQLITE_OK) return fail(rc);
        if ((rc = query_one("PRAGMA user_version", &version)) != SQLITE_OK) return fail(rc);
        if (app_id != 0 || version != 0) {
            exec("ROLLBACK");
            return {};
        }
        std::int64_t tables = 0;
        if ((rc = query_one("SELECT count(*) FROM sqlite_schema", &tables)) != SQLITE_OK) return fail(rc);
        if (tables != 0) {
            exec("ROLLBACK");
            return {};  // app_id 0: reported as foreign by the caller
        }
        static constexpr const char* schema =
            "CREATE TABLE blocks(height INTEGER PRIMARY KEY, hash BLOB UNIQUE NOT NULL, data BLOB NOT NULL);"
            "CREATE TABLE txs(hash BLOB PRIMARY KEY, height INTEGER NOT NULL REFERENCES blocks(height),"
            " idx INTEGER NOT NULL, election INTEGER NOT NULL, voter_tag BLOB NOT NULL) WITHOUT ROWID;"
            "CREATE UNIQUE INDEX txs_vote ON txs(election, voter_tag);"
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
            "PRAGMA application_id=1112294216;"
            "PRAGMA user_version=1;";
        static_assert(application_id == 1112294216 && schema_version == 1, "keep the schema text in step");
        if ((rc = exec(schema)) != SQLITE_OK) return fail(rc);
        if ((rc = exec("COMMIT")) != SQLITE_OK) return fail(rc);
        app_id = application_id;
        version = schema_version;
        return {};
    }

    error_code prepare_all() {
        auto& st = *st_;
        struct item {
            detail::sqlite::stmt_ptr* slot;
            const char* sql;
        };
        const item items[] = {
            {&st.begin, "BEGIN IMMEDIATE"},
            {&st.commit, "COMMIT"},
            {&st.rollback, "ROLLBACK"},
            {&st.max_height, "SELECT max(height) FROM blocks"},
            {&st.insert_block, "INSERT INTO blocks(height, hash, data) VALUES(?1, ?2, ?3)"},
            {&st.insert_tx, "INSERT INTO txs(hash, height, idx, election, voter_tag) VALUES(?1, ?2, ?3, ?4, ?5)"},
            {&st.select_block, "SELECT data FROM blocks WHERE height = ?1"},
            {&st.select_hash, "SELECT hash FROM blocks WHERE height = ?1"},
            {&st.select_height, "SELECT height FROM blocks WHERE hash = ?1"},
            {&st.select_tx, "SELECT height, idx FROM txs WHERE hash = ?1"},
            {&st.select_vote, "SELECT height, idx FROM txs WHERE election = ?1 AND voter_tag = ?2"},
            {&st.put_meta, "INSERT INTO meta(key, value) VALUES(?1, ?2) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
            {&st.get_meta, "SELECT value FROM meta WHERE key = ?1"},
        };
        for (const auto& it : items) {
            sqlite3_stmt* raw = nullptr;
            const int rc = sqlite3_prepare_v3(st.db.get(), it.sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
            it.slot->reset(raw);
            if (rc != SQLITE_OK) {
                // Ids and version are ours, so a missing table or column means damage.
                set_error(std::string("schema does not match (") + sqlite3_errmsg(st.db.get()) + ")");
                return make_error(storage_ns::errc::corrupt);
            }
        }
        return {};
    }

    std::unique_ptr<state> st_;
};
static_assert(storage<sqlite_storage>);

}  // namespace ballotchain
