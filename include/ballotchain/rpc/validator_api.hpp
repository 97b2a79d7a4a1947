#pragma once
/// @file The validator's JSON-RPC methods (Ethereum names so standard tools can
/// read the chain, plus poa_*), and the JSON of /health and /blockchain.
/// Reference: docs/api.md.

#include <ballotchain/ledger/verify.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/crypto/suite.hpp>
#include <ballotchain/rpc/health.hpp>
#include <ballotchain/rpc/jsonrpc.hpp>

#include <algorithm>
#include <charconv>
#include <variant>

namespace ballotchain::rpc {

/// What a validator knows of a transaction (poa_getTransactionStatus).
///
/// An acknowledgement (the tx hash answered by eth_sendRawTransaction) means
/// the validator that gave it stored the vote durably and will keep it until
/// it is final or provably never can be: a vote from the same voter tag in the
/// same election became final first. Such a vote is `dropped`, and the
/// validator that acknowledged it remembers that (durably, bounded) with the
/// winner. Other validators may not know the vote at all (`unknown`).
struct tx_status {
    enum class state { unknown, pending, final, dropped };
    state status = state::unknown;
    std::optional<tx_location> location;            ///< final: where
    std::optional<hash32> block_hash;               ///< final: the hash of that block
    std::optional<hash32> conflicting_tx;           ///< dropped: the final vote that won
    std::optional<std::uint64_t> conflicting_block; ///< dropped: its block number
    std::optional<hash32> conflicting_block_hash;   ///< dropped: its block hash
    std::string reason;                             ///< dropped: in words
};

inline const char* to_string(tx_status::state s) noexcept {
    switch (s) {
    case tx_status::state::unknown: return "unknown";
    case tx_status::state::pending: return "pending";
    case tx_status::state::final: return "final";
    case tx_status::state::dropped: return "dropped";
    }
    return "unknown";
}

/// What the RPC layer needs from a validator.
///
/// | expression                | type                          |
/// |---------------------------|-------------------------------|
/// | `typename N::suite_type`  | the chain's `suite` (hashes in answers, addresses) |
/// | `n.genesis()`             | const genesis_config&         |
/// | `n.height()`              | std::uint64_t (last final)    |
/// | `n.head_hash()`           | hash32                        |
/// | `n.block_at(h)`           | result<finalized_block>       |
/// | `n.raw_block_at(h)`       | result<bytes> (block ‖ certificate, data-format.md §7) |
/// | `n.height_of(bh)`         | std::optional<std::uint64_t>  |
/// | `n.find_tx(th)`           | std::optional<tx_location>    |
/// | `n.pending_tx(th)`        | const vote_tx* (or null)      |
/// | `n.submit(tx)`            | result<hash32>                |
/// | `n.peer_count()`          | std::size_t                   |
/// | `n.syncing()`             | bool                          |
/// | `n.validator_index()`     | std::uint32_t (genesis index) |
/// | `n.pool_size()`           | std::size_t                   |
/// | `n.tally(e)`              | tally_map                     |
/// | `n.elections()`           | const election::election_registry& (the head's election state) |
/// | `n.tx_status(th)`         | tx_status                     |
/// | `n.verify_chain()`        | verify_report: verifies the blocks added since the last call (all at the first) |
template <class N>
concept node_view = suite<typename N::suite_type> && requires(N& n, const N& cn, const hash32& h, std::uint64_t u, vote_tx tx) {
    { cn.genesis() } -> std::convertible_to<const genesis_config&>;
    { cn.height() } -> std::same_as<std::uint64_t>;
    { cn.head_hash() } -> std::same_as<hash32>;
    { cn.block_at(u) } -> std::same_as<result<finalized_block>>;
    { cn.raw_block_at(u) } -> std::same_as<result<bytes>>;
    { cn.height_of(h) } -> std::same_as<std::optional<std::uint64_t>>;
    { cn.find_tx(h) } -> std::same_as<std::optional<tx_location>>;
    { cn.election_txs(u, std::size_t{}) } -> std::same_as<result<std::vector<std::pair<tx_location, vote_tx>>>>;
    { cn.pending_tx(h) } -> std::same_as<const vote_tx*>;
    { n.submit(tx) } -> std::same_as<result<hash32>>;
    { n.submit_many(std::vector<vote_tx>{}) } -> std::same_as<std::vector<result<hash32>>>;
    { cn.peer_count() } -> std::same_as<std::size_t>;
    { cn.syncing() } -> std::same_as<bool>;
    { cn.validator_index() } -> std::same_as<std::uint32_t>;
    { cn.pool_size() } -> std::same_as<std::size_t>;
    { cn.tally(u) } -> std::same_as<tally_map>;
    { cn.elections() } -> std::convertible_to<const election::election_registry&>;
    { cn.tx_status(h) } -> std::same_as<tx_status>;
    { n.verify_chain() } -> std::same_as<ledger::verify_report>;
};

inline constexpr std::string_view client_version = "ballotchain/0.1.0";

/// JSON-RPC error for a refused transaction.
inline rpc_error tx_error(const error_code& ec) {
    using chain::errc;
    int c = code::server_error;
    if (ec == make_error(errc::invalid_signature)) c = tx_code::invalid_signature;
    else if (ec == make_error(errc::unauthorized_submitter)) c = tx_code::unauthorized_submitter;
    else if (ec == make_error(errc::duplicate_vote)) c = tx_code::duplicate_vote;
    else if (ec == make_error(errc::duplicate_tx)) c = tx_code::duplicate_tx;
    else if (ec == make_error(errc::pool_full)) c = tx_code::pool_full;
    else if (ec == make_error(errc::batch_refused)) c = tx_code::batch_refused;
    else if (ec == make_error(errc::vote_too_large)) c = tx_code::vote_too_large;
    else if (ec == make_error(errc::wrong_chain_id)) c = tx_code::wrong_chain;
    else if (is_category<storage_ns::errc>(ec)) c = tx_code::storage;
    else if (ec == make_error(errc::unknown_election)) c = tx_code::unknown_election;
    else if (ec == make_error(errc::unknown_candidate)) c = tx_code::unknown_candidate;
    else if (ec == make_error(errc::outside_voting_window)) c = tx_code::outside_voting_window;
    else if (ec == make_error(errc::bad_validator_change)) c = tx_code::bad_validator_change;
    else if (ec == make_error(errc::change_out_of_order)) c = tx_code::change_out_of_order;
    else if (ec == make_error(errc::change_pending)) c = tx_code::change_pending;
    else if (ec == make_error(errc::change_bad_height)) c = tx_code::change_bad_height;
    else if (ec == make_error(errc::change_not_approved)) c = tx_code::change_not_approved;
    else if (ec == make_error(errc::bad_change_approval)) c = tx_code::bad_change_approval;
    else if (is_category<chain::errc>(ec) && static_cast<int>(ec.value()) >= static_cast<int>(errc::bad_election_record))
        c = tx_code::election_rule;
    return {c, ec.message(), std::nullopt};
}

/// An election as the chain knows it (poa_getElection): its definition, the key ceremony,
/// the ballots counted and, once decrypted, the tally by candidate id.
inline boost::json::object election_json(std::uint64_t id, const election::election_state& e) {
    using boost::json::array;
    using boost::json::object;
    array candidates;
    for (const auto& c : e.def.candidates) candidates.push_back(object{{"id", c.id}, {"name", c.name}});
    object o{{"election_id", id},
             {"name", e.def.name},
             {"ballot", e.def.ballot == election::ballot_kind::encrypted ? "encrypted" : "plain"},
             {"candidates", std::move(candidates)},
             {"start_ms", e.def.start_ms},
             {"end_ms", e.def.end_ms},
             {"defined_ms", e.defined_ms},
             {"phase", election::to_string(e.ph)}};
    if (e.def.ballot != election::ballot_kind::encrypted) return o;
    auto ids = [](const auto& xs) {
        array a;
        for (const auto& x : xs) a.push_back(x);
        return a;
    };
    std::vector<std::uint32_t> dealers, verdicts;
    for (const auto& [i, _] : e.dealings) dealers.push_back(i);
    o["key_deadline_ms"] = e.def.key_deadline_ms;
    o["threshold"] = e.def.threshold;
    o["dealers"] = ids(dealers);
    o["verdicts"] = ids(std::vector<std::uint32_t>(e.verdicts.begin(), e.verdicts.end()));
    o["disqualified"] = ids(std::vector<std::uint32_t>(e.disqualified.begin(), e.disqualified.end()));
    o["qualified"] = ids(e.qualified);
    if (e.ph == election::phase::ready) o["election_key"] = to_hex(e.key.view());
    o["ballots"] = e.ballots;
    o["decrypted_by"] = ids(e.decrypted_by);
    std::vector<std::uint32_t> shares;
    for (const auto& [j, _] : e.decryptions) shares.push_back(j);
    o["decryptions"] = ids(shares);
    if (e.tally) {
        object t;
        for (std::size_t k = 0; k < e.def.candidates.size(); ++k) t[std::to_string(e.def.candidates[k].id)] = (*e.tally)[k];
        o["results"] = std::move(t);
    } else {
        o["results"] = nullptr;
    }
    return o;
}

// ---- Ethereum JSON shapes ------------------------------------------------------------

inline std::string quantity(std::uint64_t v) {
    char buf[24] = "0x";
    auto [p, ec] = std::to_chars(buf + 2, buf + sizeof buf, v, 16);
    (void)ec;
    return std::string(buf, p);
}

/// A 20-byte "address" for a key: the last 20 bytes of the suite's hash of the
/// public key (SHA-256 in production).
template <suite Suite>
std::string address_of(const public_key& k) {
    const hash32 h = Suite::hash(k.view());
    return to_hex(byte_view(h.data.data() + 12, 20));
}

inline const std::string& zero32() {
    static const std::string z = "0x" + std::string(64, '0');
    return z;
}

template <suite Suite>
boost::json::object eth_tx(const vote_tx& tx, const hash32& th, const genesis_config& g,
                                  const finalized_block* fb, std::optional<tx_location> loc) {
    const hash32 bh = fb ? block_hash<Suite>(fb->blk.header) : hash32{};
    boost::json::object o{{"hash", to_hex(th)},
            {"blockHash", fb ? boost::json::value(to_hex(bh)) : boost::json::value(nullptr)},
            {"blockNumber", loc ? boost::json::value(quantity(loc->height)) : boost::json::value(nullptr)},
            {"transactionIndex", loc ? boost::json::value(quantity(loc->index)) : boost::json::value(nullptr)},
            {"from", address_of<Suite>(tx.submitter)},
            {"to", nullptr},
            {"value", "0x0"},
            {"gas", "0x0"},
            {"gasPrice", "0x0"},
            {"nonce", "0x0"},
            {"input", to_hex(encode(tx))},
            {"type", "0x0"},
            {"chainId", quantity(g.chain_id)},
            // Ed25519 does not fit v/r/s: placeholders; the signature is in "input" and "signature".
            {"v", "0x1b"},
            {"r", zero32()},
            {"s", zero32()},
            {"signature", to_hex(tx.auth.sig)},
            {"batchSize", tx.auth.size},
            {"batchIndex", tx.auth.index},
            {"electionId", quantity(tx.election_id)},
            {"voterTag", to_hex(tx.voter_tag)}};
    if (tx.is_vote())
        o["candidateId"] = quantity(tx.candidate_id);
    else
        o["kind"] = to_string(tx.kind);
    return o;
}

template <suite Suite>
boost::json::object eth_receipt(const vote_tx& tx, const hash32& th, const finalized_block& fb,
                                       const tx_location& loc) {
    return {{"transactionHash", to_hex(th)},
            {"transactionIndex", quantity(loc.index)},
            {"blockHash", to_hex(block_hash<Suite>(fb.blk.header))},
            {"blockNumber", quantity(loc.height)},
            {"from", address_of<Suite>(tx.submitter)},
            {"to", nullptr},
            {"cumulativeGasUsed", "0x0"},
            {"gasUsed", "0x0"},
            {"effectiveGasPrice", "0x0"},
            {"contractAddress", nullptr},
            {"logs", boost::json::array{}},
            {"logsBloom", "0x" + std::string(512, '0')},
            {"status", "0x1"},
            {"type", "0x0"}};
}

template <suite Suite>
boost::json::object eth_block(const finalized_block& fb, const genesis_config& g, const validator_schedule& vs,
                              bool full) {
    const auto& h = fb.blk.header;
    const hash32 bh = block_hash<Suite>(h);
    boost::json::array txs;
    for (std::uint32_t i = 0; i < fb.blk.txs.size(); ++i) {
        const hash32 th = tx_hash<Suite>(fb.blk.txs[i]);
        if (full)
            txs.push_back(eth_tx<Suite>(fb.blk.txs[i], th, g, &fb, tx_location{h.height, i}));
        else
            txs.push_back(boost::json::string(to_hex(th)));
    }
    const std::string miner = vs.known(h.proposer) ? address_of<Suite>(vs.key(h.proposer)) : "0x" + std::string(40, '0');
    return {{"number", quantity(h.height)},
            {"hash", to_hex(bh)},
            {"parentHash", to_hex(h.parent)},
            {"timestamp", quantity(h.timestamp_ms / 1000)},
            {"nonce", "0x0000000000000000"},
            {"difficulty", "0x0"},
            {"totalDifficulty", "0x0"},
            {"gasLimit", "0x0"},
            {"gasUsed", "0x0"},
            {"miner", miner},
            {"extraData", "0x"},
            {"logsBloom", "0x" + std::string(512, '0')},
            {"transactionsRoot", to_hex(h.tx_root)},
            {"stateRoot", zero32()},
            {"receiptsRoot", zero32()},
            {"sha3Uncles", zero32()},
            {"mixHash", zero32()},
            {"uncles", boost::json::array{}},
            {"size", quantity(encode(fb.blk).size())},
            {"baseFeePerGas", "0x0"},
            {"transactions", std::move(txs)},
            {"round", h.round},
            {"proposer", h.proposer},
            {"timestampMs", h.timestamp_ms},
            {"chainId", quantity(h.chain_id)},
            {"proposerSignature", to_hex(fb.blk.proposer_sig)},
            {"certificate", json::to_json(fb.cert)}};
}

/// poa_getTransactionStatus's answer.
inline boost::json::object tx_status_json(const tx_status& st) {
    using boost::json::value;
    auto hex_or_null = [](const std::optional<hash32>& h) { return h ? value(to_hex(*h)) : value(nullptr); };
    boost::json::object o{{"status", to_string(st.status)},
                          {"block_number", st.location ? value(st.location->height) : value(nullptr)},
                          {"block_hash", hex_or_null(st.block_hash)},
                          {"transaction_index", st.location ? value(st.location->index) : value(nullptr)}};
    if (st.status == tx_status::state::dropped) {
        o["reason"] = st.reason;
        o["conflicting_tx"] = hex_or_null(st.conflicting_tx);
        o["conflicting_block"] = st.conflicting_block ? value(*st.conflicting_block) : value(nullptr);
        o["conflicting_block_hash"] = hex_or_null(st.conflicting_block_hash);
    }
    return o;
}

/// poa_verifyChain's answer.
inline boost::json::object verify_json(const ledger::verify_report& r) {
    using boost::json::value;
    boost::json::object o{{"ok", r.ok},
                          {"complete", r.complete()},
                          {"blocks_checked", r.blocks_checked},
                          {"txs_checked", r.txs_checked},
                          {"verified_height", r.verified ? value(r.verified->height) : value(nullptr)},
                          {"verified_hash", r.verified ? value(to_hex(r.verified->hash)) : value(nullptr)},
                          {"head", r.head}};
    if (!r.ok) {
        o["bad_height"] = r.bad_height ? value(*r.bad_height) : value(nullptr);
        o["reason"] = r.reason.message();
        o["detail"] = r.detail;
    }
    return o;
}

// ---- params -------------------------------------------------------------------------------

namespace detail {
inline const boost::json::array* params_array(const boost::json::value& p) { return p.is_array() ? &p.as_array() : nullptr; }

inline std::optional<hash32> param_hash(const boost::json::array& a, std::size_t i) {
    if (i >= a.size() || !a[i].is_string()) return std::nullopt;
    auto h = from_hex_fixed<32>(std::string_view(a[i].as_string()));
    if (!h) return std::nullopt;
    return *h;
}

/// A block number: 0x-quantity or a tag. nullopt = invalid.
template <class Node>
std::optional<std::uint64_t> param_block(const Node& n, const boost::json::value& v) {
    if (!v.is_string()) return std::nullopt;
    const std::string_view s = v.as_string();
    if (s == "latest" || s == "pending" || s == "safe" || s == "finalized") return n.height();
    if (s == "earliest") return 0;
    return parse_quantity(s);
}

inline std::optional<std::uint64_t> param_u64(const boost::json::value& v) {
    if (v.is_uint64()) return v.as_uint64();
    if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
    if (v.is_string()) {
        const std::string_view s = v.as_string();
        std::uint64_t out = 0;
        const bool hex = s.size() > 2 && s.substr(0, 2) == "0x";
        auto [p, ec] = std::from_chars(s.data() + (hex ? 2 : 0), s.data() + s.size(), out, hex ? 16 : 10);
        if (ec == std::errc{} && p == s.data() + s.size() && !s.empty()) return out;
    }
    return std::nullopt;
}
}  // namespace detail

// ---- poa_getRawBlocks and poa_waitForBlock -----------------------------------------------

/// poa_getRawBlocks answers at most this many blocks per call...
inline constexpr std::uint64_t raw_blocks_max_count = 256;
/// ...and stops before its hex text passes this many characters (the first block is
/// always answered, whatever its size, as poa_getRawBlock would).
inline constexpr std::size_t raw_blocks_max_hex_chars = 4u << 20;

/// poa_getValidatorChanges answers at most this many changes per call (a client asks again
/// from the next sequence), stopping early, as poa_getRawBlocks does, before its hex text
/// passes raw_blocks_max_hex_chars (the first change always comes).
inline constexpr std::uint64_t validator_changes_max_count = 16;

/// poa_waitForBlock's longest wait.
inline constexpr std::uint64_t wait_for_block_timeout_ms_max = 30'000;

/// poa_waitForBlock's params, `[after_height, timeout_ms]` (each an integer, or a
/// 0x-quantity or decimal string).
struct wait_for_block_params {
    std::uint64_t after_height = 0;
    std::uint64_t timeout_ms = 0;  ///< 0..wait_for_block_timeout_ms_max
};

/// Reads poa_waitForBlock's params; -32602 saying which is wrong.
inline std::variant<wait_for_block_params, rpc_error> read_wait_for_block_params(const boost::json::value& p) {
    if (!p.is_array() || p.as_array().size() != 2) return invalid_params("expected [after_height, timeout_ms]");
    const auto& a = p.as_array();
    const auto after = detail::param_u64(a[0]);
    if (!after) return invalid_params("after_height must be an unsigned integer");
    const auto timeout = detail::param_u64(a[1]);
    if (!timeout || *timeout > wait_for_block_timeout_ms_max)
        return invalid_params("timeout_ms must be an integer in 0.." + std::to_string(wait_for_block_timeout_ms_max));
    return wait_for_block_params{*after, *timeout};
}

/// poa_waitForBlock's answer now: `{"height", "head_hash", "timed_out"}`, timed_out
/// when no block above `after_height` is final (yet).
template <node_view Node>
boost::json::object wait_for_block_json(const Node& n, std::uint64_t after_height) {
    const std::uint64_t h = n.height();
    return {{"height", h}, {"head_hash", to_hex(n.head_hash())}, {"timed_out", !(h > after_height)}};
}

/// classify_health()'s verdict and what it was made from, into a /health object:
/// "status" (ok, degraded, failing), "reasons", "peers_connected", "peers_needed",
/// "quorum", "seconds_since_final_block" (null: none since start), "pending",
/// "pending_wait_seconds", "round", "round_changes", "faults" (local faults since start).
inline void put_health(boost::json::object& o, const health_inputs& in, std::uint64_t faults) {
    const auto r = classify_health(in);
    boost::json::array reasons;
    for (const auto& s : r.reasons) reasons.push_back(boost::json::string(s));
    o["status"] = to_string(r.status);
    o["reasons"] = std::move(reasons);
    o["peers_connected"] = in.peers_connected;
    o["peers_needed"] = r.peers_needed;
    o["quorum"] = in.quorum;
    o["seconds_since_final_block"] = in.since_final_ms ? boost::json::value(*in.since_final_ms / 1000)
                                                       : boost::json::value(nullptr);
    o["pending"] = in.pending;
    o["pending_wait_seconds"] = in.pending_wait_ms / 1000;
    o["round"] = in.round;
    o["round_changes"] = in.round_changes;
    o["faults"] = faults;
    o["in_validator_set"] = in.in_set;
    o["sign_floor"] = in.sign_floor > in.deciding ? boost::json::value(in.sign_floor) : boost::json::value(nullptr);
}

/// {"status", "height", "blocks", "peers", "syncing", "validator", "pool", "chain_id", "head_hash"};
/// "height" is the last final block's number and "blocks" counts the blocks with block 0
/// (height + 1), as /blockchain does. A node with `health_inputs()` and `local_faults()`
/// (the validator) adds put_health()'s fields and its verdict; otherwise "status" is "ok".
template <node_view Node>
boost::json::object health_json(const Node& n) {
    boost::json::object o{{"status", "ok"},
                          {"height", n.height()},
                          {"blocks", n.height() + 1},
                          {"peers", n.peer_count()},
                          {"syncing", n.syncing()},
                          {"validator", n.validator_index() == 0xFFFFFFFFu
                                            ? std::string("none (key in no validator set yet)")
                                            : "validator-" + std::to_string(n.validator_index() + 1)},
                          {"pool", n.pool_size()},
                          {"chain_id", n.genesis().chain_id},
                          {"head_hash", to_hex(n.head_hash())}};
    if constexpr (requires { n.health_inputs(); n.local_faults(); }) put_health(o, n.health_inputs(), n.local_faults());
    return o;
}

/// GET /blockchain, the original design's troubleshooting view (docs/api.md):
/// block count, head, and (bounded) the election's most recent votes with the tally.
template <node_view Node>
boost::json::object blockchain_json(const Node& n, std::optional<std::uint64_t> election, std::size_t max_votes = 1000) {
    using Suite = typename Node::suite_type;
    boost::json::object o{{"blocks", n.height() + 1}, {"height", n.height()}, {"head_hash", to_hex(n.head_hash())}};
    if (!election) return o;
    o["election_id"] = *election;
    boost::json::array votes;
    // From the election's index (its latest transactions, each read from its block): the same
    // cost on a chain of ten thousand votes as on one of ten million.
    if (auto txs = n.election_txs(*election, max_votes)) {
        for (const auto& [loc, tx] : *txs) {
            boost::json::object v{{"tx_hash", to_hex(tx_hash<Suite>(tx))},
                                  {"block_number", loc.height},
                                  {"timestamp_ms", tx.timestamp_ms}};
            if (tx.is_vote())
                v["candidate_id"] = tx.candidate_id;
            else
                v["kind"] = to_string(tx.kind);
            votes.push_back(std::move(v));
        }
    }
    o["votes"] = std::move(votes);
    boost::json::object tally;
    std::uint64_t total = 0;
    for (auto [cand, count] : n.tally(*election)) {
        tally[std::to_string(cand)] = count;
        total += count;
    }
    o["tally"] = std::move(tally);
    o["total_votes"] = total;
    return o;
}

/// Registers every method of docs/api.md on `t`, bound to `n` (which must outlive `t`).
template <node_view Node>
void add_validator_methods(method_table& t, Node& n) {
    using Suite = typename Node::suite_type;
    using boost::json::value;
    using detail::params_array;

    t["web3_clientVersion"] = [](const value&) -> reply { return value(client_version); };
    t["eth_chainId"] = [&n](const value&) -> reply { return value(quantity(n.genesis().chain_id)); };
    t["net_version"] = [&n](const value&) -> reply { return value(std::to_string(n.genesis().chain_id)); };
    t["net_peerCount"] = [&n](const value&) -> reply { return value(quantity(n.peer_count())); };
    t["net_listening"] = [](const value&) -> reply { return value(true); };
    t["eth_blockNumber"] = [&n](const value&) -> reply { return value(quantity(n.height())); };
    t["eth_syncing"] = [&n](const value&) -> reply { return value(n.syncing()); };
    t["eth_gasPrice"] = [](const value&) -> reply { return value("0x0"); };

    auto submit = [&n](const vote_tx& tx) -> reply {
        auto r = n.submit(tx);
        if (!r) return tx_error(r.error());
        return value(to_hex(*r));
    };
    t["eth_sendRawTransaction"] = [submit](const value& p) -> reply {
        const auto* a = params_array(p);
        if (!a || a->size() != 1 || !(*a)[0].is_string()) return invalid_params("expected [\"0x<encoded transaction>\"]");
        auto raw = from_hex(std::string_view((*a)[0].as_string()), 128 * 1024);
        if (!raw) return invalid_params("transaction: " + raw.error().message());
        auto tx = decode_tx(*raw);
        if (!tx) return invalid_params("transaction does not decode: " + tx.error().message());
        return submit(*tx);
    };
    // Many raw transactions in one call: each admitted or refused on its own, one durable
    // write for all (docs/api.md). Answers in order: {"hash"} or {"error":{"code","message"}}.
    t["poa_sendRawTransactions"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        const auto* list = a && a->size() == 1 ? (*a)[0].if_array() : nullptr;
        if (!list || list->empty() || list->size() > max_raw_transactions)
            return invalid_params("expected [[\"0x<encoded transaction>\", ...]] with 1.." +
                                  std::to_string(max_raw_transactions) + " transactions");
        std::vector<std::optional<rpc_error>> bad(list->size());
        std::vector<vote_tx> txs;
        std::vector<std::size_t> at;  // txs[k] is list item at[k]
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto& item = (*list)[i];
            if (!item.is_string()) {
                bad[i] = rpc_error{code::invalid_params, "transaction " + std::to_string(i) + ": expected a 0x string", std::nullopt};
                continue;
            }
            auto raw = from_hex(std::string_view(item.as_string()), 128 * 1024);
            auto tx = raw ? decode_tx(*raw) : result<vote_tx>(raw.error());
            if (!tx) {
                bad[i] = rpc_error{code::invalid_params, "transaction " + std::to_string(i) + " does not decode: " + tx.error().message(), std::nullopt};
                continue;
            }
            txs.push_back(std::move(*tx));
            at.push_back(i);
        }
        // A vote refused with its batch: the answer names the vote that was refused for what it is.
        const auto leader = batch_leaders(txs);
        auto res = txs.empty() ? std::vector<result<hash32>>{} : n.submit_many(std::move(txs));
        // Per batch with a vote refused for what it is, the message its other votes get. The vote's
        // id is decoded again from its item: only for a refused batch, off the common path.
        std::map<std::size_t, std::string> refused_batch;  // by leader
        for (std::size_t k = 0; k < res.size(); ++k) {
            if (res[k] || !refuses_batch(res[k].error()) || refused_batch.contains(leader[k])) continue;
            auto raw = from_hex(std::string_view((*list)[at[k]].as_string()), 128 * 1024);
            auto tx = raw ? decode_tx(*raw) : result<vote_tx>(raw.error());
            refused_batch[leader[k]] = "batch refused as a whole: its vote " +
                                       (tx ? to_hex(tx_hash<Suite>(*tx)) : std::string("?")) + " (transaction " +
                                       std::to_string(at[k]) + ") was refused: " + res[k].error().message();
        }
        boost::json::array out(list->size());
        for (std::size_t k = 0; k < res.size(); ++k) {
            if (res[k]) {
                out[at[k]] = boost::json::object{{"hash", to_hex(*res[k])}};
                continue;
            }
            bad[at[k]] = tx_error(res[k].error());
            if (auto c = refused_batch.find(leader[k]);
                c != refused_batch.end() && res[k].error() == make_error(chain::errc::batch_refused))
                bad[at[k]]->message = c->second;
        }
        for (std::size_t i = 0; i < bad.size(); ++i)
            if (bad[i])
                out[i] = boost::json::object{{"error", boost::json::object{{"code", bad[i]->code}, {"message", bad[i]->message}}}};
        return value(std::move(out));
    };
    t["eth_sendTransaction"] = [submit](const value& p) -> reply {
        const auto* a = params_array(p);
        if (!a || a->size() != 1) return invalid_params("expected [transaction object]");
        auto tx = json::tx_from_json((*a)[0]);
        if (!tx) return invalid_params("transaction object: " + tx.error().message());
        return submit(*tx);
    };
    t["eth_getTransactionByHash"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        auto th = a && a->size() == 1 ? detail::param_hash(*a, 0) : std::nullopt;
        if (!th) return invalid_params("expected [\"0x<32-byte tx hash>\"]");
        if (auto loc = n.find_tx(*th)) {
            auto fb = n.block_at(loc->height);
            if (!fb || loc->index >= fb->blk.txs.size()) return rpc_error{-32010, "storage error", {}};
            return value(eth_tx<Suite>(fb->blk.txs[loc->index], *th, n.genesis(), &*fb, loc));
        }
        if (const vote_tx* tx = n.pending_tx(*th)) return value(eth_tx<Suite>(*tx, *th, n.genesis(), nullptr, std::nullopt));
        return value(nullptr);
    };
    t["eth_getTransactionReceipt"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        auto th = a && a->size() == 1 ? detail::param_hash(*a, 0) : std::nullopt;
        if (!th) return invalid_params("expected [\"0x<32-byte tx hash>\"]");
        auto loc = n.find_tx(*th);
        if (!loc) return value(nullptr);
        auto fb = n.block_at(loc->height);
        if (!fb || loc->index >= fb->blk.txs.size()) return rpc_error{-32010, "storage error", {}};
        return value(eth_receipt<Suite>(fb->blk.txs[loc->index], *th, *fb, *loc));
    };
    t["eth_getBlockByNumber"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        if (!a || a->empty() || a->size() > 2) return invalid_params("expected [block number or tag, full?]");
        auto h = detail::param_block(n, (*a)[0]);
        if (!h) return invalid_params("block must be 0x-quantity or latest/earliest/pending/safe/finalized");
        const bool full = a->size() == 2 && (*a)[1].is_bool() && (*a)[1].as_bool();
        if (a->size() == 2 && !(*a)[1].is_bool()) return invalid_params("full must be a boolean");
        if (*h > n.height()) return value(nullptr);
        auto fb = n.block_at(*h);
        if (!fb) return value(nullptr);
        return value(eth_block<Suite>(*fb, n.genesis(), n.elections().validators(), full));
    };
    t["eth_getBlockByHash"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        auto bh = a && !a->empty() && a->size() <= 2 ? detail::param_hash(*a, 0) : std::nullopt;
        if (!bh) return invalid_params("expected [\"0x<32-byte block hash>\", full?]");
        if (a->size() == 2 && !(*a)[1].is_bool()) return invalid_params("full must be a boolean");
        const bool full = a->size() == 2 && (*a)[1].as_bool();
        auto h = n.height_of(*bh);
        if (!h) return value(nullptr);
        auto fb = n.block_at(*h);
        if (!fb) return value(nullptr);
        return value(eth_block<Suite>(*fb, n.genesis(), n.elections().validators(), full));
    };
    t["eth_getBlockTransactionCountByNumber"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        auto h = a && a->size() == 1 ? detail::param_block(n, (*a)[0]) : std::nullopt;
        if (!h) return invalid_params("expected [block number or tag]");
        auto fb = *h <= n.height() ? n.block_at(*h) : result<finalized_block>(make_error(storage_ns::errc::not_found));
        if (!fb) return value(nullptr);
        return value(quantity(fb->blk.txs.size()));
    };

