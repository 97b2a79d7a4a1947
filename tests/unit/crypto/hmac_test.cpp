// crypto/hmac.hpp: HMAC-SHA256 (RFC 4231 test cases) and PBKDF2-HMAC-SHA256
// (RFC 7914 section 11 vectors).
#include <ballotchain/crypto/hmac.hpp>

#include <ballotchain/core/hex.hpp>

#include <catch2/catch.hpp>

using namespace ballotchain;

namespace {
}  // namespace

TEST_CASE("HMAC-SHA256 matches RFC 4231 test cases 1, 2 and 6", "[crypto][hmac]") {
    CHECK(to_hex(hmac_sha256::mac(bytes(20, 0x0b), to_bytes("Hi There"))) ==
          "0xb0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(to_hex(hmac_sha256::mac(to_bytes("Jefe"), to_bytes("what do ya want for nothing?"))) ==
          "0x5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // key longer than the block size
    CHECK(to_hex(hmac_sha256::mac(bytes(131, 0xaa), to_bytes("Test Using Larger Than Block-Size Key - Hash Key First"))) ==
          "0x60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("PBKDF2-HMAC-SHA256 matches the RFC 7914 vectors", "[crypto][pbkdf2]") {
    CHECK(to_hex(hmac_sha256::pbkdf2("passwd", to_bytes("salt"), 1, 64)) ==
          "0x55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
          "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    CHECK(to_hex(hmac_sha256::pbkdf2("Password", to_bytes("NaCl"), 80000, 64)) ==
          "0x4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
          "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
}

TEST_CASE("equal_ct compares contents and lengths", "[crypto][hmac]") {
    CHECK(hmac_sha256::equal_ct(to_bytes("abc"), to_bytes("abc")));
    CHECK_FALSE(hmac_sha256::equal_ct(to_bytes("abc"), to_bytes("abd")));
    CHECK_FALSE(hmac_sha256::equal_ct(to_bytes("abc"), to_bytes("ab")));
    CHECK(hmac_sha256::equal_ct(bytes{}, bytes{}));
}
