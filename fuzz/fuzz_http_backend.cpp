// Fuzz target: the backend's HTTP entry point, backend::service::handle (routing, body and
// query parsing, the Authorization header, per-client limits), as the server hands requests
// to it. At start the target writes a genesis and a submitter key and builds a template data
// dir through handle() itself: an administrator, two voters (one has voted), a revoked
// session, an open, a future and a finished election with candidates. The only validator is
// a closed port on 127.0.0.1, so every call of the client fails at once (503 or the fallback
// chain); background threads are not started; PBKDF2 runs one iteration. Per input: a fresh
// copy of the template, a fresh service, then up to four requests, each: the client's address,
// method, target and query, version, headers, an Authorization (none, a live token of the
// administrator or a voter, a revoked one, or bytes from the input) and a body (empty, a JSON
// value from the backend's vocabulary, or raw bytes), written out and parsed back as the
// server does (http_fixture.hpp).
// Properties: nothing crashes or throws out of handle(); every status is one docs/backend.md
// lists, and a 5xx only 502 or 503 (500 means a storage or internal error: none is expected
// over a healthy database); JSON bodies parse; every error is {"detail": "..."} (429 with
// Retry-After); administrator routes succeed only with the administrator's token, the other
// authenticated routes only with a live token, and a token revoked by an earlier request
// (logout, logout-all, change-password) never works again.
#include "backend_vocabulary.hpp"
#include "chain_fixture.hpp"

#include <backend/service.hpp>

namespace {
using namespace ballotchain;
namespace fx = fuzz_fixture;
namespace fs = std::filesystem;
namespace http = rpc::http;

using fx::who;

std::uint16_t closed_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();  // closed again when `a` goes
}

struct backend_fixture {
    fs::path root = fx::temp_dir("ballotchain-fuzz-backend");
    fs::path tmpl = root / "template", run = root / "run";
    backend::config cfg;
    std::map<who, std::string> tokens;
    std::string voted_tx;  ///< the transaction id of the voter who voted
    fx::vocabulary voc;
    fx::request_vocabulary routes;
    rpc::http_server_options bounds;

    rpc::http_response call(backend::service& s, http::verb m, std::string target, std::string body = {},
                            std::string_view token = {}) {
        rpc::http_request req{m, target, 11};
        if (!token.empty()) req.set(http::field::authorization, "Bearer " + std::string(token));
        req.body() = std::move(body);
        req.prepare_payload();
        return s.handle(req, {boost::asio::ip::make_address("127.0.0.1")});
    }
    boost::json::object expect(const rpc::http_response& r, http::status st) {
        if (r.result() != st) {
            std::fprintf(stderr, "fixture: expected %u, got %u %s\n", static_cast<unsigned>(st), r.result_int(),
                         r.body().c_str());
            std::abort();
        }
        return boost::json::parse(r.body()).as_object();
    }

