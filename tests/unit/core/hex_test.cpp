// core/hex.hpp: strict 0x-prefixed lowercase hex; every malformation is an error value.
#include <ballotchain/core/hex.hpp>

#include "../support/catch_result.hpp"

#include <string>

using namespace ballotchain;
using core::errc;

namespace {
error_code hex_error(std::string_view s, std::size_t max = 1u << 20) {
    auto r = from_hex(s, max);
    return r ? error_code{} : r.error();
}
}  // namespace

TEST_CASE("hex: to_hex writes 0x and two lowercase digits per byte", "[core][hex]") {
    CHECK(to_hex(bytes{}) == "0x");
    CHECK(to_hex(bytes{0x00, 0x09, 0x0a, 0xab, 0xff}) == "0x00090aabff");
    hash32 h;
    h.data[0] = 0xde;
    h.data[31] = 0x01;
    CHECK(to_hex(h) == "0xde" + std::string(60, '0') + "01");
}

TEST_CASE("hex: every byte value round-trips", "[core][hex]") {
    bytes all(256);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<byte>(i);
    const std::string s = to_hex(all);
    CHECK(s.size() == 2 + 512);
    CHECK(s.find_first_not_of("0123456789abcdef", 2) == std::string::npos);
    CHECK(from_hex(s).value() == all);
}

TEST_CASE("hex: the 0x prefix is required, lowercase x only", "[core][hex]") {
    CHECK(from_hex("0x").value().empty());
    CHECK(hex_error("") == make_error(errc::hex_missing_prefix));
    CHECK(hex_error("0") == make_error(errc::hex_missing_prefix));
    CHECK(hex_error("00ab") == make_error(errc::hex_missing_prefix));
    CHECK(hex_error("0X00") == make_error(errc::hex_missing_prefix));
    CHECK(hex_error("x00") == make_error(errc::hex_missing_prefix));
    CHECK(hex_error(" 0x00") == make_error(errc::hex_missing_prefix));
    CHECK(hex_error("1x00") == make_error(errc::hex_missing_prefix));
}

TEST_CASE("hex: odd digit counts are refused", "[core][hex]") {
    CHECK(hex_error("0x0") == make_error(errc::hex_odd_length));
    CHECK(hex_error("0xabc") == make_error(errc::hex_odd_length));
    CHECK(hex_error("0x" + std::string(1001, 'a')) == make_error(errc::hex_odd_length));
}

TEST_CASE("hex: only 0-9 and a-f are digits", "[core][hex]") {
    CHECK(hex_error("0xAB") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0xaB") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0xFf") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0xzz") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0xg0") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0x0g") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0x0 ") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0x 0") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0x-1") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0x0x") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0x00\n") == make_error(errc::hex_odd_length));
    CHECK(hex_error("0x00\n\n") == make_error(errc::hex_bad_digit));
    // characters just outside the digit ranges
    for (char c : std::string("/:@G`g")) {
        INFO("digit " << c);
        CHECK(hex_error(std::string("0x0") + c) == make_error(errc::hex_bad_digit));
        CHECK(hex_error(std::string("0x") + c + "0") == make_error(errc::hex_bad_digit));
    }
    // embedded NUL and bytes >= 0x80 (negative as char)
    CHECK(hex_error(std::string_view("0x\0\0", 4)) == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0x\xff\xfe") == make_error(errc::hex_bad_digit));
    CHECK(hex_error("0x\xc3\xa9") == make_error(errc::hex_bad_digit));
}

TEST_CASE("hex: the caller's byte bound is exact; the default is 1 MiB", "[core][hex]") {
    CHECK(from_hex("0x0000", 2).value() == bytes{0, 0});
    CHECK(hex_error("0x000000", 2) == make_error(errc::hex_too_long));
    CHECK(from_hex("0x", 0).value().empty());
    CHECK(hex_error("0x00", 0) == make_error(errc::hex_too_long));
    const std::size_t mib = 1u << 20;
    CHECK(from_hex("0x" + std::string(2 * mib, 'f')).value().size() == mib);
    CHECK(hex_error("0x" + std::string(2 * mib + 2, 'f')) == make_error(errc::hex_too_long));
}

TEST_CASE("hex: fixed-size values need exactly their length", "[core][hex]") {
    const std::string h32 = "0x" + std::string(64, 'a');
    const auto v = from_hex_fixed<32>(h32);
    REQUIRE(v);
    for (byte b : v->data) CHECK(b == 0xaa);
    CHECK(to_hex(*v) == h32);
    auto err = [](std::string_view s) {
        auto r = from_hex_fixed<32>(s);
        return r ? error_code{} : r.error();
    };
    CHECK(err("0x" + std::string(62, 'a')) == make_error(errc::hex_wrong_length));
    CHECK(err("0x" + std::string(66, 'a')) == make_error(errc::hex_wrong_length));
    CHECK(err("0x") == make_error(errc::hex_wrong_length));
    CHECK(err("0x" + std::string(63, 'a')) == make_error(errc::hex_odd_length));
    CHECK(err(std::string(64, 'a')) == make_error(errc::hex_missing_prefix));
    CHECK(err("0x" + std::string(63, 'a') + "A") == make_error(errc::hex_bad_digit));
    CHECK(from_hex_fixed<64>("0x" + std::string(128, '0')).value().is_zero());
    CHECK(from_hex_fixed<64>(h32).error() == make_error(errc::hex_wrong_length));
}
