// core/wire.hpp: big-endian writer; bounded, sticky-error reader.
#include <ballotchain/core/wire.hpp>

#include "../support/catch_result.hpp"

using namespace ballotchain;
using core::errc;

TEST_CASE("wire: the writer emits big-endian integers, raw bytes and u32-prefixed strings", "[core][wire]") {
    bytes out;
    wire::writer w(out);
    w.u8(0x01);
    w.u32(0x02030405);
    w.u64(0x060708090a0b0c0dull);
    w.var(bytes{0xaa, 0xbb});
    w.var(bytes{});
    fixed_bytes<3> f;
    f.data = {0x11, 0x22, 0x33};
    w.fixed(f);
    w.raw(bytes{0x44});
    CHECK(out == bytes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
                       0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44});
    bytes ext;
    wire::writer w2(ext);
    w2.u32(0xffffffffu);
    w2.u64(0);
    w2.u64(~0ull);
    CHECK(ext == bytes{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
}

TEST_CASE("wire: the reader round-trips what the writer wrote", "[core][wire]") {
    bytes out;
    wire::writer w(out);
    w.u8(0xfe);
    w.u32(0x80000001u);
    w.u64(0x8000000000000001ull);
    w.var(bytes{0xaa, 0xbb});
    hash32 h;
    h.data[0] = 9;
    w.fixed(h);
    wire::reader r(out);
    std::uint8_t a = 0;
    std::uint32_t b = 0;
    std::uint64_t c = 0;
    bytes d;
    hash32 e;
    CHECK(r.u8(a));
    CHECK(r.u32(b));
    CHECK(r.u64(c));
    CHECK(r.position() == 13);
    CHECK(r.var(d, 2));
    CHECK(r.fixed(e));
    CHECK(r.remaining() == 0);
    CHECK(r.finish());
    CHECK(r.ok());
    CHECK(a == 0xfe);
    CHECK(b == 0x80000001u);
    CHECK(c == 0x8000000000000001ull);
    CHECK(d == bytes{0xaa, 0xbb});
    CHECK(e == h);
}

TEST_CASE("wire: every fixed-width read of too few bytes is truncated", "[core][wire]") {
    const bytes eight{1, 2, 3, 4, 5, 6, 7, 8};
    for (std::size_t n = 0; n < 8; ++n) {
        INFO(n << " bytes available");
        const byte_view in(eight.data(), n);
        {
            wire::reader r(in);
            std::uint64_t v = 42;
            CHECK_FALSE(r.u64(v));
            CHECK(r.error() == make_error(errc::truncated));
            CHECK(v == 42);  // untouched
        }
        if (n < 4) {
            wire::reader r(in);
            std::uint32_t v = 0;
            CHECK_FALSE(r.u32(v));
            CHECK(r.error() == make_error(errc::truncated));
        }
        {
            wire::reader r(in);
            fixed_bytes<8> v;
            CHECK_FALSE(r.fixed(v));
            CHECK(r.error() == make_error(errc::truncated));
        }
    }
    wire::reader r(byte_view{});
    std::uint8_t v = 0;
    CHECK_FALSE(r.u8(v));
    CHECK(r.error() == make_error(errc::truncated));
}

TEST_CASE("wire: var checks its length against the bound, then against the input, before allocating", "[core][wire]") {
    const bytes five{0, 0, 0, 5, 1, 2, 3, 4, 5};
    {
        wire::reader r(five);
        bytes v;
        CHECK(r.var(v, 5));  // exactly the bound
        CHECK(v == bytes{1, 2, 3, 4, 5});
        CHECK(r.finish());
    }
    {
        wire::reader r(five);
        bytes v{9};
        CHECK_FALSE(r.var(v, 4));  // 5 > bound 4
        CHECK(r.error() == make_error(errc::length_too_large));
        CHECK(v == bytes{9});
    }
    {
        wire::reader r(byte_view(five.data(), 8));  // body one byte short
        bytes v{9};
        CHECK_FALSE(r.var(v, 100));
        CHECK(r.error() == make_error(errc::truncated));
        CHECK(v == bytes{9});
    }
    {
        const bytes huge{0xff, 0xff, 0xff, 0xff};  // 4 GiB claimed, nothing there
        wire::reader r(huge);
        bytes v;
        CHECK_FALSE(r.var(v, ~std::size_t{0}));
        CHECK(r.error() == make_error(errc::truncated));
        CHECK(v.capacity() == 0);
    }
    {
        const bytes truncated_prefix{0, 0, 1};
        wire::reader r(truncated_prefix);
        bytes v;
        CHECK_FALSE(r.var(v, 100));
        CHECK(r.error() == make_error(errc::truncated));
    }
    {
        const bytes empty{0, 0, 0, 0};
        wire::reader r(empty);
        bytes v{1};
        CHECK(r.var(v, 0));
        CHECK(v.empty());
        CHECK(r.finish());
    }
}

TEST_CASE("wire: counts are bounded by max_count and by the bytes left", "[core][wire]") {
    auto with_count = [](std::uint32_t n, std::size_t payload) {
        // built in one allocation: gcc 12 -O3 warns (-Warray-bounds, a false positive) on resize after push_back
        bytes b(4 + payload, 0);
        for (int i = 0; i < 4; ++i) b[static_cast<std::size_t>(i)] = static_cast<byte>(n >> (24 - 8 * i));
        return b;
    };
    std::uint32_t n = 0;
    {
        const auto b = with_count(3, 30);
        wire::reader r(b);
        CHECK(r.count(n, 3, 10));  // 3 elements of >= 10 bytes in 30 bytes
        CHECK(n == 3);
    }
    {
        const auto b = with_count(4, 30);
        wire::reader r(b);
        CHECK_FALSE(r.count(n, 3, 1));
        CHECK(r.error() == make_error(errc::length_too_large));
    }
    {
        const auto b = with_count(3, 29);
        wire::reader r(b);
        CHECK_FALSE(r.count(n, 100, 10));
        CHECK(r.error() == make_error(errc::truncated));
    }
    {
        const auto b = with_count(0xffffffffu, 0);
        wire::reader r(b);
        CHECK_FALSE(r.count(n, 0xffffffffu, 100));  // 4 billion elements of 100 bytes in 0 bytes
        CHECK(r.error() == make_error(errc::truncated));
    }
    {
        const auto b = with_count(1000, 0);
        wire::reader r(b);
        CHECK(r.count(n, 1000, 0));  // no size floor: only the bound applies
        CHECK(n == 1000);
    }
    {
        const bytes b{0, 0};
        wire::reader r(b);
        CHECK_FALSE(r.count(n, 10, 1));
        CHECK(r.error() == make_error(errc::truncated));
    }
}

TEST_CASE("wire: trailing bytes fail finish(); the first error sticks", "[core][wire]") {
    const bytes one_more{0, 0, 0, 1, 9};
    {
        wire::reader r(one_more);
        std::uint32_t v = 0;
        CHECK(r.u32(v));
        CHECK(r.remaining() == 1);
        CHECK_FALSE(r.finish());
        CHECK(r.error() == make_error(errc::trailing_bytes));
    }
    {
        wire::reader r(one_more);
        bytes v;
        CHECK_FALSE(r.var(v, 0));  // length 1 > bound 0
        CHECK_FALSE(r.ok());
        CHECK(r.remaining() == 0);
        std::uint8_t x = 0;
        CHECK_FALSE(r.u8(x));  // input is there, but the reader has failed
        CHECK(x == 0);
        CHECK_FALSE(r.fail(errc::bad_tag));
        CHECK_FALSE(r.finish());
        CHECK(r.error() == make_error(errc::length_too_large));  // still the first error
    }
    {
        wire::reader r(byte_view{});
        CHECK(r.finish());
    }
}
