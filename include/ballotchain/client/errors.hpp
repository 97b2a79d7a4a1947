#pragma once
/// @file What a call of the verifying client (client.hpp) can come to besides
/// its answer: errors as values, with the validator's JSON-RPC code and message
/// kept when it refused, and the validator named when it misbehaved.

#include <ballotchain/core/error.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>

namespace ballotchain::client {

/// Why a call has no answer of the kind asked for.
enum class errc {
    ok = 0,
    unreachable = 1,  ///< no validator answered (every one tried, with retries, within the deadline)
    timeout,          ///< the call's deadline passed
    cancelled,        ///< the caller cancelled it
    rpc_error,        ///< a validator refused with a JSON-RPC error (code and message kept)
    bad_answer,       ///< every validator that answered gave something that does not decode
    misbehaving,      ///< every validator that answered gave something that fails verification
    not_found,        ///< the thing asked for is not on the chain (yet)
    no_validators,    ///< the client has no validators configured
};

inline const char* category_name(errc) noexcept { return "ballotchain.client"; }

inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::unreachable: return "no validator answered";
    case errc::timeout: return "deadline passed";
    case errc::cancelled: return "cancelled";
    case errc::rpc_error: return "refused by the validator";
    case errc::bad_answer: return "the validator's answer does not decode";
    case errc::misbehaving: return "the validator's answer fails verification";
    case errc::not_found: return "not found";
    case errc::no_validators: return "no validators configured";
    }
    return "unknown client error";
}

inline error_code make_error_code(errc e) noexcept { return make_error(e); }

/// A failed call: the kind, the JSON-RPC error when a validator refused, and
/// which validator said what.
struct call_error {
    errc kind = errc::unreachable;
    std::int64_t rpc_code = 0;  ///< kind == rpc_error: the JSON-RPC error code (rpc/errors.hpp)
    std::string message;        ///< the validator's message, or what went wrong, in words
    std::string node;           ///< the validator concerned ("" when none answered)

    error_code code() const noexcept { return make_error(kind); }
    bool is_rpc(std::int64_t c) const noexcept { return kind == errc::rpc_error && rpc_code == c; }
    /// "validator-2: duplicate vote ... (JSON-RPC -32003)" and the like.
    std::string what() const {
        std::string s = node.empty() ? std::string() : node + ": ";
        s += message.empty() ? describe(kind) : message;
        if (kind == errc::rpc_error) s += " (JSON-RPC " + std::to_string(rpc_code) + ")";
        return s;
    }
};

/// Prints what(): for logs, and for test frameworks that print a failed call_result.
inline std::ostream& operator<<(std::ostream& os, const call_error& e) { return os << e.what(); }

/// The exception `call_result<T>::value()` throws on an error.
class call_failed : public std::runtime_error {
public:
    explicit call_failed(call_error e) : std::runtime_error(e.what()), error_(std::move(e)) {}
    const call_error& error() const noexcept { return error_; }

private:
    call_error error_;
};

/// Found by boost::system::result<T, call_error>::value() through ADL.
[[noreturn]] inline void throw_exception_from_error(const call_error& e, const boost::source_location&) {
    throw call_failed(e);
}

/// The answer of a call, or why there is none.
template <class T>
using call_result = boost::system::result<T, call_error>;

}  // namespace ballotchain::client

BALLOTCHAIN_ERROR_ENUM(ballotchain::client::errc)
