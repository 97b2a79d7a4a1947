/// ballotchain-pipeline: n validator engines in one process, one thread each,
/// real Ed25519 and SHA-256, real clock, in-memory message passing and storage.
/// A load thread submits pre-signed votes in batches, round-robin over the
/// validators, keeping at most --window votes in flight. Prints committed
/// votes/s, submit-to-final latency p50/p99 and, measured in the same run, the
/// signature bound: Ed25519 verifications/s x cores / validators (every
/// validator checks every vote's signature once).
#include "../common/report.hpp"

#include <ballotchain/consensus/engine.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

namespace {
using namespace ballotchain;
using S = ed25519_sha256;  ///< the production crypto suite
using engine_t = consensus::engine<S, memory_storage, steady_clock_adapter>;

std::uint64_t now_ms() { return steady_clock_adapter{}.now_ms(); }
std::uint64_t now_us() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

struct shared_state {
    std::vector<std::atomic<std::uint64_t>> batch_submit_us;  // per batch index
    std::atomic<std::uint64_t> finalized{0};                  // votes final on validator 0
    std::atomic<bool> stop{false};
    std::mutex lat_m;
    std::vector<std::uint64_t> latencies_us;
    std::uint64_t measure_from_us = 0;
    std::size_t batch_size = 1;
    explicit shared_state(std::size_t batches) : batch_submit_us(batches) {}
};

class node {
public:
    node(std::uint32_t idx, engine_t eng, shared_state& st) : idx_(idx), eng_(std::move(eng)), st_(st) {}

    void connect(std::vector<node*> all) { peers_ = std::move(all); }
    void start() {
        th_ = std::thread([this] { run(); });
    }
    void join() {
        {
            std::lock_guard lk(m_);
            cv_.notify_all();
        }
        if (th_.joinable()) th_.join();
    }
    void post_message(std::shared_ptr<const bytes> m) {
        std::lock_guard lk(m_);
        inbox_.push_back(std::move(m));
        cv_.notify_one();
    }
    void post_submit(std::vector<vote_tx> txs) {
        std::lock_guard lk(m_);
        submits_.push_back(std::move(txs));
        cv_.notify_one();
    }
    const engine_t& engine() const { return eng_; }

private:
    void run() {
        consensus::effects fx;
        eng_.start(fx);
        route(fx);
        while (!st_.stop.load()) {
            std::deque<std::shared_ptr<const bytes>> msgs;
            std::deque<std::vector<vote_tx>> subs;
            {
                std::unique_lock lk(m_);
                const auto deadline = next_deadline();
                auto ready = [&] { return !inbox_.empty() || !submits_.empty() || st_.stop.load(); };
                if (deadline)
                    cv_.wait_for(lk, std::chrono::milliseconds(*deadline > now_ms() ? *deadline - now_ms() : 0), ready);
                else
                    cv_.wait_for(lk, std::chrono::milliseconds(50), ready);
                msgs.swap(inbox_);
                subs.swap(submits_);
            }
            for (auto& s : subs) {
                fx.clear();
                (void)eng_.submit_batch(std::move(s), fx);
                route(fx);
            }
            for (auto& m : msgs) {
                fx.clear();
                (void)eng_.on_message(*m, fx);
                route(fx);
            }
            const auto t = now_ms();
            for (auto& slot : timers_) {
                if (slot && slot->at_ms <= t) {
                    auto req = *slot;
                    slot.reset();
                    fx.clear();
                    eng_.on_timer(req, fx);
                    route(fx);
                }
            }
        }
    }

    std::optional<std::uint64_t> next_deadline() const {
        std::optional<std::uint64_t> d;
        for (const auto& s : timers_)
            if (s && (!d || s->at_ms < *d)) d = s->at_ms;
        return d;
    }

    void route(consensus::effects& fx) {
        for (auto& t : fx.timers) timers_[static_cast<std::size_t>(t.kind)] = t;
        for (auto& m : fx.messages) {
            auto data = std::make_shared<const bytes>(std::move(m.data));
            for (auto* p : peers_)
                if (p != this && (!m.to || *m.to == p->idx_)) p->post_message(data);
        }
        if (idx_ != 0) return;
        const std::uint64_t t = now_us();
        std::vector<std::uint64_t> lat;
        for (const auto& f : fx.finalized) {
            for (const auto& tx : f.fb.blk.txs) {
                std::uint64_t id = 0;
                for (std::size_t i = 0; i < 8 && i < tx.encrypted_vote.size(); ++i) id = (id << 8) | tx.encrypted_vote[i];
                const auto sub = st_.batch_submit_us[id / st_.batch_size].load();
                if (sub >= st_.measure_from_us) lat.push_back(t - sub);
            }
            st_.finalized += f.fb.blk.txs.size();
        }
        if (!lat.empty()) {
            std::lock_guard lk(st_.lat_m);
            st_.latencies_us.insert(st_.latencies_us.end(), lat.begin(), lat.end());
        }
    }

