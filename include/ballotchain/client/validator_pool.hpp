#pragma once
/// @file What a client knows about the validators it talks to: their names and
/// URLs (`node_info`), what one JSON-RPC call or health probe came to
/// (`rpc_outcome`, `probe_result`), and the health book (`node_book`): each
/// validator's status (healthy, degraded, unreachable, misbehaving), its
/// history, and the order to ask them in (round-robin, healthy first). The
/// verifying client (client.hpp) keeps one; its transports (async_transport.hpp)
/// produce the outcomes and probes.

#include <ballotchain/core/clock.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ballotchain::client {

enum class node_status : std::uint8_t {
    healthy,      ///< answers and is in consensus
    degraded,     ///< answers, but is catching up, has no peers or reports an error
    unreachable,  ///< does not answer
    misbehaving,  ///< answered something that failed verification (a forged receipt, block or tally): avoided for a while
};

inline const char* to_string(node_status s) noexcept {
    switch (s) {
    case node_status::healthy: return "healthy";
    case node_status::degraded: return "degraded";
    case node_status::unreachable: return "unreachable";
    case node_status::misbehaving: return "misbehaving";
    }
    return "unknown";
}

struct node_info {
    std::string node_id;  ///< e.g. "validator-1"
    std::string rpc_url;  ///< e.g. "http://127.0.0.1:8001"
    std::string p2p_url;  ///< informational: as configured, then as the node's health probe reports it
};

/// What one JSON-RPC call came to.
struct rpc_outcome {
    enum class kind : std::uint8_t { result, error, unreachable };
    kind k = kind::unreachable;
    boost::json::value value;  ///< the "result", or the "error" object
    std::string why;           ///< for unreachable: what went wrong

    bool ok() const noexcept { return k == kind::result; }
    bool answered() const noexcept { return k != kind::unreachable; }
    /// The JSON-RPC error code, when the node answered with an error.
    std::optional<std::int64_t> error_code() const {
        if (k != kind::error || !value.is_object()) return std::nullopt;
        const auto* c = value.as_object().if_contains("code");
        if (!c || !c->is_int64()) return std::nullopt;
        return c->as_int64();
    }
};

/// One validator's answer to a question put to each (basic_client::ask_each): as it came, unverified.
struct node_answer {
    std::string node;  ///< the validator's node id
    rpc_outcome out;
};

/// One health probe of one node.
struct probe_result {
    bool answered = false;
    node_status status = node_status::unreachable;
    std::uint64_t height = 0;
    std::string detail;
    std::string p2p_url;  ///< "tcp://host:port" from the node's "p2p_addr" ("" when it gave none)
};

/// What the book knows about one node.
struct node_state {
    node_info info;
    node_status status = node_status::healthy;  ///< optimistic until a call or probe says otherwise
    std::uint64_t checked_ms = 0;               ///< clock time of the last probe or call (0: never)
    std::uint64_t height = 0;                   ///< from the last probe
    std::uint32_t failures = 0;                 ///< consecutive failed calls or probes
    std::uint64_t calls = 0;                    ///< calls this node answered
    std::string detail;                         ///< last probe detail or failure reason
    std::uint64_t misbehaviours = 0;            ///< answers that failed verification, ever
    std::uint64_t misbehaving_until_ms = 0;     ///< avoided (status misbehaving) until this clock time
};

/// What a client knows about each validator, and the order to ask them in.
/// Thread-safe; every member locks for its own duration only.
///
/// Order: round-robin start, healthy first, then degraded, then unreachable,
/// then those caught misbehaving (still asked when nobody else answers: every
/// answer is verified anyway). A misbehaving node keeps that status for the
/// quarantine time whatever its probes say.
template <clock Clock>
class node_book {
public:
    node_book(std::vector<node_info> nodes, Clock c, std::uint64_t quarantine_ms = 600'000)
        : clock_(std::move(c)), quarantine_ms_(quarantine_ms) {
        for (auto& n : nodes) {
            node_state st;
            st.info = std::move(n);
            nodes_.push_back(std::move(st));
        }
    }

    std::size_t size() const {
        std::lock_guard lk(mu_);
        return nodes_.size();
    }
    /// Whether node i is avoided for misbehaving (asked only when no other node answers).
    bool quarantined(std::size_t i) const {
        std::lock_guard lk(mu_);
        return nodes_[i].status == node_status::misbehaving;
    }
    node_info info(std::size_t i) const {
        std::lock_guard lk(mu_);
        return nodes_[i].info;
    }
    std::vector<node_state> snapshot() const {
        std::lock_guard lk(mu_);
        auto out = nodes_;
        for (auto& n : out) settle(n);
        return out;
    }
    std::size_t count(node_status st) const {
        std::size_t c = 0;
        for (const auto& n : snapshot()) c += n.status == st;
        return c;
    }

    /// The order to ask the nodes in for the next call.
    std::vector<std::size_t> order() {
        std::lock_guard lk(mu_);
        const std::size_t n = nodes_.size();
        std::vector<std::size_t> out;
        out.reserve(n);
        if (n == 0) return out;
        const std::size_t start = next_++ % n;
        for (auto& s : nodes_) settle(s);
        for (auto want : {node_status::healthy, node_status::degraded, node_status::unreachable, node_status::misbehaving})
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t i = (start + k) % n;
                if (nodes_[i].status == want) out.push_back(i);
            }
        return out;
    }

    /// Node i answered (its answer still to be verified by the caller).
    void answered(std::size_t i) {
        std::lock_guard lk(mu_);
        auto& s = nodes_[i];
        s.checked_ms = clock_.now_ms();
        if (s.status == node_status::unreachable) s.status = node_status::degraded;  // the next probe decides
        s.failures = 0;
        ++s.calls;
    }
    /// Node i did not answer.
    void failed(std::size_t i, std::string why) {
        std::lock_guard lk(mu_);
        auto& s = nodes_[i];
        s.checked_ms = clock_.now_ms();
        ++s.failures;
        if (s.status != node_status::misbehaving) s.status = node_status::unreachable;
        s.detail = std::move(why);
    }
    /// Node i answered something that failed verification.
    void misbehaved(std::size_t i, std::string why) {
        std::lock_guard lk(mu_);
        auto& s = nodes_[i];
        s.checked_ms = clock_.now_ms();
        ++s.misbehaviours;
        s.status = node_status::misbehaving;
        s.misbehaving_until_ms = s.checked_ms + quarantine_ms_;
        s.detail = std::move(why);
    }
    /// The outcome of a health probe of node i.
    void probed(std::size_t i, probe_result p) {
        std::lock_guard lk(mu_);
        auto& s = nodes_[i];
        s.checked_ms = clock_.now_ms();
        s.height = p.height;
        s.failures = p.answered ? 0 : s.failures + 1;
        if (!p.p2p_url.empty()) s.info.p2p_url = std::move(p.p2p_url);  // what the node says it listens on
        settle(s);
        if (s.status == node_status::misbehaving) return;  // quarantined: keeps its status and reason
        s.status = p.answered ? p.status : node_status::unreachable;
        s.detail = std::move(p.detail);
    }

    const Clock& clock() const noexcept { return clock_; }

private:
    /// Ends a quarantine that is over (the node is then "degraded" until a probe or call says more).
    void settle(node_state& s) const {
        if (s.status == node_status::misbehaving && clock_.now_ms() >= s.misbehaving_until_ms) s.status = node_status::degraded;
    }

    Clock clock_;
    std::uint64_t quarantine_ms_;
    mutable std::mutex mu_;
    std::vector<node_state> nodes_;
    std::size_t next_ = 0;
};

}  // namespace ballotchain::client
