#pragma once
/// @file Variable-time ristretto255 arithmetic for *verifying* proofs: a field
/// GF(2^255 − 19) in five 51-bit limbs, edwards25519 points in extended
/// coordinates, RFC 9496 decoding and encoding, and the double-scalar
/// multiplication a·P − b·Q (Straus, width-5 NAF) that every commitment of a
/// Chaum-Pedersen or 0/1 proof is. libsodium 1.0.18 has neither a
/// multi-scalar multiplication nor a way to keep a point decoded between
/// operations, so a proof check there pays two full scalar multiplications and
/// an encode/decode per step; here one `lincomb` shares its doublings and
/// points stay decoded until their encoding is hashed.
///
/// Variable time: for public data only (proofs, ciphertexts, keys). Secrets
/// (provers' nonces, trustees' shares) stay with libsodium's constant-time
/// functions in ristretto.hpp. tests/unit/crypto/edwards25519_test.cpp checks
/// everything here against libsodium on random inputs and RFC 9496's vectors.

#include <ballotchain/crypto/ristretto.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

namespace ballotchain::edwards25519 {

namespace detail {
using u64 = std::uint64_t;
__extension__ typedef unsigned __int128 u128;
inline constexpr u64 mask51 = (u64{1} << 51) - 1;
}  // namespace detail

/// An element of GF(2^255 − 19): five limbs of 51 bits (each < 2^52 between operations).
struct fe {
    std::array<std::uint64_t, 5> v{};

    static constexpr fe zero() { return {}; }
    static constexpr fe one() { return {{1, 0, 0, 0, 0}}; }

    /// 32 bytes little-endian, the top bit ignored (not reduced: a caller that needs a canonical
    /// input compares to_bytes() with its input).
    static fe from_bytes(const std::array<byte, 32>& s) {
        auto load = [&](int i) {
            detail::u64 x = 0;
            for (int k = 7; k >= 0; --k) x = (x << 8) | s[static_cast<std::size_t>(i + k)];
            return x;
        };
        fe r;
        r.v[0] = load(0) & detail::mask51;
        r.v[1] = (load(6) >> 3) & detail::mask51;
        r.v[2] = (load(12) >> 6) & detail::mask51;
        r.v[3] = (load(19) >> 1) & detail::mask51;
        r.v[4] = (load(24) >> 12) & detail::mask51;
        return r;
    }

    /// The canonical encoding (fully reduced), 32 bytes little-endian.
    std::array<byte, 32> to_bytes() const {
        fe t = *this;
        t.carry();
        // t < 2^255 + small; subtract p when t ≥ p: q = 1 iff t + 19 ≥ 2^255.
        detail::u64 q = (t.v[0] + 19) >> 51;
        q = (t.v[1] + q) >> 51;
        q = (t.v[2] + q) >> 51;
        q = (t.v[3] + q) >> 51;
        q = (t.v[4] + q) >> 51;
        t.v[0] += 19 * q;
        for (int i = 0; i < 4; ++i) {
            t.v[i + 1] += t.v[i] >> 51;
            t.v[i] &= detail::mask51;
        }
        t.v[4] &= detail::mask51;
        std::array<byte, 32> out{};
        const detail::u64 w0 = t.v[0] | (t.v[1] << 51);
        const detail::u64 w1 = (t.v[1] >> 13) | (t.v[2] << 38);
        const detail::u64 w2 = (t.v[2] >> 26) | (t.v[3] << 25);
        const detail::u64 w3 = (t.v[3] >> 39) | (t.v[4] << 12);
        const detail::u64 w[4] = {w0, w1, w2, w3};
        for (int i = 0; i < 4; ++i)
            for (int k = 0; k < 8; ++k)
                out[static_cast<std::size_t>(8 * i + k)] = static_cast<byte>(w[i] >> (8 * k));
        return out;
    }

    bool is_negative() const { return (to_bytes()[0] & 1) != 0; }
    bool is_zero() const {
        const auto b = to_bytes();
        byte acc = 0;
        for (auto x : b) acc |= x;
        return acc == 0;
    }
    friend bool operator==(const fe& a, const fe& b) { return a.to_bytes() == b.to_bytes(); }

    /// Brings every limb below 2^51 + 2^13.
    void carry() {
        for (int i = 0; i < 4; ++i) {
            v[i + 1] += v[i] >> 51;
            v[i] &= detail::mask51;
        }
        const detail::u64 c = v[4] >> 51;
        v[4] &= detail::mask51;
        v[0] += 19 * c;
    }

