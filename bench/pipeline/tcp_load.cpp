/// ballotchain-tcp-load: votes sent straight to running validators' JSON-RPC over TCP
/// (scripts/bench starts 3 validator processes on 127.0.0.1), open loop at an offered rate.
///
/// Before the clock starts it signs every vote of the run (make_votes, 2 threads; one signature
/// per --sign-batch votes, by default one per call). Then
/// --connections threads, each with one kept-alive HTTP connection to a validator (round-robin),
/// send the votes in poa_sendRawTransactions calls (submit): batch k is due
/// at k × batch / rate seconds (open loop: a late batch is sent as soon as a connection is
/// free, and its latency still counts from when it was due); --rate 0 sends as fast as the
/// connections allow. A follower follows one validator's final head with the poa_waitForBlock
/// long-poll and reads each new block with poa_getRawBlocks: a vote is final when the block
/// holding it is (final blocks are durable: appended to SQLite before they count).
/// Prints offered, sent, acknowledged and final votes/s and the submit→final and
/// submit→acknowledged latency percentiles; --json FILE writes the same as one JSON object.
#include "../common/load_util.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/chain/rules.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/rpc/errors.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>

using namespace ballotchain;
using namespace ballotchain::bench;
namespace bj = boost::json;
using S = ed25519_sha256;

