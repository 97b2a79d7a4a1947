// crypto/noise.hpp: Noise_XX_25519_ChaChaPoly_BLAKE2b against the cacophony test vector
// (the vectors published with the Noise reference implementations), and its failure paths.
#include <ballotchain/crypto/noise.hpp>

#include <ballotchain/core/hex.hpp>

#include <catch2/catch.hpp>

using namespace ballotchain;

namespace {

bytes hx(std::string_view s) {
    auto b = from_hex("0x" + std::string(s), 1 << 16);
    REQUIRE(b.has_value());
    return *b;
}
noise::key32 k32(std::string_view s) {
    auto b = hx(s);
    REQUIRE(b.size() == 32);
    noise::key32 k;
    std::copy(b.begin(), b.end(), k.begin());
    return k;
}

// cacophony.txt, "Noise_XX_25519_ChaChaPoly_BLAKE2b" (no PSK).
constexpr std::string_view prologue = "4a6f686e2047616c74";
constexpr std::string_view init_static = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
constexpr std::string_view init_ephemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
constexpr std::string_view resp_static = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
constexpr std::string_view resp_ephemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
constexpr std::string_view handshake_hash =
    "8cf47d7b3cb5804c0109d48e8bcdbee2cbb65687d8ea2c92994ca361fb86151ad93627b98936cbb32de56e8abb21def3925011ac3e35db9cbeea73ab9a4392c2";
struct msg {
    std::string_view payload, ciphertext;
};
constexpr msg messages[] = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f1448088430505b6745ce64a5f33f0e8e3b83f11ce8802bca507f4f2"
     "d8b564dbe277e1966116e132faa2dfd70b8b077b9f94b913df5056ae1319469b824a98d54bbaa82c325595587064f978c4b6d104f7596e"
     "6f"},
    {"462e20412e20486179656b",
     "99579e1c1ee15e422a57ddd6b16d37087b17558e8369c18991b4b2ca3a824abf904cdcf5458b5431a75af034ca9e9b982de039eaaf1567"
     "75e2d580cd4e5ebae89c3f8cb2594b556d8a8169"},
    {"4361726c204d656e676572", "fc56eea290b3f3a21aac0c70cd5787b5ee99be37d2f4d751329b55"},
    {"4a65616e2d426170746973746520536179", "bb31c9da10d5639a4cdb88a12f5c61de41bbc7df09bf75d94f8184fe4157f5c68f"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "f6199cadb152fb27f82be0a0891ec76a33598ae92a46cab2fb5a8ed5bf48b7f267f8370af7"},
};

}  // namespace

TEST_CASE("noise: XX_25519_ChaChaPoly_BLAKE2b reproduces the cacophony test vector", "[crypto][noise]") {
    const auto pro = hx(prologue);
    noise::handshake_xx init(true, pro, noise::keypair_from_secret(k32(init_static)),
                             noise::keypair_from_secret(k32(init_ephemeral)));
    noise::handshake_xx resp(false, pro, noise::keypair_from_secret(k32(resp_static)),
                             noise::keypair_from_secret(k32(resp_ephemeral)));
    for (int i = 0; i < 3; ++i) {
        auto& w = i % 2 == 0 ? init : resp;
        auto& r = i % 2 == 0 ? resp : init;
        bytes out, got;
        REQUIRE(w.write_message(hx(messages[i].payload), out));
        CHECK(to_hex(out) == "0x" + std::string(messages[i].ciphertext));
        REQUIRE(r.read_message(out, got));
        CHECK(got == hx(messages[i].payload));
    }
    REQUIRE(init.done());
    REQUIRE(resp.done());
    CHECK(to_hex(byte_view(init.handshake_hash())) == "0x" + std::string(handshake_hash));
    CHECK(init.handshake_hash() == resp.handshake_hash());
    CHECK(*init.remote_static() == noise::keypair_from_secret(k32(resp_static)).pub);
    CHECK(*resp.remote_static() == noise::keypair_from_secret(k32(init_static)).pub);

    // transport messages keep alternating: responder, initiator, responder
    auto [i_send, i_recv] = init.split();
    auto [r_send, r_recv] = resp.split();
    for (int i = 3; i < 6; ++i) {
        auto& send = i % 2 == 0 ? i_send : r_send;
        auto& recv = i % 2 == 0 ? r_recv : i_recv;
        bytes out, got;
        REQUIRE(send.encrypt_with_ad({}, hx(messages[i].payload), out));
        CHECK(to_hex(out) == "0x" + std::string(messages[i].ciphertext));
        REQUIRE(recv.decrypt_with_ad({}, out, got));
        CHECK(got == hx(messages[i].payload));
    }
}

