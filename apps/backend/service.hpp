#pragma once
/// @file The backend service: the REST API of the original design (docs/backend.md)
/// over the validator network.
///
/// Voters register and log in (bearer tokens), administrators create elections
/// and candidates, voters submit one vote per election. A vote is signed with
/// the backend's submitter key and recorded durably in SQLite (status
/// 'pending') before anything else; then it goes to a validator through the
/// verifying client (load balancing, health, failover; receipts, tallies and
/// chain reports checked against the genesis before they are believed). If no
/// validator answers, it is also appended to a local fallback chain and the
/// voter gets the fallback warning (docs/backend.md). Every status change of a
/// vote after that is the outbox's (outbox.hpp); the replay thread calls its tick().
///
/// The service composes the parts (docs/architecture.md, "Processes"):
/// accounts (auth.hpp), elections (elections.hpp), votes: building, signing
/// and checking them, submit and status (votes.hpp), results, verification
/// and validator health with their caches (reports.hpp), the outbox and the
/// fallback ledger, group commit, background loops. It keeps configuration,
/// start-up (database, genesis, keys, voter-tag secret, the verifying client)
/// and routing.
/// Per-client limits (throttle.hpp) guard the endpoints that cost work:
/// register, login, submit, results, verification.

#include "auth.hpp"
#include "chain_view.hpp"
#include "elections.hpp"
#include "fallback.hpp"
#include "group_commit.hpp"
#include "http_util.hpp"
#include "loops.hpp"
#include "metrics.hpp"
#include "openapi.hpp"
#include "outbox.hpp"
#include "pg_store.hpp"
#include "reports.hpp"
#include "secret_ballots.hpp"
#include "sqlite_store.hpp"
#include "store_failure.hpp"
#include "throttle.hpp"
#include "validator_client.hpp"
#include "vote_events.hpp"
#include "votes.hpp"
#include "web_files.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/client/async_transport.hpp>
#include <ballotchain/client/client.hpp>
#include <ballotchain/core/file.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/crypto/random.hpp>
#include <ballotchain/rpc/health.hpp>
#include <ballotchain/rpc/http_server.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>

#include <charconv>
#include <filesystem>

namespace ballotchain::backend {

namespace http = boost::beast::http;
namespace bjson = boost::json;

inline constexpr const char* version = "0.1.0";

struct config {
    std::string data_dir;
    /// The database: "" for DATA_DIR/backend.db (SQLite), or a postgresql:// URL that
    /// several instances share (docs/operations.md, "Several backends on PostgreSQL").
    std::string database;
    std::size_t database_pool = 8;  ///< PostgreSQL: connections at most
    /// This instance's name in the outbox's claims; "" = the one kept in DATA_DIR/instance.id.
    std::string instance_id;
    std::uint64_t outbox_claim_ms = 30'000;  ///< a claim on a vote holds this long (another instance takes over after)
    std::string genesis_path;
    std::string submitter_key_path;
    std::vector<client::node_info> validators;
    /// Client TLS context for https validators (--validator-ca; null: the system's CA store).
    std::shared_ptr<boost::asio::ssl::context> validator_tls;
    std::uint64_t session_ttl_ms = 24ull * 3600 * 1000;
    std::size_t max_sessions_per_user = 32;  ///< the oldest are revoked beyond
    unsigned pbkdf2_iterations = 100'000;
    std::uint64_t replay_interval_ms = 1000;
    std::uint64_t resend_after_ms = 15'000;  ///< re-send a submitted vote not final after this long
    std::uint64_t health_interval_ms = 5000;
    /// GET /health is degraded while the oldest vote not yet final is older than this.
    std::uint64_t health_outbox_age_ms = 60'000;
    std::uint64_t verify_cache_ms = 10'000;   ///< how long a chain verification result is reused
    std::uint64_t results_cache_ms = 2'000;   ///< how long a tally from the validators is reused
    std::chrono::milliseconds rpc_timeout{2000};  ///< one validator's answer (the client tries each once per call)
    std::string admin_email;     ///< created or updated as administrator at start
    std::string admin_password;  ///< (read from a file by main)
    std::string web_dir;         ///< the built web app (apps/web/dist) served on "/"; "" = none
    std::size_t max_queued_votes = 20'000;  ///< votes accepted and waiting to be stored and sent (beyond: 503)

