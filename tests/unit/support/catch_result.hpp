#pragma once
/// @file Teaches Catch2 to print ballotchain::result<T> (boost::system::result)
/// and storage_ns::db_result<T> in assertions such as `REQUIRE(r)`: "ok" or
/// "error: <message>". Needed because boost's own operator<< requires T to be
/// printable.

#include <ballotchain/core/error.hpp>
#include <ballotchain/storage/db_error.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, boost::system::error_code>> {
    static std::string convert(const boost::system::result<T, boost::system::error_code>& r) {
        return r ? std::string("ok") : "error: " + r.error().message() + " [" + r.error().category().name() + "]";
    }
};

/// A database result: "ok", or the kind of failure and the database's own message.
template <class T>
struct StringMaker<ballotchain::storage_ns::db_result<T>> {
    static std::string convert(const ballotchain::storage_ns::db_result<T>& r) {
        return r ? std::string("ok") : "error: " + r.error().code.message() + ": " + r.error().message;
    }
};

}  // namespace Catch
