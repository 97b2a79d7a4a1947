/// ballotchain-sim: runs the deterministic network simulator for one or many seeds.
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/sim/sim.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
    using namespace ballotchain;
    CLI::App app{"ballotchain-sim: deterministic simulation of a validator network under faults.\n"
                 "Every fault option is derived from the seed unless given explicitly; the derived\n"
                 "options are printed so any run can be repeated exactly."};
    std::uint64_t seed = 1;
    std::uint64_t seeds = 1;
    std::uint32_t validators = 4;
    bool verbose = false;
    bool quiet = false;
    std::optional<std::uint64_t> interval, round_timeout, round_timeout_max, max_delay, fault_ms;
    std::optional<std::uint32_t> max_txs, crashes, partitions, storage_faults, restores;
    bool unprotected = false;
    std::uint64_t startup_hold_ms = 0;
    std::optional<double> drop, dup, tps;
    std::optional<int> byz;
    std::string suite_name(sim::insecure_sim_suite::name);
    app.add_option("--seed", seed, "first seed")->capture_default_str();
    app.add_option("--seeds", seeds, "number of consecutive seeds to run (soak: use many)")
        ->capture_default_str()->check(CLI::Range(1ull, 1'000'000ull));
    app.add_option("--validators,-n", validators, "number of validators")
        ->capture_default_str()->check(CLI::Range(1u, 21u));
    app.add_option("--block-interval-ms", interval, "override: block interval")->check(CLI::Range(1ull, 600'000ull));
    app.add_option("--max-block-txs", max_txs, "override: max txs per block")->check(CLI::Range(1u, 100'000u));
    app.add_option("--round-timeout-ms", round_timeout, "override: base round timeout")
        ->check(CLI::Range(1ull, 600'000ull));
    app.add_option("--round-timeout-max-ms", round_timeout_max, "override: round timeout cap")
        ->check(CLI::Range(1ull, 600'000ull));
    app.add_option("--max-delay-ms", max_delay, "override: max message delay")->check(CLI::Range(1ull, 60'000ull));
    app.add_option("--drop", drop, "override: message drop probability")->check(CLI::Range(0.0, 0.9));
    app.add_option("--duplicate", dup, "override: message duplication probability")->check(CLI::Range(0.0, 0.9));
    app.add_option("--fault-ms", fault_ms, "override: length of the fault phase")
        ->check(CLI::Range(2000ull, 3'600'000ull));
    app.add_option("--tx-per-s", tps, "override: offered load in the fault phase")->check(CLI::Range(0.0, 10'000.0));
    app.add_option("--crashes", crashes, "override: crash/restart events")->check(CLI::Range(0u, 1000u));
    app.add_option("--partitions", partitions, "override: partition/heal events")->check(CLI::Range(0u, 1000u));
    app.add_option("--storage-faults", storage_faults,
                   "override: local disk faults (a validator's writes fail, or reach the disk but report failure, "
                   "for a while)")
        ->check(CLI::Range(0u, 1000u));
    app.add_option("--restores", restores,
                   "restores: a validator is backed up, and later crashed and restarted from that older copy of\n"
                   "its storage (chain + record) under load, its signed-state file kept, from the backup or lost;\n"
                   "no honest validator may sign two different messages for one height, round and kind (default 0)")
        ->check(CLI::Range(0u, 1000u));
    std::string restore_file = "any";
    app.add_option("--restore-file", restore_file,
                   "the signed-state file at a restore: kept (the current one: the documented procedure),\n"
                   "backup (the backup's), lost, or any (chosen by the seed)")
        ->capture_default_str()->check(CLI::IsMember({"kept", "backup", "lost", "any"}));
    app.add_option("--startup-hold-ms", startup_hold_ms,
                   "every validator's start-up hold (engine_options::startup_hold_ms; 0: off, the validator's default)")
        ->capture_default_str();
    app.add_flag("--unprotected", unprotected,
                 "run without the signed-state file and the start-up hold (shows what they prevent; with\n"
                 "--restores, seeds fail with an equivocation)");
    app.add_option("--byzantine", byz, "override: 1 = validator n-1 is Byzantine (n >= 4)")->check(CLI::Range(0, 1));
    app.add_option("--suite", suite_name,
                   "crypto suite: INSECURE-sim (forgeable signatures, fast; the default) or ed25519-sha256 "
                   "(production)")
        ->capture_default_str()
        ->check(CLI::IsMember({std::string(sim::insecure_sim_suite::name), std::string(ed25519_sha256::name)}));
    bool encrypted = false;
    app.add_flag("--encrypted", encrypted,
                 "run a secret-ballot election through the faults: the validators as trustees, encrypted ballots, "
                 "the decrypted tally checked against the final ballots");
    std::uint32_t set_changes = 0;
    app.add_option("--set-changes", set_changes,
                   "validator-set changes made one after another from the fault phase on (add a validator,\n"
                   "remove one, or rotate a key, chosen by the seed; the first while a member is down): every\n"
                   "node's schedule must match the agreed chain's, no validator signs outside its sets (default 0)")
        ->capture_default_str()->check(CLI::Range(0u, 64u));
    app.add_flag("--verbose,-v", verbose, "trace every notable event to stderr");
    app.add_flag("--quiet,-q", quiet, "print only failures and the summary");
    CLI11_PARSE(app, argc, argv);

    std::uint64_t failures = 0, elections_ready = 0, elections_failed = 0, equivocated = 0;
    std::uint64_t changes_applied = 0, changes_too_late = 0, changes_refused = 0, down_across = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t s = seed; s < seed + seeds; ++s) {
        auto o = sim::options::derive(s, validators);
        if (interval) o.block_interval_ms = *interval;
        if (max_txs) o.max_block_txs = *max_txs;
        if (round_timeout) o.round_timeout_ms = *round_timeout;
        if (round_timeout_max) o.round_timeout_max_ms = std::max(*round_timeout_max, o.round_timeout_ms);
        if (max_delay) o.max_delay_ms = *max_delay;
        if (drop) o.drop = *drop;
        if (dup) o.duplicate = *dup;
        if (fault_ms) o.fault_ms = *fault_ms;
        if (tps) o.tx_per_s = *tps;
        if (crashes) o.crashes = *crashes;
        if (partitions) o.partitions = *partitions;
        if (storage_faults) o.storage_faults = *storage_faults;
        if (restores) o.restores = *restores;
        o.unprotected = unprotected;
        o.startup_hold_ms = startup_hold_ms;
        o.restore_file = restore_file == "kept" ? 0u : restore_file == "backup" ? 1u : restore_file == "lost" ? 2u : 3u;
        if (byz) o.byzantine = *byz == 1 && validators >= 4;
        o.verbose = verbose;
        o.encrypted = encrypted;
        o.set_changes = set_changes;
        if (!quiet) std::printf("options: %s --suite=%s\n", o.describe().c_str(), suite_name.c_str());
        const auto r = suite_name == ed25519_sha256::name ? sim::simulation<ed25519_sha256>(o).run()
                                                          : sim::simulation<>(o).run();
        if (r.election.rfind("ready", 0) == 0) ++elections_ready;
        if (r.election.rfind("key ceremony failed", 0) == 0) ++elections_failed;
        if (r.equivocated) ++equivocated;
        changes_applied += r.set_changes_applied;
        changes_too_late += r.set_changes_too_late;
        changes_refused += r.set_changes_refused;
        down_across += r.down_across_change;
        if (!r.ok) {
            ++failures;
            std::printf("FAIL seed %llu: %s\n  options: %s\n  reproduce with --seed=%llu --validators=%u --suite=%s\n",
                        static_cast<unsigned long long>(s), r.failure.c_str(), o.describe().c_str(),
                        static_cast<unsigned long long>(s), validators, suite_name.c_str());
        } else if (!quiet) {
            std::printf("ok seed %llu: height %llu, %llu/%llu votes final, %llu msgs (%llu dropped), %llu crashes, "
                        "%llu failed writes, %llu round changes, %llu equivocations seen, liveness %llu ms (bound %llu), "
                        "max latency %llu ms, virtual %llu ms\n",
                        static_cast<unsigned long long>(s), static_cast<unsigned long long>(r.final_height),
                        static_cast<unsigned long long>(r.txs_final), static_cast<unsigned long long>(r.txs_submitted),
                        static_cast<unsigned long long>(r.messages), static_cast<unsigned long long>(r.dropped),
                        static_cast<unsigned long long>(r.crashes), static_cast<unsigned long long>(r.storage_faults),
                        static_cast<unsigned long long>(r.round_changes),
                        static_cast<unsigned long long>(r.equivocations),
                        static_cast<unsigned long long>(r.liveness_ms),
                        static_cast<unsigned long long>(r.liveness_bound_ms),
                        static_cast<unsigned long long>(r.max_latency_ms),
                        static_cast<unsigned long long>(r.virtual_ms));
            if (!r.election.empty()) std::printf("  election: %s\n", r.election.c_str());
            if (set_changes)
                std::printf("  validator-set changes: %llu in effect, %llu records too late, %llu refused on submit, "
                            "%llu validators down across a change; last set %llu validators\n",
                            static_cast<unsigned long long>(r.set_changes_applied),
                            static_cast<unsigned long long>(r.set_changes_too_late),
                            static_cast<unsigned long long>(r.set_changes_refused),
                            static_cast<unsigned long long>(r.down_across_change),
                            static_cast<unsigned long long>(r.validators_final));
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%llu/%llu seeds passed with %u validators in %.1f s\n",
                static_cast<unsigned long long>(seeds - failures), static_cast<unsigned long long>(seeds), validators,
                secs);
    if (restores || equivocated)
        std::printf("%llu seeds with an honest validator signing twice (equivocation)\n",
                    static_cast<unsigned long long>(equivocated));
    if (set_changes)
        std::printf("validator-set changes: %llu in effect, %llu records refused for landing too late (re-picked), "
                    "%llu submissions refused by a node behind, %llu validators down across a change and restarted "
                    "after it\n",
                    static_cast<unsigned long long>(changes_applied), static_cast<unsigned long long>(changes_too_late),
                    static_cast<unsigned long long>(changes_refused), static_cast<unsigned long long>(down_across));
    if (encrypted)
        std::printf("secret-ballot elections: %llu decrypted and checked, %llu ended with a failed key ceremony "
                    "(no ballot counted; the chain made too little progress before the deadline)\n",
                    static_cast<unsigned long long>(elections_ready), static_cast<unsigned long long>(elections_failed));
    return failures == 0 ? 0 : 1;
}
