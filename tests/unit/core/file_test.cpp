// core/file.hpp: bounded whole-file read, atomic write with explicit mode.
#include <ballotchain/core/file.hpp>

#include "../support/catch_result.hpp"
#include "../support/temp_dir.hpp"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace ballotchain;
using ballotchain::test::temp_dir;

namespace {
unsigned mode_of(const std::string& path) {
    struct stat st{};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777u;
}

struct umask_guard {
    mode_t old;
    explicit umask_guard(mode_t m) : old(::umask(m)) {}
    ~umask_guard() { ::umask(old); }
};
}  // namespace

TEST_CASE("files: read_file returns the whole file, refuses more than its bound", "[core][file]") {
    temp_dir d;
    const auto p = d.file("f");
    std::string big(100'000, '\0');  // several read() chunks, with NULs
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13);
    std::ofstream(p, std::ios::binary) << big;
    CHECK(read_file(p, big.size()).value() == big);  // exactly the bound
    CHECK(read_file(p, big.size() - 1).error() == make_error(core::errc::length_too_large));
    const auto e = d.file("empty");
    std::ofstream(e).close();
    CHECK(read_file(e, 0).value().empty());
    const auto missing = read_file(d.file("missing"), 100);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().value() == ENOENT);
    CHECK_FALSE(read_file(d.path().string(), 100));  // a directory is not a file
}

TEST_CASE("files: write_file_atomic sets the requested mode whatever the umask", "[core][file]") {
    temp_dir d;
    umask_guard u(077);
    const auto a = d.file("a");
    REQUIRE(write_file_atomic(a, "hello", 0600, false));
    CHECK(mode_of(a) == 0600);
    CHECK(read_file(a, 100).value() == "hello");
    const auto b = d.file("b");
    REQUIRE(write_file_atomic(b, std::string_view("x\0y", 3), 0644, false));
    CHECK(mode_of(b) == 0644);
    CHECK(read_file(b, 100).value() == std::string("x\0y", 3));
    // no temporary left behind
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& ent : std::filesystem::directory_iterator(d.path())) ++entries;
    CHECK(entries == 2);
}

TEST_CASE("files: no silent overwrite; an explicit overwrite replaces content and mode", "[core][file]") {
    temp_dir d;
    const auto p = d.file("f");
    REQUIRE(write_file_atomic(p, "hello", 0644, false));
    const auto again = write_file_atomic(p, "other", 0600, false);
    REQUIRE_FALSE(again);
    CHECK(again.error().value() == EEXIST);
    CHECK(read_file(p, 100).value() == "hello");
    CHECK(mode_of(p) == 0644);
    REQUIRE(write_file_atomic(p, "other", 0600, true));
    CHECK(read_file(p, 100).value() == "other");
    CHECK(mode_of(p) == 0600);
}

TEST_CASE("files: a stale temporary from an interrupted write does not leak into the result", "[core][file]") {
    temp_dir d;
    const auto p = d.file("k");
    std::ofstream(p + ".tmp") << std::string(1000, 'z');
    ::chmod((p + ".tmp").c_str(), 0666);
    REQUIRE(write_file_atomic(p, "secret", 0600, false));
    CHECK(read_file(p, 100).value() == "secret");
    CHECK(mode_of(p) == 0600);
}

TEST_CASE("files: writing into a missing directory is an error, not a crash", "[core][file]") {
    temp_dir d;
    const auto r = write_file_atomic(d.file("no/such/dir/f"), "x", 0600, false);
    REQUIRE_FALSE(r);
    CHECK(r.error().value() == ENOENT);
}
