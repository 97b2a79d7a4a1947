// The backend under abuse and misconfiguration, played from outside with real
// processes: no voter locked out by a refusal (before storing or by the chain),
// no account locked by someone else's guesses, per-client limits (attacker on
// 127.0.0.2, legitimate clients on 127.0.0.1), one shared verification at a
// time, password and email rules, logout and revocation, and the upgrade of a
// database from before.
#include "backend.hpp"

#include <ballotchain/crypto/hmac.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/rpc/http_server.hpp>

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

using namespace ballotchain;
using namespace ballotchain::itest;

namespace {

constexpr const char* attacker = "127.0.0.2";
constexpr const char* legit = "127.0.0.1";

/// Genesis and submitter key of a one-validator testnet, without starting anything.
class testnet_files {
public:
    testnet_files() {
        auto [rc, out] = run({bin_dir + "/ballotchain", "testnet", "--validators", "1", "--out", (tmp_.path() / "net").string()},
                             tmp_.path() / "testnet.log");
        INFO(out);
        REQUIRE(rc == 0);
    }
    fs::path genesis() const { return tmp_.path() / "net" / "genesis.json"; }
    fs::path submitter_key() const { return tmp_.path() / "net" / "submitter.key"; }

private:
    temp_dir tmp_;
};

/// A validator address nobody listens on (the backend then keeps votes on its fallback chain).
std::vector<std::string> nobody() { return {"validator-1=http://127.0.0.1:" + std::to_string(free_port())}; }

/// Writes a copy of genesis `from` with `change` applied to its JSON.
fs::path changed_genesis(const fs::path& from, const fs::path& to, const std::function<void(bj::object&)>& change) {
    std::ifstream in(from);
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = bj::parse(ss.str());
    change(v.as_object());
    std::ofstream(to) << bj::serialize(v) << "\n";
    return to;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

int retry_after_s(const reply& r) {
    try {
        return std::stoi(r.retry_after);
    } catch (...) {
        return -1;
    }
}

/// A 429 as the API promises it: {"detail"} and a Retry-After of whole seconds.
void check_429(const reply& r, int max_s) {
    INFO(bj::serialize(r.body) << " Retry-After: " << r.retry_after);
    CHECK(r.status == 429);
    CHECK_FALSE(r.str("detail").empty());
    CHECK(retry_after_s(r) >= 1);
    CHECK(retry_after_s(r) <= max_s);
}

/// A JSON-RPC "validator" in this process that counts calls by method and can
/// hold every call until released: it shows how many lookups the backend starts.
/// It serves a chain at block 0 (which the genesis alone proves) with answers of
/// the shapes docs/api.md gives, so that the backend's verifying client accepts them.
class fake_validator {
public:
    fake_validator() {
        rpc::http_server_options o;
        o.handler_executor = pool_.get_executor();
        auto s = rpc::http_server::create(
            io_, {boost::asio::ip::make_address("127.0.0.1"), 0}, [this](const rpc::http_request& r) { return handle(r); }, o);
        REQUIRE(s);
        srv_ = *s;
        thread_ = std::thread([this] { io_.run(); });
    }
    ~fake_validator() {
        hold(false);
        boost::asio::post(io_, [this] {
            srv_->stop();
            io_.stop();
        });
        thread_.join();
        pool_.join();
    }
    std::string url() const { return "validator-1=http://127.0.0.1:" + std::to_string(srv_->port()); }
    void hold(bool on) {
        {
            std::lock_guard lk(mu_);
            hold_ = on;
        }
        cv_.notify_all();
    }
    int calls(const std::string& method) {
        std::lock_guard lk(mu_);
        return calls_[method];
    }

private:
    rpc::http_response handle(const rpc::http_request& r) {
        if (r.target() == "/health")
            return rpc::json_response(rpc::http::status::ok, bj::object{{"height", 0}, {"syncing", false}, {"peers", 3}});
        boost::system::error_code ec;
        auto v = bj::parse(r.body(), ec);
        const std::string method = !ec && v.is_object() && v.as_object().contains("method")
                                       ? std::string(v.as_object().at("method").as_string())
                                       : std::string();
        {
            std::unique_lock lk(mu_);
            ++calls_[method];
            cv_.wait(lk, [this] { return !hold_; });
        }
        bj::object out{{"jsonrpc", "2.0"}, {"id", 1}};
        const bj::value* params = !ec && v.is_object() ? v.as_object().if_contains("params") : nullptr;
        if (method == "poa_verifyChain")
            out["result"] = bj::object{{"ok", true},           {"complete", true},         {"blocks_checked", 1},
                                         {"txs_checked", 0},     {"verified_height", nullptr}, {"verified_hash", nullptr},
                                         {"head", 0}};
        else if (method == "poa_getResults" && params && params->is_array() && !params->as_array().empty())
            out["result"] = bj::object{{"election_id", params->as_array()[0]}, {"results", bj::object{}},
                                         {"total_votes", 0}, {"height", 0}};
        else if (method == "eth_blockNumber")
            out["result"] = "0x0";
        else
            out["error"] = bj::object{{"code", -32601}, {"message", "method not found"}};
        return rpc::json_response(rpc::http::status::ok, out);
    }

    boost::asio::io_context io_;
    boost::asio::thread_pool pool_{24};
    std::shared_ptr<rpc::http_server> srv_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool hold_ = false;
    std::map<std::string, int> calls_;
};

}  // namespace

TEST_CASE("backend: a voter refused before anything is stored can still cast one vote, and it is counted "
          "(every refusal path)",
          "[integration][backend]") {
    network net(3);
    backend b(net, 3);
    const auto admin = b.admin();
    const auto el = b.election(admin, 2);
    const std::int64_t eid = el.first;
    const std::vector<std::int64_t> cands = el.second;
    const auto other = b.election(admin, 1);
    auto later = b.post("/api/elections", bj::object{{"name", "later"}, {"start_date", "2100-01-01T00:00:00Z"},
                                                       {"end_date", "2100-02-01T00:00:00Z"},
                                                       {"candidates", bj::array{bj::object{{"name", "A"}}}}},
                        admin);
    REQUIRE(later.status == 201);
    const std::int64_t later_id = later.obj().at("id").as_int64();
    const std::int64_t later_cand = later.obj().at("candidates").as_array()[0].as_object().at("id").as_int64();
    const std::int64_t c0 = cands[0];
    auto submit = [&](const std::string& token, const bj::object& body) {
        return b.post("/api/votes/submit", body, token);
    };

    struct refusal {
        std::string name;
        int status;
        std::function<reply(const std::string& token)> send;
    };
    const std::vector<refusal> paths{
        {"one byte over the genesis bound (4,097 bytes)", 422,
         [&](const std::string& t) { return b.vote(t, eid, c0, base64_of_size(4097)); }},
        {"5,000 bytes (the backend used to take up to 16 KiB)", 422,
         [&](const std::string& t) { return b.vote(t, eid, c0, base64_of_size(5000)); }},
        {"not base64", 422, [&](const std::string& t) { return b.vote(t, eid, c0, "***"); }},
        {"unpadded base64", 422, [&](const std::string& t) { return b.vote(t, eid, c0, "YQ"); }},
        {"an election that does not exist", 404, [&](const std::string& t) { return b.vote(t, 999, c0); }},
        {"a candidate of another election", 422, [&](const std::string& t) { return b.vote(t, eid, other.second[0]); }},
        {"an election not open yet", 400, [&](const std::string& t) { return b.vote(t, later_id, later_cand); }},
        {"no candidate_id", 422,
         [&](const std::string& t) { return submit(t, bj::object{{"election_id", eid}, {"encrypted_vote", "c2VjcmV0"}}); }},
        {"candidate_id 0", 422, [&](const std::string& t) { return b.vote(t, eid, 0); }},
        {"election_id as a string", 422,
         [&](const std::string& t) {
             return submit(t, bj::object{{"election_id", std::to_string(eid)}, {"candidate_id", c0}});
         }},
        {"a body that is not JSON", 422,
         [&](const std::string& t) { return b.call(http::verb::post, "/api/votes/submit", "{", t); }},
        {"no token", 401, [&](const std::string&) { return b.vote("", eid, c0); }},
        {"a token revoked by logout", 401,
         [&](const std::string& t) {
             REQUIRE(b.post("/api/auth/logout", bj::object{}, t).status == 200);
             return b.vote(t, eid, c0);
         }},
        {"GET instead of POST", 405, [&](const std::string& t) { return b.get("/api/votes/submit", t); }},
    };

    std::vector<std::string> txs;
    std::map<std::int64_t, std::int64_t> expected;
    for (std::size_t k = 0; k < paths.size(); ++k) {
        const auto& p = paths[k];
        INFO("refusal path: " << p.name);
        const int v = static_cast<int>(k);
        const auto refused = p.send(b.voter(v));
        INFO(bj::serialize(refused.body));
        CHECK(refused.status == p.status);
        CHECK_FALSE(refused.str("detail").empty());
        // The same voter now casts a valid vote of exactly the genesis bound.
        const auto token = b.login(backend::voter_email(v), backend::voter_password(v));
        const std::int64_t cand = cands[k % 2];
        const auto ok = b.vote(token, eid, cand, base64_of_size(4096));
        INFO(bj::serialize(ok.body));
        REQUIRE(ok.status == 200);
        CHECK(ok.str("status") == "submitted");
        CHECK_FALSE(ok.obj().contains("previous_attempt"));  // nothing was stored by the refusal
        txs.push_back(ok.str("transaction_id"));
        ++expected[cand];
        CHECK(b.vote(token, eid, cands[0]).status == 409);  // and it holds the voter's one place
    }
    for (const auto& tx : txs) CHECK(eventually([&] { return confirmed(b, tx, eid); }, std::chrono::seconds(60)));
    const auto n = static_cast<std::int64_t>(paths.size());
    CHECK(eventually([&] { return results_total(b, eid) == n; }, std::chrono::seconds(30)));
    auto res = b.get("/api/votes/results?election_id=" + std::to_string(eid));
    REQUIRE(res.status == 200);
    for (const auto& row : res.obj().at("results").as_array())
        CHECK(row.as_object().at("vote_count").as_int64() == expected[row.as_object().at("candidate_id").as_int64()]);
    for (int i = 0; i < 3; ++i)
        CHECK(eventually([&] { return chain_total(net, i, eid) == std::uint64_t(n); }, std::chrono::seconds(30)));
}

TEST_CASE("backend: a vote the validators refuse for good is marked rejected with the reason, and its voter can "
          "vote again (misconfigured genesis, refused at submit and in the replay)",
          "[integration][backend]") {
    network net(3);
    temp_dir cfg;
    const fs::path right = net.dir() / "genesis.json";
    const fs::path right_key = net.dir() / "submitter.key";
    const auto wrong_chain =
        changed_genesis(right, cfg.path() / "wrong-chain-id.json", [](bj::object& g) { g["chain_id"] = 1338; });
    const auto other = ed25519::generate();
    REQUIRE(save_key_file(cfg.path() / "other-submitter.key", other, false));
    const auto wrong_submitter = changed_genesis(right, cfg.path() / "other-submitter.json", [&](bj::object& g) {
        g["submitters"] = bj::array{to_hex(other.public_key())};
    });
    const auto big_votes = changed_genesis(right, cfg.path() / "bigger-votes.json",
                                           [](bj::object& g) { g["max_encrypted_vote_bytes"] = 8192; });

    backend b(net, 3, {{"--genesis", wrong_chain.string()}});
    const auto admin = b.admin();
    const auto el = b.election(admin, 2);
    const std::int64_t eid = el.first;
    const std::vector<std::int64_t> cands = el.second;
    auto rejected_for = [&](const std::string& tx, const std::string& why) {
        auto st = b.status(tx, eid);
        INFO(bj::serialize(st.body));
        return st.status == 200 && st.str("status") == "rejected" && !st.obj().at("confirmed").as_bool() &&
               contains(st.str("detail"), why);
    };
    auto refused_at_submit = [&](const reply& r, const std::string& why) {
        INFO(bj::serialize(r.body));
        CHECK(r.status == 503);
        CHECK(contains(r.str("detail"), why));
        CHECK(contains(r.str("detail"), "may vote again"));
        CHECK(r.str("status") == "rejected");
        CHECK(rejected_for(r.str("transaction_id"), why));
        return r.str("transaction_id");
    };

    // 1. The backend's chain id is not the validators': refused at submit, and again (no 409).
    const auto a = b.voter(1);
    const auto a_tx = refused_at_submit(b.vote(a, eid, cands[0]), "wrong chain id");
    refused_at_submit(b.vote(a, eid, cands[0]), "wrong chain id");

    // 2. Its submitter is not in the validators' genesis.
    b.restart({{"--genesis", wrong_submitter.string()}, {"--submitter-key", (cfg.path() / "other-submitter.key").string()}});
    const auto bv = b.voter(2);
    refused_at_submit(b.vote(bv, eid, cands[1]), "unauthorized submitter");

    // 3. It allows larger votes than the validators: the large one is refused, a small one is counted.
    b.restart({{"--genesis", big_votes.string()}, {"--submitter-key", right_key.string()}});
    const auto c = b.voter(3);
    const auto c_big = refused_at_submit(b.vote(c, eid, cands[1], base64_of_size(5000)), "too large");
    auto c_ok = b.vote(c, eid, cands[1]);
    INFO(bj::serialize(c_ok.body));
    REQUIRE(c_ok.status == 200);
    CHECK(c_ok.obj().at("previous_attempt").as_object().at("transaction_id").as_string() == c_big);
    CHECK(contains(std::string(c_ok.obj().at("previous_attempt").as_object().at("detail").as_string()), "too large"));
    std::vector<std::string> counted{c_ok.str("transaction_id")};

    // 4. Wrong chain id while every validator is down: acknowledged from the outbox, refused in the replay.
    b.restart({{"--genesis", wrong_chain.string()}});
    for (int i = 0; i < 3; ++i) net.kill(i, SIGKILL);
    const auto d = b.voter(4);
    auto d_first = b.vote(d, eid, cands[0]);
    INFO(bj::serialize(d_first.body));
    REQUIRE(d_first.status == 200);
    CHECK(d_first.str("status") == "pending");
    for (int i = 0; i < 3; ++i) net.start(i);
    CHECK(eventually([&] { return rejected_for(d_first.str("transaction_id"), "wrong chain id"); },
                     std::chrono::seconds(90)));

    // 5. Fixed: the refused voters vote again, their new votes are final and counted.
    b.restart({{"--genesis", right.string()}});
    for (const auto& [token, cand] : {std::pair{a, cands[0]}, std::pair{bv, cands[1]}, std::pair{d, cands[0]}}) {
        auto r = b.vote(token, eid, cand);
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 200);
        const auto& prev = r.obj().at("previous_attempt").as_object();
        CHECK(prev.at("status").as_string() == "rejected");
        CHECK_FALSE(prev.at("detail").as_string().empty());
        counted.push_back(r.str("transaction_id"));
        CHECK(b.vote(token, eid, cand).status == 409);  // one vote in flight per voter, as before
    }
    for (const auto& tx : counted) CHECK(eventually([&] { return confirmed(b, tx, eid); }, std::chrono::seconds(90)));
    CHECK(rejected_for(a_tx, "wrong chain id"));  // the refused one keeps its reason
    CHECK(eventually([&] { return results_total(b, eid) == 4; }, std::chrono::seconds(30)));
    for (int i = 0; i < 3; ++i)
        CHECK(eventually([&] { return chain_total(net, i, eid) == 4u; }, std::chrono::seconds(30)));
    INFO(b.log());
}

