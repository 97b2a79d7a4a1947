// End-to-end load of encrypted ballots on running validators (scripts/bench --ballots-only
// starts 3): defines a secret-ballot election, waits for the validators' key ceremony, makes the
// ballots (encryption and proofs, before the clock starts), then has client threads send them in
// JSON-RPC batches of eth_sendRawTransaction and waits until every acknowledged ballot is counted
// on the chain (poa_getElection's "ballots"). Every validator verifies every ballot's proofs once
// (on admission, from the client or from a peer), so the chain's bound is about
// 2 cores / (3 × one ballot verification).
#include "../common/report.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/chain/trustee.hpp>
#include <ballotchain/client/http_client.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/key_file.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

using namespace ballotchain;
namespace bj = boost::json;
using S = ed25519_sha256;
using clock_t_ = std::chrono::steady_clock;

namespace {

std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

struct endpoint {
    std::string host;
    std::uint16_t port = 0;
};

std::optional<bj::object> election_at(const endpoint& v, std::uint64_t id) {
    auto r = client::rpc_call(v.host, v.port, "poa_getElection", {id});
    if (!r || !r->is_object()) return std::nullopt;
    return r->as_object();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ballotchain-ballot-load: encrypted ballots through running validators, final per second"};
    std::vector<std::string> rpcs;
    std::string genesis_path, key_path;
    std::uint64_t ballots = 3000;
    unsigned clients = 3, batch = 50, candidates = 3;
    std::string json_path;
    app.add_option("--rpc", rpcs, "validator RPC address HOST:PORT (repeat)")->required();
    app.add_option("--genesis", genesis_path, "the chain's genesis.json")->required();
    app.add_option("--submitter-key", key_path, "a submitter key file of the genesis")->required();
    app.add_option("--ballots", ballots, "ballots to cast")->capture_default_str()->check(CLI::Range(1ull, 1'000'000ull));
    app.add_option("--clients", clients, "client threads")->capture_default_str()->check(CLI::Range(1u, 64u));
    app.add_option("--batch", batch, "transactions per JSON-RPC batch")->capture_default_str()->check(CLI::Range(1u, 100u));
    app.add_option("--candidates", candidates, "candidates")->capture_default_str()->check(CLI::Range(1u, 20u));
    app.add_option("--json", json_path, "also write the results as a JSON object to this file");
    CLI11_PARSE(app, argc, argv);

    std::vector<endpoint> vs;
    for (const auto& r : rpcs) {
        const auto colon = r.rfind(':');
        if (colon == std::string::npos) {
            std::fprintf(stderr, "--rpc %s: expected HOST:PORT\n", r.c_str());
            return 2;
        }
        vs.push_back({r.substr(0, colon), static_cast<std::uint16_t>(std::stoul(r.substr(colon + 1)))});
    }
    auto g = json::load_genesis_file(genesis_path);
    if (!g) return std::fprintf(stderr, "genesis: %s\n", g.error().message().c_str()), 1;
    auto kp = load_key_file(key_path);
    if (!kp) return std::fprintf(stderr, "key: %s\n", kp.error().message().c_str()), 1;

    // The election: a 3 s key ceremony, voting from then on for an hour.
    const std::uint64_t id = wall_ms();  // a fresh id per run
    const std::uint64_t t0 = wall_ms();
    election::definition def{election::ballot_kind::encrypted, "load", {}, t0 + 3'000, t0 + 3'600'000, t0 + 3'000,
                             static_cast<std::uint32_t>(g->quorum())};
    for (std::uint64_t c = 1; c <= candidates; ++c) def.candidates.push_back({c, "candidate " + std::to_string(c)});
    bj::value err;
    const auto dtx = election::definition_record<S>(*g, id, def, *kp, t0);
    if (!client::rpc_call(vs[0].host, vs[0].port, "eth_sendRawTransaction", {to_hex(encode(dtx))}, &err))
        return std::fprintf(stderr, "definition refused: %s\n", bj::serialize(err).c_str()), 1;
    std::optional<ristretto::point> key;
    for (int i = 0; i < 600 && !key; ++i) {
        if (auto e = election_at(vs[0], id); e && e->at("phase") == "ready")
            key = ristretto::point::decode(from_hex(std::string(e->at("election_key").as_string())).value());
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!key) return std::fprintf(stderr, "the key ceremony did not finish in 60 s\n"), 1;
    const double ceremony_s = static_cast<double>(wall_ms() - t0) / 1000.0;
    std::printf("election %llu: key ready %.1f s after the definition was sent\n", static_cast<unsigned long long>(id),
                ceremony_s);

    // The ballots, made before the clock starts (2 threads).
    std::vector<std::string> raw(ballots);
    const auto g0 = clock_t_::now();
    {
        std::vector<std::jthread> makers;
        for (unsigned t = 0; t < 2; ++t)
            makers.emplace_back([&, t] {
                for (std::uint64_t v = t; v < ballots; v += 2) {
                    bytes voter(8);
                    for (int b = 0; b < 8; ++b) voter[static_cast<std::size_t>(b)] = static_cast<byte>(v >> (8 * b));
                    auto tx = election::ballot_record<S>(*g, id, *key, candidates, static_cast<std::uint32_t>(v % candidates),
                                                         sha256::hash(voter), *kp, wall_ms());
                    raw[v] = to_hex(encode(tx));
                }
            });
    }
    const double make_s = std::chrono::duration<double>(clock_t_::now() - g0).count();
    std::printf("made %llu ballots of %u candidates in %.1f s (%.0f µs each on 2 threads)\n",
                static_cast<unsigned long long>(ballots), candidates, make_s, make_s * 2e6 / static_cast<double>(ballots));
    while (wall_ms() < def.start_ms) std::this_thread::sleep_for(std::chrono::milliseconds(20));

    std::atomic<std::uint64_t> next{0}, acked{0}, refused{0};
    const auto s0 = clock_t_::now();
    {
        std::vector<std::jthread> senders;
        for (unsigned c = 0; c < clients; ++c)
            senders.emplace_back([&, c] {
                for (std::uint64_t round = 0;; ++round) {
                    const std::uint64_t from = next.fetch_add(batch);
                    if (from >= ballots) return;
                    const std::uint64_t to = std::min<std::uint64_t>(ballots, from + batch);
                    bj::array calls;
                    for (std::uint64_t v = from; v < to; ++v) {
                        bj::object call;
                        call["jsonrpc"] = "2.0";
                        call["id"] = v;
                        call["method"] = "eth_sendRawTransaction";
                        bj::array params;
                        params.emplace_back(raw[v]);
                        call["params"] = std::move(params);
                        calls.emplace_back(std::move(call));
                    }
                    const auto& ep = vs[(c + round) % vs.size()];
                    const auto r = client::http_request(ep.host, ep.port, boost::beast::http::verb::post, "/", bj::serialize(calls),
                                                        std::chrono::milliseconds(60'000));
                    if (r.status != 200) {
                        refused += to - from;
                        continue;
                    }
                    const bj::value answers = bj::parse(r.body);
                    for (const auto& a : answers.as_array()) (a.as_object().contains("result") ? acked : refused)++;
                }
            });
    }
    const double send_s = std::chrono::duration<double>(clock_t_::now() - s0).count();
    std::uint64_t counted = 0;
    for (int i = 0; i < 6000 && counted < acked; ++i) {
        if (auto e = election_at(vs[0], id)) counted = e->at("ballots").to_number<std::uint64_t>();
        if (counted < acked) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double final_s = std::chrono::duration<double>(clock_t_::now() - s0).count();
    std::printf("%llu ballots acknowledged (%llu refused) in %.2f s: %.0f acknowledged/s\n",
                static_cast<unsigned long long>(acked.load()), static_cast<unsigned long long>(refused.load()), send_s,
                static_cast<double>(acked) / send_s);
    std::printf("%llu counted on the chain %.2f s after the first was sent: %.0f final ballots/s\n",
                static_cast<unsigned long long>(counted), final_s, static_cast<double>(counted) / final_s);
    const bj::object out{{"tool", "ballotchain-ballot-load"},
                         {"params", bj::object{{"ballots", ballots}, {"clients", clients}, {"batch", batch},
                                               {"candidates", candidates}, {"validators", vs.size()}}},
                         {"key_ceremony_s", ceremony_s},
                         {"make_s", make_s},
                         {"make_us_per_ballot_per_thread", make_s * 2e6 / static_cast<double>(ballots)},
                         {"acknowledged", acked.load()},
                         {"refused", refused.load()},
                         {"acknowledged_per_s", static_cast<double>(acked) / send_s},
                         {"counted", counted},
                         {"final_per_s", static_cast<double>(counted) / final_s},
                         {"final_s", final_s}};
    if (!bench::write_json_file(json_path, out)) return 1;
    return counted == acked && refused == 0 ? 0 : 1;
}
