#pragma once
/// @file Durable storage in one SQLite file (WAL mode): the production model
/// of the storage concept. An append is one transaction, durable when it
/// returns; a process killed at any moment reopens to the last complete block.
///
/// Schema (version 2, `PRAGMA user_version`, `PRAGMA application_id` = 'BLCH';
/// version 1 files are upgraded when opened for writing):
///
///     blocks(height INTEGER PRIMARY KEY, hash BLOB UNIQUE NOT NULL, data BLOB NOT NULL)
///         data = encode(finalized_block), the canonical encoding (codec.hpp)
///     txs(hash BLOB PRIMARY KEY, height INTEGER NOT NULL REFERENCES blocks(height),
///         idx INTEGER NOT NULL, election INTEGER NOT NULL, voter_tag BLOB NOT NULL)
///         UNIQUE INDEX txs_vote ON txs(election, voter_tag)
///         INDEX txs_election ON txs(election, height, idx)   (version 2)
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
#include <ballotchain/storage/sqlite.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace ballotchain {

/// How sqlite_storage opens its file.
struct sqlite_options {
    using sync_mode = storage_ns::sqlite::sync_mode;
    sync_mode synchronous = sync_mode::full;
    /// How long a statement waits for another connection's lock before failing.
    int busy_timeout_ms = 5000;
    /// Open with SQLITE_OPEN_READONLY (offline verification): the file must
    /// exist and hold a ballotchain database; append and put_meta fail.
    bool read_only = false;
    /// Appends whose block encoding exceeds this are refused (block_too_large).
    std::size_t max_block_bytes = 64u * 1024 * 1024;
    /// SQLite's page cache, MiB (0: SQLite's default); `ballotchain verify` uses a large one.
    std::size_t cache_mib = 0;
};

/// The `storage` concept over one SQLite file, through the SQLite layer
/// (storage/sqlite.hpp).
///
/// Every block is stored as its canonical encoding with its hash and a row
/// per transaction (indexed by tx hash and by (election, voter_tag)). The
/// head height is cached in memory and re-checked inside every append's
/// transaction. Statements are prepared once and reused.
///
/// Errors are values, never exceptions: SQLite failures give
/// `storage_ns::errc::io_error` (details in last_error()), a stored block
/// that does not decode or a damaged file gives `storage_ns::errc::corrupt`,
/// refusals of the file or of a request give a `storage_ns::sqlite_errc`. A
/// failed append rolls its transaction back and leaves the storage usable.
///
/// @par Thread safety Not thread-safe: one thread at a time per object.
/// Several processes may open the same file (one writer at a time).
/// Do not carry an open object across fork().
class sqlite_storage {
public:
    /// Newest (and only) schema version this build reads and writes.
    static constexpr std::int64_t schema_version = 2;
    /// `PRAGMA application_id` of a ballotchain database: "BLCH".
    static constexpr std::int32_t application_id = 0x424c4348;
    static constexpr std::size_t max_meta_key_bytes = 256;
    /// Large enough for a prepared block the consensus engine keeps (blocks are bounded by 64 MiB).
    static constexpr std::size_t max_meta_value_bytes = 64u << 20;

    /// The chain's schema: version 1 creates the tables; a file with application
    /// id 0 and tables is foreign (chain files always had their id).
    static const storage_ns::sqlite::schema& db_schema() {
        static const storage_ns::sqlite::schema s{
            application_id,
            {storage_ns::sqlite::sql_migration(
                "CREATE TABLE blocks(height INTEGER PRIMARY KEY, hash BLOB UNIQUE NOT NULL, data BLOB NOT NULL);"
                "CREATE TABLE txs(hash BLOB PRIMARY KEY, height INTEGER NOT NULL REFERENCES blocks(height),"
                " idx INTEGER NOT NULL, election INTEGER NOT NULL, voter_tag BLOB NOT NULL) WITHOUT ROWID;"
                "CREATE UNIQUE INDEX txs_vote ON txs(election, voter_tag);"
                "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"),
             // Version 2: an election's latest transactions without a scan (GET /blockchain?election_id=).
             storage_ns::sqlite::sql_migration("CREATE INDEX txs_election ON txs(election, height, idx);")},
            {}};
        return s;
    }

