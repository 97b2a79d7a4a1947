#pragma once
/// @file A vote's status pushed to the browser as server-sent events
/// (GET /api/votes/events, docs/backend.md): the web app's receipt moves
/// pending → submitted → confirmed without polling.
///
/// Each request carries the last status the client saw (`Last-Event-ID`, which
/// EventSource sends by itself on every reconnection). When the vote's status
/// differs, the answer is one event with the status at once; when it is the
/// same, the request is held (rpc::request_info::defer) until it changes or
/// `hold_ms` passes, then answered with that event or a keep-alive comment.
/// Either answer ends the response and EventSource reconnects after `retry`
/// (1 s). A vote that is final (confirmed or rejected) and already seen gets
/// 204, which tells EventSource to stop. So one connection per watching
/// browser, no thread held while waiting, and a browser without EventSource
/// polls transaction-status instead.

#include "http_util.hpp"

#include <ballotchain/core/hex.hpp>
#include <ballotchain/rpc/http_server.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ballotchain::backend {

/// The SSE watchers of vote statuses.
///
/// @par Thread safety Every member may be called from any thread (one mutex;
/// responders are called outside it).
class vote_events {
public:
    /// The stored status of a vote as transaction-status shows it (nullopt: not ours).
    using lookup = std::function<std::optional<bjson::object>(const hash32&, std::optional<std::int64_t>)>;

    struct options {
        std::size_t max_watchers = 4096;  ///< requests held at once (beyond: 503)
        std::uint64_t hold_ms = 25'000;   ///< the longest a request is held
        /// Applied to every answer given later, from tick() (the service's security headers;
        /// answers returned by open() go through the service's own path).
        std::function<void(rpc::http_response&)> decorate = {};
    };

    vote_events(lookup status, options opt) : status_(std::move(status)), opt_(opt) {}

    /// The event id of a status: what changes when the page should change.
    static std::string event_id(const bjson::object& st) {
        auto text = [&](const char* k) {
            const auto* v = st.if_contains(k);
            return v && v->is_string() ? std::string(v->as_string()) : std::string();
        };
        return text("status") + ":" + text("source");
    }

    /// One SSE answer: the event with `st`, or (no status) a keep-alive comment.
    static rpc::http_response event(const std::optional<bjson::object>& st, unsigned version) {
        rpc::http_response res{http::status::ok, version};
        res.set(http::field::content_type, "text/event-stream");
        res.set(http::field::cache_control, "no-store");
        std::string body = "retry: 1000\n";
        if (st) body += "id: " + event_id(*st) + "\nevent: status\ndata: " + rpc::json_text(*st) + "\n\n";
        else body += ": still " + std::string("waiting") + "\n\n";
        res.body() = std::move(body);
        res.prepare_payload();
        return res;
    }

    /// GET /api/votes/events?transaction_id=0x…[&election_id=N] with the client's Last-Event-ID:
    /// the answer now, or a held request (the returned response is then ignored by the server).
    /// Throws http_error: 422 (bad query), 404 (not one of ours), 503 (too many held).
    rpc::http_response open(std::string_view query, std::string_view last_id, const rpc::request_info& info,
                            unsigned version, std::uint64_t now_ms) {
        const auto tid = app::query_param(query, "transaction_id");
        if (!tid) throw http_error{http::status::unprocessable_entity, "transaction_id is required"};
        const auto th = from_hex_fixed<32>(*tid);
        if (!th) throw http_error{http::status::unprocessable_entity, "transaction_id must be a 0x-prefixed 32-byte hex hash"};
        std::optional<std::int64_t> election;
        if (app::query_param(query, "election_id")) election = query_id(query, "election_id");
        const auto st = status_(*th, election);
        if (!st) throw http_error{http::status::not_found, "not a vote of this backend"};
        const std::string id = event_id(*st);
        if (id != last_id) return event(st, version);
        if (final(*st)) {  // seen, and it will not change: EventSource stops on 204
            rpc::http_response res{http::status::no_content, version};
            res.prepare_payload();
            return res;
        }
        {
            std::lock_guard lk(mu_);
            if (watchers_.size() < opt_.max_watchers) {
                auto r = info.defer();
                if (!r) return event(st, version);  // cannot hold (no server): answer now
                watchers_.push_back({*th, election, id, std::move(r), now_ms + opt_.hold_ms, version});
                return {};
            }
        }
        return rpc::detail_response(http::status::service_unavailable, "too many status watchers; poll transaction-status",
                                    version);
    }

    /// Answers every held request whose vote changed or whose time is up (the backend's loop
    /// calls it every 250 ms, and after a stop with `all`). Returns how many were answered.
    std::size_t tick(std::uint64_t now_ms, bool all = false) {
        std::vector<watcher> ws;
        {
            std::lock_guard lk(mu_);
            ws.swap(watchers_);
        }
        std::vector<watcher> keep;
        std::size_t answered = 0;
        for (auto& w : ws) {
            std::optional<bjson::object> st;
            try {
                st = status_(w.th, w.election);
            } catch (...) {  // the store failed: let the client come back
                st.reset();
            }
            const bool changed = st && event_id(*st) != w.last;
            if (changed || all || now_ms >= w.deadline || !st) {
                auto res = event(changed ? st : std::nullopt, w.version);
                if (opt_.decorate) opt_.decorate(res);
                w.r(std::move(res));
                ++answered;
            } else {
                keep.push_back(std::move(w));
            }
        }
        std::lock_guard lk(mu_);
        for (auto& w : keep) watchers_.push_back(std::move(w));
        return answered;
    }

    std::size_t held() const {
        std::lock_guard lk(mu_);
        return watchers_.size();
    }

private:
    struct watcher {
        hash32 th;
        std::optional<std::int64_t> election;
        std::string last;
        rpc::responder r;
        std::uint64_t deadline = 0;
        unsigned version = 11;
    };

    static bool final(const bjson::object& st) {
        const auto* s = st.if_contains("status");
        return s && s->is_string() && (s->as_string() == "confirmed" || s->as_string() == "rejected");
    }

    lookup status_;
    options opt_;
    mutable std::mutex mu_;
    std::vector<watcher> watchers_;
};

}  // namespace ballotchain::backend
