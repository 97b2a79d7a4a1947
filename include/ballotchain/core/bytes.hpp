#pragma once
/// @file Byte buffers and fixed-size byte strings (hashes, keys, signatures).

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace ballotchain {

using byte = std::uint8_t;
using bytes = std::vector<byte>;
using byte_view = std::span<const byte>;

/// A byte string of exactly N bytes, compared lexicographically.
template <std::size_t N>
struct fixed_bytes {
    std::array<byte, N> data{};

    static constexpr std::size_t size() noexcept { return N; }
    constexpr const byte* begin() const noexcept { return data.data(); }
    constexpr const byte* end() const noexcept { return data.data() + N; }
    constexpr byte* begin() noexcept { return data.data(); }
    constexpr byte* end() noexcept { return data.data() + N; }
    constexpr byte_view view() const noexcept { return {data.data(), N}; }
    constexpr bool is_zero() const noexcept {
        return std::all_of(data.begin(), data.end(), [](byte b) { return b == 0; });
    }

    /// Copies exactly N bytes. @pre `v.size() == N`.
    static fixed_bytes from(byte_view v) noexcept {
        fixed_bytes r;
        std::memcpy(r.data.data(), v.data(), N);
        return r;
    }

    auto operator<=>(const fixed_bytes&) const = default;
    bool operator==(const fixed_bytes&) const = default;
};

using hash32 = fixed_bytes<32>;
using public_key = fixed_bytes<32>;
using secret_key = fixed_bytes<32>;
using signature = fixed_bytes<64>;

/// Views the characters of a string as bytes (no copy).
inline byte_view as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const byte*>(s.data()), s.size()};
}

inline bytes to_bytes(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace ballotchain

template <std::size_t N>
struct std::hash<ballotchain::fixed_bytes<N>> {
    std::size_t operator()(const ballotchain::fixed_bytes<N>& b) const noexcept {
        // Keys are hashes, tags or public keys: mix every word so that values
        // differing in any byte spread over the buckets.
        static_assert(N >= sizeof(std::size_t));
        std::size_t h = 0;
        for (std::size_t i = 0; i + sizeof(std::size_t) <= N; i += sizeof(std::size_t)) {
            std::size_t w;
            std::memcpy(&w, b.data.data() + i, sizeof w);
            h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        }
        return h;
    }
};