TEST_CASE("backend: 30 parallel wrong passwords from one address get at most 5 password checks, and the owner "
          "still logs in from another address",
          "[integration][backend]") {
    testnet_files files;
    // A slow hash widens the window in which parallel guesses overlap.
    backend b(files.genesis(), files.submitter_key(), nobody(),
              {{"--pbkdf2-iterations", "50000"}, {"--login-backoff-ms", "600000"}, {"--login-free-failures", "5"},
               {"--login-client-free-failures", "20"}});
    const auto voter = b.voter(1);
    (void)voter;

    constexpr int guesses = 30;
    std::atomic<bool> go{false};
    std::atomic<int> unauthorized{0}, throttled{0}, other{0}, bad_429{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < guesses; ++i)
        threads.emplace_back([&, i] {
            while (!go) std::this_thread::yield();
            auto r = b.post("/api/auth/login",
                            bj::object{{"email", "admin@example.org"}, {"password", "guess-" + std::to_string(i)}}, "",
                            attacker);
            if (r.status == 401)
                ++unauthorized;
            else if (r.status == 429) {
                ++throttled;
                if (retry_after_s(r) < 1 || r.str("detail").empty()) ++bad_429;
            } else
                ++other;
        });
    go = true;
    // The owner logs in from another address while the guesses are under way, and after.
    auto during = b.post("/api/auth/login", bj::object{{"email", "admin@example.org"}, {"password", backend::admin_password}},
                         "", legit);
    for (auto& t : threads) t.join();
    INFO(bj::serialize(during.body));
    CHECK(during.status == 200);
    CHECK(unauthorized == 5);  // exactly the free attempts were checked against the password
    CHECK(throttled == guesses - 5);
    CHECK(other == 0);
    CHECK(bad_429 == 0);
    CHECK(b.post("/api/auth/login", bj::object{{"email", "admin@example.org"}, {"password", backend::admin_password}},
                 "", legit)
              .status == 200);

    // From the attacker's address that account now waits, even with the right password;
    // other accounts from there do not.
    check_429(b.post("/api/auth/login", bj::object{{"email", "admin@example.org"}, {"password", backend::admin_password}},
                     "", attacker),
              600);
    CHECK(b.post("/api/auth/login",
                 bj::object{{"email", backend::voter_email(1)}, {"password", backend::voter_password(1)}}, "", attacker)
              .status == 200);

    // Per address over all accounts: 20 failures, then each further attempt waits.
    int fails = 0, waits = 0;
    for (int k = 0; k < 20; ++k) {
        auto r = b.post("/api/auth/login",
                        bj::object{{"email", "nobody" + std::to_string(k) + "@example.org"}, {"password", "guess-guess"}},
                        "", attacker);
        if (r.status == 401) ++fails;
        if (r.status == 429) {
            ++waits;
            check_429(r, 600);
        }
    }
    CHECK(fails == 15);  // 5 on the administrator's account before
    CHECK(waits == 5);
    CHECK(b.post("/api/auth/login",
                 bj::object{{"email", backend::voter_email(1)}, {"password", backend::voter_password(1)}}, "", legit)
              .status == 200);
}

