#pragma once
/// @file Bootnode discovery protocol shared by ballotchain-bootnode and the validators.
///
/// POST /register  {"chain_id", "index", "public_key", "p2p": "host:port", "timestamp_ms", "signature"}
///   signature = Ed25519 by public_key over SHA-256("ballotchain/bootnode/register" ‖ u64 chain_id ‖
///   u32 index ‖ var(p2p) ‖ u64 timestamp_ms).
/// GET /peers?chain_id=N  {"peers": [{"chain_id", "index", "public_key", "p2p", "age_ms"}]}
/// GET /health            {"status": "ok", "peers": N}
///
/// The bootnode knows the genesis of every chain it serves and keeps at most one entry per
/// genesis validator: a registration is accepted only for a served chain, at an index below
/// n, signed by that index's genesis key, with a timestamp near the bootnode's clock and
/// later than the last one accepted for that validator (docs/api.md lists the refusals).
/// A validator still dials only entries whose key is the genesis key of that index, and the
/// P2P handshake proves the key again.
///
/// Numbering: the wire field `index` is 0-based (the genesis position; it is signed, so it stays
/// as it is for compatibility). Every message and log names the validator as operators do,
/// validator-N with N = index + 1, as the configs (`peers`, INDEX@host:port) and the validator's
/// own logs do.

#include <ballotchain/chain/genesis.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/sha256.hpp>

#include <boost/json.hpp>

#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ballotchain::app {

inline constexpr std::string_view register_domain = "ballotchain/bootnode/register";
inline constexpr std::size_t max_p2p_addr_bytes = 256;
/// A registration is a few hundred bytes; the bootnode refuses larger bodies (413) unread.
inline constexpr std::size_t max_registration_body_bytes = 4096;

struct registration {
    std::uint64_t chain_id = 0;
    std::uint32_t index = 0;
    public_key key;
    std::string p2p;
    std::uint64_t timestamp_ms = 0;
    signature sig;
    bool operator==(const registration&) const = default;
};

inline hash32 registration_digest(const registration& r) {
    bytes m(register_domain.begin(), register_domain.end());
    wire::writer w(m);
    w.u64(r.chain_id);
    w.u32(r.index);
    w.var(byte_view(reinterpret_cast<const byte*>(r.p2p.data()), r.p2p.size()));
    w.u64(r.timestamp_ms);
    return sha256::hash(m);
}

inline void sign_registration(registration& r, const ed25519::key_pair& kp) {
    r.key = kp.public_key();
    r.sig = ed25519::sign(kp, registration_digest(r).view());
}

inline boost::json::object to_json(const registration& r) {
    return {{"chain_id", r.chain_id},       {"index", r.index},
            {"public_key", to_hex(r.key)},  {"p2p", r.p2p},
            {"timestamp_ms", r.timestamp_ms}, {"signature", to_hex(r.sig)}};
}

/// True for "host:port" with a non-empty host of printable non-space ASCII and a port 1..65535.
inline bool valid_p2p_address(std::string_view a) {
    if (a.empty() || a.size() > max_p2p_addr_bytes) return false;
    for (const char c : a)
        if (c <= ' ' || c > '~') return false;
    const auto colon = a.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    const auto ps = a.substr(colon + 1);
    unsigned port = 0;
    auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
    return ec == std::errc{} && p == ps.data() + ps.size() && port >= 1 && port <= 65535;
}

/// Strict parse of the JSON shape (no signature check: peer_registry::admit does that after
/// the cheap checks). Returns why it is refused.
inline std::optional<std::string> parse_registration(const boost::json::value& v, registration& out) {
    if (!v.is_object()) return "body must be a JSON object";
    const auto& o = v.as_object();
    auto u64 = [&](const char* k, std::uint64_t& dst) -> bool {
        const auto* x = o.if_contains(k);
        if (!x) return false;
        if (x->is_uint64()) dst = x->as_uint64();
        else if (x->is_int64() && x->as_int64() >= 0) dst = static_cast<std::uint64_t>(x->as_int64());
        else return false;
        return true;
    };
    auto str = [&](const char* k) -> const boost::json::string* {
        const auto* x = o.if_contains(k);
        return x && x->is_string() ? &x->as_string() : nullptr;
    };
    std::uint64_t idx = 0;
    if (!u64("chain_id", out.chain_id)) return "chain_id must be an unsigned integer";
    if (!u64("index", idx) || idx >= limits::max_validators) return "index must be an integer 0..255";
    out.index = static_cast<std::uint32_t>(idx);
    if (!u64("timestamp_ms", out.timestamp_ms)) return "timestamp_ms must be an unsigned integer";
    const auto* pk = str("public_key");
    const auto* p2p = str("p2p");
    const auto* sig = str("signature");
    if (!pk || !p2p || !sig) return "public_key, p2p and signature must be strings";
    if (!valid_p2p_address(*p2p)) return "p2p must be host:port with a port 1..65535 (at most 256 printable bytes)";
    auto k = from_hex_fixed<32>(std::string_view(*pk));
    if (!k) return "public_key: " + k.error().message();
    auto s = from_hex_fixed<64>(std::string_view(*sig));
    if (!s) return "signature: " + s.error().message();
    out.key = *k;
    out.sig = *s;
    out.p2p = std::string(*p2p);
    return std::nullopt;
}

/// Why a registration or a query is refused: the HTTP status and a message for the operator.
struct refusal {
    unsigned status = 0;
    std::string detail;
};

