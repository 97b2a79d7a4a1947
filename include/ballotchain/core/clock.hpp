#pragma once
/// @file Clock policy. Nothing in include/ reads the system clock directly.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>

namespace ballotchain {

/// A source of milliseconds.
///
/// | expression        | type          | meaning                                   |
/// |-------------------|---------------|-------------------------------------------|
/// | `c.now_ms()`      | std::uint64_t | monotonic time in ms (timers)             |
/// | `c.wall_ms()`     | std::uint64_t | Unix time in ms (block and tx timestamps) |
template <class C>
concept clock = requires(const C& c) {
    { c.now_ms() } -> std::same_as<std::uint64_t>;
    { c.wall_ms() } -> std::same_as<std::uint64_t>;
};

/// The real clocks: steady for timers, system for timestamps.
struct steady_clock_adapter {
    std::uint64_t now_ms() const noexcept {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now().time_since_epoch()).count());
    }
    std::uint64_t wall_ms() const noexcept {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch()).count());
    }
};
static_assert(clock<steady_clock_adapter>);

/// A clock that moves only when told to (simulator, tests).
class manual_clock {
public:
    explicit manual_clock(std::uint64_t start_ms = 0, std::uint64_t wall_offset_ms = 1'700'000'000'000ull) noexcept
        : now_(start_ms), wall_offset_(wall_offset_ms) {}
    std::uint64_t now_ms() const noexcept { return now_; }
    std::uint64_t wall_ms() const noexcept { return wall_offset_ + now_; }
    void advance(std::uint64_t ms) noexcept { now_ += ms; }
    void set(std::uint64_t ms) noexcept { now_ = ms; }

private:
    std::uint64_t now_;
    std::uint64_t wall_offset_;
};
static_assert(clock<manual_clock>);

/// A clock that moves only when told to, whose copies share one time: each
/// engine of a test or of the simulator holds a copy (and a restarted engine a
/// new one), the harness moves `*t`. Wall time is `wall_offset_ms + *t`.
struct shared_clock {
    std::shared_ptr<std::uint64_t> t = std::make_shared<std::uint64_t>(0);
    std::uint64_t wall_offset_ms = 1'700'000'000'000ull;
    std::uint64_t now_ms() const noexcept { return *t; }
    std::uint64_t wall_ms() const noexcept { return wall_offset_ms + *t; }
};
static_assert(clock<shared_clock>);

}  // namespace ballotchain