    // Per-client request limits (client = IPv4 address or IPv6 /64), "N per S seconds".
    rate_spec register_limit{10, 60};
    rate_spec login_limit{30, 60};  ///< login and change-password
    rate_spec submit_limit{30, 60};
    rate_spec status_limit{300, 60};  ///< transaction-status
    rate_spec results_limit{120, 60};
    rate_spec verify_limit{10, 60};
    login_throttle::options login_backoff;
    /// Reverse proxies / load balancers whose X-Forwarded-For names the client (throttle.hpp).
    std::vector<trusted_proxy> trusted_proxies;
    /// With --tls-cert: the certificate's notAfter (unix seconds), shown on /metrics.
    std::optional<std::int64_t> tls_not_after;
};

// ---- the service --------------------------------------------------------------------

class service {
public:
    using client_type = validator_client<client::async_http_transport, steady_clock_adapter>;
    using outbox_type = outbox<client::async_http_transport, steady_clock_adapter>;
    using accounts_type = accounts<steady_clock_adapter>;
    using elections_type = elections<steady_clock_adapter>;
    using votes_type = votes<client::async_http_transport, steady_clock_adapter>;
    using reports_type = reports<client::async_http_transport, steady_clock_adapter>;
    using secret_type = secret_ballots<client::async_http_transport, steady_clock_adapter>;
    using chain_view_type = chain_view<client::async_http_transport, steady_clock_adapter>;

