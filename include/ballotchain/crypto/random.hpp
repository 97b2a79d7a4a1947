#pragma once
/// @file Randomness policy: fills a buffer with unpredictable bytes.

#include <ballotchain/core/bytes.hpp>

#include <concepts>
#include <crypto++/osrng.h>
#include <span>

namespace ballotchain {

/// | expression   | meaning                                   |
/// |--------------|-------------------------------------------|
/// | `r.fill(s)`  | writes random bytes into `std::span<byte>` |
template <class R>
concept random_source = requires(R& r, std::span<byte> s) { r.fill(s); };

/// The operating system's CSPRNG (getrandom / /dev/urandom).
struct os_random {
    void fill(std::span<byte> out) { CryptoPP::OS_GenerateRandomBlock(false, out.data(), out.size()); }
};
static_assert(random_source<os_random>);

}  // namespace ballotchain
