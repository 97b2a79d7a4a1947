// Crash tests: a real child process appends real signed blocks to an SQLite
// chain and is SIGKILLed mid-way (at a random moment, or inside a WAL write
// with a torn frame); the parent reopens and checks it got the last complete
// block, that nothing acknowledged was lost, and that the chain verifies and grows.
//
// The test process is single-threaded when it forks (Catch2 starts no
// threads); the child never returns into Catch2: it ends with _exit or a signal.
#include <ballotchain/storage/sqlite_storage.hpp>

#include "storage_fixture.hpp"

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <csignal>
#include <cstdlib>
#include <random>
#include <thread>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace ballotchain;
using ballotchain::test::chain_keys;
using ballotchain::test::sqlite_chain;
using ballotchain::test::temp_dir;

namespace {

constexpr std::string_view meta_key = "crash.last_height";
constexpr int txs_per_block = 4;

// ---- child -> parent reports over a pipe: 1 kind byte + 8 value bytes --------------

enum class report : std::uint8_t { ready = 'R', appended = 'A', meta = 'M' };

void send(int fd, report k, std::uint64_t v) {
    byte rec[9];
    rec[0] = static_cast<byte>(k);
    for (int i = 0; i < 8; ++i) rec[1 + i] = static_cast<byte>(v >> (56 - 8 * i));
    if (::write(fd, rec, sizeof rec) != static_cast<ssize_t>(sizeof rec)) ::_exit(5);  // atomic: < PIPE_BUF
}

bytes be64(std::uint64_t v) {
    bytes b(8);
    for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = static_cast<byte>(v >> (56 - 8 * i));
    return b;
}
std::uint64_t from_be64(const bytes& b) {
    std::uint64_t v = 0;
    for (byte x : b) v = (v << 8) | x;
    return v;
}

/// The votes of block h: numbered from h, so every height has its own voters
/// whichever process (child or parent) builds it.
std::vector<vote_tx> votes_for(const chain_keys& keys, std::uint64_t h) {
    std::vector<vote_tx> txs;
    for (int i = 0; i < txs_per_block; ++i) {
        const std::uint64_t n = h * 100 + static_cast<std::uint64_t>(i);
        txs.push_back(keys.vote(1 + n % 2, (h + static_cast<std::uint64_t>(i)) % 3, n));
    }
    return txs;
}

// ---- a VFS shim that kills the process inside its Nth write to a WAL file -----------

int g_wal_writes_left = 0;  ///< 0: never kill
bool g_torn = false;        ///< write half the buffer before dying
const sqlite3_io_methods* g_real_wal_methods = nullptr;
sqlite3_io_methods g_patched_wal_methods;

int kill_write(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
    if (g_wal_writes_left > 0 && --g_wal_writes_left == 0) {
        const int part = g_torn ? amt / 2 : amt;
        if (part > 0) g_real_wal_methods->xWrite(f, buf, part, off);
        std::raise(SIGKILL);
    }
    return g_real_wal_methods->xWrite(f, buf, amt, off);
}

int kill_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
    auto* real = static_cast<sqlite3_vfs*>(vfs->pAppData);
    const int rc = real->xOpen(real, name, f, flags, out_flags);
    if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) && f->pMethods) {
        if (!g_real_wal_methods) {
            g_real_wal_methods = f->pMethods;
            g_patched_wal_methods = *f->pMethods;
            g_patched_wal_methods.xWrite = kill_write;
        }
        if (f->pMethods == g_real_wal_methods) f->pMethods = &g_patched_wal_methods;
    }
    return rc;
}

/// Makes the shim the default VFS (child only).
void install_kill_vfs() {
    static sqlite3_vfs shim;
    sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
    if (!real) ::_exit(6);
    shim = *real;
    shim.pNext = nullptr;
    shim.zName = "ballotchain-crash-test";
    shim.pAppData = real;
    shim.xOpen = kill_open;
    if (sqlite3_vfs_register(&shim, 1) != SQLITE_OK) ::_exit(6);
}

// ---- the child ------------------------------------------------------------------------

struct child_plan {
    int kill_at_wal_write = 0;  ///< > 0: die inside that WAL write after opening
    bool torn = false;
};

