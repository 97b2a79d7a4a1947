#pragma once
/// @file Ed25519 (RFC 8032, pure) over Crypto++'s donna implementation.

#include <ballotchain/crypto/concepts.hpp>
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

    /// True for the encodings of the 8 points of small order (and their
    /// non-canonical twins, sign bit ignored) — the list libsodium refuses.
    static bool has_small_order(const byte* p) noexcept {
        static constexpr byte bad[7][32] = {
            {0x00},  // 0 (order 4)
            {0x01},  // 1 (order 1)
            {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
             0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},  // order 8
            {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
             0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},  // order 8
            {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
             0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},  // p-1 (order 2)
            {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
             0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},  // p (= 0)
            {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
             0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},  // p+1 (= 1)
        };
        for (const auto& b : bad) {
            byte diff = static_cast<byte>((p[31] & 0x7f) ^ b[31]);
            for (int j = 0; j < 31; ++j) diff = static_cast<byte>(diff | (p[j] ^ b[j]));
            if (diff == 0) return true;
        }
        return false;
    }

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
