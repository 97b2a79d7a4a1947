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
    batch_refused,  ///< another vote of its signed batch was refused (the batch is taken whole or not at all)
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

    // elections (docs/election-protocol.md)
    bad_election_record = 80,
    bad_election_definition,
    election_exists,
    unknown_election,
    wrong_ballot_kind,
    unknown_candidate,
    outside_voting_window,
    election_key_not_ready,
    invalid_ballot_proof,
    reserved_voter_tag,
    not_a_trustee,
    wrong_slot_tag,
    trustee_key_missing,
    invalid_trustee_proof,
    ceremony_closed,
    bad_dealing,
    complaint_refused,
    tally_not_open,
    invalid_decryption_share,

    // validator-set changes (docs/protocol.md §12)
    bad_validator_change = 100,  ///< malformed, or it adds a known key, removes an inactive id, empties the set...
    change_out_of_order,         ///< its sequence is not the next one
    change_pending,              ///< the previous change is not in effect yet
    change_bad_height,           ///< its effective height is not after the block's (or too far ahead)
    change_not_approved,         ///< fewer than a quorum of active validators approved it, or not in order
    bad_change_approval,         ///< an approval's signature does not verify
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
    case errc::batch_refused: return "batch refused: another vote of its signed batch was refused";
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
    case errc::bad_election_record: return "election record is malformed";
    case errc::bad_election_definition: return "election definition is invalid (name, candidates, times or threshold)";
    case errc::election_exists: return "election already exists on the chain";
    case errc::unknown_election: return "election is not defined on the chain";
    case errc::wrong_ballot_kind: return "wrong ballot kind for this election (plain vote in an encrypted election or the reverse)";
    case errc::unknown_candidate: return "candidate is not in the election";
    case errc::outside_voting_window: return "block time is outside the election's voting window";
    case errc::election_key_not_ready: return "the election key is not ready (key ceremony open or failed)";
    case errc::invalid_ballot_proof: return "ballot proof is invalid";
    case errc::reserved_voter_tag: return "voter tag is in the reserved slot range";
    case errc::not_a_trustee: return "signer is not a trustee of this election";
    case errc::wrong_slot_tag: return "record is not in its slot (voter_tag)";
    case errc::trustee_key_missing: return "trustee has not published its trustee key";
    case errc::invalid_trustee_proof: return "trustee record proof is invalid";
    case errc::ceremony_closed: return "the key ceremony is closed";
    case errc::bad_dealing: return "dealing has the wrong threshold or recipients";
    case errc::complaint_refused: return "complaint is not upheld (unfounded, unproven or against no dealing)";
    case errc::tally_not_open: return "the election has not ended by block time";
    case errc::invalid_decryption_share: return "decryption share is invalid";
    case errc::bad_validator_change: return "validator-set change is invalid (malformed, a key already known, an inactive id removed, an empty set...)";
    case errc::change_out_of_order: return "validator-set change does not carry the next sequence number";
    case errc::change_pending: return "a validator-set change is scheduled and not in effect yet";
    case errc::change_bad_height: return "validator-set change must take effect after the block that records it (and at most 1,000,000 heights later)";
    case errc::change_not_approved: return "validator-set change lacks approvals from a quorum of the active validators";
    case errc::bad_change_approval: return "validator-set change approval signature is invalid";
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
