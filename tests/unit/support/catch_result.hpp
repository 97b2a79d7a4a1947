#pragma once
/// @file Teaches Catch2 to print ballotchain::result<T> (boost::system::result)
/// in assertions such as `REQUIRE(r)`: "ok" or "error: <message>".
/// Needed because boost's own operator<< requires T to be printable.

#include <ballotchain/core/error.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, boost::system::error_code>> {
    static std::string convert(const boost::system::result<T, boost::system::error_code>& r) {
        return r ? std::string("ok") : "error: " + r.error().message() + " [" + r.error().category().name() + "]";
    }
};
}  // namespace Catch
