/// ballotchain-bootnode: peer discovery for validators (see apps/common/bootnode_proto.hpp).
#include "../common/addr.hpp"
#include "../common/bootnode_proto.hpp"

#include <ballotchain/core/clock.hpp>
#include <ballotchain/rpc/http_server.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
    using namespace ballotchain;
    namespace http = boost::beast::http;
    CLI::App app{"ballotchain-bootnode: peer discovery for ballotchain validators.\n"
                 "Validators POST signed registrations of their P2P address to /register and read\n"
                 "the others from /peers; entries expire unless renewed. GET /health answers\n"
                 "{\"status\":\"ok\"}. The network keeps running without the bootnode (static peers)."};
    app.set_config("--config", "", "TOML config file (keys are the long option names)");
    std::string addr = "127.0.0.1:8546", log_level = "info";
    std::uint64_t ttl_ms = 60'000;
    std::size_t max_peers = 4096;
    app.add_option("--addr", addr, "HTTP listen address host:port")->capture_default_str();
    app.add_option("--ttl-ms", ttl_ms, "forget a registration not renewed for this long")->capture_default_str()
        ->check(CLI::Range(1000ull, 86'400'000ull));
    app.add_option("--max-peers", max_peers, "most registrations kept")->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
        ->capture_default_str()->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    CLI11_PARSE(app, argc, argv);

    spdlog::set_default_logger(spdlog::stdout_color_mt("bootnode"));
    spdlog::set_level(spdlog::level::from_str(log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    auto ep = app::parse_endpoint(addr);
    if (!ep) {
        std::fprintf(stderr, "ballotchain-bootnode: --addr: %s\n", ep.error().c_str());
        return 1;
    }

    app::peer_registry reg(ttl_ms, max_peers);
    steady_clock_adapter clk;
    auto reply = [](http::status st, const boost::json::value& body, unsigned version) {
        http::response<http::string_body> res{st, version};
        res.set(http::field::content_type, "application/json");
        res.body() = boost::json::serialize(body);
        res.prepare_payload();
        return res;
    };
    auto detail = [&](http::status st, const std::string& msg, unsigned version) {
        return reply(st, boost::json::object{{"detail", msg}}, version);
    };
    auto handler = [&](const http::request<http::string_body>& req) -> http::response<http::string_body> {
        const std::string_view target = req.target();
        const auto q = target.find('?');
        const std::string_view path = target.substr(0, q);
        if (path == "/health" && req.method() == http::verb::get)
            return reply(http::status::ok, {{"status", "ok"}, {"peers", reg.size(clk.now_ms())}}, req.version());
        if (path == "/peers" && req.method() == http::verb::get) {
            std::optional<std::uint64_t> chain;
            if (q != std::string_view::npos) {
                const auto query = target.substr(q + 1);
                if (query.rfind("chain_id=", 0) == 0) {
                    std::uint64_t v = 0;
                    const auto s = query.substr(9);
                    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
                    if (ec != std::errc{} || p != s.data() + s.size())
                        return detail(http::status::bad_request, "chain_id must be an unsigned integer", req.version());
                    chain = v;
                }
            }
            return reply(http::status::ok, {{"peers", reg.list(chain, clk.now_ms())}}, req.version());
        }
        if (path == "/register") {
            if (req.method() != http::verb::post)
                return detail(http::status::method_not_allowed, "use POST", req.version());
            boost::system::error_code ec;
            auto v = boost::json::parse(req.body(), ec);
            if (ec) return detail(http::status::bad_request, "malformed JSON", req.version());
            app::registration r;
            if (auto why = app::parse_registration(v, r))
                return detail(http::status::unprocessable_entity, *why, req.version());
            const auto wall = clk.wall_ms();
            if (r.timestamp_ms + 300'000 < wall || r.timestamp_ms > wall + 300'000)
                return detail(http::status::unprocessable_entity, "timestamp_ms is more than 5 minutes off",
                              req.version());
            if (!reg.put(r, clk.now_ms()))
                return detail(http::status::service_unavailable, "peer table is full", req.version());
            spdlog::debug("registered validator index {} at {}", r.index, r.p2p);
            return reply(http::status::ok, {{"status", "ok"}, {"ttl_ms", ttl_ms}}, req.version());
        }
        return detail(http::status::not_found, "no such endpoint", req.version());
    };

    boost::asio::io_context io(1);
    rpc::http_server_options so;
    so.body_limit = 64 * 1024;
    auto server = rpc::http_server::create(io, ep->endpoint, handler, so);
    if (!server) {
        std::fprintf(stderr, "ballotchain-bootnode: listen on %s: %s\n", addr.c_str(), server.error().message().c_str());
        return 1;
    }
    spdlog::info("bootnode listening on {} (entries expire after {} ms)", addr, ttl_ms);
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: shutting down", sig);
        (*server)->stop();
        io.stop();
    });
    io.run();
    return 0;
}
