#pragma once
/// @file Teaches Catch2 to print the verifying client's results in assertions
/// such as `REQUIRE(c.submit_vote(tx))`: "ok", or the call's error (kind,
/// validator, message), or why an answer did not decode or verify. Used by the
/// client's and the backend's unit tests.

#include <ballotchain/client/answers.hpp>
#include <ballotchain/client/errors.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace Catch {
/// "ok", or the call's error (kind, validator, message) in a failed assertion.
template <class T>
struct StringMaker<ballotchain::client::call_result<T>> {
    static std::string convert(const ballotchain::client::call_result<T>& r) {
        return r ? std::string("ok") : "error: " + r.error().what() + " [" + ballotchain::client::describe(r.error().kind) + "]";
    }
};
/// "ok", or why an answer did not decode or verify.
template <class T>
struct StringMaker<ballotchain::client::decoded<T>> {
    static std::string convert(const ballotchain::client::decoded<T>& r) { return r ? std::string("ok") : "error: " + r.error(); }
};
}  // namespace Catch