    std::uint32_t idx_;
    engine_t eng_;
    shared_state& st_;
    std::vector<node*> peers_;
    std::thread th_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<const bytes>> inbox_;
    std::deque<std::vector<vote_tx>> submits_;
    std::optional<consensus::timer_request> timers_[3];
};

double measure_verify_per_s(double seconds) {
    const auto kp = S::from_secret(secret_key{});
    const hash32 h = S::hash(bytes{1, 2, 3});
    const signature sig = S::sign(kp, h.view());
    std::uint64_t n = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double el = 0;
    while (el < seconds) {
        for (int i = 0; i < 200; ++i) n += S::verify(kp.public_key(), h.view(), sig) ? 1 : 0;
        el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return static_cast<double>(n) / el;
}

std::uint64_t pct(std::vector<std::uint64_t>& v, double p) {
    if (v.empty()) return 0;
    const auto i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i];
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ballotchain-pipeline: real-time consensus pipeline, validators in one process"};
    std::uint32_t validators = 3;
    std::uint64_t interval = 50;
    std::uint32_t max_txs = 3000;
    std::size_t total = 150'000;
    std::size_t batch = 500;
    std::size_t window = 12'000;
    double warmup_s = 1.0;
    std::string json_path;
    app.add_option("--validators,-n", validators, "validators")->capture_default_str()->check(CLI::Range(1u, 21u));
    app.add_option("--block-interval-ms", interval, "block interval")->capture_default_str()
        ->check(CLI::Range(1ull, 60'000ull));
    app.add_option("--max-block-txs", max_txs, "max txs per block")->capture_default_str()
        ->check(CLI::Range(1u, 100'000u));
    app.add_option("--votes", total, "votes to submit (pre-signed before the run)")->capture_default_str()
        ->check(CLI::Range(std::size_t{1000}, std::size_t{10'000'000}));
    app.add_option("--batch", batch, "votes per submission")->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
    app.add_option("--window", window, "most votes in flight")->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
    app.add_option("--warmup-s", warmup_s, "seconds excluded from the figures")->capture_default_str()
        ->check(CLI::Range(0.0, 60.0));
    app.add_option("--json", json_path, "also write the results as a JSON object to this file");
    CLI11_PARSE(app, argc, argv);
    total = (total + batch - 1) / batch * batch;

    genesis_config g;
    std::vector<S::key_pair> keys;
    for (std::uint32_t i = 0; i < validators; ++i) {
        secret_key sk;
        sk.data[0] = static_cast<byte>(i + 1);
        keys.push_back(S::from_secret(sk));
        g.validators.push_back({"validator-" + std::to_string(i + 1), keys.back().public_key()});
    }
    secret_key ssk;
    ssk.data[0] = 0xee;
    const auto submitter = S::from_secret(ssk);
    g.submitters.push_back(submitter.public_key());
    g.block_interval_ms = interval;
    g.max_block_txs = max_txs;
    g.round_timeout_ms = 2000;
    g.round_timeout_max_ms = 10000;

    std::printf("pre-signing %zu votes...\n", total);
    std::vector<vote_tx> txs(total);
    for (std::size_t i = 0; i < total; ++i) {
        auto& tx = txs[i];
        tx.chain_id = g.chain_id;
        tx.election_id = 1;
        tx.candidate_id = i % 4;
        tx.encrypted_vote.resize(8);
        for (int b = 0; b < 8; ++b) tx.encrypted_vote[static_cast<std::size_t>(b)] = static_cast<byte>(i >> (56 - 8 * b));
        bytes tag(8);
        for (int b = 0; b < 8; ++b) tag[static_cast<std::size_t>(b)] = static_cast<byte>(i >> (8 * b));
        tx.voter_tag = S::hash(tag);
        tx.timestamp_ms = 1'700'000'000'000ull + i;
        sign_tx<S>(tx, submitter);
    }

    const double verify_per_s = measure_verify_per_s(1.0);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

    shared_state st(total / batch);
    st.batch_size = batch;
    std::vector<std::unique_ptr<node>> nodes;
    consensus::engine_options eo;
    eo.mempool_capacity = std::max<std::size_t>(window * 2, 100'000);
    for (std::uint32_t i = 0; i < validators; ++i) {
        auto c = ledger::blockchain<S, memory_storage>::open(g, memory_storage{});
        auto e = engine_t::create(std::move(*c), keys[i], steady_clock_adapter{}, eo);
        nodes.push_back(std::make_unique<node>(i, std::move(*e), st));
    }
    std::vector<node*> all;
    for (auto& n : nodes) all.push_back(n.get());
    for (auto& n : nodes) n->connect(all);

    const auto t_start = now_us();
    st.measure_from_us = t_start + static_cast<std::uint64_t>(warmup_s * 1e6);
    for (auto& n : nodes) n->start();

    std::size_t submitted = 0;
    std::size_t final_at_measure = 0, submitted_at_measure = 0;
    bool measuring = false;
    std::uint64_t t_measure = 0;
    while (st.finalized.load() < total) {
        const auto t = now_us();
        if (!measuring && t >= st.measure_from_us) {
            measuring = true;
            t_measure = t;
            final_at_measure = st.finalized.load();
            submitted_at_measure = submitted;
        }
        if (submitted < total && submitted - st.finalized.load() + batch <= window) {
            std::vector<vote_tx> b(txs.begin() + static_cast<std::ptrdiff_t>(submitted),
                                   txs.begin() + static_cast<std::ptrdiff_t>(submitted + batch));
            st.batch_submit_us[submitted / batch] = now_us();
            nodes[(submitted / batch) % validators]->post_submit(std::move(b));
            submitted += batch;
            continue;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        if (t - t_start > 600'000'000) {
            std::printf("timed out after 600 s with %llu of %zu final\n",
                        static_cast<unsigned long long>(st.finalized.load()), total);
            break;
        }
    }
    const auto t_end = now_us();
    st.stop = true;
    for (auto& n : nodes) n->join();
    (void)submitted_at_measure;

    const double secs = static_cast<double>(t_end - (measuring ? t_measure : t_start)) / 1e6;
    const double committed = static_cast<double>(st.finalized.load() - (measuring ? final_at_measure : 0)) / secs;
    auto lat = st.latencies_us;
    const auto& eng0 = nodes[0]->engine();
    bool same = true;
    for (auto& n : nodes)
        same = same && n->engine().chain().height() == eng0.chain().height() &&
               n->engine().chain().head_hash() == eng0.chain().head_hash();
    std::uint64_t max_block = 0;
    for (std::uint64_t h = 1; h <= eng0.chain().height(); ++h)
        max_block = std::max<std::uint64_t>(max_block, eng0.chain().block_at(h)->blk.txs.size());

    std::printf("validators %u, block interval %llu ms, max %u votes/block, batch %zu, window %zu, cores %u\n",
                validators, static_cast<unsigned long long>(interval), max_txs, batch, window, cores);
    std::printf("final votes         %llu in %llu blocks (largest %llu), chains identical: %s\n",
                static_cast<unsigned long long>(st.finalized.load()),
                static_cast<unsigned long long>(eng0.chain().height()), static_cast<unsigned long long>(max_block),
                same ? "yes" : "NO");
    std::printf("committed votes/s   %.0f (over %.2f s after %.1f s warm-up)\n", committed, secs, warmup_s);
    const double p50_ms = static_cast<double>(pct(lat, 0.50)) / 1000.0, p99_ms = static_cast<double>(pct(lat, 0.99)) / 1000.0;
    std::printf("finality latency    p50 %.1f ms, p99 %.1f ms (submit to final on validator 1, %zu samples)\n", p50_ms,
                p99_ms, lat.size());
    std::printf("signature bound     %.0f votes/s = %.0f Ed25519 verify/s x %u cores / %u validators\n",
                verify_per_s * cores / validators, verify_per_s, cores, validators);
    std::printf("round changes       %llu\n", static_cast<unsigned long long>(eng0.stats().round_changes));
    const boost::json::object out{
        {"tool", "ballotchain-pipeline"},
        {"params", boost::json::object{{"validators", validators},
                                       {"block_interval_ms", interval},
                                       {"max_block_txs", max_txs},
                                       {"votes", total},
                                       {"batch", batch},
                                       {"window", window},
                                       {"warmup_s", warmup_s}}},
        {"final_votes", st.finalized.load()},
        {"height", eng0.chain().height()},
        {"largest_block", max_block},
        {"chains_identical", same},
        {"committed_votes_per_s", committed},
        {"measured_s", secs},
        {"finality_ms", boost::json::object{{"p50", p50_ms}, {"p99", p99_ms}, {"n", lat.size()}}},
        {"ed25519_verify_per_s", verify_per_s},
        {"cores", cores},
        {"signature_bound_votes_per_s", verify_per_s * cores / validators},
        {"round_changes", eng0.stats().round_changes}};
    if (!bench::write_json_file(json_path, out)) return 1;
    return same ? 0 : 1;
}
