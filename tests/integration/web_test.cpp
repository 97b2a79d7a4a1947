// Integration: the web app (apps/web, built into apps/web/dist) in Debian's Chromium, driven by
// Playwright (tests/browser/app.test.mjs), served by a real backend in front of three real
// validators. The browser script does what a voter and an administrator do; this side owns the
// processes: it kills every validator for the fallback case and starts them again while the
// page waits for the vote to be confirmed without a reload.
#include "backend.hpp"
#include "network.hpp"
#include "voter.hpp"

#include <catch2/catch.hpp>

#include <csignal>

using namespace ballotchain;
using namespace ballotchain::itest;

namespace web_itest {

std::string browser_dir() { return eth_test_dir() + "/../browser"; }
std::string web_dist() { return eth_test_dir() + "/../../apps/web/dist"; }

/// node tests/browser/app.test.mjs PHASE BASE_URL ADMIN_PASSWORD OUT_DIR
std::vector<std::string> browser_argv(const std::string& phase, const backend& b, const fs::path& out) {
    return {"/usr/bin/env", "WEB_DIST=" + fs::canonical(web_dist()).string(), "node", browser_dir() + "/app.test.mjs", phase, "http://127.0.0.1:" + std::to_string(b.port()),
            backend::admin_password, out.string()};
}

}  // namespace web_itest

using namespace web_itest;

TEST_CASE("web app in Chromium: sign up, vote, live status, verify in the browser, results, admin; fallback and "
          "recovery without reload",
          "[integration][web]") {
    INFO("needs chromium, apps/web/dist and tests/browser/node_modules (scripts/test builds and installs them)");
    REQUIRE(fs::exists(fs::path(web_dist()) / "index.html"));
    REQUIRE(fs::exists(fs::path(browser_dir()) / "node_modules" / "playwright-core"));
    network net(3);
    wait_connected(net);
    backend b(net, 3, {{"--web-dir", web_dist()}});
    const fs::path out = net.dir() / "browser";
    fs::create_directories(out);

    // Everything a voter and an administrator do, with the validators up.
    {
        auto [rc, log] = run(browser_argv("main", b, out), net.dir() / "browser-main.log");
        INFO(log);
        CHECK(rc == 0);
        CHECK(log.find("main: ok") != std::string::npos);
    }

    // Every validator down: the voter sees the fallback warning; once they are back the page
    // shows the vote confirmed without a reload.
    for (int i = 0; i < 3; ++i) net.kill(i, SIGKILL);
    process p(browser_argv("fallback", b, out), net.dir() / "browser-fallback.log");
    const bool waiting = eventually([&] { return p.log_text().find("fallback: waiting") != std::string::npos || !p.running(); },
                                    std::chrono::seconds(120));
    INFO(p.log_text());
    REQUIRE(waiting);
    for (int i = 0; i < 3; ++i) net.start(i);
    const int st = p.wait();
    INFO(p.log_text());
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    CHECK(p.log_text().find("fallback: ok") != std::string::npos);
}
