#pragma once
/// @file A thin layer over libpq for the PostgreSQL model of the backend's store
/// (pg_store.hpp): a bounded pool of connections that reconnects after the
/// server went away, statements with typed parameters, result rows read by
/// column, and transactions that roll back unless committed.
///
/// Every failure is a `db_error` whose code is a `pg_errc` and whose message is
/// the server's own (with its SQLSTATE), never an exception.
///
/// Parameters travel in text form, except bytes (binary form, so no escaping);
/// results come in text form (bytea as `\x` hex, booleans as t/f).

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/core/error.hpp>
#include <ballotchain/storage/db_error.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ballotchain::backend::pg {

using storage_ns::db_error;
using storage_ns::db_result;

/// What kind of failure a PostgreSQL operation had.
enum class errc {
    ok = 0,
    connection,  ///< no connection to the server (down, restarting, refused, authentication)
    statement,   ///< the server refused a statement (its SQLSTATE and message say why)
    conflict,    ///< a unique or exclusion constraint (SQLSTATE class 23) refused a row
    retry,       ///< a deadlock or serialization failure (SQLSTATE class 40): the transaction may run again
    corrupt,     ///< a value read back is not what the schema promises
    schema,      ///< the database is not (or not yet) a backend database this version can use
};

inline const char* category_name(errc) noexcept { return "ballotchain.postgresql"; }
inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::connection: return "no connection to PostgreSQL";
    case errc::statement: return "PostgreSQL refused a statement";
    case errc::conflict: return "PostgreSQL constraint violation";
    case errc::retry: return "PostgreSQL transaction rolled back (deadlock or serialization failure)";
    case errc::corrupt: return "PostgreSQL returned a damaged value";
    case errc::schema: return "PostgreSQL database schema not usable";
    }
    return "unknown PostgreSQL error";
}
inline error_code make_error_code(errc e) noexcept { return make_error(e); }

}  // namespace ballotchain::backend::pg

BALLOTCHAIN_ERROR_ENUM(ballotchain::backend::pg::errc)

namespace ballotchain::backend::pg {

inline db_error error(errc e, std::string msg) { return db_error{make_error(e), std::move(msg)}; }

/// The URL with any password replaced by "***" (for logs and messages).
inline std::string redact(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return std::string(url);
    const auto at = url.find('@', scheme + 3);
    const auto slash = url.find('/', scheme + 3);
    std::string out(url);
    if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
        const auto colon = url.find(':', scheme + 3);
        if (colon != std::string_view::npos && colon < at) out = std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
    }
    const auto pw = out.find("password=");
    if (pw != std::string::npos) {
        auto end = out.find_first_of("& ", pw);
        out.replace(pw + 9, end == std::string::npos ? std::string::npos : end - pw - 9, "***");
    }
    return out;
}

/// True for a URL the PostgreSQL model takes (postgresql:// or postgres://).
inline bool is_url(std::string_view s) { return s.starts_with("postgresql://") || s.starts_with("postgres://"); }

/// Statement parameters: each added value becomes $1, $2, ... in order.
class params {
public:
    params() = default;
    template <class... A>
    explicit params(const A&... a) {
        (add(a), ...);
    }

    params& add(std::nullopt_t) { return push({}, false, true); }
    params& add(const std::string& s) { return push(s, false); }
    params& add(std::string_view s) { return push(std::string(s), false); }
    params& add(const char* s) { return push(std::string(s), false); }
    params& add(bool b) { return push(b ? "t" : "f", false); }
    params& add(std::int64_t v) { return push(std::to_string(v), false); }
    params& add(std::uint64_t v) { return push(std::to_string(v), false); }
    params& add(int v) { return push(std::to_string(v), false); }
    params& add(unsigned v) { return push(std::to_string(v), false); }
    params& add(const bytes& b) { return push(std::string(b.begin(), b.end()), true); }
    template <std::size_t N>
    params& add(const fixed_bytes<N>& b) {
        return push(std::string(b.begin(), b.end()), true);
    }
    template <class T>
    params& add(const std::optional<T>& v) {
        return v ? add(*v) : add(std::nullopt);
    }

