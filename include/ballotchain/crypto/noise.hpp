#pragma once
/// @file The Noise Protocol Framework (revision 34), the one protocol the
/// validators speak: `Noise_XX_25519_ChaChaPoly_BLAKE2b`, over libsodium.
///
///     XX:  -> e
///          <- e, ee, s, es
///          -> s, se
///
/// X25519 for DH (an all-zero result, i.e. a small-order peer key, aborts the
/// handshake), ChaCha20-Poly1305 IETF with the nonce 0^32 ‖ LE64(n), BLAKE2b-512
/// as HASH, HMAC-BLAKE2b (RFC 2104, block 128) and the Noise HKDF. Checked
/// against the published cacophony test vectors (tests/unit/crypto/noise_test.cpp).
///
/// Validators' static keys come from their genesis keys through the crypto suite
/// (`S::link_secret`, `S::link_public`, crypto/suite.hpp): for Ed25519 the
/// birational map libsodium implements; see docs/protocol.md §11.
///
/// @par Thread safety Objects are not shared; the functions are reentrant.

#include <ballotchain/core/bytes.hpp>

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

namespace ballotchain::noise {

inline constexpr std::string_view protocol_name = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
inline constexpr std::size_t dh_len = 32;
inline constexpr std::size_t hash_len = 64;
inline constexpr std::size_t tag_len = 16;
inline constexpr std::size_t max_message_len = 65535;  ///< Noise's bound on any message

using key32 = std::array<byte, 32>;
using digest = std::array<byte, hash_len>;

/// libsodium must be initialised once before use; cheap after the first call.
inline void ensure_sodium() {
    static const bool ok = sodium_init() >= 0;
    if (!ok) std::abort();  // no usable randomness or CPU features: nothing here can work
}

// ---- X25519 ---------------------------------------------------------------------------

struct keypair {
    key32 secret{};
    key32 pub{};
};

inline keypair keypair_from_secret(const key32& sk) {
    ensure_sodium();
    keypair kp;
    kp.secret = sk;
    crypto_scalarmult_base(kp.pub.data(), kp.secret.data());
    return kp;
}

inline keypair generate_keypair() {
    ensure_sodium();
    key32 sk;
    randombytes_buf(sk.data(), sk.size());
    return keypair_from_secret(sk);
}

/// DH(sk, pk). False when the result is all zeros (pk of small order): Noise lets
/// an implementation abort then, and we do.
[[nodiscard]] inline bool dh(const key32& sk, const key32& pk, key32& out) {
    ensure_sodium();
    return crypto_scalarmult(out.data(), sk.data(), pk.data()) == 0;
}

// ---- HASH, HMAC, HKDF -----------------------------------------------------------------

/// BLAKE2b-512 of the concatenation of the parts.
inline digest hash(std::initializer_list<byte_view> parts) {
    ensure_sodium();
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, hash_len);
    for (auto p : parts) crypto_generichash_update(&st, p.data(), p.size());
    digest out;
    crypto_generichash_final(&st, out.data(), out.size());
    return out;
}

/// HMAC-BLAKE2b (RFC 2104; block length 128): what Noise's HKDF is built on.
inline digest hmac(byte_view key, std::initializer_list<byte_view> parts) {
    constexpr std::size_t block = 128;
    std::array<byte, block> k{};
    if (key.size() > block) {
        const auto kh = hash({key});
        std::copy(kh.begin(), kh.end(), k.begin());
    } else {
        std::copy(key.begin(), key.end(), k.begin());
    }
    std::array<byte, block> ipad, opad;
    for (std::size_t i = 0; i < block; ++i) {
        ipad[i] = static_cast<byte>(k[i] ^ 0x36);
        opad[i] = static_cast<byte>(k[i] ^ 0x5c);
    }
    ensure_sodium();
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, hash_len);
    crypto_generichash_update(&st, ipad.data(), ipad.size());
    for (auto p : parts) crypto_generichash_update(&st, p.data(), p.size());
    digest inner;
    crypto_generichash_final(&st, inner.data(), inner.size());
    auto out = hash({opad, inner});
    sodium_memzero(k.data(), k.size());
    sodium_memzero(ipad.data(), ipad.size());
    sodium_memzero(opad.data(), opad.size());
    return out;
}

/// Noise's HKDF with two outputs.
inline std::pair<digest, digest> hkdf2(const digest& ck, byte_view ikm) {
    const digest temp = hmac(ck, {ikm});
    const byte one = 1, two = 2;
    const digest o1 = hmac(temp, {byte_view(&one, 1)});
    const digest o2 = hmac(temp, {o1, byte_view(&two, 1)});
    return {o1, o2};
}

inline key32 truncate(const digest& d) {
    key32 k;
    std::copy(d.begin(), d.begin() + 32, k.begin());
    return k;
}