    backend_fixture() {
        spdlog::set_level(spdlog::level::off);
        auto g = fx::chain_genesis();
        g.max_encrypted_vote_bytes = 64;
        const auto gpath = (root / "genesis.json").string();
        if (!write_file_atomic(gpath, boost::json::serialize(json::to_json(g)), 0644, true)) std::abort();
        const auto kpath = (root / "submitter.key").string();
        if (!save_key_file(kpath, fx::chain_key(50), true)) std::abort();
        cfg.data_dir = tmpl.string();
        cfg.genesis_path = gpath;
        cfg.submitter_key_path = kpath;
        cfg.validators = {{"validator-1", "http://127.0.0.1:" + std::to_string(closed_port()), ""}};
        cfg.rpc_timeout = std::chrono::milliseconds(500);
        cfg.pbkdf2_iterations = 1;
        cfg.register_limit = {3, 60};
        cfg.login_limit = {4, 60};
        cfg.submit_limit = {3, 60};
        cfg.status_limit = {4, 60};
        cfg.results_limit = {3, 60};
        cfg.verify_limit = {2, 60};
        cfg.login_backoff.free_failures = 2;
        cfg.login_backoff.client_free_failures = 3;
        cfg.admin_email = "admin@example.org";
        cfg.admin_password = "admin password 1";
        {
            backend::service s(cfg);
            using V = http::verb;
            expect(call(s, V::post, "/api/auth/register", R"({"email":"voter@example.org","password":"voter password 1"})"),
                   http::status::created);
            expect(call(s, V::post, "/api/auth/register", R"({"email":"voted@example.org","password":"voter password 2"})"),
                   http::status::created);
            auto login = [&](const char* email, const char* pw) {
                return std::string(expect(call(s, V::post, "/api/auth/login",
                                               boost::json::serialize(boost::json::object{{"email", email}, {"password", pw}})),
                                          http::status::ok)
                                       .at("access_token")
                                       .as_string());
            };
            tokens[who::admin] = login("admin@example.org", "admin password 1");
            tokens[who::voter] = login("voter@example.org", "voter password 1");
            tokens[who::voted] = login("voted@example.org", "voter password 2");
            tokens[who::revoked] = login("voter@example.org", "voter password 1");
            expect(call(s, V::post, "/api/auth/logout", "", tokens[who::revoked]), http::status::ok);
            auto election = [&](const std::string& body) {
                const auto e = expect(call(s, V::post, "/api/elections", body, tokens[who::admin]), http::status::created);
                return std::pair{e.at("id").as_int64(), e.at("candidates").as_array().at(0).as_object().at("id").as_int64()};
            };
            const auto open = election(R"({"name":"open","candidates":[{"name":"A"},{"name":"B","description":"b"}]})");
            const auto future = election(R"({"name":"future","start_date":"2999-01-01T00:00:00Z","end_date":"2999-02-01T00:00:00Z","candidates":[{"name":"C"}]})");
            const auto past = election(R"({"name":"past","start_date":"2001-01-01T00:00:00Z","end_date":"2001-02-01T00:00:00.5Z","candidates":[{"name":"D"}]})")
                                .first;
            if (open != std::pair{fx::open_election, fx::open_candidate} ||
                future != std::pair{fx::future_election, fx::future_candidate} || past != fx::past_election)
                std::abort();  // backend_vocabulary.hpp names these ids
            const auto v = expect(call(s, V::post, "/api/votes/submit",
                                       boost::json::serialize(boost::json::object{{"election_id", fx::open_election},
                                                                                   {"candidate_id", fx::open_candidate},
                                                                                   {"encrypted_vote", "AQID"}}),
                                       tokens[who::voted]),
                                  http::status::ok);
            voted_tx = std::string(v.at("transaction_id").as_string());
        }
        cfg.admin_email.clear();  // the template holds the administrator
        cfg.admin_password.clear();

        voc = fx::backend_vocabulary(voted_tx);
        routes = fx::backend_routes(voted_tx);
        bounds.body_limit = 64 * 1024;  // the backend's --body-limit default
    }

    /// The Authorization header for `w`, or nothing.
    std::optional<std::string> authorization(who w, fx::reader& in) const {
        switch (w) {
        case who::none: return std::nullopt;
        case who::admin_lowercase: return "bearer " + tokens.at(who::admin);
        case who::garbage: return "Bearer " + in.str(80);
        case who::raw: return in.str(160);
        default: return "Bearer " + tokens.at(w);
        }
    }
};

const std::set<unsigned> backend_statuses{200, 201, 400, 401, 403, 404, 405, 409, 422, 429, 502, 503};

bool admin_route(std::string_view path, http::verb m) {
    return (path == "/api/elections" && m == http::verb::post) || (path.starts_with("/api/elections/") && path.ends_with("/candidates")) ||
           path.starts_with("/api/admin/");
}
bool user_route(std::string_view path) {
    return path == "/api/auth/me" || path == "/api/auth/logout" || path == "/api/auth/logout-all" ||
           path == "/api/auth/change-password" || path == "/api/votes/submit";
}
/// The account a token kind belongs to (the lower-case scheme carries the administrator's).
who account(who w) {
    if (w == who::admin_lowercase) return who::admin;
    if (w == who::revoked) return who::voter;
    return w;
}
const std::map<who, std::string> email_of{{who::admin, "admin@example.org"},
                                          {who::voter, "voter@example.org"},
                                          {who::voted, "voted@example.org"}};

