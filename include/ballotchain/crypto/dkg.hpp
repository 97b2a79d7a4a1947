#pragma once
/// @file The key ceremony of a secret-ballot election (docs/election-protocol.md,
/// "Key ceremony"): a Pedersen distributed key generation with Feldman
/// commitments among the validators as trustees, so that no party ever holds
/// the election's decryption key.
///
/// - Each trustee has a ristretto255 **trustee key** X = x·G, published once per
///   chain with a proof of knowledge (trustee_key).
/// - For an election with threshold t, trustee i deals: a random polynomial f_i
///   of degree t − 1, Feldman commitments A_ik = a_ik·G, a proof of knowledge of
///   a_i0, an ephemeral R_i = ρ_i·G, and for each other trustee j the share
///   f_i(j) masked with a scalar derived from K_ij = ρ_i·X_j (= x_j·R_i).
/// - A trustee whose share does not match the commitments complains by revealing
///   K_ij with a Chaum-Pedersen proof (log_G X_j = log_{R_i} K_ij); anyone can
///   then open the share and check it, so a complaint either disqualifies the
///   dealer or is refused.
/// - Over the qualified dealers Q: election key Y = Σ A_i0; trustee j's secret
///   share x_j = Σ f_i(j); its public share Y_j = Σ_i Σ_k A_ik·j^k (anyone computes it).
///
/// Every secret of a trustee is derived from its validator secret key, its chain
/// and the election (trustee_secrets), so a restarted validator needs no extra
/// file and cannot deal twice with different polynomials.

#include <ballotchain/crypto/elgamal.hpp>

#include <map>
#include <optional>
#include <vector>

namespace ballotchain::dkg {

using elgamal::dleq_proof;
using ristretto::point;
using ristretto::scalar;

/// Where a ceremony's proofs and masks belong.
struct ceremony_id {
    std::uint64_t chain_id = 0;
    std::uint64_t election_id = 0;
};

namespace detail {
inline elgamal::proof_context context(const ceremony_id& c, const std::array<byte, 64>& digest = {}) {
    elgamal::proof_context ctx;
    ctx.chain_id = c.chain_id;
    ctx.election_id = c.election_id;
    ctx.ballot_digest = digest;
    return ctx;  // election key: identity, voter tag: zero (the ceremony precedes the key)
}
inline scalar derive(std::string_view domain, const secret_key& seed, std::uint64_t chain, std::uint64_t election,
                     std::uint32_t index) {
    elgamal::detail::transcript t(domain);
    t.raw(seed.data.data(), seed.data.size());
    return t.u64(chain).u64(election).u32(index).challenge();
}
}  // namespace detail

/// A trustee's secrets, all derived from its validator secret key (SHA-512, domain separated).
class trustee_secrets {
public:
    explicit trustee_secrets(const secret_key& seed) : seed_(seed) {}

    /// x: the trustee key's secret (one per chain).
    scalar key(std::uint64_t chain_id) const {
        return nonzero(detail::derive("ballotchain/trustee-key-secret/v1", seed_, chain_id, 0, 0));
    }
    /// a_k of this trustee's polynomial for `election`, k < t.
    scalar coefficient(const ceremony_id& c, std::uint32_t k) const {
        return detail::derive("ballotchain/dkg-coefficient/v1", seed_, c.chain_id, c.election_id, k);
    }
    /// ρ: the dealing's ephemeral secret.
    scalar ephemeral(const ceremony_id& c) const {
        return nonzero(detail::derive("ballotchain/dkg-ephemeral/v1", seed_, c.chain_id, c.election_id, 0));
    }

private:
    static scalar nonzero(const scalar& s) { return s.is_zero() ? scalar::from_u64(1) : s; }
    secret_key seed_;
};

// ---- trustee key ------------------------------------------------------------------

/// A trustee's published key X with a proof of knowledge of x.
struct trustee_key {
    point key;
    dleq_proof pok;
    bool operator==(const trustee_key&) const = default;
};

inline constexpr std::string_view trustee_key_domain = "ballotchain/trustee-key/v1";

/// X = x·G with a proof bound to the chain and the trustee's (1-based) index.
inline trustee_key make_trustee_key(std::uint64_t chain_id, std::uint32_t trustee, const scalar& x) {
    const point key = point::base_mul(x);
    const auto ctx = detail::context({chain_id, 0});
    return {key, elgamal::detail::prove_dleq(trustee_key_domain, &ctx, trustee, point::generator(), key, key, x)};
}
inline bool verify_trustee_key(std::uint64_t chain_id, std::uint32_t trustee, const trustee_key& k) {
    if (k.key.is_identity()) return false;
    const auto ctx = detail::context({chain_id, 0});
    return elgamal::detail::verify_dleq(trustee_key_domain, &ctx, trustee, point::generator(), k.key, k.key, k.pok);
}

// ---- dealing ------------------------------------------------------------------------

/// One encrypted share: f_i(j) + mask_ij for recipient j.
struct encrypted_share {
    std::uint32_t recipient = 0;
    scalar value;
    bool operator==(const encrypted_share&) const = default;
};

/// Trustee i's dealing: commitments A_i0..A_i(t−1), proof of knowledge of a_i0, R_i, and the
/// encrypted shares in ascending recipient order (never to the dealer itself).
struct dealing {
    std::vector<point> commitments;
    dleq_proof pok;
    point ephemeral;
    std::vector<encrypted_share> shares;
    bool operator==(const dealing&) const = default;

