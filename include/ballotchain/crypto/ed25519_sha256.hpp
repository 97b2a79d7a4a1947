#pragma once
/// @file The production crypto suite: SHA-256 hashes, Ed25519 signatures, and the
/// Ed25519 keys mapped to X25519 for the P2P link. The wire format fixes all
/// three (docs/data-format.md, docs/protocol.md §11); this is the only suite the
/// apps use.

#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/noise.hpp>
#include <ballotchain/crypto/sha256.hpp>
#include <ballotchain/crypto/suite.hpp>

namespace ballotchain {

/// SHA-256 + Ed25519 (strict verification, crypto/ed25519.hpp).
/// @par Thread safety All functions are reentrant.
struct ed25519_sha256 {
    static constexpr std::string_view name = "ed25519-sha256";
    static constexpr bool insecure = false;

    using hasher = sha256;
    using key_pair = ed25519::key_pair;

    static hash32 hash(byte_view v) { return sha256::hash(v); }
    static key_pair from_secret(const secret_key& sk) { return ed25519::from_secret(sk); }
    static key_pair generate() { return ed25519::generate(); }
    static signature sign(const key_pair& kp, byte_view msg) { return ed25519::sign(kp, msg); }
    static bool verify(const public_key& pk, byte_view msg, const signature& sig) { return ed25519::verify(pk, msg, sig); }

    /// The X25519 secret of an Ed25519 key pair: the clamped first half of SHA-512(seed).
    static link_key link_secret(const key_pair& kp) {
        noise::ensure_sodium();
        std::array<byte, 64> sk64;
        std::copy(kp.secret().begin(), kp.secret().end(), sk64.begin());
        std::copy(kp.public_key().begin(), kp.public_key().end(), sk64.begin() + 32);
        link_key x;
        crypto_sign_ed25519_sk_to_curve25519(x.data(), sk64.data());
        sodium_memzero(sk64.data(), sk64.size());
        return x;
    }

    /// The X25519 public key of an Ed25519 public key; nullopt for a key that is
    /// not a point of the prime-order subgroup (libsodium refuses those).
    static std::optional<link_key> link_public(const public_key& pk) {
        noise::ensure_sodium();
        link_key out;
        if (crypto_sign_ed25519_pk_to_curve25519(out.data(), pk.data.data()) != 0) return std::nullopt;
        return out;
    }
};
static_assert(secure_suite<ed25519_sha256>);

}  // namespace ballotchain
