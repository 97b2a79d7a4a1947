#pragma once
/// @file The one SQLite layer every ballotchain database goes through: the
/// chain (sqlite_storage), the validator's pending.db and the backend's
/// backend.db.
///
/// - `connection::open` opens a file durably (WAL, synchronous=FULL, a busy
///   timeout, foreign keys) and checks that it belongs to its owner: the
///   owner's `schema` names an application id and a list of migrations. A
///   file of another application or with a newer schema is refused with a
///   clear error; a new file is created and an older one upgraded by running
///   the missing migrations in one transaction.
/// - Statements are prepared once per connection and cached by their SQL
///   text; `bind` takes every argument at once (integers, text, blobs,
///   `fixed_bytes`, `std::optional` for NULL) and columns are read typed.
/// - `transaction` is an RAII guard: it rolls back unless committed, and a
///   failed COMMIT is reported (and rolled back).
/// - Every failure is a value: `db_result<T>` holding a `db_error` whose code
///   is a `storage_ns::sqlite_errc` and whose message is SQLite's own.
///   `is_local_fault` tells "busy / full / I/O / corrupt" (this machine's
///   trouble: report, retry later, stop) from `constraint` (a conflict the
///   caller may expect, e.g. a UNIQUE violation) and `sql_error` (a bug).
///
/// @par Example
/// @code
/// namespace sql = ballotchain::storage_ns::sqlite;
/// const sql::schema s{0x54455354, {sql::sql_migration("CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)")}, ""};
/// auto db = sql::connection::open(path, s);
/// if (!db) return db.error();
/// auto tx = db->begin();
/// if (!tx) return tx.error();
/// if (auto r = db->run("INSERT INTO t(k, v) VALUES(?1, ?2)", 7, some_hash); !r) return r.error();
/// if (auto r = tx->commit(); !r) return r.error();
/// auto q = db->query("SELECT v FROM t WHERE k = ?1", 7);
/// if (q && q->step().value_or(false)) use(q->get<std::optional<hash32>>(0));
/// @endcode

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/core/error.hpp>
#include <ballotchain/storage/db_error.hpp>

#include <sqlite3.h>

#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ballotchain::storage_ns {

/// Why an SQLite database refused a file or an operation. The first group are
/// refusals of a file or of a request (sqlite_storage also uses them); the
/// second are failures of SQLite itself, kept apart by what a caller can do.
enum class sqlite_errc {
    ok = 0,
    not_a_database,    ///< the file is not an SQLite database
    foreign_database,  ///< an SQLite database, but not one of this owner's
    schema_too_new,    ///< written by a newer ballotchain (user_version above ours)
    schema_too_old,    ///< an older schema that cannot be upgraded here (e.g. opened read-only)
    read_only,         ///< a write on a database opened read-only (or a read-only file)
    key_too_long,      ///< meta key longer than sqlite_storage::max_meta_key_bytes
    value_too_large,   ///< meta value larger than sqlite_storage::max_meta_value_bytes
    block_too_large,   ///< block encoding larger than sqlite_options::max_block_bytes
    busy,              ///< another connection held the lock past the busy timeout (SQLITE_BUSY, SQLITE_LOCKED)
    full,              ///< the disk, or the database's size limit, is full (SQLITE_FULL)
    io_error,          ///< reading or writing the file failed (SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_NOMEM, ...)
    corrupt,           ///< SQLite found the file damaged (SQLITE_CORRUPT)
    constraint,        ///< a UNIQUE, NOT NULL, CHECK or FOREIGN KEY constraint refused the change
    sql_error,         ///< the statement does not fit the database (syntax, no such table, wrong parameters)
    too_large,         ///< a value exceeds SQLite's limits
    misuse,            ///< a closed (moved-from) connection, or a transaction begun inside another
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
    case sqlite_errc::busy: return "database is locked by another connection";
    case sqlite_errc::full: return "database or disk is full";
    case sqlite_errc::io_error: return "database I/O error";
    case sqlite_errc::corrupt: return "database file is damaged";
    case sqlite_errc::constraint: return "database constraint violated";
    case sqlite_errc::sql_error: return "SQL statement does not fit the database";
    case sqlite_errc::too_large: return "value too large for the database";
    case sqlite_errc::misuse: return "database connection misused";
    }
    return "unknown sqlite storage error";
}
inline error_code make_error_code(sqlite_errc e) noexcept { return make_error(e); }

}  // namespace ballotchain::storage_ns

