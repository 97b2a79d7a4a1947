// Chaos beyond kill -9, on real validator processes (no bootnode, so nothing can
// route around the proxies): a validator paused with SIGSTOP, partitions made by
// a TCP proxy on every validator link (cut, blackhole, delay, heal; a 1+1+1 and
// a 2+2 split), a full disk under one validator, and one validator's clock
// skewed with libfaketime. Each ends with the same checker: every acknowledged
// vote final exactly once, identical chains on every validator, and
// `ballotchain verify` passing on every data dir once the validators stopped.
#include "network.hpp"
#include "proxy.hpp"
#include "voter.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace ballotchain;
using namespace ballotchain::itest;
using namespace std::chrono_literals;

namespace {

/// The chaos validators close a P2P link that brought no frame for this long
/// (STATUS flows every second), so blackholes are noticed within the test's time.
constexpr int idle_timeout_ms = 4000;

/// A network of n validators without bootnode, not started yet (the test may
/// still point links at proxies, move a data dir or set an environment).
network_options chaos_options() {
    network_options o;
    o.bootnode = false;
    o.bootnode_client = false;
    o.start = false;
    return o;
}

void start_all(network& net, int n) {
    for (int i = 0; i < n; ++i) {
        if (net.running(i)) continue;
        net.start(i);
    }
}

/// Common arguments of every chaos validator, plus `more`.
std::vector<std::string> chaos_args(std::vector<std::string> more = {}) {
    std::vector<std::string> a{"--p2p-idle-timeout-ms", std::to_string(idle_timeout_ms)};
    a.insert(a.end(), more.begin(), more.end());
    return a;
}

/// One proxy on every link i < j: validator i dials validator j through it.
using links = std::map<std::pair<int, int>, std::unique_ptr<tcp_proxy>>;
links proxy_every_link(network& net, int n) {
    links out;
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) {
            auto p = std::make_unique<tcp_proxy>(net.p2p(j));
            net.set_peer_port(i, j, p->port());
            out.emplace(std::pair{i, j}, std::move(p));
        }
    return out;
}
/// The links between validator v and the others.
std::vector<tcp_proxy*> links_of(const links& ls, int v) {
    std::vector<tcp_proxy*> out;
    for (const auto& [k, p] : ls)
        if (k.first == v || k.second == v) out.push_back(p.get());
    return out;
}

std::int64_t peers(network& net, int i) {
    auto h = net.health(i);
    return h ? h->at("peers").to_number<std::int64_t>() : -1;
}

/// Votes from a background thread, round-robin over the validators it is told to
/// use (never a paused one: its RPC would not answer), each with a new voter.
class vote_load {
public:
    vote_load(network& net, std::vector<int> targets, std::uint64_t first_voter = 0)
        : net_(net), vc_(net.dir() / "submitter.key"), targets_(std::move(targets)), voter_(first_voter) {
        th_ = std::thread([this] { run(); });
    }
    ~vote_load() { stop(); }
    vote_load(const vote_load&) = delete;
    vote_load& operator=(const vote_load&) = delete;

    /// From now on send only to these validators; returns once no request to another is in flight.
    void use(std::vector<int> targets) {
        std::lock_guard lk(send_mu_);
        std::lock_guard lk2(mu_);
        targets_ = std::move(targets);
    }
    void stop() {
        stop_ = true;
        if (th_.joinable()) th_.join();
    }
    std::vector<std::string> acked() const {
        std::lock_guard lk(mu_);
        return acked_;
    }
    std::size_t acked_count() const {
        std::lock_guard lk(mu_);
        return acked_.size();
    }
    /// Waits until `k` more votes were acknowledged than now.
    void wait_acked(std::size_t k) {
        const auto want = acked_count() + k;
        REQUIRE(eventually([&] { return acked_count() >= want; }, 60s));
    }

private:
    void run() {
        std::size_t turn = 0;
        while (!stop_) {
            {
                std::lock_guard lk(send_mu_);
                int target = -1;
                {
                    std::lock_guard lk2(mu_);
                    if (!targets_.empty()) target = targets_[turn++ % targets_.size()];
                }
                if (target >= 0)
                    if (auto h = vc_.send(net_.rpc(target), vc_.make(voter_++))) {
                        std::lock_guard lk2(mu_);
                        acked_.push_back(*h);
                    }
            }
            std::this_thread::sleep_for(30ms);  // pacing of the load, not a wait for a condition
        }
    }

