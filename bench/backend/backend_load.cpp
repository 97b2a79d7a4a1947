/// ballotchain-backend-load: end-to-end load on a running backend.
///
/// Logs in as the administrator, registers and logs in --voters voters, then for
/// each run creates an election and has --clients threads submit one vote per voter
/// through POST /api/votes/submit (submit_vote). A run is closed loop (--rate 0, the
/// default: every thread submits as soon as its last vote was answered, one vote per
/// voter) or open loop (--rate N: vote k is due at k / N seconds, for --seconds; a late
/// vote is sent as soon as a thread is free and its latencies still count from when it
/// was due). --rate may be given several times: one run per rate, each with its own
/// election and the same voters.
///
/// Prints acknowledged votes/s with the acknowledgement latency percentiles, then waits
/// until every acknowledged vote is final on the validator chain and prints final votes/s
/// and the submit-to-final latency percentiles. A vote is final when the block holding it
/// is first seen final on the --rpc validator (poa_waitForBlock long-poll, then the block
/// read with poa_getRawBlocks and matched on the vote's transaction id). --json FILE
/// writes every run as one JSON object.
#include "../common/load_util.hpp"

#include <ballotchain/client/http_client.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>

using namespace ballotchain;
using namespace ballotchain::bench;
namespace json = boost::json;

