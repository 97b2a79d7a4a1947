// Writes fuzz/corpus/<target>/ seed inputs: real signed values from fixed seeds,
// plus truncated, extended and bit-flipped variants.   fuzz_make_corpus <fuzz dir>
#include "backend_vocabulary.hpp"
#include "bootnode_fixture.hpp"
#include "jsonrpc_fixture.hpp"

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/chain/json.hpp>
#include <ballotchain/chain/trustee.hpp>
#include <ballotchain/consensus/messages.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace ballotchain;
namespace fs = std::filesystem;

namespace {
ed25519::key_pair key(int i) {
    secret_key sk;
    sk.data[0] = static_cast<byte>(i + 1);
    return ed25519::from_secret(sk);
}

struct writer {
    fs::path dir;
    int n = 0;
    void put(const bytes& b) {
        std::ofstream f(dir / ("seed-" + std::to_string(n++)), std::ios::binary);
        f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    }
    void put(const std::string& s) { put(bytes(s.begin(), s.end())); }
    /// The value and some broken variants of it.
    void variants(const bytes& b) {
        put(b);
        if (b.size() > 1) put(bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(b.size() / 2)));
        bytes longer = b;
        longer.push_back(0);
        put(longer);
        bytes flipped = b;
        if (!flipped.empty()) flipped[flipped.size() / 3] ^= 0x80;
        put(flipped);
    }
};

genesis_config make_genesis(int n) {
    genesis_config g;
    for (int i = 0; i < n; ++i) g.validators.push_back({"validator-" + std::to_string(i + 1), key(i).public_key()});
    g.submitters.push_back(key(50).public_key());
    return g;
}

vote_tx make_tx(int i, std::size_t payload) {
    vote_tx tx;
    tx.chain_id = 1337;
    tx.election_id = 1 + static_cast<std::uint64_t>(i % 2);
    tx.candidate_id = static_cast<std::uint64_t>(i % 3);
    tx.encrypted_vote = bytes(payload, static_cast<byte>(i));
    tx.voter_tag = sha256::hash(bytes{static_cast<byte>(i)});
    tx.timestamp_ms = 1'700'000'000'000ull + static_cast<std::uint64_t>(i);
    sign_tx<ed25519_sha256>(tx, key(50));
    return tx;
}

// ---- JSON-RPC and the validator's HTTP routes ------------------------------------------------

namespace fx = fuzz_fixture;

/// A call for the seeds: a method and its params as JSON text ("$name": a special value).
struct seed_call {
    seed_call(std::string m, std::string p = "[]", std::uint8_t sh = fx::shape::id_int)
        : method(std::move(m)), params(std::move(p)), shape(sh) {}
    std::string method;
    std::string params;
    std::uint8_t shape;
};