// ---- CipherState ------------------------------------------------------------------------

/// A key and a 64-bit nonce. Encrypting with no key copies the plaintext (Noise's rule
/// for the first handshake message).
class cipher_state {
public:
    cipher_state() = default;
    explicit cipher_state(const key32& k) { initialize_key(k); }
    cipher_state(const cipher_state&) = default;
    cipher_state& operator=(const cipher_state&) = default;
    ~cipher_state() { sodium_memzero(k_.data(), k_.size()); }

    void initialize_key(const key32& k) {
        k_ = k;
        has_key_ = true;
        n_ = 0;
    }
    bool has_key() const noexcept { return has_key_; }
    std::uint64_t nonce() const noexcept { return n_; }
    /// Sets the next nonce (test vectors; never needed in a session).
    void set_nonce(std::uint64_t n) noexcept { n_ = n; }

    /// Appends ENCRYPT(k, n++, ad, pt) (pt ‖ 16-byte tag) to `out`. False when the
    /// nonce is exhausted (2^64 − 1 is reserved): the session must end.
    [[nodiscard]] bool encrypt_with_ad(byte_view ad, byte_view pt, bytes& out) {
        if (!has_key_) {
            out.insert(out.end(), pt.begin(), pt.end());
            return true;
        }
        if (n_ == UINT64_MAX) return false;
        const auto at = out.size();
        out.resize(at + pt.size() + tag_len);
        unsigned long long clen = 0;
        const auto npub = nonce_bytes();
        crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + at, &clen, pt.data(), pt.size(), ad.data(), ad.size(),
                                                  nullptr, npub.data(), k_.data());
        ++n_;
        return true;
    }

    /// Appends DECRYPT(k, n, ad, ct) to `out`; on success n++. False (out unchanged,
    /// n unchanged) when authentication fails.
    [[nodiscard]] bool decrypt_with_ad(byte_view ad, byte_view ct, bytes& out) {
        if (!has_key_) {
            out.insert(out.end(), ct.begin(), ct.end());
            return true;
        }
        if (ct.size() < tag_len || n_ == UINT64_MAX) return false;
        const auto at = out.size();
        out.resize(at + ct.size() - tag_len);
        unsigned long long mlen = 0;
        const auto npub = nonce_bytes();
        if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data() + at, &mlen, nullptr, ct.data(), ct.size(), ad.data(),
                                                      ad.size(), npub.data(), k_.data()) != 0) {
            out.resize(at);
            return false;
        }
        ++n_;
        return true;
    }

private:
    std::array<byte, 12> nonce_bytes() const noexcept {
        std::array<byte, 12> nb{};
        for (int i = 0; i < 8; ++i) nb[4 + static_cast<std::size_t>(i)] = static_cast<byte>(n_ >> (8 * i));
        return nb;
    }

    key32 k_{};
    bool has_key_ = false;
    std::uint64_t n_ = 0;
};

// ---- SymmetricState ---------------------------------------------------------------------

class symmetric_state {
public:
    explicit symmetric_state(std::string_view name) {
        if (name.size() <= hash_len) {
            h_.fill(0);
            std::copy(name.begin(), name.end(), h_.begin());
        } else {
            h_ = hash({as_bytes(name)});
        }
        ck_ = h_;
    }

    void mix_key(byte_view ikm) {
        auto [ck, temp] = hkdf2(ck_, ikm);
        ck_ = ck;
        cs_.initialize_key(truncate(temp));
    }
    void mix_hash(byte_view data) { h_ = hash({h_, data}); }

    [[nodiscard]] bool encrypt_and_hash(byte_view pt, bytes& out) {
        const auto at = out.size();
        if (!cs_.encrypt_with_ad(h_, pt, out)) return false;
        mix_hash(byte_view(out).subspan(at));
        return true;
    }
    [[nodiscard]] bool decrypt_and_hash(byte_view ct, bytes& out) {
        if (!cs_.decrypt_with_ad(h_, ct, out)) return false;
        mix_hash(ct);
        return true;
    }

    /// (initiator → responder, responder → initiator)
    std::pair<cipher_state, cipher_state> split() const {
        auto [k1, k2] = hkdf2(ck_, {});
        return {cipher_state(truncate(k1)), cipher_state(truncate(k2))};
    }
    const digest& handshake_hash() const noexcept { return h_; }

private:
    digest ck_{};
    digest h_{};
    cipher_state cs_;
};

// ---- HandshakeState for XX --------------------------------------------------------------

