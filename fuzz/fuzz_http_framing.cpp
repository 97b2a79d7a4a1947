// Fuzz target: what rpc/http_server.hpp adds on top of Beast's request parser.
//  First byte below 0x80: the rest is the start of a request as a client sends it. Beast
//  parses the header with the server's bounds; rpc::detail::framing_error decides whether the
//  body's framing is acceptable (RFC 9112 §6). Properties: without Transfer-Encoding nothing is
//  refused; a refusal is 400 or 501 with a reason; a request with Transfer-Encoding is accepted
//  exactly when an independent reading of the rule says so (only HTTP/1.1, no
//  Content-Length, the codings being exactly one `chunked`), and then Beast frames its body as
//  chunked, so a proxy and this server cannot disagree on where the request ends. The body is
//  then parsed within the bound.
//  First byte 0x80 and above: rpc::client_key on addresses from the input (kind byte, then 16
//  bytes, then 16 more for a second address). Properties: IPv4 stays as it is, IPv4-mapped IPv6
//  becomes its IPv4 address, other IPv6 keeps its /64 and zeroes the rest; the key is its own
//  key and survives to_string (limiters key on the string); two addresses share a key exactly
//  when they are the same IPv4 address or in the same IPv6 /64.
#include "structured.hpp"

#include <ballotchain/rpc/http_server.hpp>

#include <cstdlib>

namespace {
using namespace ballotchain;
namespace http = rpc::http;
namespace ip = boost::asio::ip;

bool ascii_iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lo = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lo(a[i]) != lo(b[i])) return false;
    }
    return true;
}

/// The rule of docs/api.md, read independently: the status a header with Transfer-Encoding
/// gets (0 = accepted).
unsigned expected_status(const http::request_header<>& h) {
    std::vector<std::string> items;
    for (const auto& f : h) {
        if (f.name() != http::field::transfer_encoding) continue;
        std::string cur;
        const std::string v(f.value());
        for (std::size_t i = 0; i <= v.size(); ++i) {
            if (i == v.size() || v[i] == ',') {
                const auto b = cur.find_first_not_of(" \t");
                const auto e = cur.find_last_not_of(" \t");
                if (b != std::string::npos) items.push_back(cur.substr(b, e - b + 1));
                cur.clear();
            } else {
                cur += v[i];
            }
        }
    }
    if (h.find(http::field::content_length) != h.end()) return 400;
    if (h.version() != 11) return 400;
    if (items.empty() || !ascii_iequal(items.back(), "chunked")) return 400;
    if (items.size() != 1) return 501;
    return 0;
}

void framing(std::string_view raw) {
    const rpc::http_server_options o;
    http::request_parser<http::string_body> p;
    p.header_limit(o.header_limit);
    p.body_limit(o.body_limit);
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (!p.is_header_done()) {
        const std::size_t n = p.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
        used += n;
        if (ec || n == 0) return;  // Beast refuses it (the server answers 400/413/431) or it is incomplete
    }
    const auto& h = p.get().base();
    const bool te = h.find(http::field::transfer_encoding) != h.end();
    const auto bad = rpc::detail::framing_error(h);
    if (!te && bad) std::abort();
    if (bad) {
        const auto st = bad->first;
        if ((st != http::status::bad_request && st != http::status::not_implemented) || bad->second.empty()) std::abort();
    }
    if (te) {
        const unsigned want = expected_status(h);
        if (want != (bad ? static_cast<unsigned>(bad->first) : 0u)) std::abort();
        if (!bad && !(p.chunked() && !p.content_length())) std::abort();  // accepted: Beast reads chunks
    }
    if (bad) return;
    p.eager(true);
    while (!p.is_done()) {
        const std::size_t n = p.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
        used += n;
        if (ec || n == 0) break;
    }
    if (p.get().body().size() > o.body_limit) std::abort();
}

ip::address make(std::uint8_t kind, const std::uint8_t* b) {
    switch (kind % 3) {
    case 0: return ip::address_v4({b[0], b[1], b[2], b[3]});
    case 1: {
        ip::address_v6::bytes_type v;
        std::copy(b, b + 16, v.begin());
        return ip::address_v6(v, b[15]);  // a scope id too: it must not matter
    }
    default: return ip::make_address_v6(ip::v4_mapped, ip::address_v4({b[0], b[1], b[2], b[3]}));
    }
}

/// The address itself for IPv4 (and IPv4-mapped), else the /64 prefix as 8 bytes.
std::pair<int, std::vector<std::uint8_t>> identity(const ip::address& a) {
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        return {4, {b.begin(), b.end()}};
    }
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped()) {
        const auto b = ip::make_address_v4(ip::v4_mapped, v6).to_bytes();
        return {4, {b.begin(), b.end()}};
    }
    const auto b = v6.to_bytes();
    return {6, {b.begin(), b.begin() + 8}};
}

void check_key(const ip::address& a) {
    const auto k = rpc::client_key(a);
    if (rpc::client_key(k) != k) std::abort();
    if (ip::make_address(k.to_string()) != k) std::abort();
    if (identity(k) != identity(a)) std::abort();
    if (k.is_v6()) {
        const auto b = k.to_v6().to_bytes();
        for (std::size_t i = 8; i < 16; ++i)
            if (b[i] != 0) std::abort();
        if (k.to_v6().scope_id() != 0 || k.to_v6().is_v4_mapped()) std::abort();
    }
}

void keys(ballotchain::fuzz_fixture::reader& in) {
    std::uint8_t b1[16], b2[16];
    const std::uint8_t k1 = in.u8();
    for (auto& x : b1) x = in.u8();
    const std::uint8_t k2 = in.u8();
    for (auto& x : b2) x = in.u8();
    if (k2 & 0x80) std::copy(b1, b1 + 8, b2);  // often the same /64 (or the same IPv4 address)
    const auto a1 = make(k1, b1), a2 = make(k2, b2);
    check_key(a1);
    check_key(a2);
    if ((rpc::client_key(a1) == rpc::client_key(a2)) != (identity(a1) == identity(a2))) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ballotchain::fuzz_fixture::reader in{data, size};
    const std::uint8_t mode = in.u8();
    if (mode < 0x80)
        framing(in.rest());
    else
        keys(in);
    return 0;
}
