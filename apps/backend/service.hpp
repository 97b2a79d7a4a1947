#pragma once
/// @file The backend service: the seed's REST API over the validator network.
///
/// Voters register and log in (bearer tokens), administrators create elections
/// and candidates, voters submit one vote per election. A vote is signed with
/// the backend's submitter key and recorded durably in SQLite (status
/// 'pending') before anything else; then it goes to a validator through the
/// client pool (load balancing, health, failover). If no validator answers,
/// it is also appended to a local fallback chain and the voter gets the
/// seed's warning. Every status change of a vote after that is the outbox's
/// (outbox.hpp); the replay thread calls its tick().
///
/// The service composes the parts (docs/architecture.md, "Processes"):
/// accounts (auth.hpp), elections (elections.hpp), the outbox and the
/// fallback ledger, group commit, background loops; it keeps configuration,
/// start-up, routing, building and checking a vote, and the results and
/// verification caches.
///
/// A vote is checked against every rule the chain applies to a transaction
/// (from the same genesis) before it is stored, so the validators refuse a
/// stored vote only when they run with another genesis. Such a definitive
/// refusal marks the vote 'rejected' with the reason, and the voter may vote
/// again. Per-client limits (throttle.hpp) guard the endpoints that cost
/// work: register, login, submit, results, verification.

#include "auth.hpp"
#include "elections.hpp"
#include "fallback.hpp"
#include "group_commit.hpp"
#include "http_util.hpp"
#include "loops.hpp"
#include "openapi.hpp"
#include "outbox.hpp"
#include "sqlite_store.hpp"
#include "store_failure.hpp"
#include "throttle.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/client/http_transport.hpp>

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/file.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/hmac.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/crypto/random.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/rpc/http_server.hpp>
#include <ballotchain/rpc/errors.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>

namespace ballotchain::backend {

namespace http = boost::beast::http;
namespace bjson = boost::json;

inline constexpr const char* version = "0.1.0";

struct config {
    std::string data_dir;
    std::string genesis_path;
    std::string submitter_key_path;
    std::vector<client::node_info> validators;
    std::uint64_t session_ttl_ms = 24ull * 3600 * 1000;
    std::size_t max_sessions_per_user = 32;  ///< the oldest are revoked beyond
    unsigned pbkdf2_iterations = 100'000;
    std::uint64_t replay_interval_ms = 1000;
    std::uint64_t resend_after_ms = 15'000;  ///< re-send a submitted vote not final after this long
    std::uint64_t health_interval_ms = 5000;
    std::uint64_t verify_cache_ms = 10'000;   ///< how long a chain verification result is reused
    std::uint64_t results_cache_ms = 2'000;   ///< how long a tally from the validators is reused
    std::chrono::milliseconds rpc_timeout{2000};
    std::string admin_email;     ///< created or updated as administrator at start
    std::string admin_password;  ///< (read from a file by main)

    // Per-client request limits (client = IPv4 address or IPv6 /64), "N per S seconds".
    rate_spec register_limit{10, 60};
    rate_spec login_limit{30, 60};  ///< login and change-password
    rate_spec submit_limit{30, 60};
    rate_spec status_limit{300, 60};  ///< transaction-status
    rate_spec results_limit{120, 60};
    rate_spec verify_limit{10, 60};
    login_throttle::options login_backoff;
};

// ---- the service --------------------------------------------------------------------

class service {
public:
    using pool_type = client::validator_pool<client::http_rpc_transport, steady_clock_adapter>;
    using outbox_type = outbox<client::http_rpc_transport, steady_clock_adapter>;
    using accounts_type = accounts<steady_clock_adapter>;
    using elections_type = elections<steady_clock_adapter>;
    /// The validators' rules, from the same genesis: a vote is checked with them before it is stored.
    using rules_chain = ledger::blockchain<ed25519_sha256, memory_storage>;

