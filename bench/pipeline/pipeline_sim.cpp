/// ballotchain-pipeline-sim: the original design's pipeline (docs/benchmarks.md) (3 validators, 5 s blocks of at
/// most 32 votes) in virtual time, under offered loads below and above its
/// 6.4 votes/s capacity. Prints committed votes/s and submit-to-final latency.
/// It runs the simulator's INSECURE crypto suite: the figures are in virtual
/// time, so they do not depend on it, and the run takes a fraction of the CPU.
#include "../common/report.hpp"

#include <ballotchain/sim/sim.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>


int main(int argc, char** argv) {
    using namespace ballotchain;
    using bench::percentile;
    using bench::write_json_file;
    CLI::App app{"ballotchain-pipeline-sim: virtual-time pipeline at the original design's defaults (3 validators, 5 s blocks, 32 votes)"};
    std::uint32_t validators = 3;
    std::uint64_t interval = 5000;
    std::uint32_t max_txs = 32;
    std::uint64_t duration_s = 600;
    std::vector<double> loads{3.2, 6.4, 9.6, 32.0};
    std::uint64_t seed = 1;
    std::string json_path;
    app.add_option("--validators,-n", validators, "validators")->capture_default_str()->check(CLI::Range(1u, 21u));
    app.add_option("--block-interval-ms", interval, "block interval")->capture_default_str()
        ->check(CLI::Range(1ull, 600'000ull));
    app.add_option("--max-block-txs", max_txs, "max txs per block")->capture_default_str()
        ->check(CLI::Range(1u, 100'000u));
    app.add_option("--duration-s", duration_s, "virtual seconds of offered load")->capture_default_str()
        ->check(CLI::Range(10ull, 86'400ull));
    app.add_option("--load", loads, "offered loads in votes/s")->capture_default_str();
    app.add_option("--seed", seed, "seed")->capture_default_str();
    app.add_option("--json", json_path, "also write the table as a JSON object to this file");
    CLI11_PARSE(app, argc, argv);

    const double capacity = 1000.0 * max_txs / static_cast<double>(interval);
    std::printf("virtual-time pipeline: %u validators, %llu ms blocks of at most %u votes "
                "(capacity %.1f votes/s), %llu s of load, 1-5 ms message delay, no faults, suite %s\n",
                validators, static_cast<unsigned long long>(interval), max_txs, capacity,
                static_cast<unsigned long long>(duration_s), std::string(sim::insecure_sim_suite::name).c_str());
    std::printf("%14s %16s %10s %10s %10s %10s\n", "offered v/s", "committed v/s", "p50 ms", "p99 ms", "max ms",
                "height");
    boost::json::array rows;
    for (double load : loads) {
        sim::options o;
        o.seed = seed;
        o.validators = validators;
        o.block_interval_ms = interval;
        o.max_block_txs = max_txs;
        o.round_timeout_ms = 2000;
        o.round_timeout_max_ms = 60000;
        o.min_delay_ms = 1;
        o.max_delay_ms = 5;
        o.fault_ms = duration_s * 1000;
        o.tx_per_s = load;
        o.double_votes = false;
        o.resubmit_ms = 24ull * 3600 * 1000;  // no faults: never needed
        sim::simulation<> s(o);
        auto r = s.run();
        if (!r.ok) {
            std::printf("FAILED: %s\n", r.failure.c_str());
            return 1;
        }
        const double committed = static_cast<double>(r.final_in_fault_phase) / static_cast<double>(duration_s);
        std::printf("%14.1f %16.2f %10llu %10llu %10llu %10llu\n", load, committed,
                    static_cast<unsigned long long>(percentile(r.latencies_ms, 0.50)),
                    static_cast<unsigned long long>(percentile(r.latencies_ms, 0.99)),
                    static_cast<unsigned long long>(r.max_latency_ms),
                    static_cast<unsigned long long>(r.final_height));
        rows.push_back(boost::json::object{{"offered_votes_per_s", load},
                                           {"committed_votes_per_s", committed},
                                           {"p50_ms", percentile(r.latencies_ms, 0.50)},
                                           {"p99_ms", percentile(r.latencies_ms, 0.99)},
                                           {"max_ms", r.max_latency_ms},
                                           {"height", r.final_height}});
    }
    std::printf("latency is submit to final (commit certificate stored); above capacity the backlog grows, "
                "so latency grows with the run length.\n");
    boost::json::array load_list;
    for (double l : loads) load_list.push_back(l);
    const boost::json::object out{
        {"tool", "ballotchain-pipeline-sim"},
        {"params", boost::json::object{{"validators", validators},
                                       {"block_interval_ms", interval},
                                       {"max_block_txs", max_txs},
                                       {"duration_s", duration_s},
                                       {"loads", load_list},
                                       {"seed", seed},
                                       {"min_delay_ms", 1},
                                       {"max_delay_ms", 5},
                                       {"suite", std::string(sim::insecure_sim_suite::name)}}},
        {"capacity_votes_per_s", capacity},
        {"rows", rows}};
    return write_json_file(json_path, out) ? 0 : 1;
}
