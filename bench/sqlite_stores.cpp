// Micro-benchmarks of the apps' SQLite stores on a real file with synchronous=FULL:
// the validator's pending.db (one durable insert per acknowledged vote, one
// transaction per finalized block) and the backend's group commit (N votes in
// one transaction). Most of each figure is the fsync of the disk it runs on.
#include <backend/sqlite_store.hpp>
#include <validator/pending_store.hpp>

#include <ballotchain/crypto/sha256.hpp>

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <unistd.h>

using namespace ballotchain;

namespace {

/// A file name in the temp dir, removed (with its -wal and -shm) on destruction.
struct temp_db {
    std::string path;
    explicit temp_db(const char* name)
        : path((std::filesystem::temp_directory_path() /
                ("bc-bench-" + std::to_string(::getpid()) + "-" + name + ".db"))
                   .string()) {
        remove();
    }
    ~temp_db() { remove(); }
    void remove() const {
        for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
    }
};

hash32 nth_hash(std::uint64_t n) {
    bytes b(8);
    for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = static_cast<byte>(n >> (8 * i));
    return sha256::hash(b);
}

vote_tx sample_tx(std::uint64_t n) {
    vote_tx tx;
    tx.chain_id = 1337;
    tx.election_id = 1;
    tx.encrypted_vote = bytes(64, static_cast<byte>(n));
    tx.voter_tag = nth_hash(n);
    tx.timestamp_ms = n;
    return tx;
}

}  // namespace

static void BM_sqlite_pending_put(benchmark::State& st) {
    temp_db f("pending-put");
    auto p = app::pending_store::open(f.path);
    if (!p) return st.SkipWithError(p.error().message.c_str());
    std::uint64_t n = 0;
    for (auto _ : st) {
        ++n;
        if (!p->put(nth_hash(n), sample_tx(n))) st.SkipWithError("put failed");
    }
    st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_sqlite_pending_put)->Unit(benchmark::kMicrosecond);

/// Removal of a finalized block's 32 acknowledged votes (one transaction).
static void BM_sqlite_pending_erase32(benchmark::State& st) {
    temp_db f("pending-erase");
    auto p = app::pending_store::open(f.path);
    if (!p) return st.SkipWithError(p.error().message.c_str());
    std::uint64_t n = 0;
    for (auto _ : st) {
        st.PauseTiming();
        std::vector<hash32> hs;
        for (int i = 0; i < 32; ++i) {
            hs.push_back(nth_hash(++n));
            if (!p->put(hs.back(), sample_tx(n))) st.SkipWithError("put failed");
        }
        st.ResumeTiming();
        if (!p->erase(hs)) st.SkipWithError("erase failed");
    }
    st.SetItemsProcessed(st.iterations() * 32);
}
BENCHMARK(BM_sqlite_pending_erase32)->Unit(benchmark::kMicrosecond);

/// One group commit of range(0) new votes (what service::record_vote does per batch).
static void BM_sqlite_backend_add_votes(benchmark::State& st) {
    constexpr std::int64_t users = 20'000, elections = 20;
    temp_db f("backend");
    if (auto s = backend::sqlite_store::open(f.path); !s)  // creates the schema
        return st.SkipWithError(s.error().message.c_str());
    {
        // Voters, elections and candidates in bulk, behind the store's back (setup only).
        sqlite3* db = nullptr;
        sqlite3_open(f.path.c_str(), &db);
        const std::string sql =
            "BEGIN;"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(users) +
            ") INSERT INTO users(id, email, full_name, salt, pw_hash, created_ms)"
            " SELECT i, 'v' || i || '@example.org', '', x'00', x'00', 0 FROM n;"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(elections) +
            ") INSERT INTO elections(id, name, description, start_ms, end_ms, created_ms) SELECT i, 'e', '', 0, 1, 0 FROM n;"
            "INSERT INTO candidates(id, election_id, name, description) SELECT id, id, 'c', '' FROM elections;"
            "COMMIT;";
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
        sqlite3_close(db);
        if (rc != SQLITE_OK) return st.SkipWithError("setup failed");
    }
    auto s = backend::sqlite_store::open(f.path);
    if (!s) return st.SkipWithError(s.error().message.c_str());
    const auto batch = static_cast<std::size_t>(st.range(0));
    const bytes raw = encode(sample_tx(0));
    std::uint64_t n = 0;
    backend::vote_row proto;
    proto.ballot_hash = std::string(64, 'b');
    proto.raw_tx = raw;
    proto.created_ms = 1;
    std::vector<backend::vote_row> rows(batch, proto);
    for (auto _ : st) {
        st.PauseTiming();
        std::vector<const backend::vote_row*> ptrs;
        for (auto& v : rows) {
            const auto i = static_cast<std::int64_t>(n++);
            if (i >= users * elections) st.SkipWithError("out of voters");
            v.user_id = 1 + i % users;
            v.election_id = v.candidate_id = 1 + (i / users) % elections;
            v.tx_hash = nth_hash(static_cast<std::uint64_t>(i));
            ptrs.push_back(&v);
        }
        st.ResumeTiming();
        const auto ids = (*s)->add_votes(ptrs);
        if (!ids || ids->size() != batch || !ids->back()) st.SkipWithError("a vote was not recorded");
    }
    st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(BM_sqlite_backend_add_votes)->Arg(1)->Arg(32)->Unit(benchmark::kMicrosecond);