BALLOTCHAIN_ERROR_ENUM(ballotchain::storage_ns::sqlite_errc)

namespace ballotchain::storage_ns::sqlite {

/// True for a failure of this machine rather than of the request: busy, full,
/// I/O error, corrupt or read-only. The caller reports it (error level,
/// unhealthy), retries later or stops; it is never the client's fault.
inline bool is_local_fault(const error_code& ec) noexcept {
    return ec == sqlite_errc::busy || ec == sqlite_errc::full || ec == sqlite_errc::io_error ||
           ec == sqlite_errc::corrupt || ec == sqlite_errc::read_only;
}
inline bool is_local_fault(const db_error& e) noexcept { return is_local_fault(e.code); }

/// True for a constraint violation: a conflict the caller may expect (a
/// UNIQUE email, one vote per voter) and answer as such.
inline bool is_conflict(const db_error& e) noexcept { return e.code == sqlite_errc::constraint; }

/// The error code for an SQLite result code (primary or extended).
inline error_code code_of(int rc) noexcept {
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return {};
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return make_error(sqlite_errc::busy);
    case SQLITE_FULL: return make_error(sqlite_errc::full);
    case SQLITE_CORRUPT: return make_error(sqlite_errc::corrupt);
    case SQLITE_NOTADB: return make_error(sqlite_errc::not_a_database);
    case SQLITE_CONSTRAINT: return make_error(sqlite_errc::constraint);
    case SQLITE_READONLY: return make_error(sqlite_errc::read_only);
    case SQLITE_TOOBIG: return make_error(sqlite_errc::too_large);
    case SQLITE_ERROR:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_SCHEMA: return make_error(sqlite_errc::sql_error);
    case SQLITE_MISUSE: return make_error(sqlite_errc::misuse);
    default: return make_error(sqlite_errc::io_error);  // IOERR, CANTOPEN, NOMEM, PROTOCOL, PERM, ABORT, ...
    }
}

enum class sync_mode {
    full,    ///< fsync the WAL on every commit: a commit survives power loss (default)
    normal,  ///< fsync only at checkpoints: survives a process crash, may lose the
             ///< last commits on power loss. For benchmarks and simulations.
};

/// How a connection opens its file.
struct options {
    /// SQLITE_OPEN_READONLY: the file must exist and already be the owner's
    /// database at the newest schema version; nothing is created or upgraded.
    bool read_only = false;
    sync_mode synchronous = sync_mode::full;
    /// How long a statement waits for another connection's lock before failing with `busy`.
    int busy_timeout_ms = 5000;
    bool foreign_keys = true;
    /// SQLite's page cache for this connection, MiB (0: SQLite's default, about 2 MiB). A reader
    /// that looks up many rows at random (offline verification) saves re-reading pages.
    std::size_t cache_mib = 0;
};

class connection;

/// One step of a schema: brings the file from version i to i + 1 (the i-th
/// entry of schema::migrations), inside the transaction that opens it.
using migration = std::function<db_result<void>(connection&)>;

/// A migration that runs `sql` (one or more statements, no parameters).
migration sql_migration(std::string sql);

/// What a database file of one owner is.
struct schema {
    /// `PRAGMA application_id` of the owner's files; a file with another id is foreign.
    std::int32_t application_id = 0;
    /// migrations[i] upgrades version i to i + 1; the newest version is their number.
    /// A new file is version 0 (empty), so the list also creates the schema.
    std::vector<migration> migrations;
    /// Files written before the owner set an application id: a file with
    /// application id 0 that has this table is the owner's, at its user_version.
    /// Empty: such a file is foreign.
    std::string legacy_table;

