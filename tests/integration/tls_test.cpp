// TLS on the real binaries, with a CA and certificates the test makes at run time
// (test_ca.hpp; no committed key): validators serving their RPC over TLS to the
// verifying client and the CLI that trust the CA, and refusing (reported as
// unreachable, with the reason) those that trust another CA or expect another
// name; nothing useful for a plain HTTP client; the backend over TLS in front of
// https validators (a vote becomes final); the bootnode over TLS; and many TCP
// connections that never finish the handshake cut off without starving real clients.
#include "backend.hpp"
#include "voter.hpp"

#include <ballotchain/client/client.hpp>
#include <ballotchain/rpc/tls.hpp>

#include <catch2/catch.hpp>
#include <catch_client.hpp>
#include <catch_result.hpp>
#include <test_ca.hpp>

#include <sys/socket.h>

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<asio::ssl::context> client_context(const std::string& ca_file) {
    auto c = rpc::make_client_tls_context(ca_file);
    REQUIRE(c);
    return *c;
}

/// A CA, a certificate for 127.0.0.1 (IP subjectAltName only: "localhost" is another name to it),
/// a client context trusting the CA and one trusting a stranger CA.
struct pki {
    temp_dir dir;
    test::test_ca ca{dir.path() / "ca"};
    test::test_ca stranger{dir.path() / "stranger", "stranger CA"};
    test::cert_files node = ca.issue("node", {"127.0.0.1"});
    std::shared_ptr<asio::ssl::context> trust = client_context(ca.cert_file());
    std::shared_ptr<asio::ssl::context> wrong = client_context(stranger.cert_file());
};

client::http_reply tls_get(std::uint16_t port, asio::ssl::context& ctx, const std::string& target,
                           const std::string& host = "127.0.0.1") {
    return client::http_request(host, port, http::verb::get, target, "", 20s, {}, {}, &ctx);
}

std::string https(std::uint16_t port, const std::string& host = "127.0.0.1") {
    return "https://" + host + ":" + std::to_string(port);
}

/// n validators serving RPC over TLS only (no bootnode), connected to each other.
struct tls_network {
    pki& p;
    network net;
    tls_network(pki& pk, int n, std::vector<std::string> extra = {})
        : p(pk), net(n, network_options{false, false, 200, n > 1, false}) {
        for (int i = 0; i < n; ++i) {
            std::vector<std::string> args{"--tls-cert", p.node.cert, "--tls-key", p.node.key};
            args.insert(args.end(), extra.begin(), extra.end());
            net.set_extra_args(i, args);
            net.start(i, n > 1);  // a lone validator has no --peers
        }
        REQUIRE(eventually(
            [&] {
                for (int i = 0; i < n; ++i) {
                    auto r = tls_get(net.rpc(i), *p.trust, "/health");
                    boost::system::error_code ec;
                    auto v = bj::parse(r.body, ec);
                    if (r.status != 200 || ec || v.as_object().at("peers").to_number<std::int64_t>() != n - 1) return false;
                }
                return true;
            },
            60s));
    }
};

}  // namespace