    /// Opens (and on first start creates) everything under cfg.data_dir. Throws
    /// std::runtime_error with a clear message when something is unusable.
    explicit service(config cfg)
        : cfg_(std::move(cfg)),
          db_(open_store(cfg_.data_dir)),
          pool_(cfg_.validators, client::http_rpc_transport{cfg_.rpc_timeout}, steady_clock_adapter{}),
          register_limit_(cfg_.register_limit),
          login_limit_(cfg_.login_limit),
          submit_limit_(cfg_.submit_limit),
          status_limit_(cfg_.status_limit),
          results_limit_(cfg_.results_limit),
          verify_limit_(cfg_.verify_limit),
          accounts_(*db_, clock_,
                    {cfg_.pbkdf2_iterations, cfg_.session_ttl_ms, cfg_.max_sessions_per_user, cfg_.login_backoff}) {
        auto g = json::load_genesis_file(cfg_.genesis_path);
        if (!g) throw std::runtime_error(cfg_.genesis_path + ": " + g.error().message());
        genesis_ = *g;
        auto rules = rules_chain::open(genesis_, memory_storage{});
        if (!rules) throw std::runtime_error(cfg_.genesis_path + ": " + rules.error().message());
        rules_.emplace(std::move(*rules));
        auto kp = load_key_file(cfg_.submitter_key_path);
        if (!kp) throw std::runtime_error(cfg_.submitter_key_path + ": " + kp.error().message());
        submitter_ = *kp;
        if (!genesis_.is_submitter(submitter_->public_key()))
            throw std::runtime_error("the submitter key is not an authorized submitter in " + cfg_.genesis_path);
        tag_key_ = load_or_create_secret(cfg_.data_dir + "/voter-tag.secret");
        fallback_.emplace(cfg_.data_dir + "/fallback", genesis_, submitter_->public_key(), clock_.wall_ms());
        outbox_.emplace(*db_, pool_, *fallback_, clock_,
                        outbox_type::options{1000, cfg_.resend_after_ms, 512});
        if (!cfg_.admin_email.empty()) accounts_.ensure_admin(cfg_.admin_email, cfg_.admin_password);
    }

    ~service() { stop(); }

    /// Starts the health and replay threads.
    void start() {
        pool_.check_health();
        loops_.every(cfg_.health_interval_ms, [this] {
            pool_.check_health();
            must(db_->purge_sessions(clock_.wall_ms()));
        });
        loops_.every(cfg_.replay_interval_ms, [this] { replay_once(); });
    }

    void stop() { loops_.stop(); }

    /// The HTTP entry point: never throws. Thread-safe (the server runs it on a pool).
    rpc::http_response handle(const rpc::http_request& req, const rpc::request_info& info) {
        const auto ver = req.version();
        try {
            return route(req, client_key(info.remote));
        } catch (const http_error& e) {
            if (e.status == http::status::too_many_requests) return rpc::too_many_requests(e.retry_after_ms, ver, e.detail);
            return rpc::detail_response(e.status, e.detail, ver);
        } catch (const store_failure& e) {
            spdlog::error("storage: {}", e.what());
            return rpc::detail_response(http::status::internal_server_error, "storage error", ver);
        } catch (const std::exception& e) {
            spdlog::error("{} {}: {}", std::string(req.method_string()), std::string(req.target()), e.what());
            return rpc::detail_response(http::status::internal_server_error, "internal error", ver);
        }
    }

    /// One pass over the outbox (also called by the replay thread). Returns
    /// how many votes changed state.
    std::size_t replay_once() {
        return outbox_->tick([this] { return loops_.stopping(); });
    }

    pool_type& pool() noexcept { return pool_; }

private:
    /// What a chain verification said: by a validator, or (none reachable) of the fallback chain.
    struct verification {
        bool ok = false;
        std::uint64_t wall_ms = 0;
        std::uint64_t blocks_checked = 0;
    };
    // ---- setup ---------------------------------------------------------------------

    /// The backend's database, DATA_DIR/backend.db (created on first start).
    static std::unique_ptr<store> open_store(const std::string& data_dir) {
        std::filesystem::create_directories(data_dir);
        auto s = sqlite_store::open(data_dir + "/backend.db");
        if (!s) throw std::runtime_error(s.error().message);
        return std::move(*s);
    }

