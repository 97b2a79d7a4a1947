#pragma once
/// @file The crypto-suite policy: the one template parameter that says how the
/// chain hashes, signs and verifies, and how a validator's key becomes its static
/// key on the P2P link. docs/architecture.md ("Policies") says why it is one
/// parameter and not a hasher and a signer.

#include <ballotchain/crypto/concepts.hpp>

#include <array>
#include <optional>
#include <type_traits>
#include <string_view>

namespace ballotchain {

/// An X25519 key (public, or secret scalar): the static key of a validator on
/// the P2P link (Noise XX, crypto/noise.hpp).
using link_key = std::array<byte, 32>;

/// A crypto suite. The wire format (docs/data-format.md) fixes SHA-256 and
/// Ed25519: `ed25519_sha256` (crypto/ed25519_sha256.hpp) is the only suite the
/// apps use. A suite with `insecure == true` exists for the simulator and
/// benchmarks only; nothing that talks to a network accepts one.
///
/// | expression             | type                    | meaning                                   |
/// |------------------------|-------------------------|-------------------------------------------|
/// | `S::name`              | std::string_view        | e.g. "ed25519-sha256" (logs, benchmark tables) |
/// | `S::insecure`          | bool (constant)         | true for a stand-in whose signatures anyone can forge |
/// | `typename S::hasher`   | a `hasher`              | incremental hashing (Merkle tree)         |
/// | `S::hash(v)`           | hash32                  | digest of `v` (tx, header, genesis hashes) |
/// | `typename S::key_pair` | type                    | a secret key with its public key          |
/// | `S::from_secret(sk)`   | S::key_pair             | derives the public key from a secret      |
/// | `kp.public_key()`      | const public_key&       | the public half                           |
/// | `S::sign(kp, msg)`     | signature               | deterministic signature of `msg`          |
/// | `S::verify(pk, m, sig)`| bool                    | true iff `sig` is valid for `m` and `pk`  |
/// | `S::link_secret(kp)`   | link_key                | the X25519 secret of `kp` on the P2P link |
/// | `S::link_public(pk)`   | std::optional<link_key> | the X25519 public key of `pk` (nullopt: `pk` cannot be a link key); equals the public key of `link_secret(kp)` when `pk == kp.public_key()` |
template <class S>
concept suite = signer<S> && hasher<typename S::hasher> &&
                requires(const typename S::key_pair& kp, const public_key& pk, byte_view v) {
                    { S::name } -> std::convertible_to<std::string_view>;
                    typename std::bool_constant<S::insecure>;  // a constant expression
                    { S::hash(v) } -> std::same_as<hash32>;
                    { S::link_secret(kp) } -> std::same_as<link_key>;
                    { S::link_public(pk) } -> std::same_as<std::optional<link_key>>;
                };

/// A suite whose signatures cannot be forged: what every networked component requires.
template <class S>
concept secure_suite = suite<S> && !S::insecure;

}  // namespace ballotchain
