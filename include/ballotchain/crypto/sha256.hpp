#pragma once
/// @file SHA-256 (FIPS 180-4) over Crypto++.

#include <ballotchain/crypto/concepts.hpp>

#include <crypto++/sha.h>

namespace ballotchain {

/// SHA-256. @par Thread safety Distinct objects: safe. `hash()`: safe.
class sha256 {
public:
    static hash32 hash(byte_view v) {
        sha256 h;
        h.update(v);
        return h.finish();
    }
    void update(byte_view v) { impl_.Update(v.data(), v.size()); }
    hash32 finish() {
        hash32 out;
        impl_.Final(out.data.data());
        return out;
    }

private:
    CryptoPP::SHA256 impl_;
};
static_assert(hasher<sha256>);

}  // namespace ballotchain