    static bytes load_or_create_secret(const std::string& path) {
        if (std::filesystem::exists(path)) {
            auto text = read_file(path, 1024);
            if (!text) throw std::runtime_error(path + ": " + text.error().message());
            auto b = from_hex(std::string_view(*text).substr(0, text->find('\n')), 64);
            if (!b || b->size() != 32) throw std::runtime_error(path + ": not a 32-byte hex secret");
            return *b;
        }
        bytes s(32);
        os_random{}.fill(s);
        if (auto r = write_file_atomic(path, to_hex(s) + "\n", 0600, false); !r)
            throw std::runtime_error(path + ": " + r.error().message());
        return s;
    }

    // ---- routing -------------------------------------------------------------------

    /// Takes one request of `client` from `lim`, or throws 429 with how long to wait.
    void limit(request_limit& lim, const std::string& client, const char* what) {
        if (const auto wait = lim.acquire(client, clock_.now_ms()))
            throw http_error{http::status::too_many_requests,
                             std::string("too many ") + what + " requests from your address; retry later", wait};
    }

    rpc::http_response route(const rpc::http_request& req, const std::string& client) {
        const std::string_view target = req.target();
        const auto q = target.find('?');
        const std::string_view path = target.substr(0, q);
        const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
        const auto m = req.method();
        const auto ver = req.version();
        auto ok = [&](bjson::value v, http::status st = http::status::ok) { return rpc::json_response(st, v, ver); };
        auto need = [&](http::verb want) {
            if (m != want)
                throw http_error{http::status::method_not_allowed,
                                 std::string("use ") + std::string(http::to_string(want))};
        };

        if (path == "/health") {
            need(http::verb::get);
            return ok(health_json());
        }
        if (path == "/openapi.json") {
            need(http::verb::get);
            return ok(openapi(version));
        }
        if (path == "/api/auth/register") {
            need(http::verb::post);
            limit(register_limit_, client, "registration");
            return ok(accounts_.register_user(body_object(req)), http::status::created);
        }
        if (path == "/api/auth/login") {
            need(http::verb::post);
            limit(login_limit_, client, "login");
            return ok(accounts_.login(body_object(req), client));
        }
        if (path == "/api/auth/me") {
            need(http::verb::get);
            return ok(accounts_type::user_json(accounts_.authenticate(req)));
        }
        if (path == "/api/auth/logout") {
            need(http::verb::post);
            return ok(accounts_.logout(req));
        }
        if (path == "/api/auth/logout-all") {
            need(http::verb::post);
            return ok(accounts_.logout_all(req));
        }
        if (path == "/api/auth/change-password") {
            need(http::verb::post);
            limit(login_limit_, client, "login");
            return ok(accounts_.change_password(accounts_.session_of(req).user, body_object(req), client));
        }
        if (path == "/api/elections") {
            if (m == http::verb::get) return ok(elections_.list_elections());
            need(http::verb::post);
            accounts_.require_admin(req);
            return ok(elections_.create_election(body_object(req)), http::status::created);
        }
        if (path.starts_with("/api/elections/")) {
            auto rest = path.substr(std::string_view("/api/elections/").size());
            const auto slash = rest.find('/');
            std::int64_t id = 0;
            const auto ids = rest.substr(0, slash);
            auto [p, ec] = std::from_chars(ids.data(), ids.data() + ids.size(), id);
            if (ec != std::errc{} || p != ids.data() + ids.size() || id <= 0)
                throw http_error{http::status::not_found, "not found"};
            if (slash == std::string_view::npos) {
                need(http::verb::get);
                return ok(elections_.election_json(elections_.load_election(id)));
            }
            if (rest.substr(slash) == "/candidates") {
                need(http::verb::post);
                accounts_.require_admin(req);
                return ok(elections_.add_candidate(id, body_object(req)), http::status::created);
            }
            throw http_error{http::status::not_found, "not found"};
        }
        if (path == "/api/votes/submit") {
            need(http::verb::post);
            limit(submit_limit_, client, "vote");
            return submit_vote(accounts_.authenticate(req), body_object(req), ver);
        }
        if (path == "/api/votes/transaction-status") {
            need(http::verb::get);
            limit(status_limit_, client, "transaction-status");
            return ok(transaction_status(query));
        }
        if (path == "/api/votes/results") {
            need(http::verb::get);
            limit(results_limit_, client, "results");
            return ok(results(query_id(query, "election_id")));
        }
        if (path == "/api/votes/verify-blockchain") {
            need(http::verb::post);
            limit(verify_limit_, client, "verification");
            return ok(verify_blockchain(get_id(body_object(req), "election_id")));
        }
        if (path == "/api/admin/validators/health") {
            need(http::verb::get);
            accounts_.require_admin(req);
            return ok(validators_health());
        }
        if (path == "/api/admin/validators/refresh-status") {
            need(http::verb::post);
            accounts_.require_admin(req);
            pool_.check_health();
            return ok(validators_health());
        }
        throw http_error{http::status::not_found, "not found"};
    }