    std::int64_t version() const noexcept { return static_cast<std::int64_t>(migrations.size()); }
};

namespace detail {

struct db_closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct stmt_finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

/// A cached prepared statement; `in_use` while a `statement` holds it.
struct cached_stmt {
    stmt_ptr stmt;
    bool in_use = false;
};

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// Everything of a connection behind one pointer, so that moving a
/// connection keeps the addresses its statements point to.
/// The cache is declared after the handle so its statements are finalized first.
struct connection_state {
    std::string path;
    options opts;
    std::int64_t version = 0;
    db_ptr db;
    std::unordered_map<std::string, std::unique_ptr<cached_stmt>, string_hash, std::equal_to<>> cache;

    /// A db_error for result code `rc`, with SQLite's message and `what` was done.
    db_error fail(int rc, std::string_view what = {}) const {
        std::string msg = db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
        if (!what.empty()) msg += " (" + std::string(what) + ")";
        return {code_of(rc), std::move(msg)};
    }
};

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;

template <class T>
inline constexpr bool is_fixed_bytes_v = false;
template <std::size_t N>
inline constexpr bool is_fixed_bytes_v<fixed_bytes<N>> = true;

template <class T>
inline constexpr bool always_false_v = false;

/// Statements longer than this are shown cut in error messages.
inline std::string_view excerpt(std::string_view sql) { return sql.substr(0, 120); }

}  // namespace detail

/// The use of one prepared statement: bind, step, read columns. When the use
/// ends (destruction) the statement is reset and its bindings cleared, so it
/// never stays active or holds a read transaction open.
///
/// Text and blob arguments are bound without a copy and must stay alive
/// until the use ends, except temporaries of owning types (`std::string`,
/// `bytes`, `fixed_bytes`), which are copied. Views (`std::string_view`,
/// `byte_view`, `const char*`) are never copied.
///
/// @par Thread safety As its connection's: one thread at a time.
class statement {
public:
    statement(statement&& o) noexcept : st_(o.st_), s_(std::exchange(o.s_, nullptr)), cached_(o.cached_) {}
    statement& operator=(statement&&) = delete;
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement() { release(); }

    /// Binds `args` to parameters 1..N (after clearing earlier bindings and
    /// resetting the statement, so a statement can be bound again in a loop).
    /// The number of arguments must equal the statement's parameter count.
    /// Integers (and bool) bind as INTEGER (unsigned 64-bit values with the same
    /// bit pattern), floating point as REAL, anything convertible to
    /// `std::string_view` as TEXT, `fixed_bytes<N>` and anything convertible to
    /// `byte_view` as BLOB (an empty one stays a zero-length BLOB, not NULL),
    /// `std::nullopt`, `nullptr` and an empty `std::optional` as NULL.
    template <class... A>
    db_result<void> bind(A&&... args) {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
        const int want = sqlite3_bind_parameter_count(s_);
        if (want != static_cast<int>(sizeof...(A)))
            return db_error{make_error(sqlite_errc::sql_error),
                            "statement takes " + std::to_string(want) + " parameters, " +
                                std::to_string(sizeof...(A)) + " given (" + std::string(sql()) + ")"};
        int i = 0, rc = SQLITE_OK;
        ((rc = rc == SQLITE_OK ? bind_one(++i, std::forward<A>(args)) : rc), ...);
        if (rc != SQLITE_OK) return st_->fail(rc, "binding parameter " + std::to_string(i));
        return {};
    }

    /// Runs the statement to its next row: true when a row is ready to read,
    /// false when it is done.
    db_result<bool> step() {
        const int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        return st_->fail(rc, detail::excerpt(sql()));
    }

    /// Steps until done (rows are skipped); returns how many rows the
    /// statement inserted, updated or deleted.
    db_result<std::int64_t> run() {
        for (;;) {
            auto r = step();
            if (!r) return r.error();
            if (!*r) return static_cast<std::int64_t>(sqlite3_changes64(sqlite3_db_handle(s_)));
        }
    }

