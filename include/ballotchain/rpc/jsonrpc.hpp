#pragma once
/// @file JSON-RPC 2.0: request parsing (single and batch), dispatch through a
/// method table, standard error objects. Transport-independent.

#include <ballotchain/rpc/errors.hpp>
#include <ballotchain/rpc/json_text.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>

namespace ballotchain::rpc {

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

/// Bounds on one request body (a single call or a batch).
struct jsonrpc_limits {
    std::size_t max_batch = 100;  ///< requests per batch
    /// At most this many calls of a method per request body: the calls after
    /// the cap get a too_many_in_batch error (for methods that cost far more
    /// than the bytes that ask for them).
    std::map<std::string, std::size_t, std::less<>> max_per_request;
    /// Asked before each call that passed the checks above (known method,
    /// within its cap); an error refuses that call, e.g. a per-client rate limit.
    std::function<std::optional<rpc_error>(std::string_view method)> admit;
};

namespace detail {
inline boost::json::object error_object(const rpc_error& e, const boost::json::value& id) {
    boost::json::object err{{"code", e.code}, {"message", e.message}};
    if (e.data) err["data"] = *e.data;
    return {{"jsonrpc", "2.0"}, {"error", std::move(err)}, {"id", id}};
}
}  // namespace detail

/// The response object of a call with `id` that answered `r`:
/// `{"jsonrpc": "2.0", "result": ..., "id"}` or `{"jsonrpc": "2.0", "error": {...}, "id"}`
/// (what handle_jsonrpc gives; for an answer sent later, e.g. after a long-poll).
inline boost::json::object response_object(reply r, const boost::json::value& id) {
    if (auto* e = std::get_if<rpc_error>(&r)) return detail::error_object(*e, id);
    return boost::json::object{{"jsonrpc", "2.0"}, {"result", std::move(std::get<boost::json::value>(r))}, {"id", id}};
}

namespace detail {

/// Calls of each capped method so far in one request body.
using call_counts = std::map<std::string, std::size_t, std::less<>>;

/// Why request object `o` is not a valid request (an invalid_request error to answer,
/// with the id it may carry), or nothing.
inline std::optional<boost::json::object> request_error(const boost::json::object& o) {
    const auto* idp = o.if_contains("id");
    boost::json::value id = idp ? *idp : boost::json::value(nullptr);
    // A number too large for a double (1e400) parses as infinity, which the answer could only
    // echo as `Infinity`: not JSON, so a client could not read the answer (nor the batch).
    const bool finite = !idp || !idp->is_double() || std::isfinite(idp->as_double());
    if (idp && (!(idp->is_string() || idp->is_number() || idp->is_null()) || !finite))
        return error_object({code::invalid_request, "id must be a string, a finite number or null", {}}, nullptr);
    const auto* ver = o.if_contains("jsonrpc");
    if (!ver || !ver->is_string() || ver->as_string() != "2.0")
        return error_object({code::invalid_request, "jsonrpc must be \"2.0\"", {}}, id);
    const auto* m = o.if_contains("method");
    if (!m || !m->is_string()) return error_object({code::invalid_request, "method must be a string", {}}, id);
    const auto* params = o.if_contains("params");
    if (params && !params->is_array() && !params->is_object())
        return error_object({code::invalid_request, "params must be an array or an object", {}}, id);
    return std::nullopt;
}

/// Handles one request object; nullopt for a notification (no response).
inline std::optional<boost::json::object> handle_one(const boost::json::value& v, const method_table& t,
                                                     const jsonrpc_limits& lim, call_counts& counts) {
    if (!v.is_object()) return error_object({code::invalid_request, "request must be an object", {}}, nullptr);
    const auto& o = v.as_object();
    if (auto bad = request_error(o)) return bad;
    const auto* idp = o.if_contains("id");
    const boost::json::value id = idp ? *idp : boost::json::value(nullptr);
    const auto* m = o.if_contains("method");
    const auto* params = o.if_contains("params");
    const bool notification = idp == nullptr;
    auto it = t.find(std::string_view(m->as_string()));
    if (it == t.end()) {
        if (notification) return std::nullopt;
        return error_object({code::method_not_found, "method not found: " + std::string(m->as_string()), {}}, id);
    }
    reply r;
    std::optional<rpc_error> refused;
    if (auto cap = lim.max_per_request.find(it->first); cap != lim.max_per_request.end()) {
        auto& n = counts[it->first];
        if (n >= cap->second)
            refused = rpc_error{code::too_many_in_batch,
                                it->first + " may be called at most " + std::to_string(cap->second) +
                                    " time(s) per request; this call was not run",
                                std::nullopt};
        else
            ++n;
    }
    if (!refused && lim.admit) refused = lim.admit(it->first);
    if (refused) {
        r = std::move(*refused);
    } else {
        try {
            r = it->second(params ? *params : boost::json::value(boost::json::array{}));
        } catch (const std::exception& ex) {
            r = rpc_error{code::internal_error, std::string("internal error: ") + ex.what(), {}};
        }
    }
    if (notification) return std::nullopt;
    return response_object(std::move(r), id);
}
}  // namespace detail

/// A single valid request that is not a notification, as handle_jsonrpc would dispatch it
/// (before the method's own checks of its params).
struct single_call {
    boost::json::value id;
    std::string method;
    boost::json::value params;  ///< `[]` when absent
};

/// `v` as a single_call, or nothing when handle_jsonrpc would answer it otherwise (not
/// an object, an invalid request, a notification). For a caller that treats one method
/// apart (the validator's long-poll) and leaves everything else to handle_jsonrpc.
inline std::optional<single_call> as_single_call(const boost::json::value& v) {
    if (!v.is_object() || detail::request_error(v.as_object())) return std::nullopt;
    const auto& o = v.as_object();
    const auto* idp = o.if_contains("id");
    if (!idp) return std::nullopt;
    const auto* params = o.if_contains("params");
    return single_call{*idp, std::string(o.at("method").as_string()),
                       params ? *params : boost::json::value(boost::json::array{})};
}

/// Handles a request body; returns the response body ("" when there is nothing
/// to answer: a notification or a batch of notifications).
inline std::string handle_jsonrpc(std::string_view body, const method_table& t, jsonrpc_limits lim = {}) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec);
    if (ec) return json_text(detail::error_object({code::parse_error, "parse error: " + ec.message(), {}}, nullptr));
    if (v.is_array()) {
        const auto& a = v.as_array();
        if (a.empty()) return json_text(detail::error_object({code::invalid_request, "empty batch", {}}, nullptr));
        if (a.size() > lim.max_batch)
            return json_text(detail::error_object(
                {code::invalid_request, "batch too large (max " + std::to_string(lim.max_batch) + ")", {}}, nullptr));
        boost::json::array out;
        detail::call_counts counts;
        for (const auto& r : a)
            if (auto resp = detail::handle_one(r, t, lim, counts)) out.push_back(std::move(*resp));
        return out.empty() ? std::string() : json_text(out);
    }
    detail::call_counts counts;
    auto resp = detail::handle_one(v, t, lim, counts);
    return resp ? json_text(*resp) : std::string();
}

}  // namespace ballotchain::rpc