TEST_CASE("TLS validators: the verifying client trusting the CA is served; another CA or name is refused and reported",
          "[integration][tls]") {
    pki p;
    tls_network t(p, 3);
    auto& net = t.net;
    const auto& g = net.genesis();

    // a plain HTTP client to the TLS port gets no answer at all
    CHECK(http_get(net.rpc(0), "/health").status == 0);
    CHECK(!rpc_call(net.rpc(0), "eth_blockNumber", {}));

    // /metrics over TLS: the certificate's expiry
    auto m = tls_get(net.rpc(0), *p.trust, "/metrics");
    REQUIRE(m.status == 200);
    CHECK(m.body.find("\nballotchain_tls_certificate_expiry_timestamp_seconds " + std::to_string(p.node.not_after) + "\n") !=
          std::string::npos);
    CHECK(m.body.find("\nballotchain_rpc_tls_handshake_failures_total ") != std::string::npos);

    SECTION("trusting the CA: votes become final, verified") {
        asio::io_context io;
        client::async_http_transport tr;
        tr.tls = p.trust;
        client::verifying_client<ed25519_sha256> c(
            io.get_executor(), {{"v1", https(net.rpc(0)), ""}, {"v2", https(net.rpc(1)), ""}, {"v3", https(net.rpc(2)), ""}},
            g, tr);
        auto healthy = c.check_health();
        REQUIRE(healthy);
        CHECK(*healthy == 3);
        for (const auto& n : c.health()) CHECK(n.status == client::node_status::healthy);
        voter_client vc(net.dir() / "submitter.key");
        const auto tx = vc.make(1);
        auto h = c.submit_vote(tx);
        REQUIRE(h);
        auto conf = c.wait_for_confirmation(*h, 60s);
        REQUIRE(conf);
        CHECK(conf->state == client::tx_state::final);
        auto s = c.get_blockchain_state();
        REQUIRE(s);
        CHECK(s->head_verified);
    }
    SECTION("trusting another CA, or reaching a node by a name its certificate does not hold: unreachable, and why") {
        asio::io_context io;
        client::async_http_transport wrong_ca;
        wrong_ca.tls = p.wrong;
        client::verifying_client<ed25519_sha256> c(io.get_executor(), {{"v1", https(net.rpc(0)), ""}}, g, wrong_ca);
        (void)c.check_health();
        REQUIRE(c.health().size() == 1);
        CHECK(c.health()[0].status == client::node_status::unreachable);
        CHECK(c.health()[0].detail.find("certificate verification failed") != std::string::npos);
        CHECK(!c.get_blockchain_state());

        client::async_http_transport right_ca;
        right_ca.tls = p.trust;
        client::verifying_client<ed25519_sha256> by_name(io.get_executor(), {{"v1", https(net.rpc(0), "localhost"), ""}},
                                                         g, right_ca);
        (void)by_name.check_health();
        CHECK(by_name.health()[0].status == client::node_status::unreachable);
        CHECK(by_name.health()[0].detail.find("certificate verification failed") != std::string::npos);
        CHECK(by_name.health()[0].detail.find("mismatch") != std::string::npos);
    }
    SECTION("the CLI with --ca; without the right CA it fails and says why") {
        const auto cli = bin_dir + "/ballotchain";
        const auto genesis = (net.dir() / "genesis.json").string();
        auto [rc, out] = run({cli, "status", "--rpc", https(net.rpc(0)), "--rpc", https(net.rpc(1)), "--ca",
                              p.ca.cert_file(), "--genesis", genesis},
                             net.dir() / "cli-status.log");
        INFO(out);
        CHECK(rc == 0);
        CHECK(out.find("healthy") != std::string::npos);
        CHECK(out.find("(certified;") != std::string::npos);
        // the genesis fetched over TLS (trust on first use) when --genesis is not given
        auto [rc2, out2] = run({cli, "status", "--rpc", https(net.rpc(2)), "--ca", p.ca.cert_file()},
                               net.dir() / "cli-status-tofu.log");
        INFO(out2);
        CHECK(rc2 == 0);
        auto [rc3, out3] = run({cli, "status", "--rpc", https(net.rpc(0)), "--ca", p.stranger.cert_file(), "--genesis",
                                genesis, "--timeout-ms", "3000"},
                               net.dir() / "cli-status-wrong.log");
        INFO(out3);
        CHECK(rc3 != 0);
        CHECK(out3.find("certificate verification failed") != std::string::npos);
        // and submit --wait over TLS
        auto [rc4, out4] = run({cli, "submit", "--rpc", https(net.rpc(1)), "--ca", p.ca.cert_file(), "--genesis", genesis,
                                "--key", (net.dir() / "submitter.key").string(), "--election", "1", "--candidate", "0",
                                "--voter", "cli-tls", "--wait", "60"},
                               net.dir() / "cli-submit.log");
        INFO(out4);
        CHECK(rc4 == 0);
        CHECK(out4.find("(verified)") != std::string::npos);
    }
}

