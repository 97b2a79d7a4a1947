#pragma once
/// @file Ed25519 (RFC 8032, pure) over Crypto++'s donna implementation.

#include <ballotchain/crypto/concepts.hpp>
#include <ballotchain/crypto/key_encoding.hpp>
#include <ballotchain/crypto/random.hpp>

#include <crypto++/donna.h>

namespace ballotchain {

class ed25519 {
public:
    /// A secret key with its (derived) public key.
    class key_pair {
    public:
        key_pair() = default;
        const ballotchain::public_key& public_key() const noexcept { return public_; }
        const ballotchain::secret_key& secret() const noexcept { return secret_; }

    private:
        friend class ed25519;
        ballotchain::secret_key secret_;
        ballotchain::public_key public_;
    };

    static key_pair from_secret(const secret_key& sk) {
        key_pair kp;
        kp.secret_ = sk;
        CryptoPP::Donna::ed25519_publickey(kp.public_.data.data(), sk.data.data());
        return kp;
    }

    template <random_source R>
    static key_pair generate(R& rng) {
        secret_key sk;
        rng.fill(std::span<byte>(sk.data));
        return from_secret(sk);
    }

    static key_pair generate() {
        os_random rng;
        return generate(rng);
    }

    static signature sign(const key_pair& kp, byte_view msg) {
        signature sig;
        CryptoPP::Donna::ed25519_sign(msg.data(), msg.size(), kp.secret_.data.data(), kp.public_.data.data(),
                                      sig.data.data());
        return sig;
    }

    /// Strict verification: also rejects a non-canonical S (S ≥ L), so a
    /// signature cannot be altered into another valid one (RFC 8032 §5.1.7),
    /// and small-order public keys or R points (with one, a signature can be
    /// valid for every message).
    static bool verify(const public_key& pk, byte_view msg, const signature& sig) {
        if (!s_is_canonical(sig)) return false;
        if (has_small_order(pk.data.data()) || has_small_order(sig.data.data())) return false;
        return CryptoPP::Donna::ed25519_sign_open(msg.data(), msg.size(), pk.data.data(), sig.data.data()) == 0;
    }

    /// True for the encodings of the points of small order (key_encoding.hpp).
    static bool has_small_order(const byte* p) noexcept { return ed25519_small_order(p); }

private:
    static bool s_is_canonical(const signature& sig) noexcept {
        // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
        static constexpr byte L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                       0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
        const byte* s = sig.data.data() + 32;
        for (int i = 31; i >= 0; --i) {
            if (s[i] < L[i]) return true;
            if (s[i] > L[i]) return false;
        }
        return false;  // S == L
    }
};
static_assert(signer<ed25519>);

}  // namespace ballotchain