TEST_CASE("backend: a client over its request limit gets 429 with Retry-After while another address is still served",
          "[integration][backend]") {
    network net(3);
    backend b(net, 3,
              {{"--register-limit", "3/600"}, {"--login-limit", "4/600"}, {"--submit-limit", "2/600"},
               {"--status-limit", "3/600"}, {"--results-limit", "3/600"}, {"--verify-limit", "2/600"}});
    const auto admin = b.admin();  // one of 127.0.0.1's logins
    const auto el = b.election(admin, 2);
    const std::int64_t eid = el.first;
    const std::int64_t cand = el.second[0];
    auto reg = [&](int k, const std::string& from) {
        return b.post("/api/auth/register",
                      bj::object{{"email", backend::voter_email(k)}, {"password", backend::voter_password(k)}}, "", from);
    };
    auto login = [&](int k, const std::string& from) {
        return b.post("/api/auth/login",
                      bj::object{{"email", backend::voter_email(k)}, {"password", backend::voter_password(k)}}, "", from);
    };

    // register: 3 per 600 s
    for (int k = 100; k < 103; ++k) CHECK(reg(k, attacker).status == 201);
    check_429(reg(103, attacker), 600);
    CHECK(reg(200, legit).status == 201);
    CHECK(reg(201, legit).status == 201);

    // login: 4 per 600 s
    std::vector<std::string> tokens;
    for (int k = 100; k < 103; ++k) {
        auto r = login(k, attacker);
        REQUIRE(r.status == 200);
        tokens.push_back(r.str("access_token"));
    }
    CHECK(login(100, attacker).status == 200);
    check_429(login(100, attacker), 600);
    auto legit_login = login(200, legit);
    REQUIRE(legit_login.status == 200);

    // submit: 2 per 600 s; the refused vote took nothing, its voter votes from elsewhere
    std::string tx;
    for (int i = 0; i < 2; ++i) {
        auto r = b.vote(tokens[static_cast<std::size_t>(i)], eid, cand, "c2VjcmV0", attacker);
        INFO(bj::serialize(r.body));
        CHECK(r.status == 200);
        tx = r.str("transaction_id");
    }
    check_429(b.vote(tokens[2], eid, cand, "c2VjcmV0", attacker), 600);
    CHECK(b.vote(legit_login.str("access_token"), eid, cand, "c2VjcmV0", legit).status == 200);
    CHECK(b.vote(tokens[2], eid, cand, "c2VjcmV0", legit).status == 200);

    // transaction-status, results, verify-blockchain
    const std::string st = "/api/votes/transaction-status?transaction_id=" + tx;
    const std::string rs = "/api/votes/results?election_id=" + std::to_string(eid);
    const bj::object ver{{"election_id", eid}};
    for (int i = 0; i < 3; ++i) CHECK(b.get(st, "", attacker).status == 200);
    check_429(b.get(st, "", attacker), 600);
    CHECK(b.get(st, "", legit).status == 200);
    for (int i = 0; i < 3; ++i) CHECK(b.get(rs, "", attacker).status == 200);
    check_429(b.get(rs, "", attacker), 600);
    CHECK(b.get(rs, "", legit).status == 200);
    for (int i = 0; i < 2; ++i) CHECK(b.post("/api/votes/verify-blockchain", ver, "", attacker).status == 200);
    check_429(b.post("/api/votes/verify-blockchain", ver, "", attacker), 600);
    CHECK(b.post("/api/votes/verify-blockchain", ver, "", legit).status == 200);
    // cheap reads are not limited
    CHECK(b.get("/api/elections", "", attacker).status == 200);
    CHECK(b.get("/health", "", attacker).status == 200);
}