    /// Calls `f(*this)` for each row. `f` returns void, or bool (false stops early).
    template <class F>
    db_result<void> each(F&& f) {
        for (;;) {
            auto r = step();
            if (!r) return r.error();
            if (!*r) return {};
            if constexpr (std::is_same_v<std::invoke_result_t<F&, const statement&>, bool>) {
                if (!f(std::as_const(*this))) return {};
            } else {
                f(std::as_const(*this));
            }
        }
    }

    // ---- typed column reads (0-based; valid after step() returned true) --------

    bool is_null(int i) const noexcept { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
    std::int64_t int64(int i) const noexcept { return sqlite3_column_int64(s_, i); }
    /// The INTEGER with the same bit pattern (values >= 2^63 are stored negative).
    std::uint64_t uint64(int i) const noexcept { return static_cast<std::uint64_t>(int64(i)); }
    bool boolean(int i) const noexcept { return int64(i) != 0; }
    double real(int i) const noexcept { return sqlite3_column_double(s_, i); }
    std::string text(int i) const {
        const auto* p = sqlite3_column_text(s_, i);
        const int n = sqlite3_column_bytes(s_, i);
        return p && n > 0 ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
    }
    bytes blob(int i) const {
        const auto* p = static_cast<const byte*>(sqlite3_column_blob(s_, i));
        const int n = sqlite3_column_bytes(s_, i);
        return p && n > 0 ? bytes(p, p + n) : bytes();
    }
    /// The column as exactly N bytes; nullopt when it is NULL or has another
    /// length (a damaged value must not be cut or padded into a plausible one).
    template <std::size_t N>
    std::optional<fixed_bytes<N>> fixed(int i) const {
        const auto* p = static_cast<const byte*>(sqlite3_column_blob(s_, i));
        if (!p || sqlite3_column_bytes(s_, i) != static_cast<int>(N)) return std::nullopt;
        return fixed_bytes<N>::from(byte_view(p, N));
    }

    /// The column as T: std::int64_t, std::uint64_t, int, bool, double,
    /// std::string, bytes, std::optional<fixed_bytes<N>> (see fixed), or
    /// std::optional<U> of the others (nullopt for NULL).
    template <class T>
    T get(int i) const {
        if constexpr (detail::is_optional_v<T>) {
            using U = typename T::value_type;
            if constexpr (detail::is_fixed_bytes_v<U>)
                return fixed<U::size()>(i);
            else
                return is_null(i) ? T{} : T{get<U>(i)};
        } else if constexpr (std::is_same_v<T, bool>) {
            return boolean(i);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
            return int64(i);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
            return uint64(i);
        } else if constexpr (std::is_same_v<T, int>) {
            return sqlite3_column_int(s_, i);
        } else if constexpr (std::is_same_v<T, double>) {
            return real(i);
        } else if constexpr (std::is_same_v<T, std::string>) {
            return text(i);
        } else if constexpr (std::is_same_v<T, bytes>) {
            return blob(i);
        } else {
            static_assert(detail::always_false_v<T>,
                          "read fixed_bytes as std::optional<fixed_bytes<N>>: a stored value may have another length");
        }
    }

    /// The SQL text of the statement.
    std::string_view sql() const noexcept {
        const char* t = sqlite3_sql(s_);
        return t ? std::string_view(t) : std::string_view();
    }
    sqlite3_stmt* native_handle() const noexcept { return s_; }

private:
    friend class connection;
    statement(const detail::connection_state* st, sqlite3_stmt* s, detail::cached_stmt* cached) noexcept
        : st_(st), s_(s), cached_(cached) {}

    void release() noexcept {
        if (!s_) return;
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
        if (cached_)
            cached_->in_use = false;
        else
            sqlite3_finalize(s_);
        s_ = nullptr;
    }

    int bind_text(int i, std::string_view v, bool copy) noexcept {
        static const char empty = 0;
        return sqlite3_bind_text64(s_, i, v.empty() ? &empty : v.data(), v.size(),
                                   copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8);
    }
    int bind_blob(int i, byte_view v, bool copy) noexcept {
        static const byte empty = 0;
        return sqlite3_bind_blob64(s_, i, v.empty() ? &empty : v.data(), v.size(),
                                   copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
    }

    /// `copy`: the value is a temporary that owns its bytes (see the class comment).
    template <class A>
    int bind_one(int i, A&& a, bool copy = std::is_rvalue_reference_v<A&&>) noexcept {
        using T = std::remove_cvref_t<A>;
        if constexpr (detail::is_optional_v<T>) {
            if (!a) return sqlite3_bind_null(s_, i);
            return bind_one(i, *a, copy);
        } else if constexpr (std::is_same_v<T, std::nullptr_t> || std::is_same_v<T, std::nullopt_t>) {
            return sqlite3_bind_null(s_, i);
        } else if constexpr (std::is_same_v<T, bool>) {
            return sqlite3_bind_int64(s_, i, a ? 1 : 0);
        } else if constexpr (std::is_integral_v<T>) {
            static_assert(sizeof(T) <= sizeof(std::int64_t));
            return sqlite3_bind_int64(s_, i, static_cast<sqlite3_int64>(a));
        } else if constexpr (std::is_floating_point_v<T>) {
            return sqlite3_bind_double(s_, i, static_cast<double>(a));
        } else if constexpr (detail::is_fixed_bytes_v<T>) {
            return bind_blob(i, a.view(), copy);
        } else if constexpr (std::is_same_v<T, std::string>) {
            return bind_text(i, a, copy);
        } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
            return bind_text(i, std::string_view(a), false);
        } else if constexpr (std::is_same_v<T, bytes>) {
            return bind_blob(i, a, copy);
        } else if constexpr (std::is_convertible_v<const T&, byte_view>) {
            return bind_blob(i, byte_view(a), false);
        } else {
            static_assert(detail::always_false_v<T>, "no SQLite binding for this type");
        }
    }

    const detail::connection_state* st_;
    sqlite3_stmt* s_;
    detail::cached_stmt* cached_;  ///< null: prepared for this use only, finalized at its end
};

/// An open transaction; rolls back when destroyed unless committed. Made by
/// connection::begin; must not outlive its connection.
class transaction {
public:
    transaction(transaction&& o) noexcept : conn_(std::exchange(o.conn_, nullptr)) {}
    transaction& operator=(transaction&&) = delete;
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    ~transaction() { rollback(); }

