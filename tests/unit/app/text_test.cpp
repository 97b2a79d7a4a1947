#include <ballotchain/app/text.hpp>

#include <catch2/catch.hpp>

// The apps' text helpers: ISO-8601 times, strict base64, the query-string parser, lower case.

using namespace ballotchain;
using namespace ballotchain::app;

TEST_CASE("iso_time and parse_iso_time", "[app][text]") {
    CHECK(iso_time(0) == "1970-01-01T00:00:00.000Z");
    CHECK(iso_time(1'762'511'400'123ull) == "2025-11-07T10:30:00.123Z");
    CHECK(parse_iso_time("2025-11-07T10:30:00Z") == 1'762'511'400'000ull);
    CHECK(parse_iso_time("2025-11-07T10:30:00.1Z") == 1'762'511'400'100ull);
    CHECK(parse_iso_time("2025-11-07T10:30:00.12345Z") == 1'762'511'400'123ull);
    for (std::uint64_t ms : {0ull, 1ull, 999ull, 1'762'511'400'123ull, 253'402'300'799'999ull})
        CHECK(parse_iso_time(iso_time(ms)) == ms);
    for (const char* bad : {"", "2025-11-07", "2025-11-07T10:30:00", "2025-11-07T10:30:00+01:00", "2025-11-07T10:30:00.Z",
                            "2025-13-07T10:30:00Z", "2025-11-07T24:00:00Z", "1969-12-31T23:59:59Z",
                            "2025-11-07T10:30:00Zjunk"})
        CHECK_FALSE(parse_iso_time(bad));
}

TEST_CASE("encode_base64: the RFC 4648 section 10 vectors, and decode_base64 reads it back", "[app][text]") {
    const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                                     {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                                     {"foobar", "Zm9vYmFy"}};
    for (auto [plain, b64] : vectors) {
        CHECK(encode_base64(as_bytes(plain)) == b64);
        CHECK(decode_base64(b64, 16) == bytes(plain.begin(), plain.end()));
    }
    bytes all(256);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<byte>(i);
    CHECK(decode_base64(encode_base64(all), 256) == all);
}

TEST_CASE("decode_base64 is strict and bounded", "[app][text]") {
    CHECK(decode_base64("", 10) == bytes{});
    CHECK(decode_base64("Zg==", 10) == bytes{'f'});
    CHECK(decode_base64("Zm8=", 10) == bytes{'f', 'o'});
    CHECK(decode_base64("Zm9v", 10) == bytes{'f', 'o', 'o'});
    CHECK(decode_base64("+/+/", 10) == bytes{0xfb, 0xff, 0xbf});
    CHECK_FALSE(decode_base64("Zg", 10));      // padding required
    CHECK_FALSE(decode_base64("Zh==", 10));    // unused bits not zero
    CHECK_FALSE(decode_base64("Zm9=", 10));    // unused bits not zero
    CHECK_FALSE(decode_base64("Z===", 10));    // too much padding
    CHECK_FALSE(decode_base64("Zg==Zm9v", 10));  // data after padding
    CHECK_FALSE(decode_base64("Zm9-", 10));    // URL alphabet
    CHECK_FALSE(decode_base64("Zm9 ", 10));
    CHECK(decode_base64("Zm9v", 3));
    CHECK_FALSE(decode_base64("Zm9v", 2));     // over the bound
    CHECK_FALSE(decode_base64(std::string(4000, 'A'), 100));  // refused before decoding
}

TEST_CASE("query_param", "[app][text]") {
    CHECK(query_param("a=1&b=2", "a") == "1");
    CHECK(query_param("a=1&b=2", "b") == "2");
    CHECK(query_param("a=1&a=2", "a") == "1");
    CHECK(query_param("ab=1&b=", "b") == "");
    CHECK(query_param("flag&x=1", "flag") == "");
    CHECK(query_param("a=1=2", "a") == "1=2");
    CHECK_FALSE(query_param("", "a"));
    CHECK_FALSE(query_param("ab=1", "a"));
    CHECK_FALSE(query_param("b=a", "a"));
    CHECK(query_param("&&a=1&", "a") == "1");  // empty items are skipped
    CHECK_FALSE(query_param("A=1", "a"));       // keys are compared exactly
    CHECK(query_param("a=%31", "a") == "%31");  // no percent-decoding
}

TEST_CASE("query_param: a bare key is an empty value or no occurrence", "[app][text]") {
    CHECK(query_param("flag", "flag", bare_key::empty_value) == "");
    CHECK(query_param("flag&flag=1", "flag", bare_key::empty_value) == "");  // the first occurrence wins
    CHECK_FALSE(query_param("flag", "flag", bare_key::ignored));
    CHECK(query_param("flag&flag=1", "flag", bare_key::ignored) == "1");      // the search goes on
    CHECK(query_param("flag=&flag=1", "flag", bare_key::ignored) == "");      // "flag=" is an occurrence
    CHECK(query_param("flag&x=1", "x", bare_key::ignored) == "1");
}

TEST_CASE("lower", "[app][text]") {
    CHECK(lower("MiXeD@Example.ORG") == "mixed@example.org");
    CHECK(lower("\xc3\x89t\xc3\xa9") == "\xc3\x89t\xc3\xa9");  // ASCII only: other bytes stay
}