TEST_CASE("backend: concurrent verify-blockchain and results callers share one validator lookup, which is then reused",
          "[integration][backend]") {
    testnet_files files;
    fake_validator fake;
    backend b(files.genesis(), files.submitter_key(), {fake.url()},
              {{"--rpc-timeout-ms", "60000"}, {"--verify-cache-ms", "600000"}, {"--results-cache-ms", "600000"},
               {"--workers", "8"}});
    const auto admin = b.admin();
    const auto e1 = b.election(admin, 1).first;
    const auto e2 = b.election(admin, 1).first;

    // `callers` requests at once while the validator holds the first lookup.
    auto concurrently = [&](const std::string& method, const std::function<reply()>& request) {
        constexpr int callers = 16;
        const int before = fake.calls(method);
        fake.hold(true);
        std::vector<reply> replies(callers);
        std::vector<std::thread> threads;
        for (int i = 0; i < callers; ++i)
            threads.emplace_back([&, i] { replies[static_cast<std::size_t>(i)] = request(); });
        REQUIRE(eventually([&] { return fake.calls(method) >= before + 1; }, std::chrono::seconds(30)));
        // While the first lookup is held, nobody starts another.
        CHECK_FALSE(eventually([&] { return fake.calls(method) >= before + 2; }, std::chrono::seconds(3)));
        fake.hold(false);
        for (auto& t : threads) t.join();
        CHECK(fake.calls(method) == before + 1);
        return replies;
    };

    const auto verified = concurrently("poa_verifyChain", [&] {
        return b.post("/api/votes/verify-blockchain", bj::object{{"election_id", e1}});
    });
    for (const auto& r : verified) {
        INFO(bj::serialize(r.body));
        REQUIRE(r.status == 200);
        CHECK(r.obj().at("chain_valid").as_bool());
        CHECK(r.str("source") == "poa_validators");
        CHECK(r.str("timestamp") == verified[0].str("timestamp"));  // one verification, shared
    }
    const int tallies = fake.calls("poa_getResults");
    CHECK(tallies == 1);  // election 1's tally, looked up once for all of them

    const auto counted = concurrently("poa_getResults", [&] {
        return b.get("/api/votes/results?election_id=" + std::to_string(e2));
    });
    for (const auto& r : counted) {
        INFO(bj::serialize(r.body));
        CHECK(r.status == 200);
        CHECK(r.obj().at("verification").as_object().at("chain_valid").as_bool());
    }
    CHECK(fake.calls("poa_getResults") == tallies + 1);

    // Within the cache time nothing more reaches the validator.
    for (int i = 0; i < 5; ++i) {
        CHECK(b.post("/api/votes/verify-blockchain", bj::object{{"election_id", e2}}).status == 200);
        CHECK(b.get("/api/votes/results?election_id=" + std::to_string(e1)).status == 200);
    }
    CHECK(fake.calls("poa_verifyChain") == 1);
    CHECK(fake.calls("poa_getResults") == tallies + 1);
}

