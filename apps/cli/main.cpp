/// ballotchain: the operator CLI (keys, testnet files, offline verification).
#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/storage/sqlite_storage.hpp>

#include <ballotchain/app/addr.hpp>
#include <ballotchain/app/version.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "net_commands.hpp"
#include "validator_commands.hpp"

namespace {
using namespace ballotchain;
namespace fs = std::filesystem;

int fail(const std::string& m) {
    std::fprintf(stderr, "ballotchain: %s\n", m.c_str());
    return 1;
}

/// `keygen --show FILE`: the public key of an existing key file (to send to whoever builds the genesis).
int cmd_keygen_show(const std::string& file) {
    auto kp = load_key_file(file);
    if (!kp) return fail(file + ": " + kp.error().message());
    std::printf("%s\n", to_hex(kp->public_key()).c_str());
    return 0;
}

int cmd_keygen(const std::string& out, bool force) {
    const auto kp = ed25519::generate();
    if (out.empty()) {
        std::fputs(key_file_text(kp).c_str(), stdout);
        return 0;
    }
    if (auto r = save_key_file(out, kp, force); !r) return fail(out + ": " + r.error().message());
    std::printf("wrote %s (mode 0600)\npublic key %s\n", out.c_str(), to_hex(kp.public_key()).c_str());
    return 0;
}

/// The chain parameters `testnet` and `genesis` both take: their options are declared in
/// add_options() and copied into the genesis in apply(), and nowhere else, so a new genesis
/// field or flag is added here once for both commands.
struct genesis_params {
    std::uint64_t chain_id = 1337;
    std::uint64_t interval = 5000;
    std::uint32_t max_txs = 32;
    bool empty_blocks = false;
    bool elections_defined = false;  ///< the genesis flag: every election defined on the chain

