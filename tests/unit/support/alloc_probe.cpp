// Global operator new replacement behind alloc_probe.hpp (library
// ballotchain_alloc_probe, linked into unit_chain and unit_consensus).
#include "alloc_probe.hpp"

#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define BALLOTCHAIN_TEST_NO_ALLOC_PROBE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define BALLOTCHAIN_TEST_NO_ALLOC_PROBE 1
#endif
#endif

namespace {
thread_local int active = 0;
thread_local std::size_t largest_request = 0;
}  // namespace

namespace ballotchain::test {
alloc_probe::alloc_probe() noexcept {
    ++active;
    largest_request = 0;
}
alloc_probe::~alloc_probe() { --active; }
std::size_t alloc_probe::largest() const noexcept { return largest_request; }
bool alloc_probe::enabled() noexcept {
#if defined(BALLOTCHAIN_TEST_NO_ALLOC_PROBE)
    return false;
#else
    return true;
#endif
}
}  // namespace ballotchain::test

#if !defined(BALLOTCHAIN_TEST_NO_ALLOC_PROBE)
namespace {
void* allocate(std::size_t n) {
    if (active > 0 && n > largest_request) largest_request = n;
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#endif
