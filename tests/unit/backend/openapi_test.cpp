// backend/openapi.hpp: the OpenAPI document embedded from apps/backend/openapi.json parses, is
// 3.1 with the running version, and is closed under its references (every "$ref" names
// something in it). Whether it describes the live answers is tests/openapi/check.mjs's
// (integration_openapi).
#include <backend/openapi.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace ballotchain;

namespace {

/// The value at JSON pointer `p` ("#/a/b~1c") in `doc`, or nullptr.
const boost::json::value* at_pointer(const boost::json::value& doc, const std::string& p) {
    boost::system::error_code ec;
    const auto* v = doc.find_pointer(p.substr(1), ec);
    return ec ? nullptr : v;
}

void collect_refs(const boost::json::value& v, std::set<std::string>& out) {
    if (const auto* o = v.if_object()) {
        for (const auto& [k, x] : *o) {
            if (k == "$ref" && x.is_string()) out.insert(std::string(x.as_string()));
            collect_refs(x, out);
        }
    } else if (const auto* a = v.if_array()) {
        for (const auto& x : *a) collect_refs(x, out);
    }
}

}  // namespace

TEST_CASE("openapi: the embedded document is OpenAPI 3.1 with the running version, closed under its references",
          "[backend][openapi]") {
    const boost::json::value doc = backend::openapi("9.8.7");
    REQUIRE(doc.is_object());
    CHECK(doc.at("openapi").as_string() == "3.1.0");
    CHECK(doc.at("info").at("version").as_string() == "9.8.7");
    CHECK(backend::openapi("0.1.0").at("info").at("version").as_string() == "0.1.0");  // a copy each time

    std::set<std::string> refs;
    collect_refs(doc, refs);
    CHECK(refs.size() > 20);
    for (const auto& r : refs) {
        INFO(r);
        REQUIRE(r.starts_with("#/"));
        CHECK(at_pointer(doc, r) != nullptr);
    }

    // Every route of service.hpp, and the shared error shape.
    const auto& paths = doc.at("paths").as_object();
    for (const char* p : {"/health", "/openapi.json", "/docs", "/metrics", "/api/auth/register", "/api/auth/login",
                          "/api/auth/me", "/api/auth/logout", "/api/auth/logout-all", "/api/auth/change-password",
                          "/api/elections", "/api/elections/{id}", "/api/elections/{id}/candidates",
                          "/api/elections/{id}/ballot", "/api/votes/submit", "/api/votes/transaction-status",
                          "/api/votes/results", "/api/votes/verify-blockchain", "/api/votes/proof",
                          "/api/votes/events", "/api/chain/genesis", "/api/chain/validators", "/api/chain/blocks",
                          "/api/chain/blocks/{height}", "/api/chain/validator-changes", "/api/admin/validators/health",
                          "/api/admin/validators/refresh-status", "/api/admin/elections/{id}/tally"}) {
        INFO(p);
        CHECK(paths.contains(p));
    }
    CHECK(doc.at("components").at("schemas").at("HTTPError").at("required").as_array() ==
          boost::json::array{"detail"});
    CHECK(doc.at("components").at("securitySchemes").at("bearer").at("scheme").as_string() == "bearer");
}