    int size() const noexcept { return static_cast<int>(text_.size()); }
    /// Pointers into this object: valid while it lives and is not changed.
    const char* const* values() {
        ptrs_.clear();
        for (std::size_t i = 0; i < text_.size(); ++i) ptrs_.push_back(null_[i] ? nullptr : text_[i].data());
        return ptrs_.data();
    }
    const int* lengths() const noexcept { return lengths_.data(); }
    const int* formats() const noexcept { return formats_.data(); }

private:
    params& push(std::string v, bool binary, bool null = false) {
        lengths_.push_back(static_cast<int>(v.size()));
        formats_.push_back(binary ? 1 : 0);
        null_.push_back(null);
        text_.push_back(std::move(v));
        return *this;
    }
    std::vector<std::string> text_;
    std::vector<int> lengths_, formats_;
    std::vector<bool> null_;
    std::vector<const char*> ptrs_;
};

/// A statement's result rows, read by (row, column).
class result {
public:
    explicit result(PGresult* r) : r_(r, &PQclear) {}

    int rows() const noexcept { return PQntuples(r_.get()); }
    /// Rows a command changed (INSERT/UPDATE/DELETE), or returned.
    std::int64_t affected() const {
        const char* t = PQcmdTuples(r_.get());
        return (t && *t) ? std::stoll(t) : rows();
    }
    bool null(int row, int col) const noexcept { return PQgetisnull(r_.get(), row, col) != 0; }
    std::string text(int row, int col) const { return std::string(PQgetvalue(r_.get(), row, col), len(row, col)); }
    std::int64_t int64(int row, int col) const {
        if (null(row, col)) return 0;
        return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
    }
    std::uint64_t uint64(int row, int col) const { return static_cast<std::uint64_t>(int64(row, col)); }
    bool boolean(int row, int col) const { return !null(row, col) && PQgetvalue(r_.get(), row, col)[0] == 't'; }
    std::optional<std::int64_t> opt_int64(int row, int col) const {
        if (null(row, col)) return std::nullopt;
        return int64(row, col);
    }
    /// A bytea column (text form "\x0a1b..."); nullopt when NULL or not hex.
    std::optional<bytes> blob(int row, int col) const {
        if (null(row, col)) return std::nullopt;
        const std::string_view t(PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(len(row, col)));
        if (!t.starts_with("\\x") || t.size() % 2 != 0) return std::nullopt;
        bytes out;
        out.reserve((t.size() - 2) / 2);
        auto nib = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        for (std::size_t i = 2; i < t.size(); i += 2) {
            const int hi = nib(t[i]), lo = nib(t[i + 1]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
        }
        return out;
    }

private:
    int len(int row, int col) const noexcept { return PQgetlength(r_.get(), row, col); }
    std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

/// One connection of the pool, lent to one operation at a time.
class connection {
public:
    explicit connection(PGconn* c) noexcept : c_(c) {}
    ~connection() {
        if (c_) PQfinish(c_);
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Runs `sql` with `p`; rows (for SELECT or RETURNING) or the server's error.
    db_result<result> exec(const std::string& sql, params p = {}) {
        const int n = p.size();
        // Without parameters, the simple protocol: a migration may hold several statements.
        PGresult* r = n == 0 ? PQexec(c_, sql.c_str())
                             : PQexecParams(c_, sql.c_str(), n, nullptr, p.values(), p.lengths(), p.formats(), 0);
        if (!r) return fail(errc::connection, std::string(PQerrorMessage(c_)));
        result res(r);
        const auto st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            ++ok_;
            return res;
        }
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        std::string msg = PQresultErrorMessage(r);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        if (PQstatus(c_) != CONNECTION_OK || (state && std::string_view(state).starts_with("08")) ||
            (state && std::string_view(state).starts_with("57P")))  // admin shutdown, crash shutdown, cannot connect now
            return fail(errc::connection, msg);
        const std::string_view sqlstate = state ? state : "";
        const errc kind = sqlstate.starts_with("23")   ? errc::conflict
                          : sqlstate.starts_with("40") ? errc::retry
                                                       : errc::statement;
        return error(kind, msg + (state ? std::string(" (SQLSTATE ") + state + ")" : std::string()));
    }

    /// Runs a statement that returns nothing the caller needs.
    db_result<void> run(const std::string& sql, params p = {}) {
        auto r = exec(sql, std::move(p));
        if (!r) return r.error();
        return {};
    }

    /// False once the connection is lost, or left inside a transaction (a ROLLBACK that
    /// failed): it is then dropped from the pool rather than lent in that state.
    bool usable() const noexcept { return connected() && PQtransactionStatus(c_) == PQTRANS_IDLE; }
    /// False once the connection is lost.
    bool connected() const noexcept { return !broken_ && PQstatus(c_) == CONNECTION_OK; }
    /// Statements that succeeded on this connection since the pool lent it.
    unsigned succeeded() const noexcept { return ok_; }
    void lent() noexcept { ok_ = 0; }

private:
    db_result<result> fail(errc e, std::string msg) {
        if (e == errc::connection) broken_ = true;
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        return error(e, msg.empty() ? std::string("connection lost") : msg);
    }
    PGconn* c_;
    unsigned ok_ = 0;
    bool broken_ = false;
};

/// A transaction on a connection: BEGIN on construction (see ok()), ROLLBACK on
/// destruction unless commit() succeeded.
class transaction {
public:
    explicit transaction(connection& c) : c_(c) { begun_ = c_.run("BEGIN"); }
    ~transaction() {
        if (begun_ && !done_ && c_.connected()) (void)c_.run("ROLLBACK");
    }
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    /// The result of BEGIN.
    const db_result<void>& ok() const noexcept { return begun_; }
    db_result<void> commit() {
        done_ = true;
        return c_.run("COMMIT");
    }

private:
    connection& c_;
    db_result<void> begun_;
    bool done_ = false;
};

/// A bounded pool of connections to one database.
///
/// @par Thread safety All members may be called from any thread. Each
/// operation has a connection to itself for its whole duration.
///
/// @par Reconnecting A connection that fails (the server restarted, the
/// network dropped) is closed; the next operation opens a new one. An operation
/// whose very first statement failed for lack of a connection (nothing of it
/// reached the server) is run once more on a new connection, so the first
/// request after a server restart does not fail for an idle connection that
/// died meanwhile.
class pool {
public:
    /// `url`: a libpq connection URI; at most `max` connections at once.
    pool(std::string url, std::size_t max) : url_(std::move(url)), max_(std::max<std::size_t>(max, 1)) {}
    ~pool() = default;
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;

    /// Runs `op(connection&)` (which returns a db_result) on a connection of the pool.
    template <class Op>
    auto with(Op&& op) -> decltype(op(std::declval<connection&>())) {
        for (int attempt = 0;; ++attempt) {
            auto c = acquire();
            if (!c) return c.error();
            connection& conn = **c;
            conn.lent();
            auto r = op(conn);
            const bool retry = !r && !conn.connected() && conn.succeeded() == 0 && attempt == 0;
            release(std::move(*c));
            if (!retry) return r;
        }
    }

    const std::string& url() const noexcept { return url_; }

private:
    db_result<std::unique_ptr<connection>> acquire() {
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [&] { return !idle_.empty() || open_ < max_; });
            if (!idle_.empty()) {
                auto c = std::move(idle_.back());
                idle_.pop_back();
                return c;
            }
            ++open_;
        }
        PGconn* raw = PQconnectdb(url_.c_str());
        if (!raw || PQstatus(raw) != CONNECTION_OK) {
            std::string msg = raw ? PQerrorMessage(raw) : "out of memory";
            if (raw) PQfinish(raw);
            while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
            {
                std::lock_guard lk(mu_);
                --open_;
            }
            cv_.notify_one();
            return error(errc::connection, "connect to " + redact(url_) + ": " + msg);
        }
        // Quiet notices ("relation already exists, skipping") instead of libpq's stderr default.
        PQsetNoticeProcessor(raw, [](void*, const char*) {}, nullptr);
        return std::make_unique<connection>(raw);
    }

    void release(std::unique_ptr<connection> c) {
        {
            std::lock_guard lk(mu_);
            if (c->usable())
                idle_.push_back(std::move(c));
            else
                --open_;
        }
        c.reset();
        cv_.notify_one();
    }

    std::string url_;
    std::size_t max_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::size_t open_ = 0;  ///< lent + idle
};

}  // namespace ballotchain::backend::pg
