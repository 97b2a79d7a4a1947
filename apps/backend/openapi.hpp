#pragma once
/// @file The backend's OpenAPI list of paths (GET /openapi.json). A path added
/// to the routes (service.hpp) is added here and to docs/backend.md.

#include <boost/json.hpp>

#include <string_view>

namespace ballotchain::backend {

/// The OpenAPI 3 document: every path with its methods and a one-line summary.
inline boost::json::object openapi(std::string_view version) {
    boost::json::object paths;
    auto op = [&](const char* path, const char* method, const char* summary) {
        paths[path].emplace_object()[method] = boost::json::object{{"summary", summary}};
    };
    op("/health", "get", "backend status and outbox size");
    op("/metrics", "get", "Prometheus metrics, text format 0.0.4 (docs/operations.md, Monitoring)");
    op("/api/auth/register", "post", "register a voter {email, password, full_name}");
    op("/api/auth/login", "post", "log in {email, password}: bearer token");
    op("/api/auth/me", "get", "the logged-in user");
    op("/api/auth/logout", "post", "revoke the presented token");
    op("/api/auth/logout-all", "post", "revoke every session of the logged-in user");
    op("/api/auth/change-password", "post",
       "change the password {current_password, new_password}: revokes every session, returns a new token");
    op("/api/elections", "get", "list elections with their candidates");
    op("/api/elections/{id}", "get", "one election");
    op("/api/elections/{id}/candidates", "post", "add a candidate (administrators; plain elections)");
    op("/api/elections/{id}/ballot", "get",
       "what a client needs to seal its own secret ballot: chain id, election key, the voter's tag, candidates");
    op("/api/votes/submit", "post",
       "submit a vote {election_id, candidate_id, encrypted_vote (base64, at most the genesis max_encrypted_vote_bytes)}; "
       "in an encrypted election encrypted_vote is a sealed ballot (or send candidate_id alone)");
    op("/api/votes/transaction-status", "get", "status of a vote: ?transaction_id=0x..&election_id=N");
    op("/api/votes/results", "get", "tally from the validator chain: ?election_id=N");
    op("/api/votes/verify-blockchain", "post", "verify the chain {election_id}");
    op("/api/chain/genesis", "get", "the genesis: chain id, hash, quorum, validators' keys");
    op("/api/chain/validators", "get", "validator health, public (no addresses)");
    op("/api/chain/blocks", "get", "the latest final blocks: ?limit=1..100");
    op("/api/chain/blocks/{height}", "get", "one final block with its transactions");
    op("/api/votes/proof", "get", "a vote's inclusion proof, header and certificate: ?transaction_id=0x..");
    op("/api/votes/events", "get", "a vote's status as server-sent events: ?transaction_id=0x..&election_id=N");
    op("/api/admin/validators/health", "get", "validator health (administrators)");
    op("/api/admin/validators/refresh-status", "post", "probe validators now (administrators)");
    op("/api/admin/elections/{id}/tally", "post",
       "after the end: ask the validators for the decrypted tally now {wait_seconds?} (administrators)");
    paths["/api/elections"].as_object()["post"] = boost::json::object{{"summary", "create an election {name, candidates, start_date, end_date, ballot: plain|encrypted, "
                                                         "key_ceremony_seconds} (administrators)"}};
    return {{"openapi", "3.0.3"},
            {"info", boost::json::object{{"title", "ballotchain backend"}, {"version", version}}},
            {"paths", std::move(paths)}};
}

}  // namespace ballotchain::backend
