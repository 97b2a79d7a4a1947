#pragma once
/// @file JSON-RPC 2.0: request parsing (single and batch), dispatch through a
/// method table, standard error objects. Transport-independent.

#include <boost/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>

namespace ballotchain::rpc {

/// Standard and ballotchain error codes.
namespace code {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
inline constexpr int server_error = -32000;  ///< generic; -32001 and up are specific (docs/api.md)
}  // namespace code

struct rpc_error {
    int code = code::server_error;
    std::string message;
    std::optional<boost::json::value> data;
};

/// A method's answer: a result value or an error object.
using reply = std::variant<boost::json::value, rpc_error>;
using method = std::function<reply(const boost::json::value& params)>;
using method_table = std::map<std::string, method, std::less<>>;

inline rpc_error invalid_params(std::string msg) { return {code::invalid_params, std::move(msg), std::nullopt}; }

struct jsonrpc_limits {
    std::size_t max_batch = 100;  ///< requests per batch
};

namespace detail {
inline boost::json::object error_object(const rpc_error& e, const boost::json::value& id) {
    boost::json::object err{{"code", e.code}, {"message", e.message}};
    if (e.data) err["data"] = *e.data;
    return {{"jsonrpc", "2.0"}, {"error", std::move(err)}, {"id", id}};
}

/// Handles one request object; nullopt for a notification (no response).
inline std::optional<boost::json::object> handle_one(const boost::json::value& v, const method_table& t) {
    if (!v.is_object()) return error_object({code::invalid_request, "request must be an object", {}}, nullptr);
    const auto& o = v.as_object();
    const auto* idp = o.if_contains("id");
    boost::json::value id = idp ? *idp : boost::json::value(nullptr);
    if (idp && !(idp->is_string() || idp->is_number() || idp->is_null()))
        return error_object({code::invalid_request, "id must be a string, number or null", {}}, nullptr);
    const auto* ver = o.if_contains("jsonrpc");
    if (!ver || !ver->is_string() || ver->as_string() != "2.0")
        return error_object({code::invalid_request, "jsonrpc must be \"2.0\"", {}}, id);
    const auto* m = o.if_contains("method");
    if (!m || !m->is_string()) return error_object({code::invalid_request, "method must be a string", {}}, id);
    const auto* params = o.if_contains("params");
    if (params && !params->is_array() && !params->is_object())
        return error_object({code::invalid_request, "params must be an array or an object", {}}, id);
    const bool notification = idp == nullptr;
    auto it = t.find(std::string_view(m->as_string()));
    if (it == t.end()) {
        if (notification) return std::nullopt;
        return error_object({code::method_not_found, "method not found: " + std::string(m->as_string()), {}}, id);
    }
    reply r;
    try {
        r = it->second(params ? *params : boost::json::value(boost::json::array{}));
    } catch (const std::exception& ex) {
        r = rpc_error{code::internal_error, std::string("internal error: ") + ex.what(), {}};
    }
    if (notification) return std::nullopt;
    if (auto* e = std::get_if<rpc_error>(&r)) return error_object(*e, id);
    return boost::json::object{{"jsonrpc", "2.0"}, {"result", std::move(std::get<boost::json::value>(r))}, {"id", id}};
}
}  // namespace detail

/// Handles a request body; returns the response body ("" when there is nothing
/// to answer: a notification or a batch of notifications).
inline std::string handle_jsonrpc(std::string_view body, const method_table& t, jsonrpc_limits lim = {}) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec);
    if (ec) return boost::json::serialize(detail::error_object({code::parse_error, "parse error: " + ec.message(), {}}, nullptr));
    if (v.is_array()) {
        const auto& a = v.as_array();
        if (a.empty()) return boost::json::serialize(detail::error_object({code::invalid_request, "empty batch", {}}, nullptr));
        if (a.size() > lim.max_batch)
            return boost::json::serialize(detail::error_object(
                {code::invalid_request, "batch too large (max " + std::to_string(lim.max_batch) + ")", {}}, nullptr));
        boost::json::array out;
        for (const auto& r : a)
            if (auto resp = detail::handle_one(r, t)) out.push_back(std::move(*resp));
        return out.empty() ? std::string() : boost::json::serialize(out);
    }
    auto resp = detail::handle_one(v, t);
    return resp ? boost::json::serialize(*resp) : std::string();
}

}  // namespace ballotchain::rpc