    // ---- poa_* ----
    t["poa_validators"] = [&n](const value&) -> reply {
        // The set deciding the next height (protocol.md §12); `index` is the validator's id.
        const auto& vs = n.elections().validators();
        boost::json::array out;
        for (auto id : vs.at(n.height() + 1).members)
            out.push_back({{"index", id},
                           {"name", vs.registry()[id].name},
                           {"public_key", to_hex(vs.key(id))},
                           {"address", address_of<Suite>(vs.key(id))}});
        return value(std::move(out));
    };
    t["poa_validatorSet"] = [&n](const value&) -> reply {
        // Every set the chain has scheduled, and the registry of ids (protocol.md §12).
        const auto& vs = n.elections().validators();
        boost::json::array registry, epochs;
        for (std::size_t i = 0; i < vs.registry().size(); ++i)
            registry.push_back({{"id", i}, {"name", vs.registry()[i].name}, {"public_key", to_hex(vs.registry()[i].key)}});
        for (const auto& e : vs.epochs()) {
            boost::json::array members, subs;
            for (auto id : e.members) members.push_back(id);
            for (const auto& k : e.submitters) subs.push_back(boost::json::string(to_hex(k)));
            epochs.push_back({{"from_height", e.from}, {"members", std::move(members)}, {"quorum", e.quorum()},
                              {"submitters", std::move(subs)}});
        }
        return value(boost::json::object{{"changes", vs.changes()},
                                         {"chain_id", n.genesis().chain_id},
                                         {"next_height", n.height() + 1},
                                         {"registry", std::move(registry)},
                                         {"epochs", std::move(epochs)}});
    };
    t["poa_getValidatorChanges"] = [&n](const value& p) -> reply {
        // Change `from`, `from`+1, ... (1-based sequence numbers), each with the finalized block
        // that recorded it, so a client holding only the genesis can check each change's block
        // against the set it knows so far and learn the next set (docs/client.md).
        const auto* a = params_array(p);
        const auto from = a && a->size() == 1 ? detail::param_u64((*a)[0]) : std::nullopt;
        if (!from || *from == 0) return invalid_params("expected [from_sequence] (1-based)");
        const auto& vs = n.elections().validators();
        boost::json::array out;
        std::size_t chars = 0;
        for (std::uint64_t seq = *from; seq <= vs.changes() && out.size() < validator_changes_max_count; ++seq) {
            const auto& e = vs.epochs()[static_cast<std::size_t>(seq)];
            auto raw = n.raw_block_at(e.recorded_at);
            if (!raw) {
                if (out.empty()) return rpc_error{tx_code::storage, "storage error: " + raw.error().message(), {}};
                break;
            }
            const std::size_t len = 2 + 2 * raw->size();
            if (!out.empty() && len > raw_blocks_max_hex_chars - chars) break;
            chars += len;
            out.push_back({{"sequence", seq},
                           {"height", e.recorded_at},
                           {"effective_height", e.from},
                           {"raw_block", to_hex(*raw)}});
            if (chars >= raw_blocks_max_hex_chars) break;
        }
        return value(std::move(out));
    };
    t["poa_status"] = [&n](const value&) -> reply {
        auto o = health_json(n);
        const auto& set = n.elections().validators().at(n.height() + 1);
        o["quorum"] = set.quorum();
        o["validators"] = set.n();
        o["validator_set_changes"] = n.elections().validators().changes();
        o["block_interval_ms"] = n.genesis().block_interval_ms;
        o["max_block_txs"] = n.genesis().max_block_txs;
        return value(std::move(o));
    };
    t["poa_getResults"] = [&n](const value& p) -> reply {
        std::optional<std::uint64_t> e;
        if (const auto* a = params_array(p); a && a->size() == 1) e = detail::param_u64((*a)[0]);
        else if (p.is_object() && p.as_object().contains("election_id")) e = detail::param_u64(p.as_object().at("election_id"));
        if (!e) return invalid_params("expected [election_id] or {\"election_id\": N}");
        boost::json::object tally;
        std::uint64_t total = 0;
        for (auto [cand, count] : n.tally(*e)) {
            tally[std::to_string(cand)] = count;
            total += count;
        }
        return value(boost::json::object{{"election_id", *e}, {"results", std::move(tally)}, {"total_votes", total},
                                         {"height", n.height()}});
    };
    t["poa_getElection"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        std::optional<std::uint64_t> e = a && a->size() == 1 ? detail::param_u64((*a)[0]) : std::nullopt;
        if (!e) return invalid_params("expected [election_id]");
        const auto* st = n.elections().find(*e);
        if (!st) return value(nullptr);
        auto o = election_json(*e, *st);
        o["height"] = n.height();
        return value(std::move(o));
    };
    t["poa_getVotes"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        std::optional<std::uint64_t> e = a && !a->empty() && a->size() <= 2 ? detail::param_u64((*a)[0]) : std::nullopt;
        std::optional<std::uint64_t> limit = a && a->size() == 2 ? detail::param_u64((*a)[1]) : std::optional<std::uint64_t>(100);
        if (!e || !limit || *limit == 0 || *limit > 1000) return invalid_params("expected [election_id, limit 1..1000]");
        return value(blockchain_json(n, e, static_cast<std::size_t>(*limit)));
    };
    t["poa_verifyChain"] = [&n](const value&) -> reply { return value(verify_json(n.verify_chain())); };
    t["poa_getRawBlock"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        auto h = a && a->size() == 1 ? detail::param_block(n, (*a)[0]) : std::nullopt;
        if (!h) return invalid_params("expected [block number or tag]");
        if (*h > n.height()) return value(nullptr);
        auto raw = n.raw_block_at(*h);
        if (!raw) return value(nullptr);
        return value(to_hex(*raw));
    };
    t["poa_getRawBlocks"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        if (!a || a->size() != 2)
            return invalid_params("expected [from (block number or tag), count 1.." + std::to_string(raw_blocks_max_count) + "]");
        const auto from = detail::param_block(n, (*a)[0]);
        if (!from) return invalid_params("from must be 0x-quantity or latest/earliest/pending/safe/finalized");
        const auto count = detail::param_u64((*a)[1]);
        if (!count || *count == 0 || *count > raw_blocks_max_count)
            return invalid_params("count must be an integer in 1.." + std::to_string(raw_blocks_max_count));
        const std::uint64_t head = n.height();
        boost::json::array blocks;
        if (*from <= head) {
            const std::uint64_t last = *from + std::min(*count - 1, head - *from);
            blocks.reserve(static_cast<std::size_t>(last - *from + 1));
            std::size_t chars = 0;
            for (std::uint64_t h = *from; h <= last; ++h) {
                auto raw = n.raw_block_at(h);
                if (!raw) {
                    // A block this node cannot read: answer the ones before it (the client asks
                    // again from there), or the storage error when there are none.
                    if (blocks.empty()) return rpc_error{tx_code::storage, "storage error: " + raw.error().message(), {}};
                    break;
                }
                const std::size_t len = 2 + 2 * raw->size();
                if (!blocks.empty() && len > raw_blocks_max_hex_chars - chars) break;
                chars += len;
                blocks.push_back(boost::json::string(to_hex(*raw)));
                if (chars >= raw_blocks_max_hex_chars) break;
            }
        }
        return value(boost::json::object{{"from", *from}, {"blocks", std::move(blocks)}});
    };
    t["poa_waitForBlock"] = [&n](const value& p) -> reply {
        // The synchronous form: it never waits (in a batch, or without a server that can
        // defer an answer); the validator's RPC route parks a single call that must wait.
        auto r = read_wait_for_block_params(p);
        if (auto* e = std::get_if<rpc_error>(&r)) return std::move(*e);
        return value(wait_for_block_json(n, std::get<wait_for_block_params>(r).after_height));
    };
    t["poa_getGenesis"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        if (!a || !a->empty()) return invalid_params("expected []");
        return value(boost::json::object{{"genesis", json::to_json(n.genesis())},
                                         {"genesis_hash", to_hex(genesis_hash<Suite>(n.genesis()))},
                                         {"encoding", to_hex(encode(n.genesis()))}});
    };
    t["poa_getTransactionProof"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        auto th = a && a->size() == 1 ? detail::param_hash(*a, 0) : std::nullopt;
        if (!th) return invalid_params("expected [\"0x<32-byte tx hash>\"]");
        auto loc = n.find_tx(*th);
        if (!loc) return value(nullptr);
        auto fb = n.block_at(loc->height);
        if (!fb || loc->index >= fb->blk.txs.size()) return rpc_error{tx_code::storage, "storage error", {}};
        std::vector<hash32> ths;
        ths.reserve(fb->blk.txs.size());
        for (const auto& tx : fb->blk.txs) ths.push_back(tx_hash<Suite>(tx));
        boost::json::array path;
        for (const auto& h : merkle_proof<Suite>(ths, loc->index)) path.push_back(boost::json::string(to_hex(h)));
        const bytes header = encode(fb->blk.header);  // block_hash = the suite's hash of these bytes
        return value(boost::json::object{{"tx_hash", to_hex(*th)},
                                         {"block_number", loc->height},
                                         {"block_hash", to_hex(Suite::hash(header))},
                                         {"index", loc->index},
                                         {"tx_count", fb->blk.header.tx_count},
                                         {"tx_root", to_hex(fb->blk.header.tx_root)},
                                         {"proof", std::move(path)},
                                         {"header", to_hex(header)},
                                         {"certificate", json::to_json(fb->cert)}});
    };
    t["poa_getTransactionStatus"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        auto th = a && a->size() == 1 ? detail::param_hash(*a, 0) : std::nullopt;
        if (!th) return invalid_params("expected [\"0x<32-byte tx hash>\"]");
        return value(tx_status_json(n.tx_status(*th)));
    };
    t["poa_getBlockCertificate"] = [&n](const value& p) -> reply {
        const auto* a = params_array(p);
        auto h = a && a->size() == 1 ? detail::param_block(n, (*a)[0]) : std::nullopt;
        if (!h) return invalid_params("expected [block number or tag]");
        if (*h > n.height()) return value(nullptr);
        auto fb = n.block_at(*h);
        if (!fb) return value(nullptr);
        return value(json::to_json(fb->cert));
    };
}

}  // namespace ballotchain::rpc