    friend fe operator+(const fe& a, const fe& b) {
        fe r;
        for (int i = 0; i < 5; ++i) r.v[i] = a.v[i] + b.v[i];
        r.carry();
        return r;
    }
    friend fe operator-(const fe& a, const fe& b) {
        // a + 16p − b: no limb underflows while b's limbs are below 2^55.
        fe r;
        r.v[0] = a.v[0] + 0x7ffffffffffed0ull - b.v[0];
        for (int i = 1; i < 5; ++i) r.v[i] = a.v[i] + 0x7ffffffffffff0ull - b.v[i];
        r.carry();
        return r;
    }
    fe operator-() const { return zero() - *this; }

    friend fe operator*(const fe& a, const fe& b) {
        using detail::u128;
        const auto& x = a.v;
        const auto& y = b.v;
        const detail::u64 y1_19 = 19 * y[1], y2_19 = 19 * y[2], y3_19 = 19 * y[3], y4_19 = 19 * y[4];
        u128 c0 = u128(x[0]) * y[0] + u128(x[1]) * y4_19 + u128(x[2]) * y3_19 + u128(x[3]) * y2_19 + u128(x[4]) * y1_19;
        u128 c1 = u128(x[0]) * y[1] + u128(x[1]) * y[0] + u128(x[2]) * y4_19 + u128(x[3]) * y3_19 + u128(x[4]) * y2_19;
        u128 c2 = u128(x[0]) * y[2] + u128(x[1]) * y[1] + u128(x[2]) * y[0] + u128(x[3]) * y4_19 + u128(x[4]) * y3_19;
        u128 c3 = u128(x[0]) * y[3] + u128(x[1]) * y[2] + u128(x[2]) * y[1] + u128(x[3]) * y[0] + u128(x[4]) * y4_19;
        u128 c4 = u128(x[0]) * y[4] + u128(x[1]) * y[3] + u128(x[2]) * y[2] + u128(x[3]) * y[1] + u128(x[4]) * y[0];
        return reduce_wide(c0, c1, c2, c3, c4);
    }
    fe square() const { return *this * *this; }
    /// This to the power 2^k.
    fe pow2k(int k) const {
        fe r = *this;
        for (int i = 0; i < k; ++i) r = r.square();
        return r;
    }

    /// This^((p − 5) / 8) = this^(2^252 − 3) (ref10's addition chain).
    fe pow22523() const {
        const fe& z = *this;
        fe t0 = z.square();
        fe t1 = t0.pow2k(2);
        t1 = z * t1;               // z^9
        t0 = t0 * t1;              // z^11
        t0 = t0.square();          // z^22
        t0 = t1 * t0;              // z^(2^5 − 1)
        t1 = t0.pow2k(5);
        t0 = t1 * t0;              // 2^10 − 1
        t1 = t0.pow2k(10);
        t1 = t1 * t0;              // 2^20 − 1
        fe t2 = t1.pow2k(20);
        t1 = t2 * t1;              // 2^40 − 1
        t1 = t1.pow2k(10);
        t0 = t1 * t0;              // 2^50 − 1
        t1 = t0.pow2k(50);
        t1 = t1 * t0;              // 2^100 − 1
        t2 = t1.pow2k(100);
        t1 = t2 * t1;              // 2^200 − 1
        t1 = t1.pow2k(50);
        t0 = t1 * t0;              // 2^250 − 1
        t0 = t0.pow2k(2);          // 2^252 − 4
        return t0 * z;             // 2^252 − 3
    }