[[noreturn]] void run_child(const std::string& path, const chain_keys& keys, int fd, child_plan plan) {
    if (plan.kill_at_wal_write > 0) install_kill_vfs();
    auto s = sqlite_storage::open(path);
    if (!s) ::_exit(2);
    auto c = sqlite_chain::open(keys.genesis, std::move(*s));
    if (!c) ::_exit(3);
    send(fd, report::ready, c->height());
    g_torn = plan.torn;
    g_wal_writes_left = plan.kill_at_wal_write;
    for (;;) {
        const std::uint64_t h = c->height() + 1;
        if (!c->append(keys.next_block(*c, votes_for(keys, h), static_cast<std::uint32_t>(h % 2)))) ::_exit(4);
        send(fd, report::appended, h);
        if (!c->storage().put_meta(meta_key, be64(h))) ::_exit(4);
        send(fd, report::meta, h);
    }
}

/// What the parent learned from one child.
struct child_outcome {
    std::optional<std::uint64_t> ready_height;  ///< chain height when the child was ready
    std::optional<std::uint64_t> acked;         ///< last height it reported appended
    std::optional<std::uint64_t> acked_meta;    ///< last meta value it reported written
};

/// A forked child; killed and reaped on destruction if still alive.
class child_process {
public:
    child_process(const std::string& path, const chain_keys& keys, child_plan plan) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::close(fds[0]);
            run_child(path, keys, fds[1], plan);
        }
        ::close(fds[1]);
        fd_ = fds[0];
    }
    ~child_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int st = 0;
            ::waitpid(pid_, &st, 0);
        }
        if (fd_ >= 0) ::close(fd_);
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// Reads one report; false at EOF (the child is gone).
    bool next(report& k, std::uint64_t& v) {
        byte rec[9];
        std::size_t got = 0;
        while (got < sizeof rec) {
            const ssize_t n = ::read(fd_, rec + got, sizeof rec - got);
            if (n <= 0) return false;
            got += static_cast<std::size_t>(n);
        }
        k = static_cast<report>(rec[0]);
        v = 0;
        for (int i = 1; i < 9; ++i) v = (v << 8) | rec[i];
        note(k, v);
        return true;
    }

    /// Reads reports until `want` of kind `k` arrived (or the child is gone).
    void wait_for(report k, int want) {
        report got{};
        std::uint64_t v = 0;
        for (int seen = 0; seen < want && next(got, v);)
            if (got == k) ++seen;
    }

    /// SIGKILLs the child (if still running), reaps it, drains the pipe.
    /// Returns the raw wait status.
    int kill_and_reap() {
        ::kill(pid_, SIGKILL);
        return reap();
    }
    /// Waits for the child to end on its own, then drains the pipe.
    int reap() {
        int st = 0;
        REQUIRE(::waitpid(pid_, &st, 0) == pid_);
        pid_ = -1;
        report k{};
        std::uint64_t v = 0;
        while (next(k, v)) {
        }
        return st;
    }

    const child_outcome& outcome() const noexcept { return out_; }

private:
    void note(report k, std::uint64_t v) {
        switch (k) {
        case report::ready: out_.ready_height = v; break;
        case report::appended: out_.acked = v; break;
        case report::meta: out_.acked_meta = v; break;
        }
    }

    pid_t pid_ = -1;
    int fd_ = -1;
    child_outcome out_;
};

std::string describe_status(int st) {
    if (WIFSIGNALED(st)) return "killed by signal " + std::to_string(WTERMSIG(st));
    if (WIFEXITED(st)) return "exited with code " + std::to_string(WEXITSTATUS(st));
    return "status " + std::to_string(st);
}

