#pragma once
/// @file Parsing of host:port addresses and static peer specs for the apps.

#include <ballotchain/net/tcp_transport.hpp>

#include <charconv>
#include <string>

namespace ballotchain::app {

/// A parse error message.
struct parse_error {
    std::string message;
};
inline parse_error bad(std::string m) { return {std::move(m)}; }

/// A parsed value or why it could not be parsed.
template <class T>
class parsed {
public:
    parsed(T v) : v_(std::move(v)) {}
    parsed(parse_error e) : err_(std::move(e.message)) {}
    explicit operator bool() const noexcept { return v_.has_value(); }
    T& operator*() { return *v_; }
    const T& operator*() const { return *v_; }
    T* operator->() { return &*v_; }
    const T* operator->() const { return &*v_; }
    const std::string& error() const noexcept { return err_; }

private:
    std::optional<T> v_;
    std::string err_;
};

struct host_port {
    std::string host;
    std::uint16_t port = 0;
    net::tcp::endpoint endpoint;  ///< resolved for listening (numeric hosts, or localhost)
};

inline parsed<std::uint16_t> parse_port(std::string_view s) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > 65535) return bad("bad port '" + std::string(s) + "'");
    return static_cast<std::uint16_t>(v);
}

/// "host:port" with a numeric IPv4 host or "localhost" (listen addresses).
inline parsed<host_port> parse_endpoint(std::string_view s) {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("expected host:port, got '" + std::string(s) + "'");
    host_port hp;
    hp.host = std::string(s.substr(0, colon));
    auto port = parse_port(s.substr(colon + 1));
    if (!port) return bad(port.error());
    hp.port = *port;
    boost::system::error_code ec;
    auto ip = boost::asio::ip::make_address(hp.host == "localhost" ? "127.0.0.1" : hp.host, ec);
    if (ec) return bad("host must be a numeric IP address or localhost, got '" + hp.host + "'");
    hp.endpoint = net::tcp::endpoint(ip, hp.port);
    return hp;
}

/// "INDEX@host:port", INDEX counted from 1 in genesis order. Returns the 0-based index.
inline parsed<std::pair<std::uint32_t, net::peer_address>> parse_peer(std::string_view s, std::size_t n) {
    const auto at = s.find('@');
    if (at == std::string_view::npos) return bad("expected INDEX@host:port");
    unsigned idx = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + at, idx);
    if (ec != std::errc{} || p != s.data() + at || idx == 0 || idx > n)
        return bad("validator index must be 1.." + std::to_string(n));
    const auto rest = s.substr(at + 1);
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("expected INDEX@host:port");
    auto port = parse_port(rest.substr(colon + 1));
    if (!port) return bad(port.error());
    return std::make_pair(static_cast<std::uint32_t>(idx - 1), net::peer_address{std::string(rest.substr(0, colon)), *port});
}

/// Address peers should dial: the listen address, with 0.0.0.0 replaced by 127.0.0.1.
inline std::string default_advertise(const std::string& listen, std::uint16_t bound_port) {
    auto hp = parse_endpoint(listen);
    std::string host = hp ? hp->host : "127.0.0.1";
    if (host == "0.0.0.0") host = "127.0.0.1";
    return host + ":" + std::to_string(bound_port);
}

}  // namespace ballotchain::app