    const encrypted_share* share_for(std::uint32_t j) const {
        for (const auto& s : shares)
            if (s.recipient == j) return &s;
        return nullptr;
    }
};

inline constexpr std::string_view dealing_domain = "ballotchain/dkg-pok/v1";

/// SHA-512 over everything a dealing commits to but its proof: t, the commitments, R and the
/// encrypted shares. The proof of knowledge hashes it, so it binds the whole dealing.
inline std::array<byte, 64> dealing_digest(const dealing& d) {
    elgamal::detail::digest h("ballotchain/dkg-dealing/v1");
    h.u32(static_cast<std::uint32_t>(d.commitments.size()));
    for (const auto& a : d.commitments) h.pt(a);
    h.pt(d.ephemeral).u32(static_cast<std::uint32_t>(d.shares.size()));
    for (const auto& s : d.shares) h.u32(s.recipient).sc(s.value);
    return h.finish();
}

/// Σ_k A_k·j^k: the commitment to f(j), i.e. f(j)·G for an honest dealing.
inline point evaluate_commitments(const std::vector<point>& commitments, std::uint32_t j) {
    point acc = point::identity();
    scalar pw = scalar::from_u64(1);
    const scalar x = scalar::from_u64(j);
    for (const auto& a : commitments) {
        acc = acc + a.mul(pw);
        pw = pw * x;
    }
    return acc;
}

/// The mask of the share from dealer i to recipient j: H(chain, election, i, j, K_ij) mod ℓ.
inline scalar share_mask(const ceremony_id& c, std::uint32_t dealer, std::uint32_t recipient, const point& k) {
    elgamal::detail::transcript t("ballotchain/dkg-share-mask/v1");
    return t.u64(c.chain_id).u64(c.election_id).u32(dealer).u32(recipient).pt(k).challenge();
}

/// f(j) = Σ a_k j^k.
inline scalar evaluate(const std::vector<scalar>& coeffs, std::uint32_t j) {
    scalar acc = scalar::zero(), pw = scalar::from_u64(1);
    const scalar x = scalar::from_u64(j);
    for (const auto& a : coeffs) {
        acc = acc + a * pw;
        pw = pw * x;
    }
    return acc;
}

/// Trustee `dealer`'s dealing for threshold t to `recipients` (index → trustee key; the
/// dealer's own entry, if present, is skipped).
/// @pre t ≥ 1
inline dealing deal(const ceremony_id& c, std::uint32_t dealer, std::uint32_t t, const trustee_secrets& secrets,
                    const std::map<std::uint32_t, point>& recipients) {
    std::vector<scalar> coeffs;
    dealing d;
    for (std::uint32_t k = 0; k < t; ++k) {
        coeffs.push_back(secrets.coefficient(c, k));
        d.commitments.push_back(point::base_mul(coeffs.back()));
    }
    const scalar rho = secrets.ephemeral(c);
    d.ephemeral = point::base_mul(rho);
    for (const auto& [j, x_j] : recipients) {
        if (j == dealer) continue;
        d.shares.push_back({j, evaluate(coeffs, j) + share_mask(c, dealer, j, x_j.mul(rho))});
    }
    const auto ctx = detail::context(c, dealing_digest(d));
    d.pok = elgamal::detail::prove_dleq(dealing_domain, &ctx, dealer, point::generator(), d.commitments[0],
                                        d.commitments[0], coeffs[0]);
    return d;
}

/// The dealing's proof of knowledge of a_i0 holds (and it has at least one commitment).
inline bool verify_dealing(const ceremony_id& c, std::uint32_t dealer, const dealing& d) {
    if (d.commitments.empty()) return false;
    const auto ctx = detail::context(c, dealing_digest(d));
    return elgamal::detail::verify_dleq(dealing_domain, &ctx, dealer, point::generator(), d.commitments[0],
                                        d.commitments[0], d.pok);
}

/// Recipient j's share f_i(j) from dealer i's dealing, opened with j's trustee secret x_j and
/// checked against the commitments; nullopt when there is none for j or it does not match.
inline std::optional<scalar> open_share(const ceremony_id& c, std::uint32_t dealer, std::uint32_t j, const scalar& x_j,
                                        const dealing& d) {
    const auto* s = d.share_for(j);
    if (!s) return std::nullopt;
    const scalar v = s->value - share_mask(c, dealer, j, d.ephemeral.mul(x_j));
    if (point::base_mul(v) != evaluate_commitments(d.commitments, j)) return std::nullopt;
    return v;
}

// ---- complaints -----------------------------------------------------------------------

/// Recipient j's complaint against dealer i: the revealed K_ij with a proof that
/// log_G(X_j) = log_{R_i}(K_ij).
struct complaint {
    std::uint32_t dealer = 0;
    point k;
    dleq_proof proof;
    bool operator==(const complaint&) const = default;
};

inline constexpr std::string_view complaint_domain = "ballotchain/dkg-complaint/v1";

inline complaint make_complaint(const ceremony_id& c, std::uint32_t dealer, const scalar& x_j, const dealing& d) {
    const point k = d.ephemeral.mul(x_j);
    const auto ctx = detail::context(c);
    return {dealer, k,
            elgamal::detail::prove_dleq(complaint_domain, &ctx, dealer, d.ephemeral, point::base_mul(x_j), k, x_j)};
}

enum class complaint_outcome {
    upheld,      ///< the revealed share does not match the commitments: the dealer is disqualified
    unfounded,   ///< the share matches: the complaint is refused
    bad_proof,   ///< the revealed K is not proven: the complaint is refused
    no_share,    ///< the dealing holds no share for the complainant: the complaint is refused
};

/// Judges recipient j's (trustee key `x_j_pub`) complaint against dealing `d` of dealer `c.dealer`.
inline complaint_outcome judge(const ceremony_id& c, std::uint32_t j, const point& x_j_pub, const dealing& d,
                               const complaint& cp) {
    const auto* s = d.share_for(j);
    if (!s) return complaint_outcome::no_share;
    const auto ctx = detail::context(c);
    if (!elgamal::detail::verify_dleq(complaint_domain, &ctx, cp.dealer, d.ephemeral, x_j_pub, cp.k, cp.proof))
        return complaint_outcome::bad_proof;
    const scalar v = s->value - share_mask(c, cp.dealer, j, cp.k);
    return point::base_mul(v) == evaluate_commitments(d.commitments, j) ? complaint_outcome::unfounded
                                                                         : complaint_outcome::upheld;
}

// ---- the key ----------------------------------------------------------------------------

/// Y = Σ A_i0 over the qualified dealings.
inline point election_key(const std::vector<const dealing*>& qualified) {
    point y = point::identity();
    for (const auto* d : qualified) y = y + d->commitments[0];
    return y;
}

/// Y_j = Σ_i Σ_k A_ik·j^k over the qualified dealings: trustee j's public share.
inline point public_share(const std::vector<const dealing*>& qualified, std::uint32_t j) {
    point y = point::identity();
    for (const auto* d : qualified) y = y + evaluate_commitments(d->commitments, j);
    return y;
}

}  // namespace ballotchain::dkg
