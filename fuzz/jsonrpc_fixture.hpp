#pragma once
// What fuzz_jsonrpc and fuzz_http_validator share: an in-memory node (rpc::node_view) over the
// fixed chain of chain_fixture.hpp, the structured request format (calls of the method table's
// methods with generated params, single or batched), and the checker of an answer against
// JSON-RPC 2.0 and docs/api.md.
#include "chain_fixture.hpp"

#include <memory_node.hpp>

#include <ballotchain/ledger/mempool.hpp>
#include <ballotchain/rpc/jsonrpc.hpp>
#include <ballotchain/rpc/validator_api.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

namespace ballotchain::fuzz_fixture {

// ---- an in-memory node -------------------------------------------------------------------

/// The in-memory node_view of the unit tests (tests/unit/support/memory_node.hpp).
using test::memory_node;

inline constexpr std::size_t node_pool_capacity = 5;

/// A node over the fixed chain in memory with a small pool holding chain_pooled(), and
/// chain_dropped() recorded as dropped; two peers. The same state every time (the blocks and
/// the pool are built once per process).
inline memory_node make_memory_node() {
    using chain_type = memory_node::chain_type;
    static const memory_storage blocks = [] {
        auto built = chain_type::open(chain_genesis(), memory_storage{}).value();
        if (!append_chain_blocks(built)) std::abort();
        return built.storage();
    }();
    auto chain = chain_type::open(chain_genesis(), blocks).value();
    static const ledger::mempool<ed25519_sha256> pooled = [&] {
        ledger::mempool<ed25519_sha256> p(node_pool_capacity);
        for (auto& tx : chain_pooled())
            if (!p.add(tx, chain)) std::abort();
        return p;
    }();
    memory_node n(std::move(chain), pooled, 2);
    rpc::tx_status st;
    st.status = rpc::tx_status::state::dropped;
    st.conflicting_tx = tx_hash<ed25519_sha256>(chain_block_txs()[0][0]);
    st.conflicting_block = 1;
    st.conflicting_block_hash = n.c.hash_at(1);
    st.reason = "conflicting vote " + to_hex(*st.conflicting_tx) + " final at block 1";
    n.dropped[tx_hash<ed25519_sha256>(chain_dropped())] = st;
    return n;
}

/// The validator's method names, in table order (what a method selector byte indexes).
inline const std::vector<std::string>& validator_method_names() {
    static const std::vector<std::string> names = [] {
        auto n = make_memory_node();
        rpc::method_table t;
        rpc::add_validator_methods(t, n);
        std::vector<std::string> out;
        for (const auto& [name, _] : t) out.push_back(name);
        return out;
    }();
    return names;
}

// ---- structured requests -------------------------------------------------------------------

/// Bits of a call's shape byte.
namespace shape {
inline constexpr std::uint8_t id_absent = 0, id_int = 1, id_string = 2, id_null = 3;  ///< bits 0-1
inline constexpr std::uint8_t wrong_version = 1 << 2;
inline constexpr std::uint8_t no_params = 1 << 3;
inline constexpr std::uint8_t object_params = 1 << 4;
inline constexpr std::uint8_t method_not_string = 1 << 5;
inline constexpr std::uint8_t id_object = 1 << 6;
inline constexpr std::uint8_t not_an_object = 1 << 7;
}  // namespace shape

/// Batch selector byte: below 0x80 a single call; 0x80 | k a batch of (k & 7) + 1 calls;
/// these two a batch past the bound (the first call 101 times) and an empty batch.
inline constexpr std::uint8_t batch_oversize = 0xff, batch_empty = 0xfe;

/// One call: shape byte, id, method selector (past the names: a name from the input), params.
inline boost::json::value read_call(reader& in, const vocabulary& voc, const std::vector<std::string>& methods) {
    const std::uint8_t sh = in.u8();
    if (sh & shape::not_an_object) return read_value(in, voc, 2);
    boost::json::object o;
    switch (sh & 3) {
    case shape::id_int: o["id"] = static_cast<std::int64_t>(in.u8()); break;
    case shape::id_string: o["id"] = in.str(32); break;
    case shape::id_null: o["id"] = nullptr; break;
    default: break;
    }
    if (sh & shape::id_object) o["id"] = boost::json::object{};
    o["jsonrpc"] = (sh & shape::wrong_version) ? "1.0" : "2.0";
    const std::uint8_t m = in.u8();
    if (sh & shape::method_not_string)
        o["method"] = m;
    else
        o["method"] = m < methods.size() ? methods[m] : in.str(64);
    const std::size_t k = in.u8() % 5;
    if (sh & shape::object_params) {
        boost::json::object p;
        for (std::size_t i = 0; i < k; ++i) {
            const std::uint8_t sel = in.u8();
            std::string key = sel < voc.keys.size() ? voc.keys[sel] : in.str(64);
            p[key] = read_value(in, voc);
        }
        if (!(sh & shape::no_params)) o["params"] = std::move(p);
    } else {
        boost::json::array p;
        for (std::size_t i = 0; i < k; ++i) p.push_back(read_value(in, voc));
        if (!(sh & shape::no_params)) o["params"] = std::move(p);
    }
    return o;
}

/// A request body: a single call or a batch of calls.
inline std::string read_jsonrpc_body(reader& in, const vocabulary& voc, const std::vector<std::string>& methods) {
    const std::uint8_t b = in.u8();
    if (b == batch_empty) return "[]";
    if (b == batch_oversize) {
        const auto call = read_call(in, voc, methods);
        boost::json::array a;
        for (int i = 0; i < 101; ++i) a.push_back(call);
        return boost::json::serialize(a);
    }
    if (!(b & 0x80)) return boost::json::serialize(read_call(in, voc, methods));
    boost::json::array a;
    for (int i = 0; i <= (b & 7); ++i) a.push_back(read_call(in, voc, methods));
    return boost::json::serialize(a);
}

/// Writes calls in read_call's format (fuzz_make_corpus).
struct call_writer {
    writer& w;
    const vocabulary& voc;
    const std::vector<std::string>& methods;
    value_writer values() { return {w, voc}; }
    /// A call of `method` with id 1 and `nparams` params to follow (values()).
    call_writer& call(std::string_view method, std::uint8_t nparams, std::uint8_t sh = shape::id_int) {
        w.u8(sh);
        if ((sh & 3) == shape::id_int) w.u8(1);
        if ((sh & 3) == shape::id_string) w.str("req-1");
        std::uint8_t sel = 0xff;
        for (std::size_t i = 0; i < methods.size(); ++i)
            if (methods[i] == method) sel = static_cast<std::uint8_t>(i);
        w.u8(sel);
        if (sel == 0xff) w.str(method);
        w.u8(nparams);
        return *this;
    }
};

// ---- the answer checker -------------------------------------------------------------------

/// What the dispatcher must make of one request element.
struct expected_call {
    enum class kind { invalid, unknown_method, call } k = kind::invalid;
    bool answered = true;
    boost::json::value id;  ///< the id the answer must carry
    std::string method;
    boost::json::value params;
};

inline expected_call classify(const boost::json::value& v, const std::set<std::string, std::less<>>& methods) {
    expected_call e;
    if (!v.is_object()) return e;
    const auto& o = v.as_object();
    const auto* idp = o.if_contains("id");
    if (idp && !(idp->is_string() || idp->is_number() || idp->is_null())) return e;
    if (idp && idp->is_double() && !std::isfinite(idp->as_double())) return e;  // 1e400: not echoed as Infinity
    if (idp) e.id = *idp;
    const auto* ver = o.if_contains("jsonrpc");
    const auto* m = o.if_contains("method");
    const auto* p = o.if_contains("params");
    if (!ver || *ver != "2.0" || !m || !m->is_string() || (p && !p->is_array() && !p->is_object())) return e;
    e.answered = idp != nullptr;
    e.method = m->as_string();
    e.params = p ? *p : boost::json::value(boost::json::array{});
    e.k = methods.contains(e.method) ? expected_call::kind::call : expected_call::kind::unknown_method;
    return e;
}

/// Documented error codes of a call that reached its method (docs/api.md). -32603 (a method
/// threw) is not among them: every method answers bad params with -32602.
inline bool documented_call_error(std::int64_t c) {
    return c == rpc::code::invalid_params || c == rpc::code::server_error || c == rpc::code::too_many_in_batch ||
           c == rpc::code::rate_limited || (c >= -32007 && c <= -32001) || c == rpc::tx_code::election_rule ||
           c == rpc::tx_code::batch_refused || c == rpc::tx_code::storage || c == rpc::tx_code::unknown_election ||
           c == rpc::tx_code::unknown_candidate || c == rpc::tx_code::outside_voting_window;
}

/// What a request did, as far as the answer shows it.
struct answer_summary {
    std::size_t verify_results = 0;   ///< poa_verifyChain calls answered with a result
    std::size_t submitted = 0;        ///< eth_send* calls answered with a tx hash
    std::size_t send_calls = 0;       ///< eth_send* calls (answered or not)
    std::size_t verify_calls = 0;     ///< valid poa_verifyChain calls (answered or not)
    bool verify_first_answered = false;
};

/// Per-request caps of methods besides poa_verifyChain (whose cap of 1 is always checked), as
/// jsonrpc_limits::max_per_request: the validator's routes cap poa_getRawBlocks too.
using call_caps = std::map<std::string, std::size_t, std::less<>>;

/// Checks `answer` to `body` against JSON-RPC 2.0 and docs/api.md for `node`'s method table,
/// under the per-request `caps`; aborts with both printed on a violation.
template <class Node>
answer_summary check_jsonrpc(std::string_view body, std::string_view answer, const Node& node,
                             const std::vector<std::string>& method_names, const call_caps& caps = {},
                             std::size_t max_batch = 100) {
    const std::set<std::string, std::less<>> methods(method_names.begin(), method_names.end());
    auto fail = [&](std::string_view why) { violated(why, body, answer); };
    answer_summary sum;
    std::map<std::string, std::size_t, std::less<>> calls;  // valid calls of each capped method so far
    boost::system::error_code ec;
    boost::json::value ans;
    if (!answer.empty()) {
        ans = boost::json::parse(answer, ec);
        if (ec) fail("the answer is not JSON");
    }
    auto check_error = [&](const boost::json::value& r, std::initializer_list<std::int64_t> codes) {
        const auto& o = r.as_object();
        const auto* err = o.if_contains("error");
        if (!err || !err->is_object()) fail("expected an error object");
        const auto& eo = err->as_object();
        for (const auto& [k, _] : eo)
            if (k != "code" && k != "message" && k != "data") fail("unexpected key in an error object");
        const auto* code = eo.if_contains("code");
        const auto* msg = eo.if_contains("message");
        if (!code || !code->is_int64() || !msg || !msg->is_string() || msg->as_string().empty())
            fail("an error needs an integer code and a message");
        if (codes.size() && std::find(codes.begin(), codes.end(), code->as_int64()) == codes.end())
            fail("unexpected error code");
        return code->as_int64();
    };
    auto check_envelope = [&](const boost::json::value& r, const boost::json::value& id) {
        if (!r.is_object()) fail("a response must be an object");
        const auto& o = r.as_object();
        const auto* ver = o.if_contains("jsonrpc");
        if (!ver || *ver != "2.0") fail("a response needs jsonrpc \"2.0\"");
        const auto* rid = o.if_contains("id");
        if (!rid || *rid != id) fail("the response id differs from the request's");
        if (o.size() != 3 || (o.contains("result") == o.contains("error")))
            fail("a response has exactly one of result and error");
    };
    auto as_hash = [](const vote_tx& tx) { return boost::json::value(boost::json::string(to_hex(tx_hash<ed25519_sha256>(tx)))); };
    auto check_result = [&](const expected_call& e, const boost::json::value& result) {
        const auto& p = e.params;
        if (e.method == "eth_sendRawTransaction") {
            const auto tx = decode_tx(from_hex(std::string_view(p.as_array().at(0).as_string())).value());
            if (!tx || result != as_hash(*tx)) fail("eth_sendRawTransaction answered another hash");
            if (!node.pending_tx(tx_hash<ed25519_sha256>(*tx))) fail("an acknowledged transaction is not pending");
        } else if (e.method == "eth_sendTransaction") {
            const auto tx = json::tx_from_json(p.as_array().at(0));
            if (!tx || result != as_hash(*tx)) fail("eth_sendTransaction answered another hash");
        } else if (e.method == "eth_chainId") {
            if (result != "0x539") fail("eth_chainId");
        } else if (e.method == "eth_blockNumber") {
            if (!result.is_string() || result.as_string() != quantity(node.height())) fail("eth_blockNumber");
        } else if (e.method == "poa_verifyChain") {
            if (!result.is_object() || result.as_object().at("ok") != true) fail("the fixed chain must verify");
        } else if (e.method == "eth_getBlockByNumber" || e.method == "eth_getBlockByHash") {
            if (!result.is_null() && !parse_quantity(result.as_object().at("number").as_string()))
                fail("a block without a number");
        }
    };
    // Answers one element: returns whether a response was due.
    auto check_one = [&](const expected_call& e, const boost::json::value* r) {
        if (e.k == expected_call::kind::call && e.method == "poa_verifyChain") ++sum.verify_calls;
        const auto cap = caps.find(e.method);
        const bool past_cap = e.k == expected_call::kind::call && cap != caps.end() && ++calls[e.method] > cap->second;
        if (e.k == expected_call::kind::call && e.method.starts_with("eth_send")) ++sum.send_calls;
        if (e.k == expected_call::kind::call && e.method == "poa_sendRawTransactions" && e.params.is_array() &&
            e.params.as_array().size() == 1 && e.params.as_array()[0].is_array())
            sum.send_calls += e.params.as_array()[0].as_array().size();  // each item may be admitted
        if (!r) return;
        check_envelope(*r, e.id);
        const auto& o = r->as_object();
        if (e.k == expected_call::kind::invalid) {
            check_error(*r, {rpc::code::invalid_request});
            return;
        }
        if (e.k == expected_call::kind::unknown_method) {
            check_error(*r, {rpc::code::method_not_found});
            return;
        }
        if (e.method == "poa_verifyChain" && sum.verify_calls == 1) sum.verify_first_answered = true;
        if (const auto* res = o.if_contains("result")) {
            if (e.method == "poa_verifyChain") {
                if (sum.verify_calls > 1) fail("a second poa_verifyChain in one body ran");
                ++sum.verify_results;
            }
            if (e.method.starts_with("eth_send")) ++sum.submitted;
            if (e.method == "poa_sendRawTransactions") {
                // One answer per item: a hash (admitted) or an error with a documented code.
                if (!res->is_array()) fail("poa_sendRawTransactions: not an array");
                for (const auto& item : res->as_array()) {
                    const auto* io = item.if_object();
                    if (io && io->contains("hash")) {
                        ++sum.submitted;
                        continue;
                    }
                    const auto* err = io ? io->if_contains("error") : nullptr;
                    const auto* c = err && err->is_object() ? err->as_object().if_contains("code") : nullptr;
                    if (!c || !c->is_int64() || !documented_call_error(c->as_int64()))
                        fail("poa_sendRawTransactions: an item neither a hash nor a documented error");
                }
            }
            if (past_cap) fail("a call past its per-request cap ran");
            check_result(e, *res);
            return;
        }
        const auto code = check_error(*r, {});
        if (!documented_call_error(code)) fail("an error code docs/api.md does not list for a call");
        if (code == rpc::code::too_many_in_batch && !past_cap && (e.method != "poa_verifyChain" || sum.verify_calls < 2))
            fail("-32020 for a call under its cap");
        if (past_cap && code != rpc::code::too_many_in_batch) fail("a call past its per-request cap must get -32020");
        if (e.method == "poa_verifyChain" && sum.verify_calls > 1 && code != rpc::code::too_many_in_batch)
            fail("a poa_verifyChain past the cap must get -32020");
        if (code == rpc::code::rate_limited) {
            const auto* d = o.at("error").as_object().if_contains("data");
            if (!d || !d->is_object() || !d->as_object().contains("retry_after_ms")) fail("-32029 without retry_after_ms");
        }
    };

    boost::json::value req = boost::json::parse(body, ec);
    if (ec) {
        if (ans.is_null()) fail("no answer to a body that is not JSON");
        check_envelope(ans, nullptr);
        check_error(ans, {rpc::code::parse_error});
        return sum;
    }
    if (req.is_array()) {
        const auto& a = req.as_array();
        if (a.empty() || a.size() > max_batch) {
            check_envelope(ans, nullptr);
            check_error(ans, {rpc::code::invalid_request});
            return sum;
        }
        std::vector<expected_call> es;
        std::size_t due = 0;
        for (const auto& v : a) {
            es.push_back(classify(v, methods));
            due += es.back().answered;
        }
        if (due == 0) {
            if (!answer.empty()) fail("a batch of notifications must get no answer");
            for (const auto& e : es) check_one(e, nullptr);
            return sum;
        }
        if (!ans.is_array() || ans.as_array().size() != due) fail("a batch answer needs one entry per non-notification");
        std::size_t k = 0;
        for (const auto& e : es) check_one(e, e.answered ? &ans.as_array()[k++] : nullptr);
        return sum;
    }
    const auto e = classify(req, methods);
    if (!e.answered) {
        if (!answer.empty()) fail("a notification must get no answer");
        check_one(e, nullptr);
        return sum;
    }
    if (answer.empty()) fail("no answer to a request with an id");
    check_one(e, &ans);
    return sum;
}

}  // namespace ballotchain::fuzz_fixture