TEST_CASE("noise: a changed byte, another prologue or a replayed message fails authentication", "[crypto][noise]") {
    const auto a = noise::generate_keypair(), b = noise::generate_keypair();
    const bytes pro{1, 2, 3};

    SECTION("a flipped bit anywhere in message 2 is refused by the initiator") {
        for (std::size_t bit = 0; bit < noise::handshake_xx::overhead(1) * 8; bit += 7) {
            noise::handshake_xx i(true, pro, a), r(false, pro, b);
            bytes m1, m2, p;
            REQUIRE(i.write_message({}, m1));
            REQUIRE(r.read_message(m1, p));
            REQUIRE(r.write_message({}, m2));
            m2[bit / 8] ^= static_cast<byte>(1u << (bit % 8));
            CHECK_FALSE(i.read_message(m2, p));
        }
    }
    SECTION("another prologue (another chain) fails at message 2") {
        noise::handshake_xx i(true, pro, a), r(false, bytes{9}, b);
        bytes m1, m2, p;
        REQUIRE(i.write_message({}, m1));
        REQUIRE(r.read_message(m1, p));
        REQUIRE(r.write_message({}, m2));
        CHECK_FALSE(i.read_message(m2, p));
    }
    SECTION("message 3 of one handshake does not complete another (fresh responder ephemeral)") {
        noise::handshake_xx i(true, pro, a), r1(false, pro, b), r2(false, pro, b);
        bytes m1, m2, m3, p, x;
        REQUIRE(i.write_message({}, m1));
        REQUIRE(r1.read_message(m1, p));
        REQUIRE(r2.read_message(m1, p));  // a replay of message 1 reaches a second responder
        REQUIRE(r1.write_message({}, m2));
        REQUIRE(r2.write_message({}, x));
        REQUIRE(i.read_message(m2, p));
        REQUIRE(i.write_message({}, m3));
        CHECK(r1.read_message(m3, p));
        CHECK_FALSE(r2.read_message(m3, p));
        CHECK_FALSE(r2.done());
    }
    SECTION("out of turn, truncated, or a small-order ephemeral key") {
        noise::handshake_xx i(true, pro, a), r(false, pro, b);
        bytes out, p;
        CHECK_FALSE(r.write_message({}, out));        // the responder does not speak first
        CHECK_FALSE(r.read_message(bytes(31), p));    // shorter than a key
        bytes zero_e(32, 0);                          // the identity point: DH gives all zeros
        CHECK(r.read_message(zero_e, p));             // message 1 has no DH yet ...
        CHECK_FALSE(r.write_message({}, out));        // ... ee with it fails, the handshake aborts
    }
    SECTION("transport: a replayed or reordered record fails; nonces advance only on success") {
        noise::handshake_xx i(true, pro, a), r(false, pro, b);
        bytes m1, m2, m3, p;
        REQUIRE(i.write_message({}, m1));
        REQUIRE(r.read_message(m1, p));
        REQUIRE(r.write_message({}, m2));
        REQUIRE(i.read_message(m2, p));
        REQUIRE(i.write_message({}, m3));
        REQUIRE(r.read_message(m3, p));
        auto [is, ir] = i.split();
        auto [rs, rr] = r.split();
        bytes c1, c2, got;
        REQUIRE(is.encrypt_with_ad({}, bytes{1}, c1));
        REQUIRE(is.encrypt_with_ad({}, bytes{2}, c2));
        CHECK_FALSE(rr.decrypt_with_ad({}, c2, got));  // out of order
        CHECK(rr.nonce() == 0);
        REQUIRE(rr.decrypt_with_ad({}, c1, got));
        CHECK_FALSE(rr.decrypt_with_ad({}, c1, got));  // replay
        REQUIRE(rr.decrypt_with_ad({}, c2, got));
        CHECK(got == bytes{1, 2});
    }
}
