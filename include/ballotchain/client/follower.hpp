#pragma once
/// @file A light follower: keeps its own tally of every election from final
/// blocks it has verified itself (light_verifier::check_block, then the link to
/// its parent), so results need no validator's word. Its position and tallies
/// save to a small JSON file and load again, so a program resumes where it
/// stopped instead of reading the chain from block 0.
///
/// The client (client.hpp) feeds it blocks (`async_follow`); it can also be fed
/// by hand. No I/O besides save/load.

#include <ballotchain/client/light_verify.hpp>
#include <ballotchain/core/file.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace ballotchain::client {

/// @tparam Suite the chain's suite (as its light_verifier's)
/// @par Thread safety Not thread-safe: one owner feeds and reads it.
template <suite Suite>
class light_follower {
public:
    /// At block 0 of `v`'s chain. `v` must outlive the follower.
    explicit light_follower(const light_verifier<Suite>& v)
        : v_(&v), hash_(v.block0_hash()), timestamp_ms_(v.block0().blk.header.timestamp_ms) {}

    std::uint64_t height() const noexcept { return height_; }
    const hash32& head_hash() const noexcept { return hash_; }
    std::uint64_t votes() const noexcept { return votes_; }
    std::uint64_t blocks_applied() const noexcept { return applied_; }

    /// candidate -> votes of `election` in blocks 0..height() (empty when it has none).
    tally_map tally(std::uint64_t election) const {
        auto it = tallies_.find(election);
        return it == tallies_.end() ? tally_map{} : it->second;
    }
    const std::map<std::uint64_t, tally_map>& tallies() const noexcept { return tallies_; }

    /// Applies the next final block, already checked by the verifier
    /// (check_block): it must follow the head (height + 1, parent hash,
    /// timestamp not before). Returns why not, or nullopt when applied.
    std::optional<std::string> apply(const verified_block& b) {
        const auto& h = b.fb.blk.header;
        if (h.height != height_ + 1)
            return "block " + std::to_string(h.height) + " does not follow height " + std::to_string(height_);
        if (h.parent != hash_) return "block " + std::to_string(h.height) + " does not link to the verified head";
        if (h.timestamp_ms < timestamp_ms_) return "block " + std::to_string(h.height) + " is older than its parent";
        for (const auto& tx : b.fb.blk.txs)
            if (tx.is_vote()) ++tallies_[tx.election_id][tx.candidate_id];
        votes_ += b.fb.blk.txs.size();
        height_ = h.height;
        hash_ = b.hash;
        timestamp_ms_ = h.timestamp_ms;
        ++applied_;
        return std::nullopt;
    }

    /// The saved form: {"format","chain_id","genesis_hash","height","hash","timestamp_ms","votes","tallies"}.
    boost::json::object to_json() const {
        boost::json::object t;
        for (const auto& [e, m] : tallies_) {
            boost::json::object c;
            for (const auto& [cand, n] : m) c[std::to_string(cand)] = n;
            t[std::to_string(e)] = std::move(c);
        }
        return {{"format", format},
                {"chain_id", v_->genesis().chain_id},
                {"genesis_hash", to_hex(v_->genesis_hash())},
                {"height", height_},
                {"hash", to_hex(hash_)},
                {"timestamp_ms", timestamp_ms_},
                {"votes", votes_},
                {"tallies", std::move(t)}};
    }

    /// Restores a saved position. Refuses (and leaves the follower as it was)
    /// a file of another format or another chain (genesis hash), or one whose
    /// tallies do not add up to its vote count.
    std::optional<std::string> restore(const boost::json::value& v) {
        const auto* o = v.if_object();
        if (!o) return std::string("not a JSON object");
        auto str = [&](std::string_view k) -> std::string {
            const auto* x = o->if_contains(k);
            return x && x->is_string() ? std::string(x->as_string()) : std::string();
        };
        if (str("format") != format) return "format is not " + std::string(format);
        if (str("genesis_hash") != to_hex(v_->genesis_hash())) return std::string("saved for another chain (genesis hash differs)");
        auto height = detail::as_u64(o->if_contains("height"));
        auto hash = detail::as_hash(o->if_contains("hash"));
        auto ts = detail::as_u64(o->if_contains("timestamp_ms"));
        auto votes = detail::as_u64(o->if_contains("votes"));
        const auto* t = o->if_contains("tallies");
        if (!height || !hash || !ts || !votes || !t || !t->is_object()) return std::string("height, hash, timestamp_ms, votes or tallies missing");
        std::map<std::uint64_t, tally_map> tallies;
        std::uint64_t sum = 0;
        for (const auto& [ek, ev] : t->as_object()) {
            auto e = parse_u64(ek);
            if (!e || !ev.is_object()) return std::string("a tally is not election: {candidate: count}");
            for (const auto& [ck, cv] : ev.as_object()) {
                auto c = parse_u64(ck);
                auto n = detail::as_u64(&cv);
                if (!c || !n) return std::string("a tally is not election: {candidate: count}");
                tallies[*e][*c] = *n;
                sum += *n;
            }
        }
        if (sum != *votes) return std::string("tallies do not add up to the vote count");
        height_ = *height;
        hash_ = *hash;
        timestamp_ms_ = *ts;
        votes_ = *votes;
        tallies_ = std::move(tallies);
        return std::nullopt;
    }

    /// Writes the position to `path` atomically (temp file, fsync, rename).
    result<void> save(const std::string& path) const {
        return write_file_atomic(path, boost::json::serialize(to_json()), 0644, true);
    }

    /// Loads a position saved by save(). A missing file is `no_such_file_or_directory`;
    /// a file that restore() refuses is `bad_json` with the reason in `*why`.
    result<void> load(const std::string& path, std::string* why = nullptr) {
        auto text = read_file(path, 64u << 20);
        if (!text) return text.error();
        boost::system::error_code ec;
        auto v = boost::json::parse(*text, ec);
        if (ec) {
            if (why) *why = "not JSON: " + ec.message();
            return make_error(core::errc::bad_json);
        }
        if (auto bad = restore(v)) {
            if (why) *why = *bad;
            return make_error(core::errc::bad_json);
        }
        return {};
    }

    static constexpr std::string_view format = "ballotchain-follower/1";

private:
    static std::optional<std::uint64_t> parse_u64(std::string_view s) {
        std::uint64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
        return v;
    }

    const light_verifier<Suite>* v_;
    std::uint64_t height_ = 0;
    hash32 hash_;
    std::uint64_t timestamp_ms_ = 0;
    std::uint64_t votes_ = 0;
    std::uint64_t applied_ = 0;
    std::map<std::uint64_t, tally_map> tallies_;
};

}  // namespace ballotchain::client