    network& net_;
    voter_client vc_;
    std::vector<int> targets_;
    std::uint64_t voter_;
    mutable std::mutex mu_;  ///< targets_, acked_
    std::mutex send_mu_;     ///< held while a vote is on its way
    std::vector<std::string> acked_;
    std::atomic<bool> stop_{false};
    std::thread th_;
};

std::uint64_t min_height(network& net, const std::vector<int>& vs) {
    std::uint64_t h = UINT64_MAX;
    for (int i : vs) h = std::min(h, net.height(i).value_or(0));
    return h;
}

/// Waits until every validator in `vs` finalized at least `k` blocks above `from`.
void wait_progress(network& net, const std::vector<int>& vs, std::uint64_t from, std::uint64_t k) {
    INFO("waiting for height " << from + k);
    REQUIRE(eventually([&] { return min_height(net, vs) >= from + k; }, 60s));
}

/// Header fields of block h on validator i.
struct block_info {
    std::uint32_t proposer = 0;
    std::uint64_t timestamp_ms = 0;
};
block_info block_at(network& net, int i, std::uint64_t h) {
    auto b = rpc_call(net.rpc(i), "eth_getBlockByNumber", {hexq(h), false});
    REQUIRE(b);
    REQUIRE(b->is_object());
    const auto& o = b->as_object();
    return {static_cast<std::uint32_t>(o.at("proposer").to_number<std::uint64_t>()),
            o.at("timestampMs").to_number<std::uint64_t>()};
}

/// The checker at the end of every scenario: every acknowledged vote final on
/// every validator and exactly once in the chain; all validators at one height
/// with the same block hash at every height (no fork); then, with the
/// validators stopped, `ballotchain verify` passes on every data dir.
void check_converged(network& net, int n, const std::vector<std::string>& acked,
                     std::map<int, fs::path> data_dirs = {}) {
    INFO(acked.size() << " acknowledged votes");
    check_all_final(net, n, acked);
    // Nothing is sent any more: the heights settle on one value.
    std::vector<int> all(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = i;
    std::uint64_t h = 0;
    REQUIRE(eventually(
        [&] {
            h = net.height(0).value_or(0);
            for (int i = 1; i < n; ++i)
                if (net.height(i) != h) return false;
            return true;
        },
        60s));
    std::vector<std::string> txs;
    const auto ref = net.block_hashes(0, h, &txs);
    REQUIRE(ref.size() == h);
    for (int i = 1; i < n; ++i) {
        INFO("validator " << i + 1);
        CHECK(net.block_hashes(i, h) == ref);
    }
    std::multiset<std::string> in_chain(txs.begin(), txs.end());
    for (const auto& a : acked) CHECK(in_chain.count(a) == 1);
    CHECK(std::set<std::string>(txs.begin(), txs.end()).size() == txs.size());
    net.stop_all();
    for (int i = 0; i < n; ++i) {
        const auto dir = data_dirs.contains(i) ? data_dirs[i] : net.vdir(i);
        auto [rc, out] = run({bin_dir + "/ballotchain", "verify", "--data-dir", dir.string()},
                             net.dir() / ("verify-" + std::to_string(i + 1) + ".log"));
        INFO("validator " << i + 1 << ": " << out);
        CHECK(rc == 0);
    }
}

}  // namespace