TEST_CASE("backend: weak passwords and malformed emails are refused; logout, logout-all and a password change "
          "revoke tokens",
          "[integration][backend]") {
    testnet_files files;
    backend b(files.genesis(), files.submitter_key(), nobody());
    auto reg = [&](const std::string& email, const std::string& pw) {
        return b.post("/api/auth/register", bj::object{{"email", email}, {"password", pw}});
    };

    for (const std::string& pw : std::vector<std::string>{"password", "        ", "\t\t\t\t\t\t\t\t\t", "PassWord", "12345678", "qwertyuiop",
                                 "aaaaaaaaaaaa", "short", "", "carol@example.org", "CAROL@example.org",
                                 "carol.smith", std::string(129, 'x') + "y"}) {
        auto r = reg(pw == "carol.smith" ? "carol.smith@example.org" : "carol@example.org", pw);
        INFO("password '" << pw << "': " << bj::serialize(r.body));
        CHECK(r.status == 422);
        CHECK_FALSE(r.str("detail").empty());
    }
    for (const std::string& email : std::vector<std::string>{
             "@@@", std::string("a\0b@example.org", 15), "a b@example.org", "tab\t@example.org", "bell\x07@example.org",
          "x@y", "x@.example.org", "x@example..org", "x@example.org.", ".x@example.org", "x.@example.org",
          "x@-example.org", "a@b@example.org", "no-at-sign", "@example.org", "x@", "<x>@example.org",
          std::string(250, 'a') + "@example.org", "x@exa_mple.org", " x@example.org", "x@example.org\n"}) {
        auto r = reg(email, "a-good-passphrase");
        INFO("email '" << email << "': " << bj::serialize(r.body));
        CHECK(r.status == 422);
        CHECK_FALSE(r.str("detail").empty());
    }
    for (const std::string& email : std::vector<std::string>{"first.last+tag@example.org", "someone@localhost", "O'Brien@sub.example.co.uk",
                                    "\xce\xb4\xce\xbf\xce\xba@\xcf\x80\xce\xb1\xcf\x81.example"}) {
        auto r = reg(email, "a-good-passphrase");
        INFO("email '" << email << "': " << bj::serialize(r.body));
        CHECK(r.status == 201);
    }
    auto weird = reg("mixed.Case@Example.ORG", "correct horse battery staple");
    CHECK(weird.status == 201);
    CHECK(weird.str("email") == "mixed.case@example.org");

    // logout revokes the presented token only
    const std::string email = "first.last+tag@example.org", pw = "a-good-passphrase";
    const auto t1 = b.login(email, pw), t2 = b.login(email, pw), t3 = b.login(email, pw);
    auto out = b.post("/api/auth/logout", bj::object{}, t1);
    INFO(bj::serialize(out.body));
    CHECK(out.status == 200);
    CHECK(b.get("/api/auth/me", t1).status == 401);
    CHECK(b.post("/api/auth/logout", bj::object{}, t1).status == 401);
    CHECK(b.get("/api/auth/me", t2).status == 200);
    CHECK(b.get("/api/auth/logout", t2).status == 405);
    // logout-all revokes every session of the user, and no one else's
    const auto other = b.login("someone@localhost", pw);
    auto all = b.post("/api/auth/logout-all", bj::object{}, t2);
    CHECK(all.status == 200);
    CHECK(all.obj().at("sessions_revoked").as_int64() == 2);
    CHECK(b.get("/api/auth/me", t2).status == 401);
    CHECK(b.get("/api/auth/me", t3).status == 401);
    CHECK(b.get("/api/auth/me", other).status == 200);
    CHECK(b.post("/api/auth/logout-all", bj::object{}).status == 401);
    // a user keeps at most 32 sessions: each login beyond revokes the oldest
    std::vector<std::string> many{other};
    for (int i = 0; i < 39; ++i) many.push_back(b.login("someone@localhost", pw));
    int valid = 0;
    for (const auto& t : many) valid += b.get("/api/auth/me", t).status == 200;
    CHECK(valid == 32);
    CHECK(b.get("/api/auth/me", many.back()).status == 200);
    CHECK(b.get("/api/auth/me", many.front()).status == 401);

    // a password change needs the current password and a good new one, and revokes every session
    const auto t4 = b.login(email, pw), t5 = b.login(email, pw);
    auto change = [&](const std::string& token, const std::string& cur, const std::string& next) {
        return b.post("/api/auth/change-password", bj::object{{"current_password", cur}, {"new_password", next}}, token);
    };
    CHECK(change(t4, "not-the-password", "another-good-passphrase").status == 401);
    CHECK(change(t4, pw, "password1").status == 422);
    CHECK(change("", pw, "another-good-passphrase").status == 401);
    auto changed = change(t4, pw, "another-good-passphrase");
    INFO(bj::serialize(changed.body));
    REQUIRE(changed.status == 200);
    CHECK(b.get("/api/auth/me", t4).status == 401);
    CHECK(b.get("/api/auth/me", t5).status == 401);
    CHECK(b.get("/api/auth/me", changed.str("access_token")).status == 200);
    CHECK(b.post("/api/auth/login", bj::object{{"email", email}, {"password", pw}}).status == 401);
    CHECK(b.post("/api/auth/login", bj::object{{"email", email}, {"password", "another-good-passphrase"}}).status == 200);
    auto api = b.get("/openapi.json");
    REQUIRE(api.status == 200);
    for (const char* p : {"/api/auth/logout", "/api/auth/logout-all", "/api/auth/change-password"})
        CHECK(api.obj().at("paths").as_object().contains(p));
}

