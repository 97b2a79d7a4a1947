// core/bytes.hpp: fixed_bytes value semantics and its std::hash.
#include <ballotchain/core/bytes.hpp>

#include <catch2/catch.hpp>

#include <unordered_set>

using namespace ballotchain;

TEST_CASE("fixed_bytes: zero-initialised, sized, viewable, copied from a view", "[core]") {
    hash32 a;
    CHECK(a.is_zero());
    CHECK(hash32::size() == 32);
    CHECK(signature::size() == 64);
    CHECK(a.view().size() == 32);
    CHECK(a.view().data() == a.data.data());
    CHECK(a.end() - a.begin() == 32);
    bytes src(32);
    for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<byte>(0xa0 + i);
    const auto b = hash32::from(src);
    CHECK_FALSE(b.is_zero());
    CHECK(bytes(b.begin(), b.end()) == src);
    a.data[31] = 1;
    CHECK_FALSE(a.is_zero());
}

TEST_CASE("fixed_bytes: equality and lexicographic order", "[core]") {
    hash32 a, b;
    CHECK(a == b);
    b.data[31] = 1;
    CHECK(a != b);
    CHECK(a < b);
    hash32 c;
    c.data[0] = 1;  // first byte dominates
    CHECK(b < c);
    CHECK(c > b);
    CHECK((c <=> c) == std::strong_ordering::equal);
}

TEST_CASE("std::hash of fixed_bytes changes when any single byte changes", "[core]") {
    // Each word is mixed by a bijection (xor, then multiply by an odd constant),
    // so a change confined to one word always changes the result.
    auto check_all = [](auto v) {
        const auto h0 = std::hash<decltype(v)>{}(v);
        for (std::size_t i = 0; i < v.size(); ++i)
            for (byte bit = 1; bit != 0; bit = static_cast<byte>(bit << 1)) {
                auto w = v;
                w.data[i] ^= bit;
                INFO("byte " << i << " bit " << int(bit));
                CHECK(std::hash<decltype(v)>{}(w) != h0);
            }
    };
    hash32 h;
    for (std::size_t i = 0; i < h.size(); ++i) h.data[i] = static_cast<byte>(i * 7);
    check_all(h);
    check_all(hash32{});
    check_all(signature{});
}

TEST_CASE("std::hash of fixed_bytes: values differing only in their last bytes do not collide", "[core]") {
    std::unordered_set<std::size_t> seen;
    for (int i = 0; i < 4096; ++i) {
        hash32 h;
        h.data[30] = static_cast<byte>(i >> 8);
        h.data[31] = static_cast<byte>(i);
        seen.insert(std::hash<hash32>{}(h));
    }
    CHECK(seen.size() == 4096);  // a hash of the first word only would give 1 value
}

TEST_CASE("as_bytes views a string; to_bytes copies it", "[core]") {
    const std::string s("a\0b", 3);
    const auto v = as_bytes(s);
    CHECK(v.size() == 3);
    CHECK(v[0] == 'a');
    CHECK(v[1] == 0);
    CHECK(to_bytes(s) == bytes{'a', 0, 'b'});
}
