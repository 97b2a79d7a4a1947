#pragma once
/// @file Why the consensus engine refused a message.

#include <ballotchain/core/error.hpp>

namespace ballotchain::consensus {

enum class errc {
    ok = 0,
    malformed,           ///< does not decode
    wrong_chain,         ///< another chain id
    unknown_sender,      ///< sender index is not a genesis validator
    bad_signature,       ///< envelope signature does not verify
    stale,               ///< for a height already final or a round left behind
    too_far_ahead,       ///< beyond the buffered window of heights or rounds
    buffer_full,         ///< the future-message buffer is full
    not_proposer,        ///< proposal from someone other than the scheduled proposer
    bad_justification,   ///< round-change justification missing or invalid
    invalid_block,       ///< proposed block fails validation
    equivocation,        ///< a second, different message for one (height, round, kind)
    bad_certificate,     ///< prepared or commit certificate does not verify
    refused_to_sign,     ///< the signed-state record forbids signing this
    not_a_validator,     ///< this node has no validator key
    bad_signed_state,    ///< the signed-state file is corrupt (magic, version, length or checksum)
};

inline const char* category_name(errc) noexcept { return "ballotchain.consensus"; }
inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::malformed: return "malformed consensus message";
    case errc::wrong_chain: return "message for another chain";
    case errc::unknown_sender: return "sender is not a validator";
    case errc::bad_signature: return "invalid message signature";
    case errc::stale: return "message for a past height or round";
    case errc::too_far_ahead: return "message too far in the future";
    case errc::buffer_full: return "future-message buffer is full";
    case errc::not_proposer: return "proposal from a validator that is not the proposer";
    case errc::bad_justification: return "invalid round-change justification";
    case errc::invalid_block: return "invalid proposed block";
    case errc::equivocation: return "equivocation: conflicting messages from one validator";
    case errc::bad_certificate: return "invalid certificate";
    case errc::refused_to_sign: return "refused to sign: conflicts with a recorded signature";
    case errc::not_a_validator: return "this node is not a validator";
    case errc::bad_signed_state:
        return "the signed-state file is corrupt (wrong magic, version, length or checksum)";
    }
    return "unknown consensus error";
}
inline error_code make_error_code(errc e) noexcept { return make_error(e); }

}  // namespace ballotchain::consensus

BALLOTCHAIN_ERROR_ENUM(ballotchain::consensus::errc)