/// Reopens after a kill and checks everything; returns the head height.
std::uint64_t check_after_kill(const std::string& path, const chain_keys& keys, const child_outcome& o,
                               std::optional<std::uint64_t> prev_head) {
    std::string why;
    auto s = sqlite_storage::open(path, {}, &why);
    INFO("reopen: " << why);
    REQUIRE(s.has_value());
    REQUIRE(s->integrity_check());
    const auto head = s->head();
    if (o.ready_height || prev_head) REQUIRE(head.has_value());
    if (head) {
        // Nothing acknowledged or committed before was lost...
        if (prev_head) CHECK(*head >= *prev_head);
        if (o.ready_height) CHECK(*head >= *o.ready_height);
        if (o.acked) CHECK(*head >= *o.acked);
        // ...and at most the one block in flight was added after the last acknowledgement.
        if (o.acked) CHECK(*head <= *o.acked + 1);
        else if (o.ready_height) CHECK(*head <= *o.ready_height + 1);
        // Every block up to the head is complete: loads, decodes, indexed under its hash.
        for (std::uint64_t h = 0; h <= *head; ++h) {
            INFO("height " << h);
            auto fb = s->load(h);
            REQUIRE(fb);
            auto raw = s->load_raw(h);
            REQUIRE(raw);
            CHECK(*raw == encode(*fb));
            const hash32 bh = block_hash<ed25519_sha256>(fb->blk.header);
            CHECK(s->hash_at(h) == bh);
            CHECK(s->height_of(bh) == h);
            CHECK(fb->blk.txs.size() == (h == 0 ? 0u : static_cast<std::size_t>(txs_per_block)));
        }
        CHECK_FALSE(s->load(*head + 1));
    }
    // Meta writes acknowledged before the kill are there, whole.
    const auto m = s->get_meta(meta_key);
    if (o.acked_meta) {
        REQUIRE(m);
        REQUIRE(m->size() == 8);
        CHECK(from_be64(*m) >= *o.acked_meta);
    }
    if (m) {
        REQUIRE(m->size() == 8);
        REQUIRE(head);
        CHECK(from_be64(*m) <= *head);
    }
    // The chain opens on it and re-verifies from genesis.
    auto c = sqlite_chain::open(keys.genesis, std::move(*s));
    REQUIRE(c.has_value());
    const auto rep = c->verify();
    INFO("verify: bad height " << rep.bad_height.value_or(0) << ": " << rep.reason.message());
    CHECK(rep.ok);
    CHECK(rep.blocks_checked == c->height() + 1);
    return c->height();
}

/// After all kills: the chain still takes new blocks and verifies.
void check_appending_continues(const std::string& path, const chain_keys& keys, std::uint64_t head) {
    auto s = sqlite_storage::open(path);
    REQUIRE(s.has_value());
    auto c = sqlite_chain::open(keys.genesis, std::move(*s));
    REQUIRE(c.has_value());
    REQUIRE(c->height() == head);
    for (int i = 0; i < 3; ++i) {
        const std::uint64_t h = c->height() + 1;
        auto r = c->append(keys.next_block(*c, votes_for(keys, h)));
        INFO(r);
        REQUIRE(r);
    }
    CHECK(c->height() == head + 3);
    CHECK(c->verify().ok);
}

std::uint64_t test_seed() {
    if (const char* e = std::getenv("BALLOTCHAIN_CRASH_SEED")) return std::strtoull(e, nullptr, 10);
    return std::random_device{}();
}

}  // namespace