TEST_CASE("backend: a database from before (one vote row per voter, refused or not) is upgraded in place and its "
          "refused voters can vote again",
          "[integration][backend]") {
    testnet_files files;
    backend b(files.genesis(), files.submitter_key(), nobody());
    b.kill(SIGTERM);
    const auto db_path = b.dir() / "backend.db";
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db_path.string() + suffix);

    // The version-0 schema, as the backend created it before.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
    const bytes salt(16, 7);
    const bytes hash = hmac_sha256::pbkdf2("old-voter-password", salt, 1000);
    const std::string now = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    const std::string sql = R"sql(
CREATE TABLE users(
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, full_name TEXT NOT NULL,
  salt BLOB NOT NULL, pw_hash BLOB NOT NULL, is_admin INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL);
CREATE TABLE sessions(
  token_hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), expires_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE elections(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE candidates(
  id INTEGER PRIMARY KEY, election_id INTEGER NOT NULL REFERENCES elections(id), name TEXT NOT NULL,
  description TEXT NOT NULL, UNIQUE(election_id, name));
CREATE TABLE votes(
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  election_id INTEGER NOT NULL REFERENCES elections(id), candidate_id INTEGER NOT NULL REFERENCES candidates(id),
  tx_hash BLOB NOT NULL UNIQUE, ballot_hash TEXT NOT NULL, raw_tx BLOB NOT NULL,
  status TEXT NOT NULL, validator TEXT NOT NULL DEFAULT '', block_number INTEGER, block_hash TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL, sent_ms INTEGER NOT NULL DEFAULT 0, fallback INTEGER NOT NULL DEFAULT 0,
  detail TEXT NOT NULL DEFAULT '',
  UNIQUE(user_id, election_id));
CREATE INDEX votes_open ON votes(status) WHERE status IN ('pending', 'submitted');
INSERT INTO elections VALUES(1, 'Old election', '', 0, 4102444800000, 0);
INSERT INTO candidates VALUES(1, 1, 'A', ''), (2, 1, 'B', '');
INSERT INTO votes(user_id, election_id, candidate_id, tx_hash, ballot_hash, raw_tx, status, created_ms, detail)
  VALUES(1, 1, 1, x'1111111111111111111111111111111111111111111111111111111111111111', 'b1', x'00', 'rejected', 1, 'vote_too_large (validator-1)'),
        (2, 1, 2, x'2222222222222222222222222222222222222222222222222222222222222222', 'b2', x'00', 'confirmed', 1, '');
)sql";
    REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    for (int id : {1, 2}) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO users VALUES(?1, ?2, 'Old', ?3, ?4, 0, ?5)", -1, &st, nullptr) ==
                SQLITE_OK);
        const std::string email = "old" + std::to_string(id) + "@example.org";
        sqlite3_bind_int(st, 1, id);
        sqlite3_bind_text(st, 2, email.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, salt.data(), static_cast<int>(salt.size()), SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 4, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, std::stoll(now));
        REQUIRE(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);

    b.start();
    const auto refused = b.login("old1@example.org", "old-voter-password");
    auto r = b.vote(refused, 1, 2);
    INFO(bj::serialize(r.body) << "\n" << b.log());
    REQUIRE(r.status == 200);
    CHECK(r.obj().at("previous_attempt").as_object().at("detail").as_string() == "vote_too_large (validator-1)");
    const auto counted = b.login("old2@example.org", "old-voter-password");
    CHECK(b.vote(counted, 1, 1).status == 409);  // a vote kept from before still holds its voter's place
    CHECK(b.vote(refused, 1, 1).status == 409);
    auto st = b.status("0x" + std::string(64, '1'), 1);  // the refused vote from before, with its reason
    INFO(bj::serialize(st.body));
    CHECK(st.status == 200);
    CHECK(st.str("status") == "rejected");
    CHECK(st.str("detail") == "vote_too_large (validator-1)");
    // the upgraded database keeps its rows
    REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT COUNT(*), (SELECT user_version FROM pragma_user_version) FROM votes", -1, &q,
                               nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK(sqlite3_column_int(q, 0) == 3);
    CHECK(sqlite3_column_int(q, 1) == 3);  // the current schema version
    sqlite3_finalize(q);
    sqlite3_close(db);
}

