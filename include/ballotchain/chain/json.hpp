#pragma once
/// @file JSON forms of the chain's values. Bytes are strict 0x-hex; integers
/// are JSON numbers. Parsers are strict: every field present, of the right
/// type and within its bound; unknown fields are ignored.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/core/file.hpp>
#include <ballotchain/core/hex.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace ballotchain::json {

namespace detail {
inline error_code bad() noexcept { return make_error(core::errc::bad_json); }

inline result<std::uint64_t> get_u64(const boost::json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (!v) return bad();
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    return bad();
}
inline result<std::uint32_t> get_u32(const boost::json::object& o, std::string_view k) {
    auto v = get_u64(o, k);
    if (!v) return v.error();
    if (*v > 0xffffffffull) return bad();
    return static_cast<std::uint32_t>(*v);
}
inline result<std::string_view> get_str(const boost::json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (!v || !v->is_string()) return bad();
    return std::string_view(v->get_string());
}
template <std::size_t N>
result<fixed_bytes<N>> get_fixed(const boost::json::object& o, std::string_view k) {
    auto s = get_str(o, k);
    if (!s) return s.error();
    return from_hex_fixed<N>(*s);
}
inline result<bool> get_bool(const boost::json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (!v || !v->is_bool()) return result<bool>(boost::system::in_place_error, bad());
    return v->get_bool();
}
}  // namespace detail

// Assigns `*r` to `dst` or returns r's error from the enclosing function.
#define BALLOTCHAIN_JSON_GET(dst, expr)   \
    do {                                  \
        auto r_ = (expr);                 \
        if (!r_) return r_.error();       \
        dst = *r_;                        \
    } while (0)

// ---- vote transactions --------------------------------------------------------

/// A vote has "candidate_id"; an election record has "kind" instead (and no candidate).
inline boost::json::object to_json(const vote_tx& tx) {
    boost::json::object o{{"chain_id", tx.chain_id}, {"election_id", tx.election_id}};
    if (tx.is_vote())
        o["candidate_id"] = tx.candidate_id;
    else
        o["kind"] = to_string(tx.kind);
    o["encrypted_vote"] = to_hex(tx.encrypted_vote);
    o["voter_tag"] = to_hex(tx.voter_tag);
    o["timestamp_ms"] = tx.timestamp_ms;
    o["submitter"] = to_hex(tx.submitter);
    o["signature"] = to_hex(tx.auth.sig);
    boost::json::array path;
    for (const auto& p : tx.auth.path) path.push_back(boost::json::value(to_hex(p)));
    o["batch"] = boost::json::object{{"size", tx.auth.size}, {"index", tx.auth.index}, {"path", std::move(path)}};
    return o;
}

inline result<vote_tx> tx_from_json(const boost::json::value& v) {
    if (!v.is_object()) return detail::bad();
    const auto& o = v.get_object();
    vote_tx tx;
    BALLOTCHAIN_JSON_GET(tx.chain_id, detail::get_u64(o, "chain_id"));
    BALLOTCHAIN_JSON_GET(tx.election_id, detail::get_u64(o, "election_id"));
    if (const auto* k = o.if_contains("kind")) {
        if (!k->is_string()) return detail::bad();
        bool found = false;
        for (std::uint8_t i = 1; i <= max_tx_kind && !found; ++i)
            if (k->get_string() == tx_kind_names[i]) {
                tx.kind = static_cast<tx_kind>(i);
                found = true;
            }
        if (!found) return detail::bad();
    } else {
        BALLOTCHAIN_JSON_GET(tx.candidate_id, detail::get_u64(o, "candidate_id"));
    }
    std::string_view ev;
    BALLOTCHAIN_JSON_GET(ev, detail::get_str(o, "encrypted_vote"));
    BALLOTCHAIN_JSON_GET(tx.encrypted_vote, from_hex(ev, limits::max_encrypted_vote_bytes));
    BALLOTCHAIN_JSON_GET(tx.voter_tag, detail::get_fixed<32>(o, "voter_tag"));
    BALLOTCHAIN_JSON_GET(tx.timestamp_ms, detail::get_u64(o, "timestamp_ms"));
    BALLOTCHAIN_JSON_GET(tx.submitter, detail::get_fixed<32>(o, "submitter"));
    BALLOTCHAIN_JSON_GET(tx.auth.sig, detail::get_fixed<64>(o, "signature"));
    // "batch" {size, index, path}: absent for a transaction signed alone (a batch of one).
    if (const auto* b = o.if_contains("batch")) {
        if (!b->is_object()) return detail::bad();
        const auto& bo = b->get_object();
        std::uint64_t size = 0, index = 0;
        BALLOTCHAIN_JSON_GET(size, detail::get_u64(bo, "size"));
        BALLOTCHAIN_JSON_GET(index, detail::get_u64(bo, "index"));
        const auto* path = bo.if_contains("path");
        if (size == 0 || size > limits::max_batch_txs || index >= size || !path || !path->is_array() ||
            path->get_array().size() != merkle_path_length(index, size))
            return detail::bad();
        tx.auth.size = static_cast<std::uint32_t>(size);
        tx.auth.index = static_cast<std::uint32_t>(index);
        for (const auto& p : path->get_array()) {
            if (!p.is_string()) return detail::bad();
            BALLOTCHAIN_JSON_GET(tx.auth.path.emplace_back(), from_hex_fixed<32>(std::string_view(p.get_string())));
        }
    }
    return tx;
}