    bjson::object health_json() {
        std::uint64_t open = 0;
        bjson::object by_status{{to_string(vote_status::pending), 0}, {to_string(vote_status::submitted), 0}};
        for (auto& [st, n] : outbox_->open_counts()) {
            by_status[to_string(st)] = n;
            open += n;
        }
        return {{"status", "ok"},
                {"version", version},
                {"validators_healthy", pool_.count(client::node_status::healthy)},
                {"validators_total", pool_.size()},
                {"outbox", open},
                {"outbox_by_status", std::move(by_status)}};
    }

    // ---- votes ---------------------------------------------------------------------

    hash32 voter_tag(std::int64_t election, std::int64_t user) const {
        bytes m;
        const std::string_view dom = "ballotchain/backend-voter";
        m.insert(m.end(), dom.begin(), dom.end());
        wire::writer w(m);
        w.u64(static_cast<std::uint64_t>(election));
        w.u64(static_cast<std::uint64_t>(user));
        return hmac_sha256::mac(tag_key_, m);
    }

    /// Every check of a vote happens before it is stored (a stored vote holds the voter's one
    /// place until the chain counts it or refuses it): the request, the election and
    /// candidate, and every rule the chain applies to a transaction, from our genesis.
    rpc::http_response submit_vote(const user_row& u, const bjson::object& b, unsigned ver) {
        const auto election_id = get_id(b, "election_id");
        const auto candidate_id = get_id(b, "candidate_id");
        const std::size_t max_vote = genesis_.max_encrypted_vote_bytes;
        const std::size_t max_b64 = (max_vote + 2) / 3 * 4;
        const auto ev = get_string(b, "encrypted_vote", 0, limits::max_encrypted_vote_bytes / 3 * 4 + 8, std::string());
        if (ev.size() > max_b64)
            throw http_error{http::status::unprocessable_entity,
                             "encrypted_vote is too large: at most " + std::to_string(max_vote) +
                                 " bytes (the chain's max_encrypted_vote_bytes), " + std::to_string(max_b64) +
                                 " base64 characters"};
        auto payload = app::decode_base64(ev, max_vote);
        if (!payload) throw http_error{http::status::unprocessable_entity, "encrypted_vote must be padded base64"};
        const auto e = elections_.load_election(election_id);
        const auto now = clock_.wall_ms();
        if (now < e.start_ms || now >= e.end_ms) throw http_error{http::status::bad_request, "the election is not open"};

        vote_tx tx;
        tx.chain_id = genesis_.chain_id;
        tx.election_id = static_cast<std::uint64_t>(election_id);
        tx.candidate_id = static_cast<std::uint64_t>(candidate_id);
        tx.encrypted_vote = std::move(*payload);
        tx.voter_tag = voter_tag(election_id, u.id);
        tx.timestamp_ms = now;
        vote_row v;
        v.user_id = u.id;
        v.election_id = election_id;
        v.candidate_id = candidate_id;
        v.tx_hash = sign_tx<ed25519_sha256>(tx, *submitter_);
        v.ballot_hash = to_hex(sha256::hash(tx.encrypted_vote)).substr(2);
        v.raw_tx = encode(tx);
        v.created_ms = now;
        v.status = to_string(vote_status::pending);  // as add_votes stores it
        bool found = false;
        for (const auto& c : must(db_->candidates(election_id))) found = found || c.id == candidate_id;
        if (!found) throw http_error{http::status::unprocessable_entity, "candidate_id is not a candidate of this election"};
        if (auto mine = must(db_->vote_by_user(u.id, election_id)))
            throw http_error{http::status::conflict, "you have already voted in this election (transaction " +
                                                         to_hex(mine->tx_hash) + ", " + mine->status + ")"};
        const std::optional<vote_row> earlier = must(db_->last_rejected_vote(u.id, election_id));
        if (auto r = rules_->check_tx_stateless(tx); !r) {
            // Our own configuration cannot make a valid transaction; store nothing.
            spdlog::error("vote of user {} fails the chain's rules before storing: {}", u.id, r.error().message());
            throw http_error{http::status::internal_server_error,
                             "the backend cannot make a valid transaction: " + r.error().message()};
        }
        auto id = commit_.record(v);  // durable (synchronous=FULL) before anything leaves
        if (!id) throw http_error{http::status::conflict, "you have already voted in this election"};
        v.id = *id;
        bjson::object out{{"id", v.id},
                          {"transaction_id", to_hex(v.tx_hash)},
                          {"ballot_hash", v.ballot_hash},
                          {"timestamp", app::iso_time(now)}};
        if (earlier)  // this vote replaces one the chain refused
            out["previous_attempt"] = bjson::object{{"transaction_id", to_hex(earlier->tx_hash)},
                                                    {"status", to_string(vote_status::rejected)},
                                                    {"detail", earlier->detail}};
        const auto sent = outbox_->submit(v);
        if (sent.st == send_result::state::submitted) {
            out["status"] = to_string(vote_status::submitted);
            out["validator"] = sent.node;
            out["block_hash"] = nullptr;
            return rpc::json_response(http::status::ok, out, ver);
        }
        if (sent.st == send_result::state::rejected)  // the voter's place is free again: say so, and which vote it was
            return rpc::json_response(
                http::status::service_unavailable,
                bjson::object{{"detail", "the validators refused the vote (" + sent.detail +
                                             "); it was not counted and you may vote again"},
                              {"transaction_id", to_hex(v.tx_hash)},
                              {"status", to_string(vote_status::rejected)}},
                ver);
        if (sent.st == send_result::state::queued) {  // a validator's pool is full: queued here, sent later
            out["status"] = to_string(vote_status::pending);
            out["validator"] = sent.node;
            out["source"] = "outbox";
            return rpc::json_response(http::status::ok, out, ver);
        }
        // No validator answered: the vote is safe in the outbox (and on the fallback chain).
        out["status"] = to_string(vote_status::pending);
        out["source"] = "fallback_chain";
        out["warning"] = "Vote recorded in local blockchain (PoA validators unreachable)";
        return rpc::json_response(http::status::ok, out, ver);
    }