struct registry_options {
    std::uint64_t ttl_ms = 60'000;       ///< an entry not renewed for this long is not listed
    std::uint64_t max_skew_ms = 30'000;  ///< timestamp_ms must be within this of the bootnode's wall clock
};

/// The bootnode's table: for each served chain, one slot per genesis validator, so it holds
/// at most n entries per chain whoever sends registrations.
///
/// @par Thread safety Not thread-safe (the bootnode calls it from its one io thread).
/// @par Complexity admit: O(log chains) plus one Ed25519 verification for a registration
/// that passes every cheaper check; list and size: O(entries).
class peer_registry {
public:
    explicit peer_registry(registry_options o = {}) : o_(o) {}

    /// Serves the chain of `g`. Returns false (and changes nothing) when a chain with the same
    /// chain_id is already served: registrations name their chain only by chain_id.
    bool add_chain(const genesis_config& g) {
        if (chains_.contains(g.chain_id)) return false;
        chain_state c;
        for (const auto& v : g.validators) c.keys.push_back(v.key);
        c.slots.resize(c.keys.size());
        chains_.emplace(g.chain_id, std::move(c));
        return true;
    }
    bool serves(std::uint64_t chain_id) const { return chains_.contains(chain_id); }

    /// Checks `r` (parsed by parse_registration) at monotonic `now_ms` and Unix `wall_ms`
    /// and stores it. The checks run cheapest first, and nothing changes unless all pass:
    /// 404 chain not served; 403 index not below n, or key not that index's genesis key;
    /// 422 timestamp more than max_skew_ms from wall_ms; 409 timestamp not greater than the
    /// last accepted one for this validator (a replay, or an older registration);
    /// 403 invalid signature.
    std::optional<refusal> admit(const registration& r, std::uint64_t now_ms, std::uint64_t wall_ms) {
        auto it = chains_.find(r.chain_id);
        if (it == chains_.end())
            return refusal{404, "chain_id " + std::to_string(r.chain_id) + " is not served by this bootnode"};
        auto& c = it->second;
        if (r.index >= c.keys.size())
            return refusal{403, "index " + std::to_string(r.index) + " (validator-" + std::to_string(r.index + 1) +
                                    ") is not a validator of chain " + std::to_string(r.chain_id) + " (it has " +
                                    std::to_string(c.keys.size()) + " validators, validator-1 to validator-" +
                                    std::to_string(c.keys.size()) + " at indexes 0 to " +
                                    std::to_string(c.keys.size() - 1) + ")"};
        if (r.key != c.keys[r.index])
            return refusal{403, "public_key is not the genesis key of validator-" + std::to_string(r.index + 1) +
                                    " (index " + std::to_string(r.index) + ") of chain " + std::to_string(r.chain_id)};
        const std::uint64_t lo = wall_ms > o_.max_skew_ms ? wall_ms - o_.max_skew_ms : 0;
        if (r.timestamp_ms < lo || r.timestamp_ms > wall_ms + o_.max_skew_ms)
            return refusal{422, "timestamp_ms is more than " + std::to_string(o_.max_skew_ms) +
                                    " ms from the bootnode's clock (" + std::to_string(wall_ms) + ")"};
        auto& s = c.slots[r.index];
        if (r.timestamp_ms <= s.last_timestamp_ms)
            return refusal{409, "timestamp_ms must be greater than that of the last registration accepted for "
                                "this validator (" + std::to_string(s.last_timestamp_ms) +
                                "): a replayed or older registration"};
        if (!ed25519::verify(r.key, registration_digest(r).view(), r.sig)) return refusal{403, "invalid signature"};
        s.last_timestamp_ms = r.timestamp_ms;
        s.live = true;
        s.p2p = r.p2p;
        s.seen_ms = now_ms;
        return std::nullopt;
    }

    /// The live entries of one chain (or of all when `chain_id` is empty), in index order.
    boost::json::array list(std::optional<std::uint64_t> chain_id, std::uint64_t now_ms) const {
        boost::json::array a;
        for (const auto& [id, c] : chains_) {
            if (chain_id && id != *chain_id) continue;
            for (std::size_t i = 0; i < c.slots.size(); ++i) {
                const auto& s = c.slots[i];
                if (!alive(s, now_ms)) continue;
                a.push_back({{"chain_id", id},
                             {"index", i},
                             {"public_key", to_hex(c.keys[i])},
                             {"p2p", s.p2p},
                             {"age_ms", now_ms - s.seen_ms}});
            }
        }
        return a;
    }

    /// Live entries over all chains.
    std::size_t size(std::uint64_t now_ms) const {
        std::size_t n = 0;
        for (const auto& [id, c] : chains_)
            for (const auto& s : c.slots) n += alive(s, now_ms) ? 1 : 0;
        return n;
    }

private:
    struct slot {
        bool live = false;
        std::string p2p;
        std::uint64_t seen_ms = 0;
        /// Kept after the entry expires, so an old registration stays refused.
        std::uint64_t last_timestamp_ms = 0;
    };
    struct chain_state {
        std::vector<public_key> keys;  ///< genesis order
        std::vector<slot> slots;       ///< one per validator
    };
    bool alive(const slot& s, std::uint64_t now_ms) const { return s.live && now_ms <= s.seen_ms + o_.ttl_ms; }

    registry_options o_;
    std::map<std::uint64_t, chain_state> chains_;
};

}  // namespace ballotchain::app
