#pragma once
/// @file HTTP helpers of the backend's handlers: errors as `{"detail": ...}`
/// answers, and the request's JSON body and query parameters read with
/// bounds (422 with a clear detail otherwise).

#include <ballotchain/app/text.hpp>
#include <ballotchain/rpc/http_server.hpp>

#include <boost/json.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ballotchain::backend {

namespace http = boost::beast::http;
namespace bjson = boost::json;

/// Thrown by handlers: becomes HTTP `status` with {"detail": detail}
/// (and Retry-After when retry_after_ms is set).
struct http_error {
    http::status status;
    std::string detail;
    std::uint64_t retry_after_ms = 0;
};

/// The request body as a JSON object, or 422.
inline bjson::object body_object(const rpc::http_request& req) {
    boost::system::error_code ec;
    auto v = bjson::parse(req.body(), ec);
    if (ec) throw http_error{http::status::unprocessable_entity, "body is not valid JSON"};
    if (!v.is_object()) throw http_error{http::status::unprocessable_entity, "body must be a JSON object"};
    return std::move(v.as_object());
}

/// The string member `k` of `o`, of min_len..max_len bytes; `dflt` when absent or
/// null (422 when there is no default).
inline std::string get_string(const bjson::object& o, const char* k, std::size_t min_len, std::size_t max_len,
                              std::optional<std::string> dflt = std::nullopt) {
    const auto* v = o.if_contains(k);
    if (!v || v->is_null()) {
        if (dflt) return *dflt;
        throw http_error{http::status::unprocessable_entity, std::string(k) + " is required"};
    }
    if (!v->is_string()) throw http_error{http::status::unprocessable_entity, std::string(k) + " must be a string"};
    const auto& s = v->as_string();
    if (s.size() < min_len || s.size() > max_len)
        throw http_error{http::status::unprocessable_entity, std::string(k) + " must be " + std::to_string(min_len) +
                                                                 ".." + std::to_string(max_len) + " characters"};
    return std::string(s);
}

/// The positive integer member `k` of `o`, or 422.
inline std::int64_t get_id(const bjson::object& o, const char* k) {
    const auto* v = o.if_contains(k);
    if (!v) throw http_error{http::status::unprocessable_entity, std::string(k) + " is required"};
    if (v->is_int64() && v->as_int64() > 0) return v->as_int64();
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX) && v->as_uint64() > 0)
        return static_cast<std::int64_t>(v->as_uint64());
    throw http_error{http::status::unprocessable_entity, std::string(k) + " must be a positive integer"};
}

/// The positive integer query parameter `key`, or 422.
inline std::int64_t query_id(std::string_view query, std::string_view key) {
    auto v = app::query_param(query, key);
    if (!v) throw http_error{http::status::unprocessable_entity, std::string(key) + " is required"};
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || p != v->data() + v->size() || n <= 0)
        throw http_error{http::status::unprocessable_entity, std::string(key) + " must be a positive integer"};
    return n;
}

}  // namespace ballotchain::backend
