#pragma once
/// @file Exponential ElGamal over ristretto255 and the zero-knowledge proofs of
/// a secret ballot (issue 11, docs/election-protocol.md to come): a ballot is
/// one ciphertext per candidate, each proven to encrypt 0 or 1 (a disjunctive
/// Chaum-Pedersen proof, CDS94), and their sum proven to encrypt exactly 1.
/// Decryption shares carry a Chaum-Pedersen proof; any t shares combine by
/// Lagrange interpolation at 0; the tally is a small discrete log.
///
/// Fiat-Shamir (strong): every challenge is SHA-512, reduced modulo ℓ, over a
/// domain tag, the `proof_context` (chain id, election id, election public
/// key, voter tag, a digest of every ciphertext of the ballot) and the
/// statement's own points and commitments, so a proof cannot be moved to
/// another ballot, voter or election.

#include <ballotchain/core/bytes.hpp>
#include <ballotchain/crypto/edwards25519.hpp>
#include <ballotchain/crypto/ristretto.hpp>

#include <sodium.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ballotchain::elgamal {

using ristretto::point;
using ristretto::scalar;

/// (A, B) = (r·G, m·G + r·Y) for public key Y.
struct ciphertext {
    point a;
    point b;
    bool operator==(const ciphertext&) const = default;
    friend ciphertext operator+(const ciphertext& x, const ciphertext& y) { return {x.a + y.a, x.b + y.b}; }
};

/// Encrypts the small integer `m` under `pk` with randomness `r` (nonzero).
inline ciphertext encrypt(const point& pk, std::uint64_t m, const scalar& r) {
    return {point::base_mul(r), point::base_mul(scalar::from_u64(m)) + pk.mul(r)};
}

/// m·G for the decryption of B − x·A: what a tally's discrete log starts from.
inline point decrypt_to_point(const ciphertext& c, const scalar& x) { return c.b - c.a.mul(x); }

/// The m in [0, bound] with m·G == M (baby-step giant-step: O(√bound) time and memory), or nullopt.
inline std::optional<std::uint64_t> small_log(const point& m_point, std::uint64_t bound) {
    const std::uint64_t steps = static_cast<std::uint64_t>(std::ceil(std::sqrt(static_cast<double>(bound) + 1.0)));
    struct h {
        std::size_t operator()(const std::array<byte, 32>& k) const noexcept {
            std::size_t v = 0;
            for (std::size_t i = 0; i < sizeof v; ++i) v = (v << 8) | k[i];
            return v;
        }
    };
    std::unordered_map<std::array<byte, 32>, std::uint64_t, h> baby;
    baby.reserve(static_cast<std::size_t>(steps));
    point cur = point::identity();
    for (std::uint64_t j = 0; j < steps; ++j) {
        baby.emplace(cur.b, j);
        cur = cur + point::generator();
    }
    const point giant = point::base_mul(scalar::from_u64(steps));
    point g = m_point;
    for (std::uint64_t i = 0; i <= steps; ++i) {
        if (auto it = baby.find(g.b); it != baby.end()) {
            const std::uint64_t m = i * steps + it->second;
            if (m <= bound) return m;
            return std::nullopt;
        }
        g = g - giant;
    }
    return std::nullopt;
}

/// What every proof of one ballot is bound to.
struct proof_context {
    std::uint64_t chain_id = 0;
    std::uint64_t election_id = 0;
    point election_key;
    hash32 voter_tag;
    std::array<byte, 64> ballot_digest{};  ///< SHA-512 over every ciphertext of the ballot, in order (ballot_digest())
};

/// SHA-512 over the ballot's ciphertexts (A ‖ B of each, in candidate order).
inline std::array<byte, 64> ballot_digest(const std::vector<ciphertext>& cs) {
    noise::ensure_sodium();
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    const std::string_view dom = "ballotchain/ballot-digest/v1";
    crypto_hash_sha512_update(&st, reinterpret_cast<const unsigned char*>(dom.data()), dom.size());
    for (const auto& c : cs) {
        crypto_hash_sha512_update(&st, c.a.b.data(), 32);
        crypto_hash_sha512_update(&st, c.b.b.data(), 32);
    }
    std::array<byte, 64> out{};
    crypto_hash_sha512_final(&st, out.data());
    return out;
}

