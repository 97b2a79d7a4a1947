// Integration tests of the bootnode (issue 9, finding 7): a real ballotchain-bootnode and real
// validators on free ports. Attacker traffic comes from 127.0.0.2, legitimate clients use
// 127.0.0.1, and the test's own reads of /peers come from 127.0.0.3 (so they spend neither's
// rate-limit budget).
#include "network.hpp"

#include <ballotchain/app/bootnode_proto.hpp>

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/crypto/key_file.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <thread>

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;

namespace {

constexpr const char* attacker = "127.0.0.2";
constexpr const char* observer = "127.0.0.3";

std::uint64_t wall_ms() { return steady_clock_adapter{}.wall_ms(); }

/// A testnet whose validators learn their peers' addresses only from the bootnode: their
/// static peers are whatever the test chooses (closed ports, or a decoy of another chain),
/// so the real addresses can come only from the bootnode. The bootnode serves this
/// testnet's genesis; the validators start when the test says so.
class discovery_net {
public:
    explicit discovery_net(int n, const std::vector<std::string>& bootnode_extra = {}) : n_(n) {
        dir_ = tmp_.path() / "net";
        auto [rc, out] = run({bin_dir + "/ballotchain", "testnet", "--validators", std::to_string(n), "--out",
                              dir_.string(), "--block-interval-ms", "200"},
                             tmp_.path() / "testnet.log");
        INFO(out);
        REQUIRE(rc == 0);
        auto ports = free_ports(2 * static_cast<std::size_t>(n) + 1);
        boot_port_ = ports[0];
        for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
            rpc_.push_back(ports[1 + 2 * i]);
            p2p_.push_back(ports[2 + 2 * i]);
        }
        std::vector<std::string> argv{bin_dir + "/ballotchain-bootnode", "--addr", "127.0.0.1:" + std::to_string(boot_port_),
                                      "--genesis", (dir_ / "genesis.json").string()};
        argv.insert(argv.end(), bootnode_extra.begin(), bootnode_extra.end());
        bootnode_ = process(argv, tmp_.path() / "bootnode.log");
        REQUIRE(eventually([&] { return http_get(boot_port_, "/health").status == 200; }, std::chrono::seconds(20)));
    }
    ~discovery_net() {
        for (auto& v : validators_) v.kill(SIGTERM);
        bootnode_.kill(SIGTERM);
    }

    /// Starts every validator with static peer j at `static_peer(j)` ("host:port").
    void start_validators(const std::function<std::string(int)>& static_peer) {
        for (int i = 0; i < n_; ++i) {
            std::vector<std::string> argv{bin_dir + "/ballotchain-validator",
                                          "--config", (vdir(i) / "config.toml").string(),
                                          "--rpc-addr", "127.0.0.1:" + std::to_string(rpc(i)),
                                          "--p2p-addr", "127.0.0.1:" + std::to_string(p2p(i)),
                                          "--bootnode", "http://127.0.0.1:" + std::to_string(boot_port_),
                                          "--peers"};
            for (int j = 0; j < n_; ++j)
                if (j != i) argv.push_back(std::to_string(j + 1) + "@" + static_peer(j));
            validators_.emplace_back(argv, tmp_.path() / ("validator-" + std::to_string(i + 1) + ".log"));
        }
    }

    std::uint16_t bootnode_port() const { return boot_port_; }
    std::uint16_t rpc(int i) const { return rpc_[static_cast<std::size_t>(i)]; }
    std::uint16_t p2p(int i) const { return p2p_[static_cast<std::size_t>(i)]; }
    fs::path vdir(int i) const { return dir_ / ("validator-" + std::to_string(i + 1)); }
    const fs::path& dir() const { return dir_; }
    ed25519::key_pair key(int i) const { return load_key_file((vdir(i) / "validator.key").string()).value(); }
    std::string log(int i) const { return validators_.at(static_cast<std::size_t>(i)).log_text(); }
    std::string bootnode_log() const { return bootnode_.log_text(); }

