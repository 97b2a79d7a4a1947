#pragma once
/// @file The binaries' version and the git commit they were built from (`--version`). The
/// values live in one small compiled file (apps/common/src/version.cpp, target
/// ballotchain_version) that includes the header cmake/version.cmake generates at build time,
/// so a new commit recompiles that file only, never the binaries' own sources.

#include <CLI/CLI.hpp>

#include <string>

namespace ballotchain::app {

/// The project version, e.g. "0.1.0".
const char* version() noexcept;
/// The commit, 12 hex digits, "-dirty" when tracked files differed from it; "unknown" outside git.
const char* git_commit() noexcept;

/// "PROGRAM 0.1.0 (git 0123456789ab)".
inline std::string version_line(const std::string& program) {
    return program + " " + version() + " (git " + git_commit() + ")";
}

/// Adds `--version` to `app`: prints version_line(program) and exits 0.
inline void add_version_flag(CLI::App& app, const std::string& program) {
    app.set_version_flag("--version", version_line(program), "print the version and the git commit, then exit");
}

}  // namespace ballotchain::app