std::string ascii_lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// The accounts a successful request implies: a registration is of a new email, a login
/// and a password change present the account's current password, a voter votes once per
/// election. Updates the model with what the request changed.
template <class Fail>
void check_accounts(const rpc::http_request& req, std::string_view path, who as, std::map<std::string, std::string>& accounts,
                    std::set<std::pair<who, std::int64_t>>& voted, const Fail& fail) {
    boost::system::error_code ec;
    const auto body = boost::json::parse(req.body(), ec);
    if (ec || !body.is_object()) return;
    const auto& o = body.as_object();
    auto str = [&](const char* k) -> std::string {
        const auto* v = o.if_contains(k);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (path == "/api/auth/register") {
        const auto email = ascii_lower(str("email"));
        if (accounts.contains(email)) fail("a second account with one email");
        accounts[email] = str("password");
    } else if (path == "/api/auth/login") {
        const auto it = accounts.find(ascii_lower(str("email")));
        if (it == accounts.end() || it->second != str("password")) fail("a login with a wrong password succeeded");
    } else if (path == "/api/auth/change-password" && email_of.contains(as)) {
        auto& pw = accounts[email_of.at(as)];
        if (pw != str("current_password")) fail("a password change with a wrong current password succeeded");
        pw = str("new_password");
    } else if (path == "/api/votes/submit") {
        const auto* e = o.if_contains("election_id");
        if (!e || !e->is_number()) fail("a vote without an election");
        boost::system::error_code nec;
        const auto key = std::pair{as, e->to_number<std::int64_t>(nec)};
        if (voted.contains(key)) fail("a second vote of one voter in one election");
        voted.insert(key);
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static backend_fixture f;
    fx::reader in{data, size};

    std::error_code ec;
    fs::remove_all(f.run, ec);
    fs::copy(f.tmpl, f.run, fs::copy_options::recursive, ec);
    if (ec) std::abort();
    auto cfg = f.cfg;
    cfg.data_dir = f.run.string();
    backend::service s(cfg);

    std::set<who> revoked{who::revoked};  // accounts whose sessions (as sent here) no longer work
    // What the accounts are: email (lower case) -> password; who voted where.
    std::map<std::string, std::string> accounts{{"admin@example.org", "admin password 1"},
                                                {"voter@example.org", "voter password 1"},
                                                {"voted@example.org", "voter password 2"}};
    std::set<std::pair<who, std::int64_t>> voted{{who::voted, fx::open_election}};
    for (std::size_t k = 0, n = 1 + in.u8() % 4; k < n; ++k) {
        const rpc::request_info info{fx::read_remote(in)};
        auto parts = fx::read_request_parts(in, f.routes);
        const auto w = static_cast<who>(in.u8() % static_cast<std::uint8_t>(who::count));
        if (auto a = f.authorization(w, in)) parts.headers.emplace_back("Authorization", std::move(*a));
        const std::uint8_t body_kind = in.u8() % 3;
        const std::string body = body_kind == 0   ? std::string()
                                 : body_kind == 1 ? boost::json::serialize(fx::read_value(in, f.voc))
                                                  : in.str(1 << 16);
        const auto req = fx::parse_like_server(fx::wire_request(parts, body), f.bounds);
        if (!req) continue;

        const rpc::http_response res = s.handle(*req, info);
        fx::trace("request", std::string(req->method_string()) + " " + std::string(req->target()) + " " + req->body());
        fx::trace("answer", std::to_string(res.result_int()) + " " + res.body());

        const bool rejected_vote = res.result() == http::status::service_unavailable &&
                                   res.body().find("\"status\":\"rejected\"") != std::string::npos;
        // /health's 503 (failing) is the whole health answer with its detail
        const bool health_failing = res.result() == http::status::service_unavailable &&
                                    std::string_view(req->target()).substr(0, std::string_view(req->target()).find('?')) == "/health";
        fx::check_http_response(*req, res, backend_statuses, rejected_vote || health_failing);
        const std::string_view target = req->target();
        const std::string_view path = target.substr(0, target.find('?'));
        const bool success = res.result_int() < 300;
        // Which token the server saw: another Authorization header from the input may come first.
        const auto seen = req->find(http::field::authorization);
        const bool ours = seen != req->end() && parts.headers.back().first == "Authorization" &&
                          req->count(http::field::authorization) == 1;
        auto fail = [&](std::string_view why) { fx::violated(why, target, res.body()); };
        if (success && admin_route(path, req->method()) && !(ours && account(w) == who::admin && !revoked.contains(who::admin)))
            fail("an administrator route succeeded without the administrator's live token");
        if (success && user_route(path)) {
            const bool live = ours && w != who::none && w != who::garbage && w != who::raw && !revoked.contains(w) &&
                              !revoked.contains(account(w));
            if (!live) fail("an authenticated route succeeded without a live token");
        }
        if (success) check_accounts(*req, path, ours ? account(w) : who::none, accounts, voted, fail);
        if (success && ours && (path == "/api/auth/logout" || path == "/api/auth/logout-all" ||
                                path == "/api/auth/change-password")) {
            revoked.insert(w);
            if (path != "/api/auth/logout") revoked.insert(account(w));
            if (w == who::admin) revoked.insert(who::admin_lowercase);
            if (w == who::admin_lowercase) revoked.insert(who::admin);
        }
    }
    return 0;
}