TEST_CASE("sqlite crash: a child SIGKILLed at random moments while appending reopens to its last complete block",
          "[storage][sqlite][crash]") {
    const chain_keys keys;
    temp_dir dir;
    const auto path = dir.file("crash.db");
    const std::uint64_t seed = test_seed();
    INFO("reproduce the kill schedule with BALLOTCHAIN_CRASH_SEED=" << seed);
    std::mt19937_64 rng(seed);

    constexpr int rounds = 30;
    std::optional<std::uint64_t> head;
    std::uint64_t acks_waited = 0;
    int killed_after_progress = 0;
    for (int round = 0; round < rounds; ++round) {
        INFO("round " << round);
        // Mostly: let the child get going (0-3 acknowledged appends), then kill it after
        // a random 0-20 ms. Sometimes: kill it while it opens or writes genesis.
        const bool during_open = rng() % 6 == 0;
        const int acks = static_cast<int>(rng() % 4);
        const auto delay = std::chrono::microseconds(rng() % 20'000);
        child_process child(path, keys, {});
        if (!during_open) {
            child.wait_for(report::ready, 1);
            child.wait_for(report::appended, acks);
            acks_waited += static_cast<std::uint64_t>(acks);
        }
        std::this_thread::sleep_for(delay);
        const int st = child.kill_and_reap();
        INFO("child " << describe_status(st));
        REQUIRE(WIFSIGNALED(st));
        REQUIRE(WTERMSIG(st) == SIGKILL);
        if (child.outcome().acked) ++killed_after_progress;
        head = check_after_kill(path, keys, child.outcome(), head);
    }
    // Not vacuous: the children really appended (the parent waited for these).
    CHECK(killed_after_progress > 0);
    REQUIRE(head);
    CHECK(*head >= acks_waited);
    check_appending_continues(path, keys, *head);
}

TEST_CASE("sqlite crash: a child killed inside a WAL write (torn or whole frame) loses only the block in flight",
          "[storage][sqlite][crash]") {
    const chain_keys keys;
    temp_dir dir;
    const auto path = dir.file("torn.db");
    const std::uint64_t seed = test_seed();
    INFO("reproduce with BALLOTCHAIN_CRASH_SEED=" << seed);
    std::mt19937_64 rng(seed);

    std::optional<std::uint64_t> head;
    int lost_in_flight = 0;
    for (int round = 0; round < 24; ++round) {
        // Which WAL write to die in: early ones hit the first append's frames (or the WAL
        // header), later ones the put_meta commit or the following appends.
        const child_plan plan{1 + static_cast<int>(rng() % 40), round % 2 == 0};
        INFO("round " << round << ": die in WAL write #" << plan.kill_at_wal_write << (plan.torn ? " (torn)" : ""));
        child_process child(path, keys, plan);
        const int st = child.reap();  // it kills itself
        INFO("child " << describe_status(st));
        REQUIRE(WIFSIGNALED(st));
        REQUIRE(WTERMSIG(st) == SIGKILL);
        const auto& o = child.outcome();
        REQUIRE(o.ready_height);
        head = check_after_kill(path, keys, o, head);
        const std::uint64_t acked = o.acked.value_or(*o.ready_height);
        if (*head == acked) ++lost_in_flight;
    }
    // The kill landed inside an unfinished commit at least once (the block in flight
    // was dropped rather than half-stored).
    CHECK(lost_in_flight > 0);
    REQUIRE(head);
    check_appending_continues(path, keys, *head);
}

TEST_CASE("sqlite crash: a child killed inside COMMIT (commit hook) leaves the previous block as head",
          "[storage][sqlite][crash]") {
    const chain_keys keys;
    temp_dir dir;
    const auto path = dir.file("hook.db");
    {
        // Start from a chain with a few blocks.
        auto s = sqlite_storage::open(path);
        REQUIRE(s.has_value());
        auto c = sqlite_chain::open(keys.genesis, std::move(*s));
        REQUIRE(c.has_value());
        for (std::uint64_t h = 1; h <= 3; ++h) REQUIRE(c->append(keys.next_block(*c, votes_for(keys, h))));
    }
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        auto s = sqlite_storage::open(path);
        if (!s) ::_exit(2);
        auto c = sqlite_chain::open(keys.genesis, std::move(*s));
        if (!c) ::_exit(3);
        // Everything of the append is done but the commit itself.
        sqlite3_commit_hook(
            c->storage().native_handle(),
            [](void*) -> int {
                std::raise(SIGKILL);
                return 0;
            },
            nullptr);
        const std::uint64_t h = c->height() + 1;
        (void)c->append(keys.next_block(*c, votes_for(keys, h)));
        send(fds[1], report::appended, h);  // never reached
        ::_exit(0);
    }
    ::close(fds[1]);
    int st = 0;
    REQUIRE(::waitpid(pid, &st, 0) == pid);
    byte buf[9];
    CHECK(::read(fds[0], buf, sizeof buf) == 0);  // nothing was acknowledged
    ::close(fds[0]);
    INFO("child " << describe_status(st));
    REQUIRE(WIFSIGNALED(st));
    REQUIRE(WTERMSIG(st) == SIGKILL);
    const child_outcome o{3, 3, std::nullopt};
    const auto head = check_after_kill(path, keys, o, 3);
    CHECK(head == 3);  // the uncommitted block 4 is not there
    check_appending_continues(path, keys, head);
}