namespace detail {
/// The Fiat-Shamir hash: SHA-512(domain ‖ u32 len(domain) ‖ context ‖ u32 index ‖ points…) mod ℓ.
class transcript {
public:
    explicit transcript(std::string_view domain) {
        noise::ensure_sodium();
        crypto_hash_sha512_init(&st_);
        u32(static_cast<std::uint32_t>(domain.size()));
        bytes_(reinterpret_cast<const byte*>(domain.data()), domain.size());
    }
    transcript& context(const proof_context& c) {
        u64(c.chain_id);
        u64(c.election_id);
        pt(c.election_key);
        bytes_(c.voter_tag.data.data(), 32);
        bytes_(c.ballot_digest.data(), 64);
        return *this;
    }
    transcript& u32(std::uint32_t v) {
        byte b[4] = {static_cast<byte>(v >> 24), static_cast<byte>(v >> 16), static_cast<byte>(v >> 8), static_cast<byte>(v)};
        return bytes_(b, 4);
    }
    transcript& u64(std::uint64_t v) {
        byte b[8];
        for (int i = 0; i < 8; ++i) b[i] = static_cast<byte>(v >> (56 - 8 * i));
        return bytes_(b, 8);
    }
    transcript& pt(const point& p) { return bytes_(p.b.data(), 32); }
    transcript& sc(const scalar& s) { return bytes_(s.b.data(), 32); }
    transcript& raw(const byte* p, std::size_t n) { return bytes_(p, n); }
    /// The 64 bytes of SHA-512 over everything added.
    std::array<byte, 64> finish() {
        std::array<byte, 64> h{};
        crypto_hash_sha512_final(&st_, h.data());
        return h;
    }
    /// finish() read as a little-endian integer, reduced modulo ℓ.
    scalar challenge() { return scalar::reduce(finish()); }

private:
    transcript& bytes_(const byte* p, std::size_t n) {
        crypto_hash_sha512_update(&st_, p, n);
        return *this;
    }
    crypto_hash_sha512_state st_;
};
/// A domain-separated SHA-512 digest in the transcript's format.
using digest = transcript;
}  // namespace detail

/// A proof that a ciphertext encrypts 0 or 1: challenges and responses of both branches.
struct zero_one_proof {
    scalar c0, c1, z0, z1;
    bool operator==(const zero_one_proof&) const = default;
};

/// The commitments of branch j recomputed from its challenge and response:
/// (z·G − c·A, z·Y − c·(B − j·G)).
inline std::pair<point, point> zero_one_commitments(const point& pk, const ciphertext& ct, std::uint64_t j, const scalar& c,
                                                    const scalar& z) {
    const point bj = j == 0 ? ct.b : ct.b - point::generator();
    return {point::base_mul(z) - ct.a.mul(c), pk.mul(z) - bj.mul(c)};
}

inline scalar zero_one_challenge(const proof_context& ctx, std::uint32_t index, const ciphertext& ct,
                                 const std::pair<point, point>& k0, const std::pair<point, point>& k1) {
    return detail::transcript("ballotchain/zero-one/v1")
        .context(ctx)
        .u32(index)
        .pt(ct.a)
        .pt(ct.b)
        .pt(k0.first)
        .pt(k0.second)
        .pt(k1.first)
        .pt(k1.second)
        .challenge();
}

