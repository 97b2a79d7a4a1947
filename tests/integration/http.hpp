#pragma once
/// @file The apps' HTTP client, bound to 127.0.0.1 for the integration tests.
#include <ballotchain/client/http_client.hpp>

namespace ballotchain::itest {
namespace http = boost::beast::http;
using client::http_reply;
inline http_reply http_request(std::uint16_t port, http::verb verb, const std::string& target, const std::string& body) {
    return client::http_request("127.0.0.1", port, verb, target, body);
}
/// The same request sent from another local address (e.g. "127.0.0.2": an attacker or a second client).
inline http_reply http_request_from(const std::string& source, std::uint16_t port, http::verb verb,
                                    const std::string& target, const std::string& body,
                                    const std::vector<std::pair<std::string, std::string>>& headers = {},
                                    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    return client::http_request("127.0.0.1", port, verb, target, body, timeout, headers, source);
}
inline http_reply http_get(std::uint16_t port, const std::string& target) { return client::http_get("127.0.0.1", port, target); }

/// A value of one metric line ("name value" or "name{labels} value") from /metrics on 127.0.0.1:port, or -1.
inline double metric(std::uint16_t port, const std::string& name) {
    auto r = http_get(port, "/metrics");
    const auto at = r.body.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stod(r.body.substr(at + name.size() + 2));
}
inline std::optional<boost::json::value> rpc_call(std::uint16_t port, const std::string& method, boost::json::array params,
                                                  boost::json::value* error = nullptr) {
    return client::rpc_call("127.0.0.1", port, method, std::move(params), error);
}
}  // namespace ballotchain::itest