namespace {

/// The backends (host, port): each request goes to the next one, as a round-robin load balancer would.
std::vector<std::pair<std::string, std::uint16_t>> backends;
std::atomic<std::size_t> next_backend{0};

struct reply {
    int status = 0;
    json::value body;
};

reply call(client::http::verb verb, const std::string& target, const json::value& body, const std::string& token = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    const auto& [host, port] = backends[next_backend.fetch_add(1, std::memory_order_relaxed) % backends.size()];
    auto r = client::http_request(host, port, verb, target, body.is_null() ? "" : json::serialize(body),
                                  std::chrono::milliseconds(30'000), headers);
    reply out{r.status, nullptr};
    boost::system::error_code ec;
    out.body = json::parse(r.body, ec);
    if (ec) out.body = nullptr;
    return out;
}

[[noreturn]] void die(const std::string& m, const reply& r) {
    std::fprintf(stderr, "ballotchain-backend-load: %s (HTTP %d %s)\n", m.c_str(), r.status,
                 json::serialize(r.body).c_str());
    std::exit(1);
}

std::string login(const std::string& email, const std::string& pw) {
    auto r = call(client::http::verb::post, "/api/auth/login", json::object{{"email", email}, {"password", pw}});
    if (r.status != 200) die("login " + email, r);
    return std::string(r.body.as_object().at("access_token").as_string());
}

/// Runs f(i) for i in [0, n) on `threads` threads.
template <class F>
void parallel(int n, int threads, F f) {
    std::atomic<int> next{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&] {
            for (int i; (i = next++) < n;) f(i);
        });
    for (auto& t : ts) t.join();
}

/// What the backend answered to one vote.
struct vote_answer {
    bool ok = false;
    bool fallback = false;  ///< stored on the backend's fallback chain (a warning in the answer)
    std::string transaction_id;
    reply r;
};

/// Submits `voter`'s vote for `candidate` in `election` through the backend's REST API.
/// The one place this program submits votes.
vote_answer submit_vote(const std::string& voter_token, std::int64_t election, std::int64_t candidate) {
    vote_answer a;
    a.r = call(client::http::verb::post, "/api/votes/submit",
               json::object{{"election_id", election}, {"candidate_id", candidate},
                            {"encrypted_vote", "bG9hZCB0ZXN0IGJhbGxvdA=="}},
               voter_token);
    if (a.r.status != 200 || !a.r.body.is_object()) return a;
    const auto* tid = a.r.body.as_object().if_contains("transaction_id");
    if (!tid || !tid->is_string()) return a;
    a.ok = true;
    a.fallback = a.r.body.as_object().contains("warning");
    a.transaction_id = std::string(tid->as_string());
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ballotchain-backend-load: end-to-end vote load on a running ballotchain-backend"};
    std::vector<std::string> urls{"http://127.0.0.1:8000"};
    std::string rpc_url = "http://127.0.0.1:8001", admin_email = "admin@localhost",
                admin_pw_file, json_path;
    int voters = 500, clients = 16;
    std::vector<double> rates;
    double seconds = 10, drain_s = 60;
    app.add_option("--backend", urls,
                   "backend URL; repeat for several instances on one database: requests go to each in turn")
        ->capture_default_str();
    app.add_option("--rpc", rpc_url, "a validator's RPC URL (to watch blocks become final)")->capture_default_str();
    app.add_option("--admin-email", admin_email, "administrator email")->capture_default_str();
    app.add_option("--admin-password-file", admin_pw_file, "file holding the administrator's password")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_option("--voters", voters, "voters (at most one vote each per run)")->capture_default_str()->check(CLI::Range(1, 1'000'000));
    app.add_option("--clients", clients, "concurrent client threads")->capture_default_str()->check(CLI::Range(1, 512));
    app.add_option("--rate", rates,
                   "offered votes/s, open loop, for --seconds (at most --voters votes); 0 = closed loop, one vote per\n"
                   "voter as fast as the clients go (the default); repeat for one run per rate")
        ->check(CLI::Range(0.0, 1'000'000.0));
    app.add_option("--seconds", seconds, "seconds of offered load of an open-loop run")->capture_default_str()->check(CLI::Range(0.1, 3600.0));
    app.add_option("--drain-s", drain_s, "after the last vote, give up when none became final for this long")
        ->capture_default_str()->check(CLI::Range(1.0, 3600.0));
    app.add_option("--json", json_path, "also write the results as a JSON object to this file");
    CLI11_PARSE(app, argc, argv);
    if (rates.empty()) rates.push_back(0);
    for (const auto& url : urls) {
        std::string host, path;
        std::uint16_t port = 0;
        if (!client::parse_http_url(url, host, port, path)) {
            std::fprintf(stderr, "ballotchain-backend-load: --backend must be http://host:port\n");
            return 1;
        }
        backends.emplace_back(host, port);
    }
    const auto rpc_ep = parse_endpoint(rpc_url);
    if (!rpc_ep) {
        std::fprintf(stderr, "ballotchain-backend-load: --rpc must be http://host:port\n");
        return 1;
    }
    auto pw = read_file(admin_pw_file, 1024);
    if (!pw) {
        std::fprintf(stderr, "ballotchain-backend-load: %s: %s\n", admin_pw_file.c_str(), pw.error().message().c_str());
        return 1;
    }
    const std::string admin = login(admin_email, pw->substr(0, pw->find_first_of("\r\n")));

    // Voters: unique per invocation (a fresh number is in the email).
    const auto stamp = std::to_string(wall_ms());
    std::vector<std::string> tokens(static_cast<std::size_t>(voters));
    const auto t_reg = now_us();
    parallel(voters, clients, [&](int k) {
        const std::string email = "load-" + stamp + "-" + std::to_string(k) + "@example.org";
        auto r = call(client::http::verb::post, "/api/auth/register", json::object{{"email", email}, {"password", "load-password"}});
        if (r.status != 201) die("register " + email, r);
        tokens[static_cast<std::size_t>(k)] = login(email, "load-password");
    });
    const double reg_s = static_cast<double>(now_us() - t_reg) / 1e6;
    std::printf("backend load: %d voters (registration + login took %.1f s), %d client threads\n", voters, reg_s, clients);
    std::printf("  %10s %8s %12s %9s %9s %9s %12s %9s %9s %9s %9s\n", "offered/s", "votes", "acked/s", "ack p50", "ack p90",
                "ack p99", "final/s", "fin p50", "fin p90", "fin p99", "fallback");
    std::fflush(stdout);

    json::array runs;
    bool all_ok = true;
    for (const double rate : rates) {
        json::array cands;
        for (const char* n : {"A", "B", "C", "D"}) cands.push_back(json::object{{"name", n}});
        auto el = call(client::http::verb::post, "/api/elections", json::object{{"name", "load test"}, {"candidates", cands}}, admin);
        if (el.status != 201) die("create election", el);
        const auto eid = el.body.as_object().at("id").as_int64();
        std::vector<std::int64_t> cids;
        for (const auto& c : el.body.as_object().at("candidates").as_array()) cids.push_back(c.as_object().at("id").as_int64());

        const int n = rate > 0 ? static_cast<int>(std::min<double>(voters, std::max(1.0, rate * seconds + 0.5))) : voters;
        if (rate > 0 && rate * seconds > voters)
            std::fprintf(stderr, "backend-load: %.0f votes/s for %.1f s needs %.0f voters; %d votes only (--voters)\n", rate,
                         seconds, rate * seconds, voters);
        const auto nz = static_cast<std::size_t>(n);

        // Final times: every vote id the follower sees, with when.
        std::mutex seen_m;
        std::unordered_map<hash32, std::uint64_t> seen;
        std::uint64_t start_height = 0;
        {
            http_connection c(*rpc_ep);
            auto h = c.call("eth_blockNumber", {});
            if (h && h->is_string()) start_height = parse_quantity(h->as_string()).value_or(0);
        }
        std::optional<block_follower> fol;
        fol.emplace(*rpc_ep, start_height, [&](std::uint64_t, std::uint64_t t, const std::vector<hash32>& ids) {
            std::lock_guard lk(seen_m);
            for (const auto& id : ids) seen.emplace(id, t);
        });

        std::vector<std::uint64_t> due(nz), acked(nz);
        std::vector<hash32> ids(nz);
        std::vector<std::uint8_t> ok(nz, 0);
        std::atomic<int> fallback{0}, failed{0};
        std::atomic<int> next{0};
        const double cpu0 = cpu_seconds();
        const std::uint64_t t0 = now_us() + 20'000;
        {
            std::vector<std::thread> ts;
            for (int t = 0; t < clients; ++t)
                ts.emplace_back([&] {
                    for (int k; (k = next++) < n;) {
                        const auto ks = static_cast<std::size_t>(k);
                        if (rate > 0) {
                            due[ks] = t0 + static_cast<std::uint64_t>(static_cast<double>(k) * 1e6 / rate);
                            const auto now = now_us();
                            if (due[ks] > now) std::this_thread::sleep_for(std::chrono::microseconds(due[ks] - now));
                        } else {
                            due[ks] = now_us();
                        }
                        auto a = submit_vote(tokens[ks], eid, cids[ks % cids.size()]);
                        acked[ks] = now_us();
                        if (!a.ok) {
                            if (failed++ == 0)
                                std::fprintf(stderr, "backend-load: a vote was refused: HTTP %d %s\n", a.r.status,
                                             json::serialize(a.r.body).c_str());
                            continue;
                        }
                        if (a.fallback) ++fallback;
                        auto id = from_hex_fixed<32>(a.transaction_id);
                        if (!id) continue;
                        ids[ks] = *id;
                        ok[ks] = 1;
                    }
                });
            for (auto& t : ts) t.join();
        }
        const std::uint64_t t_acked = now_us();

        // Wait until every acknowledged vote is final, or none became final for --drain-s.
        std::size_t n_ok = 0;
        for (auto o : ok) n_ok += o;
        std::size_t final_n = 0, last_final_n = 0;
        std::uint64_t last_progress = now_us(), last_print = now_us();
        std::vector<std::uint64_t> fin(nz, 0);
        for (;;) {
            final_n = 0;
            {
                std::lock_guard lk(seen_m);
                for (std::size_t i = 0; i < nz; ++i) {
                    if (!ok[i]) continue;
                    if (!fin[i]) {
                        auto it = seen.find(ids[i]);
                        if (it != seen.end()) fin[i] = it->second;
                    }
                    final_n += fin[i] != 0;
                }
            }
            const auto t = now_us();
            if (final_n != last_final_n) last_final_n = final_n, last_progress = t;
            if (final_n >= n_ok) break;
            if (t - last_progress > static_cast<std::uint64_t>(drain_s * 1e6)) {
                std::fprintf(stderr, "backend-load: %zu of %zu acknowledged votes final; none more for %.0f s, giving up\n",
                             final_n, n_ok, drain_s);
                break;
            }
            if (t - last_print > 2'000'000) {
                last_print = t;
                std::fprintf(stderr, "backend-load: %zu of %zu acknowledged votes final\n", final_n, n_ok);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        fol.reset();
        const double cpu_s = cpu_seconds() - cpu0;

        std::vector<double> ack_ms, fin_ms;
        std::uint64_t first = UINT64_MAX, last_final = 0;
        for (std::size_t i = 0; i < nz; ++i) {
            first = std::min(first, due[i]);
            ack_ms.push_back(static_cast<double>(acked[i] - due[i]) / 1000.0);
            if (fin[i]) {
                fin_ms.push_back(static_cast<double>(fin[i] > due[i] ? fin[i] - due[i] : 0) / 1000.0);
                last_final = std::max(last_final, fin[i]);
            }
        }
        const double ack_s = static_cast<double>(t_acked - first) / 1e6;
        const double fin_s = last_final > first ? static_cast<double>(last_final - first) / 1e6 : 0;
        const double ack_per_s = static_cast<double>(n_ok) / ack_s;
        const double fin_per_s = fin_s > 0 ? static_cast<double>(fin_ms.size()) / fin_s : 0;
        const auto aq = quantiles(ack_ms), fq = quantiles(fin_ms);
        auto res = call(client::http::verb::get, "/api/votes/results?election_id=" + std::to_string(eid), nullptr);
        const auto counted = res.status == 200 ? res.body.as_object().at("total_votes").as_int64() : -1;
        std::printf("  %10s %8d %12.1f %9.1f %9.1f %9.1f %12.1f %9.1f %9.1f %9.1f %9d\n",
                    rate > 0 ? std::to_string(static_cast<long long>(rate)).c_str() : "closed", n, ack_per_s,
                    aq.at("p50").as_double(), aq.at("p90").as_double(), aq.at("p99").as_double(), fin_per_s,
                    fq.at("p50").as_double(), fq.at("p90").as_double(), fq.at("p99").as_double(), fallback.load());
        std::fflush(stdout);
        const bool run_ok = failed == 0 && fin_ms.size() == n_ok && counted == static_cast<std::int64_t>(n_ok);
        if (!run_ok)
            std::printf("  (election %lld: %d refused, %zu of %zu acknowledged final, %lld counted by the backend's results)\n",
                        static_cast<long long>(eid), failed.load(), fin_ms.size(), n_ok, static_cast<long long>(counted));
        all_ok = all_ok && run_ok;
        runs.push_back(json::object{{"offered_votes_per_s", rate > 0 ? json::value(rate) : json::value(nullptr)},
                                    {"closed_loop", rate <= 0},
                                    {"election", eid},
                                    {"votes", n},
                                    {"acknowledged", n_ok},
                                    {"refused", failed.load()},
                                    {"fallback", fallback.load()},
                                    {"final", fin_ms.size()},
                                    {"counted", counted},
                                    {"acknowledged_votes_per_s", ack_per_s},
                                    {"final_votes_per_s", fin_per_s},
                                    {"ack_ms", aq},
                                    {"finality_ms", fq},
                                    {"load_generator_cpu_s", cpu_s},
                                    {"ok", run_ok}});
    }
    json::array rate_list;
    for (double r : rates) rate_list.push_back(r);
    json::array backend_list;
    for (const auto& u : urls) backend_list.push_back(json::string(u));
    const json::object out{{"tool", "ballotchain-backend-load"},
                           {"params", json::object{{"backend", urls.size() == 1 ? json::value(urls[0]) : json::value(backend_list)},
                                                   {"rpc", rpc_url},
                                                   {"voters", voters},
                                                   {"clients", clients},
                                                   {"rates", rate_list},
                                                   {"seconds", seconds}}},
                           {"registration_s", reg_s},
                           {"runs", runs}};
    if (!write_json_file(json_path, out)) return 1;
    return all_ok ? 0 : 2;
}