    bjson::object transaction_status(std::string_view query) {
        const auto tid = app::query_param(query, "transaction_id");
        if (!tid) throw http_error{http::status::unprocessable_entity, "transaction_id is required"};
        auto th = from_hex_fixed<32>(*tid);
        if (!th) throw http_error{http::status::unprocessable_entity, "transaction_id must be a 0x-prefixed 32-byte hex hash"};
        std::optional<std::int64_t> election;
        if (app::query_param(query, "election_id")) election = query_id(query, "election_id");
        std::optional<vote_row> v = must(db_->vote_by_tx(*th));
        if (v && election && v->election_id != *election) v.reset();
        bjson::object out{{"transaction_id", to_hex(*th)}, {"gas_used", "0x0"}};
        const auto st = v ? status_of(*v) : vote_status::pending;
        if (!v || st != vote_status::confirmed) {
            const auto r = outbox_->lookup_receipt(*th);
            if (!v) {  // not one of ours: what the validators say
                if (r.st == receipt_info::state::unreachable)
                    throw http_error{http::status::service_unavailable, "no validator reachable"};
                if (r.st != receipt_info::state::confirmed) throw http_error{http::status::not_found, "transaction not found"};
                out["status"] = to_string(vote_status::confirmed);
                out["confirmed"] = true;
                out["block_number"] = r.block;
                out["block_hash"] = r.block_hash;
                out["source"] = "poa_validators";
                return out;
            }
            if (r.st == receipt_info::state::confirmed) {
                outbox_->confirm(*v, r);  // the lookup found it final: record that
                v->status = to_string(vote_status::confirmed);
                v->block_number = r.block;
                v->block_hash = r.block_hash;
            }
        }
        out["status"] = v->status;
        out["confirmed"] = status_of(*v) == vote_status::confirmed;
        out["election_id"] = v->election_id;
        if (v->block_number) out["block_number"] = *v->block_number; else out["block_number"] = nullptr;
        if (!v->block_hash.empty()) out["block_hash"] = v->block_hash; else out["block_hash"] = nullptr;
        out["validator"] = v->validator;
        out["source"] = status_of(*v) == vote_status::pending && v->fallback ? "fallback_chain" : "poa_validators";
        if (status_of(*v) == vote_status::rejected) out["detail"] = v->detail;
        return out;
    }