    /// Live entries the bootnode reports (/health, not rate-limited).
    std::optional<std::int64_t> table_size() const {
        auto r = http_get(boot_port_, "/health");
        if (r.status != 200) return std::nullopt;
        return bj::parse(r.body).as_object().at("peers").to_number<std::int64_t>();
    }
    /// GET /peers?chain_id=1337 from `source`; nullopt unless 200.
    std::optional<bj::array> peers(const std::string& source = observer) const {
        auto r = http_request_from(source, boot_port_, http::verb::get, "/peers?chain_id=1337", "");
        if (r.status != 200) return std::nullopt;
        return bj::parse(r.body).as_object().at("peers").as_array();
    }
    bool all_connected() const {
        for (int i = 0; i < n_; ++i) {
            auto r = http_get(rpc(i), "/health");
            if (r.status != 200) return false;
            boost::system::error_code ec;
            auto v = bj::parse(r.body, ec);
            if (ec || !v.is_object() || v.as_object().at("peers").to_number<std::int64_t>() != n_ - 1) return false;
        }
        return true;
    }

private:
    temp_dir tmp_;
    fs::path dir_;
    int n_;
    std::uint16_t boot_port_ = 0;
    std::vector<std::uint16_t> rpc_, p2p_;
    process bootnode_;
    std::vector<process> validators_;
};

/// `n` ports where nothing listens (free a moment ago and not used by the test).
std::vector<std::string> closed_addresses(std::size_t n) {
    std::vector<std::string> out;
    for (auto p : free_ports(n)) out.push_back("127.0.0.1:" + std::to_string(p));
    return out;
}

app::registration make_registration(std::uint64_t chain_id, std::uint32_t index, const ed25519::key_pair& kp,
                                     std::uint64_t timestamp_ms, std::string p2p = "127.0.0.1:30999") {
    app::registration r;
    r.chain_id = chain_id;
    r.index = index;
    r.p2p = std::move(p2p);
    r.timestamp_ms = timestamp_ms;
    app::sign_registration(r, kp);
    return r;
}

http_reply post_registration(const discovery_net& net, const app::registration& r, const std::string& source) {
    return http_request_from(source, net.bootnode_port(), http::verb::post, "/register",
                             bj::serialize(app::to_json(r)));
}

/// True when a validator logged a refusal from the bootnode (bootnode_client logs each one).
bool refused_in_log(const std::string& log) {
    return log.find("refused our registration") != std::string::npos ||
           log.find("refused the peer list") != std::string::npos;
}

std::string detail_of(const http_reply& r) {
    boost::system::error_code ec;
    auto v = bj::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("detail")) return {};
    return std::string(v.as_object().at("detail").as_string());
}

/// True when every genesis validator has an entry with its genesis key, all renewed after
/// `since` (age_ms below the time elapsed since then).
bool all_registered_since(const discovery_net& net, int n, std::chrono::steady_clock::time_point since) {
    auto peers = net.peers();
    if (!peers || peers->size() != static_cast<std::size_t>(n)) return false;
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since);
    for (int i = 0; i < n; ++i) {
        const auto& e = (*peers)[static_cast<std::size_t>(i)].as_object();
        if (e.at("index").to_number<int>() != i || e.at("public_key").as_string() != to_hex(net.key(i).public_key()))
            return false;
        if (e.at("age_ms").to_number<std::int64_t>() >= elapsed.count()) return false;
    }
    return true;
}

