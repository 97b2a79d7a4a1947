#pragma once
// A local network for integration tests: a bootnode and n validators made by
// `ballotchain testnet`, on free ports in a temp dir, stopped on destruction.
#include "http.hpp"
#include "process.hpp"

#include <ballotchain/chain/json.hpp>

#include <catch2/catch.hpp>

namespace ballotchain::itest {
namespace bj = boost::json;

std::string built_bin_dir();  ///< build/<preset>/apps (paths.cpp): the backend under test
/// Where the validator, bootnode and CLI are (paths.cpp): this build's apps, or
/// BALLOTCHAIN_NODE_BIN_DIR when configured (the ThreadSanitizer preset runs the
/// backend it built against the release build's validators; tests/integration/CMakeLists.txt).
std::string node_bin_dir();
std::string eth_test_dir();   ///< tests/eth in the source tree (paths.cpp)
std::string examples_bin_dir();  ///< build/<preset>/examples (paths.cpp)
std::string source_dir();        ///< the source tree (paths.cpp)
inline const std::string bin_dir = node_bin_dir();
inline const std::string backend_bin_dir = built_bin_dir();

inline std::string hexq(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

/// How a network is made (the defaults are the plain constructor's).
struct network_options {
    bool bootnode = true;              ///< start the bootnode
    bool bootnode_client = true;       ///< pass --bootnode (false: --bootnode "", validators never ask one)
    std::uint64_t interval_ms = 200;   ///< block interval
    bool static_peers = true;          ///< pass --peers with every other validator's address
    bool start = true;                 ///< start every validator now (false: the test calls start(i))
    bool elections_defined = false;    ///< `testnet --elections-defined`: every election defined on the chain
};

/// A bootnode and n validators made by `ballotchain testnet`, on free ports.
class network {
public:
    explicit network(int n, bool bootnode = true, std::uint64_t interval_ms = 200, bool static_peers = true)
        : network(n, network_options{bootnode, true, interval_ms, static_peers, true}) {}

    network(int n, network_options o) : n_(n), opts_(o) {
        const bool bootnode = o.bootnode;
        const auto interval_ms = o.interval_ms;
        dir_ = tmp_.path() / "net";
        std::vector<std::string> args{bin_dir + "/ballotchain", "testnet", "--validators", std::to_string(n), "--out",
                                      dir_.string(), "--block-interval-ms", std::to_string(interval_ms), "--max-block-txs",
                                      "300"};
        if (o.elections_defined) args.emplace_back("--elections-defined");
        auto [rc, out] = run(args, tmp_.path() / "testnet.log");
        INFO(out);
        REQUIRE(rc == 0);
        auto ports = free_ports(2 * static_cast<std::size_t>(n) + 1);
        boot_port_ = ports[0];
        for (int i = 0; i < n; ++i) {
            rpc_.push_back(ports[1 + 2 * static_cast<std::size_t>(i)]);
            p2p_.push_back(ports[2 + 2 * static_cast<std::size_t>(i)]);
        }
        validators_.resize(static_cast<std::size_t>(n));
        peer_ports_.assign(static_cast<std::size_t>(n), std::vector<std::uint16_t>(static_cast<std::size_t>(n), 0));
        extra_args_.resize(static_cast<std::size_t>(n));
        env_.resize(static_cast<std::size_t>(n));
        if (bootnode) start_bootnode();
        if (o.start)
            for (int i = 0; i < n; ++i) start(i, o.static_peers);
    }
    ~network() { stop_all(); }

    /// (Re)starts the bootnode serving this network's genesis, with `extra` options (e.g. rate limits).
    void start_bootnode(const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv{bin_dir + "/ballotchain-bootnode", "--addr",
                                      "127.0.0.1:" + std::to_string(boot_port_), "--genesis",
                                      (dir_ / "genesis.json").string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        bootnode_ = process(argv, tmp_.path() / "bootnode.log");
    }

    void start(int i, bool static_peers = true) {
        const auto ui = static_cast<std::size_t>(i);
        std::vector<std::string> argv;
        if (!env_[ui].empty()) {
            argv.push_back("/usr/bin/env");
            argv.insert(argv.end(), env_[ui].begin(), env_[ui].end());
        }
        argv.insert(argv.end(), {bin_dir + "/ballotchain-validator",
                                 "--config", (vdir(i) / "config.toml").string(),
                                 "--rpc-addr", "127.0.0.1:" + std::to_string(rpc(i)),
                                 "--p2p-addr", "127.0.0.1:" + std::to_string(p2p_[ui]),
                                 "--bootnode", opts_.bootnode_client ? "http://127.0.0.1:" + std::to_string(boot_port_) : ""});
        if (static_peers) {
            argv.push_back("--peers");
            for (int j = 0; j < n_; ++j) {
                if (j == i) continue;
                const auto uj = static_cast<std::size_t>(j);
                const auto port = peer_ports_[ui][uj] ? peer_ports_[ui][uj] : p2p_[uj];
                argv.push_back(std::to_string(j + 1) + "@127.0.0.1:" + std::to_string(port));
            }
        }
        argv.insert(argv.end(), extra_args_[ui].begin(), extra_args_[ui].end());
        validators_[ui] = process(argv, tmp_.path() / ("validator-" + std::to_string(i + 1) + ".log"));
    }
    /// Validator i reaches validator j at 127.0.0.1:`port` (e.g. a proxy) from its next start on.
    void set_peer_port(int i, int j, std::uint16_t port) {
        peer_ports_[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)] = port;
    }
    /// Options appended to validator i's command line from its next start on (they override config.toml).
    void set_extra_args(int i, std::vector<std::string> args) { extra_args_[static_cast<std::size_t>(i)] = std::move(args); }
    /// NAME=VALUE pairs in validator i's environment from its next start on (run through /usr/bin/env).
    void set_env(int i, std::vector<std::string> env) { env_[static_cast<std::size_t>(i)] = std::move(env); }
    /// True while validator i's process has not exited.
    bool running(int i) { return validators_[static_cast<std::size_t>(i)].running(); }
    void kill(int i, int sig) { validators_[static_cast<std::size_t>(i)].kill(sig); }
    void stop_all() {
        for (auto& v : validators_) v.kill(SIGTERM);
        bootnode_.kill(SIGTERM);
    }

    std::uint16_t rpc(int i) const { return rpc_[static_cast<std::size_t>(i)]; }
    std::uint16_t p2p(int i) const { return p2p_[static_cast<std::size_t>(i)]; }
    std::uint16_t bootnode_port() const { return boot_port_; }
    fs::path vdir(int i) const { return dir_ / ("validator-" + std::to_string(i + 1)); }
    const fs::path& dir() const { return dir_; }
    /// The network's genesis (genesis.json of the testnet): what clients check answers against.
    const genesis_config& genesis() const {
        if (!genesis_) genesis_ = ballotchain::json::load_genesis_file((dir_ / "genesis.json").string()).value();
        return *genesis_;
    }
    pid_t pid(int i) const { return validators_[static_cast<std::size_t>(i)].pid(); }
    std::string log(int i) const { return validators_[static_cast<std::size_t>(i)].log_text(); }

    /// GET /health's answer: 200 (ok, degraded) or 503 (failing: quorum lost, storage faulted).
    std::optional<bj::object> health(int i) const {
        auto r = http_get(rpc(i), "/health");
        if (r.status != 200 && r.status != 503) return std::nullopt;
        boost::system::error_code ec;
        auto v = bj::parse(r.body, ec);
        if (ec || !v.is_object()) return std::nullopt;
        return v.as_object();
    }
    std::optional<std::uint64_t> height(int i) const {
        auto h = health(i);
        if (!h || !h->contains("height")) return std::nullopt;
        return h->at("height").to_number<std::uint64_t>();
    }
    bool all_connected() const {
        for (int i = 0; i < n_; ++i) {
            auto h = health(i);
            if (!h || h->at("peers").to_number<std::int64_t>() != n_ - 1) return false;
        }
        return true;
    }

    /// Block hashes 1..h on validator i.
    std::vector<std::string> block_hashes(int i, std::uint64_t h, std::vector<std::string>* txs = nullptr) const {
        std::vector<std::string> out;
        for (std::uint64_t k = 1; k <= h; ++k) {
            auto b = rpc_call(rpc(i), "eth_getBlockByNumber", {hexq(k), false});
            if (!b || !b->is_object()) return {};
            out.emplace_back(b->as_object().at("hash").as_string());
            if (txs)
                for (auto& t : b->as_object().at("transactions").as_array()) txs->emplace_back(t.as_string());
        }
        return out;
    }

private:
    temp_dir tmp_;
    fs::path dir_;
    mutable std::optional<genesis_config> genesis_;
    int n_;
    network_options opts_;
    std::uint16_t boot_port_ = 0;
    std::vector<std::vector<std::uint16_t>> peer_ports_;  ///< [i][j]: where i dials j, 0 = j's own port
    std::vector<std::vector<std::string>> extra_args_, env_;
    std::vector<std::uint16_t> rpc_, p2p_;
    process bootnode_;
    std::vector<process> validators_;
};

}  // namespace ballotchain::itest
