#pragma once
/// @file The log options every long-running binary shares (validator, backend, bootnode):
/// `--log-level` (an unknown level is refused with CLI11's message and exit status 105, so a
/// typo cannot silence the log) and `--log-format text|json` (json: one object per line,
/// {"time","level","logger","message"}, for journald/Loki/Elasticsearch pipelines).
/// Logs go to stdout; rotation is the service manager's (docs/operations.md, "Logs").

#include <CLI/CLI.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace ballotchain::app {

struct log_options {
    std::string level = "info";
    std::string format = "text";
};

/// Adds --log-level and --log-format to `app`, both checked against their allowed values.
inline void add_log_options(CLI::App& app, log_options& o) {
    app.add_option("--log-level", o.level, "trace, debug, info, warn, error (anything else is refused)")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    app.add_option("--log-format", o.format,
                   "text (one line per event) or json (one JSON object per line: time, level, logger, message)")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
}

namespace detail {
/// The message with JSON string escapes (quotes, backslashes, control characters).
class json_message_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        static constexpr char hex[] = "0123456789abcdef";
        for (const char c : msg.payload) {
            const auto u = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                dest.push_back('\\');
                dest.push_back(c);
            } else if (c == '\n') {
                dest.append(std::string_view("\\n"));
            } else if (c == '\t') {
                dest.append(std::string_view("\\t"));
            } else if (c == '\r') {
                dest.append(std::string_view("\\r"));
            } else if (u < 0x20) {
                const char esc[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15]};
                dest.append(esc, esc + sizeof esc);
            } else {
                dest.push_back(c);
            }
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<json_message_flag>(); }
};
}  // namespace detail

/// Makes the default logger `name` on stdout with the level and format of `o` (already checked
/// by add_log_options). Text: "2026-01-02T03:04:05.678 info message" (coloured on a terminal).
inline void setup_logging(const std::string& name, const log_options& o) {
    if (o.format == "json") {
        spdlog::set_default_logger(spdlog::stdout_logger_mt(name));
        auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
        f->add_flag<detail::json_message_flag>('*').set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","message":"%*"})");
        spdlog::set_formatter(std::move(f));
    } else {
        spdlog::set_default_logger(spdlog::stdout_color_mt(name));
        spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    }
    spdlog::set_level(spdlog::level::from_str(o.level));
}

}  // namespace ballotchain::app
