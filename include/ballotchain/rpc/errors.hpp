#pragma once
/// @file The JSON-RPC error codes of docs/api.md: the standard ones, ours, and
/// those of a refused transaction, and the bound of a batch of transactions. Plain constants, so a client (the backend)
/// can act on them without the validator's API.

namespace ballotchain::rpc {

/// Standard and ballotchain error codes.
namespace code {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
inline constexpr int server_error = -32000;  ///< generic; -32001 and up are specific (docs/api.md)
inline constexpr int too_many_in_batch = -32020;  ///< a method's per-request cap was reached
inline constexpr int rate_limited = -32029;       ///< the client's budget for a method is spent; data.retry_after_ms
}  // namespace code

/// Most transactions in one poa_sendRawTransactions call (docs/api.md).
inline constexpr unsigned max_raw_transactions = 1000;

/// JSON-RPC error codes of a refused transaction (docs/api.md); clients such
/// as the backend act on them.
namespace tx_code {
inline constexpr int invalid_signature = -32001;
inline constexpr int unauthorized_submitter = -32002;
inline constexpr int duplicate_vote = -32003;  ///< the voter already has a final or pooled vote
inline constexpr int duplicate_tx = -32004;    ///< this very transaction is already pooled or final
inline constexpr int pool_full = -32005;
inline constexpr int vote_too_large = -32006;
inline constexpr int wrong_chain = -32007;
inline constexpr int election_rule = -32008;  ///< refused by an election rule (docs/election-protocol.md); the message says which
inline constexpr int batch_refused = -32009;  ///< another vote of its signed batch was refused; the message names it
inline constexpr int storage = -32010;
/// A plain vote's election rules, each its own code (the others stay election_rule):
inline constexpr int unknown_election = -32011;   ///< no definition of its election on the chain (genesis elections_defined)
inline constexpr int unknown_candidate = -32012;  ///< its candidate is not in the election's definition
inline constexpr int outside_voting_window = -32013;  ///< block time is before the election's start or at/after its end
/// A validator-set change's rules (docs/protocol.md §12, data-format.md §17), each its own code:
inline constexpr int bad_validator_change = -32014;  ///< malformed, a known key added, an inactive id removed, an empty set...
inline constexpr int change_out_of_order = -32015;   ///< its sequence is not the chain's next one
inline constexpr int change_pending = -32016;        ///< the previous change is not in effect yet
inline constexpr int change_bad_height = -32017;     ///< its effective height is not after the block's (or over 1,000,000 ahead)
inline constexpr int change_not_approved = -32018;   ///< fewer approvals than the active set's quorum, or not ascending
inline constexpr int bad_change_approval = -32019;   ///< an approval's signature does not verify
}  // namespace tx_code

}  // namespace ballotchain::rpc
