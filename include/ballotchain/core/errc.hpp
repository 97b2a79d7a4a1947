#pragma once
/// @file Errors of the core layer: hex parsing and the binary wire codec.

#include <ballotchain/core/error.hpp>

namespace ballotchain::core {

enum class errc {
    ok = 0,
    hex_missing_prefix,   ///< hex text does not start with "0x"
    hex_odd_length,       ///< an odd number of hex digits
    hex_bad_digit,        ///< a character outside 0-9a-f (uppercase is rejected)
    hex_wrong_length,     ///< decoded length differs from the fixed size expected
    hex_too_long,         ///< more bytes than the caller's bound
    truncated,            ///< input ended inside a field
    trailing_bytes,       ///< bytes left over after a complete value
    length_too_large,     ///< a length or count prefix exceeds its bound
    bad_tag,              ///< unknown type tag
    non_canonical,        ///< a value has another, canonical encoding
    bad_json,             ///< JSON of the wrong shape or type
};

inline const char* category_name(errc) noexcept { return "ballotchain.core"; }

inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::hex_missing_prefix: return "hex string must start with 0x";
    case errc::hex_odd_length: return "hex string has an odd number of digits";
    case errc::hex_bad_digit: return "hex string has a character other than 0-9 a-f";
    case errc::hex_wrong_length: return "hex string has the wrong length";
    case errc::hex_too_long: return "hex string is too long";
    case errc::truncated: return "input is truncated";
    case errc::trailing_bytes: return "trailing bytes after the encoded value";
    case errc::length_too_large: return "length or count exceeds its bound";
    case errc::bad_tag: return "unknown type tag";
    case errc::non_canonical: return "non-canonical encoding";
    case errc::bad_json: return "malformed JSON value";
    }
    return "unknown core error";
}

inline error_code make_error_code(errc e) noexcept { return make_error(e); }

}  // namespace ballotchain::core

BALLOTCHAIN_ERROR_ENUM(ballotchain::core::errc)
