#pragma once
/// @file The verifying client: the original design's BlockchainClient in C++.
///
/// Typed operations over the validator set (submit a vote, its receipt, its
/// confirmation status, the chain state, an integrity report, an election's
/// results, waiting for confirmation and for new blocks, following final
/// blocks) with load balancing, health monitoring and failover, and
/// verification of everything a validator says that can be proven: a receipt
/// counts only with the block header's hash, a commit certificate holding a
/// quorum of valid seals from the genesis validators, and the Merkle inclusion
/// proof; results are re-derived from verified blocks by a light follower. A
/// validator caught lying is marked `misbehaving` and avoided. docs/client.md.
///
/// Every operation is asynchronous in the Asio style: `async_x(args..., token)`
/// works with callbacks, `asio::use_awaitable` (C++20 coroutines), `use_future`
/// and any other completion token; its completion signature is
/// `void(call_result<T>)`. `x(args...)` is the synchronous form, run on a
/// private io_context for the call's duration. Operations take an optional
/// `call_options` (deadline) before the token, honour per-operation
/// cancellation (`asio::bind_cancellation_slot`, the `||` of awaitable
/// operators), and retry on the next healthy validator with exponential backoff
/// and jitter when none answers.
///
/// @tparam Transport `async_rpc_transport` (async_http_transport; scripted in tests)
/// @tparam Clock     `clock` for the health book's timestamps and quarantines
/// @tparam Suite     the chain's suite
///
/// @par Thread safety
/// Every member may be called from any thread and operations may run
/// concurrently; the client must outlive the operations it started. The
/// client starts no thread: operations and the health monitor run on the
/// executor given at construction (the synchronous forms on their own).

#include <ballotchain/client/answers.hpp>
#include <ballotchain/client/async_transport.hpp>
#include <ballotchain/client/errors.hpp>
#include <ballotchain/client/follower.hpp>
#include <ballotchain/client/light_verify.hpp>
#include <ballotchain/client/validator_pool.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/rpc/errors.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace ballotchain::client {

namespace asio = boost::asio;
using std::chrono::milliseconds;

/// Options of one call.
struct call_options {
    std::optional<milliseconds> deadline;  ///< whole call, all retries included (default: client_options::deadline)
};

