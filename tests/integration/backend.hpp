#pragma once
// A real ballotchain-backend process for the integration tests: free port,
// temp data dir, flags that can be changed between restarts, and a client
// that can speak from another loopback address (127.0.0.2 plays the attacker).
#include "network.hpp"

#include <map>

namespace ballotchain::itest {

struct reply {
    int status = 0;
    bj::value body;
    std::string retry_after;  ///< the Retry-After header field, if any
    const bj::object& obj() const { return body.as_object(); }
    std::string str(const char* k) const {
        const auto* v = body.is_object() ? body.as_object().if_contains(k) : nullptr;
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    }
};

/// One ballotchain-backend process. Flags are a map (name → value) so a
/// test can change one and restart with the same data dir.
class backend {
public:
    /// In front of the first `validators` validators of `net`, with its genesis and submitter key.
    backend(const network& net, int validators, std::map<std::string, std::string> flags = {})
        : backend(net.dir() / "genesis.json", net.dir() / "submitter.key", urls(net, validators), std::move(flags)) {}

    /// In front of the given validators (name=url), with the given genesis and submitter key.
    /// With `tls` (a client context trusting the backend's --tls-cert) the test speaks HTTPS to it.
    backend(const fs::path& genesis, const fs::path& submitter_key, std::vector<std::string> validators,
            std::map<std::string, std::string> flags = {}, std::shared_ptr<boost::asio::ssl::context> tls = nullptr)
        : port_(free_port()), validators_(std::move(validators)), tls_(std::move(tls)) {
        dir_ = tmp_.path() / "backend";
        std::ofstream(tmp_.path() / "admin.pw") << admin_password << "\n";
        flags_ = {{"--genesis", genesis.string()},
                  {"--submitter-key", submitter_key.string()},
                  {"--pbkdf2-iterations", "1000"},
                  {"--replay-interval-ms", "200"},
                  {"--resend-after-ms", "3000"},
                  {"--health-interval-ms", "300"},
                  {"--rpc-timeout-ms", "1000"},
                  // every client of the functional tests is 127.0.0.1: room for all of them
                  {"--register-limit", "10000/60"},
                  {"--login-limit", "10000/60"},
                  {"--submit-limit", "10000/60"},
                  {"--status-limit", "100000/60"},
                  {"--results-limit", "10000/60"},
                  {"--verify-limit", "10000/60"}};
        for (auto& [k, v] : flags) flags_[k] = v;
        start();
    }

    /// Restarts (SIGTERM, then start) with `changes` applied to the flags; same data dir.
    void restart(const std::map<std::string, std::string>& changes = {}) {
        proc_.kill(SIGTERM);
        for (const auto& [k, v] : changes) flags_[k] = v;
        start();
    }

    /// Starts the process and waits for /health. Its port was free when chosen, but another
    /// process (another test, another suite on the machine) may take it first: then the backend
    /// exits with "Address already in use" and it starts again on a new free port.
    void start() {
        const auto log_path = tmp_.path() / "backend.log";
        for (int attempt = 0;; ++attempt) {
            std::error_code ec;
            const auto before = fs::exists(log_path) ? static_cast<std::size_t>(fs::file_size(log_path, ec)) : 0;
            std::vector<std::string> argv{backend_bin_dir + "/ballotchain-backend",
                                          "--addr", "127.0.0.1:" + std::to_string(port_),
                                          "--data-dir", dir_.string(),
                                          "--admin-email", "admin@example.org",
                                          "--admin-password-file", (tmp_.path() / "admin.pw").string()};
            for (const auto& [k, v] : flags_) {
                argv.push_back(k);
                argv.push_back(v);
            }
            for (const auto& v : validators_) {
                argv.push_back("--validator");
                argv.push_back(v);
            }
            proc_ = process(argv, log_path);
            // Generous: under ThreadSanitizer the start-up (PBKDF2 of the administrator's password
            // among it) is several times slower, more so on a busy machine.
            const bool answered = eventually(
                [&] {
                    // 503: answering, but failing (no validator reachable yet)
                    if (!proc_.running()) return true;
                    const int st = call(http::verb::get, "/health").status;
                    return st == 200 || st == 503;
                },
                std::chrono::seconds(90));
            if (answered && proc_.running()) return;
            const auto text = proc_.log_text();
            if (attempt < 5 && text.size() > before && text.find("Address already in use", before) != std::string::npos) {
                port_ = free_port();
                continue;
            }
            FAIL("the backend did not answer /health within 90 s (running: " << proc_.running() << "); its log:\n"
                                                                              << text);
        }
    }
    void kill(int sig) { proc_.kill(sig); }
    std::string log() const { return proc_.log_text(); }
    const fs::path& dir() const { return dir_; }
    std::uint16_t port() const { return port_; }