namespace {

/// A vote ready to send: the id the chain knows it by (its tx hash) and its encoding, 0x-hex.
struct prepared_vote {
    hash32 id;
    std::string raw;
};

/// The run's votes, each from its own voter (a tag derived from `run` and its index), signed
/// by the submitter with the library's sign_batch in consecutive batches of `per_signature`
/// (1: each vote signed alone), on `threads` threads. The one place votes are made.
std::vector<prepared_vote> make_votes(const genesis_config& g, const S::key_pair& submitter, std::uint64_t run,
                                      std::uint64_t election, std::size_t count, std::size_t vote_bytes,
                                      std::size_t per_signature, unsigned threads) {
    std::vector<prepared_vote> out(count);
    const std::uint64_t ts = wall_ms();
    for_each_group(count, per_signature, threads, [&](std::size_t from, std::size_t to) {
        std::vector<vote_tx> txs(to - from);
        for (std::size_t i = from; i < to; ++i) {
            vote_tx& tx = txs[i - from];
            tx.chain_id = g.chain_id;
            tx.election_id = election;
            tx.candidate_id = i % 4;
            tx.encrypted_vote.resize(vote_bytes);
            for (std::size_t b = 0; b < vote_bytes; ++b) tx.encrypted_vote[b] = static_cast<byte>((i >> (8 * (b % 8))) + b);
            bytes tag(16);
            for (int b = 0; b < 8; ++b) {
                tag[static_cast<std::size_t>(b)] = static_cast<byte>(run >> (8 * b));
                tag[static_cast<std::size_t>(8 + b)] = static_cast<byte>(i >> (8 * b));
            }
            tx.voter_tag = S::hash(tag);
            tx.timestamp_ms = ts + i / 1000;
        }
        const auto ids = sign_batch<S>(txs, submitter);
        for (std::size_t i = from; i < to; ++i) {
            out[i].id = ids[i - from];
            out[i].raw = to_hex(encode(txs[i - from]));
        }
    });
    return out;
}

/// What a validator said to one batch.
struct submit_outcome {
    int http_status = 0;                ///< 0: no answer
    std::size_t accepted = 0;           ///< votes answered with their hash
    std::vector<std::string> refusals;  ///< the error message of each refused vote
};

/// Sends `votes` to the validator behind `c` in one poa_sendRawTransactions call (each vote
/// answered on its own; the validator writes the batch to pending.db once). The one place
/// votes are submitted. A batch above rpc::max_raw_transactions goes in several calls.
submit_outcome submit(http_connection& c, std::span<const prepared_vote> votes) {
    submit_outcome out;
    for (std::size_t from = 0; from < votes.size(); from += rpc::max_raw_transactions) {
        const auto part = votes.subspan(from, std::min<std::size_t>(rpc::max_raw_transactions, votes.size() - from));
        std::string body;
        body.reserve(part.size() * (part[0].raw.size() + 4) + 80);
        body += R"({"jsonrpc":"2.0","id":1,"method":"poa_sendRawTransactions","params":[[)";
        for (std::size_t i = 0; i < part.size(); ++i) {
            if (i) body += ',';
            body += '"';
            body += part[i].raw;
            body += '"';
        }
        body += "]]}";
        std::string answer;
        out.http_status = c.post("/", body, answer);
        if (out.http_status != 200) {
            out.refusals.insert(out.refusals.end(), part.size(),
                                out.http_status == 0 ? "no answer" : "HTTP " + std::to_string(out.http_status));
            continue;
        }
        boost::system::error_code ec;
        const auto v = bj::parse(answer, ec);
        const bj::value* res = !ec && v.is_object() ? v.as_object().if_contains("result") : nullptr;
        if (!res || !res->is_array()) {
            out.refusals.insert(out.refusals.end(), part.size(), "answer is not a poa_sendRawTransactions result");
            continue;
        }
        std::size_t answered = 0;
        for (const auto& a : res->as_array()) {
            ++answered;
            const auto* o = a.if_object();
            if (o && o->contains("hash")) {
                ++out.accepted;
            } else {
                const bj::value* e = o ? o->if_contains("error") : nullptr;
                const bj::value* m = e && e->is_object() ? e->as_object().if_contains("message") : nullptr;
                out.refusals.push_back(m && m->is_string() ? std::string(m->as_string()) : "malformed answer");
            }
        }
        for (; answered < part.size(); ++answered) out.refusals.emplace_back("no answer for this vote");
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ballotchain-tcp-load: votes straight to running validators' JSON-RPC, open loop, final votes/s"};
    std::vector<std::string> rpcs;
    std::string genesis_path, key_path, json_path, label;
    double rate = 0, seconds = 10;
    std::size_t votes = 0, batch = 0, vote_bytes = 64, sign_batch_size = 0;
    unsigned connections = 6, sign_threads = 2, follow = 1;
    std::uint64_t election = 0;
    double drain_s = 30, max_late_s = 2;
    app.add_option("--rpc", rpcs, "validator RPC address HOST:PORT or http://HOST:PORT (repeat)")->required();
    app.add_option("--genesis", genesis_path, "the chain's genesis.json")->required()->check(CLI::ExistingFile);
    app.add_option("--submitter-key", key_path, "a submitter key file of the genesis")->required()->check(CLI::ExistingFile);
    app.add_option("--rate", rate, "offered votes/s (open loop); 0 = as fast as the connections allow")
        ->capture_default_str()->check(CLI::Range(0.0, 10'000'000.0));
    app.add_option("--seconds", seconds, "seconds of offered load (votes = rate x seconds) unless --votes")
        ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
    app.add_option("--votes", votes, "votes to send (required with --rate 0)")->check(CLI::Range(std::size_t{1}, std::size_t{50'000'000}));
    app.add_option("--connections", connections, "sending threads, one kept-alive connection each, round-robin over --rpc")
        ->capture_default_str()->check(CLI::Range(1u, 256u));
    app.add_option("--batch", batch,
                   "votes per poa_sendRawTransactions call (above 1000: several calls); default: one call per 10 ms\n"
                   "of offered load, at most 100 (100 with --rate 0)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
    app.add_option("--sign-batch", sign_batch_size,
                   "votes under one signature (data-format.md §2), in send order; default: --batch (one signature\n"
                   "per call); 1: every vote signed alone")
        ->check(CLI::Range(std::size_t{1}, limits::max_batch_txs));
    app.add_option("--vote-bytes", vote_bytes, "bytes of the vote's (opaque) encrypted_vote")
        ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{65'536}));
    app.add_option("--sign-threads", sign_threads, "threads signing before the clock starts")
        ->capture_default_str()->check(CLI::Range(1u, 64u));
    app.add_option("--follow", follow, "which --rpc (from 1) the follower watches for final blocks")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--election", election, "election id of the votes (default: a fresh one, the time in ms)");
    app.add_option("--drain-s", drain_s, "after the last send, give up when no vote became final for this long")
        ->capture_default_str()->check(CLI::Range(1.0, 3600.0));
    app.add_option("--max-late-s", max_late_s,
                   "open loop: a batch not sent this long after it was due is not sent at all (counted as skipped),\n"
                   "so a run lasts about --seconds however far the validators fall behind")
        ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
    app.add_option("--label", label, "a name for this run in the JSON");
    app.add_option("--json", json_path, "also write the results as a JSON object to this file");
    CLI11_PARSE(app, argc, argv);

    std::vector<endpoint> eps;
    for (const auto& r : rpcs) {
        auto e = parse_endpoint(r);
        if (!e) return std::fprintf(stderr, "--rpc %s: expected HOST:PORT\n", r.c_str()), 2;
        eps.push_back(*e);
    }
    if (follow > eps.size()) return std::fprintf(stderr, "--follow %u: only %zu --rpc given\n", follow, eps.size()), 2;
    if (votes == 0) {
        if (rate <= 0) return std::fprintf(stderr, "--rate 0 needs --votes\n"), 2;
        votes = static_cast<std::size_t>(rate * seconds + 0.5);
        if (votes == 0) votes = 1;
    }
    if (batch == 0) batch = rate > 0 ? std::clamp<std::size_t>(static_cast<std::size_t>(rate / 100), 1, 100) : 100;
    auto g = json::load_genesis_file(genesis_path);
    if (!g) return std::fprintf(stderr, "genesis: %s\n", g.error().message().c_str()), 1;
    auto kp = load_key_file(key_path);
    if (!kp) return std::fprintf(stderr, "key: %s\n", kp.error().message().c_str()), 1;

    if (election == 0) election = wall_ms();
    // Before the clock: every vote signed and encoded, and the id → index map the follower uses.
    const std::uint64_t run = wall_ms();
    const auto s0 = now_us();
    if (sign_batch_size == 0) sign_batch_size = batch;
    const auto vs = make_votes(*g, *kp, run, election, votes, vote_bytes, sign_batch_size, sign_threads);
    const double sign_s = static_cast<double>(now_us() - s0) / 1e6;
    std::unordered_map<hash32, std::uint32_t> index;
    index.reserve(votes);
    for (std::uint32_t i = 0; i < votes; ++i) index.emplace(vs[i].id, i);
    std::fprintf(stderr, "tcp-load: signed %zu votes in %.1f s (%.0f/s on %u threads)\n", votes, sign_s,
                 static_cast<double>(votes) / sign_s, sign_threads);

    std::uint64_t start_height = 0;
    {
        http_connection c(eps[follow - 1]);
        auto h = c.call("eth_blockNumber", {});
        if (!h || !h->is_string() || !parse_quantity(h->as_string()))
            return std::fprintf(stderr, "%s does not answer eth_blockNumber\n", eps[follow - 1].text().c_str()), 1;
        start_height = *parse_quantity(h->as_string());
    }

    const std::size_t batches = (votes + batch - 1) / batch;
    std::vector<std::uint64_t> due_us(batches), sent_us(batches), ack_us(batches);
    std::vector<std::uint64_t> final_us(votes, 0);
    std::atomic<std::uint64_t> finals{0}, n_accepted{0}, n_refused{0}, n_sent{0}, n_skipped{0};
    std::vector<std::uint8_t> skipped(batches, 0);
    std::atomic<std::size_t> next_batch{0};
    std::mutex refusal_m;
    std::map<std::string, std::uint64_t> refusals;

    // A vote is final when the block holding it is first seen final on the followed validator.
    std::uint64_t blocks_with_votes = 0, largest_block = 0, last_final_us = 0;  // the follower's thread only
    std::optional<block_follower> fol;
    fol.emplace(eps[follow - 1], start_height, [&](std::uint64_t, std::uint64_t t, const std::vector<hash32>& ids) {
        std::uint64_t mine = 0;
        for (const auto& id : ids) {
            auto it = index.find(id);
            if (it == index.end() || final_us[it->second] != 0) continue;
            final_us[it->second] = t;
            ++mine;
        }
        if (!mine) return;
        ++blocks_with_votes;
        largest_block = std::max(largest_block, mine);
        last_final_us = t;
        finals += mine;
    });

    const double cpu0 = cpu_seconds();
    const std::uint64_t t0 = now_us() + 20'000;  // first batch due 20 ms from now (connections are made by then)
    std::vector<std::thread> senders;
    for (unsigned s = 0; s < connections; ++s)
        senders.emplace_back([&, s] {
            http_connection c(eps[s % eps.size()]);
            for (std::size_t k; (k = next_batch.fetch_add(1)) < batches;) {
                const std::uint64_t due = rate > 0 ? t0 + static_cast<std::uint64_t>(static_cast<double>(k * batch) * 1e6 / rate) : 0;
                const std::size_t from = k * batch, to = std::min(votes, from + batch);
                if (due) {
                    const auto now = now_us();
                    if (due > now) std::this_thread::sleep_for(std::chrono::microseconds(due - now));
                    if (now > due + static_cast<std::uint64_t>(max_late_s * 1e6)) {
                        skipped[k] = 1;
                        n_skipped += to - from;
                        n_sent += to - from;  // done with, for the progress count
                        continue;
                    }
                }
                sent_us[k] = now_us();
                due_us[k] = due ? due : sent_us[k];
                const auto out = submit(c, std::span<const prepared_vote>(vs.data() + from, to - from));
                ack_us[k] = now_us();
                n_sent += to - from;
                n_accepted += out.accepted;
                n_refused += out.refusals.size();
                if (!out.refusals.empty()) {
                    std::lock_guard lk(refusal_m);
                    for (const auto& r : out.refusals) ++refusals[r];
                }
            }
        });

    // Progress every second; after the last send, wait until every acknowledged vote is final
    // or none became final for --drain-s.
    std::uint64_t last_print = now_us(), last_progress = now_us(), last_finals = 0;
    bool senders_done = false;
    std::uint64_t t_sent_all = 0;
    for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const auto t = now_us();
        if (!senders_done && n_sent.load() >= votes) {
            senders_done = true;
            t_sent_all = t;
        }
        const auto f = finals.load();
        if (f != last_finals) last_finals = f, last_progress = t;
        if (t - last_print >= 1'000'000) {
            last_print = t;
            std::fprintf(stderr, "tcp-load: %5.1f s  sent %llu  acknowledged %llu  refused %llu  final %llu\n",
                         static_cast<double>(t - t0) / 1e6, static_cast<unsigned long long>(n_sent.load() - n_skipped.load()),
                         static_cast<unsigned long long>(n_accepted.load()), static_cast<unsigned long long>(n_refused.load()),
                         static_cast<unsigned long long>(f));
        }
        if (senders_done && f >= n_accepted.load()) break;
        if (senders_done && t - std::max(last_progress, t_sent_all) > static_cast<std::uint64_t>(drain_s * 1e6)) {
            std::fprintf(stderr, "tcp-load: no vote became final for %.0f s; giving up\n", drain_s);
            break;
        }
    }
    for (auto& s : senders) s.join();
    fol.reset();
    const double cpu_s = cpu_seconds() - cpu0;

    // Figures. Latency counts from when a batch was due (open loop), so a generator
    // that falls behind does not hide the queueing it causes.
    std::vector<double> fin_ms, ack_ms;
    fin_ms.reserve(votes);
    ack_ms.reserve(votes);
    std::uint64_t first_due = UINT64_MAX, last_sent = 0, last_ack = 0;
    for (std::size_t k = 0; k < batches; ++k) {
        if (skipped[k]) continue;
        first_due = std::min(first_due, due_us[k]);
        last_sent = std::max(last_sent, sent_us[k]);
        last_ack = std::max(last_ack, ack_us[k]);
        const std::size_t from = k * batch, to = std::min(votes, from + batch);
        for (std::size_t i = from; i < to; ++i) {
            ack_ms.push_back(static_cast<double>(ack_us[k] - due_us[k]) / 1000.0);
            if (final_us[i]) fin_ms.push_back(static_cast<double>(final_us[i] - due_us[k]) / 1000.0);
        }
    }
    const std::uint64_t n_final = finals.load();
    const double send_s = static_cast<double>(last_sent - first_due) / 1e6;
    const double ack_s = static_cast<double>(last_ack - first_due) / 1e6;
    const double final_s = last_final_us > first_due ? static_cast<double>(last_final_us - first_due) / 1e6 : 0;
    const double final_per_s = final_s > 0 ? static_cast<double>(n_final) / final_s : 0;
    const double ack_per_s = ack_s > 0 ? static_cast<double>(n_accepted.load()) / ack_s : 0;
    const double sent_per_s = send_s > 0 ? static_cast<double>(votes - n_skipped.load()) / send_s : 0;
    const auto fq = quantiles(fin_ms), aq = quantiles(ack_ms);

    std::printf("tcp load: %zu validators, %u connections, batches of %zu, %zu votes per signature, %zu votes (%zu bytes each), offered %s\n",
                eps.size(), connections, batch, sign_batch_size, votes, vote_bytes,
                rate > 0 ? (std::to_string(static_cast<long long>(rate)) + " votes/s").c_str() : "as fast as possible");
    std::printf("  %-14s %10s %10s %10s %10s %10s\n", "", "votes/s", "p50 ms", "p90 ms", "p99 ms", "max ms");
    std::printf("  %-14s %10.0f\n", "sent", sent_per_s);
    std::printf("  %-14s %10.0f %10.1f %10.1f %10.1f %10.1f\n", "acknowledged", ack_per_s, aq.at("p50").as_double(),
                aq.at("p90").as_double(), aq.at("p99").as_double(), aq.at("max").as_double());
    std::printf("  %-14s %10.0f %10.1f %10.1f %10.1f %10.1f\n", "final", final_per_s, fq.at("p50").as_double(),
                fq.at("p90").as_double(), fq.at("p99").as_double(), fq.at("max").as_double());
    if (n_skipped)
        std::printf("  %llu votes not sent: more than %.1f s late (the validators did not take them as fast as offered)\n",
                    static_cast<unsigned long long>(n_skipped.load()), max_late_s);
    std::printf("  %llu acknowledged, %llu refused, %llu final in %llu blocks (largest %llu); load generator used %.2f CPU s\n",
                static_cast<unsigned long long>(n_accepted.load()), static_cast<unsigned long long>(n_refused.load()),
                static_cast<unsigned long long>(n_final), static_cast<unsigned long long>(blocks_with_votes),
                static_cast<unsigned long long>(largest_block), cpu_s);
    for (const auto& [why, n] : refusals)
        std::printf("  refused %llu: %s\n", static_cast<unsigned long long>(n), why.c_str());

    bj::object refused_by;
    for (const auto& [why, n] : refusals) refused_by[why] = n;
    bj::array rpc_list;
    for (const auto& e : eps) rpc_list.emplace_back(e.text());
    bj::object out{
        {"tool", "ballotchain-tcp-load"},
        {"label", label},
        {"params", bj::object{{"rpc", rpc_list},
                              {"validators", eps.size()},
                              {"rate", rate},
                              {"seconds", seconds},
                              {"votes", votes},
                              {"connections", connections},
                              {"batch", batch},
                              {"sign_batch", sign_batch_size},
                              {"max_late_s", max_late_s},
                              {"vote_bytes", vote_bytes},
                              {"election", election},
                              {"block_interval_ms", g->block_interval_ms},
                              {"max_block_txs", g->max_block_txs}}},
        {"offered_votes_per_s", rate > 0 ? bj::value(rate) : bj::value(nullptr)},
        {"sent_votes_per_s", sent_per_s},
        {"acknowledged_votes_per_s", ack_per_s},
        {"final_votes_per_s", final_per_s},
        {"acknowledged", n_accepted.load()},
        {"refused", n_refused.load()},
        {"skipped", n_skipped.load()},
        {"refused_by_reason", refused_by},
        {"final", n_final},
        {"all_final", n_final == n_accepted.load() && n_refused.load() == 0},
        {"ack_ms", aq},
        {"finality_ms", fq},
        {"blocks", blocks_with_votes},
        {"largest_block", largest_block},
        {"sign_s", sign_s},
        {"load_generator_cpu_s", cpu_s},
        {"elapsed_s", final_s}};
    if (!write_json_file(json_path, out)) return 1;
    return n_final == n_accepted.load() && n_refused.load() == 0 ? 0 : 3;
}
