/// ballotchain-bootnode: peer discovery for validators (see apps/common/bootnode_proto.hpp).
#include <ballotchain/app/addr.hpp>
#include <ballotchain/app/bootnode_proto.hpp>
#include <ballotchain/app/logging.hpp>
#include <ballotchain/app/config_file.hpp>
#include <ballotchain/app/version.hpp>

#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/rate_limit.hpp>
#include <ballotchain/rpc/http_server.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace {

using namespace ballotchain;
namespace http = boost::beast::http;

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ballotchain-bootnode: peer discovery for ballotchain validators.\n"
                 "Validators POST signed registrations of their P2P address to /register and read\n"
                 "the others from /peers; entries expire unless renewed. GET /health answers\n"
                 "{\"status\":\"ok\",\"peers\":N}. The network keeps running without the bootnode (static peers).\n"
                 "The bootnode serves the chains whose genesis files it is given (--genesis) and accepts\n"
                 "only registrations signed by a genesis validator of that chain at its own index, with a\n"
                 "fresh timestamp that is later than that validator's last one: at most n entries per chain.\n"
                 "Requests to /register and /peers are rate-limited per client address (429 + Retry-After).\n"
                 "With --tls-cert/--tls-key the port serves HTTPS only (validators: --bootnode https://...)."};
    app::add_version_flag(app, "ballotchain-bootnode");
    app::add_config_option(app, "TOML config file (keys are the long option names)");
    std::string addr = "127.0.0.1:8546";
    ballotchain::app::log_options log_opts;
    std::vector<std::string> genesis_files;
    std::string tls_cert, tls_key;
    std::uint64_t ttl_ms = 60'000, max_skew_ms = 30'000;
    double rate_per_s = 5, burst = 50;
    app.add_option("--genesis", genesis_files,
                   "genesis JSON of a chain whose validators may register; repeat it to serve several chains "
                   "(their chain ids must differ)")
        ->required()->check(CLI::ExistingFile);
    app.add_option("--addr", addr, "HTTP listen address host:port")->capture_default_str();
    auto* cert_opt = app.add_option("--tls-cert", tls_cert, "PEM certificate chain: serve HTTPS only (needs --tls-key)");
    auto* key_opt = app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert");
    cert_opt->needs(key_opt);
    key_opt->needs(cert_opt);
    app.add_option("--ttl-ms", ttl_ms, "forget a registration not renewed for this long")->capture_default_str()
        ->check(CLI::Range(1000ull, 86'400'000ull));
    app.add_option("--max-clock-skew-ms", max_skew_ms,
                   "refuse a registration whose timestamp_ms is further than this from the bootnode's clock")
        ->capture_default_str()->check(CLI::Range(1000ull, 3'600'000ull));
    app.add_option("--rate-limit-per-s", rate_per_s,
                   "requests to /register and /peers per second allowed to one client address (IPv6: one /64)")
        ->capture_default_str()->check(CLI::Range(0.001, 1'000'000.0));
    app.add_option("--rate-limit-burst", burst, "requests one client address may make at once before the rate applies")
        ->capture_default_str()->check(CLI::Range(1.0, 1'000'000.0));
    ballotchain::app::add_log_options(app, log_opts);
    CLI11_PARSE(app, argc, argv);

    ballotchain::app::setup_logging("bootnode", log_opts);
    auto fail = [](const std::string& m) {
        std::fprintf(stderr, "ballotchain-bootnode: %s\n", m.c_str());
        return 1;
    };
    auto ep = app::parse_endpoint(addr);
    if (!ep) return fail("--addr: " + ep.error());

    app::peer_registry reg({ttl_ms, max_skew_ms});
    for (const auto& f : genesis_files) {
        auto g = json::load_genesis_file(f);
        if (!g) return fail("genesis " + f + ": " + g.error().message());
        if (!reg.add_chain(*g))
            return fail("genesis " + f + ": chain_id " + std::to_string(g->chain_id) +
                        " is already served (from another --genesis file)");
        spdlog::info("serving chain {} ({} validators) from {}", g->chain_id, g->n(), f);
    }
    keyed_rate_limiter<boost::asio::ip::address> limiter({rate_per_s, burst, 65'536});
    steady_clock_adapter clk;

    auto handler = [&](const rpc::http_request& req, const rpc::request_info& info) -> rpc::http_response {
        const auto v = req.version();
        const std::string_view target = req.target();
        const auto q = target.find('?');
        const std::string_view path = target.substr(0, q);
        if (path == "/health" && req.method() == http::verb::get)
            return rpc::json_response(http::status::ok, {{"status", "ok"}, {"peers", reg.size(clk.now_ms())}}, v);
        if (path != "/peers" && path != "/register")
            return rpc::detail_response(http::status::not_found, "no such endpoint", v);
        if (const auto wait_ms = limiter.acquire(rpc::client_key(info.remote), clk.now_ms())) {
            spdlog::debug("{} {}: rate limited", info.remote.to_string(), path);
            return rpc::too_many_requests(wait_ms, v, "too many requests from this address");
        }
        if (path == "/peers") {
            if (req.method() != http::verb::get) return rpc::detail_response(http::status::method_not_allowed, "use GET", v);
            std::optional<std::uint64_t> chain;
            if (q != std::string_view::npos) {
                const auto query = target.substr(q + 1);
                if (query.rfind("chain_id=", 0) == 0) {
                    std::uint64_t id = 0;
                    const auto s = query.substr(9);
                    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
                    if (ec != std::errc{} || p != s.data() + s.size())
                        return rpc::detail_response(http::status::bad_request, "chain_id must be an unsigned integer", v);
                    if (!reg.serves(id))
                        return rpc::detail_response(http::status::not_found,
                                                    "chain_id " + std::to_string(id) + " is not served by this bootnode", v);
                    chain = id;
                }
            }
            return rpc::json_response(http::status::ok, {{"peers", reg.list(chain, clk.now_ms())}}, v);
        }
        if (req.method() != http::verb::post) return rpc::detail_response(http::status::method_not_allowed, "use POST", v);
        boost::system::error_code ec;
        auto body = boost::json::parse(req.body(), ec);
        if (ec) return rpc::detail_response(http::status::bad_request, "malformed JSON", v);
        app::registration r;
        if (auto why = app::parse_registration(body, r))
            return rpc::detail_response(http::status::unprocessable_entity, *why, v);
        if (auto no = reg.admit(r, clk.now_ms(), clk.wall_ms())) {
            spdlog::debug("{}: registration for chain {} validator-{} refused: {}", info.remote.to_string(), r.chain_id,
                          r.index + 1, no->detail);
            return rpc::detail_response(static_cast<http::status>(no->status), no->detail, v);
        }
        spdlog::debug("registered validator-{} of chain {} at {}", r.index + 1, r.chain_id, r.p2p);
        return rpc::json_response(http::status::ok, {{"status", "ok"}, {"ttl_ms", ttl_ms}}, v);
    };

    boost::asio::io_context io(1);
    rpc::http_server_options so;
    so.body_limit = app::max_registration_body_bytes;
    if (!tls_cert.empty()) {
        auto tls = rpc::make_server_tls_context(tls_cert, tls_key);
        if (!tls) return fail(tls.error());
        so.tls = *tls;
    }
    auto server = rpc::http_server::create(io, ep->endpoint, handler, so);
    if (!server) return fail("listen on " + addr + ": " + server.error().message());
    spdlog::info("bootnode listening on {}{} (entries expire after {} ms; {} requests/s per client, burst {})", addr,
                 so.tls ? " (TLS)" : "", ttl_ms, rate_per_s, burst);
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& sec, int sig) {
        if (sec) return;
        spdlog::info("signal {}: shutting down", sig);
        (*server)->stop();
        io.stop();
    });
    io.run();
    return 0;
}
