#pragma once
/// @file The typed answers of the verifying client (client.hpp) and their
/// decoders from the validators' JSON-RPC answers (docs/api.md). A decoder is
/// strict: every field it needs present, of the right type and within its
/// bound, or it returns why not (the client then counts the validator as
/// misbehaving and asks another).

#include <ballotchain/chain/json.hpp>
#include <ballotchain/chain/rules.hpp>
#include <ballotchain/core/hex.hpp>

#include <boost/json.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ballotchain::client {

/// Why an answer does not decode or verify, in words.
struct why_not : std::string {
    why_not() = default;
    why_not(std::string s) : std::string(std::move(s)) {}  // NOLINT: implicit, so a message converts
    why_not(const char* s) : std::string(s) {}             // NOLINT
};

/// Found by boost::system::result<T, why_not>::value() through ADL.
[[noreturn]] inline void throw_exception_from_error(const why_not& e, const boost::source_location&) {
    throw std::runtime_error(e);
}

/// A decoded answer, or why it does not decode.
template <class T>
using decoded = boost::system::result<T, why_not>;

/// A transaction in a final block, proven: the block header hashes to
/// `block_hash`, `certificate` holds a quorum of valid seals from the genesis
/// validators for it, and `proof` leads from the tx hash at `index` to the
/// header's tx_root. The client returns no receipt it has not checked so.
struct receipt {
    hash32 tx_hash;
    std::uint64_t block_number = 0;
    hash32 block_hash;
    std::uint32_t index = 0;
    block_header header;
    commit_certificate certificate;
    std::vector<hash32> proof;  ///< Merkle path, leaf to root (RFC 6962)
    std::string node;           ///< the validator that served it

    /// Genesis indexes of the validators whose seals are in the certificate.
    std::vector<std::uint32_t> signers() const {
        std::vector<std::uint32_t> out;
        for (const auto& s : certificate.seals) out.push_back(s.validator);
        return out;
    }
};

/// A validator's acknowledgement of a vote sent to it (eth_sendRawTransaction):
/// it holds the transaction whose hash the client computed itself.
struct acknowledgement {
    hash32 tx_hash;
    std::string node;  ///< the validator that took it (or already held it)
};

/// Where a transaction stands (poa_getTransactionStatus).
enum class tx_state : std::uint8_t {
    unknown,  ///< the validator asked does not know it
    pending,  ///< in its pool, not final
    final,    ///< in a final block (with a verified receipt)
    dropped,  ///< can never be final: another vote of the same voter tag is (its receipt verified)
};

inline const char* to_string(tx_state s) noexcept {
    switch (s) {
    case tx_state::unknown: return "unknown";
    case tx_state::pending: return "pending";
    case tx_state::final: return "final";
    case tx_state::dropped: return "dropped";
    }
    return "unknown";
}

/// The confirmation status of a vote. `final` and `dropped` are proven
/// (receipts checked); `unknown` and `pending` are one validator's word,
/// which cannot hurt: the caller keeps waiting.
struct confirmation {
    tx_state state = tx_state::unknown;
    std::optional<receipt> proof;  ///< final: this transaction's receipt; dropped: the winner's
    std::optional<hash32> conflicting_tx;  ///< dropped: the final vote that won
    std::string reason;                    ///< dropped: in words
    std::string node;                      ///< the validator asked
};

/// A validator's view of the chain (poa_status). With `head_verified`, the
/// client checked that `head_hash` is the hash of a certified block at `height`.
struct chain_state {
    std::uint64_t chain_id = 0;
    std::uint64_t height = 0;
    hash32 head_hash;
    std::uint64_t peers = 0;
    bool syncing = false;
    std::string validator;
    std::uint64_t pool = 0;
    std::uint64_t quorum = 0;
    std::uint64_t validators = 0;
    std::uint64_t block_interval_ms = 0;
    std::uint64_t max_block_txs = 0;
    bool head_verified = false;
    std::string node;
};

/// A validator's check of its own stored chain (poa_verifyChain), with the
/// client's check that the prefix it calls verified ends at a certified block.
struct integrity_report {
    bool ok = false;
    bool complete = false;
    std::uint64_t blocks_checked = 0;
    std::uint64_t txs_checked = 0;
    std::optional<std::uint64_t> verified_height;
    std::optional<hash32> verified_hash;
    std::uint64_t head = 0;
    std::optional<std::uint64_t> bad_height;
    std::string reason;
    std::string detail;
    bool verified_hash_certified = false;  ///< the client checked verified_hash against a certified header
    std::string node;
};

/// An election's tally at a height.
struct tally {
    std::uint64_t election_id = 0;
    tally_map results;  ///< candidate -> votes
    std::uint64_t total = 0;
    std::uint64_t height = 0;  ///< the chain height it counts up to
    bool verified = false;     ///< re-derived by the client from verified blocks
    std::string node;          ///< the validator whose answer it was compared with ("" when none)
};

/// A final block, checked: its header hashes to `hash`, its certificate holds
/// a quorum of valid seals, its transactions hash to the header's tx_root.
struct verified_block {
    finalized_block fb;
    hash32 hash;
    std::vector<hash32> tx_hashes;  ///< in block order
};

