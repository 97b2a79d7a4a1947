#pragma once
/// @file The query of the validator's GET /blockchain?election_id=N, read
/// apart from the routes (rpc_routes.hpp) so that its answers are pinned by
/// tests/unit/validator/blockchain_query_test.cpp without a node.

#include <ballotchain/app/text.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace ballotchain::app {

/// The election of GET /blockchain from its query string:
/// - no `election_id=` item (other keys and a bare `election_id` without '='
///   are ignored): an empty optional, every election (the chain summary);
/// - the first `election_id=N` with N a decimal u64 (leading zeros allowed): N;
/// - the first `election_id=` with anything else (empty, a sign, a space,
///   hex, over 2^64-1): nullopt, answered 400.
inline std::optional<std::optional<std::uint64_t>> election_param(std::string_view query) {
    const auto v = query_param(query, "election_id", bare_key::ignored);
    if (!v) return std::optional<std::uint64_t>{};
    std::uint64_t n = 0;
    const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || ec != std::errc{} || p != v->data() + v->size()) return std::nullopt;
    return std::optional<std::uint64_t>(n);
}

}  // namespace ballotchain::app