TEST_CASE("chaos: a validator paused (SIGSTOP) past the round and idle timeouts catches up after SIGCONT; no fork",
          "[integration][chaos]") {
    constexpr int n = 3;
    network net(n, chaos_options());
    for (int i = 0; i < n; ++i) net.set_extra_args(i, chaos_args());
    start_all(net, n);
    wait_connected(net);
    vote_load load(net, {0, 1, 2});
    load.wait_acked(20);
    // The proposer of the next height, as far as we can tell while votes flow.
    const int p = static_cast<int>((net.height(0).value() + 1) % n);
    std::vector<int> others;
    for (int i = 0; i < n; ++i)
        if (i != p) others.push_back(i);
    load.use(others);
    REQUIRE(::kill(net.pid(p), SIGSTOP) == 0);
    const auto h_stop = min_height(net, others);
    // Held until both others closed their link to it (no frame for the idle
    // timeout, beyond the 2 s round timeout): it stays stopped through round
    // changes at the heights it would have proposed.
    REQUIRE(eventually([&] { return peers(net, others[0]) == 1 && peers(net, others[1]) == 1; }, 30s));
    // The other two keep finalizing without it: blocks whose messages never
    // reached even its socket buffers, so it can only fetch them.
    wait_progress(net, others, min_height(net, others), 3);
    REQUIRE(::kill(net.pid(p), SIGCONT) == 0);
    load.use({0, 1, 2});
    const auto h_resume = min_height(net, others);
    INFO("paused validator-" << p + 1 << " at height " << h_stop << ", resumed at " << h_resume);
    REQUIRE(eventually([&] { return net.height(p).value_or(0) >= h_resume; }, 60s));
    CHECK(net.log(p).find("Synced block") != std::string::npos);
    wait_connected(net);
    load.wait_acked(20);  // it takes votes again, and they become final
    load.stop();
    check_converged(net, n, load.acked());
}

TEST_CASE("chaos: partitions through a proxy on every link: delay, one validator cut off, blackholed, 1+1+1 split",
          "[integration][chaos]") {
    constexpr int n = 3;
    network net(n, chaos_options());
    auto ls = proxy_every_link(net, n);
    for (int i = 0; i < n; ++i) net.set_extra_args(i, chaos_args());
    start_all(net, n);
    wait_connected(net);
    vote_load load(net, {0, 1, 2});
    load.wait_acked(10);
    const std::vector<int> pair{0, 1};

    // 1. Every link slow (250 ms each way, more than the block interval): blocks still become final.
    for (auto& [k, p] : ls) p->delay(250ms);
    wait_progress(net, {0, 1, 2}, min_height(net, {0, 1, 2}), 3);
    for (auto& [k, p] : ls) p->heal();

    // 2. Validator 3 cut off: the other two go on; votes it acknowledges meanwhile wait in its pool.
    for (auto* p : links_of(ls, 2)) p->cut();
    REQUIRE(eventually([&] { return peers(net, 2) == 0 && peers(net, 0) == 1 && peers(net, 1) == 1; }, 30s));
    const auto h_cut = min_height(net, pair);
    wait_progress(net, pair, h_cut, 3);
    load.wait_acked(10);
    for (auto* p : links_of(ls, 2)) p->heal();
    wait_connected(net);
    REQUIRE(eventually([&] { return net.height(2).value_or(0) >= min_height(net, pair); }, 60s));
    CHECK(net.log(2).find("Synced block") != std::string::npos);

    // 3. Validator 3 blackholed: its links stay open and lose every byte. Only the
    //    idle timeout can tell; the other two go on; after healing it reconnects.
    for (auto* p : links_of(ls, 2)) p->blackhole();
    REQUIRE(eventually([&] { return peers(net, 2) == 0 && peers(net, 0) == 1 && peers(net, 1) == 1; }, 30s));
    for (auto* p : links_of(ls, 2)) CHECK(p->bytes_dropped() > 0);
    // each side by its own idle timeout
    CHECK(net.log(0).find("validator-3 disconnected: timed out") != std::string::npos);
    CHECK(net.log(2).find("validator-1 disconnected: timed out") != std::string::npos);
    const auto h_hole = min_height(net, pair);
    wait_progress(net, pair, h_hole, 3);
    for (auto* p : links_of(ls, 2)) p->heal();
    wait_connected(net);
    REQUIRE(eventually([&] { return net.height(2).value_or(0) >= min_height(net, pair); }, 60s));
    load.wait_acked(10);

    // 4. 1+1+1: every link cut. Nothing becomes final, nothing acknowledged is lost.
    load.stop();
    std::vector<std::string> acked = load.acked();
    check_all_final(net, n, acked);
    for (auto& [k, p] : ls) p->cut();
    REQUIRE(eventually([&] { return peers(net, 0) == 0 && peers(net, 1) == 0 && peers(net, 2) == 0; }, 30s));
    std::vector<std::uint64_t> h_split;
    for (int i = 0; i < n; ++i) h_split.push_back(net.height(i).value());
    voter_client vc(net.dir() / "submitter.key");
    std::vector<std::string> during;
    for (std::uint64_t v = 0; v < 30; ++v) {
        auto h = vc.send(net.rpc(static_cast<int>(v % n)), vc.make(1'000'000 + v));
        REQUIRE(h);
        during.push_back(*h);
    }
    // Longer than the block interval and the first round timeout: a lone validator would have finalized by now.
    std::this_thread::sleep_for(4s);
    for (int i = 0; i < n; ++i) {
        INFO("validator " << i + 1);
        CHECK(net.height(i).value() == h_split[static_cast<std::size_t>(i)]);
        for (const auto& d : during) CHECK_FALSE(receipt_final(net, i, d));
    }
    for (auto& [k, p] : ls) p->heal();
    wait_connected(net);
    acked.insert(acked.end(), during.begin(), during.end());
    check_converged(net, n, acked);
}

