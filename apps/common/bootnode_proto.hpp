#pragma once
/// @file Bootnode discovery protocol shared by ballotchain-bootnode and the validators.
///
/// POST /register  {"chain_id", "index", "public_key", "p2p": "host:port", "timestamp_ms", "signature"}
///   signature = Ed25519 by public_key over SHA-256("ballotchain/bootnode/register" ‖ u64 chain_id ‖
///   u32 index ‖ var(p2p) ‖ u64 timestamp_ms). Self-certifying: the bootnode needs no genesis; a
///   validator only dials entries whose key is the genesis key of that index, and the P2P
///   handshake proves the key again.
/// GET /peers?chain_id=N  {"peers": [{"index", "public_key", "p2p", "age_ms"}]}
/// GET /health            {"status": "ok", "peers": N}

#include <ballotchain/core/hex.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/sha256.hpp>

#include <boost/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace ballotchain::app {

inline constexpr std::string_view register_domain = "ballotchain/bootnode/register";
inline constexpr std::size_t max_p2p_addr_bytes = 256;

struct registration {
    std::uint64_t chain_id = 0;
    std::uint32_t index = 0;
    public_key key;
    std::string p2p;
    std::uint64_t timestamp_ms = 0;
    signature sig;
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

/// Strict parse + signature check. Returns why it is refused.
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
    if (!u64("index", idx) || idx > 255) return "index must be an integer 0..255";
    out.index = static_cast<std::uint32_t>(idx);
    if (!u64("timestamp_ms", out.timestamp_ms)) return "timestamp_ms must be an unsigned integer";
    const auto* pk = str("public_key");
    const auto* p2p = str("p2p");
    const auto* sig = str("signature");
    if (!pk || !p2p || !sig) return "public_key, p2p and signature must be strings";
    if (p2p->size() == 0 || p2p->size() > max_p2p_addr_bytes) return "p2p must be host:port (at most 256 bytes)";
    auto k = from_hex_fixed<32>(std::string_view(*pk));
    if (!k) return "public_key: " + k.error().message();
    auto s = from_hex_fixed<64>(std::string_view(*sig));
    if (!s) return "signature: " + s.error().message();
    out.key = *k;
    out.sig = *s;
    out.p2p = std::string(*p2p);
    if (!ed25519::verify(out.key, registration_digest(out).view(), out.sig)) return "invalid signature";
    return std::nullopt;
}

/// The bootnode's table: one entry per (chain, key), expiring after `ttl_ms`.
class peer_registry {
public:
    explicit peer_registry(std::uint64_t ttl_ms = 60'000, std::size_t max_entries = 4096)
        : ttl_(ttl_ms), max_(max_entries) {}

    /// Stores a checked registration seen at `now_ms`. Returns false when full.
    bool put(const registration& r, std::uint64_t now_ms) {
        expire(now_ms);
        const auto k = std::make_pair(r.chain_id, r.key);
        if (!entries_.contains(k) && entries_.size() >= max_) return false;
        entries_[k] = {r, now_ms};
        return true;
    }

    boost::json::array list(std::optional<std::uint64_t> chain_id, std::uint64_t now_ms) {
        expire(now_ms);
        boost::json::array a;
        for (const auto& [k, e] : entries_) {
            if (chain_id && k.first != *chain_id) continue;
            a.push_back({{"chain_id", e.reg.chain_id},
                         {"index", e.reg.index},
                         {"public_key", to_hex(e.reg.key)},
                         {"p2p", e.reg.p2p},
                         {"age_ms", now_ms - e.seen_ms}});
        }
        return a;
    }

    std::size_t size(std::uint64_t now_ms) {
        expire(now_ms);
        return entries_.size();
    }

private:
    struct entry {
        registration reg;
        std::uint64_t seen_ms = 0;
    };
    void expire(std::uint64_t now_ms) {
        std::erase_if(entries_, [&](const auto& kv) { return now_ms > kv.second.seen_ms + ttl_; });
    }
    std::uint64_t ttl_;
    std::size_t max_;
    std::map<std::pair<std::uint64_t, public_key>, entry> entries_;
};

}  // namespace ballotchain::app
