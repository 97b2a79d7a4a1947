// Attacks on the P2P port by someone who holds no key, against real validator processes:
// a relay between validators, and a flood of sockets that each announce a huge frame.
// The attacker connects from 127.0.0.2; the validators talk on 127.0.0.1.
#include "network.hpp"
#include "voter.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

using namespace ballotchain;
using namespace ballotchain::itest;
namespace asio = boost::asio;

namespace {

/// Resident memory of a process in KiB (VmRSS), 0 if unknown.
std::uint64_t rss_kib(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    return 0;
}

/// Relays between two validators' P2P ports, over and over: each round opens one
/// connection to each (from 127.0.0.2), passes the first bytes each sends to the other
/// (what a handshake needs), then swallows everything while holding both open.
/// Against the old handshake (each side signed the nonce the other chose) both
/// validators accepted the relay as the other, replacing the real link, and
/// finality stopped.
class relay_attacker {
public:
    relay_attacker(std::vector<std::uint16_t> ports) : ports_(std::move(ports)) {
        th_ = std::thread([this] { run(); });
    }
    ~relay_attacker() {
        stop_ = true;
        th_.join();
    }
    std::uint64_t bytes_relayed() const { return relayed_; }
    std::uint64_t rounds() const { return rounds_; }

private:
    void run() {
        // Every round adds a relay on every link and keeps the earlier ones open (each held
        // connection is what would have replaced a real session), until the attack ends.
        asio::io_context io;
        std::vector<std::shared_ptr<asio::ip::tcp::socket>> socks;
        while (!stop_) {
            for (std::size_t a = 0; a < ports_.size(); ++a)
                for (std::size_t b = a + 1; b < ports_.size(); ++b) {
                    auto x = connect(io, ports_[a]), y = connect(io, ports_[b]);
                    if (!x || !y) continue;
                    socks.push_back(x);
                    socks.push_back(y);
                    pipe(x, y);
                    pipe(y, x);
                }
            io.run_for(std::chrono::milliseconds(1000));
            ++rounds_;
        }
        boost::system::error_code ig;
        for (auto& s : socks) s->close(ig);
        io.run_for(std::chrono::milliseconds(100));
    }
    static std::shared_ptr<asio::ip::tcp::socket> connect(asio::io_context& io, std::uint16_t port) {
        auto s = std::make_shared<asio::ip::tcp::socket>(io);
        boost::system::error_code ec;
        s->open(asio::ip::tcp::v4(), ec);
        if (!ec) s->bind({asio::ip::make_address("127.0.0.2"), 0}, ec);
        if (!ec) s->connect({asio::ip::make_address("127.0.0.1"), port}, ec);
        return ec ? nullptr : s;
    }
    void pipe(std::shared_ptr<asio::ip::tcp::socket> from, std::shared_ptr<asio::ip::tcp::socket> to) {
        auto buf = std::make_shared<std::array<byte, 65536>>();
        from->async_read_some(asio::buffer(*buf), [this, from, to, buf](boost::system::error_code ec, std::size_t n) {
            if (ec) {
                boost::system::error_code ig;
                to->close(ig);
                return;
            }
            auto& sent = forwarded_[from.get()];
            const std::size_t pass = sent < handshake_bytes ? std::min(n, handshake_bytes - sent) : 0;
            sent += pass;
            relayed_ += pass;
            if (pass == 0) return pipe(from, to);  // past the handshake: swallow
            asio::async_write(*to, asio::buffer(buf->data(), pass), [this, from, to, buf](boost::system::error_code ec2, std::size_t) {
                if (!ec2) pipe(from, to);
            });
        });
    }

    static constexpr std::size_t handshake_bytes = 1024;
    std::vector<std::uint16_t> ports_;
    std::map<const void*, std::size_t> forwarded_;  ///< bytes passed on, per source socket (relay thread only)
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> relayed_{0}, rounds_{0};
    std::thread th_;
};

}  // namespace

TEST_CASE("a relay between every pair of validators is never accepted; the chain keeps finalizing",
          "[integration][attack]") {
    network net(3);
    wait_connected(net);
    voter_client vc(net.dir() / "submitter.key");
    std::vector<std::string> acked;
    std::vector<double> sessions_before;
    for (int i = 0; i < 3; ++i) sessions_before.push_back(metric(net.rpc(i), "ballotchain_p2p_sessions_total"));
    {
        relay_attacker attacker({net.p2p(0), net.p2p(1), net.p2p(2)});
        // votes keep coming while the relay works on every link, for several of its rounds
        std::uint64_t v = 0;
        while (attacker.rounds() < 15) {
            auto h = vc.send(net.rpc(static_cast<int>(v % 3)), vc.make(v));
            REQUIRE(h);
            acked.push_back(*h);
            ++v;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));  // pacing of the load, not a wait for a condition
        }
        check_all_final(net, 3, acked);
        for (int i = 0; i < 3; ++i) {
            INFO("validator " << i + 1);
            // no session was replaced: the relay never authenticated, and the real links never dropped
            CHECK(metric(net.rpc(i), "ballotchain_p2p_sessions_total") == sessions_before[static_cast<std::size_t>(i)]);
            const auto log = net.log(i);
            std::size_t connects = 0;
            for (auto at = log.find(" connected"); at != std::string::npos; at = log.find(" connected", at + 1)) {
                const auto line = log.rfind('\n', at);
                const auto begin = line == std::string::npos ? 0 : line + 1;
                if (log.substr(begin, at - begin).find("peer validator-") != std::string::npos) ++connects;
            }
            CHECK(connects == 2);  // "peer validator-K connected", once per real peer
            CHECK(net.health(i)->at("peers").to_number<int>() == 2);
            // and the validators saw the relay's connections and refused them
            CHECK(http_get(net.rpc(i), "/metrics").body.find("ballotchain_p2p_handshake_failures_total{") != std::string::npos);
        }
    }
}

TEST_CASE("hundreds of sockets announcing 64 MiB frames before authentication allocate nothing",
          "[integration][attack]") {
    network net(3);
    wait_connected(net);
    const pid_t pid = net.pid(1);
    const auto rss_before = rss_kib(pid);
    REQUIRE(rss_before > 0);
    asio::io_context io;
    std::vector<std::unique_ptr<asio::ip::tcp::socket>> held;
    // u32 length 64 MiB (the old frame bound), then silence: each connection is held open
    const std::array<byte, 4> header{0x04, 0x00, 0x00, 0x00};
    for (int i = 0; i < 300; ++i) {
        auto s = std::make_unique<asio::ip::tcp::socket>(io);
        boost::system::error_code ec;
        s->open(asio::ip::tcp::v4(), ec);
        s->bind({asio::ip::make_address("127.0.0." + std::to_string(2 + i % 40)), 0}, ec);
        s->connect({asio::ip::make_address("127.0.0.1"), net.p2p(1)}, ec);
        if (!ec) asio::write(*s, asio::buffer(header), ec);
        held.push_back(std::move(s));
    }
    // every one of them was refused (bad length) or capped
    REQUIRE(eventually([&] {
        return metric(net.rpc(1), "ballotchain_p2p_unauthenticated") == 0;
    }, std::chrono::seconds(30)));
    const auto rss_after = rss_kib(pid);
    INFO("RSS before " << rss_before << " KiB, after " << rss_after << " KiB");
    CHECK(rss_after < rss_before + 64 * 1024);  // one 64 MiB frame would already break this bound
    // and the network still finalizes
    voter_client vc(net.dir() / "submitter.key");
    auto h = vc.send(net.rpc(1), vc.make(7));
    REQUIRE(h);
    check_all_final(net, 3, {*h});
}