/// Submits one vote to validator `to` and waits until it is final on all `n`.
void check_vote_final(const discovery_net& net, int n, int to, std::uint64_t voter) {
    const auto kp = load_key_file((net.dir() / "submitter.key").string()).value();
    vote_tx tx;
    tx.chain_id = 1337;
    tx.election_id = 1;
    tx.candidate_id = 1;
    tx.encrypted_vote = bytes{1, 2, 3};
    tx.voter_tag = sha256::hash(bytes{static_cast<byte>(voter)});
    tx.timestamp_ms = 1'700'000'000'000ull + voter;
    sign_tx<ed25519_sha256>(tx, kp);
    auto h = rpc_call(net.rpc(to), "eth_sendRawTransaction", {to_hex(encode(tx))});
    REQUIRE(h);
    REQUIRE(h->is_string());
    for (int i = 0; i < n; ++i) {
        INFO("validator " << i + 1);
        CHECK(eventually(
            [&] {
                auto r = rpc_call(net.rpc(i), "eth_getTransactionReceipt", {*h});
                return r && r->is_object() && r->as_object().at("status").as_string() == "0x1";
            },
            std::chrono::seconds(60)));
    }
}

/// Registrations with fresh random keys, in the validators' own chain at their indexes and
/// beyond, and in chains the bootnode does not serve; returns the count per HTTP status.
std::map<int, int> flood(const discovery_net& net, int count, int first = 0) {
    std::map<int, int> statuses;
    for (int k = first; k < first + count; ++k) {
        const std::uint64_t chain = k % 10 == 9 ? 2000 + static_cast<std::uint64_t>(k) : 1337;
        const auto index = static_cast<std::uint32_t>(k % 7 == 6 ? 3 + k % 200 : k % 3);
        auto r = make_registration(chain, index, ed25519::generate(), wall_ms(),
                                   "10.66." + std::to_string(k / 250 % 250) + "." + std::to_string(k % 250) + ":30303");
        ++statuses[post_registration(net, r, attacker).status];
    }
    return statuses;
}

}  // namespace

TEST_CASE("bootnode: 4,200 registrations with made-up keys are all refused; the table keeps at most n and the "
          "validators still register and find each other through it",
          "[integration][bootnode]") {
    // Rate limits out of the way: the genesis check alone must refuse every made-up registration.
    discovery_net net(3, {"--rate-limit-per-s", "1000000", "--rate-limit-burst", "1000000"});

    // The attack of finding 7, before any validator is up: on the old bootnode these filled
    // its 4,096 slots and every real validator then got 503.
    auto st = flood(net, 4200);
    INFO("statuses: 200=" << st[200] << " 403=" << st[403] << " 404=" << st[404] << " 503=" << st[503]);
    CHECK(st[200] == 0);
    CHECK(st[404] == 420);           // chains the bootnode does not serve
    CHECK(st[403] == 4200 - 420);    // not a genesis key at that index, or an index ≥ n
    CHECK(net.table_size() == 0);
    auto all = http_request_from(observer, net.bootnode_port(), http::verb::get, "/peers", "");
    REQUIRE(all.status == 200);
    CHECK(bj::parse(all.body).as_object().at("peers").as_array().empty());

    // Static peers on ports where nothing listens: the addresses can come only from the bootnode.
    const auto closed = closed_addresses(3);
    net.start_validators([&](int j) { return closed[static_cast<std::size_t>(j)]; });
    const auto started = std::chrono::steady_clock::now();
    REQUIRE(eventually([&] { return all_registered_since(net, 3, started); }, std::chrono::seconds(60)));
    REQUIRE(eventually([&] { return net.all_connected(); }, std::chrono::seconds(90)));
    check_vote_final(net, 3, 2, 1);

    // The same attack while they run: the table stays at n and their renewals still succeed.
    st = flood(net, 1000, 4200);
    const auto after = std::chrono::steady_clock::now();
    CHECK(st[200] == 0);
    CHECK(st[403] + st[404] == 1000);
    CHECK(net.table_size() == 3);
    CHECK(eventually([&] { return all_registered_since(net, 3, after); }, std::chrono::seconds(60)));
    CHECK(net.all_connected());
    for (int i = 0; i < 3; ++i) CHECK(!refused_in_log(net.log(i)));
}

