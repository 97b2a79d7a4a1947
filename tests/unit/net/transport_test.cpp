// Handshake and TCP transport: real sockets on 127.0.0.1, real Ed25519 keys.
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/sha256.hpp>
#include <ballotchain/net/tcp_transport.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace ballotchain;
using transport = net::tcp_transport<sha256, ed25519>;
namespace asio = boost::asio;

namespace {

ed25519::key_pair key(int i) {
    secret_key sk;
    sk.data[0] = static_cast<byte>(i + 1);
    sk.data[31] = 0x42;
    return ed25519::from_secret(sk);
}

genesis_config make_genesis(int n, std::uint64_t chain_id = 1337) {
    genesis_config g;
    g.chain_id = chain_id;
    for (int i = 0; i < n; ++i) g.validators.push_back({"validator-" + std::to_string(i + 1), key(i).public_key()});
    g.submitters.push_back(key(99).public_key());
    return g;
}

/// n transports on ephemeral ports, frames received recorded per node.
struct mesh {
    asio::io_context io;
    genesis_config g;
    std::vector<std::shared_ptr<transport>> t;
    std::map<int, std::vector<std::pair<std::uint32_t, bytes>>> got;

    explicit mesh(int n, net::transport_options o = {}) : g(make_genesis(n)) {
        for (int i = 0; i < n; ++i) add(i, o);
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j)
                if (i != j) t[static_cast<std::size_t>(i)]->set_peer(static_cast<std::uint32_t>(j), {"127.0.0.1", t[static_cast<std::size_t>(j)]->port()});
    }
    void add(int i, net::transport_options o) {
        auto tr = transport::create(io, g, key(i), static_cast<std::uint32_t>(i), o);
        REQUIRE_FALSE(tr->listen({asio::ip::make_address("127.0.0.1"), 0}));
        tr->on_message([this, i](std::uint32_t from, bytes f) { got[i].emplace_back(from, std::move(f)); });
        if (static_cast<std::size_t>(i) < t.size())
            t[static_cast<std::size_t>(i)] = tr;
        else
            t.push_back(tr);
    }
    /// Runs the loop until pred() or the timeout (real time: sockets).
    template <class P>
    bool run_until(P pred, int ms = 5000) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (!pred() && std::chrono::steady_clock::now() < deadline) {
            io.run_for(std::chrono::milliseconds(10));
            io.restart();
        }
        return pred();
    }
    bool all_connected() const {
        for (auto& x : t)
            if (x->peer_count() != t.size() - 1) return false;
        return true;
    }
    void stop() {
        for (auto& x : t) x->stop();
        io.run_for(std::chrono::milliseconds(50));
    }
};

/// A raw client socket for sending hostile bytes.
struct raw_client {
    asio::io_context io;
    asio::ip::tcp::socket s{io};
    explicit raw_client(std::uint16_t port) { s.connect({asio::ip::make_address("127.0.0.1"), port}); }
    void send_frame(const bytes& payload) {
        const auto n = static_cast<std::uint32_t>(payload.size());
        bytes hdr{static_cast<byte>(n >> 24), static_cast<byte>(n >> 16), static_cast<byte>(n >> 8), static_cast<byte>(n)};
        asio::write(s, asio::buffer(hdr));
        asio::write(s, asio::buffer(payload));
    }
    /// True when the server closed the connection (read returns EOF/error).
    bool closed_by_peer() {
        boost::system::error_code ec;
        std::array<byte, 4096> buf{};
        for (int i = 0; i < 100; ++i) {
            s.read_some(asio::buffer(buf), ec);
            if (ec) return true;
        }
        return false;
    }
};

}  // namespace