    /// Chain verification by a validator (poa_verifyChain), reused for verify_cache_ms;
    /// at most one runs at a time and concurrent callers share it. nullopt when no
    /// validator gave a usable answer.
    std::optional<single_flight<int, verification>::cached> chain_verification() {
        return verify_cache_.get(0, clock_.now_ms(), cfg_.verify_cache_ms, [this]() -> std::optional<verification> {
            auto a = pool_.call("poa_verifyChain", {});
            if (!a.outcome.ok() || !a.outcome.value.is_object()) return std::nullopt;
            const auto& o = a.outcome.value.as_object();
            const auto* okv = o.if_contains("ok");
            const auto* blocks = o.if_contains("blocks_checked");
            boost::system::error_code ec;
            return verification{okv && okv->is_bool() && okv->as_bool(), clock_.wall_ms(),
                                blocks && blocks->is_number() ? blocks->to_number<std::uint64_t>(ec) : 0};
        });
    }

    /// The validators' tally of an election (poa_getResults), reused for
    /// results_cache_ms, one lookup per election at a time. Throws 502/503.
    bjson::object chain_tally(std::int64_t election_id) {
        std::optional<http_error> failure;
        auto r = results_cache_.get(election_id, clock_.now_ms(), cfg_.results_cache_ms,
                                    [&]() -> std::optional<bjson::object> {
                                        auto a = pool_.call("poa_getResults", bjson::array{election_id});
                                        if (!a.outcome.answered())
                                            failure = http_error{http::status::service_unavailable, "no validator reachable"};
                                        else if (!a.outcome.ok() || !a.outcome.value.is_object())
                                            failure = http_error{http::status::bad_gateway,
                                                                 "validator error: " + bjson::serialize(a.outcome.value)};
                                        else
                                            return a.outcome.value.as_object();
                                        return std::nullopt;
                                    });
        if (r) return r->value;
        if (failure) throw *failure;
        throw http_error{http::status::service_unavailable, "no validator answered with the results"};
    }

