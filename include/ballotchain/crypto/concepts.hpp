#pragma once
/// @file Crypto policies: how the chain hashes and signs.

#include <ballotchain/core/bytes.hpp>

#include <concepts>

namespace ballotchain {

/// A 32-byte cryptographic hash.
///
/// | expression            | type   | meaning                              |
/// |-----------------------|--------|--------------------------------------|
/// | `H::hash(v)`          | hash32 | digest of the bytes `v`              |
/// | `H h; h.update(v)`    |        | incremental input                    |
/// | `h.finish()`          | hash32 | digest of everything given to update |
template <class H>
concept hasher = std::default_initializable<H> && requires(H h, byte_view v) {
    { H::hash(v) } -> std::same_as<hash32>;
    h.update(v);
    { h.finish() } -> std::same_as<hash32>;
};

/// A signature scheme with 32-byte keys and 64-byte signatures.
///
/// | expression                 | type                  | meaning                                  |
/// |----------------------------|-----------------------|------------------------------------------|
/// | `S::key_pair`              | type                  | a secret key with its public key         |
/// | `S::from_secret(sk)`       | S::key_pair           | derives the public key from a secret     |
/// | `kp.public_key()`          | const public_key&     | the public half                          |
/// | `S::sign(kp, msg)`         | signature             | deterministic signature of `msg`         |
/// | `S::verify(pk, msg, sig)`  | bool                  | true iff `sig` is valid for `msg`, `pk`  |
template <class S>
concept signer = requires(const typename S::key_pair& kp, const public_key& pk, const secret_key& sk,
                          byte_view msg, const signature& sig) {
    { S::from_secret(sk) } -> std::same_as<typename S::key_pair>;
    { kp.public_key() } -> std::convertible_to<const public_key&>;
    { S::sign(kp, msg) } -> std::same_as<signature>;
    { S::verify(pk, msg, sig) } -> std::same_as<bool>;
};

}  // namespace ballotchain