TEST_CASE("chaos: a 2+2 split of 4 validators finalizes nothing and loses nothing; after healing all is final",
          "[integration][chaos]") {
    constexpr int n = 4;
    network net(n, chaos_options());
    auto ls = proxy_every_link(net, n);
    for (int i = 0; i < n; ++i) net.set_extra_args(i, chaos_args());
    start_all(net, n);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    std::vector<std::string> acked;
    for (std::uint64_t v = 0; v < 20; ++v) acked.push_back(vc.send(net.rpc(static_cast<int>(v % n)), vc.make(v)).value());
    check_all_final(net, n, acked);
    // {1, 2} | {3, 4}: each half holds 2 of the quorum of 3.
    for (auto& [k, p] : ls)
        if ((k.first < 2) != (k.second < 2)) p->cut();
    REQUIRE(eventually([&] { for (int i = 0; i < n; ++i) if (peers(net, i) != 1) return false; return true; }, 30s));
    std::vector<std::uint64_t> h_split;
    for (int i = 0; i < n; ++i) h_split.push_back(net.height(i).value());
    std::vector<std::string> during;
    for (std::uint64_t v = 100; v < 140; ++v) {
        auto h = vc.send(net.rpc(static_cast<int>(v % n)), vc.make(v));
        REQUIRE(h);
        during.push_back(*h);
    }
    // Longer than the block interval and the first round timeout: a half would have finalized by now.
    std::this_thread::sleep_for(4s);
    for (int i = 0; i < n; ++i) {
        INFO("validator " << i + 1);
        CHECK(net.height(i).value() == h_split[static_cast<std::size_t>(i)]);
        for (const auto& d : during) CHECK_FALSE(receipt_final(net, i, d));
    }
    for (auto& [k, p] : ls) p->heal();
    wait_connected(net);
    acked.insert(acked.end(), during.begin(), during.end());
    check_converged(net, n, acked);
}

