#pragma once
/// @file Why a transaction, block, certificate or genesis was rejected.
/// Every value here means "invalid input from a peer or client"; local
/// failures (disk, I/O) come from other categories. See is_invalid_input().

#include <ballotchain/core/errc.hpp>

namespace ballotchain::chain {

enum class errc {
    ok = 0,
    // transactions
    wrong_chain_id = 1,
    unauthorized_submitter,
    invalid_signature,
    vote_too_large,
    duplicate_tx,
    duplicate_vote,  ///< a second vote with the same voter_tag in one election
    pool_full,
    // blocks
    wrong_height = 20,
    wrong_parent,
    wrong_proposer,
    bad_proposer_signature,
    bad_timestamp,
    too_many_txs,
    bad_tx_root,
    unknown_block,
    // certificates
    cert_wrong_block = 40,
    cert_too_few_seals,
    cert_unknown_validator,
    cert_duplicate_seal,
    cert_bad_seal,
    cert_wrong_round,
    // genesis
    bad_genesis = 60,
    genesis_mismatch,
};

inline const char* category_name(errc) noexcept { return "ballotchain.chain"; }

inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::wrong_chain_id: return "wrong chain id";
    case errc::unauthorized_submitter: return "unauthorized submitter";
    case errc::invalid_signature: return "invalid signature";
    case errc::vote_too_large: return "encrypted vote is too large";
    case errc::duplicate_tx: return "duplicate transaction";
    case errc::duplicate_vote: return "duplicate vote: voter already voted in this election";
    case errc::pool_full: return "transaction pool is full";
    case errc::wrong_height: return "block height does not follow the chain head";
    case errc::wrong_parent: return "block parent hash is not the chain head";
    case errc::wrong_proposer: return "block proposer is not the scheduled proposer";
    case errc::bad_proposer_signature: return "invalid proposer signature";
    case errc::bad_timestamp: return "block timestamp is before its parent's";
    case errc::too_many_txs: return "block has more transactions than allowed";
    case errc::bad_tx_root: return "block transaction root does not match its transactions";
    case errc::unknown_block: return "unknown block";
    case errc::cert_wrong_block: return "commit certificate is for another block";
    case errc::cert_too_few_seals: return "commit certificate has fewer seals than the quorum";
    case errc::cert_unknown_validator: return "commit seal from an unknown validator";
    case errc::cert_duplicate_seal: return "commit certificate has two seals from one validator";
    case errc::cert_bad_seal: return "invalid commit seal signature";
    case errc::cert_wrong_round: return "commit certificate round is below the block's round";
    case errc::bad_genesis: return "invalid genesis";
    case errc::genesis_mismatch: return "stored chain was created from another genesis";
    }
    return "unknown chain error";
}

inline error_code make_error_code(errc e) noexcept { return make_error(e); }

}  // namespace ballotchain::chain

BALLOTCHAIN_ERROR_ENUM(ballotchain::chain::errc)

namespace ballotchain {
/// True when `ec` says the input was bad (as opposed to a local failure).
inline bool is_invalid_input(const error_code& ec) noexcept {
    return is_category<chain::errc>(ec) || is_category<core::errc>(ec);
}
}  // namespace ballotchain
