#pragma once
/// @file Elections and their candidates: the administrator creates them, everyone
/// reads them (docs/backend.md, "Endpoints"). An election takes plain votes (the
/// seed's) or secret ballots (`"ballot": "encrypted"`): then its definition goes on
/// the chain (secret_ballots.hpp publishes it), the validators make its key before
/// the start, and its candidates are fixed. On a chain whose genesis sets
/// elections_defined, a plain election's definition goes on the chain too, with its
/// candidates fixed likewise.

#include "http_util.hpp"
#include "store.hpp"
#include "store_failure.hpp"

#include <ballotchain/app/text.hpp>
#include <ballotchain/chain/election.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/core/hex.hpp>

#include <algorithm>

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
    /// What the chain's genesis allows an encrypted election.
    struct options {
        std::uint32_t threshold = 2;            ///< trustees that decrypt: the genesis's quorum
        std::size_t max_encrypted_candidates = 20;  ///< a ballot must fit max_encrypted_vote_bytes
        /// The genesis's elections_defined: a plain election's definition goes on the chain too
        /// (its candidates are then fixed when it is created, as an encrypted election's).
        bool define_plain = false;
        std::size_t max_record_bytes = 4096;  ///< the genesis's max_encrypted_vote_bytes: a definition must fit
    };

    elections(store& db, const Clock& clock, options opt = {}) : db_(db), clock_(clock), opt_(opt) {}

    /// The API's JSON of an election, with its candidates and whether it is open now.
    bjson::object election_json(const election_row& e) {
        const std::vector<candidate_row> cands = must(db_.candidates(e.id));
        bjson::array cs;
        for (const auto& c : cands) cs.push_back(bjson::object{{"id", c.id}, {"name", c.name}, {"description", c.description}});
        const auto now = clock_.wall_ms();
        bjson::object out{{"id", e.id},
                          {"name", e.name},
                          {"description", e.description},
                          {"start_date", app::iso_time(e.start_ms)},
                          {"end_date", app::iso_time(e.end_ms)},
                          {"is_active", e.start_ms <= now && now < e.end_ms},
                          {"ballot", to_string(e.ballot)},
                          {"candidates", std::move(cs)}};
        if (e.ballot == ballot_kind::plain && e.chain != definition_status::none) {
            out["definition"] = to_string(e.chain);
            if (!e.chain_detail.empty()) out["definition_detail"] = e.chain_detail;
        }
        if (e.ballot == ballot_kind::encrypted) {
            bjson::object k;
            k["deadline"] = app::iso_time(e.key_deadline_ms);
            k["threshold"] = e.threshold;
            k["definition"] = to_string(e.chain);
            if (!e.chain_detail.empty()) k["detail"] = e.chain_detail;
            if (e.election_key.size() == 32) k["election_key"] = to_hex(e.election_key); else k["election_key"] = nullptr;
            out["key_ceremony"] = std::move(k);
        }
        return out;
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
        const auto ballot = parse_ballot_kind(get_string(b, "ballot", 1, 16, std::string("plain")));
        if (!ballot) throw http_error{http::status::unprocessable_entity, "ballot must be \"plain\" or \"encrypted\""};
        e.ballot = *ballot;
        std::uint64_t earliest_start = 0;
        if (e.ballot == ballot_kind::encrypted) {
            // The validators make the key before the start: by the key deadline.
            const auto secs = get_count(b, "key_ceremony_seconds", 1, 86'400, 60);
            e.key_deadline_ms = (e.created_ms + secs * 1000 + 999) / 1000 * 1000;  // a whole second, as dates are
            e.threshold = opt_.threshold;
            e.chain = definition_status::pending;
            earliest_start = e.key_deadline_ms;
        } else if (b.contains("key_ceremony_seconds")) {
            throw http_error{http::status::unprocessable_entity, "key_ceremony_seconds is for encrypted elections"};
        }
        e.start_ms = when("start_date", std::max(e.created_ms, earliest_start));
        if (e.start_ms < earliest_start)
            throw http_error{http::status::unprocessable_entity,
                             "start_date must leave the validators key_ceremony_seconds to make the election key: at "
                             "or after " + app::iso_time(earliest_start)};
        e.end_ms = when("end_date", e.start_ms + 30ull * 24 * 3600 * 1000);
        if (e.end_ms <= e.start_ms) throw http_error{http::status::unprocessable_entity, "end_date must be after start_date"};
        std::vector<candidate_row> cands;
        if (const auto* cs = b.if_contains("candidates")) {
            if (!cs->is_array() || cs->as_array().size() > 1000)
                throw http_error{http::status::unprocessable_entity, "candidates must be an array of at most 1000"};
            for (const auto& c : cs->as_array()) cands.push_back(candidate_of(c));
        }
        if (e.ballot == ballot_kind::plain && opt_.define_plain) {
            // The chain says what the election is: its definition lists every candidate.
            e.chain = definition_status::pending;
            if (cands.empty() || cands.size() > election::limits::max_candidates)
                throw http_error{http::status::unprocessable_entity,
                                 "an election has 1.." + std::to_string(election::limits::max_candidates) +
                                     " candidates, all given when it is created (its definition on the chain lists "
                                     "them)"};
            election::definition d;
            d.name = e.name;
            for (std::size_t i = 0; i < cands.size(); ++i) {
                if (cands[i].name.size() > election::limits::max_candidate_name_bytes)
                    throw http_error{http::status::unprocessable_entity,
                                     "a candidate has a name of at most " +
                                         std::to_string(election::limits::max_candidate_name_bytes) + " bytes"};
                d.candidates.push_back({i + 1, cands[i].name});
            }
            if (d.name.size() > election::limits::max_name_bytes || election::encode(d).size() > opt_.max_record_bytes)
                throw http_error{http::status::unprocessable_entity,
                                 "the election's definition (name and candidate names) must fit the chain's "
                                 "max_encrypted_vote_bytes (" + std::to_string(opt_.max_record_bytes) + " bytes)"};
        }
        if (e.ballot == ballot_kind::encrypted) {
            // The definition on the chain fixes them: its ballots have one ciphertext per candidate.
            if (cands.empty() || cands.size() > opt_.max_encrypted_candidates)
                throw http_error{http::status::unprocessable_entity,
                                 "an encrypted election has 1.." + std::to_string(opt_.max_encrypted_candidates) +
                                     " candidates, all given when it is created (its ballots must fit the chain's "
                                     "max_encrypted_vote_bytes)"};
            for (const auto& c : cands)
                if (c.name.size() > election::limits::max_candidate_name_bytes)
                    throw http_error{http::status::unprocessable_entity,
                                     "a candidate of an encrypted election has a name of at most " +
                                         std::to_string(election::limits::max_candidate_name_bytes) + " bytes"};
        }
        const auto id = must(db_.add_election(e, cands));
        if (!id) throw http_error{http::status::conflict, "two candidates have the same name"};
        return election_json(load_election(*id));
    }

    bjson::object add_candidate(std::int64_t election, const bjson::object& b) {
        const auto e = load_election(election);
        if (e.ballot == ballot_kind::encrypted)
            throw http_error{http::status::conflict,
                             "the candidates of an encrypted election are fixed on the chain when it is created"};
        if (e.chain != definition_status::none)
            throw http_error{http::status::conflict,
                             "the candidates of this election are fixed on the chain when it is created (the genesis's "
                             "elections_defined)"};
        auto c = candidate_of(b);
        auto id = must(db_.add_candidate(election, c));
        if (!id) throw http_error{http::status::conflict, "the election already has a candidate of that name"};
        return {{"id", *id}, {"election_id", election}, {"name", c.name}, {"description", c.description}};
    }

private:
    /// The integer member `k` of `o` in min..max; `dflt` when absent or null (422 otherwise).
    static std::uint64_t get_count(const bjson::object& o, const char* k, std::uint64_t min, std::uint64_t max,
                                   std::uint64_t dflt) {
        const auto* v = o.if_contains(k);
        if (!v || v->is_null()) return dflt;
        std::uint64_t n = 0;
        if (v->is_int64() && v->as_int64() >= 0) n = static_cast<std::uint64_t>(v->as_int64());
        else if (v->is_uint64()) n = v->as_uint64();
        else n = max + 1;
        if (n < min || n > max)
            throw http_error{http::status::unprocessable_entity,
                             std::string(k) + " must be an integer " + std::to_string(min) + ".." + std::to_string(max)};
        return n;
    }

    store& db_;
    const Clock& clock_;
    options opt_;
};

}  // namespace ballotchain::backend
