// One client holding hundreds of half-sent requests against the real validator's
// RPC port and the real backend (from 127.0.0.2) while legitimate clients on
// 127.0.0.1 must all be answered; the backend's connection flags; a trickled
// header closed at the header deadline.
#include "network.hpp"

#include <memory>

using namespace ballotchain;
using namespace ballotchain::itest;
using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// A raw TCP connection from `source` to 127.0.0.1:port.
class raw_conn {
public:
    raw_conn(const std::string& source, std::uint16_t port) : s_(io_) {
        s_.open(tcp::v4());
        s_.bind({asio::ip::make_address(source), 0});
        s_.connect({asio::ip::make_address("127.0.0.1"), port});
    }
    bool send(std::string_view b) {
        boost::system::error_code ec;
        s_.non_blocking(false, ec);
        asio::write(s_, asio::buffer(b.data(), b.size()), ec);
        return !ec;
    }
    /// Whether the server has closed (EOF or reset) by now, without waiting;
    /// what arrived is kept in received().
    bool closed_by_server() {
        if (closed_) return true;
        boost::system::error_code ec;
        s_.non_blocking(true, ec);
        std::array<char, 4096> buf{};
        while (true) {
            const auto n = s_.read_some(asio::buffer(buf), ec);
            got_.append(buf.data(), n);
            if (ec == asio::error::would_block || ec == asio::error::try_again) return false;
            if (ec) return closed_ = true;
        }
    }
    const std::string& received() const { return got_; }

private:
    asio::io_context io_;
    tcp::socket s_;
    std::string got_;
    bool closed_ = false;
};

/// `n` connections from 127.0.0.2, each holding a request cut off in its header.
std::vector<std::unique_ptr<raw_conn>> hold_half_sent(std::uint16_t port, int n) {
    std::vector<std::unique_ptr<raw_conn>> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(std::make_unique<raw_conn>("127.0.0.2", port));
        out.back()->send("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Le");
    }
    return out;
}

/// The value of a Prometheus sample line `name` in `text` (-1 when absent).
double metric(const std::string& text, const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + name.size() + 2));
}

/// A ballotchain-backend in front of `net`, with extra flags.
class backend_proc {
public:
    backend_proc(const network& net, const std::vector<std::string>& extra) : port_(free_port()) {
        std::ofstream(tmp_.path() / "admin.pw") << "correct horse battery staple\n";
        std::vector<std::string> argv{backend_bin_dir + "/ballotchain-backend",
                                      "--addr", "127.0.0.1:" + std::to_string(port_),
                                      "--data-dir", (tmp_.path() / "backend").string(),
                                      "--genesis", (net.dir() / "genesis.json").string(),
                                      "--submitter-key", (net.dir() / "submitter.key").string(),
                                      "--pbkdf2-iterations", "1000",
                                      "--rpc-timeout-ms", "1000"};
        for (int i = 0; i < 3; ++i) {
            argv.push_back("--validator");
            argv.push_back("validator-" + std::to_string(i + 1) + "=http://127.0.0.1:" + std::to_string(net.rpc(i)));
        }
        argv.insert(argv.end(), extra.begin(), extra.end());
        proc_ = process(argv, tmp_.path() / "backend.log");
        REQUIRE(eventually([&] { return http_get(port_, "/health").status == 200; }, 20s));
    }
    std::uint16_t port() const { return port_; }
    std::string log() const { return proc_.log_text(); }

private:
    temp_dir tmp_;
    std::uint16_t port_;
    process proc_;
};

}  // namespace

TEST_CASE("a validator's RPC answers everyone while one address holds 300 half-sent requests", "[integration]") {
    network net(3);
    REQUIRE(eventually([&] { return net.all_connected(); }, 20s));  // /health is 200 once a quorum is connected
    const auto attack = hold_half_sent(net.rpc(0), 300);
    int ok = 0;
    for (int i = 0; i < 70; ++i) {
        if (i % 2 == 0) {
            ok += http_get(net.rpc(0), "/health").status == 200;
        } else {
            auto r = http_request(net.rpc(0), http::verb::post, "/",
                                  R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]})");
            ok += r.status == 200 && r.body.find("\"result\":\"0x") != std::string::npos;
        }
    }
    CHECK(ok == 70);
    // the attacker holds its per-address share (64 by default); the rest was refused at once
    const auto m = http_get(net.rpc(0), "/metrics");
    REQUIRE(m.status == 200);
    INFO(m.body);
    CHECK(metric(m.body, "ballotchain_rpc_connections_refused_total{reason=\"per_address\"}") == 300 - 64);
    CHECK(metric(m.body, "ballotchain_rpc_connections") >= 64);
    // the chain is unaffected
    CHECK(net.health(1).has_value());
}

TEST_CASE("the backend answers everyone while one address holds 300 half-sent requests", "[integration][backend]") {
    network net(3);
    backend_proc be(net, {"--max-connections-per-address", "16", "--header-timeout-ms", "3000"});
    auto attack = hold_half_sent(be.port(), 300);
    int ok = 0;
    for (int i = 0; i < 70; ++i) {
        const auto r = http_get(be.port(), i % 2 == 0 ? "/health" : "/api/elections");
        ok += r.status == 200;
    }
    CHECK(ok == 70);
    // every attacker connection ends: refused at once, or closed at the header deadline
    CHECK(eventually([&] {
        for (auto& c : attack)
            if (!c->closed_by_server()) return false;
        return true;
    }, 60s));
    attack.clear();
    // --max-connections-per-address 16: of 20 fresh connections (sending nothing) the
    // last 4 are refused with a 503, the others closed later without an answer
    std::vector<std::unique_ptr<raw_conn>> batch;
    for (int i = 0; i < 20; ++i) batch.push_back(std::make_unique<raw_conn>("127.0.0.2", be.port()));
    REQUIRE(eventually([&] {
        for (auto& c : batch)
            if (!c->closed_by_server()) return false;
        return true;
    }, 60s));
    int refused = 0;
    for (auto& c : batch) refused += c->received().find("too many connections from this address") != std::string::npos;
    CHECK(refused == 4);
    // --header-timeout-ms: a header trickled byte by byte is closed
    raw_conn slow("127.0.0.2", be.port());
    slow.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    CHECK(eventually([&] { return !slow.send("a") || slow.closed_by_server(); }, 20s));
    CHECK(http_get(be.port(), "/health").status == 200);
}