/// Proves that `ct` = encrypt(pk, m, r) with m ∈ {0, 1}; `index` is the candidate's position.
/// @pre m is 0 or 1 and ct was made with r.
inline zero_one_proof prove_zero_one(const proof_context& ctx, std::uint32_t index, const ciphertext& ct, std::uint64_t m,
                                     const scalar& r) {
    const point& pk = ctx.election_key;
    const std::uint64_t other = 1 - m;
    const scalar w = scalar::random(), c_sim = scalar::random(), z_sim = scalar::random();
    const auto k_sim = zero_one_commitments(pk, ct, other, c_sim, z_sim);
    const std::pair<point, point> k_real{point::base_mul(w), pk.mul(w)};
    const scalar c = m == 0 ? zero_one_challenge(ctx, index, ct, k_real, k_sim) : zero_one_challenge(ctx, index, ct, k_sim, k_real);
    const scalar c_real = c - c_sim;
    const scalar z_real = w + c_real * r;
    return m == 0 ? zero_one_proof{c_real, c_sim, z_real, z_sim} : zero_one_proof{c_sim, c_real, z_sim, z_real};
}

namespace detail {
/// A point both ways: its encoding (what transcripts hash) and decoded, with its odd multiples
/// (what edwards25519::lincomb takes). Verification only: variable time.
struct decoded {
    point enc;
    edwards25519::ge pt;
    edwards25519::table tab;
    static std::optional<decoded> of(const point& p) {
        auto g = edwards25519::ge::decode(p);
        if (!g) return std::nullopt;
        return decoded{p, *g, edwards25519::odd_multiples(*g)};
    }
    static decoded of(const edwards25519::ge& g) { return {g.to_point(), g, edwards25519::odd_multiples(g)}; }
    static const decoded& generator() {
        static const decoded g = *of(point::generator());
        return g;
    }
};

/// The 0/1 proof check on decoded points: the commitments of both branches recomputed with one
/// double-scalar multiplication each.
inline bool verify_zero_one(const proof_context& ctx, const decoded& key, std::uint32_t index, const ciphertext& ct,
                            const decoded& a, const decoded& b, const zero_one_proof& p) {
    using edwards25519::lincomb;
    const decoded& g = decoded::generator();
    const auto b_minus_g = edwards25519::odd_multiples(b.pt - g.pt);
    const std::pair<point, point> k0{lincomb(p.z0, g.tab, p.c0, a.tab).to_point(), lincomb(p.z0, key.tab, p.c0, b.tab).to_point()};
    const std::pair<point, point> k1{lincomb(p.z1, g.tab, p.c1, a.tab).to_point(), lincomb(p.z1, key.tab, p.c1, b_minus_g).to_point()};
    return zero_one_challenge(ctx, index, ct, k0, k1) == p.c0 + p.c1;
}
}  // namespace detail

inline bool verify_zero_one(const proof_context& ctx, std::uint32_t index, const ciphertext& ct, const zero_one_proof& p) {
    const auto key = detail::decoded::of(ctx.election_key);
    const auto a = detail::decoded::of(ct.a);
    const auto b = detail::decoded::of(ct.b);
    return key && a && b && detail::verify_zero_one(ctx, *key, index, ct, *a, *b, p);
}

/// A Chaum-Pedersen proof that log_G(U) = log_V(W) (challenge, response).
struct dleq_proof {
    scalar c, z;
    bool operator==(const dleq_proof&) const = default;
};

namespace detail {
inline scalar dleq_challenge(std::string_view domain, const proof_context* ctx, std::uint32_t index, const point& v,
                             const point& u, const point& w, const point& k1, const point& k2) {
    transcript t(domain);
    if (ctx) t.context(*ctx);
    return t.u32(index).pt(v).pt(u).pt(w).pt(k1).pt(k2).challenge();
}
/// Proves U = x·G and W = x·V.
inline dleq_proof prove_dleq(std::string_view domain, const proof_context* ctx, std::uint32_t index, const point& v,
                             const point& u, const point& w, const scalar& x) {
    const scalar k = scalar::random();
    const scalar c = dleq_challenge(domain, ctx, index, v, u, w, point::base_mul(k), v.mul(k));
    return {c, k + c * x};
}
/// The Chaum-Pedersen check on decoded points: k1 = z·G − c·U, k2 = z·V − c·W, one double-scalar
/// multiplication each.
inline bool verify_dleq(std::string_view domain, const proof_context* ctx, std::uint32_t index, const decoded& v,
                        const decoded& u, const decoded& w, const dleq_proof& p) {
    const point k1 = edwards25519::lincomb(p.z, decoded::generator().tab, p.c, u.tab).to_point();
    const point k2 = edwards25519::lincomb(p.z, v.tab, p.c, w.tab).to_point();
    return dleq_challenge(domain, ctx, index, v.enc, u.enc, w.enc, k1, k2) == p.c;
}
inline bool verify_dleq(std::string_view domain, const proof_context* ctx, std::uint32_t index, const point& v,
                        const point& u, const point& w, const dleq_proof& p) {
    const auto dv = decoded::of(v), du = decoded::of(u), dw = decoded::of(w);
    return dv && du && dw && verify_dleq(domain, ctx, index, *dv, *du, *dw, p);
}
}  // namespace detail

