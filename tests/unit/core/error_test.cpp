// core/error.hpp + core/errc.hpp: one category per layer enum, readable messages.
#include <ballotchain/core/errc.hpp>
#include <ballotchain/core/error.hpp>

#include "../support/catch_result.hpp"

#include <set>

using namespace ballotchain;

namespace {
enum class other_errc { ok = 0, first };
const char* category_name(other_errc) noexcept { return "test.other"; }
std::string describe(other_errc) { return "other"; }
}  // namespace

TEST_CASE("errors: each core code has its category and a message of its own", "[core]") {
    const error_code ec = make_error(core::errc::truncated);
    CHECK(std::string(ec.category().name()) == "ballotchain.core");
    CHECK(ec.message() == "input is truncated");
    CHECK(is_category<core::errc>(ec));
    const error_code implicit = core::errc::truncated;  // is_error_code_enum
    CHECK(implicit == ec);
    std::set<std::string> messages;
    for (int e = 1; e <= static_cast<int>(core::errc::bad_json); ++e) {
        const auto m = make_error(static_cast<core::errc>(e)).message();
        CHECK_FALSE(m.empty());
        CHECK(m != "unknown core error");
        messages.insert(m);
    }
    CHECK(messages.size() == static_cast<std::size_t>(core::errc::bad_json));
}

TEST_CASE("errors: equal values of different enums are different errors", "[core]") {
    const error_code a = make_error(core::errc::hex_missing_prefix);
    const error_code b = make_error(other_errc::first);
    CHECK(a.value() == b.value());
    CHECK(a != b);
    CHECK_FALSE(is_category<core::errc>(b));
    CHECK(std::string(b.category().name()) == "test.other");
}

TEST_CASE("result<T> carries a value or an error", "[core]") {
    result<int> ok = 5;
    result<int> bad = make_error(core::errc::bad_tag);
    CHECK(ok.value() == 5);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == make_error(core::errc::bad_tag));
}