    /// Opens (and on first start creates) everything under cfg.data_dir. Throws
    /// std::runtime_error with a clear message when something is unusable.
    explicit service(config cfg)
        : cfg_(std::move(cfg)),
          db_(open_store(cfg_)),
          register_limit_(cfg_.register_limit),
          login_limit_(cfg_.login_limit),
          submit_limit_(cfg_.submit_limit),
          status_limit_(cfg_.status_limit),
          results_limit_(cfg_.results_limit),
          verify_limit_(cfg_.verify_limit),
          accounts_(*db_, clock_,
                    {cfg_.pbkdf2_iterations, cfg_.session_ttl_ms, cfg_.max_sessions_per_user, cfg_.login_backoff}) {
        auto g = json::load_genesis_file(cfg_.genesis_path);
        if (!g) throw std::runtime_error(cfg_.genesis_path + ": " + g.error().message());
        const genesis_config& genesis = *g;
        auto rules = vote_maker::rules_chain::open(genesis, memory_storage{});
        if (!rules) throw std::runtime_error(cfg_.genesis_path + ": " + rules.error().message());
        auto submitter = load_key_file(cfg_.submitter_key_path);
        if (!submitter) throw std::runtime_error(cfg_.submitter_key_path + ": " + submitter.error().message());
        if (!genesis.is_submitter(submitter->public_key()))
            spdlog::warn("the submitter key {} is not a submitter in {}: votes are refused unless a validator-set "
                         "change made it one (docs/operations.md, \"Rotate keys\")",
                         to_hex(submitter->public_key()), cfg_.genesis_path);
        maker_.emplace(std::move(*rules), *submitter, voter_tag_secret());
        elections_.emplace(*db_, clock_, election_options(genesis));
        fallback_.emplace(cfg_.data_dir + "/fallback", genesis, submitter->public_key(), clock_.wall_ms());
        // The genesis the votes are signed for is also the trust anchor of every answer.
        client::async_http_transport transport;
        transport.tls = cfg_.validator_tls;
        client_.emplace(io_.get_executor(), cfg_.validators, genesis, std::move(transport), clock_,
                        backend_client_options(cfg_.rpc_timeout, cfg_.validators.size(), cfg_.data_dir + "/follower.json"));
        if (!client_->follower_load_error().empty())
            spdlog::warn("verified results start again from block 0: {}", client_->follower_load_error());
        // The submitter key may be one a validator-set change added: votes are authorized
        // against the sets the client learned, checked against the genesis change by change.
        maker_->use_submitter_sets({[this] { return client_->validators(); },
                                    [this] {
                                        if (auto n = client_->update_validators(); !n)
                                            spdlog::warn("validator-set changes not learned: {}", n.error().message);
                                    },
                                    std::chrono::milliseconds(5'000)});
        outbox_.emplace(*db_, *client_, *fallback_, clock_,
                        outbox_type::options{1000, cfg_.resend_after_ms, 512, instance_id(), cfg_.outbox_claim_ms});
        secret_.emplace(*db_, *client_, *maker_, clock_, secret_type::options{cfg_.results_cache_ms});
        votes_.emplace(*db_, *elections_, commit_, *outbox_, *maker_, clock_, &*secret_);
        reports_.emplace(*db_, *client_, *fallback_, *elections_, clock_,
                         reports_type::options{cfg_.verify_cache_ms, cfg_.results_cache_ms}, &*secret_);
        chain_.emplace(*client_);
        events_.emplace([this](const hash32& th, std::optional<std::int64_t> e) { return votes_->stored_status(th, e); },
                        vote_events::options{.decorate = [](rpc::http_response& r) { security_headers(r); }});
        if (!cfg_.web_dir.empty()) web_.emplace(cfg_.web_dir);
        if (!cfg_.admin_email.empty()) accounts_.ensure_admin(cfg_.admin_email, cfg_.admin_password);
    }

    ~service() { stop(); }

    /// Starts the health and replay threads.
    void start() {
        votes_->use_pipeline(cfg_.max_queued_votes, [](rpc::http_response& r) { security_headers(r); });
        (void)client_->check_health();
        loops_.every(cfg_.health_interval_ms, [this] {
            (void)client_->check_health();
            const auto now = clock_.wall_ms();
            must(db_->purge_sessions(now));
            const auto forget = cfg_.login_backoff.forget_ms;
            must(db_->purge_login_failures(now > forget ? now - forget : 0, now));
        });
        loops_.every(cfg_.replay_interval_ms, [this] { replay_once(); });
        loops_.every(1000, [this] { chain_->refresh(); });  // the explorer's latest blocks
        loops_.every(250, [this] { events_->tick(clock_.now_ms()); });
    }

    void stop() {
        if (votes_) votes_->stop_pipeline();
        loops_.stop();
        if (events_) events_->tick(clock_.now_ms(), true);  // held status requests get their answer
        if (outbox_ && !released_.exchange(true)) {  // another instance may take our votes at once
            try {
                outbox_->release_claims();
            } catch (const std::exception& e) {
                spdlog::warn("releasing the outbox's claims: {} (another instance takes them when they expire)", e.what());
            }
        }
    }

    /// The HTTP entry point: never throws. Thread-safe (the server runs it on a pool).
    /// Every answer counts in /metrics (by route template, method and status, with its
    /// duration); an answer given later (request_info::defer) counts when it is given.
    rpc::http_response handle(const rpc::http_request& req, const rpc::request_info& info) {
        const std::string_view target = req.target();
        timing t{this, &info, route_of(target.substr(0, target.find('?'))), method_of(req.method()),
                 std::chrono::steady_clock::now()};
        // The handler defers through this one: its responder counts the answer. (Captures one
        // pointer: no allocation.)
        const rpc::request_info timed{info.remote, info.deferrer ? std::function<rpc::responder()>([&t] { return t.defer(); })
                                                                 : std::function<rpc::responder()>()};
        auto res = answer(req, timed);
        security_headers(res);
        if (!t.deferred) t.observe(res.result_int());
        return res;
    }

    /// GET /metrics: the text (Prometheus exposition format 0.0.4).
    std::string metrics_text() {
        backend_gauges g;
        for (auto& [st, n] : outbox_->open_counts()) {
            if (st == vote_status::pending) g.outbox_pending = n;
            if (st == vote_status::submitted) g.outbox_submitted = n;
        }
        const std::uint64_t now = clock_.wall_ms();
        if (const auto oldest = outbox_->oldest_open(); oldest && oldest->created_ms < now)
            g.outbox_oldest_age_seconds = static_cast<double>(now - oldest->created_ms) / 1000.0;
        g.fallback_votes = fallback_->height();
        g.fallback_in_use = outbox_->stats().fallback_in_use.load(std::memory_order_relaxed);
        for (auto st : {client::node_status::healthy, client::node_status::degraded, client::node_status::unreachable,
                        client::node_status::misbehaving})
            g.validators[static_cast<std::size_t>(st)] = client_->count(st);
        g.validators_total = client_->size();
        g.start_time_ms = start_wall_ms_;
        g.tls_not_after = cfg_.tls_not_after;
        g.version = version;
        return backend_metrics_text(http_metrics_, votes_->counters(), outbox_->stats(), g);
    }

    /// One pass over the outbox (also called by the replay thread). Returns
    /// how many votes changed state.
    std::size_t replay_once() {
        const auto stop = [this] { return loops_.stopping(); };
        return secret_->tick(stop) + outbox_->tick(stop);
    }

private:
    /// One request on its way through handle(): what its answer counts under.
    struct timing {
        service* svc;
        const rpc::request_info* info;
        std::size_t route, method;
        std::chrono::steady_clock::time_point start;
        bool deferred = false;

        void observe(unsigned status) const {
            svc->http_metrics_.observe(route, method, status, std::chrono::steady_clock::now() - start);
        }
        /// The server's responder, wrapped so that the answer is counted when it is given.
        rpc::responder defer() {
            auto inner = info->defer();
            if (!inner) return inner;
            deferred = true;
            return rpc::responder([copy = *this, inner](rpc::http_response res) {
                copy.observe(res.result_int());
                inner(std::move(res));
            });
        }
    };

    rpc::http_response answer(const rpc::http_request& req, const rpc::request_info& info) {
        const auto ver = req.version();
        try {
            return route(req, client_key(client_address(info.remote, req["X-Forwarded-For"], cfg_.trusted_proxies)),
                         info);
        } catch (const http_error& e) {
            if (e.status == http::status::too_many_requests) return rpc::too_many_requests(e.retry_after_ms, ver, e.detail);
            return rpc::detail_response(e.status, e.detail, ver);
        } catch (const store_failure& e) {
            spdlog::error("storage: {}", e.what());
            return rpc::detail_response(http::status::internal_server_error, "storage error", ver);
        } catch (const std::exception& e) {
            spdlog::error("{} {}: {}", std::string(req.method_string()), std::string(req.target()), e.what());
            return rpc::detail_response(http::status::internal_server_error, "internal error", ver);
        }
    }

    // ---- setup ---------------------------------------------------------------------

    /// The backend's database: DATA_DIR/backend.db (created on first start), or the
    /// PostgreSQL database of cfg.database (schema created or upgraded).
    static std::unique_ptr<store> open_store(const config& cfg) {
        std::filesystem::create_directories(cfg.data_dir);
        if (!cfg.database.empty()) {
            if (!pg::is_url(cfg.database))
                throw std::runtime_error("--database must be a postgresql:// URL (or empty for SQLite in --data-dir)");
            auto s = pg_store::open(cfg.database, cfg.database_pool);
            if (!s) throw std::runtime_error(pg::redact(cfg.database) + ": " + s.error().message);
            return std::move(*s);
        }
        auto s = sqlite_store::open(cfg.data_dir + "/backend.db");
        if (!s) throw std::runtime_error(s.error().message);
        return std::move(*s);
    }

    /// The key of voter tags (vote_maker.hpp), which every instance sharing the database
    /// must use: kept in the database. A DATA_DIR/voter-tag.secret of an older backend is
    /// adopted on first start; one that disagrees with the database stops the start.
    bytes voter_tag_secret() {
        const std::string path = cfg_.data_dir + "/voter-tag.secret";
        std::optional<bytes> file;
        if (std::filesystem::exists(path)) {
            auto text = read_file(path, 1024);
            if (!text) throw std::runtime_error(path + ": " + text.error().message());
            auto b = from_hex(std::string_view(*text).substr(0, text->find('\n')), 64);
            if (!b || b->size() != 32) throw std::runtime_error(path + ": not a 32-byte hex secret");
            file = std::move(*b);
        }
        bytes fresh(32);
        os_random{}.fill(fresh);
        const bytes kept = must(db_->keep_secret("voter_tag", file ? *file : fresh));
        if (kept.size() != 32) throw std::runtime_error("the database's voter-tag secret is not 32 bytes");
        if (file && *file != kept)
            throw std::runtime_error(path + " differs from the voter-tag secret in the database: the data directory and"
                                            " the database are of different deployments (remove one)");
        return kept;
    }

    /// cfg.instance_id, or a name made once and kept in DATA_DIR/instance.id (a restarted
    /// instance takes its own claims back at once).
    std::string instance_id() {
        if (!cfg_.instance_id.empty()) return cfg_.instance_id;
        const std::string path = cfg_.data_dir + "/instance.id";
        if (std::filesystem::exists(path)) {
            auto text = read_file(path, 256);
            if (!text) throw std::runtime_error(path + ": " + text.error().message());
            auto id = text->substr(0, text->find('\n'));
            if (!id.empty()) return id;
        }
        bytes r(8);
        os_random{}.fill(r);
        const std::string id = "backend-" + to_hex(r).substr(2);
        if (auto w = write_file_atomic(path, id + "\n", 0644, false); !w)
            throw std::runtime_error(path + ": " + w.error().message());
        return id;
    }

    /// What the genesis allows an encrypted election: the quorum decrypts, and a ballot
    /// must fit max_encrypted_vote_bytes.
    static elections_type::options election_options(const genesis_config& g) {
        elections_type::options o;
        o.threshold = static_cast<std::uint32_t>(g.quorum());
        o.max_encrypted_candidates = 0;
        while (o.max_encrypted_candidates < election::limits::max_candidates &&
               election::ballot_size(o.max_encrypted_candidates + 1) <= g.max_encrypted_vote_bytes)
            ++o.max_encrypted_candidates;
        o.define_plain = g.elections_defined;
        o.max_record_bytes = g.max_encrypted_vote_bytes;
        return o;
    }

    // ---- routing -------------------------------------------------------------------

    /// Takes one request of `client` from `lim`, or throws 429 with how long to wait.
    void limit(request_limit& lim, const std::string& client, const char* what) {
        if (const auto wait = lim.acquire(client, clock_.now_ms()))
            throw http_error{http::status::too_many_requests,
                             std::string("too many ") + what + " requests from your address; retry later", wait};
    }

    rpc::http_response route(const rpc::http_request& req, const std::string& client, const rpc::request_info& info) {
        const std::string_view target = req.target();
        const auto q = target.find('?');
        const std::string_view path = target.substr(0, q);
        const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
        const auto m = req.method();
        const auto ver = req.version();
        auto ok = [&](bjson::value v, http::status st = http::status::ok) { return rpc::json_response(st, v, ver); };
        auto need = [&](http::verb want) {
            if (m != want)
                throw http_error{http::status::method_not_allowed,
                                 std::string("use ") + std::string(http::to_string(want))};
        };

        if (path == "/health") {
            need(http::verb::get);
            auto h = health_json();
            const bool failing = h.at("status") == "failing";
            if (failing) h["detail"] = rpc::failing_detail(h);  // every error answer carries a detail
            return ok(std::move(h), failing ? http::status::service_unavailable : http::status::ok);
        }
        if (path == "/openapi.json") {
            need(http::verb::get);
            return ok(openapi(version));
        }
        if (path == "/metrics") {
            need(http::verb::get);
            limit(status_limit_, client, "metrics");  // each scrape reads the database
            rpc::http_response res{http::status::ok, ver};
            res.set(http::field::content_type, metrics_content_type);
            res.body() = metrics_text();
            res.prepare_payload();
            return res;
        }
        if (path == "/docs" || path == "/docs/") {
            // Swagger UI for /openapi.json, from the web app's build (scripts/web copies
            // swagger-ui-dist into --web-dir/docs/); its scripts and styles are files there too.
            need(http::verb::get);
            if (!web_)
                throw http_error{http::status::not_found,
                                 "no API documentation page: this backend runs without --web-dir (Swagger UI comes "
                                 "with the web app's build); the OpenAPI document is at /openapi.json"};
            auto page = web_->serve("/docs/index.html", ver);
            if (!page)
                throw http_error{http::status::not_found,
                                 "no API documentation page in --web-dir (docs/index.html): build the web app with "
                                 "scripts/web; the OpenAPI document is at /openapi.json"};
            page->set("Content-Security-Policy", docs_content_security_policy);
            return std::move(*page);
        }
        if (path == "/api/auth/register") {
            need(http::verb::post);
            limit(register_limit_, client, "registration");
            return ok(accounts_.register_user(body_object(req)), http::status::created);
        }
        if (path == "/api/auth/login") {
            need(http::verb::post);
            limit(login_limit_, client, "login");
            return ok(accounts_.login(body_object(req), client));
        }
        if (path == "/api/auth/me") {
            need(http::verb::get);
            return ok(accounts_type::user_json(accounts_.authenticate(req)));
        }
        if (path == "/api/auth/logout") {
            need(http::verb::post);
            return ok(accounts_.logout(req));
        }
        if (path == "/api/auth/logout-all") {
            need(http::verb::post);
            return ok(accounts_.logout_all(req));
        }
        if (path == "/api/auth/change-password") {
            need(http::verb::post);
            limit(login_limit_, client, "login");
            return ok(accounts_.change_password(accounts_.session_of(req).user, body_object(req), client));
        }
        if (path == "/api/elections") {
            if (m == http::verb::get) return ok(elections_->list_elections());
            need(http::verb::post);
            accounts_.require_admin(req);
            auto made = elections_->create_election(body_object(req));
            const auto e = elections_->load_election(made.at("id").as_int64());
            if (e.chain == definition_status::none) return ok(std::move(made), http::status::created);
            // Publish its definition now (the replay loop retries while no validator takes it;
            // votes wait in the outbox until it is final: the validators refuse them before).
            (void)secret_->publish(e);
            return ok(elections_->election_json(elections_->load_election(e.id)), http::status::created);
        }
        if (path.starts_with("/api/elections/")) {
            auto rest = path.substr(std::string_view("/api/elections/").size());
            const auto slash = rest.find('/');
            std::int64_t id = 0;
            const auto ids = rest.substr(0, slash);
            auto [p, ec] = std::from_chars(ids.data(), ids.data() + ids.size(), id);
            if (ec != std::errc{} || p != ids.data() + ids.size() || id <= 0)
                throw http_error{http::status::not_found, "not found"};
            if (slash == std::string_view::npos) {
                need(http::verb::get);
                return ok(elections_->election_json(elections_->load_election(id)));
            }
            if (rest.substr(slash) == "/candidates") {
                need(http::verb::post);
                accounts_.require_admin(req);
                return ok(elections_->add_candidate(id, body_object(req)), http::status::created);
            }
            if (rest.substr(slash) == "/ballot") {
                need(http::verb::get);
                const auto u = accounts_.authenticate(req);
                limit(status_limit_, client, "ballot");
                return ok(secret_->context(elections_->load_election(id), u.id));
            }
            throw http_error{http::status::not_found, "not found"};
        }
        if (path.starts_with("/api/admin/elections/") && path.ends_with("/tally")) {
            const auto ids = path.substr(std::string_view("/api/admin/elections/").size(),
                                         path.size() - std::string_view("/api/admin/elections/").size() - 6);
            std::int64_t id = 0;
            auto [p, ec] = std::from_chars(ids.data(), ids.data() + ids.size(), id);
            if (ec != std::errc{} || p != ids.data() + ids.size() || id <= 0)
                throw http_error{http::status::not_found, "not found"};
            need(http::verb::post);
            accounts_.require_admin(req);
            std::uint64_t wait_s = 10;
            if (!req.body().empty()) {
                const auto b = body_object(req);
                if (const auto* w = b.if_contains("wait_seconds"); w && !w->is_null()) {
                    if (!w->is_int64() || w->as_int64() < 0 || w->as_int64() > 60)
                        throw http_error{http::status::unprocessable_entity, "wait_seconds must be an integer 0..60"};
                    wait_s = static_cast<std::uint64_t>(w->as_int64());
                }
            }
            auto [st, out] = reports_->tally(id, wait_s * 1000);
            return ok(std::move(out), st);
        }
        if (path == "/api/votes/submit") {
            need(http::verb::post);
            limit(submit_limit_, client, "vote");
            return votes_->submit(accounts_.authenticate(req), body_object(req), ver, &info);
        }
        if (path == "/api/votes/transaction-status") {
            need(http::verb::get);
            limit(status_limit_, client, "transaction-status");
            return ok(votes_->transaction_status(query));
        }
        if (path == "/api/votes/results") {
            need(http::verb::get);
            limit(results_limit_, client, "results");
            return ok(reports_->results(query_id(query, "election_id")));
        }
        if (path == "/api/votes/verify-blockchain") {
            need(http::verb::post);
            limit(verify_limit_, client, "verification");
            return ok(reports_->verify_blockchain(get_id(body_object(req), "election_id")));
        }
        // Public, read-only, no credentials: any origin may read them, so a verify page saved to a
        // file (origin "null") can fetch what it checks (docs/web.md).
        auto anyone = [](rpc::http_response res) {
            res.set("Access-Control-Allow-Origin", "*");
            return res;
        };
        if (path == "/api/chain/genesis") {
            need(http::verb::get);
            return anyone(ok(chain_->genesis()));
        }
        if (path == "/api/chain/validators") {
            // The explorer's public view of validator health: the admin view without addresses.
            need(http::verb::get);
            auto h = reports_->validators_health();
            for (auto& v : h.at("validators").as_array()) {
                v.as_object().erase("rpc_url");
                v.as_object().erase("p2p_url");
            }
            return ok(std::move(h));
        }
        if (path == "/api/chain/blocks") {
            need(http::verb::get);
            std::int64_t n = 20;
            if (app::query_param(query, "limit")) n = query_id(query, "limit");
            return ok(chain_->blocks(static_cast<std::size_t>(std::min<std::int64_t>(n, 100))));
        }
        if (path.starts_with("/api/chain/blocks/")) {
            need(http::verb::get);
            const auto hs = path.substr(std::string_view("/api/chain/blocks/").size());
            std::uint64_t h = 0;
            auto [p, ec] = std::from_chars(hs.data(), hs.data() + hs.size(), h);
            if (ec != std::errc{} || p != hs.data() + hs.size()) throw http_error{http::status::not_found, "not found"};
            limit(status_limit_, client, "block");
            return ok(chain_->block(h));
        }
        if (path == "/api/votes/proof") {
            need(http::verb::get);
            limit(status_limit_, client, "proof");
            const auto tid = app::query_param(query, "transaction_id");
            if (!tid || !from_hex_fixed<32>(*tid)) throw http_error{http::status::unprocessable_entity, "transaction_id must be a 0x-prefixed 32-byte hex hash"};
            return anyone(ok(chain_->proof(*from_hex_fixed<32>(*tid))));
        }
        if (path == "/api/chain/validator-changes") {
            need(http::verb::get);
            limit(status_limit_, client, "validator-changes");
            std::int64_t from = 1;
            if (app::query_param(query, "from_sequence")) from = query_id(query, "from_sequence");
            return anyone(ok(chain_->validator_changes(static_cast<std::uint64_t>(from))));
        }
        if (path == "/api/votes/events") {
            need(http::verb::get);
            limit(status_limit_, client, "status");
            return events_->open(query, std::string_view(req["Last-Event-ID"]).substr(0, 64), info, ver, clock_.now_ms());
        }
        if (path == "/api/admin/validators/health") {
            need(http::verb::get);
            accounts_.require_admin(req);
            return ok(reports_->validators_health());
        }
        if (path == "/api/admin/validators/refresh-status") {
            need(http::verb::post);
            accounts_.require_admin(req);
            (void)client_->check_health();
            return ok(reports_->validators_health());
        }
        // Anything else is a file of the web app (its pages are routes of index.html).
        if (web_ && (m == http::verb::get || m == http::verb::head) && !path.starts_with("/api/"))
            if (auto res = web_->serve(path, ver, m == http::verb::head)) return std::move(*res);
        throw http_error{http::status::not_found, "not found"};
    }

    bjson::object health_json() {
        std::uint64_t open = 0;
        bjson::object by_status{{to_string(vote_status::pending), 0}, {to_string(vote_status::submitted), 0}};
        for (auto& [st, n] : outbox_->open_counts()) {
            by_status[to_string(st)] = n;
            open += n;
        }
        // Reachable: answered the last probe (healthy, or answering but degraded: catching up,
        // no peers, failing).
        const std::size_t healthy = client_->count(client::node_status::healthy);
        const std::size_t reachable = healthy + client_->count(client::node_status::degraded);
        const std::size_t total = client_->size();
        const std::uint64_t now = clock_.wall_ms();
        std::uint64_t oldest_ms = 0;
        if (open > 0)
            if (const auto oldest = outbox_->oldest_open(); oldest && oldest->created_ms < now) oldest_ms = now - oldest->created_ms;
        bjson::array reasons;
        bool failing = false;
        if (reachable == 0 && total > 0) {
            failing = true;
            reasons.push_back(bjson::string("no validator reachable: 0 of " + std::to_string(total) + " answer"));
        } else if (reachable < total) {
            reasons.push_back(bjson::string("validators unreachable: " + std::to_string(total - reachable) + " of " +
                                            std::to_string(total) + " do not answer"));
        }
        if (oldest_ms > cfg_.health_outbox_age_ms)
            reasons.push_back(bjson::string("outbox stalled: the oldest vote not yet final is " +
                                            std::to_string(oldest_ms / 1000) + " s old"));
        const char* status = failing ? "failing" : reasons.empty() ? "ok" : "degraded";
        return {{"status", status},
                {"reasons", std::move(reasons)},
                {"version", version},
                {"validators_healthy", healthy},
                {"validators_reachable", reachable},
                {"validators_total", total},
                {"outbox", open},
                {"outbox_by_status", std::move(by_status)},
                {"outbox_oldest_age_seconds", oldest_ms / 1000}};
    }

    config cfg_;
    http_metrics http_metrics_;  ///< requests by route, method and status; durations (atomics)
    std::unique_ptr<store> db_;  ///< thread-safe: each operation locks (store.hpp)
    steady_clock_adapter clock_;
    std::uint64_t start_wall_ms_ = clock_.wall_ms();  ///< process_start_time_seconds
    /// The client's executor. Never run: the backend calls the client's synchronous forms
    /// (each on its own io_context) from its handler and background threads.
    boost::asio::io_context io_;
    std::optional<client_type> client_;  ///< the validators, verified against the genesis (thread-safe)
    group_commit commit_{*db_};  ///< new votes, many per durable transaction
    std::optional<fallback_ledger> fallback_;
    std::optional<outbox_type> outbox_;  ///< every status change of a vote happens here

    request_limit register_limit_, login_limit_, submit_limit_, status_limit_, results_limit_, verify_limit_;
    accounts_type accounts_;  ///< users, sessions, the login throttle
    std::optional<elections_type> elections_;  ///< elections and candidates (what the genesis allows)
    std::optional<vote_maker> maker_;      ///< the genesis's rules, the submitter key, the voter-tag secret
    std::optional<secret_type> secret_;    ///< encrypted elections: definitions, keys, ballots, agreed tallies
    std::optional<votes_type> votes_;      ///< submit and transaction status
    std::optional<reports_type> reports_;  ///< results, verification, validator health (and their caches)
    std::optional<chain_view_type> chain_;  ///< genesis, proofs and latest blocks for browsers
    std::optional<vote_events> events_;     ///< vote statuses pushed as server-sent events
    std::optional<web_files> web_;          ///< the web app's files (--web-dir)

    std::atomic<bool> released_{false};  ///< the outbox's claims were released (stop)
    background_loops loops_;  ///< last: its threads use everything above
};

}  // namespace ballotchain::backend
