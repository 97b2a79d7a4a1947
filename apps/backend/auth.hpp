#pragma once
/// @file Accounts and sessions: registration, login under the login throttle,
/// password changes, bearer tokens, the administrator account
/// (docs/backend.md, "Accounts" and "Limits per client").

#include "account_rules.hpp"
#include "http_util.hpp"
#include "store.hpp"
#include "store_failure.hpp"
#include "throttle.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/hmac.hpp>
#include <ballotchain/crypto/random.hpp>
#include <ballotchain/crypto/sha256.hpp>
#include <ballotchain/rpc/http_server.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace ballotchain::backend {

/// Users and their sessions over the store, with the failed-login throttle.
///
/// @tparam Clock a `clock`: wall time for session expiry, monotonic time for the throttle
///
/// @par Thread safety
/// Every member may be called from any thread: the store and the throttle
/// lock per operation.
template <clock Clock>
class accounts {
public:
    struct options {
        unsigned pbkdf2_iterations = 100'000;
        std::uint64_t session_ttl_ms = 24ull * 3600 * 1000;
        std::size_t max_sessions_per_user = 32;  ///< the oldest are revoked beyond
        login_throttle::options login_backoff;
    };

    accounts(store& db, const Clock& clock, options opt)
        : db_(db), clock_(clock), opt_(opt), throttle_(opt.login_backoff) {}

    /// A session: its user and the hash of its token.
    struct session {
        user_row user;
        hash32 token_hash;
    };

    /// Revokes the request's session; 401 without one.
    bjson::object logout(const rpc::http_request& req) {
        const auto s = session_of(req);
        must(db_.delete_session(s.token_hash));
        return {{"status", "logged out"}, {"sessions_revoked", 1}};
    }

    /// Revokes every session of the request's user; 401 without a session.
    bjson::object logout_all(const rpc::http_request& req) {
        const auto s = session_of(req);
        const std::uint64_t n = must(db_.delete_user_sessions(s.user.id));
        return {{"status", "logged out"}, {"sessions_revoked", n}};
    }

    /// The API's JSON of a user.
    static bjson::object user_json(const user_row& u) {
        return {{"id", u.id}, {"email", u.email}, {"full_name", u.full_name}, {"is_admin", u.is_admin}};
    }

    bjson::object register_user(const bjson::object& b) {
        user_row u;
        u.email = app::lower(get_string(b, "email", 0, 254));
        if (auto why = email_problem(u.email)) throw http_error{http::status::unprocessable_entity, *why};
        const auto pw = get_string(b, "password", 0, 512);
        if (auto why = password_problem(pw, u.email)) throw http_error{http::status::unprocessable_entity, *why};
        u.full_name = get_string(b, "full_name", 0, 200, std::string());
        if (must(db_.user_by_email(u.email))) throw http_error{http::status::conflict, "email already registered"};
        u.salt = random_bytes(16);
        u.pw_hash = hmac_sha256::pbkdf2(pw, u.salt, opt_.pbkdf2_iterations);
        auto id = must(db_.add_user(u, clock_.wall_ms()));
        if (!id) throw http_error{http::status::conflict, "email already registered"};
        u.id = *id;
        return user_json(u);
    }

    /// Checks `password` for account `email` on behalf of `client`, under the login
    /// throttle: the attempt is reserved before the (costly) hash, so parallel guesses
    /// count. Returns the user when the password is right; throws 401 or 429.
    ///
    /// The failures are also counted in the database, so that backends sharing it (the
    /// PostgreSQL model) throttle together: a guesser whose requests a load balancer spreads
    /// over N instances gets no more attempts than against one (at most N − 1 more in flight
    /// at the moment the limit is reached).
    user_row check_password(const std::string& email, const std::string& password, const std::string& client) {
        const auto pair_key = shared_key("account", client, email), client_key = shared_key("client", client, {});
        const auto wall = clock_.wall_ms();
        if (const auto until = must(db_.login_blocked_until(pair_key, client_key)); until > wall)
            throw http_error{http::status::too_many_requests,
                             "too many failed logins for this account from your address; retry later", until - wall};
        if (const auto wait = throttle_.begin(client, email, clock_.now_ms()))
            throw http_error{http::status::too_many_requests,
                             "too many failed logins for this account from your address; retry later", wait};
        bool decided = false;
        try {
            const std::optional<user_row> u = must(db_.user_by_email(email));
            const bytes salt = u ? u->salt : bytes(16, 0);
            const bytes h = hmac_sha256::pbkdf2(password, salt, opt_.pbkdf2_iterations);  // unknown emails too: same time
            const bool right = u && hmac_sha256::equal_ct(h, u->pw_hash);
            decided = true;
            throttle_.finish(client, email, clock_.now_ms(), !right);
            record_shared(pair_key, client_key, !right);
            if (!right) throw http_error{http::status::unauthorized, "incorrect email or password"};
            return *u;
        } catch (...) {
            if (!decided) throttle_.cancel(client, email, clock_.now_ms());
            throw;
        }
    }