/// Proves that the sum of a ballot's ciphertexts (A, B) encrypts exactly 1: (A, B − G) = (R·G, R·Y).
inline dleq_proof prove_sum_one(const proof_context& ctx, const ciphertext& sum, const scalar& r_sum) {
    return detail::prove_dleq("ballotchain/sum-one/v1", &ctx, 0, ctx.election_key, sum.a, sum.b - point::generator(), r_sum);
}
inline bool verify_sum_one(const proof_context& ctx, const ciphertext& sum, const dleq_proof& p) {
    return detail::verify_dleq("ballotchain/sum-one/v1", &ctx, 0, ctx.election_key, sum.a, sum.b - point::generator(), p);
}

/// A ballot: one ciphertext per candidate (candidate order), a 0/1 proof of each, the sum proof.
struct ballot {
    std::vector<ciphertext> cts;
    std::vector<zero_one_proof> proofs;
    dleq_proof sum;
};

/// Encrypts a vote for `choice` among `candidates` and proves it. `ctx` gives the chain, election,
/// key and voter tag; its ballot digest is filled in here.
/// @pre choice < candidates
inline ballot seal_ballot(proof_context ctx, std::uint32_t candidates, std::uint32_t choice) {
    ballot b;
    std::vector<scalar> rs;
    rs.reserve(candidates);
    for (std::uint32_t k = 0; k < candidates; ++k) {
        rs.push_back(scalar::random());
        b.cts.push_back(encrypt(ctx.election_key, k == choice ? 1 : 0, rs.back()));
    }
    ctx.ballot_digest = ballot_digest(b.cts);
    ciphertext sum{point::identity(), point::identity()};
    scalar r_sum = scalar::zero();
    for (std::uint32_t k = 0; k < candidates; ++k) {
        b.proofs.push_back(prove_zero_one(ctx, k, b.cts[k], k == choice ? 1 : 0, rs[k]));
        sum = sum + b.cts[k];
        r_sum = r_sum + rs[k];
    }
    b.sum = prove_sum_one(ctx, sum, r_sum);
    return b;
}

/// True iff every 0/1 proof and the sum proof of `b` hold under `ctx` (its ballot digest is
/// recomputed from `b.cts`, whatever `ctx` holds).
inline bool verify_ballot(proof_context ctx, const ballot& b) {
    if (b.cts.empty() || b.proofs.size() != b.cts.size()) return false;
    ctx.ballot_digest = ballot_digest(b.cts);
    // Every point decoded once; the key's and the generator's multiples made once.
    const auto key = detail::decoded::of(ctx.election_key);
    if (!key) return false;
    edwards25519::ge sum_a = edwards25519::ge::identity(), sum_b = edwards25519::ge::identity();
    for (std::uint32_t k = 0; k < b.cts.size(); ++k) {
        const auto a = detail::decoded::of(b.cts[k].a);
        const auto bb = detail::decoded::of(b.cts[k].b);
        if (!a || !bb || !detail::verify_zero_one(ctx, *key, k, b.cts[k], *a, *bb, b.proofs[k])) return false;
        sum_a = sum_a + a->pt;
        sum_b = sum_b + bb->pt;
    }
    // The sum encrypts 1: (ΣA, ΣB − G) = (R·G, R·Y).
    return detail::verify_dleq("ballotchain/sum-one/v1", &ctx, 0, *key, detail::decoded::of(sum_a),
                               detail::decoded::of(sum_b - detail::decoded::generator().pt), b.sum);
}