    /// |this|: the non-negative one of ±this.
    fe abs() const { return is_negative() ? -*this : *this; }

private:
    static fe reduce_wide(detail::u128 c0, detail::u128 c1, detail::u128 c2, detail::u128 c3, detail::u128 c4) {
        using detail::mask51;
        using detail::u64;
        fe r;
        c1 += static_cast<u64>(c0 >> 51);
        r.v[0] = static_cast<u64>(c0) & mask51;
        c2 += static_cast<u64>(c1 >> 51);
        r.v[1] = static_cast<u64>(c1) & mask51;
        c3 += static_cast<u64>(c2 >> 51);
        r.v[2] = static_cast<u64>(c2) & mask51;
        c4 += static_cast<u64>(c3 >> 51);
        r.v[3] = static_cast<u64>(c3) & mask51;
        const u64 carry = static_cast<u64>(c4 >> 51);
        r.v[4] = static_cast<u64>(c4) & mask51;
        r.v[0] += carry * 19;
        r.v[1] += r.v[0] >> 51;
        r.v[0] &= mask51;
        return r;
    }
};

namespace detail {
/// A field element from a decimal constant of RFC 9496 (at start-up, once).
inline fe fe_decimal(const char* s) {
    std::array<byte, 32> b{};
    for (; *s; ++s) {
        unsigned carry = static_cast<unsigned>(*s - '0');
        for (auto& x : b) {
            const unsigned v = x * 10u + carry;
            x = static_cast<byte>(v & 0xff);
            carry = v >> 8;
        }
    }
    return fe::from_bytes(b);
}
struct constants {
    fe d = fe_decimal("37095705934669439343138083508754565189542113879843219016388785533085940283555");
    fe d2 = d + d;
    fe sqrt_m1 = fe_decimal("19681161376707505956807079304988542015446066515923890162744021073123829784752");
    fe invsqrt_a_minus_d = fe_decimal("54469307008909316920995813868745141605393597292927456921205312896311721017578");
};
inline const constants& k() {
    static const constants c;
    return c;
}

/// RFC 9496 §4.2 SQRT_RATIO_M1(u, v): (was_square, the non-negative root of u/v or of i·u/v).
inline std::pair<bool, fe> sqrt_ratio_m1(const fe& u, const fe& v) {
    const fe v3 = v.square() * v;
    const fe v7 = v3.square() * v;
    fe r = (u * v3) * (u * v7).pow22523();
    const fe check = v * r.square();
    const fe neg_u = -u;
    const bool correct = check == u;
    const bool flipped = check == neg_u;
    const bool flipped_i = check == neg_u * k().sqrt_m1;
    if (flipped || flipped_i) r = r * k().sqrt_m1;
    return {correct || flipped, r.abs()};
}
}  // namespace detail

/// A point of edwards25519 in extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z.
struct ge {
    fe X, Y, Z, T;

    static ge identity() { return {fe::zero(), fe::one(), fe::one(), fe::zero()}; }

    /// RFC 9496 §4.3.1: nullopt for any non-canonical or invalid encoding.
    static std::optional<ge> decode(const std::array<byte, 32>& in) {
        const fe s = fe::from_bytes(in);
        if (s.to_bytes() != in || s.is_negative()) return std::nullopt;
        const fe ss = s.square();
        const fe u1 = fe::one() - ss;
        const fe u2 = fe::one() + ss;
        const fe u2_sqr = u2.square();
        const fe v = -(detail::k().d * u1.square()) - u2_sqr;
        const auto [was_square, invsqrt] = detail::sqrt_ratio_m1(fe::one(), v * u2_sqr);
        const fe den_x = invsqrt * u2;
        const fe den_y = invsqrt * den_x * v;
        const fe x = ((s + s) * den_x).abs();
        const fe y = u1 * den_y;
        const fe t = x * y;
        if (!was_square || t.is_negative() || y.is_zero()) return std::nullopt;
        return ge{x, y, fe::one(), t};
    }
    static std::optional<ge> decode(const ristretto::point& p) { return decode(p.b); }

    /// RFC 9496 §4.3.2: the canonical encoding.
    std::array<byte, 32> encode() const {
        const fe u1 = (Z + Y) * (Z - Y);
        const fe u2 = X * Y;
        const auto [_, invsqrt] = detail::sqrt_ratio_m1(fe::one(), u1 * u2.square());
        const fe den1 = invsqrt * u1;
        const fe den2 = invsqrt * u2;
        const fe z_inv = den1 * den2 * T;
        fe x = X, y = Y, den_inv = den2;
        if ((T * z_inv).is_negative()) {
            x = Y * detail::k().sqrt_m1;
            y = X * detail::k().sqrt_m1;
            den_inv = den1 * detail::k().invsqrt_a_minus_d;
        }
        if ((x * z_inv).is_negative()) y = -y;
        return (den_inv * (Z - y)).abs().to_bytes();
    }
    ristretto::point to_point() const { return ristretto::point{encode()}; }

    /// 2·this (dbl-2008-hwcd, a = −1).
    ge dbl() const {
        // A = X², B = Y², C = 2Z², E = (X+Y)² − A − B, G = B − A, F = G − C, H = −A − B;
        // computed here as −E, −F, −G, −H, whose pairwise products are the same.
        const fe a = X.square();
        const fe b = Y.square();
        const fe c = Z.square() + Z.square();
        const fe h = a + b;
        const fe e = h - (X + Y).square();
        const fe g = a - b;
        const fe f = c + g;
        return {e * f, g * h, f * g, e * h};
    }

    /// Cached form of a point for additions: (Y + X, Y − X, 2Z, 2d·T).
    struct cached {
        fe ypx, ymx, z2, t2d;
    };
    cached to_cached() const { return {Y + X, Y - X, Z + Z, T * detail::k().d2}; }

