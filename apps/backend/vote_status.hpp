#pragma once
/// @file Where a vote stands, and the one spelling of each status as a
/// string: how backend.db stores it (data-format.md §15, converted only in
/// sqlite_store.hpp) and how the API shows it (docs/backend.md). The outbox
/// (outbox.hpp) moves votes from status to status; its own header would make
/// a cycle with store.hpp, whose vote rows hold a status.

#include <cstdint>
#include <optional>
#include <string_view>

namespace ballotchain::backend {

/// Where a vote stands.
enum class vote_status : std::uint8_t {
    pending,    ///< stored; no validator has acknowledged it yet
    submitted,  ///< a validator acknowledged it (it is in that validator's pool)
    confirmed,  ///< final in a block of the validator chain
    rejected,   ///< the chain refused it for good; its voter may vote again
};

inline constexpr std::string_view to_string(vote_status s) noexcept {
    switch (s) {
    case vote_status::pending: return "pending";
    case vote_status::submitted: return "submitted";
    case vote_status::confirmed: return "confirmed";
    case vote_status::rejected: return "rejected";
    }
    return "unknown";
}

/// The status of a stored string; nullopt for anything else.
inline constexpr std::optional<vote_status> parse_vote_status(std::string_view s) noexcept {
    for (auto st : {vote_status::pending, vote_status::submitted, vote_status::confirmed, vote_status::rejected})
        if (s == to_string(st)) return st;
    return std::nullopt;
}

}  // namespace ballotchain::backend