    void add_options(CLI::App* c) {
        c->add_option("--chain-id", chain_id, "chain id")->capture_default_str();
        c->add_option("--block-interval-ms", interval, "block interval")->capture_default_str()
            ->check(CLI::Range(1ull, 3'600'000ull));
        c->add_option("--max-block-txs", max_txs, "max transactions per block")->capture_default_str()
            ->check(CLI::Range(1u, 100'000u));
        c->add_flag("--empty-blocks", empty_blocks, "propose blocks without transactions too (default: only when votes wait)");
        c->add_flag("--elections-defined,!--no-elections-defined", elections_defined,
                    std::string("the genesis flag elections_defined: the validators refuse a plain vote for an election "
                                "not defined on the chain (`define-election`, or the backend when it creates one), for a "
                                "candidate not in its definition, or outside its window (docs/election-protocol.md); ") +
                        (elections_defined ? "default: on" : "default: off"));
    }
    void apply(genesis_config& g) const {
        g.chain_id = chain_id;
        g.block_interval_ms = interval;
        g.max_block_txs = max_txs;
        g.empty_blocks = empty_blocks;
        g.elections_defined = elections_defined;
    }
};

/// Writes the genesis as JSON (mode 0644), or to stdout when `out` is empty.
int write_genesis(const genesis_config& g, const std::string& out, bool force) {
    const std::string text = boost::json::serialize(json::to_json(g)) + "\n";
    if (out.empty()) {
        std::fputs(text.c_str(), stdout);
        return 0;
    }
    if (auto r = write_file_atomic(out, text, 0644, force); !r)
        return fail(out + ": " + r.error().message() + (fs::exists(out) && !force ? " (use --force to replace it)" : ""));
    return 0;
}

struct testnet_opts {
    std::uint32_t validators = 3;
    std::string out;
    genesis_params params;
    std::uint16_t rpc_base = 8001;
    std::uint16_t p2p_base = 30303;
    std::uint16_t bootnode_port = 8546;
    std::string host = "127.0.0.1";
    bool force = false;
};

int cmd_testnet(const testnet_opts& o) {
    std::error_code ec;
    if (fs::exists(fs::path(o.out) / "genesis.json") && !o.force)
        return fail(o.out + " already holds a testnet (genesis.json); use --force to replace it");
    fs::create_directories(o.out, ec);
    if (ec) return fail(o.out + ": " + ec.message());
    if (o.rpc_base + o.validators > 65535 || o.p2p_base + o.validators > 65535) return fail("port range overflows 65535");
    genesis_config g;
    o.params.apply(g);
    std::vector<ed25519::key_pair> keys;
    for (std::uint32_t i = 0; i < o.validators; ++i) {
        keys.push_back(ed25519::generate());
        g.validators.push_back({"validator-" + std::to_string(i + 1), keys.back().public_key()});
    }
    const auto submitter = ed25519::generate();
    g.submitters.push_back(submitter.public_key());
    if (auto gec = check_genesis(g)) return fail("genesis: " + gec.message());
    const std::string genesis_path = fs::absolute(fs::path(o.out) / "genesis.json").string();
    if (int rc = write_genesis(g, genesis_path, true)) return rc;
    if (auto r = save_key_file((fs::path(o.out) / "submitter.key").string(), submitter, true); !r)
        return fail("submitter.key: " + r.error().message());
    for (std::uint32_t i = 0; i < o.validators; ++i) {
        const auto dir = fs::absolute(fs::path(o.out) / ("validator-" + std::to_string(i + 1)));
        fs::create_directories(dir, ec);
        if (ec) return fail(dir.string() + ": " + ec.message());
        if (auto r = save_key_file((dir / "validator.key").string(), keys[i], true); !r)
            return fail("validator.key: " + r.error().message());
        std::string cfg;
        cfg += "# ballotchain-validator config for validator-" + std::to_string(i + 1) + "\n";
        cfg += "data-dir = \"" + dir.string() + "\"\n";
        cfg += "genesis = \"" + genesis_path + "\"\n";
        cfg += "key = \"" + (dir / "validator.key").string() + "\"\n";
        cfg += "rpc-addr = \"" + o.host + ":" + std::to_string(o.rpc_base + i) + "\"\n";
        cfg += "p2p-addr = \"" + o.host + ":" + std::to_string(o.p2p_base + i) + "\"\n";
        cfg += "bootnode = \"http://" + o.host + ":" + std::to_string(o.bootnode_port) + "\"\n";
        // Every other validator, whatever its index (a single validator gets `peers = []`).
        cfg += "peers = [";
        bool first = true;
        for (std::uint32_t j = 0; j < o.validators; ++j) {
            if (j == i) continue;
            cfg += std::string(first ? "" : ", ") + "\"" + std::to_string(j + 1) + "@" + o.host + ":" +
                   std::to_string(o.p2p_base + j) + "\"";
            first = false;
        }
        cfg += "]\n";
        if (auto r = write_file_atomic((dir / "config.toml").string(), cfg, 0644, true); !r)
            return fail("config.toml: " + r.error().message());
    }
    std::printf("testnet with %u validators in %s\n  genesis    %s (chain id %llu, %llu ms blocks, %u txs max)\n",
                o.validators, o.out.c_str(), genesis_path.c_str(), static_cast<unsigned long long>(g.chain_id),
                static_cast<unsigned long long>(g.block_interval_ms), g.max_block_txs);
    for (std::uint32_t i = 0; i < o.validators; ++i)
        std::printf("  validator-%u  rpc http://%s:%u  p2p %s:%u  config %s\n", i + 1, o.host.c_str(),
                    unsigned(o.rpc_base + i), o.host.c_str(), unsigned(o.p2p_base + i),
                    (fs::path(o.out) / ("validator-" + std::to_string(i + 1)) / "config.toml").c_str());
    std::printf("  bootnode   http://%s:%u\n  submitter  %s (for the backend)\n", o.host.c_str(),
                unsigned(o.bootnode_port), (fs::path(o.out) / "submitter.key").c_str());
    return 0;
}

/// A public key given on the command line: 0x-hex of 32 bytes, a canonical Ed25519 point not of small order.
std::optional<public_key> parse_public_key(const std::string& what, const std::string& s) {
    auto k = from_hex_fixed<32>(s);
    if (!k) {
        fail(what + " " + s + ": not a public key (0x followed by 64 hex digits): " + k.error().message());
        return std::nullopt;
    }
    if (ed25519_small_order(*k) || !ed25519_canonical(*k)) {
        fail(what + " " + s + ": not a valid Ed25519 public key (small order or non-canonical)");
        return std::nullopt;
    }
    return *k;
}

/// `ballotchain genesis`: a genesis from public keys only (validators in proposer order, named
/// validator-1, validator-2, ...), with the defaults `testnet` uses.
int cmd_genesis(const std::vector<std::string>& validators, const std::vector<std::string>& submitters,
                const genesis_params& params, const std::string& out, bool force) {
    genesis_config g;
    params.apply(g);
    for (std::size_t i = 0; i < validators.size(); ++i) {
        const auto k = parse_public_key("--validator", validators[i]);
        if (!k) return 1;
        if (auto prev = g.validator_index(*k))
            return fail("--validator " + validators[i] + " is given twice (validator-" + std::to_string(*prev + 1) +
                        " and validator-" + std::to_string(i + 1) + "): every validator needs its own key");
        g.validators.push_back({"validator-" + std::to_string(i + 1), *k});
    }
    for (const auto& s : submitters) {
        const auto k = parse_public_key("--submitter", s);
        if (!k) return 1;
        if (g.is_submitter(*k)) return fail("--submitter " + s + " is given twice");
        if (auto v = g.validator_index(*k))
            return fail("--submitter " + s + " is also validator-" + std::to_string(*v + 1) +
                        "'s key: give the backend a key of its own (ballotchain keygen)");
        g.submitters.push_back(*k);
    }
    if (auto gec = check_genesis(g)) return fail("genesis: " + gec.message());
    if (int rc = write_genesis(g, out, force)) return rc;
    std::fprintf(stderr, "%sgenesis of chain %llu: %zu validators (quorum %zu), %zu submitter(s), hash %s\n",
                 out.empty() ? "" : ("wrote " + out + ": ").c_str(), static_cast<unsigned long long>(g.chain_id), g.n(),
                 g.quorum(), g.submitters.size(), to_hex(genesis_hash<ed25519_sha256>(g)).c_str());
    return 0;
}

/// `ballotchain genesis-hash FILE`: the hash every host compares before starting (the parent of block 0).
int cmd_genesis_hash(const std::string& file) {
    auto g = json::load_genesis_file(file);
    if (!g) return fail(file + ": " + g.error().message());
    std::printf("%s\n", to_hex(genesis_hash<ed25519_sha256>(*g)).c_str());
    return 0;
}

/// `ballotchain config`: a validator config file for this host, its static peers being every other validator.
struct config_opts {
    std::string genesis, key, data_dir, rpc_addr = "127.0.0.1:8001", p2p_addr, bootnode, out;
    std::vector<std::string> validator_addrs;  ///< every validator's P2P address, genesis order
    bool force = false;
};

int cmd_config(const config_opts& o) {
    auto g = json::load_genesis_file(o.genesis);
    if (!g) return fail("--genesis " + o.genesis + ": " + g.error().message());
    auto kp = load_key_file(o.key);
    if (!kp) return fail("--key " + o.key + ": " + kp.error().message());
    const auto idx = g->validator_index(kp->public_key());
    if (!idx) return fail("--key " + o.key + " (" + to_hex(kp->public_key()) + ") is not a validator in " + o.genesis);
    if (o.validator_addrs.size() != g->n())
        return fail("--validator-addr: give one P2P address per genesis validator, in genesis order (" +
                    std::to_string(g->n()) + ", got " + std::to_string(o.validator_addrs.size()) + ")");
    for (std::size_t i = 0; i < o.validator_addrs.size(); ++i)
        if (auto p = app::parse_peer(std::to_string(i + 1) + "@" + o.validator_addrs[i], g->n()); !p)
            return fail("--validator-addr " + o.validator_addrs[i] + ": " + p.error());
    if (auto e = app::parse_endpoint(o.rpc_addr); !e) return fail("--rpc-addr: " + e.error());
    const std::string& own = o.validator_addrs[*idx];
    const std::string p2p = o.p2p_addr.empty() ? "0.0.0.0:" + own.substr(own.rfind(':') + 1) : o.p2p_addr;
    if (auto e = app::parse_endpoint(p2p); !e) return fail("--p2p-addr: " + e.error());
    auto quoted = [](const std::string& v) { return "\"" + v + "\""; };
    std::string cfg = "# ballotchain-validator config of validator-" + std::to_string(*idx + 1) + " (written by `ballotchain config`)\n";
    cfg += "data-dir = " + quoted(fs::absolute(o.data_dir).string()) + "\n";
    cfg += "genesis = " + quoted(fs::absolute(o.genesis).string()) + "\n";
    cfg += "key = " + quoted(fs::absolute(o.key).string()) + "\n";
    cfg += "rpc-addr = " + quoted(o.rpc_addr) + "\n";
    cfg += "p2p-addr = " + quoted(p2p) + "\n";
    cfg += "advertise-addr = " + quoted(own) + "\n";
    if (!o.bootnode.empty()) cfg += "bootnode = " + quoted(o.bootnode) + "\n";
    cfg += "peers = [";
    bool first = true;
    for (std::size_t j = 0; j < o.validator_addrs.size(); ++j) {
        if (j == *idx) continue;
        cfg += std::string(first ? "" : ", ") + quoted(std::to_string(j + 1) + "@" + o.validator_addrs[j]);
        first = false;
    }
    cfg += "]\n";
    if (o.out.empty()) {
        std::fputs(cfg.c_str(), stdout);
        return 0;
    }
    if (auto r = write_file_atomic(o.out, cfg, 0644, o.force); !r)
        return fail(o.out + ": " + r.error().message() + (fs::exists(o.out) && !o.force ? " (use --force to replace it)" : ""));
    std::printf("wrote %s (validator-%u)\n", o.out.c_str(), *idx + 1);
    return 0;
}

/// `ballotchain verify`: exit 0 (chain and indexes good, tallies printed), 2 (the
/// data is bad: the first bad block or index row and why), 1 (could not run).
/// A progress bar on stderr for `ballotchain verify` when stderr is a terminal: redrawn at most
/// 10 times a second, erased at the end.
class progress_bar {
public:
    explicit progress_bar(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}
    ~progress_bar() {
        if (drawn_) std::fprintf(stderr, "\r\033[K");
    }
    void operator()(std::uint64_t h, std::uint64_t head) {
        if (!on_) return;
        const auto now = std::chrono::steady_clock::now();
        if (h != head && now < next_) return;
        next_ = now + std::chrono::milliseconds(100);
        const double f = head ? static_cast<double>(h) / static_cast<double>(head) : 1.0;
        const int width = 30, full = static_cast<int>(f * width);
        const double s = std::chrono::duration<double>(now - start_).count();
        std::fprintf(stderr, "\r[%.*s%*s] %5.1f%%  block %llu of %llu  %.1f s", full,
                     "##############################", width - full, "", 100.0 * f,
                     static_cast<unsigned long long>(h), static_cast<unsigned long long>(head), s);
        std::fflush(stderr);
        drawn_ = true;
    }

private:
    bool on_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_, next_{};
};

int cmd_verify(const std::string& dir, std::string genesis_path, unsigned threads) {
    if (genesis_path.empty()) genesis_path = (fs::path(dir) / "genesis.json").string();
    auto g = json::load_genesis_file(genesis_path);
    if (!g) return fail("genesis " + genesis_path + ": " + g.error().message() + " (use --genesis)");
    const auto db = (fs::path(dir) / "chain.db").string();
    if (!fs::exists(db)) return fail(db + ": no such database");
    sqlite_options so;
    so.read_only = true;
    so.cache_mib = 512;  // every tx row is looked up: keep the index pages in memory (a bound, not an allocation)
    std::string why;
    auto st = sqlite_storage::open(db, so, &why);
    auto bad = [](const std::string& m) {
        std::printf("FAIL: %s\n", m.c_str());
        return 2;
    };
    if (!st) {
        // A damaged SQLite file is bad data; anything else (not SQLite, another
        // application's database, a newer schema, I/O) means we could not check it.
        if (st.error() == storage_ns::errc::corrupt) return bad(db + " is damaged: " + why);
        return fail(db + ": " + why);
    }
    std::string damaged;
    if (auto ic = st->integrity_check(); !ic) {
        if (ic.error() != storage_ns::errc::corrupt) return fail(db + ": " + st->last_error());
        damaged = st->last_error();
    }
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    ledger::verify_report rep;
    {
        progress_bar bar(::isatty(STDERR_FILENO) == 1);
        rep = ledger::verify_chain<ed25519_sha256>(*g, *st, {threads, std::ref(bar)});
    }
    if (!rep.ok && rep.reason == storage_ns::errc::io_error)
        return fail(db + ": cannot read it: " + st->last_error());
    if (!rep.ok) {
        const std::string what = rep.reason.message() + (rep.detail.empty() ? "" : ": " + rep.detail);
        if (rep.bad_height)
            std::printf("FAIL: block %llu is bad: %s (%llu blocks before it verified)\n",
                        static_cast<unsigned long long>(*rep.bad_height), what.c_str(),
                        static_cast<unsigned long long>(*rep.bad_height));
        else
            std::printf("FAIL: %s (all %llu blocks verified)\n", what.c_str(),
                        static_cast<unsigned long long>(rep.blocks_checked));
        if (!damaged.empty()) std::printf("FAIL: SQLite integrity check: %s\n", damaged.c_str());
        return 2;
    }
    if (!damaged.empty()) return bad("SQLite integrity check of " + db + ": " + damaged);
    std::printf("OK: %llu blocks (height %llu), %llu transactions, head %s; every index agrees with the blocks\n",
                static_cast<unsigned long long>(rep.blocks_checked), static_cast<unsigned long long>(rep.verified->height),
                static_cast<unsigned long long>(rep.txs_checked), to_hex(rep.verified->hash).c_str());
    // The validator set the blocks ended with (each change was checked on the way: protocol.md §12).
    {
        const auto& vs = rep.elections.validators();
        const validator_epoch last = vs.epochs().empty() ? validator_epoch{} : vs.epochs().back();
        std::string ids;
        for (auto id : last.members) {
            if (!ids.empty()) ids += ' ';
            ids += std::to_string(id);
        }
        std::printf("  validator set: %llu change(s); from height %llu: ids %s (quorum %zu), %zu submitter key(s)\n",
                    static_cast<unsigned long long>(vs.changes()), static_cast<unsigned long long>(last.from), ids.c_str(),
                    last.quorum(), last.submitters.size());
    }
    for (const auto& [e, tally] : rep.tallies) {
        std::printf("  election %llu:", static_cast<unsigned long long>(e));
        for (auto [cand, n] : tally)
            std::printf(" candidate %llu = %llu", static_cast<unsigned long long>(cand), static_cast<unsigned long long>(n));
        std::printf("\n");
    }
    // Secret-ballot elections: every ballot proof, key-ceremony proof and decryption share was
    // checked on the way (the blocks would not verify otherwise); the tally is recomputed.
    for (const auto& [id, e] : rep.elections.elections()) {
        if (e.def.ballot != election::ballot_kind::encrypted) continue;
        std::printf("  election %llu (encrypted, \"%s\"): %s, %llu ballots, key from trustees",
                    static_cast<unsigned long long>(id), e.def.name.c_str(), election::to_string(e.ph),
                    static_cast<unsigned long long>(e.ballots));
        for (auto i : e.qualified) std::printf(" %u", i);
        if (!e.disqualified.empty()) {
            std::printf(" (disqualified:");
            for (auto i : e.disqualified) std::printf(" %u", i);
            std::printf(")");
        }
        if (e.tally) {
            std::printf("; tally decrypted by trustees");
            for (auto i : e.decrypted_by) std::printf(" %u", i);
            std::printf(":");
            for (std::size_t k = 0; k < e.def.candidates.size(); ++k)
                std::printf(" candidate %llu = %llu", static_cast<unsigned long long>(e.def.candidates[k].id),
                            static_cast<unsigned long long>((*e.tally)[k]));
        } else {
            std::printf("; not decrypted yet");
        }
        std::printf("\n");
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ballotchain: operator tool for the ballotchain vote ledger"};
    app::add_version_flag(app, "ballotchain");
    app.require_subcommand(1);

    auto* keygen = app.add_subcommand("keygen", "generate an Ed25519 key file (JSON, mode 0600)");
    std::string key_out;
    bool key_force = false;
    std::string key_show;
    auto* key_out_opt = keygen->add_option("--out,-o", key_out, "file to write (default: print to stdout)");
    keygen->add_flag("--force", key_force, "replace an existing file");
    keygen->add_option("--show", key_show, "print the public key of this existing key file instead (nothing is generated)")
        ->check(CLI::ExistingFile)->excludes(key_out_opt);

    auto* genesis = app.add_subcommand(
        "genesis", "write a genesis from public keys only (ballotchain keygen --show prints a key file's): validators in "
                   "proposer order, named validator-1, validator-2, ...; same defaults as testnet; prints its hash");
    std::vector<std::string> gen_validators, gen_submitters;
    genesis_params gen_params;
    std::string gen_out;
    bool gen_force = false;
    genesis->add_option("--validator", gen_validators, "a validator's public key, 0x-hex (repeat, in proposer order)")
        ->required();
    genesis->add_option("--submitter", gen_submitters, "a submitter's (backend's) public key, 0x-hex (repeat for several)")
        ->required();
    gen_params.elections_defined = true;  // a production chain: every election defined on it
    gen_params.add_options(genesis);
    genesis->add_option("--out,-o", gen_out, "file to write (default: print to stdout)");
    genesis->add_flag("--force", gen_force, "replace an existing file");

    auto* genesis_hash_cmd = app.add_subcommand(
        "genesis-hash", "print the hash of a genesis file (the parent of block 0): every host must print the same one");
    std::string gh_file;
    genesis_hash_cmd->add_option("file", gh_file, "genesis JSON file")->required()->check(CLI::ExistingFile);

    auto* config = app.add_subcommand(
        "config", "write a validator's config file for this host: its key's index in the genesis, and every other "
                  "validator as a static peer");
    config_opts co;
    config->add_option("--genesis", co.genesis, "genesis JSON file (its path on this host)")->required()
        ->check(CLI::ExistingFile);
    config->add_option("--key", co.key, "this validator's key file (its path on this host)")->required()
        ->check(CLI::ExistingFile);
    config->add_option("--data-dir", co.data_dir, "this validator's data directory")->required();
    config->add_option("--validator-addr", co.validator_addrs,
                       "P2P address host:port of every validator, in genesis order, this one included (repeat)")
        ->required();
    config->add_option("--rpc-addr", co.rpc_addr, "this validator's RPC listen address")->capture_default_str();
    config->add_option("--p2p-addr", co.p2p_addr, "P2P listen address (default: 0.0.0.0 and its --validator-addr port)");
    config->add_option("--bootnode", co.bootnode, "bootnode URL (optional: the static peers suffice)");
    config->add_option("--out,-o", co.out, "file to write (default: print to stdout)");
    config->add_flag("--force", co.force, "replace an existing file");

    auto* testnet = app.add_subcommand("testnet", "create genesis, keys and configs for a local network");
    testnet_opts to;
    testnet->add_option("--validators,-n", to.validators, "number of validators")->capture_default_str()
        ->check(CLI::Range(1u, 64u));
    testnet->add_option("--out,-o", to.out, "output directory")->required();
    to.params.add_options(testnet);
    testnet->add_option("--rpc-port", to.rpc_base, "RPC port of validator-1 (then +1 each)")->capture_default_str();
    testnet->add_option("--p2p-port", to.p2p_base, "P2P port of validator-1 (then +1 each)")->capture_default_str();
    testnet->add_option("--bootnode-port", to.bootnode_port, "bootnode port")->capture_default_str();
    testnet->add_option("--host", to.host, "address the processes listen on")->capture_default_str();
    testnet->add_flag("--force", to.force, "replace an existing testnet in --out");

    auto* verify = app.add_subcommand(
        "verify",
        "verify a validator's database offline against its genesis: every block, signature and certificate, and "
        "every index row rebuilt from the blocks and compared. Exit 0: good (tallies printed); 2: the data is bad "
        "(names the first bad block or index row and why); 1: could not run (usage, unreadable or missing file, not "
        "a ballotchain database)");
    std::string vdir, vgen;
    verify->add_option("--data-dir", vdir, "validator data directory (holds chain.db)")->required();
    verify->add_option("--genesis", vgen, "genesis file (default: DATA_DIR/genesis.json)");
    unsigned vthreads = 0;
    verify->add_option("--threads", vthreads,
                       "threads checking signatures (0: one per core); a progress bar shows on a terminal")
        ->capture_default_str()
        ->check(CLI::Range(0u, 256u));

    app::net_commands net(app);
    app::validator_commands validators(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 1;  // --help is 0; any usage error is 1 ("could not run")
    }
    if (*keygen) return key_show.empty() ? cmd_keygen(key_out, key_force) : cmd_keygen_show(key_show);
    if (*genesis) return cmd_genesis(gen_validators, gen_submitters, gen_params, gen_out, gen_force);
    if (*genesis_hash_cmd) return cmd_genesis_hash(gh_file);
    if (*config) return cmd_config(co);
    if (*testnet) return cmd_testnet(to);
    if (*verify) return cmd_verify(vdir, vgen, vthreads);
    if (validators.selected()) return validators.run();
    return net.run();
}
