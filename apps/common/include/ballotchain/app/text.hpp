#pragma once
/// @file Text helpers of the apps' HTTP APIs, with no HTTP in them: ISO-8601
/// times, strict base64, the one query-string parser (the backend's query
/// parameters, the validator's GET /blockchain?election_id=N), ASCII lower
/// case. Unit-tested in tests/unit/app/text_test.cpp.

#include <ballotchain/core/bytes.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace ballotchain::app {

/// ISO 8601 UTC with milliseconds, e.g. 2025-11-07T10:30:00.000Z.
inline std::string iso_time(std::uint64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(ms % 1000));
    return buf;
}

/// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC only; more fraction digits are
/// read and dropped) into Unix milliseconds; nullopt for anything else.
inline std::optional<std::uint64_t> parse_iso_time(std::string_view s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
    const std::string str(s.substr(0, 40));
    if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return std::nullopt;
    std::string_view rest = std::string_view(str).substr(static_cast<std::size_t>(n));
    unsigned frac = 0;
    if (!rest.empty() && rest[0] == '.') {
        rest.remove_prefix(1);
        unsigned digits = 0;
        while (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
            if (digits < 3) frac = frac * 10 + static_cast<unsigned>(rest[0] - '0');
            ++digits;
            rest.remove_prefix(1);
        }
        if (digits == 0) return std::nullopt;
        for (; digits < 3; ++digits) frac *= 10;
    }
    if (rest != "Z" || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    const std::time_t t = timegm(&tm);
    if (t < 0) return std::nullopt;
    return static_cast<std::uint64_t>(t) * 1000 + frac;
}

/// Base64 (RFC 4648, standard alphabet, with padding): what decode_base64 reads.
inline std::string encode_base64(byte_view in) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const std::size_t left = in.size() - i;
        const unsigned n = (static_cast<unsigned>(in[i]) << 16) | (left > 1 ? static_cast<unsigned>(in[i + 1]) << 8 : 0u) |
                           (left > 2 ? static_cast<unsigned>(in[i + 2]) : 0u);
        out.push_back(alphabet[(n >> 18) & 63]);
        out.push_back(alphabet[(n >> 12) & 63]);
        out.push_back(left > 1 ? alphabet[(n >> 6) & 63] : '=');
        out.push_back(left > 2 ? alphabet[n & 63] : '=');
    }
    return out;
}

/// Strict base64 (RFC 4648, standard alphabet, padding required, unused bits
/// zero) of at most `max_bytes` decoded bytes; the bound is checked before
/// allocating. nullopt for anything else.
inline std::optional<bytes> decode_base64(std::string_view s, std::size_t max_bytes) {
    if (s.size() % 4 != 0 || s.size() / 4 * 3 > max_bytes + 2) return std::nullopt;
    auto val = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    bytes out;
    out.reserve(s.size() / 4 * 3);
    for (std::size_t i = 0; i < s.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s[i + static_cast<std::size_t>(k)];
            if (c == '=' && i + 4 == s.size() && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad) return std::nullopt;  // data after padding
            v[k] = val(c);
            if (v[k] < 0) return std::nullopt;
        }
        const unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                           (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
        out.push_back(static_cast<byte>(n >> 16));
        if (pad < 2) out.push_back(static_cast<byte>(n >> 8));
        if (pad < 1) out.push_back(static_cast<byte>(n));
        // canonical: the bits dropped by padding must be zero
        if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xf))) return std::nullopt;
    }
    if (out.size() > max_bytes) return std::nullopt;
    return out;
}

/// What query_param makes of a bare `key` (no '=').
enum class bare_key : std::uint8_t {
    empty_value,  ///< it is `key` with the value "" (and the first occurrence wins)
    ignored,      ///< it is no occurrence of `key`: the search goes on
};

/// The value of `key` in a query string "a=1&b=2": the value of its first
/// occurrence, or nullopt when absent. A bare "key" counts as `bare` says.
/// Keys are compared exactly (case and all); empty items ("a=1&&b=2") are
/// skipped; the value is everything after the first '='. No percent-decoding:
/// the APIs' parameters are numbers and hex.
inline std::optional<std::string> query_param(std::string_view query, std::string_view key,
                                              bare_key bare = bare_key::empty_value) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto part = query.substr(0, amp);
        const auto eq = part.find('=');
        if (part.substr(0, eq) == key) {
            if (eq != std::string_view::npos) return std::string(part.substr(eq + 1));
            if (bare == bare_key::empty_value) return std::string();
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

/// The same text in ASCII lower case.
inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace ballotchain::app