// ---- blocks (output only: blocks travel in binary; a certificate is read back too) ----

inline boost::json::object to_json(const block_header& h) {
    return {{"chain_id", h.chain_id},       {"height", h.height},
            {"round", h.round},             {"parent_hash", to_hex(h.parent)},
            {"timestamp_ms", h.timestamp_ms}, {"proposer", h.proposer},
            {"tx_root", to_hex(h.tx_root)}, {"tx_count", h.tx_count}};
}

inline boost::json::object to_json(const commit_certificate& c) {
    boost::json::array seals;
    for (const auto& s : c.seals) seals.push_back({{"validator", s.validator}, {"signature", to_hex(s.sig)}});
    return {{"height", c.height}, {"round", c.round}, {"block_hash", to_hex(c.block_hash)}, {"seals", std::move(seals)}};
}

/// Parses a certificate's JSON (to_json's shape, as poa_getTransactionProof and
/// eth_getBlockByNumber give it): every field present and of its type, at most
/// limits::max_validators seals, each `{"validator", "signature"}`. Whether the
/// seals prove anything is chain_rules::check_certificate's question.
inline result<commit_certificate> cert_from_json(const boost::json::value& v) {
    if (!v.is_object()) return detail::bad();
    const auto& o = v.get_object();
    commit_certificate c;
    BALLOTCHAIN_JSON_GET(c.height, detail::get_u64(o, "height"));
    BALLOTCHAIN_JSON_GET(c.round, detail::get_u32(o, "round"));
    BALLOTCHAIN_JSON_GET(c.block_hash, detail::get_fixed<32>(o, "block_hash"));
    const auto* seals = o.if_contains("seals");
    if (!seals || !seals->is_array() || seals->get_array().size() > limits::max_validators) return detail::bad();
    c.seals.reserve(seals->get_array().size());
    for (const auto& e : seals->get_array()) {
        if (!e.is_object()) return detail::bad();
        commit_seal s;
        BALLOTCHAIN_JSON_GET(s.validator, detail::get_u32(e.get_object(), "validator"));
        BALLOTCHAIN_JSON_GET(s.sig, detail::get_fixed<64>(e.get_object(), "signature"));
        c.seals.push_back(s);
    }
    return c;
}

// ---- genesis --------------------------------------------------------------------

inline boost::json::object to_json(const genesis_config& g) {
    boost::json::array vals, subs;
    for (const auto& v : g.validators) vals.push_back({{"name", v.name}, {"public_key", to_hex(v.key)}});
    for (const auto& s : g.submitters) subs.push_back(boost::json::string(to_hex(s)));
    boost::json::object o{{"chain_id", g.chain_id},
            {"timestamp_ms", g.timestamp_ms},
            {"validators", std::move(vals)},
            {"submitters", std::move(subs)},
            {"block_interval_ms", g.block_interval_ms},
            {"max_block_txs", g.max_block_txs},
            {"empty_blocks", g.empty_blocks},
            {"round_timeout_ms", g.round_timeout_ms},
            {"round_timeout_max_ms", g.round_timeout_max_ms},
            {"max_encrypted_vote_bytes", g.max_encrypted_vote_bytes}};
    if (g.elections_defined) o["elections_defined"] = true;  // only when set, as in the encoding
    return o;
}