/// Every method with meaningful params, and the refusals each can give.
std::vector<seed_call> seed_calls() {
    return {
        {"web3_clientVersion"}, {"eth_chainId"}, {"net_version"}, {"net_peerCount"}, {"net_listening"},
        {"eth_blockNumber"}, {"eth_syncing"}, {"eth_gasPrice"},
        {"eth_sendRawTransaction", R"(["$fresh-0-raw"])"}, {"eth_sendRawTransaction", R"(["$final-1-0-raw"])"},
        {"eth_sendRawTransaction", R"(["$pooled-0-raw"])"}, {"eth_sendRawTransaction", R"(["$conflicting-raw"])"},
        {"eth_sendRawTransaction", R"(["$bad-signature-raw"])"}, {"eth_sendRawTransaction", R"(["$stranger-raw"])"},
        {"eth_sendRawTransaction", R"(["$too-large-raw"])"}, {"eth_sendRawTransaction", R"(["$other-chain-raw"])"},
        {"eth_sendRawTransaction", R"(["$truncated-raw"])"}, {"eth_sendRawTransaction", R"(["0xzz"])"},
        {"poa_sendRawTransactions", R"([["$batch-0-raw", "$batch-1-raw", "$batch-2-raw", "$batch-3-raw"]])"},
        {"poa_sendRawTransactions", R"([["$batch-0-raw", "$batch-1-raw", "$batch-3-raw"]])"},
        {"poa_sendRawTransactions", R"([["$batch-2-raw", "$fresh-3-raw", "0x00"]])"},
        {"eth_sendTransaction", R"(["$fresh-1-json"])"}, {"eth_sendTransaction", R"(["$final-2-0-json"])"},
        {"eth_sendTransaction", R"([{"chain_id":1337}])"},
        {"eth_getTransactionByHash", R"(["$final-1-0-hash"])"}, {"eth_getTransactionByHash", R"(["$pooled-0-hash"])"},
        {"eth_getTransactionByHash", R"(["$unknown-hash"])"},
        {"eth_getTransactionReceipt", R"(["$final-2-1-hash"])"}, {"eth_getTransactionReceipt", R"(["$pooled-1-hash"])"},
        {"eth_getBlockByNumber", R"(["$q1", true])"}, {"eth_getBlockByNumber", R"(["$latest", false])"},
        {"eth_getBlockByNumber", R"(["$earliest"])"}, {"eth_getBlockByNumber", R"(["$q4"])"},
        {"eth_getBlockByNumber", R"(["$q-max", 1])"},
        {"eth_getBlockByHash", R"(["$block-2-hash", true])"}, {"eth_getBlockByHash", R"(["$unknown-hash"])"},
        {"eth_getBlockTransactionCountByNumber", R"(["$q1"])"}, {"eth_getBlockTransactionCountByNumber", R"(["$pending"])"},
        {"poa_validators"}, {"poa_status"},
        {"poa_getResults", R"(["$election-1"])"}, {"poa_getResults", R"({"election_id":"0x2"})", fx::shape::id_int | fx::shape::object_params},
        {"poa_getResults", R"(["-1"])"},
        {"poa_getVotes", R"(["$election-1", 10])"}, {"poa_getVotes", R"(["$election-2"])"}, {"poa_getVotes", R"([1, 0])"},
        {"poa_verifyChain"},
        {"poa_getRawBlock", R"(["$q2"])"}, {"poa_getRawBlock", R"(["$finalized"])"}, {"poa_getRawBlock", R"(["$q-empty"])"},
        {"poa_getRawBlocks", R"(["$q1", 2])"}, {"poa_getRawBlocks", R"(["$earliest", 256])"},
        {"poa_getRawBlocks", R"(["$q-max", 1])"}, {"poa_getRawBlocks", R"(["$q1", 0])"},
        {"poa_waitForBlock", R"([1, 0])"}, {"poa_waitForBlock", R"([9, 1000])"}, {"poa_waitForBlock", R"([0, 30001])"},
        {"poa_getGenesis"}, {"poa_getGenesis", "[1]"},
        {"poa_getTransactionProof", R"(["$final-1-1-hash"])"}, {"poa_getTransactionProof", R"(["$unknown-hash"])"},
        {"poa_getTransactionStatus", R"(["$dropped-hash"])"}, {"poa_getTransactionStatus", R"(["$pooled-0-hash"])"},
        {"poa_getTransactionStatus", R"(["$final-1-0-hash"])"}, {"poa_getTransactionStatus", R"(["$unknown-hash"])"},
        {"poa_getBlockCertificate", R"(["$safe"])"}, {"poa_getBlockCertificate", R"(["$q0"])"},
        {"no_such_method"}, {"poa_verifyChain", "[]", fx::shape::id_absent}, {"eth_chainId", "[]", fx::shape::id_string},
        {"eth_chainId", "[]", fx::shape::id_null}, {"eth_chainId", "[]", fx::shape::id_int | fx::shape::wrong_version},
        {"eth_chainId", "[]", fx::shape::id_int | fx::shape::no_params}, {"eth_chainId", "[]", fx::shape::id_int | fx::shape::id_object},
        {"eth_chainId", "[]", fx::shape::id_int | fx::shape::method_not_string},
    };
}

/// The call in read_call's format.
void put_call(fx::call_writer& cw, const seed_call& c) {
    const auto params = boost::json::parse(c.params);
    if (c.shape & fx::shape::object_params) {
        cw.call(c.method, static_cast<std::uint8_t>(params.as_object().size()), c.shape);
        auto vw = cw.values();
        for (const auto& [k, v] : params.as_object()) {
            vw.key(k);
            fx::put_value(vw, v);
        }
        return;
    }
    cw.call(c.method, static_cast<std::uint8_t>(params.as_array().size()), c.shape);
    auto vw = cw.values();
    for (const auto& v : params.as_array()) fx::put_value(vw, v);
}

/// The call as JSON text, specials replaced by their values.
boost::json::value call_json(const fx::vocabulary& voc, const seed_call& c, int id) {
    std::function<boost::json::value(const boost::json::value&)> resolve = [&](const boost::json::value& v) -> boost::json::value {
        if (v.is_string() && v.as_string().starts_with("$"))
            return voc.specials[voc.special_index(std::string_view(v.as_string()).substr(1))].second;
        if (v.is_array()) {
            boost::json::array a;
            for (const auto& e : v.as_array()) a.push_back(resolve(e));
            return a;
        }
        if (v.is_object()) {
            boost::json::object o;
            for (const auto& [k, e] : v.as_object()) o[k] = resolve(e);
            return o;
        }
        return v;
    };
    return boost::json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", c.method}, {"params", resolve(boost::json::parse(c.params))}};
}

