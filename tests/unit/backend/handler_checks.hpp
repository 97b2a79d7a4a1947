#pragma once
/// @file Looking at what a backend handler answered, for the backend's unit
/// tests: the http_error it threw, a JSON string's text.

#include <backend/http_util.hpp>

#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace ballotchain::test {

/// The backend::http_error that `f` throws (the test fails when it throws none).
template <class F>
backend::http_error error_of(F&& f) {
    try {
        f();
    } catch (const backend::http_error& e) {
        return e;
    }
    FAIL("no http_error thrown");
    return {};
}

/// A JSON string's text (boost::json::value does not compare with std::string).
inline std::string text(const boost::json::value& v) { return std::string(v.as_string()); }

}  // namespace ballotchain::test