TEST_CASE("hello round-trips and strict decoding refuses truncation and trailing bytes", "[net]") {
    net::hello h{1337, sha256::hash(bytes{1}), 2, key(2).public_key(), sha256::hash(bytes{2})};
    const bytes enc = net::encode(h);
    REQUIRE(enc.size() == net::hello_size);
    auto d = net::decode_hello(enc);
    REQUIRE(d.has_value());
    CHECK(*d == h);
    for (std::size_t n = 0; n < enc.size(); ++n)
        CHECK_FALSE(net::decode_hello(byte_view(enc.data(), n)).has_value());
    bytes longer = enc;
    longer.push_back(0);
    CHECK_FALSE(net::decode_hello(longer).has_value());
    bytes wrong_tag = enc;
    wrong_tag[0] = 0x21;
    CHECK_FALSE(net::decode_hello(wrong_tag).has_value());
}

TEST_CASE("check_hello refuses other chains, unknown keys and self connections", "[net]") {
    const auto g = make_genesis(3);
    const hash32 gh = genesis_hash<sha256>(g);
    net::hello h{g.chain_id, gh, 1, key(1).public_key(), {}};
    CHECK(net::check_hello(h, g, gh, 0).value() == 1u);
    auto other = h;
    other.chain_id = 1;
    CHECK(net::check_hello(other, g, gh, 0).error() == make_error(net::errc::wrong_chain));
    other = h;
    other.genesis.data[0] ^= 1;
    CHECK(net::check_hello(other, g, gh, 0).error() == make_error(net::errc::wrong_chain));
    other = h;
    other.key = key(7).public_key();
    CHECK(net::check_hello(other, g, gh, 0).error() == make_error(net::errc::unknown_key));
    other = h;
    other.index = 5;
    CHECK(net::check_hello(other, g, gh, 0).error() == make_error(net::errc::unknown_key));
    CHECK(net::check_hello(h, g, gh, 1).error() == make_error(net::errc::self_connection));
}

TEST_CASE("an AUTH verifies only for the nonce pair it was made for", "[net]") {
    const auto g = make_genesis(3);
    const hash32 gh = genesis_hash<sha256>(g);
    const hash32 my_nonce = sha256::hash(bytes{1}), their_nonce = sha256::hash(bytes{2});
    net::hello theirs{g.chain_id, gh, 2, key(2).public_key(), their_nonce};
    const bytes auth = net::make_auth<sha256, ed25519>(key(2), gh, my_nonce, their_nonce, 2);
    CHECK_FALSE(net::check_auth<sha256, ed25519>(auth, theirs, gh, my_nonce));
    // replayed to a connection where we chose another nonce
    CHECK(net::check_auth<sha256, ed25519>(auth, theirs, gh, sha256::hash(bytes{3})) == make_error(net::errc::bad_auth));
    // signed by someone else
    const bytes forged = net::make_auth<sha256, ed25519>(key(1), gh, my_nonce, their_nonce, 2);
    CHECK(net::check_auth<sha256, ed25519>(forged, theirs, gh, my_nonce) == make_error(net::errc::bad_auth));
    CHECK(net::check_auth<sha256, ed25519>(byte_view(auth.data(), 10), theirs, gh, my_nonce) ==
          make_error(net::errc::bad_auth));
}

TEST_CASE("three transports connect, authenticate and deliver frames to the right peer", "[net]") {
    mesh m(3);
    REQUIRE(m.run_until([&] { return m.all_connected(); }));
    m.t[0]->broadcast(std::make_shared<const bytes>(bytes{1, 2, 3}));
    m.t[2]->send(1, std::make_shared<const bytes>(bytes{9}));
    REQUIRE(m.run_until([&] { return m.got[1].size() == 2 && m.got[2].size() == 1; }));
    CHECK(m.got[2][0] == std::make_pair(0u, bytes{1, 2, 3}));
    bool saw0 = false, saw2 = false;
    for (auto& [from, f] : m.got[1]) {
        saw0 = saw0 || (from == 0 && f == bytes{1, 2, 3});
        saw2 = saw2 || (from == 2 && f == bytes{9});
    }
    CHECK(saw0);
    CHECK(saw2);
    CHECK(m.got[0].empty());
    m.stop();
}