    /// Opens (creating it unless `opts.read_only`) the database at `path`,
    /// switches it to WAL, checks the application id and the schema version,
    /// creates the schema in a new file, and loads the head height.
    /// On failure, `*why` (when given) receives SQLite's message or the reason.
    static result<sqlite_storage> open(const std::string& path, sqlite_options opts = {},
                                       std::string* why = nullptr) {
        storage_ns::sqlite::options o;
        o.read_only = opts.read_only;
        o.synchronous = opts.synchronous;
        o.busy_timeout_ms = opts.busy_timeout_ms;
        o.foreign_keys = true;
        o.cache_mib = opts.cache_mib;
        auto c = storage_ns::sqlite::connection::open(path, db_schema(), o);
        if (!c) {
            if (why) *why = c.error().message;
            return open_code(c.error().code);
        }
        sqlite_storage s;
        s.st_ = std::make_unique<state>(state{std::move(*c), opts, std::nullopt, {}});
        error_code ec = s.prepare_all();
        if (!ec) {
            auto h = s.read_head();
            if (h)
                s.st_->head = *h;
            else
                ec = h.error();
        }
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

        auto& db = st_->db;
        auto tx = db.begin();
        if (!tx) return fail(tx.error());
        // Another process may have appended since the head was cached.
        auto db_head = read_head();
        if (!db_head) return db_head.error();
        if (h != (*db_head ? **db_head + 1 : 0)) {
            st_->head = *db_head;
            return make_error(errc::out_of_order);
        }
        if (auto r = db.run(sql_insert_block, h, block_hash.view(), byte_view(data)); !r) return fail(r.error());
        const std::size_t n = std::min(tx_hashes.size(), fb.blk.txs.size());
        for (std::size_t i = 0; i < n; ++i)
            if (auto r = insert_tx(tx_hashes[i], h, i, fb.blk.txs[i]); !r) return r.error();
        if (auto r = tx->commit(); !r) return fail(r.error());
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
        auto q = st_->db.query("SELECT data FROM blocks WHERE height = ?1", h);
        if (!q) return fail(q.error());
        auto row = q->step();
        if (!row) return fail(row.error());
        if (!*row) return make_error(storage_ns::errc::not_found);
        return q->blob(0);
    }

    /// Hash indexed at height h; nullopt if absent (or not 32 bytes).
    std::optional<hash32> hash_at(std::uint64_t h) const {
        if (!st_) return std::nullopt;
        auto q = st_->db.query("SELECT hash FROM blocks WHERE height = ?1", h);
        if (!row(q)) return std::nullopt;
        return q->fixed<32>(0);
    }

    std::optional<std::uint64_t> height_of(const hash32& bh) const {
        if (!st_) return std::nullopt;
        auto q = st_->db.query("SELECT height FROM blocks WHERE hash = ?1", bh.view());
        if (!row(q)) return std::nullopt;
        return q->uint64(0);
    }

    std::optional<tx_location> find_tx(const hash32& th) const {
        if (!st_) return std::nullopt;
        auto q = st_->db.query("SELECT height, idx FROM txs WHERE hash = ?1", th.view());
        if (!row(q)) return std::nullopt;
        return location(*q);
    }

    std::optional<tx_location> find_vote(std::uint64_t election, const hash32& voter_tag) const {
        if (!st_) return std::nullopt;
        auto q = st_->db.query("SELECT height, idx FROM txs WHERE election = ?1 AND voter_tag = ?2", election,
                               voter_tag.view());
        if (!row(q)) return std::nullopt;
        return location(*q);
    }

    /// Every row of the block index (the `hash` column of `blocks`), heights
    /// ascending as unsigned values (a negative stored height sorts last).
    result<void> scan_block_index(const block_index_visitor& f) const {
        if (!st_) return make_error(storage_ns::errc::io_error);
        auto q = st_->db.query("SELECT height, hash FROM blocks ORDER BY height < 0, height");
        if (!q) return fail(q.error());
        auto r = q->each([&](const storage_ns::sqlite::statement& s) {
            return f(block_index_row{s.uint64(0), s.fixed<32>(1)});
        });
        if (!r) return fail(r.error());
        return {};
    }

    /// Where the last `limit` transactions of `election` are, as the index says: highest
    /// height first, then highest index (index txs_election: no scan of the chain).
    result<std::vector<tx_location>> election_txs(std::uint64_t election, std::size_t limit) const {
        if (!st_) return make_error(storage_ns::errc::io_error);
        auto q = st_->db.query("SELECT height, idx FROM txs WHERE election = ?1 ORDER BY height DESC, idx DESC LIMIT ?2",
                               election, static_cast<std::uint64_t>(limit));
        if (!q) return fail(q.error());
        std::vector<tx_location> out;
        auto r = q->each([&](const storage_ns::sqlite::statement& s) {
            if (auto l = location(s)) out.push_back(*l);
            return true;
        });
        if (!r) return fail(r.error());
        return out;
    }