    /// Commits: durable when it returns (with sync_mode::full). On failure the
    /// transaction is rolled back (nothing of it is stored) and the error says why.
    db_result<void> commit();
    /// Rolls back now (also done by the destructor); a no-op once ended.
    void rollback() noexcept;
    /// True until committed or rolled back.
    bool active() const noexcept { return conn_ != nullptr; }

private:
    friend class connection;
    explicit transaction(connection* c) noexcept : conn_(c) {}
    connection* conn_;
};

/// One connection to one SQLite file.
///
/// @par Thread safety
/// Opened with SQLITE_OPEN_NOMUTEX: SQLite does no locking of its own, so a
/// connection (and its statements and transactions) is used by one thread at
/// a time. Owners guarantee it by construction: sqlite_storage and the
/// validator's pending_store live on the validator's io thread (or one
/// simulator thread); the backend's store locks a mutex in every operation.
/// Several processes (or connections) may open the same file; SQLite's file
/// locks serialize writers, waiting up to `options::busy_timeout_ms`.
/// Do not carry an open connection across fork().
class connection {
public:
    /// Opens (creating it unless `o.read_only`) the database at `path`,
    /// switches it to WAL (unless read-only), sets synchronous, foreign keys and
    /// the busy timeout, and checks it against `s`:
    /// - application id 0 and no tables: a new file; every migration runs;
    /// - the owner's application id (or id 0 with `s.legacy_table`): its
    ///   user_version must not exceed `s.version()` (schema_too_new); the
    ///   missing migrations run, in one transaction with the new user_version
    ///   and application id (schema_too_old instead when read-only);
    /// - anything else: foreign_database. A non-SQLite file: not_a_database.
    static db_result<connection> open(const std::string& path, const schema& s, const options& o = {});

