// SHA-256 (NIST FIPS 180-2 examples), Ed25519 (RFC 8032 §7.1) and key files.
#include "../support/fixtures.hpp"

#include <ballotchain/crypto/key_file.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace ballotchain;
using namespace ballotchain::test;

namespace {
bytes text(std::string_view s) { return bytes(s.begin(), s.end()); }
std::string hex_of(const hash32& h) { return to_hex(h); }

struct tmpdir {
    std::filesystem::path p;
    tmpdir() {
        std::string t = (std::filesystem::temp_directory_path() / "bc-crypto-XXXXXX").string();
        p = ::mkdtemp(t.data());
    }
    ~tmpdir() { std::filesystem::remove_all(p); }
};
}  // namespace

TEST_CASE("SHA-256 matches the NIST examples", "[crypto]") {
    CHECK(hex_of(sha256::hash(text(""))) == "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hex_of(sha256::hash(text("abc"))) == "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex_of(sha256::hash(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))) ==
          "0x248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(hex_of(sha256::hash(text("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"))) ==
          "0xcf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(hex_of(sha256::hash(bytes(1'000'000, 'a'))) ==
          "0xcdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("incremental SHA-256 equals one-shot for every split", "[crypto]") {
    const bytes msg = text("The quick brown fox jumps over the lazy dog, twice: the quick brown fox...");
    const hash32 whole = sha256::hash(msg);
    for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
        sha256 h;
        h.update(byte_view(msg.data(), cut));
        h.update(byte_view(msg.data() + cut, msg.size() - cut));
        CHECK(h.finish() == whole);
    }
}

namespace {
struct rfc8032_vector {
    const char* secret;
    const char* pub;
    const char* msg;
    const char* sig;
};
// RFC 8032 §7.1: TEST 1, TEST 2, TEST 3 and TEST SHA(abc).
const rfc8032_vector vectors[] = {
    {"0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "0x",
     "0xe5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"0x4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "0x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "0x72",
     "0x92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"0xc5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "0xfc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "0xaf82",
     "0x6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"0x833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "0xec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "0xddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "0xdc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
};
}  // namespace

TEST_CASE("Ed25519 matches RFC 8032 test vectors", "[crypto]") {
    for (const auto& v : vectors) {
        INFO(v.pub);
        const auto kp = ed25519::from_secret(from_hex_fixed<32>(v.secret).value());
        CHECK(to_hex(kp.public_key()) == v.pub);
        const bytes msg = from_hex(v.msg).value();
        const signature sig = ed25519::sign(kp, msg);
        CHECK(to_hex(sig) == v.sig);
        CHECK(ed25519::verify(kp.public_key(), msg, sig));
    }
}

TEST_CASE("Ed25519 verify fails on any flipped bit of message, signature or key", "[crypto]") {
    const auto kp = key(1);
    const bytes msg = text("vote for candidate 3");
    const signature sig = ed25519::sign(kp, msg);
    REQUIRE(ed25519::verify(kp.public_key(), msg, sig));
    for (std::size_t i = 0; i < msg.size(); ++i) {
        bytes m = msg;
        m[i] ^= 0x01;
        CHECK_FALSE(ed25519::verify(kp.public_key(), m, sig));
    }
    for (std::size_t i = 0; i < 64; ++i) {
        signature s = sig;
        s.data[i] ^= 0x04;
        CHECK_FALSE(ed25519::verify(kp.public_key(), msg, s));
    }
    CHECK_FALSE(ed25519::verify(key(2).public_key(), msg, sig));
}

TEST_CASE("Ed25519 rejects a non-canonical S (S + L)", "[crypto]") {
    // L = 2^252 + 27742317777372353535851937790883648493, little-endian
    const std::array<int, 32> L = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                   0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                   0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
    const auto kp = key(3);
    const bytes msg = text("malleable?");
    signature sig = ed25519::sign(kp, msg);
    REQUIRE(ed25519::verify(kp.public_key(), msg, sig));
    // S' = S + L encodes the same scalar mod L; a strict verifier must refuse it
    int carry = 0;
    for (std::size_t i = 0; i < 32; ++i) {
        const int v = sig.data[32 + i] + L[i] + carry;
        sig.data[32 + i] = static_cast<byte>(v & 0xff);
        carry = v >> 8;
    }
    if (carry == 0 && (sig.data[63] & 0xe0) == 0) CHECK_FALSE(ed25519::verify(kp.public_key(), msg, sig));
}

TEST_CASE("key files: saved 0600, round trip, refuse overwrite", "[crypto]") {
    tmpdir d;
    const auto path = (d.p / "k.json").string();
    const auto kp = key(4);
    REQUIRE(save_key_file(path, kp));
    struct stat st{};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto back = load_key_file(path);
    REQUIRE(back);
    CHECK(back->public_key() == kp.public_key());
    CHECK(back->secret() == kp.secret());
    CHECK_FALSE(save_key_file(path, key(5)));  // exists
    CHECK(load_key_file(path)->public_key() == kp.public_key());
    CHECK(save_key_file(path, key(5), true));
    CHECK(load_key_file(path)->public_key() == key(5).public_key());
}

TEST_CASE("malformed key files give clear errors", "[crypto]") {
    const auto kp = key(6);
    const std::string pub = to_hex(kp.public_key()), sec = to_hex(kp.secret());
    auto err = [](std::string_view t) { return parse_key_file(t).error(); };
    CHECK(err("not json") == make_error(crypto::errc::key_file_malformed));
    CHECK(err("[]") == make_error(crypto::errc::key_file_malformed));
    CHECK(err(R"({"type":"ed25519"})") == make_error(crypto::errc::key_file_malformed));
    CHECK(err(R"({"type":"rsa","public_key":")" + pub + R"(","secret_key":")" + sec + "\"}") ==
          make_error(crypto::errc::key_type_unknown));
    CHECK(err(R"({"type":"ed25519","public_key":")" + pub + R"(","secret_key":"0x12"})") ==
          make_error(core::errc::hex_wrong_length));
    CHECK(err(R"({"type":"ed25519","public_key":")" + pub + R"(","secret_key":")" + sec.substr(2) + "\"}") ==
          make_error(core::errc::hex_missing_prefix));
    CHECK(err(R"({"type":"ed25519","public_key":")" + to_hex(key(7).public_key()) + R"(","secret_key":")" + sec +
              "\"}") == make_error(crypto::errc::key_mismatch));
    CHECK(err(R"({"type":1,"public_key":")" + pub + R"(","secret_key":")" + sec + "\"}") ==
          make_error(crypto::errc::key_file_malformed));
    tmpdir d;
    const auto big = (d.p / "big.json").string();
    std::ofstream(big) << std::string(max_key_file_bytes + 1, ' ');
    CHECK(load_key_file(big).error() == make_error(crypto::errc::key_file_too_large));
    CHECK_FALSE(load_key_file((d.p / "missing.json").string()));
}