namespace {

/// A tmpfs of `size` mounted at `dir` (made here) until destruction. Needs root.
class tmpfs_mount {
public:
    tmpfs_mount(fs::path dir, const std::string& size) : dir_(std::move(dir)) {
        fs::create_directories(dir_);
        mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, ("size=" + size).c_str()) == 0;
    }
    ~tmpfs_mount() {
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    tmpfs_mount(const tmpfs_mount&) = delete;
    tmpfs_mount& operator=(const tmpfs_mount&) = delete;
    bool mounted() const noexcept { return mounted_; }
    const fs::path& dir() const noexcept { return dir_; }

private:
    fs::path dir_;
    bool mounted_ = false;
};

/// Writes `file` until the file system says ENOSPC (64 KiB, then 4 KiB, then 1-byte writes); the bytes written.
std::uint64_t fill_until_full(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    std::vector<char> chunk(64 * 1024, 'x');
    std::uint64_t total = 0;
    for (std::size_t size : {std::size_t{64 * 1024}, std::size_t{4096}, std::size_t{1}}) {
        while (true) {
            const auto w = ::write(fd, chunk.data(), size);
            if (w <= 0) break;
            total += static_cast<std::uint64_t>(w);
        }
        REQUIRE(errno == ENOSPC);
    }
    ::fsync(fd);
    ::close(fd);
    return total;
}

}  // namespace

TEST_CASE("chaos: a full disk under one validator: it says so, signs nothing it cannot record, the others go on, "
          "and it recovers and catches up when space returns",
          "[integration][chaos]") {
    if (::geteuid() != 0) {
        WARN("chaos full-disk test skipped: mounting a tmpfs needs root");
        return;
    }
    constexpr int n = 3;
    temp_dir disk_tmp;
    tmpfs_mount disk(disk_tmp.path() / "validator-3", "4m");
    if (!disk.mounted()) {
        WARN("chaos full-disk test skipped: cannot mount a tmpfs here (" << std::strerror(errno) << ")");
        return;
    }
    network net(n, chaos_options());
    for (int i = 0; i < n; ++i) net.set_extra_args(i, chaos_args());
    net.set_extra_args(2, chaos_args({"--data-dir", disk.dir().string()}));
    start_all(net, n);
    wait_connected(net);
    vote_load load(net, {0, 1, 2});
    load.wait_acked(20);
    const auto sync_failures_before = metric(net.rpc(2), "ballotchain_sync_failures_total");

    // The disk fills up while votes flow.
    const auto filler = disk.dir() / "filler";
    const auto filled = fill_until_full(filler);
    INFO("filled " << filled << " bytes");
    REQUIRE(eventually([&] { return http_get(net.rpc(2), "/health").status == 503; }, 60s));
    const auto health = http_get(net.rpc(2), "/health");
    INFO(health.body);
    CHECK(health.body.find("\"status\":\"failing\"") != std::string::npos);
    CHECK(health.body.find("disk is full") != std::string::npos);
    // The log line may follow the health answer; the failing statement may be the write or its
    // COMMIT ("cannot write ...: commit failed: database or disk is full (COMMIT)").
    const std::string failure = " error storage failure: cannot write " + (disk.dir() / "chain.db").string() + ": ";
    CHECK(eventually([&] {
        const auto l = net.log(2);
        const auto at = l.find(failure);
        return at != std::string::npos && l.find("database or disk is full", at) < l.find('\n', at);
    }, 30s));
    const auto log = net.log(2);
    CHECK(metric(net.rpc(2), "ballotchain_storage_failing") == 1);
    // Each failed write is a local fault (its own disk, not a peer): logged at error level and counted.
    CHECK(log.find(" error local fault: could not write the ") != std::string::npos);
    double faults = 0;
    for (const char* w : {"record", "prepared_block", "block"})
        faults += metric(net.rpc(2), std::string("ballotchain_local_faults_total{write=\"") + w + "\"}");
    CHECK(faults >= 1);
    // It refuses votes it could not record.
    bj::value err;
    voter_client vc(net.dir() / "submitter.key");
    CHECK_FALSE(vc.send(net.rpc(2), vc.make(5'000'000), &err));
    // The other two go on; it keeps running (no crash, no assertion), and fetching
    // blocks it cannot store is not held against the peers that served them.
    const auto h_full = min_height(net, {0, 1});
    wait_progress(net, {0, 1}, h_full, 5);
    CHECK(net.running(2));
    CHECK(http_get(net.rpc(2), "/health").status == 503);
    CHECK(metric(net.rpc(2), "ballotchain_sync_failures_total") == sync_failures_before);

    // Space returns: it notices by itself, catches up and takes votes again.
    fs::remove(filler);
    REQUIRE(eventually([&] { return http_get(net.rpc(2), "/health").status == 200; }, 60s));
    REQUIRE(eventually([&] { return net.height(2).value_or(0) >= min_height(net, {0, 1}); }, 60s));
    CHECK(net.log(2).find("storage recovered") != std::string::npos);
    CHECK(net.running(2));
    load.wait_acked(20);
    load.stop();
    check_converged(net, n, load.acked(), {{2, disk.dir()}});
}