    bjson::object results(std::int64_t election_id) {
        const auto e = elections_.load_election(election_id);
        const auto r = chain_tally(election_id);
        const auto* tally = r.if_contains("results");
        const std::vector<candidate_row> cands = must(db_->candidates(election_id));
        std::uint64_t total = 0;
        std::map<std::int64_t, std::uint64_t> counts;
        if (tally && tally->is_object())
            for (const auto& [k, v] : tally->as_object()) {
                std::int64_t cid = 0;
                auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), cid);
                boost::system::error_code jec;
                const auto n = v.to_number<std::uint64_t>(jec);
                if (ec != std::errc{} || p != k.data() + k.size() || jec) continue;
                counts[cid] += n;
                total += n;
            }
        bjson::array rows;
        for (const auto& c : cands) {
            const auto n = counts.count(c.id) ? counts[c.id] : 0;
            rows.push_back(bjson::object{{"candidate_id", c.id},
                                         {"candidate_name", c.name},
                                         {"vote_count", n},
                                         {"percentage", total ? std::round(10000.0 * double(n) / double(total)) / 100.0 : 0.0}});
        }
        bjson::object out{{"election_id", election_id},
                          {"election_name", e.name},
                          {"total_votes", total},
                          {"results", std::move(rows)},
                          {"block_height", r.contains("height") ? r.at("height") : bjson::value(nullptr)}};
        auto ver = chain_verification();
        out["verification"] =
            bjson::object{{"chain_valid", ver ? bjson::value(ver->value.ok) : bjson::value(nullptr)},
                          {"timestamp", ver ? bjson::value(app::iso_time(ver->value.wall_ms)) : bjson::value(nullptr)}};
        return out;
    }

    /// The cached verification (see chain_verification) with the election's tally; with no
    /// validator reachable, a verification of the local fallback chain, cached the same way.
    bjson::object verify_blockchain(std::int64_t election_id) {
        (void)elections_.load_election(election_id);
        if (auto v = chain_verification()) {
            std::uint64_t total = 0;
            bjson::value height = nullptr;
            try {
                const auto r = chain_tally(election_id);
                boost::system::error_code ec;
                if (const auto* t = r.if_contains("total_votes"); t && t->is_number()) total = t->to_number<std::uint64_t>(ec);
                if (const auto* h = r.if_contains("height"); h && h->is_number()) height = *h;
            } catch (const http_error&) {  // verified a moment ago, no tally now: the counts stay unknown
            }
            return {{"election_id", election_id},
                    {"chain_valid", v->value.ok},
                    {"total_blocks", height},
                    {"total_votes", total},
                    {"status", v->value.ok ? "valid" : "invalid"},
                    {"source", "poa_validators"},
                    {"timestamp", app::iso_time(v->value.wall_ms)}};
        }
        // No validator: verify what this backend holds, the fallback chain.
        const auto fv = fallback_verify_cache_.get(0, clock_.now_ms(), cfg_.verify_cache_ms, [this] {
            const auto rep = fallback_->verify();
            return std::optional<verification>(verification{rep.ok, clock_.wall_ms(), rep.blocks_checked});
        });
        const std::uint64_t total = fallback_->total_votes(static_cast<std::uint64_t>(election_id));
        const std::uint64_t blocks = fallback_->height();
        const bool ok = fv && fv->value.ok;
        return {{"election_id", election_id},
                {"chain_valid", ok},
                {"total_blocks", blocks},
                {"total_votes", total},
                {"status", ok ? "valid" : "invalid"},
                {"source", "fallback_chain"},
                {"timestamp", app::iso_time(fv ? fv->value.wall_ms : clock_.wall_ms())},
                {"warning", "PoA validators unreachable: verified the local fallback chain only"}};
    }

    bjson::object validators_health() {
        bjson::array vs;
        std::size_t healthy = 0;
        const auto snap = pool_.snapshot();
        for (const auto& n : snap) {
            if (n.status == client::node_status::healthy) ++healthy;
            vs.push_back(bjson::object{{"node_id", n.info.node_id},
                                       {"rpc_url", n.info.rpc_url},
                                       {"p2p_url", n.info.p2p_url},
                                       {"status", client::to_string(n.status)},
                                       {"block_height", n.height},
                                       {"detail", n.detail}});
        }
        const double pct = snap.empty() ? 0.0 : std::round(10000.0 * double(healthy) / double(snap.size())) / 100.0;
        return {{"timestamp", app::iso_time(clock_.wall_ms())},
                {"validators", std::move(vs)},
                {"summary", bjson::object{{"healthy", healthy}, {"total", snap.size()}, {"health_percentage", pct}}}};
    }

    config cfg_;
    std::unique_ptr<store> db_;  ///< thread-safe: each operation locks (store.hpp)
    pool_type pool_;
    steady_clock_adapter clock_;
    genesis_config genesis_;
    std::optional<ed25519::key_pair> submitter_;
    bytes tag_key_;
    group_commit commit_{*db_};  ///< new votes, many per durable transaction
    std::optional<fallback_ledger> fallback_;
    std::optional<outbox_type> outbox_;  ///< every status change of a vote happens here

    request_limit register_limit_, login_limit_, submit_limit_, status_limit_, results_limit_, verify_limit_;
    accounts_type accounts_;  ///< users, sessions, the login throttle
    elections_type elections_{*db_, clock_};
    std::optional<rules_chain> rules_;

    single_flight<int, verification> verify_cache_{2};
    single_flight<int, verification> fallback_verify_cache_{2};
    /// poa_getResults per election.
    single_flight<std::int64_t, bjson::object> results_cache_{1024};

    background_loops loops_;  ///< last: its threads use everything above
};

}  // namespace ballotchain::backend
