#pragma once
/// @file HMAC-SHA256 (RFC 2104) and PBKDF2-HMAC-SHA256 (RFC 8018) over Crypto++.
/// The backend derives unlinkable voter tags with HMAC and stores passwords as
/// PBKDF2 hashes.

#include <ballotchain/core/bytes.hpp>

#include <crypto++/hmac.h>
#include <crypto++/pwdbased.h>
#include <crypto++/sha.h>

#include <string_view>

namespace ballotchain::hmac_sha256 {

/// HMAC-SHA256(key, message).
inline hash32 mac(byte_view key, byte_view message) {
    CryptoPP::HMAC<CryptoPP::SHA256> h(key.data(), key.size());
    h.Update(message.data(), message.size());
    hash32 out;
    h.Final(out.data.data());
    return out;
}

/// PBKDF2-HMAC-SHA256(password, salt, iterations) with an output of `len` bytes.
inline bytes pbkdf2(std::string_view password, byte_view salt, unsigned iterations, std::size_t len = 32) {
    bytes out(len);
    CryptoPP::PKCS5_PBKDF2_HMAC<CryptoPP::SHA256> kdf;
    kdf.DeriveKey(out.data(), out.size(), 0, reinterpret_cast<const byte*>(password.data()), password.size(),
                  salt.data(), salt.size(), iterations);
    return out;
}

/// Compares two byte strings in time that depends only on their lengths.
inline bool equal_ct(byte_view a, byte_view b) noexcept {
    if (a.size() != b.size()) return false;
    unsigned char d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
    return d == 0;
}

}  // namespace ballotchain::hmac_sha256
