#pragma once
/// @file The backend's OpenAPI 3.1 document (GET /openapi.json). Its one source is
/// apps/backend/openapi.json, embedded at build time (CMakeLists.txt generates
/// <ballotchain_generated/openapi_json.hpp> from it); only info.version is set here,
/// at run time. A path, parameter, field or status added to the routes (service.hpp
/// and the handlers) is added there and to docs/backend.md; tests/openapi/check.mjs
/// fails on a live answer the document does not describe.

#include <ballotchain_generated/openapi_json.hpp>

#include <boost/json.hpp>

#include <stdexcept>
#include <string_view>

namespace ballotchain::backend {

/// The document as written in openapi.json, parsed once (throws std::logic_error if the
/// embedded text is not a JSON object: a build that embeds a broken file fails its tests).
inline const boost::json::object& openapi_document() {
    static const boost::json::object doc = [] {
        boost::system::error_code ec;
        auto v = boost::json::parse(generated::openapi_json, ec);
        if (ec || !v.is_object()) throw std::logic_error("apps/backend/openapi.json is not a JSON object");
        return std::move(v.as_object());
    }();
    return doc;
}

/// The OpenAPI document with `version` as the API's version (info.version).
inline boost::json::object openapi(std::string_view version) {
    boost::json::object doc = openapi_document();
    if (auto* info = doc.if_contains("info"); info && info->is_object()) info->as_object()["version"] = version;
    return doc;
}

}  // namespace ballotchain::backend
