#pragma once
/// @file The ristretto255 group (RFC 9496) over libsodium: points as their
/// canonical 32-byte encodings, scalars modulo the group order ℓ as 32 bytes
/// little-endian. What the secret-ballot primitives (elgamal.hpp) are built on.
///
/// Points from outside are decoded with `point::decode`, which refuses every
/// non-canonical encoding (RFC 9496 §4.3.1); arithmetic results are always
/// canonical. The identity is a valid point (all-zero encoding): libsodium's
/// scalar multiplications report an identity result as an error, which the
/// wrappers here turn back into the identity.

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/crypto/noise.hpp>

#include <sodium.h>

#include <array>
#include <cstdint>
#include <optional>

namespace ballotchain::ristretto {

static_assert(crypto_core_ristretto255_BYTES == 32 && crypto_core_ristretto255_SCALARBYTES == 32 &&
              crypto_core_ristretto255_NONREDUCEDSCALARBYTES == 64);

/// An element of Z/ℓ (ℓ = 2^252 + 27742317777372353535851937790883648493), 32 bytes little-endian, reduced.
struct scalar {
    std::array<byte, 32> b{};

    static scalar zero() noexcept { return {}; }
    static scalar from_u64(std::uint64_t v) noexcept {
        scalar s;
        for (int i = 0; i < 8; ++i) s.b[static_cast<std::size_t>(i)] = static_cast<byte>(v >> (8 * i));
        return s;
    }
    /// A uniformly random scalar (libsodium's randombytes).
    static scalar random() {
        noise::ensure_sodium();
        scalar s;
        crypto_core_ristretto255_scalar_random(s.b.data());
        return s;
    }
    /// 64 bytes reduced modulo ℓ (a hash output: uniform up to a negligible bias).
    static scalar reduce(const std::array<byte, 64>& wide) noexcept {
        scalar s;
        std::array<byte, 64> copy = wide;  // libsodium's reduce takes a non-const input
        crypto_core_ristretto255_scalar_reduce(s.b.data(), copy.data());
        return s;
    }
    /// 32 bytes that must already be reduced (a scalar read from a message); nullopt otherwise.
    static std::optional<scalar> decode(byte_view in) noexcept {
        if (in.size() != 32) return std::nullopt;
        std::array<byte, 64> wide{};
        std::copy(in.begin(), in.end(), wide.begin());
        scalar s = reduce(wide);
        if (!std::equal(s.b.begin(), s.b.end(), in.begin())) return std::nullopt;  // not canonical
        return s;
    }

    bool is_zero() const noexcept { return sodium_is_zero(b.data(), b.size()) == 1; }

    friend scalar operator+(const scalar& x, const scalar& y) noexcept {
        scalar r;
        crypto_core_ristretto255_scalar_add(r.b.data(), x.b.data(), y.b.data());
        return r;
    }
    friend scalar operator-(const scalar& x, const scalar& y) noexcept {
        scalar r;
        crypto_core_ristretto255_scalar_sub(r.b.data(), x.b.data(), y.b.data());
        return r;
    }
    friend scalar operator*(const scalar& x, const scalar& y) noexcept {
        scalar r;
        crypto_core_ristretto255_scalar_mul(r.b.data(), x.b.data(), y.b.data());
        return r;
    }
    scalar operator-() const noexcept {
        scalar r;
        crypto_core_ristretto255_scalar_negate(r.b.data(), b.data());
        return r;
    }
    /// The inverse; nullopt for zero.
    std::optional<scalar> inverse() const noexcept {
        scalar r;
        if (crypto_core_ristretto255_scalar_invert(r.b.data(), b.data()) != 0) return std::nullopt;
        return r;
    }
    bool operator==(const scalar& o) const noexcept { return sodium_memcmp(b.data(), o.b.data(), b.size()) == 0; }
};

/// A group element, held as its canonical encoding.
struct point {
    std::array<byte, 32> b{};  ///< all zero: the identity

    static point identity() noexcept { return {}; }
    /// The generator B (RFC 9496 §4.4).
    static const point& generator() {
        static const point g = base_mul(scalar::from_u64(1));
        return g;
    }
    /// A canonical encoding of a group element (RFC 9496 §4.3.1); nullopt otherwise.
    static std::optional<point> decode(byte_view in) {
        noise::ensure_sodium();
        if (in.size() != 32 || crypto_core_ristretto255_is_valid_point(in.data()) != 1) return std::nullopt;
        point p;
        std::copy(in.begin(), in.end(), p.b.begin());
        return p;
    }
    /// s·B.
    static point base_mul(const scalar& s) {
        noise::ensure_sodium();
        point p;
        if (crypto_scalarmult_ristretto255_base(p.b.data(), s.b.data()) != 0) return identity();  // s = 0
        return p;
    }
    /// A point nobody knows the discrete log of: SHA-512(domain ‖ label) mapped by RFC 9496
    /// §4.3.4 (used for independent generators).
    static point from_hash(std::string_view domain, std::string_view label) {
        noise::ensure_sodium();
        std::array<byte, 64> h{};
        crypto_hash_sha512_state st;
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, reinterpret_cast<const unsigned char*>(domain.data()), domain.size());
        crypto_hash_sha512_update(&st, reinterpret_cast<const unsigned char*>(label.data()), label.size());
        crypto_hash_sha512_final(&st, h.data());
        point p;
        crypto_core_ristretto255_from_hash(p.b.data(), h.data());
        return p;
    }

    bool is_identity() const noexcept { return sodium_is_zero(b.data(), b.size()) == 1; }
    byte_view view() const noexcept { return byte_view(b.data(), b.size()); }

    /// s·P.
    point mul(const scalar& s) const {
        noise::ensure_sodium();
        point r;
        if (crypto_scalarmult_ristretto255(r.b.data(), s.b.data(), b.data()) != 0) return identity();
        return r;
    }
    friend point operator+(const point& x, const point& y) {
        point r;
        if (crypto_core_ristretto255_add(r.b.data(), x.b.data(), y.b.data()) != 0) return identity();
        return r;
    }
    friend point operator-(const point& x, const point& y) {
        point r;
        if (crypto_core_ristretto255_sub(r.b.data(), x.b.data(), y.b.data()) != 0) return identity();
        return r;
    }
    bool operator==(const point& o) const noexcept { return sodium_memcmp(b.data(), o.b.data(), b.size()) == 0; }
};

}  // namespace ballotchain::ristretto