    connection(connection&&) noexcept = default;
    connection& operator=(connection&&) noexcept = default;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() = default;

    /// The statement for `sql`, prepared at its first use and cached (up to
    /// max_cached_statements texts; a text already in use is prepared anew).
    db_result<statement> prepare(std::string_view sql) {
        if (!st_) return closed();
        auto it = st_->cache.find(sql);
        if (it != st_->cache.end() && !it->second->in_use) {
            it->second->in_use = true;
            return statement(st_.get(), it->second->stmt.get(), it->second.get());
        }
        const bool keep = it == st_->cache.end() && st_->cache.size() < max_cached_statements;
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v3(st_->db.get(), sql.data(), static_cast<int>(sql.size()),
                                          keep ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(raw);
            return st_->fail(rc, "preparing " + std::string(detail::excerpt(sql)));
        }
        if (!raw) return db_error{make_error(sqlite_errc::sql_error), "no statement in '" + std::string(sql) + "'"};
        if (!keep) return statement(st_.get(), raw, nullptr);
        auto& slot = st_->cache[std::string(sql)];
        slot = std::make_unique<detail::cached_stmt>();
        slot->stmt.reset(raw);
        slot->in_use = true;
        return statement(st_.get(), raw, slot.get());
    }

    /// prepare(sql) and bind(args...): a statement ready to step.
    template <class... A>
    db_result<statement> query(std::string_view sql, A&&... args) {
        auto s = prepare(sql);
        if (!s) return s;
        if (auto b = s->bind(std::forward<A>(args)...); !b) return b.error();
        return s;
    }

    /// Prepares, binds and runs `sql` to completion; returns the number of
    /// rows it inserted, updated or deleted.
    template <class... A>
    db_result<std::int64_t> run(std::string_view sql, A&&... args) {
        auto s = query(sql, std::forward<A>(args)...);
        if (!s) return s.error();
        return s->run();
    }

    /// Runs one or more statements without parameters or results (schema
    /// changes, pragmas), not cached.
    db_result<void> exec(const std::string& sql) {
        if (!st_) return closed();
        char* err = nullptr;
        const int rc = sqlite3_exec(st_->db.get(), sql.c_str(), nullptr, nullptr, &err);
        if (rc == SQLITE_OK) return {};
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        return db_error{code_of(rc), msg + " (" + std::string(detail::excerpt(sql)) + ")"};
    }

    enum class tx_mode {
        deferred,   ///< takes the write lock at the first write (for reads that must see one snapshot)
        immediate,  ///< takes the write lock now: a write transaction never fails half-way on `busy`
    };