TEST_CASE("bootnode: replayed, older, stale, future, foreign-chain, wrong-index and forged registrations are "
          "refused with a reason; only the validator's own newest registration is stored",
          "[integration][bootnode]") {
    discovery_net net(3);
    const auto k0 = net.key(0), k1 = net.key(1);
    const auto now = wall_ms();

    // The validator's own registrations, from 127.0.0.1.
    const auto first = make_registration(1337, 0, k0, now, "127.0.0.1:30001");
    const auto second = make_registration(1337, 0, k0, now + 1, "127.0.0.1:30002");
    REQUIRE(post_registration(net, first, "127.0.0.1").status == 200);
    REQUIRE(post_registration(net, second, "127.0.0.1").status == 200);

    // The attacker's, from 127.0.0.2: each refused with its status and a reason.
    struct refused_case {
        const char* what;
        app::registration r;
        int status;
        const char* reason;
    };
    auto forged = make_registration(1337, 0, k0, now + 2, "127.0.0.1:30002");
    forged.p2p = "10.6.6.6:30002";  // the signature covers another address
    const std::vector<refused_case> cases{
        {"the newest registration replayed", second, 409, "greater than"},
        {"an older registration replayed", first, 409, "greater than"},
        {"an older timestamp, freshly signed", make_registration(1337, 0, k0, now - 1000), 409, "greater than"},
        {"a stale timestamp", make_registration(1337, 0, k0, now - 60'000), 422, "from the bootnode's clock"},
        {"a timestamp from the future", make_registration(1337, 0, k0, now + 60'000), 422, "from the bootnode's clock"},
        {"another chain id", make_registration(1338, 0, k0, now + 3), 404, "not served"},
        {"validator 2's genesis key at index 0", make_registration(1337, 0, k1, now + 4), 403, "not the genesis key"},
        {"validator 1's genesis key at index 1", make_registration(1337, 1, k0, now + 5), 403, "not the genesis key"},
        {"an index beyond n", make_registration(1337, 3, k0, now + 6), 403, "not a validator"},
        {"a made-up key", make_registration(1337, 2, ed25519::generate(), now + 7), 403, "not the genesis key"},
        {"a forged signature", forged, 403, "invalid signature"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        auto rep = post_registration(net, c.r, attacker);
        CHECK(rep.status == c.status);
        CHECK(detail_of(rep).find(c.reason) != std::string::npos);
    }

    auto bad = [&](const std::string& body) {
        return http_request_from(attacker, net.bootnode_port(), http::verb::post, "/register", body);
    };
    CHECK(bad("{\"chain_id\":1337}").status == 422);
    CHECK(bad("not json").status == 400);
    auto no_port = app::to_json(make_registration(1337, 0, k0, now + 8, "10.0.0.1"));
    CHECK(bad(bj::serialize(no_port)).status == 422);
    CHECK(bad(std::string(5000, ' ')).status == 413);
    CHECK(http_request_from(attacker, net.bootnode_port(), http::verb::get, "/register", "").status == 405);
    auto foreign = http_request_from(attacker, net.bootnode_port(), http::verb::get, "/peers?chain_id=1338", "");
    CHECK(foreign.status == 404);
    CHECK(!detail_of(foreign).empty());

    // Only the validator's newest registration is in the table.
    auto peers = net.peers();
    REQUIRE(peers);
    REQUIRE(peers->size() == 1);
    const auto& e = (*peers)[0].as_object();
    CHECK(e.at("index").to_number<int>() == 0);
    CHECK(e.at("public_key").as_string() == to_hex(k0.public_key()));
    CHECK(e.at("p2p").as_string() == "127.0.0.1:30002");
    CHECK(net.table_size() == 1);
    // and the validator goes on renewing
    CHECK(post_registration(net, make_registration(1337, 0, k0, wall_ms() + 10, "127.0.0.1:30003"), "127.0.0.1").status ==
          200);
}

TEST_CASE("bootnode: one address over its rate limit gets 429 with Retry-After while validators on 127.0.0.1 "
          "keep registering",
          "[integration][bootnode]") {
    discovery_net net(3);  // the default limits
    const auto closed = closed_addresses(3);
    net.start_validators([&](int j) { return closed[static_cast<std::size_t>(j)]; });
    REQUIRE(eventually([&] { return net.table_size() == 3; }, std::chrono::seconds(60)));

    // The attacker reads /peers as fast as it can until it is limited.
    http_reply limited;
    int served = 0;
    for (int k = 0; k < 5000 && limited.status == 0; ++k) {
        auto r = http_request_from(attacker, net.bootnode_port(), http::verb::get, "/peers?chain_id=1337", "");
        if (r.status == 429) limited = r;
        else if (r.status == 200) ++served;
    }
    INFO("the attacker was served " << served << " times");
    REQUIRE(limited.status == 429);
    CHECK(served >= 50);  // the burst
    const auto retry = limited.field("retry-after");
    INFO("Retry-After: " << retry);
    REQUIRE(!retry.empty());
    CHECK(std::all_of(retry.begin(), retry.end(), [](char c) { return c >= '0' && c <= '9'; }));
    CHECK(std::stoul(retry) >= 1);
    CHECK(detail_of(limited).find("too many requests") != std::string::npos);
    // the same budget covers /register
    CHECK(post_registration(net, make_registration(1337, 0, ed25519::generate(), wall_ms()), attacker).status ==
          429);

    // It keeps hammering; meanwhile 127.0.0.1 is served and the validators' renewals succeed.
    std::atomic<bool> stop{false};
    std::atomic<int> attacker_429{0};
    std::thread hammer([&] {
        // 20 requests a second, four times the refill: it stays limited without using up
        // 127.0.0.2's ephemeral ports for the other tests.
        while (!stop) {
            if (http_request_from(attacker, net.bootnode_port(), http::verb::get, "/peers", "").status == 429)
                ++attacker_429;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    const auto since = std::chrono::steady_clock::now();
    auto mine = http_request_from("127.0.0.1", net.bootnode_port(), http::verb::get, "/peers?chain_id=1337", "");
    const bool renewed = eventually([&] { return all_registered_since(net, 3, since); }, std::chrono::seconds(60));
    stop = true;
    hammer.join();
    CHECK(mine.status == 200);
    CHECK(renewed);
    CHECK(attacker_429 > 0);
    for (int i = 0; i < 3; ++i) CHECK(!refused_in_log(net.log(i)));
}

TEST_CASE("validators without usable static peers find each other through the bootnode (their static peer "
          "addresses answer with another chain)",
          "[integration][bootnode]") {
    // The decoy: an independent testnet (same chain id 1337, other keys, so another genesis)
    // on free ports. Its P2P ports answer the handshake, with the wrong genesis and keys.
    network decoy(3, /*bootnode=*/false);
    REQUIRE(eventually([&] { return decoy.all_connected(); }, std::chrono::seconds(30)));

    discovery_net net(3);
    net.start_validators([&](int j) { return "127.0.0.1:" + std::to_string(decoy.p2p(j)); });
    REQUIRE(eventually([&] { return net.table_size() == 3; }, std::chrono::seconds(60)));
    // The bootnode has the right addresses; the validators must use them although the static
    // addresses answer (with the wrong chain). Needs the transport to keep trying other
    // candidate addresses after a handshake with the wrong peer (the lead's tcp_transport change).
    INFO(net.log(0));
    REQUIRE(eventually([&] { return net.all_connected(); }, std::chrono::seconds(90)));
    check_vote_final(net, 3, 2, 2);
    CHECK(decoy.all_connected());  // and the decoy network is not disturbed
}