/// Parses genesis JSON and runs check_genesis(). Optional fields take the
/// defaults of genesis_config: block_interval_ms, max_block_txs, empty_blocks,
/// round_timeout_ms, round_timeout_max_ms, max_encrypted_vote_bytes, elections_defined.
inline result<genesis_config> genesis_from_json(const boost::json::value& v) {
    if (!v.is_object()) return detail::bad();
    const auto& o = v.get_object();
    // Unknown keys are refused: a misspelt optional field must not silently keep its default.
    static constexpr std::string_view known[] = {"chain_id", "timestamp_ms", "validators", "submitters",
                                                 "block_interval_ms", "max_block_txs", "empty_blocks",
                                                 "round_timeout_ms", "round_timeout_max_ms",
                                                 "max_encrypted_vote_bytes", "elections_defined"};
    for (const auto& kv : o)
        if (std::find(std::begin(known), std::end(known), std::string_view(kv.key())) == std::end(known))
            return detail::bad();
    genesis_config g;
    BALLOTCHAIN_JSON_GET(g.chain_id, detail::get_u64(o, "chain_id"));
    BALLOTCHAIN_JSON_GET(g.timestamp_ms, detail::get_u64(o, "timestamp_ms"));
    const auto* vals = o.if_contains("validators");
    const auto* subs = o.if_contains("submitters");
    if (!vals || !vals->is_array() || vals->get_array().size() > limits::max_validators) return detail::bad();
    if (!subs || !subs->is_array() || subs->get_array().size() > limits::max_submitters) return detail::bad();
    for (const auto& e : vals->get_array()) {
        if (!e.is_object() || e.get_object().size() != 2) return detail::bad();
        validator_info vi;
        std::string_view name;
        BALLOTCHAIN_JSON_GET(name, detail::get_str(e.get_object(), "name"));
        vi.name = std::string(name);
        BALLOTCHAIN_JSON_GET(vi.key, detail::get_fixed<32>(e.get_object(), "public_key"));
        g.validators.push_back(std::move(vi));
    }
    for (const auto& e : subs->get_array()) {
        if (!e.is_string()) return detail::bad();
        public_key k;
        BALLOTCHAIN_JSON_GET(k, from_hex_fixed<32>(std::string_view(e.get_string())));
        g.submitters.push_back(k);
    }
    if (o.contains("block_interval_ms")) BALLOTCHAIN_JSON_GET(g.block_interval_ms, detail::get_u64(o, "block_interval_ms"));
    if (o.contains("max_block_txs")) BALLOTCHAIN_JSON_GET(g.max_block_txs, detail::get_u32(o, "max_block_txs"));
    if (o.contains("empty_blocks")) BALLOTCHAIN_JSON_GET(g.empty_blocks, detail::get_bool(o, "empty_blocks"));
    if (o.contains("round_timeout_ms")) BALLOTCHAIN_JSON_GET(g.round_timeout_ms, detail::get_u64(o, "round_timeout_ms"));
    if (o.contains("round_timeout_max_ms"))
        BALLOTCHAIN_JSON_GET(g.round_timeout_max_ms, detail::get_u64(o, "round_timeout_max_ms"));
    if (o.contains("max_encrypted_vote_bytes"))
        BALLOTCHAIN_JSON_GET(g.max_encrypted_vote_bytes, detail::get_u32(o, "max_encrypted_vote_bytes"));
    if (o.contains("elections_defined"))
        BALLOTCHAIN_JSON_GET(g.elections_defined, detail::get_bool(o, "elections_defined"));
    if (auto ec = check_genesis(g)) return ec;
    return g;
}

inline constexpr std::size_t max_genesis_file_bytes = 1 << 20;

inline result<genesis_config> parse_genesis(std::string_view text) {
    if (text.size() > max_genesis_file_bytes) return make_error(core::errc::length_too_large);
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec) return detail::bad();
    return genesis_from_json(v);
}

inline result<genesis_config> load_genesis_file(const std::string& path) {
    auto text = read_file(path, max_genesis_file_bytes);
    if (!text) return text.error();
    return parse_genesis(*text);
}

#undef BALLOTCHAIN_JSON_GET

}  // namespace ballotchain::json
