#pragma once
/// @file Strict hex: "0x" followed by an even number of lowercase digits.
/// Anything else is an error, never undefined behaviour.

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/core/errc.hpp>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace ballotchain {

/// "0x" + lowercase hex of `v`.
inline std::string to_hex(byte_view v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 + 2 * v.size());
    s += "0x";
    for (byte b : v) {
        s += digits[b >> 4];
        s += digits[b & 0x0f];
    }
    return s;
}

template <std::size_t N>
std::string to_hex(const fixed_bytes<N>& v) {
    return to_hex(v.view());
}

/// An Ethereum JSON-RPC quantity, "0x" + 1..16 hex digits, as a number; nullopt otherwise.
inline std::optional<std::uint64_t> parse_quantity(std::string_view s) noexcept {
    if (s.size() < 3 || s.size() > 18 || s.substr(0, 2) != "0x") return std::nullopt;
    std::uint64_t out = 0;
    auto [p, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), out, 16);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return out;
}

namespace detail {
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

inline error_code decode_hex_into(std::string_view s, byte* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        int hi = hex_value(s[2 * i]);
        int lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return make_error(core::errc::hex_bad_digit);
        out[i] = static_cast<byte>((hi << 4) | lo);
    }
    return {};
}
}  // namespace detail

/// Parses strict hex of at most `max_bytes` bytes.
inline result<bytes> from_hex(std::string_view s, std::size_t max_bytes = 1u << 20) {
    if (s.size() < 2 || s[0] != '0' || s[1] != 'x') return make_error(core::errc::hex_missing_prefix);
    s.remove_prefix(2);
    if (s.size() % 2 != 0) return make_error(core::errc::hex_odd_length);
    if (s.size() / 2 > max_bytes) return make_error(core::errc::hex_too_long);
    bytes out(s.size() / 2);
    if (auto ec = detail::decode_hex_into(s, out.data(), out.size())) return ec;
    return out;
}

/// Parses strict hex of exactly N bytes.
template <std::size_t N>
result<fixed_bytes<N>> from_hex_fixed(std::string_view s) {
    if (s.size() < 2 || s[0] != '0' || s[1] != 'x') return make_error(core::errc::hex_missing_prefix);
    s.remove_prefix(2);
    if (s.size() % 2 != 0) return make_error(core::errc::hex_odd_length);
    if (s.size() != 2 * N) return make_error(core::errc::hex_wrong_length);
    fixed_bytes<N> out;
    if (auto ec = detail::decode_hex_into(s, out.data.data(), N)) return ec;
    return out;
}

}  // namespace ballotchain
