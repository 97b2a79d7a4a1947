#include <backend/throttle.hpp>

#include <catch2/catch.hpp>

// Which address per-client limits key on behind a reverse proxy or load balancer:
// X-Forwarded-For is believed only from a trusted proxy, and only as far as the
// trusted proxies go (the client can write anything to the left of them).

using namespace ballotchain::backend;

namespace {

boost::asio::ip::address ip(const char* s) { return boost::asio::ip::make_address(s); }

std::vector<trusted_proxy> proxies(std::initializer_list<const char*> specs) {
    std::vector<trusted_proxy> out;
    for (const char* s : specs) out.push_back(parse_trusted_proxy(s).value());
    return out;
}

}  // namespace

TEST_CASE("trusted proxies: ADDRESS or ADDRESS/PREFIX, IPv4 or IPv6; anything else refused", "[backend][proxy]") {
    CHECK(parse_trusted_proxy("10.0.0.1"));
    CHECK(parse_trusted_proxy("10.0.0.0/8")->prefix == 8);
    CHECK(parse_trusted_proxy("10.0.0.1")->prefix == 32);
    CHECK(parse_trusted_proxy("fd00::/8")->prefix == 8);
    CHECK(parse_trusted_proxy("::1")->prefix == 128);
    for (const char* bad : {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "::/129", "proxy.example", "10.0.0.0/8/1"})
        CHECK_FALSE(parse_trusted_proxy(bad));
    const auto net = parse_trusted_proxy("10.1.0.0/16").value();
    CHECK(net.contains(ip("10.1.255.3")));
    CHECK_FALSE(net.contains(ip("10.2.0.1")));
    CHECK(net.contains(ip("::ffff:10.1.0.9")));  // IPv4-mapped counts as IPv4
    CHECK_FALSE(net.contains(ip("fd00::1")));
}

TEST_CASE("trusted proxies: the client is the right-most forwarded address that is not a trusted proxy",
          "[backend][proxy]") {
    const auto lb = proxies({"10.0.0.0/24", "fd00::/8"});
    // No trusted proxy configured, or a request straight from a client: the header is ignored.
    CHECK(client_address(ip("10.0.0.5"), "198.51.100.7", {}) == ip("10.0.0.5"));
    CHECK(client_address(ip("203.0.113.9"), "198.51.100.7", lb) == ip("203.0.113.9"));
    // From the load balancer: the address it appended.
    CHECK(client_address(ip("10.0.0.5"), "198.51.100.7", lb) == ip("198.51.100.7"));
    // The client forged addresses to the left: not believed.
    CHECK(client_address(ip("10.0.0.5"), "1.2.3.4, 5.6.7.8,198.51.100.7", lb) == ip("198.51.100.7"));
    // Two trusted hops (an edge proxy, then the load balancer): skipped.
    CHECK(client_address(ip("10.0.0.5"), "198.51.100.7, 10.0.0.9", lb) == ip("198.51.100.7"));
    CHECK(client_address(ip("fd00::2"), "2001:db8::1", lb) == ip("2001:db8::1"));
    // Nothing usable: the proxy itself is the client (never a forged address).
    CHECK(client_address(ip("10.0.0.5"), "", lb) == ip("10.0.0.5"));
    CHECK(client_address(ip("10.0.0.5"), "10.0.0.7", lb) == ip("10.0.0.5"));
    CHECK(client_address(ip("10.0.0.5"), "1.2.3.4, not-an-address", lb) == ip("10.0.0.5"));
    CHECK(client_address(ip("10.0.0.5"), "1.2.3.4, 198.51.100.7:4711", lb) == ip("10.0.0.5"));
}