void write_rpc_corpus(writer rpc, writer http) {
    const auto voc = fx::chain_vocabulary();
    const auto& names = fx::validator_method_names();
    const auto calls = seed_calls();
    // fuzz_jsonrpc, structured (mode 3: verify admitted): each call alone, then batches.
    for (const auto& c : calls) {
        fx::writer w;
        w.u8(3).u8(0);
        fx::call_writer cw{w, voc, names};
        put_call(cw, c);
        rpc.put(w.out);
    }
    auto batch = [&](std::uint8_t mode, std::uint8_t sel, std::initializer_list<seed_call> cs) {
        fx::writer w;
        w.u8(mode).u8(sel);
        fx::call_writer cw{w, voc, names};
        for (const auto& c : cs) put_call(cw, c);
        rpc.put(w.out);
    };
    const seed_call verify{"poa_verifyChain"}, verify_note{"poa_verifyChain", "[]", fx::shape::id_absent};
    batch(3, 0x80 | 2, {verify, verify, verify_note});
    batch(1, 0x80 | 1, {verify, verify});  // the limiter refuses
    batch(3, 0x80 | 3, {{"eth_sendRawTransaction", R"(["$fresh-2-raw"])"}, {"eth_getTransactionByHash", R"(["$fresh-2-hash"])"},
                        {"poa_getTransactionStatus", R"(["$fresh-2-hash"])"}, {"eth_blockNumber", "[]", fx::shape::id_absent}});
    batch(3, 0x80 | 1, {verify_note, {"eth_chainId", "[]", fx::shape::id_absent}});
    batch(3, fx::batch_oversize, {{"eth_chainId"}});
    batch(3, fx::batch_empty, {});
    // fuzz_jsonrpc, raw bodies (mode 2).
    auto raw = [&](const std::string& body, std::uint8_t mode = 2) { rpc.put(std::string(1, static_cast<char>(mode)) + body); };
    boost::json::array all;
    int id = 1;
    for (const auto& c : calls)
        if (c.shape == fx::shape::id_int || c.shape == (fx::shape::id_int | fx::shape::object_params)) {
            const auto j = call_json(voc, c, id++);
            raw(boost::json::serialize(j));
            if (all.size() < 40) all.push_back(j);
        }
    raw(boost::json::serialize(all));
    raw(R"([{"jsonrpc":"2.0","id":1,"method":"poa_verifyChain"},{"jsonrpc":"2.0","id":2,"method":"poa_verifyChain"}])", 0);
    raw(R"([{"jsonrpc":"2.0","method":"eth_chainId"},{"jsonrpc":"2.0","method":"nope"}])");
    raw(R"([1,{"jsonrpc":"2.0"},{"jsonrpc":"2.0","id":[],"method":"x"},{"jsonrpc":"2.0","id":-0.0,"method":"eth_chainId","params":7}])");
    raw(R"({"jsonrpc":"2.0","id":1,"id":2,"method":"eth_chainId","method":"net_version"})");
    raw(R"({"jsonrpc":"2.0","id":1.5e300,"method":"eth_blockNumber","params":{}})");
    raw(R"({"jsonrpc":"2.0","id":"\u0000","method":"eth_getBlockByNumber","params":["0x1",true,1]})");
    raw(std::string(300, '[') + std::string(300, ']'));
    raw("{nope");
    raw("42");
    raw("[]");
    raw("");
    // fuzz_http_validator: u8 requests-1, then per request the client, the request parts, the body.
    const auto routes = fx::validator_routes();
    auto request = [&](fx::writer& w, std::uint8_t remote, std::string_view method, std::string_view path,
                       std::string_view query = {}, std::uint8_t flags = 0) {
        w.u8(remote);
        fx::write_request_parts(w, routes, method, path, query, flags);
    };
    auto get = [&](std::string_view path, std::string_view query = {}, std::uint8_t flags = 0) {
        fx::writer w;
        w.u8(0);
        request(w, 0, "GET", path, query, flags);
        w.u8(0);
        http.put(w.out);
    };
    get("/health");
    get("/health", {}, 1);  // HTTP/1.0
    get("/blockchain");
    get("/blockchain", "election_id=1");
    get("/blockchain", "election_id=-1");
    get("/blockchain", "x=1&election_id=1");
    get("/metrics");
    get("/nope");
    get("/");
    {
        fx::writer w;
        w.u8(0);
        request(w, 1, "POST", "/health");
        w.u8(0);
        http.put(w.out);
    }
    for (const auto& c : calls) {  // POST / with each call, structured (body kind 1)
        fx::writer w;
        w.u8(0);
        request(w, 0, "POST", "/");
        w.u8(1).u8(0);
        fx::call_writer cw{w, voc, names};
        put_call(cw, c);
        http.put(w.out);
    }
    {
        fx::writer w;  // a raw body, chunked, with a Content-Type header
        w.u8(0);
        request(w, 3, "POST", "/", {}, 2 | (1 << 2));
        w.u8(0).str("application/json");
        w.u8(2).str(R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"})");
        http.put(w.out);
    }
    {
        fx::writer w;  // four requests: submit, look it up, its status, verify twice in one batch
        w.u8(3);
        request(w, 0, "POST", "/");
        w.u8(1).u8(0);
        fx::call_writer cw{w, voc, names};
        put_call(cw, {"eth_sendRawTransaction", R"(["$fresh-3-raw"])"});
        request(w, 0, "POST", "/");
        w.u8(1).u8(0);
        put_call(cw, {"eth_getTransactionByHash", R"(["$fresh-3-hash"])"});
        request(w, 2, "POST", "/");
        w.u8(1).u8(0);
        put_call(cw, {"poa_getTransactionStatus", R"(["$fresh-3-hash"])"});
        request(w, 4, "POST", "/");
        w.u8(1).u8(0x81);
        put_call(cw, verify);
        put_call(cw, verify);
        http.put(w.out);
    }
}