    /// Every row of `txs` as stored, (height, idx) ascending as unsigned values.
    result<void> scan_tx_index(const tx_index_visitor& f) const {
        if (!st_) return make_error(storage_ns::errc::io_error);
        auto q = st_->db.query(
            "SELECT hash, height, idx, election, voter_tag FROM txs ORDER BY height < 0, height, idx < 0, idx");
        if (!q) return fail(q.error());
        auto r = q->each([&](const storage_ns::sqlite::statement& s) {
            return f(tx_index_row{s.fixed<32>(0), s.uint64(1), s.uint64(2), s.uint64(3), s.fixed<32>(4)});
        });
        if (!r) return fail(r.error());
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
        auto& db = st_->db;
        auto tx = db.begin();
        if (!tx) return fail(tx.error());
        auto db_head = read_head();
        if (!db_head) return db_head.error();
        st_->head = *db_head;
        for (const char* sql : {"DELETE FROM txs", "DELETE FROM blocks WHERE height < 0"})
            if (auto r = db.run(sql); !r) return fail(r.error());
        std::vector<std::pair<std::uint64_t, hash32>> fixes;  // heights whose hash column is wrong
        for (std::uint64_t h = 0; *db_head && h <= **db_head; ++h) {
            auto fb = load(h);
            if (!fb) return fb.error();
            const auto e = ix(*fb);
            if (hash_at(h) != e.block_hash) fixes.emplace_back(h, e.block_hash);
            const std::size_t n = std::min(e.tx_hashes.size(), fb->blk.txs.size());
            for (std::size_t i = 0; i < n; ++i)
                if (auto r = insert_tx(e.tx_hashes[i], h, i, fb->blk.txs[i]); !r) return r.error();
        }
        // Two steps, so that swapped hashes never collide on the UNIQUE column:
        // first a placeholder no 32-byte hash can equal (the height as text), then the hash.
        for (const auto& fix : fixes)
            if (auto r = db.run("UPDATE blocks SET hash = CAST(height AS TEXT) WHERE height = ?1", fix.first); !r)
                return fail(r.error());
        for (const auto& [h, bh] : fixes)
            if (auto r = db.run("UPDATE blocks SET hash = ?2 WHERE height = ?1", h, bh.view()); !r)
                return fail(r.error());
        if (auto r = tx->commit(); !r) return fail(r.error());
        return {};
    }

    /// Durably stores (or replaces) `v` under `k`. Keys are at most
    /// max_meta_key_bytes, values at most max_meta_value_bytes.
    result<void> put_meta(std::string_view k, byte_view v) {
        if (!st_) return make_error(storage_ns::errc::io_error);
        if (st_->opts.read_only) return make_error(storage_ns::sqlite_errc::read_only);
        if (k.size() > max_meta_key_bytes) return make_error(storage_ns::sqlite_errc::key_too_long);
        if (v.size() > max_meta_value_bytes) return make_error(storage_ns::sqlite_errc::value_too_large);
        if (auto r = st_->db.run("INSERT INTO meta(key, value) VALUES(?1, ?2) "
                                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                 k, v);
            !r)
            return fail(r.error());
        return {};
    }

    std::optional<bytes> get_meta(std::string_view k) const {
        if (!st_ || k.size() > max_meta_key_bytes) return std::nullopt;
        auto q = st_->db.query("SELECT value FROM meta WHERE key = ?1", k);
        if (!row(q)) return std::nullopt;
        return q->blob(0);
    }

    // ---- beyond the concept ------------------------------------------------------

    /// The path given to open().
    const std::string& path() const noexcept {
        static const std::string none;
        return st_ ? st_->db.path() : none;
    }