/// One side of an XX handshake. Messages alternate initiator, responder,
/// initiator; `write_message`/`read_message` must be called in that order for
/// the role (a call out of turn fails). After the third message `done()` is
/// true and `split()` gives the transport ciphers (send, receive) for this side.
class handshake_xx {
public:
    /// @param e a fixed ephemeral key (test vectors only); a fresh one otherwise.
    handshake_xx(bool initiator, byte_view prologue, const keypair& s, std::optional<keypair> e = std::nullopt)
        : initiator_(initiator), ss_(protocol_name), s_(s), e_(e) {
        ss_.mix_hash(prologue);
    }

    bool initiator() const noexcept { return initiator_; }
    bool done() const noexcept { return step_ == 3; }
    /// The next message is ours to write.
    bool my_turn() const noexcept { return !done() && ((step_ % 2 == 0) == initiator_); }
    /// Overhead of message i (0, 1, 2) beyond its payload.
    static constexpr std::size_t overhead(int i) noexcept {
        return i == 0 ? dh_len : i == 1 ? dh_len + dh_len + tag_len + tag_len : dh_len + tag_len + tag_len;
    }
    int step() const noexcept { return step_; }

    /// Writes the next message with `payload`; false if it is not our turn or DH failed.
    [[nodiscard]] bool write_message(byte_view payload, bytes& out) {
        if (!my_turn()) return false;
        switch (step_) {
        case 0:  // -> e
            write_e(out);
            break;
        case 1:  // <- e, ee, s, es
            write_e(out);
            if (!mix_dh(*e_, re_)) return false;
            if (!ss_.encrypt_and_hash(s_.pub, out)) return false;
            if (!mix_dh(s_, re_)) return false;  // es (responder side: DH(s, re))
            break;
        case 2:  // -> s, se
            if (!ss_.encrypt_and_hash(s_.pub, out)) return false;
            if (!mix_dh(s_, re_)) return false;  // se (initiator side: DH(s, re))
            break;
        }
        if (!ss_.encrypt_and_hash(payload, out)) return false;
        ++step_;
        return true;
    }

    /// Reads the peer's next message; appends its payload to `payload`. False on
    /// a malformed message, a failed DH or failed authentication: abort then.
    [[nodiscard]] bool read_message(byte_view msg, bytes& payload) {
        if (done() || my_turn() || msg.size() < overhead(step_) || msg.size() > max_message_len) return false;
        switch (step_) {
        case 0:  // -> e
            read_e(msg);
            break;
        case 1: {  // <- e, ee, s, es
            read_e(msg);
            if (!mix_dh(*e_, re_)) return false;
            bytes rs;
            if (!ss_.decrypt_and_hash(msg.subspan(0, dh_len + tag_len), rs)) return false;
            msg = msg.subspan(dh_len + tag_len);
            std::copy(rs.begin(), rs.end(), rs_.begin());
            has_rs_ = true;
            if (!mix_dh(*e_, rs_)) return false;  // es (initiator side: DH(e, rs))
            break;
        }
        case 2: {  // -> s, se
            bytes rs;
            if (!ss_.decrypt_and_hash(msg.subspan(0, dh_len + tag_len), rs)) return false;
            msg = msg.subspan(dh_len + tag_len);
            std::copy(rs.begin(), rs.end(), rs_.begin());
            has_rs_ = true;
            if (!mix_dh(*e_, rs_)) return false;  // se (responder side: DH(e, rs))
            break;
        }
        }
        if (!ss_.decrypt_and_hash(msg, payload)) return false;
        ++step_;
        return true;
    }

    /// The peer's static key, once received (after message 1 for the initiator, 2 for the responder).
    std::optional<key32> remote_static() const { return has_rs_ ? std::optional(rs_) : std::nullopt; }
    const digest& handshake_hash() const noexcept { return ss_.handshake_hash(); }

    /// (send, receive) ciphers for this side. @pre done().
    std::pair<cipher_state, cipher_state> split() const {
        auto [c1, c2] = ss_.split();
        if (initiator_) return {c1, c2};
        return {c2, c1};
    }

private:
    void write_e(bytes& out) {
        if (!e_) e_ = generate_keypair();
        out.insert(out.end(), e_->pub.begin(), e_->pub.end());
        ss_.mix_hash(e_->pub);
    }
    void read_e(byte_view& msg) {
        std::copy(msg.begin(), msg.begin() + dh_len, re_.begin());
        ss_.mix_hash(re_);
        msg = msg.subspan(dh_len);
    }
    [[nodiscard]] bool mix_dh(const keypair& mine, const key32& theirs) {
        key32 shared;
        if (!dh(mine.secret, theirs, shared)) return false;
        ss_.mix_key(shared);
        sodium_memzero(shared.data(), shared.size());
        return true;
    }

    bool initiator_;
    symmetric_state ss_;
    keypair s_;
    std::optional<keypair> e_;
    key32 re_{};
    key32 rs_{};
    bool has_rs_ = false;
    int step_ = 0;
};

}  // namespace ballotchain::noise
