// Integration: validator-set changes with real processes and the operator's commands
// (docs/operations.md "Changing the validator set"). Three validators from `ballotchain testnet`
// and a fourth started with a fresh key that no set holds yet (no id, signs nothing; the others
// take its P2P link once the change is recorded, and it catches up); votes
// are sent all along; `ballotchain validators propose/approve/submit` grows the set to four
// (approved by 2 of 3), the fourth proposes and seals from the effective height on; then
// validator-1 is removed (approved by 3 of 4) and stopped, and voting goes on. Every vote
// acknowledged is final exactly once on the remaining validators, their chains agree, and
// `ballotchain verify` of a remaining validator's chain.db is OK with both changes.
#include "network.hpp"
#include "voter.hpp"

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/rules.hpp>
#include <ballotchain/core/hex.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

namespace valset_itest {

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;

std::string valset_url(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

/// Runs the CLI; its exit code and output (stdout and stderr).
std::pair<int, std::string> cli(const fs::path& dir, const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), bin_dir + "/ballotchain");
    return run(args, dir / (name + ".log"));
}

/// Whether id `id` proposed or sealed one of the blocks `from`..`to` validator `port` holds (a
/// certificate carries only the first quorum of seals: look at several blocks, proposers rotate).
bool took_part(std::uint16_t port, std::uint64_t from, std::uint64_t to, std::uint32_t id) {
    for (std::uint64_t h = from; h <= to; ++h) {
        auto b = rpc_call(port, "eth_getBlockByNumber", {hexq(h), false});
        if (b && b->is_object() && b->as_object().at("proposer").to_number<std::uint32_t>() == id) return true;
        auto c = rpc_call(port, "poa_getBlockCertificate", {hexq(h)});
        if (!c || !c->is_object()) return false;
        for (const auto& s : c->as_object().at("seals").as_array())
            if (s.at("validator").to_number<std::uint32_t>() == id) return true;
    }
    return false;
}

/// Sends signed votes through JSON-RPC, round-robin over the validators it is told to use,
/// recording each acknowledged tx hash, until stopped.
class vote_stream {
public:
    vote_stream(const fs::path& submitter_key, std::vector<std::uint16_t> ports)
        : voter_(submitter_key), ports_(std::move(ports)), th_([this] { loop(); }) {}
    ~vote_stream() { stop(); }
    void use(std::vector<std::uint16_t> ports) {
        std::lock_guard lk(m_);
        ports_ = std::move(ports);
    }
    void stop() {
        stop_ = true;
        if (th_.joinable()) th_.join();
    }
    std::vector<std::string> acked() {
        std::lock_guard lk(m_);
        return acked_;
    }
    std::size_t count() {
        std::lock_guard lk(m_);
        return acked_.size();
    }

private:
    void loop() {
        std::uint64_t voter = 0;
        while (!stop_) {
            std::uint16_t port;
            {
                std::lock_guard lk(m_);
                port = ports_[voter % ports_.size()];
            }
            const auto tx = voter_.make(voter++);
            auto r = rpc_call(port, "eth_sendRawTransaction", {bj::string(to_hex(encode(tx)))});
            if (r && r->is_string()) {
                std::lock_guard lk(m_);
                acked_.emplace_back(r->as_string());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(25));  // pacing, nothing is timed
        }
    }
    voter_client voter_;
    std::mutex m_;
    std::vector<std::uint16_t> ports_;
    std::vector<std::string> acked_;
    std::atomic<bool> stop_{false};
    std::thread th_;
};

std::string tx_status(std::uint16_t port, const std::string& h) {
    auto r = rpc_call(port, "poa_getTransactionStatus", {bj::string(h)});
    if (!r || !r->is_object()) return "";
    return std::string(r->as_object().at("status").as_string());
}

}  // namespace valset_itest

using namespace valset_itest;