    /// SQLite's `PRAGMA quick_check` of the whole file: corrupt (with the
    /// findings in last_error()) unless SQLite answers "ok".
    result<void> integrity_check() const {
        if (!st_) return make_error(storage_ns::errc::io_error);
        auto q = st_->db.query("PRAGMA quick_check");
        if (!q) return fail(q.error());
        std::string findings;
        std::size_t rows = 0;
        auto r = q->each([&](const storage_ns::sqlite::statement& s) {
            const std::string line = s.text(0);
            if (rows++ == 0 && line == "ok") return;
            if (!findings.empty()) findings += '\n';
            findings += line;
        });
        if (!r) return fail(r.error());
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
    sqlite3* native_handle() const noexcept { return st_ ? st_->db.native_handle() : nullptr; }

private:
    sqlite_storage() = default;

    /// Everything behind one pointer: moves are cheap and a moved-from object
    /// answers every call with an error instead of crashing.
    struct state {
        storage_ns::sqlite::connection db;
        sqlite_options opts;
        std::optional<std::uint64_t> head;
        std::string last_error;
    };

    static constexpr const char* sql_insert_block = "INSERT INTO blocks(height, hash, data) VALUES(?1, ?2, ?3)";
    static constexpr const char* sql_insert_tx =
        "INSERT INTO txs(hash, height, idx, election, voter_tag) VALUES(?1, ?2, ?3, ?4, ?5)";

    std::uint64_t next_height() const noexcept { return st_->head ? *st_->head + 1 : 0; }

    void set_error(std::string msg) const { st_->last_error = std::move(msg); }

    /// The refusal or failure of open() as this model reports it.
    static error_code open_code(const error_code& ec) {
        using storage_ns::sqlite_errc;
        if (ec == sqlite_errc::not_a_database || ec == sqlite_errc::foreign_database ||
            ec == sqlite_errc::schema_too_new || ec == sqlite_errc::schema_too_old)
            return ec;
        if (ec == sqlite_errc::corrupt) return make_error(storage_ns::errc::corrupt);
        return make_error(storage_ns::errc::io_error);
    }

    /// A failure of SQLite after open: corrupt when SQLite found the file
    /// damaged, io_error otherwise (busy, full, I/O, a refused constraint);
    /// SQLite's message goes to last_error().
    error_code fail(const storage_ns::db_error& e) const {
        set_error(e.message);
        using storage_ns::sqlite_errc;
        if (e.code == sqlite_errc::corrupt || e.code == sqlite_errc::not_a_database)
            return make_error(storage_ns::errc::corrupt);
        return make_error(storage_ns::errc::io_error);
    }

    /// True when the query `q` yields a row; a failure is remembered in last_error().
    bool row(storage_ns::db_result<storage_ns::sqlite::statement>& q) const {
        if (!q) {
            (void)fail(q.error());
            return false;
        }
        auto r = q->step();
        if (!r) (void)fail(r.error());
        return r && *r;
    }

    result<void> insert_tx(const hash32& th, std::uint64_t h, std::size_t i, const vote_tx& tx) {
        if (auto r = st_->db.run(sql_insert_tx, th.view(), h, static_cast<std::int64_t>(i), tx.election_id,
                                 tx.voter_tag.view());
            !r)
            return fail(r.error());
        return {};
    }

    /// The (height, idx) of a lookup; nullopt for an idx no block can have
    /// (a damaged row must not be truncated into a plausible location).
    static std::optional<tx_location> location(const storage_ns::sqlite::statement& s) {
        const std::int64_t idx = s.int64(1);
        if (idx < 0 || idx > std::int64_t{0xffffffff}) return std::nullopt;
        return tx_location{s.uint64(0), static_cast<std::uint32_t>(idx)};
    }

    /// MAX(height) as stored: nullopt when there are no blocks.
    result<std::optional<std::uint64_t>> read_head() const {
        auto q = st_->db.query("SELECT max(height) FROM blocks");
        if (!q) return fail(q.error());
        auto r = q->step();
        if (!r) return fail(r.error());
        if (!*r || q->is_null(0)) return std::optional<std::uint64_t>{};
        return std::optional<std::uint64_t>{q->uint64(0)};
    }

    /// Prepares every statement of the model once, so a file whose ids are
    /// ours but whose tables are not is found at open (corrupt).
    error_code prepare_all() {
        static constexpr const char* all[] = {
            "BEGIN IMMEDIATE",
            "COMMIT",
            "ROLLBACK",
            "SELECT max(height) FROM blocks",
            sql_insert_block,
            sql_insert_tx,
            "SELECT data FROM blocks WHERE height = ?1",
            "SELECT hash FROM blocks WHERE height = ?1",
            "SELECT height FROM blocks WHERE hash = ?1",
            "SELECT height, idx FROM txs WHERE hash = ?1",
            "SELECT height, idx FROM txs WHERE election = ?1 AND voter_tag = ?2",
            "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            "SELECT value FROM meta WHERE key = ?1",
        };
        for (const char* sql : all) {
            auto s = st_->db.prepare(sql);
            if (!s) {
                // Ids and version are ours, so a missing table or column means damage.
                set_error("schema does not match (" + s.error().message + ")");
                return make_error(storage_ns::errc::corrupt);
            }
        }
        return {};
    }

    std::unique_ptr<state> st_;
};
static_assert(storage<sqlite_storage>);

}  // namespace ballotchain
