#pragma once
/// @file A temporary directory for tests that use real files (SQLite
/// databases, key files, chains), removed with everything in it when the
/// test is done.
///
/// Unit tests include it as "../support/temp_dir.hpp"; other test kinds
/// (integration) reach it through the `ballotchain_test_support` target as
/// <temp_dir.hpp>.

#include <stdlib.h>  // mkdtemp (POSIX)

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace ballotchain::test {

/// A fresh directory from mkdtemp under the system's temporary directory
/// ($TMPDIR, else /tmp), named `<prefix>-XXXXXX`. Removed with everything in
/// it on destruction, unless the environment sets BALLOTCHAIN_KEEP_TMP (to
/// look at what a failed test left).
class temp_dir {
public:
    explicit temp_dir(std::string_view prefix = "ballotchain-test") {
        std::string tmpl = (std::filesystem::temp_directory_path() / prefix).string() + "-XXXXXX";
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        if (!std::getenv("BALLOTCHAIN_KEEP_TMP")) std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    /// The path of `name` in the directory (nothing is created).
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

}  // namespace ballotchain::test
