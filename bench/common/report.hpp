#pragma once
/// @file What every benchmark program of bench/ shares for its figures: a monotonic
/// clock in microseconds, wall-clock milliseconds, the process's own CPU time,
/// percentiles, and writing a JSON result file (`--json FILE`).

#include <ballotchain/core/file.hpp>

#include <boost/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace ballotchain::bench {

/// Microseconds on the steady clock.
/// Calls `f(from, to)` for consecutive ranges of at most `per_group` of [0, count), the ranges
/// dealt round-robin to `threads` threads; returns when all are done. How the load tools sign
/// their votes, one batch signature per range.
template <class F>
void for_each_group(std::size_t count, std::size_t per_group, unsigned threads, F&& f) {
    const std::size_t groups = (count + per_group - 1) / per_group;
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            for (std::size_t grp = t; grp < groups; grp += threads)
                f(grp * per_group, std::min(count, (grp + 1) * per_group));
        });
    for (auto& t : ts) t.join();
}

inline std::uint64_t now_us() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

/// Milliseconds since the Unix epoch (vote timestamps, fresh ids).
inline std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

/// User + system CPU seconds this process has used so far.
inline double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

/// The p-quantile (0..1) of `v` by nearest rank (sorts a copy); 0 for none.
template <class T>
double percentile(std::vector<T> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
    return static_cast<double>(v[i]);
}

/// {"p50", "p90", "p99", "max", "n"} of samples in any unit (the caller names it).
template <class T>
boost::json::object quantiles(const std::vector<T>& v) {
    return {{"p50", percentile(v, 0.50)},
            {"p90", percentile(v, 0.90)},
            {"p99", percentile(v, 0.99)},
            {"max", v.empty() ? 0.0 : static_cast<double>(*std::max_element(v.begin(), v.end()))},
            {"n", v.size()}};
}

/// Writes `v` to `path` (atomically, with a newline); prints why on failure.
inline bool write_json_file(const std::string& path, const boost::json::value& v) {
    if (path.empty()) return true;
    if (auto r = write_file_atomic(path, boost::json::serialize(v) + "\n", 0644, true); !r) {
        std::fprintf(stderr, "--json %s: %s\n", path.c_str(), r.error().message().c_str());
        return false;
    }
    return true;
}

}  // namespace ballotchain::bench
