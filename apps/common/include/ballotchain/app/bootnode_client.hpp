#pragma once
/// @file The validator side of bootnode discovery: every 10 s, register our P2P
/// address and read the others'. Runs its blocking HTTP calls on its own thread
/// and hands results to the io_context thread; a bootnode that is down only
/// means no new addresses (static peers keep working). An https:// bootnode is
/// reached over TLS, its certificate checked against a CA file or the system's store.

#include <ballotchain/app/bootnode_proto.hpp>
#include <ballotchain/client/http_client.hpp>

#include <ballotchain/core/clock.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/net/tcp_transport.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace ballotchain::app {

namespace http = boost::beast::http;
using client::http_reply;
using client::http_request;
using client::parse_http_url;

class bootnode_client {
public:
    using transport_t = net::tcp_transport<ed25519_sha256>;

    static parsed<std::unique_ptr<bootnode_client>> create(boost::asio::io_context& io, const std::string& url,
                                                            const genesis_config& g, const ed25519::key_pair& kp,
                                                            std::uint32_t index, std::string advertise,
                                                            std::shared_ptr<transport_t> net, const std::string& ca_file = {}) {
        auto c = std::unique_ptr<bootnode_client>(new bootnode_client(io, g, kp, index, std::move(advertise), std::move(net)));
        const auto u = client::parse_url(url);
        if (!u) return bad("expected http://host:port or https://host:port");
        c->host_ = u->host;
        c->port_ = u->port;
        if (u->tls) {
            auto ctx = rpc::make_client_tls_context(ca_file);
            if (!ctx) return bad(ctx.error());
            c->tls_ = *ctx;
        } else if (!ca_file.empty()) {
            return bad("a CA file is for an https:// bootnode");
        }
        return c;
    }

    ~bootnode_client() { stop(); }

    void start() {
        th_ = std::thread([this] { loop(); });
    }
    void stop() {
        {
            std::lock_guard lk(m_);
            stop_ = true;
        }
        cv_.notify_all();
        if (th_.joinable()) th_.join();
    }

private:
    bootnode_client(boost::asio::io_context& io, const genesis_config& g, const ed25519::key_pair& kp, std::uint32_t index,
                    std::string advertise, std::shared_ptr<transport_t> net)
        : io_(io), g_(g), kp_(kp), index_(index), advertise_(std::move(advertise)), net_(std::move(net)) {}

    void loop() {
        bool warned = false;
        while (true) {
            const bool ok = round();
            if (!ok && !warned) spdlog::warn("bootnode {}:{} unreachable; relying on static peers", host_, port_);
            if (ok && warned) spdlog::info("bootnode {}:{} reachable again", host_, port_);
            warned = !ok;
            std::unique_lock lk(m_);
            if (cv_.wait_for(lk, std::chrono::seconds(ok ? 10 : 3), [this] { return stop_; })) return;
        }
    }

    /// Logs a refusal from the bootnode once (until it changes), with the bootnode's reason.
    void refused(const char* what, const http_reply& r) {
        std::string why = "HTTP " + std::to_string(r.status);
        boost::system::error_code ec;
        auto v = boost::json::parse(r.body, ec);
        if (!ec && v.is_object())
            if (const auto* d = v.as_object().if_contains("detail"); d && d->is_string())
                why += ": " + std::string(d->as_string());
        if (why == last_refusal_) return;
        last_refusal_ = why;
        spdlog::warn("bootnode {}:{} refused {} ({})", host_, port_, what, why);
    }

    /// One registration and one read of the peer list. Returns false when the bootnode did not
    /// answer; a refusal (e.g. 403 when the bootnode serves another genesis, 429) is logged, and
    /// the peer list is still read after a refused registration.
    bool round() {
        registration r;
        r.chain_id = g_.chain_id;
        r.index = index_;
        r.p2p = advertise_;
        r.timestamp_ms = steady_clock_adapter{}.wall_ms();
        sign_registration(r, kp_);
        const auto timeout = std::chrono::milliseconds(3000);
        auto reg = http_request(host_, port_, http::verb::post, "/register", boost::json::serialize(to_json(r)), timeout, {},
                                {}, tls_.get());
        if (reg.status == 0) {
            if (!reg.body.empty() && reg.body != last_refusal_) {  // a TLS failure: say why once
                spdlog::warn("bootnode {}:{}: {}", host_, port_, reg.body);
                last_refusal_ = reg.body;
            }
            return false;
        }
        if (reg.status != 200) refused("our registration", reg);
        auto peers = http_request(host_, port_, http::verb::get, "/peers?chain_id=" + std::to_string(g_.chain_id), "", timeout,
                                  {}, {}, tls_.get());
        if (peers.status == 0) return false;
        if (peers.status != 200) {
            refused("the peer list", peers);
            return true;
        }
        if (reg.status == 200) last_refusal_.clear();
        boost::system::error_code ec;
        auto v = boost::json::parse(peers.body, ec);
        if (ec || !v.is_object() || !v.as_object().contains("peers") || !v.as_object().at("peers").is_array()) return true;
        std::vector<std::pair<std::uint32_t, net::peer_address>> found;
        for (const auto& e : v.as_object().at("peers").as_array()) {
            if (!e.is_object()) continue;
            const auto& o = e.as_object();
            const auto* idx = o.if_contains("index");
            const auto* pk = o.if_contains("public_key");
            const auto* p2p = o.if_contains("p2p");
            if (!idx || !pk || !p2p || !pk->is_string() || !p2p->is_string()) continue;
            boost::system::error_code nec;
            const auto i = idx->to_number<std::uint32_t>(nec);
            if (nec || i >= g_.n() || i == index_) continue;
            auto key = from_hex_fixed<32>(std::string_view(pk->as_string()));
            if (!key || g_.validators[i].key != *key) continue;  // only genesis validators, at their own index
            const std::string_view a = p2p->as_string();
            const auto colon = a.rfind(':');
            if (colon == std::string_view::npos) continue;
            auto port = parse_port(a.substr(colon + 1));
            if (!port) continue;
            found.emplace_back(i, net::peer_address{std::string(a.substr(0, colon)), *port});
        }
        boost::asio::post(io_, [net = net_, found = std::move(found)] {
            for (const auto& [i, addr] : found) net->set_peer(i, addr);
        });
        return true;
    }

    boost::asio::io_context& io_;
    genesis_config g_;
    ed25519::key_pair kp_;
    std::uint32_t index_;
    std::string advertise_;
    std::shared_ptr<transport_t> net_;
    std::string host_;
    std::uint16_t port_ = 0;
    std::shared_ptr<boost::asio::ssl::context> tls_;  ///< for an https bootnode
    std::thread th_;
    std::mutex m_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::string last_refusal_;  ///< only the loop thread touches it
};

}  // namespace ballotchain::app
