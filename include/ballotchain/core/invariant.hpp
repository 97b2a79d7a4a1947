#pragma once
/// @file Runtime invariant assertions: BALLOTCHAIN_INVARIANT(cond, what).
///
/// An invariant is a fact the code relies on that no input can break (unlike
/// a check of input, which returns an error). A broken invariant means the
/// process is in a state nobody reasoned about, so it stops at once with the
/// condition, the message and where: continuing could sign or store something
/// wrong. On in Debug builds (no NDEBUG), in the sanitizer presets and in the
/// simulator (both define BALLOTCHAIN_INVARIANTS); compiled out otherwise, so
/// the condition may cost work (it is not evaluated when off).

#include <cstdio>
#include <cstdlib>

#if defined(BALLOTCHAIN_INVARIANTS) || !defined(NDEBUG)
#define BALLOTCHAIN_INVARIANTS_ON 1
#else
#define BALLOTCHAIN_INVARIANTS_ON 0
#endif

namespace ballotchain::detail {

[[noreturn]] inline void invariant_failed(const char* cond, const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", file, line, what, cond);
    std::fflush(stderr);
    std::abort();
}

}  // namespace ballotchain::detail

#if BALLOTCHAIN_INVARIANTS_ON
#define BALLOTCHAIN_INVARIANT(cond, what) \
    ((cond) ? static_cast<void>(0) : ::ballotchain::detail::invariant_failed(#cond, what, __FILE__, __LINE__))
#else
#define BALLOTCHAIN_INVARIANT(cond, what) static_cast<void>(0)
#endif