TEST_CASE("backend: behind a trusted load balancer, limits key on X-Forwarded-For: an attacker's failed logins do "
          "not lock out the owner coming through the same balancer, and the header is ignored from anyone else",
          "[integration][backend]") {
    testnet_files files;
    // 127.0.0.1 plays the load balancer; 127.0.0.2 sends the header without being trusted.
    backend b(files.genesis(), files.submitter_key(), nobody(),
              {{"--login-backoff-ms", "600000"}, {"--login-free-failures", "3"}, {"--trusted-proxy", "127.0.0.1/32"}});
    (void)b.voter(1);
    auto login = [&](const std::string& pw, const std::string& forwarded, const std::string& source = "") {
        std::vector<std::pair<std::string, std::string>> headers{{"X-Forwarded-For", forwarded}};
        const auto body = bj::serialize(bj::object{{"email", backend::voter_email(1)}, {"password", pw}});
        return client::http_request("127.0.0.1", b.port(), http::verb::post, "/api/auth/login", body,
                                    std::chrono::milliseconds(30000), headers, source)
            .status;
    };
    // The attacker (as the balancer forwards it, with a forged address to the left) uses up its free failures.
    for (int i = 0; i < 3; ++i) CHECK(login("wrong-password", "192.0.2.66, 198.51.100.66") == 401);
    CHECK(login(backend::voter_password(1), "192.0.2.66, 198.51.100.66") == 429);
    // The owner, through the same balancer from another address, is not affected.
    CHECK(login(backend::voter_password(1), "198.51.100.7") == 200);
    // An untrusted sender cannot pick its address with the header: 127.0.0.2 is itself the client.
    for (int i = 0; i < 3; ++i) CHECK(login("wrong-password", std::to_string(i) + ".1.1.1", "127.0.0.2") == 401);
    CHECK(login(backend::voter_password(1), "9.9.9.9", "127.0.0.2") == 429);
    CHECK(login(backend::voter_password(1), "198.51.100.8") == 200);
}
