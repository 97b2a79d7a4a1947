#pragma once
/// @file The backend's side of the validator network: the verifying client
/// (client/client.hpp) over the chain's suite, and the options the backend
/// gives it. The outbox, the vote endpoints and the reports share one client
/// (service.hpp) and call its synchronous forms from the handler and
/// background threads (docs/backend.md, "Talking to the validators").

#include <ballotchain/client/client.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>

namespace ballotchain::backend {

/// The verifying client of the backend's parts.
/// @tparam Transport `client::async_rpc_transport` (HTTP in the service; validators in memory in the unit tests)
/// @tparam Clock     the `clock` of its health book (the backend's own clock type)
template <client::async_rpc_transport Transport, clock Clock>
using validator_client = client::basic_client<Transport, Clock, ed25519_sha256>;

/// The client's options for the backend:
/// - one validator's answer waits at most `rpc_timeout` (--rpc-timeout-ms);
/// - one pass over the validators per call (max_rounds = 1): a voter whose vote
///   finds every validator down gets the fallback chain at once instead of
///   waiting through backoff rounds; the outbox's tick is the retry;
/// - a call's deadline leaves room for two attempts per validator (an answer
///   and the follow-up question to the same validator that proves it);
/// - the light follower keeps its position in `follower_state` (DATA_DIR/follower.json),
///   so verified results resume after a restart instead of reading the chain from block 0.
inline client::client_options backend_client_options(std::chrono::milliseconds rpc_timeout, std::size_t validators,
                                                     std::string follower_state) {
    client::client_options o;
    o.attempt_timeout = rpc_timeout;
    o.max_rounds = 1;
    o.deadline = rpc_timeout * static_cast<long>(2 * std::max<std::size_t>(validators, 1));
    o.follower_state = std::move(follower_state);
    return o;
}

}  // namespace ballotchain::backend