/// What a wait for a new final block (poa_waitForBlock) came to.
struct head_event {
    std::uint64_t height = 0;
    hash32 head_hash;
    bool timed_out = false;
};

// ---- decoders ---------------------------------------------------------------------------

namespace detail {

inline const boost::json::value* member(const boost::json::value& v, std::string_view k) {
    return v.is_object() ? v.as_object().if_contains(k) : nullptr;
}

inline std::optional<std::uint64_t> as_u64(const boost::json::value* v) {
    if (!v) return std::nullopt;
    if (v->is_uint64()) return v->as_uint64();
    if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
    if (v->is_string()) return parse_quantity(v->as_string());
    return std::nullopt;
}

inline std::optional<hash32> as_hash(const boost::json::value* v) {
    if (!v || !v->is_string()) return std::nullopt;
    auto h = from_hex_fixed<32>(std::string_view(v->as_string()));
    if (!h) return std::nullopt;
    return *h;
}

inline std::optional<std::string> as_string(const boost::json::value* v) {
    if (!v || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

inline std::optional<bool> as_bool(const boost::json::value* v) {
    if (!v || !v->is_bool()) return std::nullopt;
    return v->as_bool();
}

}  // namespace detail

/// A transaction hash answered by eth_sendRawTransaction.
inline decoded<hash32> decode_tx_hash(const boost::json::value& v) {
    auto h = detail::as_hash(&v);
    if (!h) return decoded<hash32>(boost::system::in_place_error, "tx hash is not a 0x-hex 32-byte string");
    return *h;
}

/// The parts of a poa_getTransactionProof answer a receipt needs (unverified).
/// Proof paths longer than 64 are refused (a tree of at most 2^64 leaves).
inline decoded<receipt> decode_tx_proof(const boost::json::value& v) {
    using R = decoded<receipt>;
    auto fail = [](std::string why) { return R(boost::system::in_place_error, std::move(why)); };
    if (!v.is_object()) return fail("transaction proof is not an object");
    receipt r;
    auto th = detail::as_hash(detail::member(v, "tx_hash"));
    auto bn = detail::as_u64(detail::member(v, "block_number"));
    auto bh = detail::as_hash(detail::member(v, "block_hash"));
    auto ix = detail::as_u64(detail::member(v, "index"));
    if (!th) return fail("tx_hash missing or not a 32-byte hex string");
    if (!bn) return fail("block_number missing or not a number");
    if (!bh) return fail("block_hash missing or not a 32-byte hex string");
    if (!ix || *ix > 0xffffffffu) return fail("index missing or out of range");
    r.tx_hash = *th;
    r.block_number = *bn;
    r.block_hash = *bh;
    r.index = static_cast<std::uint32_t>(*ix);
    const auto* hdr = detail::member(v, "header");
    if (!hdr || !hdr->is_string()) return fail("header missing (a validator older than this client?)");
    auto raw = from_hex(std::string_view(hdr->as_string()), codec::header_size);
    if (!raw) return fail("header is not hex of at most one header's size");
    auto h = decode_header(*raw);
    if (!h) return fail("header does not decode: " + h.error().message());
    r.header = *h;
    const auto* cert = detail::member(v, "certificate");
    if (!cert) return fail("certificate missing");
    auto c = json::cert_from_json(*cert);
    if (!c) return fail("certificate does not decode");
    r.certificate = std::move(*c);
    const auto* proof = detail::member(v, "proof");
    if (!proof || !proof->is_array() || proof->as_array().size() > 64) return fail("proof missing or longer than 64");
    r.proof.reserve(proof->as_array().size());
    for (const auto& p : proof->as_array()) {
        auto step = detail::as_hash(&p);
        if (!step) return fail("proof step is not a 32-byte hex string");
        r.proof.push_back(*step);
    }
    return r;
}

/// What poa_getTransactionStatus said (the proofs are fetched separately).
struct status_answer {
    tx_state state = tx_state::unknown;
    std::optional<std::uint64_t> block_number;
    std::optional<hash32> block_hash;
    std::optional<hash32> conflicting_tx;
    std::string reason;
};

inline decoded<status_answer> decode_tx_status(const boost::json::value& v) {
    using R = decoded<status_answer>;
    auto fail = [](std::string why) { return R(boost::system::in_place_error, std::move(why)); };
    auto st = detail::as_string(detail::member(v, "status"));
    if (!st) return fail("status missing or not a string");
    status_answer a;
    if (*st == "unknown") a.state = tx_state::unknown;
    else if (*st == "pending") a.state = tx_state::pending;
    else if (*st == "final") a.state = tx_state::final;
    else if (*st == "dropped") a.state = tx_state::dropped;
    else return fail("status \"" + st->substr(0, 32) + "\" is none of unknown/pending/final/dropped");
    a.block_number = detail::as_u64(detail::member(v, "block_number"));
    a.block_hash = detail::as_hash(detail::member(v, "block_hash"));
    if (a.state == tx_state::final && (!a.block_number || !a.block_hash)) return fail("final without block_number/block_hash");
    if (a.state == tx_state::dropped) {
        a.conflicting_tx = detail::as_hash(detail::member(v, "conflicting_tx"));
        if (!a.conflicting_tx) return fail("dropped without conflicting_tx");
        a.reason = detail::as_string(detail::member(v, "reason")).value_or("");
        if (a.reason.size() > 512) a.reason.resize(512);
    }
    return a;
}

inline decoded<chain_state> decode_chain_state(const boost::json::value& v) {
    using R = decoded<chain_state>;
    auto fail = [](std::string why) { return R(boost::system::in_place_error, std::move(why)); };
    if (!v.is_object()) return fail("status is not an object");
    chain_state s;
    auto h = detail::as_u64(detail::member(v, "height"));
    auto hh = detail::as_hash(detail::member(v, "head_hash"));
    auto cid = detail::as_u64(detail::member(v, "chain_id"));
    if (!h || !hh || !cid) return fail("status lacks height, head_hash or chain_id");
    s.height = *h;
    s.head_hash = *hh;
    s.chain_id = *cid;
    s.peers = detail::as_u64(detail::member(v, "peers")).value_or(0);
    s.syncing = detail::as_bool(detail::member(v, "syncing")).value_or(false);
    s.validator = detail::as_string(detail::member(v, "validator")).value_or("");
    if (s.validator.size() > 64) s.validator.resize(64);
    s.pool = detail::as_u64(detail::member(v, "pool")).value_or(0);
    s.quorum = detail::as_u64(detail::member(v, "quorum")).value_or(0);
    s.validators = detail::as_u64(detail::member(v, "validators")).value_or(0);
    s.block_interval_ms = detail::as_u64(detail::member(v, "block_interval_ms")).value_or(0);
    s.max_block_txs = detail::as_u64(detail::member(v, "max_block_txs")).value_or(0);
    return s;
}

inline decoded<integrity_report> decode_integrity(const boost::json::value& v) {
    using R = decoded<integrity_report>;
    auto fail = [](std::string why) { return R(boost::system::in_place_error, std::move(why)); };
    integrity_report r;
    auto ok = detail::as_bool(detail::member(v, "ok"));
    auto complete = detail::as_bool(detail::member(v, "complete"));
    auto head = detail::as_u64(detail::member(v, "head"));
    if (!ok || !complete || !head) return fail("verification report lacks ok, complete or head");
    r.ok = *ok;
    r.complete = *complete;
    r.head = *head;
    r.blocks_checked = detail::as_u64(detail::member(v, "blocks_checked")).value_or(0);
    r.txs_checked = detail::as_u64(detail::member(v, "txs_checked")).value_or(0);
    r.verified_height = detail::as_u64(detail::member(v, "verified_height"));
    r.verified_hash = detail::as_hash(detail::member(v, "verified_hash"));
    if (r.verified_height.has_value() != r.verified_hash.has_value()) return fail("verified_height without verified_hash");
    r.bad_height = detail::as_u64(detail::member(v, "bad_height"));
    r.reason = detail::as_string(detail::member(v, "reason")).value_or("");
    r.detail = detail::as_string(detail::member(v, "detail")).value_or("");
    if (r.reason.size() > 512) r.reason.resize(512);
    if (r.detail.size() > 4096) r.detail.resize(4096);
    return r;
}

/// poa_getResults: {"election_id","results":{"candidate":count},"total_votes","height"}.
/// At most 65,536 candidates; the total must be the sum.
inline decoded<tally> decode_tally(const boost::json::value& v) {
    using R = decoded<tally>;
    auto fail = [](std::string why) { return R(boost::system::in_place_error, std::move(why)); };
    tally t;
    auto e = detail::as_u64(detail::member(v, "election_id"));
    auto total = detail::as_u64(detail::member(v, "total_votes"));
    auto h = detail::as_u64(detail::member(v, "height"));
    const auto* res = detail::member(v, "results");
    if (!e || !total || !h || !res || !res->is_object()) return fail("results lack election_id, results, total_votes or height");
    if (res->as_object().size() > 65536) return fail("more than 65,536 candidates");
    t.election_id = *e;
    t.height = *h;
    std::uint64_t sum = 0;
    for (const auto& kv : res->as_object()) {
        std::uint64_t cand = 0;
        const std::string_view k = kv.key();
        auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), cand);
        auto n = detail::as_u64(&kv.value());
        if (ec != std::errc{} || p != k.data() + k.size() || k.empty() || !n) return fail("a result is not candidate: count");
        t.results[cand] = *n;
        sum += *n;
    }
    if (sum != *total) return fail("total_votes is not the sum of the results");
    t.total = *total;
    return t;
}

inline decoded<head_event> decode_head_event(const boost::json::value& v) {
    using R = decoded<head_event>;
    auto h = detail::as_u64(detail::member(v, "height"));
    auto hh = detail::as_hash(detail::member(v, "head_hash"));
    auto to = detail::as_bool(detail::member(v, "timed_out"));
    if (!h || !hh || !to) return R(boost::system::in_place_error, "wait answer lacks height, head_hash or timed_out");
    return head_event{*h, *hh, *to};
}

}  // namespace ballotchain::client