    /// Begins a transaction (no nesting: misuse inside another one).
    db_result<transaction> begin(tx_mode m = tx_mode::immediate) {
        if (!st_) return closed();
        if (in_transaction())
            return db_error{make_error(sqlite_errc::misuse), "a transaction is already open on " + st_->path};
        if (auto r = run(m == tx_mode::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"); !r) return r.error();
        return transaction(this);
    }

    /// The rowid of the last row inserted on this connection.
    std::int64_t last_insert_rowid() const noexcept {
        return st_ ? static_cast<std::int64_t>(sqlite3_last_insert_rowid(st_->db.get())) : 0;
    }
    /// True inside a transaction (BEGIN without COMMIT or ROLLBACK yet).
    bool in_transaction() const noexcept { return st_ && !sqlite3_get_autocommit(st_->db.get()); }
    /// False for a moved-from connection (every operation then fails with misuse).
    bool is_open() const noexcept { return st_ != nullptr; }

    const std::string& path() const noexcept {
        static const std::string none;
        return st_ ? st_->path : none;
    }
    const options& opts() const noexcept {
        static const options none;
        return st_ ? st_->opts : none;
    }
    /// The schema version of the file (the owner's newest after open).
    std::int64_t schema_version() const noexcept { return st_ ? st_->version : 0; }

    /// The raw handle, for tools and tests (e.g. a commit hook). Do not change
    /// the schema or leave a transaction open through it.
    sqlite3* native_handle() const noexcept { return st_ ? st_->db.get() : nullptr; }

    /// Distinct statement texts kept prepared per connection.
    static constexpr std::size_t max_cached_statements = 256;

private:
    connection() = default;
    friend class transaction;

    db_error closed() const { return {make_error(sqlite_errc::misuse), "the database connection is closed"}; }

    /// One integer of a one-row query (a pragma, a count).
    db_result<std::int64_t> query_int(std::string_view sql) {
        auto s = prepare(sql);
        if (!s) return s.error();
        auto r = s->step();
        if (!r) return r.error();
        return *r ? s->int64(0) : 0;
    }

    db_result<bool> has_table(const std::string& name) {
        auto s = query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1", name);
        if (!s) return s.error();
        return s->step();
    }

    /// What open does with a file, from its ids and tables.
    enum class verdict { current, upgrade, foreign, too_new };
    struct file_ids {
        std::int64_t app = 0, version = 0;
        bool empty = true;    ///< no tables at all
        bool legacy = false;  ///< application id 0 with the schema's legacy table
    };

    db_result<file_ids> read_ids(const schema& s) {
        file_ids f;
        auto app = query_int("PRAGMA application_id");
        if (!app) return app.error();
        auto ver = query_int("PRAGMA user_version");
        if (!ver) return ver.error();
        auto tables = query_int("SELECT count(*) FROM sqlite_schema");
        if (!tables) return tables.error();
        f.app = *app;
        f.version = *ver;
        f.empty = *tables == 0;
        if (f.app == 0 && !f.empty && !s.legacy_table.empty()) {
            auto l = has_table(s.legacy_table);
            if (!l) return l.error();
            f.legacy = *l;
        }
        return f;
    }

    static verdict judge(const file_ids& f, const schema& s) noexcept {
        const bool ours = f.app == s.application_id || (f.app == 0 && (f.legacy || (f.empty && f.version == 0)));
        if (!ours) return verdict::foreign;
        if (f.version > s.version()) return verdict::too_new;
        if (f.version < s.version() || f.app != s.application_id) return verdict::upgrade;
        return verdict::current;
    }

    db_error refusal(verdict v, const file_ids& f, const schema& s) const {
        const std::string& p = st_->path;
        if (v == verdict::too_new)
            return {make_error(sqlite_errc::schema_too_new),
                    "'" + p + "' has schema version " + std::to_string(f.version) + "; this build supports up to " +
                        std::to_string(s.version())};
        if (f.app == 0 && f.empty)
            return {make_error(sqlite_errc::foreign_database), "'" + p + "' holds no ballotchain database"};
        if (v == verdict::upgrade)
            return {make_error(sqlite_errc::schema_too_old),
                    "'" + p + "' has schema version " + std::to_string(f.version) + " and is open read-only; " +
                        "open it writable once to upgrade it to " + std::to_string(s.version())};
        return {make_error(sqlite_errc::foreign_database),
                "'" + p + "' is an SQLite database of another application (application_id " + std::to_string(f.app) +
                    ", expected " + std::to_string(s.application_id) + ")"};
    }

    /// Creates or upgrades the schema under the write lock. Another process may
    /// have done it meanwhile: the ids are read again inside the transaction.
    db_result<void> upgrade(const schema& s) {
        auto tx = begin(tx_mode::immediate);
        if (!tx) return tx.error();
        auto f = read_ids(s);
        if (!f) return f.error();
        const verdict v = judge(*f, s);
        if (v == verdict::current) return tx->commit();
        if (v != verdict::upgrade) return refusal(v, *f, s);
        for (std::int64_t i = f->version; i < s.version(); ++i) {
            const auto& step = s.migrations[static_cast<std::size_t>(i)];
            if (auto r = step(*this); !r) {
                auto e = r.error();
                e.message = "upgrading '" + st_->path + "' from schema version " + std::to_string(i) + " to " +
                            std::to_string(i + 1) + ": " + e.message;
                return e;
            }
        }
        // Pragma values cannot be bound; both are plain integers here.
        if (auto r = exec("PRAGMA application_id = " + std::to_string(s.application_id) +
                          "; PRAGMA user_version = " + std::to_string(s.version()));
            !r)
            return r.error();
        return tx->commit();
    }

    static db_result<connection> open_file(const std::string& path, const schema& s, const options& o);

    std::unique_ptr<detail::connection_state> st_;
};

inline migration sql_migration(std::string sql) {
    return [sql = std::move(sql)](connection& c) { return c.exec(sql); };
}

inline db_result<connection> connection::open(const std::string& path, const schema& s, const options& o) {
    auto c = open_file(path, s, o);
    if (c) return c;
    db_error e = c.error();  // every refusal names the file
    if (e.message.find(path) == std::string::npos) e.message = "'" + path + "': " + e.message;
    return e;
}

inline db_result<connection> connection::open_file(const std::string& path, const schema& s, const options& o) {
    connection c;
    c.st_ = std::make_unique<detail::connection_state>();
    auto& st = *c.st_;
    st.path = path;
    st.opts = o;
    const int flags =
        (o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    st.db.reset(raw);  // even on failure the handle must be closed
    if (rc != SQLITE_OK) return st.fail(rc, "opening the file");
    sqlite3_extended_result_codes(st.db.get(), 1);
    sqlite3_busy_timeout(st.db.get(), o.busy_timeout_ms);

    // The first read of the file: a non-SQLite file fails here with not_a_database.
    auto ids = c.read_ids(s);
    if (!ids) return ids.error();

    if (!o.read_only) {
        auto mode = c.prepare("PRAGMA journal_mode=WAL");
        if (!mode) return mode.error();
        auto row = mode->step();
        if (!row) return row.error();
        const std::string m = *row ? mode->text(0) : std::string();
        if (m != "wal")
            return db_error{make_error(sqlite_errc::io_error), "cannot switch '" + path +
                                                                   "' to WAL journal mode (got '" + m + "')"};
    }
    if (auto r = c.exec(o.synchronous == sync_mode::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"); !r)
        return r.error();
    if (auto r = c.exec(o.foreign_keys ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF"); !r) return r.error();
    if (o.cache_mib > 0)
        if (auto r = c.exec("PRAGMA cache_size=-" + std::to_string(o.cache_mib * 1024)); !r) return r.error();

    const verdict v = judge(*ids, s);
    if (v == verdict::foreign || v == verdict::too_new || (v == verdict::upgrade && o.read_only))
        return c.refusal(v, *ids, s);
    if (v == verdict::upgrade)
        if (auto r = c.upgrade(s); !r) return r.error();
    st.version = s.version();
    return c;
}

inline db_result<void> transaction::commit() {
    if (!conn_) return db_error{make_error(sqlite_errc::misuse), "the transaction has already ended"};
    connection* c = conn_;
    auto r = c->run("COMMIT");
    if (r) {
        conn_ = nullptr;
        return {};
    }
    rollback();  // SQLite may keep the transaction open after a failed COMMIT (e.g. busy)
    auto e = r.error();
    e.message = "commit failed: " + e.message;
    return e;
}

inline void transaction::rollback() noexcept {
    connection* c = std::exchange(conn_, nullptr);
    if (!c || !c->in_transaction()) return;
    try {
        (void)c->run("ROLLBACK");
    } catch (...) {  // only allocation can throw here; the connection then stays in the transaction
    }
}

}  // namespace ballotchain::storage_ns::sqlite
