#pragma once
/// @file Key files: one JSON object per key pair, written with mode 0600.
///
/// ```json
/// {"type": "ed25519", "public_key": "0x<64 hex>", "secret_key": "0x<64 hex>"}
/// ```
/// Loading checks the shape, the hex, and that `public_key` is the key
/// derived from `secret_key`; any difference is an error naming the problem.

#include <ballotchain/core/file.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>

#include <boost/json.hpp>

namespace ballotchain::crypto {

enum class errc {
    ok = 0,
    key_file_malformed,  ///< not a JSON object of the documented shape
    key_type_unknown,    ///< "type" is not "ed25519"
    key_mismatch,        ///< public_key is not derived from secret_key
    key_file_too_large,
};

inline const char* category_name(errc) noexcept { return "ballotchain.crypto"; }
inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::key_file_malformed: return "key file is not a JSON object with type, public_key and secret_key";
    case errc::key_type_unknown: return "key file type is not ed25519";
    case errc::key_mismatch: return "key file public_key does not match its secret_key";
    case errc::key_file_too_large: return "key file is too large";
    }
    return "unknown crypto error";
}
inline error_code make_error_code(errc e) noexcept { return make_error(e); }

}  // namespace ballotchain::crypto

BALLOTCHAIN_ERROR_ENUM(ballotchain::crypto::errc)

namespace ballotchain {

inline constexpr std::size_t max_key_file_bytes = 4096;

/// The key file text for `kp`.
inline std::string key_file_text(const ed25519::key_pair& kp) {
    boost::json::object o;
    o["type"] = "ed25519";
    o["public_key"] = to_hex(kp.public_key());
    o["secret_key"] = to_hex(kp.secret());
    return boost::json::serialize(o) + "\n";
}

/// Parses key file text.
inline result<ed25519::key_pair> parse_key_file(std::string_view text) {
    boost::system::error_code jec;
    boost::json::value v = boost::json::parse(text, jec);
    if (jec || !v.is_object()) return make_error(crypto::errc::key_file_malformed);
    const auto& o = v.as_object();
    const auto* type = o.if_contains("type");
    const auto* pub = o.if_contains("public_key");
    const auto* sec = o.if_contains("secret_key");
    if (!type || !pub || !sec || !type->is_string() || !pub->is_string() || !sec->is_string())
        return make_error(crypto::errc::key_file_malformed);
    if (type->as_string() != "ed25519") return make_error(crypto::errc::key_type_unknown);
    auto sk = from_hex_fixed<32>(std::string_view(sec->as_string()));
    if (!sk) return sk.error();
    auto pk = from_hex_fixed<32>(std::string_view(pub->as_string()));
    if (!pk) return pk.error();
    auto kp = ed25519::from_secret(*sk);
    if (kp.public_key() != *pk) return make_error(crypto::errc::key_mismatch);
    return kp;
}

/// Loads a key file (at most max_key_file_bytes).
inline result<ed25519::key_pair> load_key_file(const std::string& path) {
    auto text = read_file(path, max_key_file_bytes);
    if (!text) {
        if (text.error() == make_error(core::errc::length_too_large)) return make_error(crypto::errc::key_file_too_large);
        return text.error();
    }
    return parse_key_file(*text);
}

/// Writes a key file with mode 0600; refuses to replace an existing file
/// unless `overwrite`.
inline result<void> save_key_file(const std::string& path, const ed25519::key_pair& kp, bool overwrite = false) {
    return write_file_atomic(path, key_file_text(kp), 0600, overwrite);
}

}  // namespace ballotchain