    /// Counts a decided attempt in the database (check_password): a failure under both keys,
    /// with the wait the throttle's table gives; a success clears the account's key only.
    void record_shared(const std::string& pair_key, const std::string& client_key, bool failed) {
        const auto& o = opt_.login_backoff;
        if (!failed) {
            must(db_.clear_login_failures(pair_key));
            return;
        }
        const auto now = clock_.wall_ms();
        for (const auto& [key, free] : {std::pair{pair_key, o.free_failures}, std::pair{client_key, o.client_free_failures}}) {
            const auto n = must(db_.add_login_failure(key, now, o.forget_ms));
            if (const auto wait = throttle_.wait_after(n, free)) must(db_.block_login(key, now + wait));
        }
    }

    /// The database key of a login-failure record: a hash, so no address or email is stored.
    static std::string shared_key(std::string_view kind, const std::string& client, const std::string& email) {
        std::string k(kind);
        k += '\n';
        k += client;
        k += '\n';
        k += email;
        return to_hex(sha256::hash(to_bytes(k))).substr(2);
    }

    /// A new session for `u`: the login answer.
    bjson::object new_session(const user_row& u) {
        const bytes token = random_bytes(32);
        const std::string token_hex = to_hex(token).substr(2);
        must(db_.add_session(sha256::hash(token), u.id, clock_.wall_ms() + opt_.session_ttl_ms,
                              opt_.max_sessions_per_user));
        return {{"access_token", token_hex},
                {"token_type", "bearer"},
                {"expires_in", opt_.session_ttl_ms / 1000},
                {"user", user_json(u)}};
    }

    bjson::object login(const bjson::object& b, const std::string& client) {
        const auto email = app::lower(get_string(b, "email", 1, 254));
        const auto pw = get_string(b, "password", 1, 512);
        return new_session(check_password(email, pw, client));
    }

    /// Sets a new password (after checking the current one, throttled like a login),
    /// revokes every session of the user, and answers with a fresh one.
    bjson::object change_password(const user_row& u, const bjson::object& b, const std::string& client) {
        const auto current = get_string(b, "current_password", 1, 512);
        const auto next = get_string(b, "new_password", 0, 512);
        if (auto why = password_problem(next, u.email)) throw http_error{http::status::unprocessable_entity, *why};
        (void)check_password(u.email, current, client);
        const bytes salt = random_bytes(16);
        const bytes h = hmac_sha256::pbkdf2(next, salt, opt_.pbkdf2_iterations);
        must(db_.set_password(u.id, {salt, h, false, true}));
        return new_session(u);
    }

    /// The session of the request's bearer token, or 401.
    session session_of(const rpc::http_request& req) {
        const auto it = req.find(http::field::authorization);
        if (it == req.end()) throw http_error{http::status::unauthorized, "not authenticated"};
        std::string_view v = it->value();
        constexpr std::string_view scheme = "Bearer ";
        if (v.size() <= scheme.size() || app::lower(std::string(v.substr(0, scheme.size()))) != "bearer ")
            throw http_error{http::status::unauthorized, "expected Authorization: Bearer <token>"};
        if (v.size() != scheme.size() + 64) throw http_error{http::status::unauthorized, "invalid token"};
        auto token = from_hex("0x" + std::string(v.substr(scheme.size())), 32);
        if (!token || token->size() != 32) throw http_error{http::status::unauthorized, "invalid token"};
        const hash32 th = sha256::hash(*token);
        auto u = must(db_.user_by_session(th, clock_.wall_ms()));
        if (!u) throw http_error{http::status::unauthorized, "invalid or expired token"};
        return {*u, th};
    }

    user_row authenticate(const rpc::http_request& req) { return session_of(req).user; }

    user_row require_admin(const rpc::http_request& req) {
        auto u = authenticate(req);
        if (!u.is_admin) throw http_error{http::status::forbidden, "administrators only"};
        return u;
    }

    /// Creates the administrator, or makes the account one and sets its password;
    /// a changed password revokes the account's sessions.
    void ensure_admin(const std::string& admin_email, const std::string& admin_password) {
        const auto email = app::lower(admin_email);
        if (auto why = email_problem(email)) throw std::runtime_error("--admin-email: " + *why);
        if (auto why = password_problem(admin_password, email)) throw std::runtime_error("the admin password: " + *why);
        user_row u{0, email, "Administrator", random_bytes(16), {}, true};
        u.pw_hash = hmac_sha256::pbkdf2(admin_password, u.salt, opt_.pbkdf2_iterations);
        if (auto existing = must(db_.user_by_email(u.email))) {
            const bool same = hmac_sha256::equal_ct(
                hmac_sha256::pbkdf2(admin_password, existing->salt, opt_.pbkdf2_iterations), existing->pw_hash);
            must(db_.set_password(existing->id, {u.salt, u.pw_hash, true, !same}));
        } else {
            must(db_.add_user(u, clock_.wall_ms()));
        }
    }

    static bytes random_bytes(std::size_t n) {
        bytes b(n);
        os_random{}.fill(b);
        return b;
    }

private:
    store& db_;
    const Clock& clock_;
    options opt_;
    login_throttle throttle_;
};

}  // namespace ballotchain::backend