    /// this + q (add-2008-hwcd-3, k = 2d).
    ge add(const cached& q) const {
        const fe a = (Y - X) * q.ymx;
        const fe b = (Y + X) * q.ypx;
        const fe c = T * q.t2d;
        const fe d = Z * q.z2;
        const fe e = b - a, f = d - c, g = d + c, h = b + a;
        return {e * f, g * h, f * g, e * h};
    }
    /// this − q.
    ge sub(const cached& q) const {
        const fe a = (Y - X) * q.ypx;
        const fe b = (Y + X) * q.ymx;
        const fe c = T * q.t2d;
        const fe d = Z * q.z2;
        const fe e = b - a, f = d + c, g = d - c, h = b + a;
        return {e * f, g * h, f * g, e * h};
    }
    ge operator+(const ge& q) const { return add(q.to_cached()); }
    ge operator-(const ge& q) const { return sub(q.to_cached()); }
};

namespace detail {
/// The width-5 non-adjacent form of a 256-bit little-endian scalar: digits odd in [−15, 15] or 0,
/// at most one non-zero in any 5 consecutive. Variable time.
inline std::array<std::int8_t, 257> naf5(const std::array<byte, 32>& s) {
    std::array<std::int8_t, 257> naf{};
    std::array<u64, 5> k{};
    for (int i = 0; i < 32; ++i) k[static_cast<std::size_t>(i / 8)] |= u64{s[static_cast<std::size_t>(i)]} << (8 * (i % 8));
    auto is_zero = [&] { return (k[0] | k[1] | k[2] | k[3] | k[4]) == 0; };
    for (std::size_t i = 0; i < naf.size() && !is_zero(); ++i) {
        if (k[0] & 1) {
            int d = static_cast<int>(k[0] & 31);
            if (d >= 16) d -= 32;
            naf[i] = static_cast<std::int8_t>(d);
            if (d > 0) {  // k −= d
                u64 borrow = static_cast<u64>(d);
                for (auto& w : k) {
                    const u64 nw = w - borrow;
                    borrow = nw > w ? 1 : 0;
                    w = nw;
                    if (!borrow) break;
                }
            } else {  // k += −d
                u64 carry = static_cast<u64>(-d);
                for (auto& w : k) {
                    const u64 nw = w + carry;
                    carry = nw < w ? 1 : 0;
                    w = nw;
                    if (!carry) break;
                }
            }
        }
        for (std::size_t j = 0; j < 4; ++j) k[j] = (k[j] >> 1) | (k[j + 1] << 63);
        k[4] >>= 1;
    }
    return naf;
}

}  // namespace detail

/// P, 3P, 5P, …, 15P in cached form: what lincomb takes for each point.
using table = std::array<ge::cached, 8>;
inline table odd_multiples(const ge& p) {
    table t;
    const ge p2 = p.dbl();
    const auto p2c = p2.to_cached();
    ge acc = p;
    t[0] = acc.to_cached();
    for (std::size_t i = 1; i < 8; ++i) {
        acc = acc.add(p2c);
        t[i] = acc.to_cached();
    }
    return t;
}

/// a·P − b·Q for the tables of P and Q, sharing the doublings (Straus). Variable time: public
/// inputs only.
inline ge lincomb(const ristretto::scalar& a, const table& tp, const ristretto::scalar& b, const table& tq) {
    const auto na = detail::naf5(a.b);
    const auto nb = detail::naf5(b.b);
    int top = 256;
    while (top >= 0 && na[static_cast<std::size_t>(top)] == 0 && nb[static_cast<std::size_t>(top)] == 0) --top;
    ge r = ge::identity();
    for (int i = top; i >= 0; --i) {
        r = r.dbl();
        const int da = na[static_cast<std::size_t>(i)], db = nb[static_cast<std::size_t>(i)];
        if (da > 0) r = r.add(tp[static_cast<std::size_t>(da / 2)]);
        else if (da < 0) r = r.sub(tp[static_cast<std::size_t>(-da / 2)]);
        if (db > 0) r = r.sub(tq[static_cast<std::size_t>(db / 2)]);  // − b·Q
        else if (db < 0) r = r.add(tq[static_cast<std::size_t>(-db / 2)]);
    }
    return r;
}

inline ge lincomb(const ristretto::scalar& a, const ge& p, const ristretto::scalar& b, const ge& q) {
    return lincomb(a, odd_multiples(p), b, odd_multiples(q));
}

/// The generator B, decoded once.
inline const ge& base() {
    static const ge g = *ge::decode(ristretto::point::generator());
    return g;
}

}  // namespace ballotchain::edwards25519
