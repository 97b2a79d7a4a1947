#pragma once
/// @file Elections and their candidates: the administrator creates them, everyone
/// reads them (docs/backend.md, "Endpoints").

#include "http_util.hpp"
#include "store.hpp"
#include "store_failure.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/core/clock.hpp>

#include <cstdint>
#include <vector>

namespace ballotchain::backend {

/// Elections over the store.
///
/// @tparam Clock a `clock`: wall time decides whether an election is open
///
/// @par Thread safety
/// Every member may be called from any thread (the store locks per operation).
template <clock Clock>
class elections {
public:
    elections(store& db, const Clock& clock) : db_(db), clock_(clock) {}

    /// The API's JSON of an election, with its candidates and whether it is open now.
    bjson::object election_json(const election_row& e) {
        const std::vector<candidate_row> cands = must(db_.candidates(e.id));
        bjson::array cs;
        for (const auto& c : cands) cs.push_back(bjson::object{{"id", c.id}, {"name", c.name}, {"description", c.description}});
        const auto now = clock_.wall_ms();
        return {{"id", e.id},
                {"name", e.name},
                {"description", e.description},
                {"start_date", app::iso_time(e.start_ms)},
                {"end_date", app::iso_time(e.end_ms)},
                {"is_active", e.start_ms <= now && now < e.end_ms},
                {"candidates", std::move(cs)}};
    }

    /// The election, or 404.
    election_row load_election(std::int64_t id) {
        auto e = must(db_.election(id));
        if (!e) throw http_error{http::status::not_found, "election not found"};
        return *e;
    }

    bjson::array list_elections() {
        const std::vector<election_row> es = must(db_.elections());
        bjson::array out;
        for (const auto& e : es) out.push_back(election_json(e));
        return out;
    }

    static candidate_row candidate_of(const bjson::value& v) {
        if (!v.is_object()) throw http_error{http::status::unprocessable_entity, "a candidate must be an object"};
        const auto& o = v.as_object();
        return {0, 0, get_string(o, "name", 1, 200), get_string(o, "description", 0, 2000, std::string())};
    }

    bjson::object create_election(const bjson::object& b) {
        election_row e;
        e.name = get_string(b, "name", 1, 200);
        e.description = get_string(b, "description", 0, 4000, std::string());
        e.created_ms = clock_.wall_ms();
        auto when = [&](const char* k, std::uint64_t dflt) {
            const auto s = get_string(b, k, 1, 40, std::string());
            if (s.empty()) return dflt;
            auto t = app::parse_iso_time(s);
            if (!t) throw http_error{http::status::unprocessable_entity, std::string(k) + " must be YYYY-MM-DDTHH:MM:SSZ"};
            return *t;
        };
        e.start_ms = when("start_date", e.created_ms);
        e.end_ms = when("end_date", e.created_ms + 30ull * 24 * 3600 * 1000);
        if (e.end_ms <= e.start_ms) throw http_error{http::status::unprocessable_entity, "end_date must be after start_date"};
        std::vector<candidate_row> cands;
        if (const auto* cs = b.if_contains("candidates")) {
            if (!cs->is_array() || cs->as_array().size() > 1000)
                throw http_error{http::status::unprocessable_entity, "candidates must be an array of at most 1000"};
            for (const auto& c : cs->as_array()) cands.push_back(candidate_of(c));
        }
        const auto id = must(db_.add_election(e, cands));
        if (!id) throw http_error{http::status::conflict, "two candidates have the same name"};
        return election_json(load_election(*id));
    }

    bjson::object add_candidate(std::int64_t election, const bjson::object& b) {
        (void)load_election(election);
        auto c = candidate_of(b);
        auto id = must(db_.add_candidate(election, c));
        if (!id) throw http_error{http::status::conflict, "the election already has a candidate of that name"};
        return {{"id", *id}, {"election_id", election}, {"name", c.name}, {"description", c.description}};
    }

private:
    store& db_;
    const Clock& clock_;
};

}  // namespace ballotchain::backend
