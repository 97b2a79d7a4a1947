#pragma once
/// @file INSECURE: a crypto suite whose "signatures" anyone can forge, for the
/// deterministic simulator and benchmarks only (docs/architecture.md, "Policies").
///
/// A signature is a SHA-256 of the signer's public key and the message, so it
/// checks that the message and the claimed signer match what was signed, which
/// is all the simulator's invariants need, at the cost of one hash instead of an
/// Ed25519 scalar multiplication (about 85% of the simulator's CPU time with
/// the production suite). Anyone who knows a public key can sign for it.
///
/// It is not part of the library: it lives with the simulator (CMake target
/// ballotchain_sim), the apps cannot include it, the `layering` ctest fails if
/// they try, and the network transport refuses it at compile time
/// (`secure_suite`, crypto/suite.hpp).

#include <ballotchain/crypto/noise.hpp>
#include <ballotchain/crypto/sha256.hpp>
#include <ballotchain/crypto/suite.hpp>

#include <algorithm>
#include <string_view>

namespace ballotchain::sim {

/// SHA-256 hashes (as in production) and forgeable keyed-hash signatures.
/// @par Thread safety All functions are reentrant.
struct insecure_sim_suite {
    static constexpr std::string_view name = "INSECURE-sim";  ///< forgeable signatures: simulation only
    static constexpr bool insecure = true;

    using hasher = sha256;

    /// A secret with its public key. The public key is the X25519 public key of
    /// the link secret (a hash of the secret, so that secrets differing only in
    /// the bits X25519 clamps still give distinct keys): the link keys are
    /// consistent like the production suite's.
    class key_pair {
    public:
        key_pair() = default;
        const ballotchain::public_key& public_key() const noexcept { return public_; }
        const ballotchain::secret_key& secret() const noexcept { return secret_; }

    private:
        friend struct insecure_sim_suite;
        ballotchain::secret_key secret_;
        ballotchain::public_key public_;
    };

    static hash32 hash(byte_view v) { return sha256::hash(v); }

    static key_pair from_secret(const secret_key& sk) {
        key_pair kp;
        kp.secret_ = sk;
        const auto pub = noise::keypair_from_secret(link_secret(kp)).pub;
        std::copy(pub.begin(), pub.end(), kp.public_.begin());
        return kp;
    }

    /// SHA-256("ballotchain/INSECURE-sim/sig" ‖ public key ‖ msg), twice.
    static signature sign(const key_pair& kp, byte_view msg) { return forge(kp.public_key(), msg); }

    static bool verify(const public_key& pk, byte_view msg, const signature& sig) { return forge(pk, msg) == sig; }

    static link_key link_secret(const key_pair& kp) {
        sha256 h;
        h.update(as_bytes("ballotchain/INSECURE-sim/link"));
        h.update(kp.secret().view());
        const hash32 d = h.finish();
        link_key x;
        std::copy(d.begin(), d.end(), x.begin());
        return x;
    }
    static std::optional<link_key> link_public(const public_key& pk) {
        link_key x;
        std::copy(pk.begin(), pk.end(), x.begin());
        return x;
    }

private:
    static signature forge(const public_key& pk, byte_view msg) {
        static constexpr std::string_view domain = "ballotchain/INSECURE-sim/sig";
        sha256 h;
        h.update(as_bytes(domain));
        h.update(pk.view());
        h.update(msg);
        const hash32 d = h.finish();
        signature sig;
        std::copy(d.begin(), d.end(), sig.begin());
        std::copy(d.begin(), d.end(), sig.begin() + 32);
        return sig;
    }
};
static_assert(suite<insecure_sim_suite> && !secure_suite<insecure_sim_suite>);

}  // namespace ballotchain::sim