    /// One request; `source` is the local address to send from ("" = 127.0.0.1 by default routing).
    reply call(http::verb verb, const std::string& target, const std::string& body = "", const std::string& token = "",
               const std::string& source = "") const {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
        auto r = client::http_request("127.0.0.1", port_, verb, target, body, std::chrono::milliseconds(60000), headers,
                                   source, tls_.get());
        reply out;
        out.status = r.status;
        out.retry_after = r.field("retry-after");
        boost::system::error_code ec;
        out.body = bj::parse(r.body, ec);
        if (ec) out.body = nullptr;
        return out;
    }
    reply post(const std::string& target, const bj::value& body, const std::string& token = "",
               const std::string& source = "") const {
        return call(http::verb::post, target, bj::serialize(body), token, source);
    }
    reply get(const std::string& target, const std::string& token = "", const std::string& source = "") const {
        return call(http::verb::get, target, "", token, source);
    }

    std::string login(const std::string& email, const std::string& pw, const std::string& source = "") const {
        auto r = post("/api/auth/login", bj::object{{"email", email}, {"password", pw}}, "", source);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 200);
        return r.str("access_token");
    }
    std::string admin() const { return login("admin@example.org", admin_password); }
    static std::string voter_email(int k) { return "voter" + std::to_string(k) + "@example.org"; }
    static std::string voter_password(int k) { return "password-" + std::to_string(k); }
    /// Registers voterK@example.org and logs in; returns the token.
    std::string voter(int k, const std::string& source = "") const {
        auto r = post("/api/auth/register",
                      bj::object{{"email", voter_email(k)}, {"password", voter_password(k)},
                                   {"full_name", "Voter " + std::to_string(k)}},
                      "", source);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 201);
        return login(voter_email(k), voter_password(k), source);
    }
    /// Creates an election with `n` candidates; returns {election id, candidate ids}.
    std::pair<std::int64_t, std::vector<std::int64_t>> election(const std::string& token, int n) const {
        bj::array cs;
        for (int i = 0; i < n; ++i) cs.push_back(bj::object{{"name", "Candidate " + std::string(1, char('A' + i))}});
        auto r = post("/api/elections", bj::object{{"name", "Election"}, {"candidates", cs}}, token);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 201);
        std::vector<std::int64_t> ids;
        for (const auto& c : r.obj().at("candidates").as_array()) ids.push_back(c.as_object().at("id").as_int64());
        return {r.obj().at("id").as_int64(), ids};
    }
    reply vote(const std::string& token, std::int64_t election, std::int64_t candidate,
               const std::string& payload = "c2VjcmV0", const std::string& source = "") const {
        return post("/api/votes/submit",
                    bj::object{{"election_id", election}, {"candidate_id", candidate}, {"encrypted_vote", payload}},
                    token, source);
    }
    reply status(const std::string& tx, std::int64_t election) const {
        return get("/api/votes/transaction-status?transaction_id=" + tx + "&election_id=" + std::to_string(election));
    }
    std::uint64_t outbox() const {
        auto h = get("/health");
        return h.status == 200 || h.status == 503 ? h.obj().at("outbox").to_number<std::uint64_t>() : ~0ull;
    }

    static constexpr const char* admin_password = "admin-password-1";

private:
    static std::vector<std::string> urls(const network& net, int n) {
        std::vector<std::string> out;
        for (int i = 0; i < n; ++i)
            out.push_back("validator-" + std::to_string(i + 1) + "=http://127.0.0.1:" + std::to_string(net.rpc(i)));
        return out;
    }

    temp_dir tmp_;
    fs::path dir_;
    std::uint16_t port_;
    std::vector<std::string> validators_;
    std::map<std::string, std::string> flags_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    process proc_;
};

/// Total votes for an election on validator i (poa_getResults), or nullopt.
inline std::optional<std::uint64_t> chain_total(const network& net, int i, std::int64_t election) {
    auto r = rpc_call(net.rpc(i), "poa_getResults", {election});
    if (!r || !r->is_object()) return std::nullopt;
    return r->as_object().at("total_votes").to_number<std::uint64_t>();
}

inline bool confirmed(const backend& b, const std::string& tx, std::int64_t election) {
    auto r = b.status(tx, election);
    return r.status == 200 && r.obj().at("confirmed").as_bool();
}

/// The backend's count for an election (GET /api/votes/results), or nullopt.
inline std::optional<std::int64_t> results_total(const backend& b, std::int64_t election) {
    auto r = b.get("/api/votes/results?election_id=" + std::to_string(election));
    if (r.status != 200) return std::nullopt;
    return r.obj().at("total_votes").as_int64();
}

/// Base64 (standard alphabet, padded) of `n` bytes of 'x'.
inline std::string base64_of_size(std::size_t n) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::string in(n, 'x');
    std::string out;
    for (std::size_t i = 0; i < n; i += 3) {
        const unsigned b0 = static_cast<unsigned char>(in[i]);
        const unsigned b1 = i + 1 < n ? static_cast<unsigned char>(in[i + 1]) : 0;
        const unsigned b2 = i + 2 < n ? static_cast<unsigned char>(in[i + 2]) : 0;
        const unsigned v = (b0 << 16) | (b1 << 8) | b2;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        out += i + 2 < n ? alphabet[v & 63] : '=';
    }
    return out;
}

}  // namespace ballotchain::itest
