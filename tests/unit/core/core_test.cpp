// core/: strict hex, fixed bytes, the bounded wire reader, files.
#include <ballotchain/core/file.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/core/wire.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace ballotchain;

TEST_CASE("hex: 0x-prefixed lowercase only, every malformation is an error", "[core]") {
    CHECK(to_hex(bytes{}) == "0x");
    CHECK(to_hex(bytes{0x00, 0xab, 0xff}) == "0x00abff");
    CHECK(from_hex("0x00abff").value() == bytes{0x00, 0xab, 0xff});
    CHECK(from_hex("0x").value().empty());
    CHECK(from_hex("00ab").error() == make_error(core::errc::hex_missing_prefix));
    CHECK(from_hex("").error() == make_error(core::errc::hex_missing_prefix));
    CHECK(from_hex("0X00").error() == make_error(core::errc::hex_missing_prefix));
    CHECK(from_hex("0xabc").error() == make_error(core::errc::hex_odd_length));
    CHECK(from_hex("0xAB").error() == make_error(core::errc::hex_bad_digit));
    CHECK(from_hex("0xzz").error() == make_error(core::errc::hex_bad_digit));
    CHECK(from_hex("0x0 ").error() == make_error(core::errc::hex_bad_digit));
    CHECK(from_hex("0x0000", 1).error() == make_error(core::errc::hex_too_long));
    CHECK(from_hex("0x00", 1).value() == bytes{0});
}

TEST_CASE("hex: fixed-size values need exactly their length", "[core]") {
    const std::string h32 = "0x" + std::string(64, 'a');
    CHECK(from_hex_fixed<32>(h32).value().data[0] == 0xaa);
    CHECK(from_hex_fixed<32>("0x" + std::string(62, 'a')).error() == make_error(core::errc::hex_wrong_length));
    CHECK(from_hex_fixed<32>("0x" + std::string(66, 'a')).error() == make_error(core::errc::hex_wrong_length));
    CHECK(from_hex_fixed<32>(std::string(64, 'a')).error() == make_error(core::errc::hex_missing_prefix));
    CHECK(to_hex(from_hex_fixed<32>(h32).value()) == h32);
}

TEST_CASE("fixed_bytes compare, hash and view", "[core]") {
    hash32 a, b;
    CHECK(a == b);
    b.data[31] = 1;
    CHECK(a != b);
    CHECK(a < b);
    CHECK(std::hash<hash32>{}(a) != std::hash<hash32>{}(b));
    CHECK(b.view().size() == 32);
}

TEST_CASE("wire: big-endian round trip and sticky errors", "[core]") {
    bytes out;
    wire::writer w(out);
    w.u8(0x01);
    w.u32(0x02030405);
    w.u64(0x060708090a0b0c0dull);
    w.var(bytes{0xaa, 0xbb});
    CHECK(out == bytes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
                       0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb});
    wire::reader r(out);
    std::uint8_t a = 0;
    std::uint32_t b = 0;
    std::uint64_t c = 0;
    bytes d;
    CHECK(r.u8(a));
    CHECK(r.u32(b));
    CHECK(r.u64(c));
    CHECK(r.var(d, 16));
    CHECK(r.finish());
    CHECK(a == 1);
    CHECK(b == 0x02030405u);
    CHECK(c == 0x060708090a0b0c0dull);
    CHECK(d == bytes{0xaa, 0xbb});
}

TEST_CASE("wire: truncation, trailing bytes and oversize lengths are refused before allocating", "[core]") {
    const bytes four{0, 0, 0, 5};
    {
        wire::reader r(four);
        std::uint64_t v = 0;
        CHECK_FALSE(r.u64(v));
        CHECK(r.error() == make_error(core::errc::truncated));
        std::uint8_t x = 0;
        CHECK_FALSE(r.u8(x));  // sticky
    }
    {
        wire::reader r(four);
        bytes v;
        CHECK_FALSE(r.var(v, 4));  // length 5 > bound 4
        CHECK(r.error() == make_error(core::errc::length_too_large));
    }
    {
        wire::reader r(four);
        bytes v;
        CHECK_FALSE(r.var(v, 100));  // length 5, nothing left
        CHECK(r.error() == make_error(core::errc::truncated));
    }
    {
        const bytes huge{0xff, 0xff, 0xff, 0xff};
        wire::reader r(huge);
        std::uint32_t n = 0;
        CHECK_FALSE(r.count(n, 1'000'000'000, 100));  // 4 billion elements of 100 bytes in 0 bytes
    }
    {
        const bytes one_more{0, 0, 0, 1, 9};
        wire::reader r(one_more);
        std::uint32_t v = 0;
        CHECK(r.u32(v));
        CHECK_FALSE(r.finish());
        CHECK(r.error() == make_error(core::errc::trailing_bytes));
    }
}

TEST_CASE("files: bounded read, atomic write with mode, no silent overwrite", "[core]") {
    std::string t = (std::filesystem::temp_directory_path() / "bc-core-XXXXXX").string();
    const std::filesystem::path dir = ::mkdtemp(t.data());
    const auto p = (dir / "f").string();
    REQUIRE(write_file_atomic(p, "hello", 0600, false));
    struct stat st{};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(read_file(p, 100).value() == "hello");
    CHECK(read_file(p, 4).error() == make_error(core::errc::length_too_large));
    CHECK_FALSE(write_file_atomic(p, "other", 0600, false));
    CHECK(read_file(p, 100).value() == "hello");
    CHECK(write_file_atomic(p, "other", 0644, true));
    CHECK(read_file(p, 100).value() == "other");
    CHECK_FALSE(read_file((dir / "missing").string(), 100));
    std::filesystem::remove_all(dir);
}