struct client_options {
    milliseconds deadline{10'000};         ///< default per-call deadline
    milliseconds attempt_timeout{3'000};   ///< one validator's answer
    std::uint32_t max_rounds = 4;          ///< passes over the validators while none answers
    milliseconds backoff_base{100};        ///< wait before the second pass; doubles, with jitter (×0.5–1)
    milliseconds backoff_max{2'000};
    milliseconds quarantine{600'000};      ///< how long a misbehaving validator is avoided
    milliseconds long_poll{10'000};        ///< one poa_waitForBlock wait (≤ 30 s, the validators' bound)
    milliseconds poll_min{100};            ///< polling when a validator cannot long-poll: first wait …
    milliseconds poll_max{2'000};          ///< … doubling up to this
    std::uint32_t blocks_per_fetch = 64;   ///< poa_getRawBlocks count when following
    bool check_tx_signatures = false;      ///< the follower also checks every vote's signature (the certificate vouches otherwise)
    std::string follower_state;            ///< file the follower's position is kept in ("" = memory only)
};

namespace detail {
/// What a call's per-answer check decided.
template <class T>
struct verdict {
    enum class kind : std::uint8_t { accept, stop, misbehaving, transient };
    kind k = kind::transient;
    std::optional<T> value;  ///< accept
    call_error error;        ///< stop / transient; misbehaving: message = why

    static verdict ok(T v) { return {kind::accept, std::move(v), {}}; }
    static verdict stop_with(call_error e) { return {kind::stop, std::nullopt, std::move(e)}; }
    static verdict lied(std::string why) { return {kind::misbehaving, std::nullopt, {errc::misbehaving, 0, std::move(why), {}}}; }
    static verdict retry(call_error e) { return {kind::transient, std::nullopt, std::move(e)}; }
    /// A JSON-RPC error answer: tried on the next validator when transient, the call's answer otherwise.
    static verdict refused(const rpc_outcome& o);
};

/// A JSON-RPC error answer as a call_error.
inline call_error rpc_failure(const rpc_outcome& o, const std::string& node) {
    call_error e{errc::rpc_error, o.error_code().value_or(rpc::code::internal_error), {}, node};
    if (o.value.is_object())
        if (const auto* m = o.value.as_object().if_contains("message"); m && m->is_string())
            e.message = std::string(m->as_string()).substr(0, 512);
    if (e.message.empty()) e.message = "JSON-RPC error";
    return e;
}

/// Refusals another validator may not repeat: a full pool, a node's storage
/// trouble, overload, rate limits, internal errors, an election whose definition
/// that validator does not hold yet (unknown_election: it may lag behind).
inline bool transient_code(std::int64_t c) noexcept {
    return c == rpc::tx_code::pool_full || c == rpc::tx_code::storage || c == rpc::code::rate_limited ||
           c == rpc::tx_code::unknown_election ||
           c == rpc::code::server_error || c == rpc::code::internal_error || c == rpc::code::too_many_in_batch;
}

template <class T>
verdict<T> verdict<T>::refused(const rpc_outcome& o) {
    auto e = rpc_failure(o, {});
    return transient_code(e.rpc_code) ? retry(std::move(e)) : stop_with(std::move(e));
}
}  // namespace detail

template <async_rpc_transport Transport, clock Clock, secure_suite Suite>
class basic_client {
public:
    using executor_type = asio::any_io_executor;
    using follower_type = light_follower<Suite>;

    /// @param ex where asynchronous operations and the health monitor run
    /// @param g  the chain's genesis: the trust anchor every answer is checked against
    basic_client(executor_type ex, std::vector<node_info> nodes, genesis_config g, Transport t = {}, Clock c = {},
                 client_options o = {})
        : ex_(std::move(ex)), transport_(std::move(t)), book_(std::move(nodes), std::move(c), static_cast<std::uint64_t>(o.quarantine.count())),
          o_(std::move(o)), anchor_(std::make_shared<const light_verifier<Suite>>(std::move(g))), verifier_(anchor_),
          follower_(std::make_unique<follower_type>(*anchor_)) {
        if (!o_.follower_state.empty()) {
            std::string why;
            auto r = follower_->load(o_.follower_state, &why);
            if (!r && r.error() != boost::system::errc::no_such_file_or_directory)
                follower_load_error_ = o_.follower_state + ": " + (why.empty() ? r.error().message() : why);
        }
    }

    basic_client(const basic_client&) = delete;
    basic_client& operator=(const basic_client&) = delete;

    executor_type get_executor() const noexcept { return ex_; }
    const client_options& options() const noexcept { return o_; }
    /// The verifier as it stands: the genesis, and every validator-set change the client has
    /// learned (each checked against the set before it). A snapshot: the client replaces it
    /// (never changes it) when it learns a change.
    std::shared_ptr<const light_verifier<Suite>> verifier() const {
        std::lock_guard lk(verifier_mu_);
        return verifier_;
    }
    /// The validator sets the client knows (verifier()->validators(), a copy).
    validator_schedule validators() const { return verifier()->validators(); }
    const genesis_config& genesis() const noexcept { return anchor_->genesis(); }
    const hash32& genesis_hash() const noexcept { return anchor_->genesis_hash(); }
    Transport& transport() noexcept { return transport_; }

    /// Health and history of every validator (status healthy / degraded / unreachable / misbehaving).
    std::vector<node_state> health() const { return book_.snapshot(); }
    std::size_t count(node_status s) const { return book_.count(s); }
    std::size_t size() const { return book_.size(); }

    /// The follower's position and tallies (a copy, consistent).
    struct follower_view {
        std::uint64_t height = 0;
        hash32 head_hash;
        std::uint64_t votes = 0;
        std::map<std::uint64_t, tally_map> tallies;
    };
    follower_view follower() const {
        std::lock_guard lk(follow_mu_);
        return {follower_->height(), follower_->head_hash(), follower_->votes(), follower_->tallies()};
    }
    /// Why the saved follower position was not loaded ("" when it was, or there was none).
    const std::string& follower_load_error() const noexcept { return follower_load_error_; }
    /// Called (on the follower's caller, under its lock: keep it short) for every block the follower applies.
    void on_block(std::function<void(const verified_block&)> f) {
        std::lock_guard lk(follow_mu_);
        on_block_ = std::move(f);
    }

    // ---- the operations -----------------------------------------------------------------

#define BALLOTCHAIN_CLIENT_OP(name, T, params, args)                                                       \
    template <class Token>                                                                                 \
    auto async_##name(params, call_options o, Token&& token) {                                             \
        return launch<T>(name##_impl(args, o), std::forward<Token>(token));                                \
    }                                                                                                      \
    template <asio::completion_token_for<void(call_result<T>)> Token>                                      \
    auto async_##name(params, Token&& token) {                                                             \
        return launch<T>(name##_impl(args, {}), std::forward<Token>(token));                               \
    }                                                                                                      \
    call_result<T> name(params, call_options o = {}) { return run_blocking<T>(name##_impl(args, o)); }
#define BALLOTCHAIN_CLIENT_OP0(name, T)                                                                    \
    template <class Token>                                                                                 \
    auto async_##name(call_options o, Token&& token) {                                                     \
        return launch<T>(name##_impl(o), std::forward<Token>(token));                                      \
    }                                                                                                      \
    template <asio::completion_token_for<void(call_result<T>)> Token>                                      \
    auto async_##name(Token&& token) {                                                                     \
        return launch<T>(name##_impl({}), std::forward<Token>(token));                                     \
    }                                                                                                      \
    call_result<T> name(call_options o = {}) { return run_blocking<T>(name##_impl(o)); }
#define BALLOTCHAIN_COMMA ,

    /// Sends a signed vote; its tx hash once a validator took it (or already holds it).
    /// A validator that answers another hash is misbehaving; a refusal comes back as
    /// rpc_error with the validator's code (rpc/errors.hpp) unless another validator takes it.
    BALLOTCHAIN_CLIENT_OP(submit_vote, hash32, const vote_tx& tx, tx)
    /// submit_vote, also saying which validator took the vote (a caller that records it, such as the backend).
    BALLOTCHAIN_CLIENT_OP(send_vote, acknowledgement, const vote_tx& tx, tx)
    /// Many votes in one call to one validator (poa_sendRawTransactions: one durable write
    /// there for all): each vote's own answer, in order — acknowledged (its hash checked, or
    /// the validator already holds it) or refused with the validator's code. Fails over as a
    /// whole when a validator does not answer; at most rpc::max_raw_transactions votes.
    BALLOTCHAIN_CLIENT_OP(send_votes, std::vector<call_result<acknowledgement>>, std::vector<vote_tx> txs, std::move(txs))
    /// The verified receipt of a final transaction; nullopt when no validator has one (each is asked:
    /// one a block behind the others has none for a vote they made final).
    BALLOTCHAIN_CLIENT_OP(get_transaction_receipt, std::optional<receipt>, const hash32& th, th)
    /// Where a transaction stands; `final` and `dropped` come with verified receipts.
    BALLOTCHAIN_CLIENT_OP(get_vote_confirmation_status, confirmation, const hash32& th, th)
    /// Waits until the transaction is final (or dropped) with a verified receipt, or `timeout` passes
    /// (errc::timeout). Long-polls the validators for new blocks; polls with backoff when they cannot.
    BALLOTCHAIN_CLIENT_OP(wait_for_confirmation, confirmation, const hash32& th BALLOTCHAIN_COMMA milliseconds timeout,
                          th BALLOTCHAIN_COMMA timeout)
    /// A validator's view of the chain, its head checked against a certified header.
    BALLOTCHAIN_CLIENT_OP0(get_blockchain_state, chain_state)
    /// A validator's check of its stored chain, its verified prefix checked against a certified header.
    BALLOTCHAIN_CLIENT_OP0(verify_blockchain_integrity, integrity_report)
    /// An election's tally from the client's own follower, brought up to (at least) the height a
    /// validator answers for, and compared with that validator's answer (a different answer: misbehaving).
    BALLOTCHAIN_CLIENT_OP(get_election_results, tally, std::uint64_t election, election)
    /// Final block `height`, checked (certificate, header hash, transaction root).
    BALLOTCHAIN_CLIENT_OP(get_block, verified_block, std::uint64_t height, height)
    /// Returns once some validator's final height is above `after` (timed_out = false), or after
    /// `wait` (timed_out = true): one long-poll, or polls when the validators cannot long-poll.
    BALLOTCHAIN_CLIENT_OP(wait_for_block, head_event, std::uint64_t after BALLOTCHAIN_COMMA milliseconds wait,
                          after BALLOTCHAIN_COMMA wait)
    /// Brings the follower up to `height` (at least; nullopt: the head a validator reports), verifying
    /// every block; returns its new height. Saves its position when client_options::follower_state is set.
    BALLOTCHAIN_CLIENT_OP(sync_follower, std::uint64_t, std::optional<std::uint64_t> height, height)
    /// Learns the validator-set changes the client lacks from the first validator (in the book's
    /// order) that answers poa_getValidatorChanges, each change checked against the sets known
    /// before it (docs/client.md, "Validator-set changes"); the number of changes now known. A
    /// validator that serves a forged change is misbehaving and the next one is asked. The client
    /// also learns changes by itself when a check needs them: this is for a caller that needs
    /// the latest sets before it checks anything (the backend's submitter key).
    BALLOTCHAIN_CLIENT_OP0(update_validators, std::uint64_t)
    /// Probes every validator once and records what it found; the number found healthy.
    BALLOTCHAIN_CLIENT_OP0(check_health, std::size_t)
    /// Puts one question to every validator in turn and returns every answer as it came,
    /// unverified: for a caller that trusts only what enough validators agree on (the
    /// backend's election key and encrypted tally). Unanswered validators are left out.
    BALLOTCHAIN_CLIENT_OP(ask_each, std::vector<node_answer>, std::string method BALLOTCHAIN_COMMA boost::json::array params,
                          std::move(method) BALLOTCHAIN_COMMA std::move(params))
#undef BALLOTCHAIN_COMMA
#undef BALLOTCHAIN_CLIENT_OP0
#undef BALLOTCHAIN_CLIENT_OP

    /// Probes every validator every `interval` until cancelled (then completes with errc::cancelled).
    /// Runs on the client's executor; starts no thread.
    template <class Token>
    auto async_run_health_monitor(milliseconds interval, Token&& token) {
        return launch<std::size_t>(monitor_impl(interval), std::forward<Token>(token));
    }

    /// Follows final blocks until cancelled: the follower applies each verified block (on_block
    /// sees it), waiting for new ones by long-poll. Completes only on cancellation or when no
    /// validator can be reached within a call's deadline.
    template <class Token>
    auto async_follow(Token&& token) {
        return launch<std::uint64_t>(follow_impl(), std::forward<Token>(token));
    }

private:
    /// (election, voter tag): what makes two votes compete.
    struct vote_key {
        std::uint64_t election = 0;
        hash32 voter_tag;
        bool operator==(const vote_key&) const = default;
    };
    using clock_type = std::chrono::steady_clock;
    using time_point = clock_type::time_point;
    template <class T>
    using verdict = detail::verdict<T>;

    // ---- running an operation ------------------------------------------------------------

    template <class T>
    static asio::awaitable<call_result<T>> guarded(asio::awaitable<call_result<T>> op) {
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        co_await asio::this_coro::throw_if_cancelled(false);
        try {
            co_return co_await std::move(op);
        } catch (const boost::system::system_error& e) {
            if (e.code() == asio::error::operation_aborted) co_return call_error{errc::cancelled, 0, {}, {}};
            co_return call_error{errc::unreachable, 0, e.what(), {}};
        } catch (const std::exception& e) {
            co_return call_error{errc::unreachable, 0, e.what(), {}};
        }
    }

    template <class T, class Token>
    auto launch(asio::awaitable<call_result<T>> op, Token&& token) {
        return asio::async_initiate<Token, void(call_result<T>)>(
            [](auto handler, executor_type ex, asio::awaitable<call_result<T>> a) {
                auto slot = asio::get_associated_cancellation_slot(handler);
                auto hex = asio::get_associated_executor(handler, ex);
                asio::co_spawn(ex, guarded<T>(std::move(a)),
                               asio::bind_cancellation_slot(
                                   slot, asio::bind_executor(hex, [h = std::move(handler)](std::exception_ptr e, call_result<T> r) mutable {
                                       if (e) r = call_error{errc::unreachable, 0, "operation failed", {}};
                                       std::move(h)(std::move(r));
                                   })));
            },
            token, ex_, std::move(op));
    }

    template <class T>
    static call_result<T> run_blocking(asio::awaitable<call_result<T>> op) {
        asio::io_context io;
        std::optional<call_result<T>> out;
        asio::co_spawn(io, guarded<T>(std::move(op)), [&](std::exception_ptr, call_result<T> r) { out = std::move(r); });
        io.run();
        if (!out) return call_error{errc::cancelled, 0, "did not complete", {}};
        return std::move(*out);
    }

    static asio::awaitable<bool> cancelled() {
        auto cs = co_await asio::this_coro::cancellation_state;
        co_return cs.cancelled() != asio::cancellation_type::none;
    }

    static asio::awaitable<void> sleep_for(milliseconds d) {
        asio::steady_timer t(co_await asio::this_coro::executor, d);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }

    time_point deadline_of(const call_options& o) const { return clock_type::now() + o.deadline.value_or(o_.deadline); }
    static milliseconds left(time_point deadline) {
        return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - clock_type::now()));
    }

    milliseconds backoff(std::uint32_t round) const {
        const auto base = o_.backoff_base * (1ll << std::min<std::uint32_t>(round, 20));
        const auto capped = std::min<milliseconds>(base, o_.backoff_max);
        thread_local std::minstd_rand rng{std::random_device{}()};
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        return milliseconds(static_cast<std::int64_t>(static_cast<double>(capped.count()) * jitter(rng)));
    }

    /// One JSON-RPC call to node `i`, within `budget` (and the transport's own timeout).
    asio::awaitable<rpc_outcome> attempt(std::size_t i, std::string method, boost::json::array params, milliseconds budget) {
        using namespace asio::experimental::awaitable_operators;
        const node_info info = book_.info(i);
        asio::steady_timer timer(co_await asio::this_coro::executor, budget);
        auto r = co_await (transport_.async_call(info, method, std::move(params), budget) ||
                           timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() == 1) {
            rpc_outcome o;
            o.why = "no answer within " + std::to_string(budget.count()) + " ms";
            co_return o;
        }
        co_return std::get<0>(std::move(r));
    }

    /// Asks the validators in the book's order until one's answer passes `check`
    /// (a callable (rpc_outcome, node index) -> awaitable<verdict<T>>), with
    /// backoff rounds while none answers, within the call's deadline.
    template <class T, class Check>
    asio::awaitable<call_result<T>> query(std::string method, boost::json::array params, call_options o, Check& check,
                                          milliseconds attempt_budget = milliseconds(0)) {
        const auto deadline = deadline_of(o);
        if (book_.size() == 0) co_return call_error{errc::no_validators, 0, {}, {}};
        call_error last{errc::unreachable, 0, {}, {}};
        bool any_answer = false;
        for (std::uint32_t round = 0; round < std::max<std::uint32_t>(o_.max_rounds, 1); ++round) {
            if (round > 0) {
                const auto wait = std::min(backoff(round - 1), left(deadline));
                co_await sleep_for(wait);
            }
            for (std::size_t i : book_.order()) {
                if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
                // A quarantined validator (last in the order) is asked only while no other has answered.
                if (any_answer && book_.quarantined(i)) continue;
                const auto rest = left(deadline);
                if (rest.count() == 0) co_return timed_out(last);
                const auto budget = std::min(rest, attempt_budget.count() ? attempt_budget : o_.attempt_timeout);
                rpc_outcome out = co_await attempt(i, method, params, budget);
                if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
                const std::string node = book_.info(i).node_id;
                if (!out.answered()) {
                    book_.failed(i, out.why);
                    if (!any_answer) last = {errc::unreachable, 0, out.why, node};  // an answer's error says more
                    continue;
                }
                book_.answered(i);
                any_answer = true;
                verdict<T> v = co_await check(std::move(out), i);
                switch (v.k) {
                case verdict<T>::kind::accept: co_return std::move(*v.value);
                case verdict<T>::kind::stop: v.error.node = node; co_return std::move(v.error);
                case verdict<T>::kind::misbehaving:
                    book_.misbehaved(i, v.error.message);
                    last = {errc::misbehaving, 0, v.error.message, node};
                    break;
                case verdict<T>::kind::transient:
                    last = std::move(v.error);
                    last.node = node;
                    break;
                }
            }
            if (any_answer) co_return last;  // validators answered, none usefully: no point in backing off
        }
        co_return last;
    }

    static call_error timed_out(const call_error& last) {
        call_error e{errc::timeout, 0, "deadline passed", last.node};
        if (!last.message.empty()) e.message += " (last: " + last.message + ")";
        return e;
    }

    /// Asks node `i` itself (no failover): for a follow-up question whose answer must come from
    /// the validator that made a claim. nullopt when it does not answer.
    asio::awaitable<std::optional<rpc_outcome>> ask(std::size_t i, std::string method, boost::json::array params) {
        auto out = co_await attempt(i, std::move(method), std::move(params), o_.attempt_timeout);
        if (!out.answered()) {
            book_.failed(i, out.why);
            co_return std::nullopt;
        }
        co_return out;
    }

    /// Node i's proof that `th` is final, verified; the error verdict otherwise.
    asio::awaitable<std::variant<receipt, std::string>> proven_receipt(std::size_t i, hash32 th) {
        auto out = co_await ask(i, "poa_getTransactionProof", json_args(to_hex(th)));
        if (!out) co_return std::string("gave no proof: no answer");
        if (!out->ok()) co_return std::string("gave no proof: ") + boost::json::serialize(out->value).substr(0, 200);
        if (out->value.is_null()) co_return std::string("claims it final but has no proof");
        auto r = decode_tx_proof(out->value);
        if (!r) co_return "proof does not decode: " + r.error();
        if (auto why = co_await check_receipt_learning(i, *r, th)) co_return "forged receipt: " + *why;
        r->node = book_.info(i).node_id;
        co_return std::move(*r);
    }

    /// Node i's block `height`, verified.
    asio::awaitable<std::variant<verified_block, std::string>> proven_block(std::size_t i, std::uint64_t height) {
        auto out = co_await ask(i, "poa_getRawBlock", json_args(rpc_quantity(height)));
        if (!out) co_return std::string("no answer");
        if (!out->ok() || !out->value.is_string()) co_return "has no block " + std::to_string(height);
        auto b = co_await check_raw_block_learning(i, std::string(out->value.as_string()), false);
        if (!b) co_return "forged block " + std::to_string(height) + ": " + b.error();
        if (b->fb.blk.header.height != height) co_return "answered block " + std::to_string(b->fb.blk.header.height) + " for " + std::to_string(height);
        co_return std::move(*b);
    }

    // ---- learning validator-set changes (docs/client.md, "Validator-set changes") --------

    /// What asking one validator for the changes the client lacks came to.
    struct learn_outcome {
        enum class kind : std::uint8_t { learned, nothing, unanswered, lied };
        kind k = kind::nothing;
        std::string why;
    };

    /// Publishes `v` when it knows more changes than the verifier in place (two operations
    /// may learn the same changes at once: the chain has one history, so either copy will do).
    void publish(std::shared_ptr<const light_verifier<Suite>> v) {
        std::lock_guard lk(verifier_mu_);
        if (v->validators().changes() > verifier_->validators().changes()) verifier_ = std::move(v);
    }

    /// Learns the changes recorded in `fb`, a final block the client checked, that it does not
    /// know yet. A change it cannot learn yet (an earlier one is unknown: the follower resumed
    /// from a saved position) is left for learn_changes, which a check that needs it calls.
    void learn_from(const finalized_block& fb) {
        bool any = false;
        for (const auto& tx : fb.blk.txs) any = any || tx.kind == tx_kind::validator_set;
        if (!any) return;
        auto cur = verifier();
        auto next = std::make_shared<light_verifier<Suite>>(*cur);
        if (next->learn_block(fb)) return;
        if (next->validators().changes() > cur->validators().changes()) publish(std::move(next));
    }

    /// Asks node `i` for the changes the client lacks (poa_getValidatorChanges from the next
    /// sequence) and learns them in order: each change's block must be final under the sets
    /// known before it (check_raw_block) and record that very change, approved by a quorum of
    /// the set then active (learn_block). An answer that does not check teaches nothing.
    asio::awaitable<learn_outcome> learn_changes(std::size_t i) {
        using K = typename learn_outcome::kind;
        auto lied = [](std::string why) { return learn_outcome{K::lied, std::move(why)}; };
        auto cur = verifier();
        auto next = std::make_shared<light_verifier<Suite>>(*cur);
        const std::uint64_t known = cur->validators().changes();
        for (std::size_t page = 0; page < max_change_pages; ++page) {
            const std::uint64_t want = next->validators().changes() + 1;
            auto out = co_await ask(i, "poa_getValidatorChanges", json_args(want));
            if (!out) co_return learn_outcome{K::unanswered, "no answer to poa_getValidatorChanges"};
            if (!out->ok()) co_return learn_outcome{K::unanswered, "poa_getValidatorChanges refused: " + detail::rpc_failure(*out, {}).message};
            const auto* arr = out->value.if_array();
            if (!arr || arr->size() > changes_per_answer)
                co_return lied("poa_getValidatorChanges: not an array of at most 16 changes");
            for (std::size_t k = 0; k < arr->size(); ++k) {
                const std::uint64_t seq = next->validators().changes() + 1;
                const std::string name = "validator-set change " + std::to_string(seq);
                const auto* e = (*arr)[k].if_object();
                const auto* rb = e ? e->if_contains("raw_block") : nullptr;
                const auto got = e ? detail::as_u64(e->if_contains("sequence")) : std::nullopt;
                const auto height = e ? detail::as_u64(e->if_contains("height")) : std::nullopt;
                if (!rb || !rb->is_string() || !got || !height) co_return lied(name + ": entry does not decode");
                if (*got != seq) co_return lied(name + ": answered change " + std::to_string(*got) + " instead");
                auto b = next->check_raw_block(rb->as_string(), false);
                if (!b) co_return lied(name + ": its block: " + b.error());
                if (b->fb.blk.header.height != *height) co_return lied(name + ": its block is not at height " + std::to_string(*height));
                if (auto why = next->learn_block(b->fb)) co_return lied(name + ": " + *why);
                if (next->validators().changes() < seq) co_return lied(name + ": its block does not record it");
            }
            if (arr->size() < changes_per_answer) break;
        }
        if (next->validators().changes() == known) co_return learn_outcome{K::nothing, "no validator-set change the client lacks"};
        publish(std::move(next));
        co_return learn_outcome{K::learned, {}};
    }

    /// check_receipt with the current verifier; when it fails, the changes node `i` can show
    /// are learned and the check runs once more (the block may be sealed by a later set).
    asio::awaitable<std::optional<std::string>> check_receipt_learning(std::size_t i, receipt r, hash32 th) {
        auto why = verifier()->check_receipt(r, th);
        if (!why) co_return why;
        auto l = co_await learn_changes(i);
        if (l.k == learn_outcome::kind::learned) co_return verifier()->check_receipt(r, th);
        if (l.k == learn_outcome::kind::lied) co_return *why + " (" + l.why + ")";
        co_return why;
    }

    /// check_raw_block as check_receipt_learning does check_receipt.
    asio::awaitable<decoded<verified_block>> check_raw_block_learning(std::size_t i, std::string hex, bool sigs) {
        auto b = verifier()->check_raw_block(hex, sigs);
        if (b) co_return b;
        auto l = co_await learn_changes(i);
        if (l.k == learn_outcome::kind::learned) co_return verifier()->check_raw_block(hex, sigs);
        if (l.k == learn_outcome::kind::lied) co_return decoded<verified_block>(boost::system::in_place_error, b.error() + " (" + l.why + ")");
        co_return b;
    }

    /// poa_getValidatorChanges answers at most this many changes (rpc::validator_changes_max_count;
    /// the client does not include the server's header).
    static constexpr std::size_t changes_per_answer = 16;
    /// poa_getValidatorChanges pages asked for in one learning (16 changes each).
    static constexpr std::size_t max_change_pages = 64;

    /// JSON-RPC params, built outside any coroutine (g++ 12 miscompiles initializer lists in
    /// co_await expressions: "array used as initializer").
    template <class... A>
    static boost::json::array json_args(A&&... a) {
        boost::json::array out;
        (out.emplace_back(std::forward<A>(a)), ...);
        return out;
    }

    static std::string rpc_quantity(std::uint64_t v) {
        char buf[24] = "0x";
        auto [p, ec] = std::to_chars(buf + 2, buf + sizeof buf, v, 16);
        (void)ec;
        return std::string(buf, p);
    }

    // ---- operations ----------------------------------------------------------------------

    asio::awaitable<call_result<acknowledgement>> send_vote_impl(vote_tx tx, call_options o) {
        const hash32 expected = tx_hash<Suite>(tx);
        remember(expected, tx);
        auto check = [this, expected](rpc_outcome out, std::size_t i) { return submit_vote_check(std::move(out), i, expected); };
        co_return co_await query<acknowledgement>("eth_sendRawTransaction", json_args(to_hex(encode(tx))), o, check);
    }

    asio::awaitable<call_result<std::vector<call_result<acknowledgement>>>> send_votes_impl(std::vector<vote_tx> txs,
                                                                                          call_options o) {
        using T = std::vector<call_result<acknowledgement>>;
        if (txs.empty()) co_return T{};
        if (txs.size() > rpc::max_raw_transactions)
            co_return call_error{errc::rpc_error, rpc::code::invalid_params,
                                 "more than " + std::to_string(rpc::max_raw_transactions) + " votes in one call", {}};
        std::vector<hash32> expected;
        boost::json::array raws;
        for (const auto& tx : txs) {
            expected.push_back(tx_hash<Suite>(tx));
            remember(expected.back(), tx);
            raws.push_back(boost::json::value(to_hex(encode(tx))));
        }
        auto check = [this, &expected](rpc_outcome out, std::size_t i) { return send_votes_check(std::move(out), i, expected); };
        co_return co_await query<T>("poa_sendRawTransactions", json_args(std::move(raws)), o, check);
    }

    asio::awaitable<call_result<hash32>> submit_vote_impl(vote_tx tx, call_options o) {
        auto ack = co_await send_vote_impl(std::move(tx), o);
        if (!ack) co_return std::move(ack.error());
        co_return ack->tx_hash;
    }

    asio::awaitable<call_result<std::optional<receipt>>> get_transaction_receipt_impl(hash32 th, call_options o) {
        using T = std::optional<receipt>;
        auto check = [this, th](rpc_outcome out, std::size_t i) { return get_transaction_receipt_check(std::move(out), i, th); };
        auto r = co_await query<T>("poa_getTransactionProof", json_args(to_hex(th)), o, check);
        // "Not in a final block" from every validator that answered (each asked in turn: one that
        // lags a block behind the others says so about a vote they have made final).
        if (!r && r.error().kind == errc::not_found) co_return T{};
        co_return r;
    }

    asio::awaitable<call_result<confirmation>> get_vote_confirmation_status_impl(hash32 th, call_options o) {
        using T = confirmation;
        auto check = [this, th](rpc_outcome out, std::size_t i) { return get_vote_confirmation_status_check(std::move(out), i, th); };
        co_return co_await query<T>("poa_getTransactionStatus", json_args(to_hex(th)), o, check);
    }

    asio::awaitable<call_result<confirmation>> wait_for_confirmation_impl(hash32 th, milliseconds timeout, call_options) {
        const auto deadline = clock_type::now() + timeout;
        std::optional<std::uint64_t> seen;  // the height the last wait returned
        milliseconds poll = o_.poll_min;
        call_error last{errc::timeout, 0, "not final yet", {}};
        for (;;) {
            if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
            const auto rest = left(deadline);
            if (rest.count() == 0) co_return timed_out(last);
            auto c = co_await get_vote_confirmation_status_impl(th, call_options{rest});
            if (c && (c->state == tx_state::final || c->state == tx_state::dropped)) co_return std::move(*c);
            if (!c && c.error().kind == errc::cancelled) co_return std::move(c.error());
            if (!c) last = c.error();
            else last = {errc::timeout, 0, std::string("still ") + to_string(c->state), c->node};
            const auto wait = left(deadline);
            if (wait.count() == 0) co_return timed_out(last);
            if (!seen) {  // learn the current height first (answers at once)
                auto ev = co_await wait_for_block_impl(0, milliseconds(0), call_options{wait});
                if (ev) seen = ev->height;
                continue;
            }
            auto ev = co_await long_poll(*seen, std::min(wait, o_.long_poll));
            if (ev && *ev) {
                seen = std::max(*seen, (*ev)->height);
                poll = o_.poll_min;
                continue;
            }
            if (!ev && ev.error().kind == errc::cancelled) co_return std::move(ev.error());
            // No long-poll here (or no answer): poll with backoff and jitter.
            co_await sleep_for(std::min(left(deadline), poll));
            poll = std::min(o_.poll_max, poll * 2);
        }
    }

    /// One poa_waitForBlock; an empty optional when the validators cannot long-poll (unknown
    /// method, or too many waiters: -32029).
    asio::awaitable<call_result<std::optional<head_event>>> long_poll(std::uint64_t after, milliseconds wait) {
        const call_options o{wait + o_.attempt_timeout};
        using T = std::optional<head_event>;
        auto check = [this, after](rpc_outcome out, std::size_t i) { return long_poll_check(std::move(out), i, after); };
        co_return co_await query<T>("poa_waitForBlock", json_args(after, wait.count()), o, check, wait + o_.attempt_timeout);
    }

    asio::awaitable<call_result<head_event>> wait_for_block_impl(std::uint64_t after, milliseconds wait, call_options o) {
        auto ev = co_await long_poll(after, wait);
        if (!ev) co_return std::move(ev.error());
        if (*ev) co_return std::move(**ev);
        // Polling: the head now, then every poll interval until it moves or `wait` passes.
        const auto until = clock_type::now() + wait;
        milliseconds poll = o_.poll_min;
        for (;;) {
            auto h = co_await query<std::uint64_t>("eth_blockNumber", {}, o, height_check_);
            if (!h) co_return std::move(h.error());
            if (*h > after || left(until).count() == 0) co_return head_event{*h, {}, *h <= after};
            co_await sleep_for(std::min(poll, left(until)));
            if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
            poll = std::min(o_.poll_max, poll * 2);
        }
    }

    asio::awaitable<call_result<chain_state>> get_blockchain_state_impl(call_options o) {
        using T = chain_state;
        auto check = [this](rpc_outcome out, std::size_t i) { return get_blockchain_state_check(std::move(out), i); };
        co_return co_await query<T>("poa_status", {}, o, check);
    }

    asio::awaitable<call_result<integrity_report>> verify_blockchain_integrity_impl(call_options o) {
        using T = integrity_report;
        auto check = [this](rpc_outcome out, std::size_t i) { return verify_blockchain_integrity_check(std::move(out), i); };
        co_return co_await query<T>("poa_verifyChain", {}, o, check);
    }

    asio::awaitable<call_result<verified_block>> get_block_impl(std::uint64_t height, call_options o) {
        using T = verified_block;
        auto check = [this, height](rpc_outcome out, std::size_t i) { return get_block_check(std::move(out), i, height); };
        co_return co_await query<T>("poa_getRawBlock", json_args(rpc_quantity(height)), o, check);
    }

    asio::awaitable<call_result<tally>> get_election_results_impl(std::uint64_t election, call_options o) {
        using T = tally;
        auto check = [this, election, o](rpc_outcome out, std::size_t i) { return get_election_results_check(std::move(out), i, election, o); };
        co_return co_await query<T>("poa_getResults", json_args(election), o, check);
    }

    asio::awaitable<call_result<std::uint64_t>> sync_follower_impl(std::optional<std::uint64_t> target, call_options o) {
        if (!target) {
            auto h = co_await query<std::uint64_t>("eth_blockNumber", {}, o, height_check_);
            if (!h) co_return std::move(h.error());
            target = *h;
        }
        for (;;) {
            std::uint64_t from = 0;
            {
                std::lock_guard lk(follow_mu_);
                if (follower_->height() >= *target) co_return follower_->height();
                from = follower_->height() + 1;
            }
            const std::uint64_t count = std::min<std::uint64_t>(o_.blocks_per_fetch, *target - from + 1);
            auto blocks = co_await fetch_blocks(from, count, o);
            if (!blocks) co_return std::move(blocks.error());
            bool applied = false;
            {
                std::lock_guard lk(follow_mu_);
                for (const auto& b : *blocks) {
                    if (b.fb.blk.header.height <= follower_->height()) continue;  // another sync got there first
                    if (auto why = follower_->apply(b)) break;                    // cannot happen after fetch_blocks' checks
                    applied = true;
                    if (on_block_) on_block_(b);
                }
                if (applied && !o_.follower_state.empty()) (void)follower_->save(o_.follower_state);
            }
            if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
        }
    }

    /// Blocks from..from+count-1 (at least one), verified and linked to each other and to the
    /// follower's head as it was when asked (poa_getRawBlocks; poa_getRawBlock when a validator
    /// does not know that method).
    asio::awaitable<call_result<std::vector<verified_block>>> fetch_blocks(std::uint64_t from, std::uint64_t count, call_options o) {
        using T = std::vector<verified_block>;
        hash32 parent;
        {
            std::lock_guard lk(follow_mu_);
            parent = follower_->head_hash();
        }
        auto check = [this, from, count, parent](rpc_outcome out, std::size_t i) { return fetch_blocks_check(std::move(out), i, from, count, parent); };
        co_return co_await query<T>("poa_getRawBlocks", json_args(rpc_quantity(from), count), o, check);
    }

    asio::awaitable<call_result<std::vector<node_answer>>> ask_each_impl(std::string method, boost::json::array params,
                                                                        call_options o) {
        const auto deadline = deadline_of(o);
        std::vector<node_answer> out;
        for (std::size_t i : book_.order()) {
            if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
            const auto budget = std::min(left(deadline), o_.attempt_timeout);
            if (budget.count() == 0) break;
            rpc_outcome r = co_await attempt(i, method, params, budget);
            if (!r.answered()) {
                book_.failed(i, r.why);
                continue;
            }
            book_.answered(i);
            out.push_back({book_.info(i).node_id, std::move(r)});
        }
        if (out.empty()) co_return call_error{errc::unreachable, 0, "no validator answered", {}};
        co_return out;
    }

    asio::awaitable<call_result<std::uint64_t>> update_validators_impl(call_options o) {
        const auto deadline = deadline_of(o);
        call_error last{errc::unreachable, 0, "no validator answered", {}};
        if (book_.size() == 0) co_return call_error{errc::no_validators, 0, {}, {}};
        for (std::size_t i : book_.order()) {
            if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
            if (left(deadline).count() == 0) co_return timed_out(last);
            auto l = co_await learn_changes(i);
            const std::string node = book_.info(i).node_id;
            switch (l.k) {
            case learn_outcome::kind::learned:
            case learn_outcome::kind::nothing: co_return verifier()->validators().changes();
            case learn_outcome::kind::unanswered: last = {errc::unreachable, 0, l.why, node}; break;
            case learn_outcome::kind::lied:
                book_.misbehaved(i, l.why);
                last = {errc::misbehaving, 0, l.why, node};
                break;
            }
        }
        co_return last;
    }

    asio::awaitable<call_result<std::size_t>> check_health_impl(call_options) {
        const std::size_t n = book_.size();
        for (std::size_t i = 0; i < n; ++i) {
            if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
            using namespace asio::experimental::awaitable_operators;
            asio::steady_timer timer(co_await asio::this_coro::executor, o_.attempt_timeout);
            auto r = co_await (transport_.async_probe(book_.info(i), o_.attempt_timeout) ||
                               timer.async_wait(asio::as_tuple(asio::use_awaitable)));
            probe_result p;
            if (r.index() == 0) p = std::get<0>(std::move(r));
            else p.detail = "no answer within " + std::to_string(o_.attempt_timeout.count()) + " ms";
            book_.probed(i, std::move(p));
        }
        co_return book_.count(node_status::healthy);
    }

    asio::awaitable<call_result<std::size_t>> monitor_impl(milliseconds interval) {
        for (;;) {
            auto healthy = co_await check_health_impl({});
            (void)healthy;
            if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
            co_await sleep_for(interval);
            if (co_await cancelled()) co_return call_error{errc::cancelled, 0, {}, {}};
        }
    }

    asio::awaitable<call_result<std::uint64_t>> follow_impl() {
        for (;;) {
            auto h = co_await sync_follower_impl(std::nullopt, {});
            if (!h) co_return std::move(h.error());
            auto ev = co_await wait_for_block_impl(*h, o_.long_poll, call_options{o_.long_poll + o_.deadline});
            if (!ev) co_return std::move(ev.error());
        }
    }

    // ---- the checks of each operation's answers ----------------------------------------

    asio::awaitable<verdict<acknowledgement>> submit_vote_check(rpc_outcome out, std::size_t i, hash32 expected) {
        using T = acknowledgement;
        if (out.ok()) {
            auto h = decode_tx_hash(out.value);
            if (!h) co_return verdict<T>::lied("answer does not decode: " + h.error());
            if (*h != expected) co_return verdict<T>::lied("acknowledged hash " + to_hex(*h) + " for transaction " + to_hex(expected));
            co_return verdict<T>::ok(T{*h, book_.info(i).node_id});
        }
        auto e = detail::rpc_failure(out, {});
        if (e.rpc_code == rpc::tx_code::duplicate_tx) co_return verdict<T>::ok(T{expected, book_.info(i).node_id});  // already holds this very tx
        co_return detail::transient_code(e.rpc_code) ? verdict<T>::retry(std::move(e)) : verdict<T>::stop_with(std::move(e));
    }

    asio::awaitable<verdict<std::vector<call_result<acknowledgement>>>> send_votes_check(rpc_outcome out, std::size_t i,
                                                                                       const std::vector<hash32>& expected) {
        using T = std::vector<call_result<acknowledgement>>;
        if (!out.ok()) {
            auto e = detail::rpc_failure(out, {});
            co_return detail::transient_code(e.rpc_code) ? verdict<T>::retry(std::move(e)) : verdict<T>::stop_with(std::move(e));
        }
        const auto* arr = out.value.if_array();
        if (!arr || arr->size() != expected.size())
            co_return verdict<T>::lied("poa_sendRawTransactions: not one answer per vote");
        const std::string node = book_.info(i).node_id;
        T res;
        res.reserve(expected.size());
        for (std::size_t k = 0; k < expected.size(); ++k) {
            const auto* o = (*arr)[k].if_object();
            const auto* h = o ? o->if_contains("hash") : nullptr;
            const auto* err = o ? o->if_contains("error") : nullptr;
            if (h) {
                auto got = decode_tx_hash(*h);
                if (!got || *got != expected[k])
                    co_return verdict<T>::lied("acknowledged another hash for transaction " + to_hex(expected[k]));
                res.emplace_back(acknowledgement{expected[k], node});
                continue;
            }
            const auto* eo = err ? err->if_object() : nullptr;
            const auto* c = eo ? eo->if_contains("code") : nullptr;
            const auto* m = eo ? eo->if_contains("message") : nullptr;
            if (!c || !c->is_int64()) co_return verdict<T>::lied("poa_sendRawTransactions: answer " + std::to_string(k) + " does not decode");
            const std::int64_t code = c->as_int64();
            if (code == rpc::tx_code::duplicate_tx) {  // it already holds this very transaction
                res.emplace_back(acknowledgement{expected[k], node});
                continue;
            }
            std::string msg = m && m->is_string() ? std::string(m->as_string()).substr(0, 512) : std::string("refused");
            res.emplace_back(call_error{errc::rpc_error, code, std::move(msg), node});
        }
        co_return verdict<T>::ok(std::move(res));
    }

    asio::awaitable<verdict<std::optional<receipt>>> get_transaction_receipt_check(rpc_outcome out, std::size_t i, hash32 th) {
        using T = std::optional<receipt>;
        (void)i;
        if (!out.ok()) co_return verdict<T>::refused(out);
        if (out.value.is_null()) co_return verdict<T>::retry({errc::not_found, 0, "not in a final block", {}});
        auto r = decode_tx_proof(out.value);
        if (!r) co_return verdict<T>::lied("proof does not decode: " + r.error());
        if (auto why = co_await check_receipt_learning(i, *r, th)) co_return verdict<T>::lied("forged receipt: " + *why);
        r->node = book_.info(i).node_id;
        co_return verdict<T>::ok(std::move(*r));
    }

    asio::awaitable<verdict<confirmation>> get_vote_confirmation_status_check(rpc_outcome out, std::size_t i, hash32 th) {
        using T = confirmation;
        (void)i;
        if (!out.ok()) co_return verdict<T>::refused(out);
        auto st = decode_tx_status(out.value);
        if (!st) co_return verdict<T>::lied("status does not decode: " + st.error());
        confirmation c;
        c.state = st->state;
        c.node = book_.info(i).node_id;
        if (c.state == tx_state::final) {
            auto p = co_await proven_receipt(i, th);
            if (auto* why = std::get_if<std::string>(&p)) co_return verdict<T>::lied("says final, " + *why);
            c.proof = std::move(std::get<receipt>(p));
        } else if (c.state == tx_state::dropped) {
            const hash32 winner = *st->conflicting_tx;
            auto p = co_await proven_receipt(i, winner);
            if (auto* why = std::get_if<std::string>(&p)) co_return verdict<T>::lied("says dropped for " + to_hex(winner) + ", whose " + *why);
            // The winner must be a vote of the same voter in the same election: compare the two
            // transactions' keys, each checked against its hash.
            auto theirs = co_await vote_key_of(i, winner);
            if (!theirs) co_return verdict<T>::lied("says dropped for " + to_hex(winner) + " but does not show that transaction");
            auto ours = known_vote_key(th);
            if (!ours) ours = co_await vote_key_of(i, th);
            if (!ours) {  // cannot be proven without the vote itself: not reported as dropped
                c.state = tx_state::unknown;
                c.reason = "said dropped for " + to_hex(winner) + "; unproven (the vote itself is unknown here)";
                co_return verdict<T>::ok(std::move(c));
            }
            if (*ours != *theirs) co_return verdict<T>::lied("says dropped for " + to_hex(winner) + ", a vote of another voter or election");
            c.proof = std::move(std::get<receipt>(p));
            c.conflicting_tx = winner;
            c.reason = std::move(st->reason);
        }
        co_return verdict<T>::ok(std::move(c));
    }

    /// (election, voter tag) of transaction `th` as node i shows it (eth_getTransactionByHash's
    /// encoded "input", checked to hash to `th`); nullopt when it does not show it.
    asio::awaitable<std::optional<vote_key>> vote_key_of(std::size_t i, hash32 th) {
        auto out = co_await ask(i, "eth_getTransactionByHash", json_args(to_hex(th)));
        if (!out || !out->ok()) co_return std::nullopt;
        const auto* input = detail::member(out->value, "input");
        if (!input || !input->is_string()) co_return std::nullopt;
        auto raw = from_hex(std::string_view(input->as_string()), 1u << 20);
        if (!raw) co_return std::nullopt;
        auto tx = decode_tx(*raw);
        if (!tx || tx_hash<Suite>(*tx) != th) co_return std::nullopt;
        co_return vote_key{tx->election_id, tx->voter_tag};
    }

    asio::awaitable<verdict<std::optional<head_event>>> long_poll_check(rpc_outcome out, std::size_t i, std::uint64_t after) {
        using T = std::optional<head_event>;
        (void)i;
        if (!out.ok()) {
            auto e = detail::rpc_failure(out, {});
            if (e.rpc_code == rpc::code::method_not_found || e.rpc_code == rpc::code::rate_limited) co_return verdict<T>::ok(std::nullopt);
            co_return detail::transient_code(e.rpc_code) ? verdict<T>::retry(std::move(e)) : verdict<T>::stop_with(std::move(e));
        }
        auto ev = decode_head_event(out.value);
        if (!ev) co_return verdict<T>::lied("wait answer does not decode: " + ev.error());
        if (!ev->timed_out && ev->height <= after) co_return verdict<T>::lied("woke a wait for a block above " + std::to_string(after) + " at height " + std::to_string(ev->height));
        co_return verdict<T>::ok(std::move(*ev));
    }

    asio::awaitable<verdict<chain_state>> get_blockchain_state_check(rpc_outcome out, std::size_t i) {
        using T = chain_state;
        (void)i;
        if (!out.ok()) co_return verdict<T>::refused(out);
        auto s = decode_chain_state(out.value);
        if (!s) co_return verdict<T>::lied("status does not decode: " + s.error());
        s->node = book_.info(i).node_id;
        if (s->chain_id != genesis().chain_id) co_return verdict<T>::lied("is on chain " + std::to_string(s->chain_id));
        auto b = co_await proven_block(i, s->height);
        if (auto* why = std::get_if<std::string>(&b)) co_return verdict<T>::lied("head: " + *why);
        if (std::get<verified_block>(b).hash != s->head_hash)
            co_return verdict<T>::lied("head_hash is not the hash of its certified block " + std::to_string(s->height));
        s->head_verified = true;
        co_return verdict<T>::ok(std::move(*s));
    }

    asio::awaitable<verdict<integrity_report>> verify_blockchain_integrity_check(rpc_outcome out, std::size_t i) {
        using T = integrity_report;
        (void)i;
        if (!out.ok()) co_return verdict<T>::refused(out);
        auto r = decode_integrity(out.value);
        if (!r) co_return verdict<T>::lied("report does not decode: " + r.error());
        r->node = book_.info(i).node_id;
        if (r->verified_height) {
            auto b = co_await proven_block(i, *r->verified_height);
            if (auto* why = std::get_if<std::string>(&b)) co_return verdict<T>::lied("verified prefix: " + *why);
            if (std::get<verified_block>(b).hash != *r->verified_hash)
                co_return verdict<T>::lied("verified_hash is not the hash of its certified block " + std::to_string(*r->verified_height));
            r->verified_hash_certified = true;
        }
        co_return verdict<T>::ok(std::move(*r));
    }

    asio::awaitable<verdict<verified_block>> get_block_check(rpc_outcome out, std::size_t i, std::uint64_t height) {
        using T = verified_block;
        (void)i;
        if (!out.ok()) co_return verdict<T>::refused(out);
        if (out.value.is_null()) co_return verdict<T>::retry({errc::not_found, 0, "no block " + std::to_string(height) + " yet", {}});
        if (!out.value.is_string()) co_return verdict<T>::lied("raw block is not a string");
        auto b = co_await check_raw_block_learning(i, std::string(out.value.as_string()), o_.check_tx_signatures);
        if (!b) co_return verdict<T>::lied("forged block: " + b.error());
        if (b->fb.blk.header.height != height) co_return verdict<T>::lied("answered block " + std::to_string(b->fb.blk.header.height) + " for " + std::to_string(height));
        co_return verdict<T>::ok(std::move(*b));
    }

    asio::awaitable<verdict<tally>> get_election_results_check(rpc_outcome out, std::size_t i, std::uint64_t election, call_options o) {
        using T = tally;
        (void)i;
        if (!out.ok()) co_return verdict<T>::refused(out);
        auto t = decode_tally(out.value);
        if (!t) co_return verdict<T>::lied("results do not decode: " + t.error());
        if (t->election_id != election) co_return verdict<T>::lied("answered election " + std::to_string(t->election_id));
        auto synced = co_await sync_follower_impl(t->height, o);
        if (!synced && synced.error().kind == errc::not_found)
            co_return verdict<T>::lied("answered for height " + std::to_string(t->height) + ", which no validator can show");
        if (!synced) co_return verdict<T>::retry(synced.error());
        tally mine;
        {
            std::lock_guard lk(follow_mu_);
            mine.election_id = election;
            mine.height = follower_->height();
            mine.results = follower_->tally(election);
        }
        for (const auto& [c, n] : mine.results) mine.total += n;
        mine.verified = true;
        if (mine.height == t->height) {
            if (mine.results != t->results) {
                // Candidates with 0 votes may be listed by one side only.
                auto strip = [](tally_map m) { std::erase_if(m, [](const auto& kv) { return kv.second == 0; }); return m; };
                if (strip(mine.results) != strip(t->results))
                    co_return verdict<T>::lied("tally at height " + std::to_string(t->height) + " differs from the verified blocks");
            }
            mine.node = book_.info(i).node_id;
        }
        co_return verdict<T>::ok(std::move(mine));
    }

    asio::awaitable<verdict<std::vector<verified_block>>> fetch_blocks_check(rpc_outcome out, std::size_t i, std::uint64_t from, std::uint64_t count, hash32 parent) {
        using T = std::vector<verified_block>;
        (void)i;
        std::vector<std::string> raws;
        if (!out.ok()) {
            auto e = detail::rpc_failure(out, {});
            if (e.rpc_code != rpc::code::method_not_found)
                co_return detail::transient_code(e.rpc_code) ? verdict<T>::retry(std::move(e)) : verdict<T>::stop_with(std::move(e));
            auto one = co_await ask(i, "poa_getRawBlock", json_args(rpc_quantity(from)));
            if (!one) co_return verdict<T>::retry({errc::unreachable, 0, "no answer", {}});
            if (!one->ok() || !one->value.is_string()) co_return verdict<T>::retry({errc::not_found, 0, "no block " + std::to_string(from), {}});
            raws.emplace_back(one->value.as_string());
        } else {
            const auto* arr = detail::member(out.value, "blocks");
            if (!arr || !arr->is_array() || arr->as_array().size() > count) co_return verdict<T>::lied("raw blocks answer is not {\"blocks\": [at most count]}");
            for (const auto& b : arr->as_array()) {
                if (!b.is_string()) co_return verdict<T>::lied("a raw block is not a string");
                raws.emplace_back(b.as_string());
            }
            if (raws.empty()) co_return verdict<T>::retry({errc::not_found, 0, "no block " + std::to_string(from) + " yet", {}});
        }
        T out_blocks;
        out_blocks.reserve(raws.size());
        hash32 prev = parent;
        for (std::size_t k = 0; k < raws.size(); ++k) {
            auto b = co_await check_raw_block_learning(i, raws[k], o_.check_tx_signatures);
            if (!b) co_return verdict<T>::lied("forged block " + std::to_string(from + k) + ": " + b.error());
            // A change recorded in this block decides heights further on: learn it from the
            // block itself (checked above against the sets known so far), in order.
            learn_from(b->fb);
            const auto& h = b->fb.blk.header;
            if (h.height != from + k) co_return verdict<T>::lied("answered block " + std::to_string(h.height) + " for " + std::to_string(from + k));
            if (h.parent != prev) co_return verdict<T>::lied("block " + std::to_string(h.height) + " does not link to the verified chain");
            prev = b->hash;
            out_blocks.push_back(std::move(*b));
        }
        co_return verdict<T>::ok(std::move(out_blocks));
    }

    /// eth_blockNumber's answer.
    struct height_check {
        asio::awaitable<verdict<std::uint64_t>> operator()(rpc_outcome out, std::size_t) const {
            using V = verdict<std::uint64_t>;
            if (!out.ok()) co_return V::refused(out);
            auto h = out.value.is_string() ? parse_quantity(out.value.as_string()) : std::nullopt;
            if (!h) co_return V::lied("block number is not a 0x-quantity");
            co_return V::ok(*h);
        }
    };

    static constexpr std::size_t max_remembered = 1u << 16;

    /// Remembers the key of a vote this client submitted (the last max_remembered), so a claim
    /// that it was dropped can be checked against the winner's key.
    void remember(const hash32& th, const vote_tx& tx) {
        std::lock_guard lk(keys_mu_);
        if (!keys_.emplace(th, vote_key{tx.election_id, tx.voter_tag}).second) return;
        order_.push_back(th);
        if (order_.size() > max_remembered) {
            keys_.erase(order_.front());
            order_.pop_front();
        }
    }
    std::optional<vote_key> known_vote_key(const hash32& th) const {
        std::lock_guard lk(keys_mu_);
        auto it = keys_.find(th);
        if (it == keys_.end()) return std::nullopt;
        return it->second;
    }

    executor_type ex_;
    Transport transport_;
    node_book<Clock> book_;
    client_options o_;
    std::shared_ptr<const light_verifier<Suite>> anchor_;  ///< the genesis alone (the follower's chain identity)
    mutable std::mutex verifier_mu_;
    std::shared_ptr<const light_verifier<Suite>> verifier_;  ///< anchor_ plus the changes learned; replaced, never changed
    mutable std::mutex follow_mu_;
    std::unique_ptr<follower_type> follower_;
    std::function<void(const verified_block&)> on_block_;
    std::string follower_load_error_;
    height_check height_check_;
    mutable std::mutex keys_mu_;
    std::unordered_map<hash32, vote_key> keys_;
    std::deque<hash32> order_;
};

/// The client over HTTP with the steady clock, for the chain's suite: `verifying_client<ed25519_sha256>`
/// for a production chain (the library names no concrete suite above crypto/).
template <secure_suite Suite>
using verifying_client = basic_client<async_http_transport, steady_clock_adapter, Suite>;

}  // namespace ballotchain::client
