/// ballotchain-backend-load: end-to-end load on a running backend.
///
/// Logs in as the administrator, creates an election, registers and logs in
/// --voters voters, then --clients threads submit one vote per voter through
/// POST /api/votes/submit. Prints acknowledged votes/s with the acknowledgement
/// latency (p50/p99), then waits until every vote is confirmed (final on the
/// validator chain) and prints committed votes/s and submit-to-final latency.
/// A vote's final time is when a watcher polling one validator's height every
/// 10 ms first saw the block that holds it (so at most ~10 ms late).
#include <ballotchain/client/http_client.hpp>

#include <ballotchain/core/file.hpp>
#include <ballotchain/core/hex.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

using namespace ballotchain;
namespace json = boost::json;
using clk = std::chrono::steady_clock;

namespace {

std::string host, rpc_host;
std::uint16_t port = 0, rpc_port = 0;

struct reply {
    int status = 0;
    json::value body;
};

reply call(client::http::verb verb, const std::string& target, const json::value& body, const std::string& token = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
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

double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
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

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ballotchain-backend-load: end-to-end vote load on a running ballotchain-backend"};
    std::string url = "http://127.0.0.1:8000", rpc_url = "http://127.0.0.1:8001", admin_email = "admin@localhost", admin_pw_file;
    int voters = 500, clients = 16;
    app.add_option("--backend", url, "backend URL")->capture_default_str();
    app.add_option("--rpc", rpc_url, "a validator's RPC URL (to watch blocks become final)")->capture_default_str();
    app.add_option("--admin-email", admin_email, "administrator email")->capture_default_str();
    app.add_option("--admin-password-file", admin_pw_file, "file holding the administrator's password")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_option("--voters", voters, "voters (one vote each)")->capture_default_str()->check(CLI::Range(1, 1'000'000));
    app.add_option("--clients", clients, "concurrent client threads")->capture_default_str()->check(CLI::Range(1, 512));
    CLI11_PARSE(app, argc, argv);
    std::string path;
    if (!client::parse_http_url(url, host, port, path) || !client::parse_http_url(rpc_url, rpc_host, rpc_port, path)) {
        std::fprintf(stderr, "ballotchain-backend-load: --backend and --rpc must be http://host:port\n");
        return 1;
    }
    auto pw = read_file(admin_pw_file, 1024);
    if (!pw) {
        std::fprintf(stderr, "ballotchain-backend-load: %s: %s\n", admin_pw_file.c_str(), pw.error().message().c_str());
        return 1;
    }
    const std::string admin = login(admin_email, pw->substr(0, pw->find_first_of("\r\n")));

    json::array cands;
    for (const char* n : {"A", "B", "C", "D"}) cands.push_back(json::object{{"name", n}});
    auto el = call(client::http::verb::post, "/api/elections", json::object{{"name", "load test"}, {"candidates", cands}}, admin);
    if (el.status != 201) die("create election", el);
    const auto eid = el.body.as_object().at("id").as_int64();
    std::vector<std::int64_t> cids;
    for (const auto& c : el.body.as_object().at("candidates").as_array()) cids.push_back(c.as_object().at("id").as_int64());

    // Voters: unique per run (the election id is in the email).
    std::vector<std::string> tokens(static_cast<std::size_t>(voters));
    const auto t_reg = clk::now();
    parallel(voters, clients, [&](int k) {
        const std::string email = "load-" + std::to_string(eid) + "-" + std::to_string(k) + "@example.org";
        auto r = call(client::http::verb::post, "/api/auth/register", json::object{{"email", email}, {"password", "load-password"}});
        if (r.status != 201) die("register " + email, r);
        tokens[static_cast<std::size_t>(k)] = login(email, "load-password");
    });
    const double reg_s = std::chrono::duration<double>(clk::now() - t_reg).count();

    // Votes. A watcher polls a validator's height every 10 ms and notes when each
    // block is first seen; a vote's final time is when its block was seen.
    std::vector<clk::time_point> sent(static_cast<std::size_t>(voters));
    std::vector<double> ack_ms(static_cast<std::size_t>(voters));
    std::vector<std::string> txs(static_cast<std::size_t>(voters));
    std::atomic<int> fallback{0};
    std::atomic<bool> stop_watch{false};
    std::map<std::uint64_t, clk::time_point> seen;
    clk::time_point t_final{};
    const auto t0 = clk::now();
    std::thread watcher([&] {
        std::uint64_t last = 0;
        auto last_count = clk::now() - std::chrono::seconds(1);
        while (!stop_watch) {
            boost::json::value err;
            auto h = client::rpc_call(rpc_host, rpc_port, "eth_blockNumber", {}, &err);
            const auto now = clk::now();
            if (auto n = h && h->is_string() ? parse_quantity(h->as_string()) : std::nullopt) {
                for (auto k = last + 1; k <= *n; ++k) seen[k] = now;
                last = std::max(last, *n);
            }
            if (now - last_count > std::chrono::milliseconds(100)) {
                last_count = now;
                auto r = client::rpc_call(rpc_host, rpc_port, "poa_getResults", {eid}, &err);
                if (r && r->is_object() && r->as_object().at("total_votes").to_number<std::int64_t>() == voters) {
                    t_final = now;
                    return;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    parallel(voters, clients, [&](int k) {
        const auto ks = static_cast<std::size_t>(k);
        const auto s = clk::now();
        auto r = call(client::http::verb::post, "/api/votes/submit",
                      json::object{{"election_id", eid}, {"candidate_id", cids[ks % cids.size()]},
                                   {"encrypted_vote", "bG9hZCB0ZXN0IGJhbGxvdA=="}},
                      tokens[ks]);
        const auto e = clk::now();
        if (r.status != 200) die("vote", r);
        if (r.body.as_object().contains("warning")) ++fallback;
        sent[ks] = s;
        ack_ms[ks] = std::chrono::duration<double, std::milli>(e - s).count();
        txs[ks] = std::string(r.body.as_object().at("transaction_id").as_string());
    });
    const auto t_acked = clk::now();
    watcher.join();  // returns once the validator counts every vote
    // Which block holds each vote (after the fact, so it does not disturb the timing).
    std::vector<std::uint64_t> block_of(static_cast<std::size_t>(voters), 0);
    parallel(voters, clients, [&](int k) {
        const auto ks = static_cast<std::size_t>(k);
        auto r = call(client::http::verb::get,
                      "/api/votes/transaction-status?transaction_id=" + txs[ks] + "&election_id=" + std::to_string(eid),
                      nullptr);
        if (r.status != 200 || !r.body.as_object().at("confirmed").as_bool()) die("status", r);
        block_of[ks] = r.body.as_object().at("block_number").to_number<std::uint64_t>();
    });
    std::vector<clk::time_point> final_at(static_cast<std::size_t>(voters));
    for (int i = 0; i < voters; ++i) {
        const auto it = seen.find(block_of[static_cast<std::size_t>(i)]);
        final_at[static_cast<std::size_t>(i)] = it == seen.end() ? t_final : it->second;
    }

    std::vector<double> fin_ms;
    for (int i = 0; i < voters; ++i)
        fin_ms.push_back(std::chrono::duration<double, std::milli>(final_at[static_cast<std::size_t>(i)] -
                                                                    sent[static_cast<std::size_t>(i)])
                             .count());
    const double ack_s = std::chrono::duration<double>(t_acked - t0).count();
    const double fin_s = std::chrono::duration<double>(t_final - t0).count();
    auto res = call(client::http::verb::get, "/api/votes/results?election_id=" + std::to_string(eid), nullptr);
    const auto counted = res.status == 200 ? res.body.as_object().at("total_votes").as_int64() : -1;

    std::printf("backend load: %d voters, %d client threads, election %lld (registration + login took %.1f s)\n",
                voters, clients, static_cast<long long>(eid), reg_s);
    std::printf("  acknowledged   %8.1f votes/s   ack latency p50 %7.1f ms  p99 %7.1f ms  (%d on the fallback chain)\n",
                voters / ack_s, pct(ack_ms, 0.5), pct(ack_ms, 0.99), fallback.load());
    std::printf("  final          %8.1f votes/s   submit-to-final p50 %7.1f ms  p99 %7.1f ms\n", voters / fin_s,
                pct(fin_ms, 0.5), pct(fin_ms, 0.99));
    std::printf("  results        %lld votes counted by the validators (expected %d)\n", static_cast<long long>(counted),
                voters);
    return counted == voters ? 0 : 2;
}
