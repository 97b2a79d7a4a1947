#pragma once
/// @file The web app's files (apps/web, built into `--web-dir`), served by the
/// backend on the API's own origin (docs/web.md): correct content types, hashed
/// assets cached for a year, everything else revalidated, a strict
/// Content-Security-Policy, and no path outside the directory.

#include <ballotchain/core/file.hpp>
#include <ballotchain/rpc/http_server.hpp>

#include <boost/beast/http.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ballotchain::backend {

/// The headers every answer of the backend carries, API and files alike: no
/// sniffing, no framing, no referrer.
inline void security_headers(rpc::http_response& res) {
    namespace http = boost::beast::http;
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Frame-Options", "DENY");
    res.set("Referrer-Policy", "no-referrer");
}

/// The policy of the app's pages: its own scripts, styles and API only; no
/// inline code, no framing, no other origin.
inline constexpr std::string_view content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The policy of GET /docs (Swagger UI, from the web app's build: docs/index.html,
/// swagger-ui-bundle.js, swagger-ui.css, docs-init.js): the app's policy. Swagger UI
/// sets styles only through the DOM (allowed), loads its icons as data: images, and
/// fetches /openapi.json from this origin.
inline constexpr std::string_view docs_content_security_policy = content_security_policy;

/// Static files of one directory.
///
/// @par Thread safety Immutable after construction; serve() reads files on each call.
class web_files {
public:
    static constexpr std::size_t max_file_bytes = 16u << 20;

    /// Serves `dir` (need not exist yet: until it does, every path is a miss).
    explicit web_files(std::string dir) : dir_(std::move(dir)) {}

    const std::string& dir() const noexcept { return dir_; }

    /// The content type of a file name, by extension.
    static std::string_view content_type(std::string_view name) {
        static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> types{{
            {".html", "text/html; charset=utf-8"},
            {".js", "text/javascript; charset=utf-8"},
            {".mjs", "text/javascript; charset=utf-8"},
            {".css", "text/css; charset=utf-8"},
            {".json", "application/json"},
            {".map", "application/json"},
            {".svg", "image/svg+xml"},
            {".png", "image/png"},
            {".ico", "image/x-icon"},
            {".txt", "text/plain; charset=utf-8"},
            {".woff2", "font/woff2"},
            {".webmanifest", "application/manifest+json"},
        }};
        for (const auto& [ext, type] : types)
            if (name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext) return type;
        return "application/octet-stream";
    }

    /// True for a request path that may name a file here: '/' then segments of
    /// letters, digits, '-', '_' and '.', none empty or starting with '.' (so no
    /// "..", no hidden file), at most 256 bytes.
    static bool safe_path(std::string_view path) {
        if (path.empty() || path.front() != '/' || path.size() > 256) return false;
        std::size_t seg_start = 1;
        for (std::size_t i = 1; i <= path.size(); ++i) {
            if (i == path.size() || path[i] == '/') {
                if (i == seg_start) return i == path.size() && i == 1;  // only "/" may end empty
                if (path[seg_start] == '.') return false;
                seg_start = i + 1;
                continue;
            }
            const char c = path[i];
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || c == '.';
            if (!ok) return false;
        }
        return true;
    }

    /// The answer for GET `path`, or nullopt when there is no such file. "/" and
    /// any path without an extension (a page of the app's router) get
    /// index.html. Assets under /assets/ (content-hashed names) are cached for a
    /// year; the rest must be revalidated.
    std::optional<rpc::http_response> serve(std::string_view path, unsigned version, bool head = false) const {
        namespace http = boost::beast::http;
        if (!safe_path(path)) return std::nullopt;
        std::string rel(path.substr(1));
        const auto last = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
        if (rel.empty() || last.find('.') == std::string::npos) rel = "index.html";
        const std::filesystem::path file = std::filesystem::path(dir_) / rel;
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
        auto body = read_file(file.string(), max_file_bytes);
        if (!body) return std::nullopt;
        rpc::http_response res{http::status::ok, version};
        res.set(http::field::content_type, content_type(rel));
        res.set(http::field::cache_control,
                rel.starts_with("assets/") ? "public, max-age=31536000, immutable" : "no-cache");
        res.set("Content-Security-Policy", content_security_policy);
        security_headers(res);
        if (!head) res.body() = std::move(*body);
        res.prepare_payload();
        if (head) res.content_length(body->size());
        return res;
    }

private:
    std::string dir_;
};

}  // namespace ballotchain::backend