// ---- the HTTP framing check and client_key ----------------------------------------------

void write_framing_corpus(writer f) {
    auto req = [&](std::string_view head, std::string_view rest = "\r\n") {
        f.put(std::string(1, '\0') + "POST / HTTP/1.1\r\nHost: x\r\n" + std::string(head) + std::string(rest));
    };
    req("Content-Length: 5\r\n", "\r\nhello");
    req("Transfer-Encoding: chunked\r\n", "\r\n5\r\nhello\r\n0\r\n\r\n");
    req("Transfer-Encoding: Chunked\r\n", "\r\n0\r\n\r\n");
    req("Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n", "\r\nhello");
    req("Transfer-Encoding: chunked, gzip\r\n");
    req("Transfer-Encoding: gzip, chunked\r\n", "\r\n0\r\n\r\n");
    req("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "\r\n0\r\n\r\n");
    req("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "\r\n0\r\n\r\n");
    req("Transfer-Encoding: ,chunked,\r\n", "\r\n0\r\n\r\n");
    req("Transfer-Encoding: \r\n");
    req("Transfer-Encoding: \"chunked\"\r\n");
    req("Transfer-Encoding: chunked;q=1\r\n");
    req("Transfer-Encoding: chunked\t\r\n", "\r\n0\r\n\r\n");
    req("Content-Length: 5, 5\r\n", "\r\nhello");
    req("Content-Length: 5\r\nContent-Length: 5\r\n", "\r\nhello");
    f.put(std::string(1, '\0') + "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    f.put(std::string(1, '\0') + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    auto key = [&](std::uint8_t k1, std::initializer_list<std::uint8_t> a, std::uint8_t k2, std::initializer_list<std::uint8_t> b) {
        std::string s(1, '\x80');
        auto pad = [&](std::initializer_list<std::uint8_t> x) {
            std::string p(x.begin(), x.end());
            p.resize(16, '\0');
            return p;
        };
        s += static_cast<char>(k1) + pad(a) + static_cast<char>(k2) + pad(b);
        f.put(s);
    };
    key(0, {127, 0, 0, 1}, 0, {127, 0, 0, 2});
    key(0, {192, 0, 2, 7}, 2, {192, 0, 2, 7});                                          // IPv4 and its mapped form
    key(1, {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3}, 0x81, {9, 9, 9, 9, 9, 9, 9, 9, 1});  // one /64
    key(1, {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2}, 1, {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 3});
    key(1, {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, 1, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4});
}

// ---- the backend's routes ---------------------------------------------------------------------

void write_backend_corpus(writer f) {
    using fx::who;
    const auto voc = fx::backend_vocabulary("VOTED_TX");
    const auto routes = fx::backend_routes("VOTED_TX");
    struct req {
        req(std::string m, std::string p, std::string q = {}, who a = who::none, std::string b = {})
            : method(std::move(m)), path(std::move(p)), query(std::move(q)), as(a), body(std::move(b)) {}
        std::string method, path, query;
        who as;
        std::string body;  ///< JSON text with "$name" specials; empty: no body
        std::uint8_t remote = 0;
    };
    auto put = [&](std::initializer_list<req> rs) {
        fx::writer w;
        w.u8(static_cast<std::uint8_t>(rs.size() - 1));
        for (const auto& r : rs) {
            w.u8(r.remote);
            fx::write_request_parts(w, routes, r.method, r.path, r.query);
            w.u8(static_cast<std::uint8_t>(r.as));
            if (r.as == who::garbage) w.str("0123");
            if (r.as == who::raw) w.str("Basic YWRtaW46YWRtaW4=");
            if (r.body.empty()) {
                w.u8(0);
            } else {
                w.u8(1);
                fx::value_writer vw{w, voc};
                fx::put_json(vw, r.body);
            }
        }
        f.put(w.out);
    };
    const std::string e = std::to_string(fx::open_election);
    const auto reg = [](std::string email, std::string pw) {
        return R"({"email":")" + email + R"(","password":")" + pw + R"(","full_name":"New Voter"})";
    };
    put({{"GET", "/health"}});
    put({{"GET", "/openapi.json"}});
    put({{"POST", "/health"}});
    put({{"GET", "/nope"}});
    put({{"POST", "/api/auth/register", "", who::none, reg("$new-email", "$strong-password")},
         {"POST", "/api/auth/login", "", who::none, R"({"email":"$upper-email","password":"$strong-password"})"}});
    put({{"POST", "/api/auth/register", "", who::none, reg("$new-email", "$weak-password")}});
    put({{"POST", "/api/auth/register", "", who::none, reg("$new-email", "$spaces-password")}});
    put({{"POST", "/api/auth/register", "", who::none, reg("$voter-email", "$strong-password")}});
    put({{"POST", "/api/auth/register", "", who::none, reg("$bad-email", "$strong-password")}});
    put({{"POST", "/api/auth/register", "", who::none, reg("$nul-email", "$strong-password")}});
    put({{"POST", "/api/auth/register", "", who::none, reg("$new-email", "$strong-password")},
         {"POST", "/api/auth/register", "", who::none, reg("a@example.org", "$strong-password")},
         {"POST", "/api/auth/register", "", who::none, reg("b@example.org", "$strong-password")},
         {"POST", "/api/auth/register", "", who::none, reg("c@example.org", "$strong-password")}});
    put({{"POST", "/api/auth/login", "", who::none, R"({"email":"$admin-email","password":"$admin-password"})"}});
    put({{"POST", "/api/auth/login", "", who::none, R"({"email":"$voter-email","password":"wrong one"})"},
         {"POST", "/api/auth/login", "", who::none, R"({"email":"$voter-email","password":"wrong two"})"},
         {"POST", "/api/auth/login", "", who::none, R"({"email":"$voter-email","password":"wrong three"})"},
         {"POST", "/api/auth/login", "", who::none, R"({"email":"$voter-email","password":"$voter-password"})"}});
    put({{"POST", "/api/auth/login", "", who::none, R"({"email":7,"password":null})"}});
    put({{"GET", "/api/auth/me", "", who::voter}});
    put({{"GET", "/api/auth/me", "", who::revoked}});
    put({{"GET", "/api/auth/me", "", who::admin_lowercase}});
    put({{"GET", "/api/auth/me", "", who::garbage}});
    put({{"GET", "/api/auth/me", "", who::raw}});
    put({{"POST", "/api/auth/logout", "", who::voter}, {"GET", "/api/auth/me", "", who::voter}});
    put({{"POST", "/api/auth/logout-all", "", who::admin}, {"GET", "/api/auth/me", "", who::admin_lowercase}});
    put({{"POST", "/api/auth/change-password", "", who::voter,
          R"({"current_password":"$voter-password","new_password":"$strong-password"})"},
         {"GET", "/api/auth/me", "", who::voter}});
    put({{"POST", "/api/auth/change-password", "", who::voter, R"({"current_password":"$voter-password","new_password":"$weak-password"})"}});
    put({{"GET", "/api/elections"}});
    put({{"GET", "/api/elections/" + e}});
    put({{"GET", "/api/elections/0"}});
    put({{"GET", "/api/elections/" + e + "/x"}});
    put({{"POST", "/api/elections", "", who::admin,
          R"({"name":"new","description":"d","start_date":"$date-past","end_date":"$date-future","candidates":"$candidates"})"},
         {"GET", "/api/elections"}});
    put({{"POST", "/api/elections", "", who::admin, R"({"name":"dup","candidates":"$candidates-dup"})"}});
    put({{"POST", "/api/elections", "", who::admin, R"({"name":"bad","start_date":"$date-bad"})"}});
    put({{"POST", "/api/elections", "", who::admin, R"({"name":"back","start_date":"$date-future","end_date":"$date-past"})"}});
    put({{"POST", "/api/elections", "", who::voter, R"({"name":"x"})"}});
    put({{"POST", "/api/elections/" + e + "/candidates", "", who::admin, R"({"name":"Z","description":"z"})"}});
    put({{"POST", "/api/elections/" + e + "/candidates", "", who::admin, R"({"name":"A"})"}});
    put({{"POST", "/api/elections/999/candidates", "", who::admin, R"({"name":"A"})"}});
    put({{"POST", "/api/votes/submit", "", who::voter,
          R"({"election_id":"$election-open","candidate_id":"$candidate-open","encrypted_vote":"$vote-3"})"},
         {"POST", "/api/votes/submit", "", who::voter,
          R"({"election_id":"$election-open","candidate_id":"$candidate-open","encrypted_vote":"$vote-64"})"},
         {"GET", "/api/votes/transaction-status", "transaction_id=VOTED_TX&election_id=" + e},
         {"POST", "/api/votes/verify-blockchain", "", who::none, R"({"election_id":"$election-open"})"}});
    put({{"POST", "/api/votes/submit", "", who::voted,
          R"({"election_id":"$election-open","candidate_id":"$candidate-open","encrypted_vote":"$vote-3"})"}});
    put({{"POST", "/api/votes/submit", "", who::voter,
          R"({"election_id":"$election-future","candidate_id":"$candidate-future","encrypted_vote":"$vote-3"})"}});
    put({{"POST", "/api/votes/submit", "", who::voter,
          R"({"election_id":"$election-open","candidate_id":"$candidate-future","encrypted_vote":"$vote-3"})"}});
    put({{"POST", "/api/votes/submit", "", who::voter,
          R"({"election_id":"$election-open","candidate_id":"$candidate-open","encrypted_vote":"$vote-max"})"}});
    put({{"POST", "/api/votes/submit", "", who::voter,
          R"({"election_id":"$election-open","candidate_id":"$candidate-open","encrypted_vote":"$vote-noncanonical"})"}});
    put({{"POST", "/api/votes/submit", "", who::voter, R"({"election_id":-1,"candidate_id":1.5,"encrypted_vote":7})"}});
    put({{"GET", "/api/votes/transaction-status", "transaction_id=VOTED_TX"}});
    put({{"GET", "/api/votes/transaction-status", "transaction_id=VOTED_TX&election_id=999"}});
    put({{"GET", "/api/votes/transaction-status", "transaction_id=0x12"}});
    put({{"GET", "/api/votes/transaction-status", "transaction_id=0x" + std::string(64, '0')}});
    put({{"GET", "/api/votes/results", "election_id=" + e}});
    put({{"GET", "/api/votes/results", "election_id=x"}});
    put({{"POST", "/api/votes/verify-blockchain", "", who::none, R"({"election_id":"$election-past"})"},
         {"POST", "/api/votes/verify-blockchain", "", who::none, R"({"election_id":"$election-absent"})"},
         {"POST", "/api/votes/verify-blockchain", "", who::none, R"({"election_id":"$election-open"})"}});
    put({{"GET", "/api/admin/validators/health", "", who::admin}});
    put({{"POST", "/api/admin/validators/refresh-status", "", who::admin}});
    put({{"GET", "/api/admin/validators/health", "", who::voter}});
    put({{"GET", "/api/chain/validator-changes"},
         {"GET", "/api/chain/validator-changes", "from_sequence=1"},
         {"GET", "/api/chain/validator-changes", "from_sequence=0"},
         {"GET", "/api/chain/validator-changes", "from_sequence=99999999999999999999"}});
}
}  // namespace

/// fuzz_client_answers: a selector byte and an honest answer of the fixed chain's node to the
/// method the selector's decoder reads (with broken variants of each).
void write_client_corpus(writer w) {
    auto n = fx::make_memory_node();
    rpc::method_table t;
    rpc::add_validator_methods(t, n);
    auto answer = [&](const std::string& method, boost::json::array params) {
        boost::json::object req{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", std::move(params)}};
        return boost::json::parse(rpc::handle_jsonrpc(boost::json::serialize(req), t)).as_object().at("result");
    };
    auto put = [&](std::uint8_t sel, const boost::json::value& v) {
        bytes in{sel};  // (not std::string(1, c) + ...: g++ 12 -O3 warns a false -Wrestrict there)
        const std::string text = boost::json::serialize(v);
        in.insert(in.end(), text.begin(), text.end());
        w.variants(in);
    };
    for (const auto& blk : fx::chain_block_txs())
        for (const auto& tx : blk) {
            const auto th = to_hex(tx_hash<ed25519_sha256>(tx));
            put(0, answer("poa_getTransactionProof", {th}));
            put(1, answer("poa_getTransactionStatus", {th}));
        }
    put(1, answer("poa_getTransactionStatus", {to_hex(tx_hash<ed25519_sha256>(fx::chain_dropped()))}));
    put(2, answer("poa_status", {}));
    put(3, answer("poa_verifyChain", {}));
    put(4, answer("poa_getResults", {1}));
    put(4, answer("poa_getResults", {2}));
    put(5, answer("poa_waitForBlock", {0, 0}));
    put(6, answer("poa_getRawBlocks", {"0x0", 16}));
    put(7, boost::json::value(to_hex(tx_hash<ed25519_sha256>(fx::chain_pooled()[0]))));
}

/// fuzz_election: a selector byte, then a valid body of that record (and broken variants).
void write_election_corpus(writer w) {
    auto put = [&](std::uint8_t sel, const bytes& body) {
        bytes in{sel};
        in.insert(in.end(), body.begin(), body.end());
        w.variants(in);
    };
    using ristretto::point;
    using ristretto::scalar;
    election::definition def{election::ballot_kind::encrypted, "Board", {{1, "Alice"}, {2, "Bob"}, {3, "Carol"}}, 10, 20, 5, 2};
    put(0, election::encode(def));
    const point y = point::base_mul(scalar::from_u64(7));
    put(1, election::encode(elgamal::seal_ballot({1337, 1, y, {}, {}}, 3, 1)));
    const dkg::trustee_secrets s1(key(1).secret()), s2(key(2).secret());
    put(2, election::encode(dkg::make_trustee_key(1337, 1, s1.key(1337))));
    const std::map<std::uint32_t, point> keys{{1, point::base_mul(s1.key(1337))}, {2, point::base_mul(s2.key(1337))}};
    const auto d = dkg::deal({1337, 1}, 1, 2, s1, keys);
    put(3, election::encode(d));
    put(4, election::encode(election::verdict{{dkg::make_complaint({1337, 1}, 1, s2.key(1337), d)}}));
    put(4, election::encode(election::verdict{}));
    const elgamal::ciphertext agg = elgamal::encrypt(y, 1, scalar::from_u64(3));
    const auto sh = elgamal::make_share(elgamal::tally_context(1337, 1, y, {agg}), 0, 1, scalar::from_u64(7), agg);
    put(5, election::encode(election::decryption{{sh.d}, {sh.proof}}));
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_corpus <fuzz dir>\n");
        return 2;
    }
    const fs::path root = fs::path(argv[1]) / "corpus";
    auto open = [&](const char* name) {
        fs::create_directories(root / name);
        return writer{root / name};
    };

    auto tx = open("fuzz_tx");
    for (int i = 0; i < 4; ++i) tx.variants(encode(make_tx(i, static_cast<std::size_t>(i * 40))));
    {  // votes signed as one batch of 5 (data-format.md §2): audit paths of 2 and 3 hashes
        std::vector<vote_tx> batch;
        for (int i = 10; i < 15; ++i) batch.push_back(make_tx(i, 8));
        sign_batch<ed25519_sha256>(batch, key(50));
        for (const int i : {0, 4}) tx.variants(encode(batch[static_cast<std::size_t>(i)]));
    }

    const auto g = make_genesis(3);
    auto c = ledger::blockchain<ed25519_sha256, memory_storage>::open(g, memory_storage{}).value();
    auto blk = open("fuzz_block");
    for (int ntx : {0, 1, 5}) {
        std::vector<vote_tx> txs;
        for (int i = 0; i < ntx; ++i) txs.push_back(make_tx(i, 16));
        if (ntx == 5) sign_batch<ed25519_sha256>(txs, key(50));  // one signature for the block's votes
        finalized_block fb;
        fb.blk = c.build_block(0, 1'700'000'000'000ull, txs, key(static_cast<int>(g.proposer_index(1, 0))));
        const hash32 bh = block_hash<ed25519_sha256>(fb.blk.header);
        fb.cert = {1, 0, bh, {}};
        for (std::uint32_t v = 0; v < 2; ++v) fb.cert.seals.push_back(make_seal<ed25519_sha256>(key(static_cast<int>(v)), v, 1337, 1, 0, bh));
        blk.variants(encode(fb.blk));
        blk.variants(encode(fb));
        blk.variants(encode(fb.cert));
    }

    auto gen = open("fuzz_genesis");
    for (int n : {1, 3, 4}) gen.variants(encode(make_genesis(n)));

    auto gj = open("fuzz_genesis_json");
    for (int n : {1, 3}) gj.put(boost::json::serialize(json::to_json(make_genesis(n))));
    gj.put(std::string(R"({"chain_id":1337})"));
    gj.put(std::string(R"({"chain_id":"x","validators":[]})"));
    gj.put(std::string("{not json"));
    gj.put(std::string(R"([1,2,3])"));

    auto msg = open("fuzz_message");
    consensus::envelope e;
    e.chain_id = 1337;
    e.type = consensus::msg_type::prepare;
    e.sender = 1;
    e.height = 5;
    e.round = 2;
    e.body = consensus::encode_prepare(sha256::hash(bytes{9}));
    consensus::sign_envelope<ed25519_sha256>(e, key(1));
    msg.variants(consensus::encode(e));
    consensus::round_change_body rc;
    rc.prepared = consensus::prepared_certificate{1, sha256::hash(bytes{9}), {{0, {}}, {2, {}}}};
    msg.variants(consensus::encode(rc));
    std::vector<vote_tx> txs{make_tx(1, 8), make_tx(2, 0)};
    msg.variants(consensus::encode_txs(txs));
    msg.variants(consensus::encode(consensus::commit_body{sha256::hash(bytes{1}), {}}));

    // Bootnode registrations for fuzz_bootnode_register's fixed chain and clock: accepted
    // ones for every index, then one per refusal, then malformed JSON.
    namespace fx = fuzz_fixture;
    auto reg = open("fuzz_bootnode_register");
    auto signed_reg = [&](std::uint64_t chain, std::uint32_t index, int key, std::string p2p, std::uint64_t ts) {
        app::registration r;
        r.chain_id = chain;
        r.index = index;
        r.p2p = std::move(p2p);
        r.timestamp_ms = ts;
        app::sign_registration(r, fx::bootnode_key(key));
        return r;
    };
    auto put_reg = [&](const app::registration& r) { reg.put(boost::json::serialize(app::to_json(r))); };
    const auto now = fx::bootnode_wall_ms;
    for (std::uint32_t i = 0; i < 3; ++i) put_reg(signed_reg(1337, i, static_cast<int>(i), "127.0.0.1:3030" + std::to_string(i), now));
    put_reg(signed_reg(1337, 0, 0, "[::1]:30303", now + 29'000));
    put_reg(signed_reg(1338, 0, 0, "127.0.0.1:30303", now));      // chain not served
    put_reg(signed_reg(1337, 3, 0, "127.0.0.1:30303", now));      // index not below n
    put_reg(signed_reg(1337, 1, 0, "127.0.0.1:30303", now));      // another validator's key
    put_reg(signed_reg(1337, 0, 9, "127.0.0.1:30303", now));      // not a genesis key
    put_reg(signed_reg(1337, 0, 0, "127.0.0.1:30303", now - 31'000));  // stale
    put_reg(signed_reg(1337, 0, 0, "127.0.0.1:30303", now + 31'000));  // from the future
    auto forged = signed_reg(1337, 2, 2, "127.0.0.1:30305", now);
    forged.p2p = "10.6.6.6:30305";  // signature over another address
    put_reg(forged);
    auto text = boost::json::serialize(app::to_json(signed_reg(1337, 1, 1, "127.0.0.1:30304", now)));
    reg.put(text.substr(0, text.size() / 2));
    reg.put(std::string(R"({"chain_id":1337,"index":-1,"public_key":"0x00","p2p":"a:1","timestamp_ms":0,"signature":"0x00"})"));
    reg.put(std::string(R"({"chain_id":1337,"index":0,"public_key":7,"p2p":"a","timestamp_ms":1.5,"signature":null})"));
    reg.put(std::string(R"({"chain_id":18446744073709551615,"index":255,"timestamp_ms":18446744073709551615})"));
    reg.put(std::string(R"([{"chain_id":1337}])"));

    write_rpc_corpus(open("fuzz_jsonrpc"), open("fuzz_http_validator"));
    write_framing_corpus(open("fuzz_http_framing"));
    write_backend_corpus(open("fuzz_http_backend"));
    write_client_corpus(open("fuzz_client_answers"));
    write_election_corpus(open("fuzz_election"));
    std::printf("corpus written under %s\n", root.c_str());
    return 0;
}