/// A trustee's decryption share of an aggregate ciphertext: D = x_i·A, with a proof that
/// log_G(Y_i) = log_A(D) for its public share Y_i. `trustee` is the trustee's (1-based) index.
struct decryption_share {
    std::uint32_t trustee = 0;
    point d;
    dleq_proof proof;
    bool operator==(const decryption_share&) const = default;
};

inline constexpr std::string_view share_domain = "ballotchain/decryption-share/v1";

/// The context of a tally's decryption shares: the election's chain, id and key, a zero voter
/// tag, and the ballot digest of the aggregate ciphertexts (all candidates, in order).
inline proof_context tally_context(std::uint64_t chain_id, std::uint64_t election_id, const point& election_key,
                                   const std::vector<ciphertext>& aggregates) {
    proof_context ctx;
    ctx.chain_id = chain_id;
    ctx.election_id = election_id;
    ctx.election_key = election_key;
    ctx.ballot_digest = ballot_digest(aggregates);
    return ctx;
}

/// Trustee `trustee`'s share of the aggregate of candidate `index` (proof index = candidate).
inline decryption_share make_share(const proof_context& ctx, std::uint32_t index, std::uint32_t trustee,
                                   const scalar& x_i, const ciphertext& aggregate) {
    const point d = aggregate.a.mul(x_i);
    const point y_i = point::base_mul(x_i);
    return {trustee, d, detail::prove_dleq(share_domain, &ctx, index, aggregate.a, y_i, d, x_i)};
}
inline bool verify_share(const proof_context& ctx, std::uint32_t index, const decryption_share& s,
                         const point& public_share, const ciphertext& aggregate) {
    return detail::verify_dleq(share_domain, &ctx, index, aggregate.a, public_share, s.d, s.proof);
}

/// The Lagrange coefficient at 0 of trustee `i` among the (distinct, 1-based) `set`.
inline scalar lagrange_at_zero(std::uint32_t i, const std::vector<std::uint32_t>& set) {
    scalar num = scalar::from_u64(1), den = scalar::from_u64(1);
    for (std::uint32_t j : set) {
        if (j == i) continue;
        num = num * scalar::from_u64(j);
        den = den * (scalar::from_u64(j) - scalar::from_u64(i));
    }
    return num * den.inverse().value();
}

/// m·G from an aggregate and any t verified shares (distinct trustees): B − Σ λ_i·D_i.
inline point combine_shares(const ciphertext& aggregate, const std::vector<decryption_share>& shares) {
    std::vector<std::uint32_t> set;
    for (const auto& s : shares) set.push_back(s.trustee);
    point d = point::identity();
    for (const auto& s : shares) d = d + s.d.mul(lagrange_at_zero(s.trustee, set));
    return aggregate.b - d;
}

/// Shamir shares of `secret` for trustees 1..n with threshold t (a polynomial of degree t − 1
/// with random coefficients): share i = f(i). For tests and a dealer; the key ceremony replaces it.
inline std::vector<scalar> shamir_split(const scalar& secret, std::uint32_t t, std::uint32_t n) {
    std::vector<scalar> coeff{secret};
    for (std::uint32_t k = 1; k < t; ++k) coeff.push_back(scalar::random());
    std::vector<scalar> out;
    for (std::uint32_t i = 1; i <= n; ++i) {
        scalar acc = scalar::zero(), x = scalar::from_u64(i), pw = scalar::from_u64(1);
        for (const auto& c : coeff) {
            acc = acc + c * pw;
            pw = pw * x;
        }
        out.push_back(acc);
    }
    return out;
}

}  // namespace ballotchain::elgamal
