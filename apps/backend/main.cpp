/// ballotchain-backend: the REST API voters and administrators use, in front
/// of the validator network, with a durable outbox and a local fallback chain.
#include "service.hpp"

#include <ballotchain/app/addr.hpp>
#include <ballotchain/app/logging.hpp>
#include <ballotchain/app/config_file.hpp>
#include <ballotchain/app/version.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdio>

using namespace ballotchain;

namespace {

int fail(const std::string& m) {
    std::fprintf(stderr, "ballotchain-backend: %s\n", m.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ballotchain-backend: the REST API (auth, elections, votes, results, verification, validator health)\n"
                 "in front of the validators, with load balancing, failover, a durable outbox and a local fallback chain.\n"
                 "With --tls-cert/--tls-key the API is served over HTTPS only; https:// validators are checked\n"
                 "against --validator-ca (or the system's CA store)."};
    backend::config cfg;
    std::string addr = "127.0.0.1:8000";
    std::vector<std::string> validators{"validator-1=http://127.0.0.1:8001", "validator-2=http://127.0.0.1:8002",
                                        "validator-3=http://127.0.0.1:8003"};
    std::string admin_password_file;
    ballotchain::app::log_options log_opts;
    std::string tls_cert, tls_key, validator_ca;
    std::uint64_t rpc_timeout_ms = 2000;
    std::size_t body_limit = 64 * 1024;
    unsigned workers = 8;
    rpc::http_server_options so;
    std::uint64_t header_timeout_ms = static_cast<std::uint64_t>(so.header_timeout.count());
    app::add_version_flag(app, "ballotchain-backend");
    app::add_config_option(app, "TOML config file; its keys are the long option names");
    app.add_option("--addr", addr, "HTTP listen address host:port")->capture_default_str();
    app.add_option("--data-dir", cfg.data_dir, "directory for backend.db, the fallback chain and secrets")->required();
    app.add_option("--database", cfg.database,
                   "postgresql://user@host:port/db to share one PostgreSQL database among several backends\n"
                   "(schema created or upgraded at start); empty: SQLite in --data-dir/backend.db. A password\n"
                   "is better kept in ~/.pgpass or PGPASSFILE than in the URL")
        ->envname("BALLOTCHAIN_DATABASE");
    app.add_option("--database-pool", cfg.database_pool, "PostgreSQL: connections held at most")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
    app.add_option("--instance-id", cfg.instance_id,
                   "this backend's name in the outbox's claims on votes (default: made once and kept in\n"
                   "--data-dir/instance.id); every instance sharing a database needs its own")
        ->check([](const std::string& v) { return v.size() <= 64 ? "" : "at most 64 characters"; });
    app.add_option("--outbox-claim-ms", cfg.outbox_claim_ms,
                   "an instance's claim on the votes it sends holds this long; the votes of an instance\n"
                   "that died are taken over by another this long after its last outbox pass")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1000}, std::uint64_t{3'600'000}));
    app.add_option("--genesis", cfg.genesis_path, "the validators' genesis JSON file")->required()->check(CLI::ExistingFile);
    app.add_option("--submitter-key", cfg.submitter_key_path, "key file of an authorized submitter (testnet: submitter.key)")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_option("--validator", validators, "validator NAME=http://host:port or NAME=https://host:port (repeat; default: the local testnet's three, http://127.0.0.1:8001-8003)")
        ->capture_default_str();
    app.add_option("--admin-email", cfg.admin_email, "create or update this administrator at start");
    app.add_option("--web-dir", cfg.web_dir,
                   "serve the built web app from this directory on / (apps/web/dist; docs/web.md)");
    app.add_option("--admin-password-file", admin_password_file, "file holding the administrator's password")
        ->check(CLI::ExistingFile);
    app.add_option("--rpc-timeout-ms", rpc_timeout_ms, "timeout of one call to a validator")
        ->capture_default_str()
        ->check(CLI::Range(50u, 60'000u));
    app.add_option("--replay-interval-ms", cfg.replay_interval_ms, "how often the outbox is worked through")
        ->capture_default_str()
        ->check(CLI::Range(10u, 600'000u));
    app.add_option("--resend-after-ms", cfg.resend_after_ms, "re-send a submitted vote not final after this long")
        ->capture_default_str()
        ->check(CLI::Range(100u, 3'600'000u));
    app.add_option("--health-interval-ms", cfg.health_interval_ms, "how often validators are probed")
        ->capture_default_str()
        ->check(CLI::Range(100u, 600'000u));
    app.add_option("--health-outbox-age-ms", cfg.health_outbox_age_ms,
                   "GET /health is degraded while the oldest vote not yet final is older than this")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1000}, std::uint64_t{86'400'000}));
    app.add_option("--pbkdf2-iterations", cfg.pbkdf2_iterations, "password hashing cost")
        ->capture_default_str()
        ->check(CLI::Range(1000u, 10'000'000u));
    app.add_option("--body-limit", body_limit, "largest request body in bytes (larger: 413)")
        ->capture_default_str()
        ->check(CLI::Range(1024u, 16u << 20));
    app.add_option("--workers", workers,
                   "threads that run request handlers (a vote's request holds one only for its checks: storing\n"
                   "and sending happen on the vote pipeline's thread, many votes at once)")
        ->capture_default_str()
        ->check(CLI::Range(1u, 256u));
    app.add_option("--max-queued-votes", cfg.max_queued_votes,
                   "votes checked and waiting to be stored and sent; beyond, a vote is answered 503 with Retry-After")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    app.add_option("--max-connections", so.max_connections,
                   "most HTTP connections held at once; when reached, a newcomer takes the place of an idle or\n"
                   "header-pending connection of the address holding the most")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    app.add_option("--max-connections-per-address", so.max_connections_per_address,
                   "most HTTP connections held at once per client address (IPv6: per /64); more are refused\n"
                   "(behind a reverse proxy every client has the proxy's address: raise this)")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    app.add_option("--header-timeout-ms", header_timeout_ms,
                   "a request header must be complete this long after the connection (or a request's first byte)")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{100}, std::uint64_t{600'000}));
    std::vector<std::string> trusted;
    app.add_option("--trusted-proxy", trusted,
                   "ADDRESS[/PREFIX] of a reverse proxy or load balancer in front of this backend (repeat): for a\n"
                   "request from it, per-client limits and the login throttle key on the right-most address of\n"
                   "X-Forwarded-For that is not a trusted proxy. Without it the header is ignored")
        ->check([](const std::string& v) { return backend::parse_trusted_proxy(v) ? "" : "expected ADDRESS or ADDRESS/PREFIX"; });
    ballotchain::app::add_log_options(app, log_opts);
    auto* cert_opt = app.add_option("--tls-cert", tls_cert,
                                    "PEM certificate chain: serve the API over TLS only (HTTPS; needs --tls-key)");
    auto* key_opt = app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert");
    cert_opt->needs(key_opt);
    key_opt->needs(cert_opt);
    app.add_option("--validator-ca", validator_ca,
                   "PEM CA certificates the certificates of https --validator URLs must chain to (default: the system's store)");

    // Per-client limits (client = IPv4 address or IPv6 /64 prefix); over a limit: 429 with Retry-After.
    struct limit_flag {
        const char* name;
        backend::rate_spec* spec;
        const char* what;
        std::string text;
    };
    auto spec_text = [](const backend::rate_spec& r) {
        return std::to_string(static_cast<unsigned>(r.count)) + "/" + std::to_string(static_cast<unsigned>(r.seconds));
    };
    std::vector<limit_flag> limits{
        {"--register-limit", &cfg.register_limit, "registrations", {}},
        {"--login-limit", &cfg.login_limit, "logins and password changes", {}},
        {"--submit-limit", &cfg.submit_limit, "vote submissions", {}},
        {"--status-limit", &cfg.status_limit, "transaction-status lookups", {}},
        {"--results-limit", &cfg.results_limit, "results requests", {}},
        {"--verify-limit", &cfg.verify_limit, "verify-blockchain requests", {}},
    };
    for (auto& l : limits) {
        l.text = spec_text(*l.spec);
        app.add_option(l.name, l.text,
                       std::string(l.what) + " per client address (IPv6: per /64): N/S = N per S seconds, or off")
            ->capture_default_str()
            ->check([](const std::string& v) { return backend::parse_rate_spec(v) ? "" : "expected N/S or off"; });
    }
    app.add_option("--login-free-failures", cfg.login_backoff.free_failures,
                   "failed logins per (client address, account) before each further attempt waits")
        ->capture_default_str()
        ->check(CLI::Range(1u, 1000u));
    app.add_option("--login-client-free-failures", cfg.login_backoff.client_free_failures,
                   "failed logins per client address (all accounts) before each further attempt waits")
        ->capture_default_str()
        ->check(CLI::Range(1u, 100'000u));
    app.add_option("--login-backoff-ms", cfg.login_backoff.backoff_ms,
                   "wait after the free failures; doubles with each further failure")
        ->capture_default_str()
        ->check(CLI::Range(1u, 86'400'000u));
    app.add_option("--login-backoff-max-ms", cfg.login_backoff.backoff_max_ms, "longest wait between failed logins")
        ->capture_default_str()
        ->check(CLI::Range(1u, 86'400'000u));
    app.add_option("--verify-cache-ms", cfg.verify_cache_ms,
                   "reuse a chain verification this long (one runs at a time; callers share it)")
        ->capture_default_str()
        ->check(CLI::Range(0u, 86'400'000u));
    app.add_option("--results-cache-ms", cfg.results_cache_ms, "reuse the validators' tally of an election this long")
        ->capture_default_str()
        ->check(CLI::Range(0u, 86'400'000u));
    CLI11_PARSE(app, argc, argv);
    for (auto& l : limits) *l.spec = *backend::parse_rate_spec(l.text);
    for (const auto& t : trusted) cfg.trusted_proxies.push_back(*backend::parse_trusted_proxy(t));
    cfg.login_backoff.forget_ms = std::max(cfg.login_backoff.forget_ms, cfg.login_backoff.backoff_max_ms);

    ballotchain::app::setup_logging("backend", log_opts);

    auto ep = app::parse_endpoint(addr);
    if (!ep) return fail("--addr: " + ep.error());
    for (const auto& v : validators) {
        const auto eq = v.find('=');
        client::node_info n;
        n.node_id = eq == std::string::npos ? v : v.substr(0, eq);
        n.rpc_url = eq == std::string::npos ? v : v.substr(eq + 1);
        if (n.node_id.empty() || !client::parse_url(n.rpc_url))
            return fail("--validator must be NAME=http://host:port or NAME=https://host:port, got '" + v + "'");
        cfg.validators.push_back(std::move(n));
    }
    if (std::any_of(cfg.validators.begin(), cfg.validators.end(), [](const auto& n) { return client::parse_url(n.rpc_url)->tls; })) {
        auto ctx = rpc::make_client_tls_context(validator_ca);
        if (!ctx) return fail("--validator-ca: " + ctx.error());
        cfg.validator_tls = *ctx;
    } else if (!validator_ca.empty()) {
        return fail("--validator-ca is for https --validator URLs; none is given");
    }
    if (!tls_cert.empty()) {
        auto ctx = rpc::make_server_tls_context(tls_cert, tls_key);
        if (!ctx) return fail(ctx.error());
        so.tls = *ctx;
        cfg.tls_not_after = rpc::tls_certificate_not_after(**ctx);
    }
    if (!cfg.admin_email.empty()) {
        if (admin_password_file.empty()) return fail("--admin-email needs --admin-password-file");
        auto pw = read_file(admin_password_file, 1024);
        if (!pw) return fail(admin_password_file + ": " + pw.error().message());
        cfg.admin_password = pw->substr(0, pw->find_first_of("\r\n"));
    }
    cfg.rpc_timeout = std::chrono::milliseconds(rpc_timeout_ms);

    std::unique_ptr<backend::service> svc;
    try {
        svc = std::make_unique<backend::service>(cfg);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    boost::asio::io_context io;
    boost::asio::thread_pool pool(workers);
    so.body_limit = body_limit;
    so.header_timeout = std::chrono::milliseconds(header_timeout_ms);
    so.handler_executor = pool.get_executor();
    auto server = rpc::http_server::create(
        io, ep->endpoint,
        [&svc](const rpc::http_request& r, const rpc::request_info& info) { return svc->handle(r, info); }, so);
    if (!server) return fail("listen on " + addr + ": " + server.error().message());
    svc->start();
    spdlog::info("backend {} listening on {}{} with {} validators; data in {}; database {}", backend::version, addr,
                 so.tls ? " (TLS)" : "", cfg.validators.size(), cfg.data_dir,
                 cfg.database.empty() ? cfg.data_dir + "/backend.db" : backend::pg::redact(cfg.database));

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: shutting down", sig);
        (*server)->stop();
        io.stop();
    });
    io.run();
    pool.join();  // let running handlers finish
    svc->stop();
    spdlog::info("backend stopped");
    return 0;
}