TEST_CASE("TLS validators: connections that never finish the handshake are cut at the header deadline, and real "
          "clients are served meanwhile",
          "[integration][tls]") {
    pki p;
    tls_network t(p, 1, {"--rpc-header-timeout-ms", "1000"});
    const auto port = t.net.rpc(0);
    // From 127.0.0.2: 200 connections that send nothing, or the start of a ClientHello.
    std::vector<int> attack;
    for (int i = 0; i < 200; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in src{}, dst{};
        src.sin_family = dst.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000002);
        dst.sin_addr.s_addr = htonl(0x7f000001);
        dst.sin_port = htons(port);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0);
        if (i % 2 == 1) (void)!::send(fd, "\x16\x03\x01\x02\x00\x01", 6, MSG_NOSIGNAL);
        attack.push_back(fd);
    }
    // real clients from 127.0.0.1 are served while the attack holds its share
    int ok = 0;
    for (int i = 0; i < 20; ++i) ok += tls_get(port, *p.trust, "/health").status == 200;
    CHECK(ok == 20);
    // every attacking connection is closed by the server: refused at once or cut at the deadline
    auto closed = [](int fd) {
        char buf[512];
        while (true) {
            const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0) return true;
            if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
        }
    };
    CHECK(eventually(
        [&] {
            for (int fd : attack)
                if (!closed(fd)) return false;
            return true;
        },
        60s));
    for (int fd : attack) ::close(fd);
    auto m = tls_get(port, *p.trust, "/metrics");
    REQUIRE(m.status == 200);
    auto value = [&](const std::string& line) {
        const auto at = m.body.find("\n" + line + " ");
        return at == std::string::npos ? -1.0 : std::stod(m.body.substr(at + line.size() + 2));
    };
    CHECK(value("ballotchain_rpc_header_timeouts_total") >= 64);  // the per-address share, each cut at the deadline
    CHECK(value("ballotchain_rpc_connections_refused_total{reason=\"per_address\"}") >= 100);
}

TEST_CASE("TLS backend: HTTPS API in front of https validators (--validator-ca); a vote becomes final",
          "[integration][tls][backend]") {
    pki p;
    tls_network t(p, 3);
    auto& net = t.net;
    const auto api = p.ca.issue("api", {"127.0.0.1"}, {"localhost"});
    std::vector<std::string> validators;
    for (int i = 0; i < 3; ++i) validators.push_back("validator-" + std::to_string(i + 1) + "=" + https(net.rpc(i)));
    backend b(net.dir() / "genesis.json", net.dir() / "submitter.key", validators,
              {{"--tls-cert", api.cert}, {"--tls-key", api.key}, {"--validator-ca", p.ca.cert_file()}}, p.trust);
    // curl-like: GET https://127.0.0.1:PORT/health, and by name
    auto h = tls_get(b.port(), *p.trust, "/health");
    REQUIRE(h.status == 200);
    CHECK(tls_get(b.port(), *p.trust, "/health", "localhost").status == 200);
    // plain HTTP to the TLS port: nothing
    CHECK(http_get(b.port(), "/health").status == 0);
    CHECK(tls_get(b.port(), *p.wrong, "/health").status == 0);
    // the backend reaches its validators over TLS
    const auto admin = b.admin();
    REQUIRE(eventually(
        [&] {
        auto r = b.get("/api/admin/validators/health", admin);
        if (r.status != 200) return false;
        const auto* list = r.body.is_object() ? r.obj().if_contains("validators") : nullptr;
        if (!list || !list->is_array() || list->as_array().size() != 3) return false;
        for (const auto& v : list->as_array())
            if (v.as_object().at("status") != "healthy") return false;
        return true;
        },
        60s));
    auto [election, candidates] = b.election(admin, 2);
    const auto voter = b.voter(1);
    auto v = b.vote(voter, election, candidates[1]);
    INFO(bj::serialize(v.body));
    REQUIRE(v.status == 200);
    const auto tx = v.str("transaction_id");
    REQUIRE(!tx.empty());
    CHECK(eventually([&] { return confirmed(b, tx, election); }, 60s));
    CHECK(eventually([&] { return results_total(b, election) == 1; }, 60s));
}