TEST_CASE("an oversize frame closes that connection only; the peer reconnects", "[net]") {
    net::transport_options o;
    o.max_frame_bytes = 1024;
    o.reconnect_min = std::chrono::milliseconds(20);
    mesh m(3, o);
    REQUIRE(m.run_until([&] { return m.all_connected(); }));
    // validator 0 sends validator 1 a frame above the bound: 1 drops the link to 0
    m.t[0]->send(1, std::make_shared<const bytes>(bytes(4096, 7)));
    m.t[0]->send(2, std::make_shared<const bytes>(bytes{5}));
    REQUIRE(m.run_until([&] { return m.got[2].size() == 1; }));
    CHECK(m.got[1].empty());
    // 0 (the lower index) dials again and the link comes back
    REQUIRE(m.run_until([&] { return m.all_connected() && m.t[0]->stats().connects >= 3; }));
    m.t[0]->send(1, std::make_shared<const bytes>(bytes{6}));
    REQUIRE(m.run_until([&] { return m.got[1].size() == 1; }));
    CHECK(m.got[1][0].second == bytes{6});
    m.stop();
}

TEST_CASE("unknown keys and garbage are refused at the handshake", "[net]") {
    mesh m(2);
    REQUIRE(m.run_until([&] { return m.all_connected(); }));
    const auto port = m.t[1]->port();
    SECTION("garbage instead of HELLO") {
        raw_client c(port);
        c.send_frame(bytes(50, 0xab));
        bool closed = false;
        m.run_until([&] { return m.t[1]->stats().rejected_connections >= 1; });
        closed = c.closed_by_peer();
        CHECK(closed);
    }
    SECTION("a HELLO with a key that is not in genesis") {
        raw_client c(port);
        const auto g = make_genesis(2);
        net::hello h{g.chain_id, genesis_hash<sha256>(g), 0, key(50).public_key(), {}};
        c.send_frame(net::encode(h));
        REQUIRE(m.run_until([&] { return m.t[1]->stats().rejected_connections >= 1; }));
        CHECK(c.closed_by_peer());
    }
    SECTION("a HELLO claiming a validator's key but failing AUTH") {
        raw_client c(port);
        const auto g = make_genesis(2);
        net::hello h{g.chain_id, genesis_hash<sha256>(g), 0, key(0).public_key(), {}};
        c.send_frame(net::encode(h));
        c.send_frame(bytes(net::auth_size, 0x21));
        REQUIRE(m.run_until([&] { return m.t[1]->stats().rejected_connections >= 1; }));
        CHECK(c.closed_by_peer());
    }
    SECTION("a length prefix above the bound") {
        raw_client c(port);
        bytes hdr{0xff, 0xff, 0xff, 0xff};
        asio::write(c.s, asio::buffer(hdr));
        REQUIRE(m.run_until([&] { return m.t[1]->stats().rejected_connections >= 1; }));
        CHECK(c.closed_by_peer());
    }
    // the real link is untouched
    CHECK(m.t[0]->connected(1));
    CHECK(m.t[1]->connected(0));
    m.stop();
}

TEST_CASE("a restarted peer is dialled again and the link resumes", "[net]") {
    net::transport_options o;
    o.reconnect_min = std::chrono::milliseconds(20);
    o.reconnect_max = std::chrono::milliseconds(100);
    mesh m(2, o);
    REQUIRE(m.run_until([&] { return m.all_connected(); }));
    const auto port1 = m.t[1]->port();
    m.t[1]->stop();
    REQUIRE(m.run_until([&] { return !m.t[0]->connected(1); }));
    // validator 1 comes back on the same port
    auto tr = transport::create(m.io, m.g, key(1), 1, o);
    REQUIRE_FALSE(tr->listen({asio::ip::make_address("127.0.0.1"), port1}));
    tr->on_message([&](std::uint32_t from, bytes f) { m.got[1].emplace_back(from, std::move(f)); });
    m.t[1] = tr;
    REQUIRE(m.run_until([&] { return m.t[0]->connected(1) && tr->connected(0); }));
    m.t[0]->send(1, std::make_shared<const bytes>(bytes{42}));
    REQUIRE(m.run_until([&] { return !m.got[1].empty(); }));
    CHECK(m.got[1].back().second == bytes{42});
    m.stop();
}
