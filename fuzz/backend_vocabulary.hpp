#pragma once
// The backend's fuzz vocabulary (fuzz_http_backend): values and keys of request bodies, the
// routes and queries, and whose token a request carries. Shared with fuzz_make_corpus, which
// writes seeds by name. The template data dir fuzz_http_backend builds at start has the ids
// below (it checks); `voted_tx`, the transaction of the voter who voted there, is known only
// then (fuzz_make_corpus passes a placeholder: seeds select it by position).
#include "http_fixture.hpp"

namespace ballotchain::fuzz_fixture {

inline constexpr std::int64_t open_election = 1, future_election = 2, past_election = 3;
inline constexpr std::int64_t open_candidate = 1, future_candidate = 3;

/// Whose token a request carries (the selector byte, modulo count).
enum class who : std::uint8_t { none, admin, voter, voted, revoked, admin_lowercase, garbage, raw, count };

inline vocabulary backend_vocabulary(const std::string& voted_tx) {
    vocabulary voc;
    auto add = [&](std::string name, const auto& v) { voc.specials.emplace_back(std::move(name), boost::json::value_from(v)); };
    add("admin-email", "admin@example.org");
    add("admin-password", "admin password 1");
    add("voter-email", "voter@example.org");
    add("voter-password", "voter password 1");
    add("new-email", "new.voter@example.org");
    add("upper-email", "New.Voter@Example.ORG");
    add("strong-password", "correct horse battery");
    add("weak-password", "password");
    add("spaces-password", std::string(8, ' '));
    add("bad-email", "@@@");
    add("nul-email", std::string("a\0b@example.org", 15));
    add("date-past", "2000-01-01T00:00:00Z");
    add("date-future", "2999-12-31T23:59:59.999Z");
    add("date-bad", "2024-13-01T00:00:00Z");
    add("election-open", open_election);
    add("election-future", future_election);
    add("election-past", past_election);
    add("election-absent", 999);
    add("candidate-open", open_candidate);
    add("candidate-future", future_candidate);
    add("vote-3", "AQID");
    add("vote-max", std::string(88, 'A'));       // 66 bytes: over the bound of 64
    add("vote-64", std::string(84, 'A') + "AA=="); // 64 bytes
    add("vote-noncanonical", "AR==");
    add("vote-unpadded", "AQI");
    add("candidates", boost::json::array{boost::json::object{{"name", "X"}}, boost::json::object{{"name", "Y"}}});
    add("candidates-dup", boost::json::array{boost::json::object{{"name", "X"}}, boost::json::object{{"name", "X"}}});
    add("voted-tx", voted_tx);
    voc.keys = {"email",      "password", "full_name",  "current_password", "new_password", "name",
            "description", "start_date", "end_date", "candidates",       "election_id",  "candidate_id",
            "encrypted_vote"};
    return voc;
}

inline request_vocabulary backend_routes(const std::string& voted_tx) {
    request_vocabulary routes;
    const auto e = std::to_string(open_election);
    routes.targets = {"/health",
              "/openapi.json",
              "/api/auth/register",
              "/api/auth/login",
              "/api/auth/me",
              "/api/auth/logout",
              "/api/auth/logout-all",
              "/api/auth/change-password",
              "/api/elections",
              "/api/elections/" + e,
              "/api/elections/" + e + "/candidates",
              "/api/elections/" + std::to_string(future_election),
              "/api/elections/999/candidates",
              "/api/elections/0",
              "/api/elections/-1",
              "/api/elections/" + e + "/x",
              "/api/votes/submit",
              "/api/votes/transaction-status",
              "/api/votes/results",
              "/api/votes/verify-blockchain",
              "/api/admin/validators/health",
              "/api/admin/validators/refresh-status",
              "/nope",
              // Added later, at the end, so the committed corpus keeps selecting what it did.
              "/api/chain/validator-changes"};
    routes.queries = {"election_id=" + e,
              "election_id=" + std::to_string(past_election),
              "election_id=999",
              "election_id=0",
              "election_id=x",
              "transaction_id=" + voted_tx,
              "transaction_id=" + voted_tx + "&election_id=" + e,
              "transaction_id=" + voted_tx + "&election_id=999",
              "transaction_id=0x" + std::string(64, '0'),
              "transaction_id=0x12",
              "transaction_id=",
              "from_sequence=1",
              "from_sequence=0",
              "from_sequence=99999999999999999999"};
    routes.header_names.push_back("Authorization");
    return routes;
}

}  // namespace ballotchain::fuzz_fixture
