/// ballotchain-validator: one consensus node. P2P over TCP, JSON-RPC over HTTP,
/// the chain in SQLite under --data-dir.
#include "validator_node.hpp"
#include <ballotchain/app/addr.hpp>
#include <ballotchain/app/logging.hpp>
#include <ballotchain/app/bootnode_client.hpp>
#include <ballotchain/app/config_file.hpp>
#include <ballotchain/app/version.hpp>

#include <ballotchain/chain/json.hpp>
#include <ballotchain/crypto/key_file.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <filesystem>

#include "rpc_routes.hpp"

int main(int argc, char** argv) {
    using namespace ballotchain;
    namespace fs = std::filesystem;
    CLI::App app{"ballotchain-validator: a Proof-of-Authority validator of the ballotchain vote ledger.\n"
                 "Runs consensus with the other validators over TCP (--p2p-addr) and serves\n"
                 "JSON-RPC 2.0, /health, /blockchain and /metrics over HTTP (--rpc-addr; HTTPS only with\n"
                 "--tls-cert/--tls-key).\n"
                 "The chain is stored in SQLite under --data-dir; a restart resumes from it."};
    app::add_version_flag(app, "ballotchain-validator");
    app::add_config_option(app, "TOML config file; its keys are the long option names (data-dir = ...)");
    std::string data_dir, genesis_path, key_path;
    app::log_options log_opts;
    std::string rpc_addr = "127.0.0.1:8001", p2p_addr = "0.0.0.0:30303", advertise, bootnode;
    std::string tls_cert, tls_key, bootnode_ca;
    std::vector<std::string> peers;
    std::size_t pool = 100'000, cache_mib = 64;
    rpc::http_server_options rpc_opts;
    std::uint64_t rpc_header_timeout_ms = static_cast<std::uint64_t>(rpc_opts.header_timeout.count());
    net::transport_options p2p_opts;
    std::uint64_t p2p_idle_timeout_ms = static_cast<std::uint64_t>(p2p_opts.idle_timeout.count());
    std::uint64_t startup_hold_ms = 0;
    app.add_option("--data-dir", data_dir, "directory for the chain database")->required();
    app.add_option("--genesis", genesis_path, "genesis JSON file")->required()->check(CLI::ExistingFile);
    app.add_option("--key", key_path, "validator key file (default: DATA_DIR/validator.key)");
    app.add_option("--rpc-addr", rpc_addr, "HTTP JSON-RPC listen address host:port")->capture_default_str();
    app.add_option("--p2p-addr", p2p_addr, "P2P listen address host:port")->capture_default_str();
    app.add_option("--advertise-addr", advertise,
                   "P2P address given to the bootnode (default: --p2p-addr, 127.0.0.1 for 0.0.0.0)");
    app.add_option("--bootnode", bootnode, "bootnode URL, e.g. http://127.0.0.1:8546 (https://: over TLS, see --bootnode-ca)");
    app.add_option("--bootnode-ca", bootnode_ca,
                   "PEM CA certificates an https --bootnode's certificate must chain to (default: the system's store)");
    auto* cert_opt = app.add_option("--tls-cert", tls_cert,
                                    "PEM certificate chain: serve the RPC port over TLS only (HTTPS; needs --tls-key)");
    auto* key_opt = app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert");
    cert_opt->needs(key_opt);
    key_opt->needs(cert_opt);
    app.add_option("--peers", peers,
                   "static peers INDEX@host:port, INDEX from 1 in genesis order: list every other validator\n"
                   "(in a config file `peers = []` for none, e.g. a single-validator chain). INDEX 1..1024 may also\n"
                   "name a validator a change will add (INDEX = its registry id + 1): used once the change is known");
    app.add_option("--pool-size", pool, "most pending transactions")->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
    app.add_option("--cache-mib", cache_mib,
                   "SQLite page cache of chain.db, MiB: a bound, filled as pages are read; keeps the tx and\n"
                   "voter indexes every vote is checked against in memory")
        ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{65'536}));
    app.add_option("--rpc-max-connections", rpc_opts.max_connections,
                   "most HTTP connections held at once; when reached, a newcomer takes the place of an idle or\n"
                   "header-pending connection of the address holding the most")
        ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    app.add_option("--rpc-max-connections-per-address", rpc_opts.max_connections_per_address,
                   "most HTTP connections held at once per client address (IPv6: per /64); more are refused")
        ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    app.add_option("--rpc-header-timeout-ms", rpc_header_timeout_ms,
                   "a request header must be complete this long after the connection (or a request's first byte)")
        ->capture_default_str()->check(CLI::Range(std::uint64_t{100}, std::uint64_t{600'000}));
    app.add_option("--p2p-idle-timeout-ms", p2p_idle_timeout_ms,
                   "a P2P link that brings no frame for this long is closed and re-dialled (peers send STATUS\n"
                   "every second, so only a dead or silently dropping link stays quiet)")
        ->capture_default_str()->check(CLI::Range(std::uint64_t{2000}, std::uint64_t{600'000}));
    app.add_option("--startup-hold-ms", startup_hold_ms,
                   "after start, sign nothing until STATUS from f+1 other validators shows where the network is\n"
                   "(a validator restored from a backup catches up first), or this long has passed; 0: off (the default: the\n"
                   "simulator measured no gain over the signed-state file alone, and a liveness cost)")
        ->capture_default_str()->check(CLI::Range(std::uint64_t{0}, std::uint64_t{600'000}));
    app::add_log_options(app, log_opts);
    CLI11_PARSE(app, argc, argv);

    auto fail = [](const std::string& m) {
        std::fprintf(stderr, "ballotchain-validator: %s\n", m.c_str());
        return 1;
    };
    app::setup_logging("validator", log_opts);

    auto g = json::load_genesis_file(genesis_path);
    if (!g) return fail("genesis " + genesis_path + ": " + g.error().message());
    if (key_path.empty()) key_path = (fs::path(data_dir) / "validator.key").string();
    auto kp = load_key_file(key_path);
    if (!kp) return fail("key " + key_path + ": " + kp.error().message());
    if (!tls_cert.empty()) {
        auto tls = rpc::make_server_tls_context(tls_cert, tls_key);
        if (!tls) return fail(tls.error());
        rpc_opts.tls = *tls;
    }
    auto rpc_ep = app::parse_endpoint(rpc_addr);
    if (!rpc_ep) return fail("--rpc-addr: " + rpc_ep.error());
    auto p2p_ep = app::parse_endpoint(p2p_addr);
    if (!p2p_ep) return fail("--p2p-addr: " + p2p_ep.error());
    std::vector<std::pair<std::uint32_t, net::peer_address>> static_peers;
    for (const auto& p : peers) {
        auto sp = app::parse_peer(p, limits::max_registry);  // an id a validator-set change adds later is fine
        if (!sp) return fail("--peers " + p + ": " + sp.error());
        static_peers.push_back(*sp);
    }
    if (static_peers.empty() && bootnode.empty() && g->n() > 1)
        spdlog::warn("no peers and no bootnode: this validator only waits for the other {} validators to dial it "
                     "(list them in peers, INDEX@host:port)", g->n() - 1);

    std::error_code fec;
    fs::create_directories(data_dir, fec);
    if (fec) return fail("--data-dir " + data_dir + ": " + fec.message());
    // Keep a copy of the genesis next to the database (offline `ballotchain verify` uses it).
    const auto gcopy = (fs::path(data_dir) / "genesis.json").string();
    if (!fs::exists(gcopy)) {
        if (auto r = write_file_atomic(gcopy, boost::json::serialize(json::to_json(*g)) + "\n", 0644, false); !r)
            return fail(gcopy + ": " + r.error().message());
    } else if (auto stored = json::load_genesis_file(gcopy); !stored || *stored != *g) {
        return fail(gcopy + " differs from --genesis: this data dir belongs to another chain");
    }
    // SQLite says "disk I/O error" when it cannot even create its -shm/-wal files: name the cause.
    auto space_note = [&] {
        std::error_code sec;
        const auto sp = fs::space(data_dir, sec);
        return !sec && sp.available < (1u << 20) ? " (the disk of " + data_dir + " is full: free space, then start again)"
                                                 : std::string();
    };
    std::string why;
    sqlite_options so;
    so.cache_mib = cache_mib;
    auto st = sqlite_storage::open((fs::path(data_dir) / "chain.db").string(), so, &why);
    if (!st) return fail("database: " + why + space_note());
    auto chain = app::chain_t::open(*g, std::move(*st));
    if (!chain) return fail("chain: " + chain.error().message() + space_note());
    consensus::engine_options eo;
    eo.mempool_capacity = pool;
    eo.startup_hold_ms = startup_hold_ms;
    // Double-sign protection a restored chain.db cannot roll back (docs/operations.md, Backup and restore).
    const consensus::signed_state_file<app::suite_t> sfile((fs::path(data_dir) / "signed-state").string());
    auto sio = sfile.io();
    if (!sio)
        return fail(sfile.path() + ": " + sio.error().message() +
                    "; refusing to start: this file keeps the validator from signing twice. Restore it from a "
                    "backup of this data dir or, if none exists, see docs/operations.md (Backup and restore)");
    auto eng = app::engine_t::create(std::move(*chain), *kp, steady_clock_adapter{}, eo, std::move(*sio));
    if (!eng) return fail("consensus state: " + eng.error().message());
    if (eng->sign_floor() > eng->chain().height())
        spdlog::warn("signed-state: this node signed up to height {} but chain.db holds height {} (a restored "
                     "backup?): it signs nothing below height {} and catches up from its peers first",
                     eng->saved_state().height, eng->chain().height(), eng->sign_floor());

    // The key's id in the registry the chain knows (genesis, then each change in chain.db), or
    // none: a validator a change will add follows the chain and signs nothing until the block
    // recording that change is appended (protocol.md §12).
    const std::uint32_t own_id = eng->index();
    const bool has_id = own_id != app::engine_t::no_id;
    const std::string who = has_id ? "validator-" + std::to_string(own_id + 1) : "validator (no id yet)";
    if (!has_id)
        spdlog::warn("key {} ({}) is in no validator set the chain knows yet: following until a change adds it",
                     key_path, to_hex(kp->public_key()));
    boost::asio::io_context io(1);
    p2p_opts.idle_timeout = std::chrono::milliseconds(p2p_idle_timeout_ms);
    auto transport = app::transport_t::create(io, *g, *kp, p2p_opts);  // its id: the position of our key
    transport->on_log([](int level, const std::string& m) {
        if (level >= 2)
            spdlog::warn("p2p: {}", m);
        else if (level == 1)
            spdlog::info("p2p: {}", m);
        else
            spdlog::debug("p2p: {}", m);
    });
    if (auto ec = transport->listen(p2p_ep->endpoint)) return fail("listen on " + p2p_addr + ": " + ec.message());
    for (auto& [i, a] : static_peers) transport->add_static_peer(i, a);

    auto pending = app::pending_store::open((fs::path(data_dir) / "pending.db").string());
    if (!pending) return fail("pending votes database: " + pending.error().message + space_note());
    app::validator_node node(io, std::move(*eng), transport, std::make_unique<app::pending_store>(std::move(*pending)));
    if (has_id) node.enable_trustee(*kp);  // a node without an id yet acts as trustee from its next start
    const std::string p2p_advertised = advertise.empty() ? app::default_advertise(p2p_addr, transport->port()) : advertise;
    node.set_p2p_address(p2p_advertised);  // GET /health's "p2p_addr"
    spdlog::info("{} starting: chain id {}, {} validators (quorum {}), height {}, p2p {}, rpc {}{}", who, g->chain_id,
                 node.engine().validator_set().n(), node.engine().validator_set().quorum(), node.height(), p2p_addr, rpc_addr,
                 rpc_opts.tls ? " (TLS)" : "");
    rpc_opts.header_timeout = std::chrono::milliseconds(rpc_header_timeout_ms);
    auto rpc = app::start_rpc(io, node, rpc_ep->endpoint, rpc_opts);
    if (!rpc) return fail("listen on " + rpc_addr + ": " + rpc.error().message());
    std::unique_ptr<app::bootnode_client> boot;
    if (!bootnode.empty() && (!has_id || own_id >= g->n())) {
        spdlog::warn("--bootnode: not used ({}): the bootnode knows the genesis validators only; the static --peers are",
                     has_id ? "this key was added by a validator-set change" : "this key has no id yet");
    } else if (!bootnode.empty()) {
        auto bc = app::bootnode_client::create(io, bootnode, *g, *kp, own_id, p2p_advertised, transport, bootnode_ca);
        if (!bc) return fail("--bootnode " + bootnode + ": " + bc.error());
        boot = std::move(*bc);
        boot->start();
    }
    node.start();

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: shutting down", sig);
        node.stop();
        if (boot) boot->stop();
        (*rpc)->stop();
        io.stop();
    });
    io.run();
    spdlog::info("{} stopped at height {}", who, node.height());
    return 0;
}
