// crypto/sha256.hpp: NIST FIPS 180-2 examples, padding boundaries, incremental == one-shot.
#include <ballotchain/crypto/sha256.hpp>

#include <ballotchain/core/hex.hpp>

#include <catch2/catch.hpp>

using namespace ballotchain;

namespace {
const char* const msg448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const char* const msg896 =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
}  // namespace

TEST_CASE("SHA-256 matches the NIST FIPS 180-2 examples", "[crypto][sha256]") {
    CHECK(to_hex(sha256::hash(to_bytes(""))) == "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(to_hex(sha256::hash(to_bytes("abc"))) == "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(to_hex(sha256::hash(to_bytes(msg448))) == "0x248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(to_hex(sha256::hash(to_bytes(msg896))) == "0xcf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(to_hex(sha256::hash(bytes(1'000'000, 'a'))) ==
          "0xcdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 around the padding boundaries (55/56/63/64/65/119/120/128 bytes)", "[crypto][sha256]") {
    // Expected digests of n times 'a', computed with Python's hashlib (an independent implementation).
    const std::pair<std::size_t, const char*> cases[] = {
        {55, "0x9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "0xb35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "0x7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "0xffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "0x635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "0x31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "0x2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
        {128, "0x6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
    };
    for (const auto& [n, want] : cases) {
        INFO(n << " bytes");
        CHECK(to_hex(sha256::hash(bytes(n, 'a'))) == want);
    }
}

TEST_CASE("incremental SHA-256 equals one-shot for every split point", "[crypto][sha256]") {
    const bytes msg = to_bytes(msg896);
    const hash32 whole = sha256::hash(msg);
    for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
        sha256 h;
        h.update(byte_view(msg.data(), cut));
        h.update(byte_view(msg.data() + cut, msg.size() - cut));
        INFO("cut at " << cut);
        CHECK(h.finish() == whole);
    }
}

TEST_CASE("incremental SHA-256 in chunks of every size from 1 to 130, and empty updates", "[crypto][sha256]") {
    bytes msg(1000);
    for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<byte>(i * 31 + 7);
    const hash32 whole = sha256::hash(msg);
    for (std::size_t chunk = 1; chunk <= 130; ++chunk) {
        sha256 h;
        for (std::size_t off = 0; off < msg.size(); off += chunk) {
            h.update(byte_view{});
            h.update(byte_view(msg.data() + off, std::min(chunk, msg.size() - off)));
        }
        INFO("chunk " << chunk);
        CHECK(h.finish() == whole);
    }
}

TEST_CASE("one million 'a' fed one byte at a time gives the NIST digest", "[crypto][sha256]") {
    sha256 h;
    const byte a = 'a';
    for (int i = 0; i < 1'000'000; ++i) h.update(byte_view(&a, 1));
    CHECK(to_hex(h.finish()) == "0xcdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
