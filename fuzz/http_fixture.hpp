#pragma once
// What the HTTP fuzz targets share: a request made from the input (method, target with
// query, version, headers, body) written out as bytes and parsed back the way rpc::http_server
// does (Beast's parser with the server's header and body bounds, then the RFC 9112 framing
// check), so a handler sees exactly what the server would hand it; the client address; checks
// every answer must pass; and a temporary directory removed at exit.
#include "structured.hpp"

#include <ballotchain/rpc/http_server.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

namespace ballotchain::fuzz_fixture {

namespace http = rpc::http;

/// A fresh directory under the system's temporary directory ($TMPDIR), removed at exit.
inline std::filesystem::path temp_dir(const std::string& name) {
    namespace fs = std::filesystem;
    std::string tmpl = (fs::temp_directory_path() / (name + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    static std::vector<fs::path> dirs;
    static const bool registered = [] {
        std::atexit([] {
            std::error_code ec;
            for (const auto& d : dirs) fs::remove_all(d, ec);
        });
        return true;
    }();
    (void)registered;
    dirs.emplace_back(tmpl);
    return tmpl;
}

/// The client's address: a few fixed ones (two IPv4, IPv4-mapped, two in one IPv6 /64) or
/// any from the input.
inline boost::asio::ip::address read_remote(reader& in) {
    namespace ip = boost::asio::ip;
    switch (const auto sel = in.u8(); sel % 8) {
    case 0: return ip::make_address("127.0.0.1");
    case 1: return ip::make_address("127.0.0.2");
    case 2: return ip::make_address("::ffff:127.0.0.2");
    case 3: return ip::make_address("2001:db8::1");
    case 4: return ip::make_address("2001:db8::ffff:2");
    case 5: return ip::make_address("::1");
    case 6: {
        ip::address_v4::bytes_type b;
        for (auto& x : b) x = in.u8();
        return ip::address_v4(b);
    }
    default: {
        ip::address_v6::bytes_type b;
        for (auto& x : b) x = in.u8();
        return ip::address_v6(b);
    }
    }
}

/// Selectors and header names a request is made from.
struct request_vocabulary {
    std::vector<std::string> targets;  ///< paths, with or without a query
    std::vector<std::string> queries;  ///< appended after '?'
    std::vector<std::string> header_names{"Content-Type", "Accept", "Connection", "User-Agent", "X-Forwarded-For",
                                          "Expect", "Host"};
};

/// The validator's routes (apps/validator/rpc_routes.hpp) and queries of /blockchain.
inline request_vocabulary validator_routes() {
    request_vocabulary r;
    r.targets = {"/", "/health", "/blockchain", "/metrics", "/nope", "/health/", "//"};
    r.queries = {"election_id=1",  "election_id=2",  "election_id=99", "election_id=", "election_id=-1",
                 "election_id=18446744073709551616", "x=1&election_id=1", "election_id=1&election_id=x"};
    return r;
}

inline const std::vector<std::string>& verbs() {
    static const std::vector<std::string> v{"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW"};
    return v;
}

/// The parts of a request before the body: request line and extra headers. The caller adds
/// its own headers (e.g. Authorization) to `headers` and picks the body.
struct request_parts {
    std::string method, target;
    bool http10 = false;
    bool chunked = false;  ///< send the body chunked instead of with Content-Length
    std::vector<std::pair<std::string, std::string>> headers;
};

/// Method selector, target selector (past the list: a path from the input), query selector
/// (0: none; past the list: a query from the input), flags (bit 0 HTTP/1.0, bit 1 chunked
/// body), then up to 3 headers (name selector, value).
inline request_parts read_request_parts(reader& in, const request_vocabulary& voc) {
    request_parts r;
    const std::uint8_t m = in.u8();
    r.method = m < verbs().size() ? verbs()[m] : in.str(16);
    const std::uint8_t t = in.u8();
    r.target = t < voc.targets.size() ? voc.targets[t] : in.str(512);
    const std::uint8_t q = in.u8();
    if (q > 0) r.target += "?" + (q <= voc.queries.size() ? voc.queries[q - 1] : in.str(512));
    const std::uint8_t flags = in.u8();
    r.http10 = flags & 1;
    r.chunked = flags & 2;
    for (std::size_t i = 0, k = (flags >> 2) % 4; i < k; ++i) {
        const std::uint8_t n = in.u8();
        std::string name = n < voc.header_names.size() ? voc.header_names[n] : in.str(32);
        r.headers.emplace_back(std::move(name), in.str(256));
    }
    return r;
}

/// Writes read_request_parts' format (fuzz_make_corpus).
inline void write_request_parts(writer& w, const request_vocabulary& voc, std::string_view method, std::string_view path,
                                std::string_view query = {}, std::uint8_t flags = 0) {
    std::uint8_t m = 0xff;
    for (std::size_t i = 0; i < verbs().size(); ++i)
        if (verbs()[i] == method) m = static_cast<std::uint8_t>(i);
    w.u8(m);
    if (m == 0xff) w.str(method);
    std::uint8_t t = 0xff;
    for (std::size_t i = 0; i < voc.targets.size(); ++i)
        if (voc.targets[i] == path) t = static_cast<std::uint8_t>(i);
    w.u8(t);
    if (t == 0xff) w.str(path);
    if (query.empty()) {
        w.u8(0);
    } else {
        std::uint8_t q = 0xff;
        for (std::size_t i = 0; i < voc.queries.size(); ++i)
            if (voc.queries[i] == query) q = static_cast<std::uint8_t>(i + 1);
        w.u8(q);
        if (q == 0xff) w.str(query);
    }
    w.u8(flags);
}

/// The request as bytes on the wire. Bytes a client cannot put in a request line or a header
/// value (controls, space in the target, CR/LF in a value) are percent-encoded or dropped, so
/// most inputs reach the handler; the parser still sees every other byte.
inline std::string wire_request(const request_parts& r, std::string_view body) {
    std::string out = r.method + " ";
    static constexpr char hexd[] = "0123456789ABCDEF";
    for (const char ch : r.target) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7f) {
            out += '%';
            out += hexd[c >> 4];
            out += hexd[c & 15];
        } else {
            out += ch;
        }
    }
    if (r.target.empty()) out += '/';
    out += r.http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
    out += "Host: 127.0.0.1\r\n";
    for (const auto& [name, value] : r.headers) {
        out += name + ": ";
        for (const char c : value)
            if (c != '\r' && c != '\n' && c != '\0') out += c;
        out += "\r\n";
    }
    if (r.chunked && !r.http10) {
        out += "Transfer-Encoding: chunked\r\n\r\n";
        if (!body.empty()) {
            char len[32];
            std::snprintf(len, sizeof len, "%zx\r\n", body.size());
            out += len;
            out += body;
            out += "\r\n";
        }
        out += "0\r\n\r\n";
    } else {
        if (!body.empty() || r.method == "POST" || r.method == "PUT") out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        out += "\r\n";
        out += body;
    }
    return out;
}

/// Parses `raw` as rpc::http_server's session does. nullopt when the server would not call
/// the handler: the parser refuses the bytes (400/413/431), the framing check refuses the
/// header (400/501), or the request is incomplete.
inline std::optional<rpc::http_request> parse_like_server(std::string_view raw, const rpc::http_server_options& o,
                                                          std::size_t* consumed = nullptr) {
    http::request_parser<http::string_body> p;
    p.body_limit(o.body_limit);
    p.header_limit(o.header_limit);
    boost::beast::error_code ec;
    std::size_t used = 0;
    // Everything there is goes in at once: need_more (or no progress) means incomplete.
    while (!p.is_header_done()) {
        const std::size_t n = p.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
        used += n;
        if (ec || n == 0) return std::nullopt;
    }
    if (rpc::detail::framing_error(p.get().base())) return std::nullopt;
    p.eager(true);
    while (!p.is_done()) {
        const std::size_t n = p.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
        used += n;
        if (ec || n == 0) return std::nullopt;
    }
    if (consumed) *consumed = used;
    return p.release();
}

/// Checks every response must pass: a status from `allowed`, the request's HTTP version, a
/// Content-Length that matches the body, a JSON body when it says so, and `{"detail": "..."}`
/// (a non-empty string, and only that key unless `extra_keys_ok`) for every status >= 400.
/// Returns the parsed JSON body (null when not JSON). Aborts with a message otherwise.
inline boost::json::value check_http_response(const rpc::http_request& req, const rpc::http_response& res,
                                              const std::set<unsigned>& allowed, bool extra_keys_ok = false) {
    auto fail = [&](std::string_view why) {
        std::fprintf(stderr, "INVARIANT VIOLATED: %.*s\n--- request\n%s %s\n%.*s\n--- response %u\n%.*s\n",
                     static_cast<int>(why.size()), why.data(), std::string(req.method_string()).c_str(),
                     std::string(req.target()).c_str(), static_cast<int>(std::min<std::size_t>(req.body().size(), 4000)),
                     req.body().data(), res.result_int(),
                     static_cast<int>(std::min<std::size_t>(res.body().size(), 4000)), res.body().data());
        std::abort();
    };
    if (!allowed.contains(res.result_int())) fail("a status the docs do not list");
    if (res.version() != req.version()) fail("the response's HTTP version differs from the request's");
    const auto cl = res.find(http::field::content_length);
    if (res.result() == http::status::no_content) {
        if (!res.body().empty()) fail("204 with a body");
    } else if (cl == res.end() || cl->value() != std::to_string(res.body().size())) {
        fail("Content-Length does not match the body");
    }
    boost::json::value v;
    const auto ct = res.find(http::field::content_type);
    if (ct != res.end() && ct->value() == "application/json") {
        boost::system::error_code ec;
        v = boost::json::parse(res.body(), ec);
        if (ec) fail("a JSON body that does not parse");
    }
    if (res.result_int() >= 400) {
        if (!v.is_object()) fail("an error without a JSON object body");
        const auto* d = v.as_object().if_contains("detail");
        if (!d || !d->is_string() || d->as_string().empty()) fail("an error without a detail");
        if (!extra_keys_ok && v.as_object().size() != 1) fail("an error body with more than detail");
    }
    if (res.result() == http::status::too_many_requests) {
        const auto ra = res.find(http::field::retry_after);
        if (ra == res.end() || ra->value().empty() || ra->value().find_first_not_of("0123456789") != std::string_view::npos ||
            ra->value() == "0")
            fail("429 without a Retry-After of whole seconds >= 1");
    }
    return v;
}

}  // namespace ballotchain::fuzz_fixture