TEST_CASE("validator set: grow 3 -> 4 with a new validator process, remove validator-1, votes all along",
          "[integration][validator_set]") {
    temp_dir tmp;
    const auto work = tmp.path();
    // The fourth validator: a fresh key, its own data dir and ports; every genesis validator
    // lists its address under index 4 (id 3, the id the change will give it).
    const auto v4dir = work / "validator-4";
    fs::create_directories(v4dir);
    {
        auto [rc, out] = cli(work, "keygen", {"keygen", "--out", (v4dir / "validator.key").string()});
        INFO(out);
        REQUIRE(rc == 0);
    }
    auto [krc, kout] = cli(work, "keygen-show", {"keygen", "--show", (v4dir / "validator.key").string()});
    REQUIRE(krc == 0);
    const std::string v4key = kout.substr(0, kout.find('\n'));
    REQUIRE(v4key.size() == 66);
    const auto v4ports = free_ports(2);

    network_options o;
    o.start = false;
    network net(3, o);
    for (int i = 0; i < 3; ++i) {
        net.set_extra_args(i, {"--peers", "4@127.0.0.1:" + std::to_string(v4ports[1])});
        net.start(i);
    }
    wait_connected(net);
    const auto genesis = (net.dir() / "genesis.json").string();
    std::vector<std::string> argv4{bin_dir + "/ballotchain-validator", "--data-dir", v4dir.string(), "--genesis", genesis,
                                   "--rpc-addr", "127.0.0.1:" + std::to_string(v4ports[0]), "--p2p-addr",
                                   "127.0.0.1:" + std::to_string(v4ports[1]), "--bootnode", "", "--peers"};
    for (int i = 0; i < 3; ++i) argv4.push_back(std::to_string(i + 1) + "@127.0.0.1:" + std::to_string(net.p2p(i)));
    process v4(argv4, work / "validator-4.log");
    const std::uint16_t rpc4 = v4ports[0];
    auto health4 = [&]() -> std::optional<bj::object> {
        auto r = http_get(rpc4, "/health");
        boost::system::error_code ec;
        auto v = bj::parse(r.body, ec);
        if (ec || !v.is_object()) return std::nullopt;
        return v.as_object();
    };
    auto height4 = [&]() -> std::uint64_t {
        auto h4 = health4();
        return h4 && h4->contains("height") ? h4->at("height").to_number<std::uint64_t>() : 0;
    };
    // It starts with a key in no set: it warns once, has no id, and follows the chain.
    REQUIRE(eventually([&] { auto h = health4(); return h && h->at("validator") == "none (key in no validator set yet)"; },
                       std::chrono::seconds(20)));
    CHECK(v4.log_text().find("is in no validator set the chain knows yet: following until a change adds it") !=
          std::string::npos);

    vote_stream votes(net.dir() / "submitter.key", {net.rpc(0), net.rpc(1), net.rpc(2)});
    REQUIRE(eventually([&] { return votes.count() >= 20; }, std::chrono::seconds(30)));
    // (The others refuse its P2P key until their chain holds the change that adds it: it
    // catches up between the block recording the change and the change's effective height.)
    CHECK(height4() == 0);

    // 3 -> 4: proposed against validator-1, approved by validator-2 and -3, submitted by validator-1.
    const auto change1 = (work / "change1.json").string();
    {
        auto [rc, out] = cli(work, "propose1", {"validators", "propose", "--rpc", valset_url(net.rpc(0)), "--add",
                                                "validator-4=" + v4key, "--in", "40", "--out", change1});
        INFO(out);
        REQUIRE(rc == 0);
    }
    for (int i : {1, 2}) {
        auto [rc, out] = cli(work, "approve1", {"validators", "approve", change1, "--key", (net.vdir(i) / "validator.key").string()});
        INFO(out);
        REQUIRE(rc == 0);
    }
    std::uint64_t eff1 = 0;
    {
        auto [rc, out] = cli(work, "submit1", {"validators", "submit", change1, "--key", (net.vdir(0) / "validator.key").string(),
                                               "--rpc", valset_url(net.rpc(0)), "--wait", "60"});
        INFO(out);
        REQUIRE(rc == 0);
        std::smatch m;
        REQUIRE(std::regex_search(out, m, std::regex("takes effect at height ([0-9]+)")));
        eff1 = std::stoull(m[1].str());
    }
    // The fourth learns its id from the block recording the change, and from eff1 on it seals.
    REQUIRE(eventually([&] { auto h = health4(); return h && h->at("validator") == "validator-4"; }, std::chrono::seconds(60)));
    CHECK(v4.log_text().find("this node's key is validator id 3") != std::string::npos);
    votes.use({net.rpc(0), net.rpc(1), net.rpc(2), rpc4});
    REQUIRE(eventually([&] { return net.height(1).value_or(0) >= eff1 + 10; }, std::chrono::seconds(90)));
    CHECK(took_part(net.rpc(1), eff1, eff1 + 10, 3));
    CHECK_FALSE(took_part(net.rpc(1), 1, eff1 - 1, 3));
    {
        auto p = rpc_call(net.rpc(1), "poa_status", {});
        REQUIRE(p);
        CHECK(p->at("validators") == 4);
        CHECK(p->at("quorum") == 3);
    }

    // 4 -> 3: remove validator-1 (id 0), approved by validator-2, -3 and -4 (3 of 4), submitted by validator-2.
    const auto change2 = (work / "change2.json").string();
    {
        auto [rc, out] = cli(work, "propose2", {"validators", "propose", "--rpc", valset_url(net.rpc(1)), "--remove", "validator-1",
                                                "--in", "40", "--out", change2});
        INFO(out);
        REQUIRE(rc == 0);
    }
    for (const auto& key : {net.vdir(1) / "validator.key", net.vdir(2) / "validator.key", v4dir / "validator.key"}) {
        auto [rc, out] = cli(work, "approve2", {"validators", "approve", change2, "--key", key.string()});
        INFO(out);
        REQUIRE(rc == 0);
    }
    std::uint64_t eff2 = 0;
    {
        auto [rc, out] = cli(work, "submit2", {"validators", "submit", change2, "--key", (net.vdir(1) / "validator.key").string(),
                                               "--rpc", valset_url(net.rpc(1)), "--wait", "60"});
        INFO(out);
        REQUIRE(rc == 0);
        std::smatch m;
        REQUIRE(std::regex_search(out, m, std::regex("takes effect at height ([0-9]+)")));
        eff2 = std::stoull(m[1].str());
    }
    REQUIRE(eventually([&] { return net.height(1).value_or(0) >= eff2 + 2; }, std::chrono::seconds(90)));
    // Stop sending to validator-1, let what it acknowledged become final, then stop it.
    votes.use({net.rpc(1), net.rpc(2), rpc4});
    const auto before_stop = votes.acked();
    REQUIRE(eventually(
        [&] {
            for (const auto& h : before_stop)
                if (tx_status(net.rpc(1), h) != "final") return false;
            return true;
        },
        std::chrono::seconds(60)));
    net.kill(0, SIGTERM);
    REQUIRE(eventually([&] { return !net.running(0); }, std::chrono::seconds(30)));
    const auto h_stop = net.height(1).value_or(0);
    REQUIRE(eventually([&] { return net.height(1).value_or(0) >= h_stop + 10; }, std::chrono::seconds(60)));
    CHECK(took_part(net.rpc(1), eff2, eff2 + 9, 3));
    CHECK_FALSE(took_part(net.rpc(1), eff2, net.height(1).value_or(0), 0));  // validator-1 seals nothing from eff2 on
    votes.stop();
    const auto acked = votes.acked();
    INFO(acked.size() << " votes acknowledged");

    // Every acknowledged vote final exactly once on the remaining validators, chains identical.
    for (std::uint16_t port : {net.rpc(1), net.rpc(2), rpc4}) {
        INFO("validator at " << port);
        REQUIRE(eventually(
            [&] {
                for (const auto& h : acked)
                    if (tx_status(port, h) != "final") return false;
                return true;
            },
            std::chrono::seconds(60)));
    }
    const auto h = std::min({net.height(1).value_or(0), net.height(2).value_or(0),
                             height4()});
    std::vector<std::string> txs;
    const auto ref = net.block_hashes(1, h, &txs);
    REQUIRE(ref.size() == h);
    CHECK(net.block_hashes(2, h) == ref);
    std::vector<std::string> ref4;
    for (std::uint64_t k = 1; k <= h; ++k) {
        auto b = rpc_call(rpc4, "eth_getBlockByNumber", {hexq(k), false});
        REQUIRE(b);
        ref4.emplace_back(b->as_object().at("hash").as_string());
    }
    CHECK(ref4 == ref);
    std::map<std::string, int> seen;
    for (const auto& t : txs) ++seen[t];
    for (const auto& a : acked) CHECK(seen[a] == 1);

    // `ballotchain verify` of validator-2's chain.db (stopped first) follows both changes.
    net.kill(1, SIGTERM);
    REQUIRE(eventually([&] { return !net.running(1); }, std::chrono::seconds(30)));
    auto [vrc, vout] = cli(work, "verify", {"verify", "--data-dir", net.vdir(1).string(), "--genesis", genesis});
    INFO(vout);
    CHECK(vrc == 0);
    CHECK(vout.find("OK: ") != std::string::npos);
    CHECK(vout.find("validator set: 2 change(s); from height " + std::to_string(eff2) + ": ids 1 2 3 (quorum 2)") !=
          std::string::npos);
}
