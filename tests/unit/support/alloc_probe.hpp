#pragma once
/// @file Records the largest single operator-new request made while a probe is
/// active (defined in alloc_probe.cpp, library ballotchain_alloc_probe, which
/// replaces the global operator new of the test executables that link it:
/// unit_chain, unit_consensus). Under a sanitizer the replacement is compiled out and
/// `alloc_probe::enabled()` is false: ASan has its own allocator.

#include <cstddef>

namespace ballotchain::test {

class alloc_probe {
public:
    alloc_probe() noexcept;
    ~alloc_probe();
    alloc_probe(const alloc_probe&) = delete;
    alloc_probe& operator=(const alloc_probe&) = delete;

    /// Largest request since construction (bytes).
    std::size_t largest() const noexcept;
    /// Whether allocations are being recorded in this build.
    static bool enabled() noexcept;
};

}  // namespace ballotchain::test