namespace {

/// libfaketime from Debian's `faketime` package (scripts/setup installs it).
std::optional<std::string> find_libfaketime() {
    for (const char* p : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                          "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1"})
        if (fs::exists(p)) return std::string(p);
    return std::nullopt;
}

}  // namespace

TEST_CASE("chaos: one validator's clock skewed +10 s, +60 s and -60 s: the chain keeps finalizing, no fork",
          "[integration][chaos]") {
    const auto lib = find_libfaketime();
    INFO("needs libfaketime (Debian package faketime; scripts/setup installs it)");
    REQUIRE(lib);
    constexpr int n = 3;
    constexpr int skewed = 2;
    network net(n, chaos_options());
    for (int i = 0; i < n; ++i) net.set_extra_args(i, chaos_args());
    start_all(net, n);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    std::vector<std::string> acked;
    std::uint64_t voter = 0;
    // Votes to the two correct validators until `k` more blocks are final; the heights of the phase.
    auto run_phase = [&](std::uint64_t k) {
        const auto from = min_height(net, {0, 1, 2});
        while (min_height(net, {0, 1}) < from + k) {
            for (int b = 0; b < 5; ++b)
                if (auto h = vc.send(net.rpc(static_cast<int>(voter % 2)), vc.make(voter))) {
                    acked.push_back(*h);
                    ++voter;
                }
            REQUIRE(eventually([&] { return receipt_final(net, 0, acked.back()); }, 60s));
        }
        return std::pair{from + 1, min_height(net, {0, 1})};
    };
    auto skew = [&](const std::string& offset) {
        net.kill(skewed, SIGTERM);
        // Only the wall clock moves: timers run on the (unskewed) monotonic clock.
        net.set_env(skewed, {"LD_PRELOAD=" + *lib, "FAKETIME=" + offset, "FAKETIME_DONT_FAKE_MONOTONIC=1"});
        net.start(skewed);
        wait_connected(net);
    };

    // +10 s: within the 15 s allowed; its blocks are accepted, timestamped ahead.
    skew("+10s");
    const auto phase_start_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    std::uint64_t a = 0, b = 0;
    std::tie(a, b) = run_phase(9);  // three turns of each proposer
    bool its_block = false;
    for (auto h = a; h <= b; ++h) {
        const auto bi = block_at(net, 0, h);
        if (bi.proposer == skewed) {
            its_block = true;
            CHECK(bi.timestamp_ms >= phase_start_ms + 9'000);  // proposed in this phase by a clock 10 s ahead
        }
    }
    CHECK(its_block);

    // +60 s: its proposals are refused (more than 15 s ahead), so its rounds change to the next proposer.
    const auto rc_before = metric(net.rpc(0), "ballotchain_round_changes_total");
    skew("+60s");
    std::tie(a, b) = run_phase(6);
    for (auto h = a; h <= b; ++h) {
        INFO("block " << h);
        CHECK(block_at(net, 0, h).proposer != skewed);
    }
    CHECK(metric(net.rpc(0), "ballotchain_round_changes_total") > rc_before);

    // -60 s: it refuses the others' proposals (60 s in its future); the other two are a quorum.
    skew("-60s");
    std::tie(a, b) = run_phase(6);
    CHECK(http_get(net.rpc(skewed), "/metrics").body.find("ballotchain_p2p_messages_rejected_total{reason=\"invalid proposed block\"}") !=
          std::string::npos);
    REQUIRE(eventually([&] { return net.height(skewed).value_or(0) >= b; }, 60s));
    check_converged(net, n, acked);
}

namespace {

/// Replaces validator i's data dir with `backup`; keeps the current `signed-state` file unless
/// `old_signed_state` (then the backup's, or none if the backup has none).
void restore_backup(network& net, int i, const fs::path& backup, bool old_signed_state) {
    const fs::path dir = net.vdir(i);
    const fs::path keep = net.dir() / "signed-state.current";
    if (!old_signed_state && fs::exists(dir / "signed-state")) fs::copy_file(dir / "signed-state", keep, fs::copy_options::overwrite_existing);
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename() != "validator.key" && e.path().filename() != "config.toml") fs::remove_all(e.path());
    for (const auto& e : fs::directory_iterator(backup))
        fs::copy(e.path(), dir / e.path().filename(), fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    if (!old_signed_state) fs::copy_file(keep, dir / "signed-state", fs::copy_options::overwrite_existing);
}

std::size_t count_in_logs(network& net, int n, const std::string& what) {
    std::size_t c = 0;
    for (int i = 0; i < n; ++i) {
        const std::string l = net.log(i);
        for (auto p = l.find(what); p != std::string::npos; p = l.find(what, p + 1)) ++c;
    }
    return c;
}

}  // namespace

TEST_CASE("chaos: a validator restored from an old backup under load, with its signed-state file kept and with the "
          "backup's: it catches up, no equivocation with the file kept, every vote final once, one chain",
          "[integration][chaos]") {
    constexpr int n = 4;
    constexpr int r = 2;  // validator-3 is backed up and restored
    network net(n, chaos_options());
    for (int i = 0; i < n; ++i) net.set_extra_args(i, chaos_args());
    start_all(net, n);
    wait_connected(net);
    std::vector<int> others{0, 1, 3};
    vote_load load(net, {0, 1, 2, 3});
    load.wait_acked(20);

    // The backup, as operations.md says to take it: the validator stopped, its data dir copied.
    load.use(others);
    net.kill(r, SIGTERM);
    const fs::path backup = net.dir() / "backup";
    fs::copy(net.vdir(r), backup, fs::copy_options::recursive);
    const auto h_backup = net.height(0).value();
    net.start(r);
    load.use({0, 1, 2, 3});
    // It signs blocks the backup does not hold.
    wait_progress(net, {0, 1, 2, 3}, min_height(net, {0, 1, 2, 3}), 5);
    load.wait_acked(20);

    // 1. Killed under load and restored from the backup, its current signed-state file kept: the
    //    file is ahead of the restored chain.db, so it signs nothing below that height until it has
    //    caught up.
    load.use(others);
    net.kill(r, SIGKILL);
    restore_backup(net, r, backup, false);
    net.start(r);
    REQUIRE(eventually([&] { return net.log(r).find("signed-state: this node signed up to height") != std::string::npos; }, 30s));
    REQUIRE(eventually([&] { return net.height(r).value_or(0) >= min_height(net, others); }, 60s));
    load.use({0, 1, 2, 3});
    wait_progress(net, {0, 1, 2, 3}, min_height(net, {0, 1, 2, 3}), 3);
    load.wait_acked(20);
    // The documented procedure: no validator saw anyone sign twice.
    CHECK(count_in_logs(net, n, "equivocation by") == 0);

    // 2. Restored again, this time with the backup's own (older) signed-state file, against the
    //    documented procedure: it catches up from its peers' certified blocks and the chain stays
    //    one chain (what it may have signed at the height being decided when it came back is
    //    forgotten — docs/protocol.md §6 — so no equivocation check here).
    load.use(others);
    net.kill(r, SIGKILL);
    restore_backup(net, r, backup, true);
    net.start(r);
    REQUIRE(eventually([&] { return net.height(r).value_or(0) >= min_height(net, others); }, 60s));
    load.use({0, 1, 2, 3});
    wait_progress(net, {0, 1, 2, 3}, min_height(net, {0, 1, 2, 3}), 3);
    load.wait_acked(20);
    load.stop();
    INFO("backup at height " << h_backup);
    check_converged(net, n, load.acked());
}