TEST_CASE("TLS backend: a start with one of --tls-cert/--tls-key, an unreadable file or a key of another certificate "
          "fails with a clear error",
          "[integration][tls][backend]") {
    pki p;
    const auto other = p.ca.issue("other", {"127.0.0.1"});
    const auto bin = backend_bin_dir + "/ballotchain-backend";
    const auto data = (p.dir.path() / "data").string();
    auto start = [&](std::vector<std::string> extra) {
        std::vector<std::string> argv{bin, "--data-dir", data, "--genesis", p.ca.cert_file(), "--submitter-key",
                                      p.ca.cert_file(), "--addr", "127.0.0.1:" + std::to_string(free_port())};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run(argv, p.dir.path() / "backend.log");
    };
    // the TLS options are checked before anything else reads the (here bogus) genesis
    auto [rc1, out1] = start({"--tls-cert", p.node.cert});
    CHECK(rc1 != 0);
    CHECK(out1.find("--tls-cert requires --tls-key") != std::string::npos);
    auto [rc2, out2] = start({"--tls-cert", p.node.cert, "--tls-key", other.key});
    CHECK(rc2 != 0);
    CHECK(out2.find("does not match the certificate") != std::string::npos);
    auto [rc3, out3] = start({"--tls-cert", (p.dir.path() / "missing.crt").string(), "--tls-key", p.node.key});
    CHECK(rc3 != 0);
    CHECK(out3.find("cannot read TLS certificate file") != std::string::npos);
    // the validator says the same
    auto [rc4, out4] = run({bin_dir + "/ballotchain-validator", "--data-dir", data, "--genesis", p.ca.cert_file(),
                            "--tls-key", p.node.key},
                           p.dir.path() / "validator.log");
    CHECK(rc4 != 0);
    CHECK(out4.find("--tls-key requires --tls-cert") != std::string::npos);
}

TEST_CASE("TLS bootnode: /health over HTTPS with the CA, nothing for plain HTTP; a validator registers with --bootnode-ca",
          "[integration][tls]") {
    pki p;
    network net(1, network_options{false, false, 200, true, false});
    const auto port = free_port();
    process boot({bin_dir + "/ballotchain-bootnode", "--addr", "127.0.0.1:" + std::to_string(port), "--genesis",
                  (net.dir() / "genesis.json").string(), "--tls-cert", p.node.cert, "--tls-key", p.node.key},
                 p.dir.path() / "bootnode.log");
    REQUIRE(eventually([&] { return tls_get(port, *p.trust, "/health").status == 200; }, 30s));
    CHECK(tls_get(port, *p.trust, "/health").body.find("\"status\":\"ok\"") != std::string::npos);
    CHECK(http_get(port, "/health").status == 0);
    CHECK(tls_get(port, *p.wrong, "/health").status == 0);
    // a validator registers its P2P address with the bootnode over TLS
    const auto ports = free_ports(2);
    process v({bin_dir + "/ballotchain-validator", "--config", (net.vdir(0) / "config.toml").string(), "--rpc-addr",
               "127.0.0.1:" + std::to_string(ports[0]), "--p2p-addr", "127.0.0.1:" + std::to_string(ports[1]),
               "--bootnode", https(port), "--bootnode-ca", p.ca.cert_file()},
              p.dir.path() / "validator.log");
    CHECK(eventually([&] { return tls_get(port, *p.trust, "/health").body.find("\"peers\":1") != std::string::npos; }, 60s));
}
