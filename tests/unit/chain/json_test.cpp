// chain/json.hpp: tx and genesis JSON round trips and strict parsing.
#include <ballotchain/chain/json.hpp>

#include "../support/golden.hpp"
#include "../support/temp_dir.hpp"

#include <filesystem>
#include <fstream>

using namespace ballotchain;
using namespace ballotchain::test;
using core::errc;

namespace {
const std::string genesis_dir = ballotchain::test_support::data_dir() + "/genesis";

error_code tx_error(const boost::json::value& v) {
    auto r = json::tx_from_json(v);
    return r ? error_code{} : r.error();
}
error_code genesis_error(const boost::json::value& v) {
    auto r = json::genesis_from_json(v);
    return r ? error_code{} : r.error();
}
error_code genesis_text_error(std::string_view t) {
    auto r = json::parse_genesis(t);
    return r ? error_code{} : r.error();
}

const char* const tx_fields[] = {"chain_id",  "election_id",  "candidate_id", "encrypted_vote",
                                 "voter_tag", "timestamp_ms", "submitter",    "signature"};
const char* const tx_number_fields[] = {"chain_id", "election_id", "candidate_id", "timestamp_ms"};
const char* const tx_hex_fields[] = {"encrypted_vote", "voter_tag", "submitter", "signature"};

}  // namespace

TEST_CASE("json: a tx round-trips through its JSON object and text", "[chain][json]") {
    golden_values g;
    const auto o = json::to_json(g.tx);
    CHECK(o.size() == 9);
    for (const char* k : tx_fields) CHECK(o.contains(k));
    REQUIRE(o.contains("batch"));  // optional on input: a tx signed alone may leave it out
    CHECK(boost::json::serialize(o.at("batch")) ==
          R"({"size":3,"index":2,"path":[")" + to_hex(g.tx.auth.path.at(0)) + R"("]})");
    CHECK(json::tx_from_json(o).value() == g.tx);
    CHECK(json::tx_from_json(boost::json::parse(boost::json::serialize(o))).value() == g.tx);
    vote_tx big;
    big.chain_id = big.election_id = big.candidate_id = big.timestamp_ms = ~std::uint64_t{0};
    CHECK(json::tx_from_json(boost::json::parse(boost::json::serialize(json::to_json(big)))).value() == big);
}

TEST_CASE("json: a tx with any field missing is refused", "[chain][json]") {
    golden_values g;
    for (const char* k : tx_fields) {
        auto o = json::to_json(g.tx);
        o.erase(k);
        INFO(k);
        CHECK(tx_error(o) == make_error(errc::bad_json));
    }
    CHECK(tx_error(boost::json::array{}) == make_error(errc::bad_json));
    CHECK(tx_error(nullptr) == make_error(errc::bad_json));
    CHECK(tx_error("tx") == make_error(errc::bad_json));
}

TEST_CASE("json: tx numbers must be non-negative integers that fit in 64 bits", "[chain][json]") {
    golden_values g;
    const boost::json::value wrong[] = {"1337", -1, 1.0, 1.5, true, nullptr, boost::json::array{1},
                                        boost::json::parse("18446744073709551616") /* 2^64, parsed as double */};
    for (const char* k : tx_number_fields)
        for (const auto& v : wrong) {
            auto o = json::to_json(g.tx);
            o[k] = v;
            INFO(k << " = " << boost::json::serialize(v));
            CHECK(tx_error(o) == make_error(errc::bad_json));
        }
    auto o = json::to_json(g.tx);
    o["election_id"] = boost::json::parse("18446744073709551615");
    CHECK(json::tx_from_json(o).value().election_id == ~std::uint64_t{0});
    o["election_id"] = boost::json::parse("-0");
    CHECK(json::tx_from_json(o).value().election_id == 0);
}

TEST_CASE("json: tx bytes must be strict hex strings of the right length", "[chain][json]") {
    golden_values g;
    for (const char* k : tx_hex_fields) {
        INFO(k);
        auto o = json::to_json(g.tx);
        o[k] = 5;
        CHECK(tx_error(o) == make_error(errc::bad_json));
        o[k] = nullptr;
        CHECK(tx_error(o) == make_error(errc::bad_json));
        const std::string good(json::to_json(g.tx).at(k).as_string());
        std::string upper = good;
        for (std::size_t i = 2; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
        o[k] = upper;
        if (upper != good) CHECK(tx_error(o) == make_error(errc::hex_bad_digit));
        o[k] = good.substr(2);
        CHECK(tx_error(o) == make_error(errc::hex_missing_prefix));
        o[k] = good + "0";
        CHECK(tx_error(o) == make_error(errc::hex_odd_length));
    }
    auto o = json::to_json(g.tx);
    o["voter_tag"] = "0x00";
    CHECK(tx_error(o) == make_error(errc::hex_wrong_length));
    o = json::to_json(g.tx);
    o["signature"] = to_hex(hash32{});  // 32 bytes where 64 are needed
    CHECK(tx_error(o) == make_error(errc::hex_wrong_length));
    o = json::to_json(g.tx);
    o["encrypted_vote"] = "0x";
    CHECK(json::tx_from_json(o).value().encrypted_vote.empty());
    o["encrypted_vote"] = to_hex(bytes(limits::max_encrypted_vote_bytes, 1));
    CHECK(json::tx_from_json(o).value().encrypted_vote.size() == limits::max_encrypted_vote_bytes);
    o["encrypted_vote"] = to_hex(bytes(limits::max_encrypted_vote_bytes + 1, 1));
    CHECK(tx_error(o) == make_error(errc::hex_too_long));
}

TEST_CASE("json: unknown tx fields are ignored; a duplicated key keeps its last value", "[chain][json]") {
    // Documented behaviour of json.hpp. Harmless for a tx: the signature covers
    // the binary encoding, so what a second reader makes of the text cannot
    // change what was signed.
    golden_values g;
    auto o = json::to_json(g.tx);
    o["note"] = "ignored";
    CHECK(json::tx_from_json(o).value() == g.tx);
    std::string t = boost::json::serialize(json::to_json(g.tx));
    t.insert(1, R"("candidate_id":99,)");
    REQUIRE(t.find("\"candidate_id\"", 20) != std::string::npos);
    CHECK(json::tx_from_json(boost::json::parse(t)).value() == g.tx);  // the later candidate_id (1) wins
}

TEST_CASE("json: the block header and certificate JSON carry every field", "[chain][json]") {
    golden_values g;
    const auto h = json::to_json(g.fb.blk.header);
    for (const char* k : {"chain_id", "height", "round", "parent_hash", "timestamp_ms", "proposer", "tx_root", "tx_count"})
        CHECK(h.contains(k));
    CHECK(h.at("parent_hash").as_string() == to_hex(g.fb.blk.header.parent));
    CHECK(h.at("tx_count").to_number<std::uint32_t>() == 3);
    const auto c = json::to_json(g.fb.cert);
    CHECK(c.at("block_hash").as_string() == to_hex(g.fb.cert.block_hash));
    REQUIRE(c.at("seals").as_array().size() == 2);
    CHECK(c.at("seals").as_array()[1].as_object().at("validator").to_number<std::uint32_t>() == 1);
    CHECK(c.at("seals").as_array()[1].as_object().at("signature").as_string() == to_hex(g.fb.cert.seals[1].sig));
}

TEST_CASE("json: a certificate round-trips through its JSON; fields, types and the seal bound are checked",
          "[chain][json]") {
    golden_values g;
    const auto c = json::to_json(g.fb.cert);
    CHECK(json::cert_from_json(c).value() == g.fb.cert);
    CHECK(json::cert_from_json(boost::json::parse(boost::json::serialize(c))).value() == g.fb.cert);
    commit_certificate none{~std::uint64_t{0}, 0xffffffffu, {}, {}};
    CHECK(json::cert_from_json(json::to_json(none)).value() == none);
    auto cert_error = [](const boost::json::value& v) {
        auto r = json::cert_from_json(v);
        return r ? error_code{} : r.error();
    };
    for (const char* k : {"height", "round", "block_hash", "seals"}) {
        auto o = c;
        o.erase(k);
        INFO(k);
        CHECK(cert_error(o) == make_error(errc::bad_json));
    }
    const std::vector<std::pair<const char*, boost::json::value>> wrong = {
        {"height", -1}, {"height", "1"}, {"round", 4294967296ull}, {"round", 1.0},
        {"block_hash", 1}, {"seals", boost::json::object{}}, {"seals", "[]"}};
    for (const auto& [k, v] : wrong) {
        auto o = c;
        o[k] = v;
        INFO(k << " = " << boost::json::serialize(v));
        CHECK(cert_error(o) == make_error(errc::bad_json));
    }
    auto short_hash = c;
    short_hash["block_hash"] = "0x12";
    CHECK(cert_error(short_hash) == make_error(errc::hex_wrong_length));  // as for a tx's hex fields
    const std::vector<boost::json::value> bad_seals = {
        1, boost::json::object{{"validator", 0}}, boost::json::object{{"signature", to_hex(g.fb.cert.seals[0].sig)}},
        boost::json::object{{"validator", -1}, {"signature", to_hex(g.fb.cert.seals[0].sig)}},
        boost::json::object{{"validator", 0}, {"signature", 7}}};
    for (const auto& s : bad_seals) {
        auto o = c;
        o["seals"].as_array().push_back(s);
        INFO(boost::json::serialize(s));
        CHECK(cert_error(o) == make_error(errc::bad_json));
    }
    auto short_sig = c;
    short_sig["seals"].as_array()[0].as_object()["signature"] = "0x00";
    CHECK(cert_error(short_sig) == make_error(errc::hex_wrong_length));
    auto many = c;
    auto& seals = many["seals"].as_array();
    while (seals.size() < limits::max_validators) seals.push_back(seals[0]);
    CHECK(json::cert_from_json(many).value().seals.size() == limits::max_validators);  // order is the rules' concern
    seals.push_back(seals[0]);
    CHECK(cert_error(many) == make_error(errc::bad_json));
    CHECK(cert_error(nullptr) == make_error(errc::bad_json));
}

TEST_CASE("json: genesis round-trips; optional fields take the genesis_config defaults", "[chain][json]") {
    golden_values g;
    const std::string text = boost::json::serialize(json::to_json(g.net.genesis));
    CHECK(json::parse_genesis(text).value() == g.net.genesis);
    auto full = g.net.genesis;
    full.block_interval_ms = 1;
    full.max_block_txs = 7;
    full.empty_blocks = true;
    full.round_timeout_ms = 3;
    full.round_timeout_max_ms = 9;
    full.max_encrypted_vote_bytes = 65536;
    CHECK(json::genesis_from_json(json::to_json(full)).value() == full);

    auto o = json::to_json(full);
    for (const char* k : {"block_interval_ms", "max_block_txs", "empty_blocks", "round_timeout_ms",
                          "round_timeout_max_ms", "max_encrypted_vote_bytes"})
        o.erase(k);
    const auto minimal = json::genesis_from_json(o);
    REQUIRE(minimal);
    const genesis_config defaults;
    CHECK(minimal->block_interval_ms == defaults.block_interval_ms);
    CHECK(minimal->block_interval_ms == 5000);
    CHECK(minimal->max_block_txs == 32);
    CHECK(minimal->empty_blocks == false);
    CHECK(minimal->round_timeout_ms == 2000);
    CHECK(minimal->round_timeout_max_ms == 60000);
    CHECK(minimal->max_encrypted_vote_bytes == 4096);
    CHECK(minimal->validators == full.validators);
    CHECK(minimal->submitters == full.submitters);
}

TEST_CASE("json: genesis required fields and types", "[chain][json]") {
    golden_values g;
    const auto base = json::to_json(g.net.genesis);
    for (const char* k : {"chain_id", "timestamp_ms", "validators", "submitters"}) {
        auto o = base;
        o.erase(k);
        INFO("missing " << k);
        CHECK(genesis_error(o) == make_error(errc::bad_json));
    }
    const std::pair<const char*, boost::json::value> wrong[] = {
        {"chain_id", "1337"},
        {"chain_id", -5},
        {"timestamp_ms", 1.5},
        {"validators", "validator-1"},
        {"validators", boost::json::object{}},
        {"submitters", boost::json::string(to_hex(key(100).public_key()))},
        {"block_interval_ms", "5000"},
        {"max_block_txs", 4294967296ll},  // 2^32 does not fit in u32
        {"max_block_txs", -1},
        {"empty_blocks", 0},
        {"empty_blocks", "false"},
        {"round_timeout_ms", nullptr},
        {"max_encrypted_vote_bytes", 1e3},
    };
    for (const auto& [k, v] : wrong) {
        auto o = base;
        o[k] = v;
        INFO(k << " = " << boost::json::serialize(v));
        CHECK(genesis_error(o) == make_error(errc::bad_json));
    }
    auto o = base;
    o["validators"].as_array()[0] = "0x00";
    CHECK(genesis_error(o) == make_error(errc::bad_json));
    o = base;
    o["validators"].as_array()[0].as_object().erase("name");
    CHECK(genesis_error(o) == make_error(errc::bad_json));
    o = base;
    o["validators"].as_array()[0].as_object().erase("public_key");
    CHECK(genesis_error(o) == make_error(errc::bad_json));
    o = base;
    o["validators"].as_array()[0].as_object()["name"] = 1;
    CHECK(genesis_error(o) == make_error(errc::bad_json));
    o = base;
    o["validators"].as_array()[0].as_object()["public_key"] = "0x1234";
    CHECK(genesis_error(o) == make_error(errc::hex_wrong_length));
    o = base;
    o["submitters"].as_array()[0] = 7;
    CHECK(genesis_error(o) == make_error(errc::bad_json));
    o = base;
    o["submitters"].as_array()[0] = "0X" + std::string(64, '0');
    CHECK(genesis_error(o) == make_error(errc::hex_missing_prefix));
    CHECK(genesis_error(boost::json::array{}) == make_error(errc::bad_json));
}

TEST_CASE("json: genesis array bounds and the semantic checks", "[chain][json]") {
    golden_values g;
    const auto base = json::to_json(g.net.genesis);
    auto o = base;
    auto& vals = o["validators"].as_array();
    while (vals.size() <= limits::max_validators) vals.push_back(vals[0]);
    CHECK(genesis_error(o) == make_error(errc::bad_json));  // 257 entries: refused before reading them
    o = base;
    auto& subs = o["submitters"].as_array();
    while (subs.size() <= limits::max_submitters) subs.push_back(subs[0]);
    CHECK(genesis_error(o) == make_error(errc::bad_json));
    o = base;
    o["validators"].as_array().clear();
    CHECK(genesis_error(o) == make_error(chain::errc::bad_genesis));
    o = base;
    o["validators"].as_array().push_back(o["validators"].as_array()[0]);  // duplicate key
    CHECK(genesis_error(o) == make_error(chain::errc::bad_genesis));
    o = base;
    o["max_block_txs"] = 0;
    CHECK(genesis_error(o) == make_error(chain::errc::bad_genesis));
    o = base;
    o["round_timeout_max_ms"] = 1;
    CHECK(genesis_error(o) == make_error(chain::errc::bad_genesis));
}

TEST_CASE("json: genesis text must be exactly one JSON object", "[chain][json]") {
    golden_values g;
    const std::string text = boost::json::serialize(json::to_json(g.net.genesis));
    CHECK(genesis_text_error("") == make_error(errc::bad_json));
    CHECK(genesis_text_error("{") == make_error(errc::bad_json));
    CHECK(genesis_text_error("[]") == make_error(errc::bad_json));
    CHECK(genesis_text_error(text + "x") == make_error(errc::bad_json));
    CHECK(genesis_text_error(text + text) == make_error(errc::bad_json));
    CHECK(genesis_text_error(text + " // comment") == make_error(errc::bad_json));
    CHECK(genesis_text_error(std::string(10'000, '[') + std::string(10'000, ']')) == make_error(errc::bad_json));
    CHECK(json::parse_genesis("\n  " + text + "\n\n"));  // surrounding whitespace is fine
}

TEST_CASE("json: unknown genesis fields are refused, so a misspelled optional field cannot keep its default", "[chain][json]") {
    golden_values g;
    auto o = json::to_json(g.net.genesis);
    o.erase("max_block_txs");
    o["max_block_tx"] = 1000;  // typo
    CHECK(json::genesis_from_json(o).error() == make_error(errc::bad_json));
    auto v = json::to_json(g.net.genesis);
    v["validators"].as_array()[0].as_object()["extra"] = 1;
    CHECK(json::genesis_from_json(v).error() == make_error(errc::bad_json));
    CHECK(json::genesis_from_json(json::to_json(g.net.genesis)));
}

TEST_CASE("json: genesis files are bounded to 1 MiB", "[chain][json]") {
    golden_values g;
    temp_dir d;
    std::string text = boost::json::serialize(json::to_json(g.net.genesis));
    const auto p = d.file("genesis.json");
    text.resize(json::max_genesis_file_bytes, ' ');  // valid JSON, exactly the bound
    std::ofstream(p) << text;
    CHECK(json::load_genesis_file(p).value() == g.net.genesis);
    text.push_back(' ');
    std::ofstream(p, std::ios::trunc) << text;
    CHECK(json::load_genesis_file(p).error() == make_error(errc::length_too_large));
    const auto missing = json::load_genesis_file(d.file("missing.json"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().value() == ENOENT);
}

TEST_CASE("json: the committed genesis samples load or fail with their documented reasons", "[chain][json]") {
    golden_values g;
    const auto minimal = json::load_genesis_file(genesis_dir + "/minimal.json");
    REQUIRE(minimal);
    CHECK(minimal->validators == g.net.genesis.validators);
    CHECK(minimal->submitters == g.net.genesis.submitters);
    CHECK(minimal->max_block_txs == 32);
    const auto four = json::load_genesis_file(genesis_dir + "/four-validators.json");
    REQUIRE(four);
    CHECK(four->n() == 4);
    CHECK(four->quorum() == 3);
    CHECK(four->empty_blocks);
    CHECK(four->block_interval_ms == 1000);
    for (int i = 0; i < 4; ++i) CHECK(four->validators[static_cast<std::size_t>(i)].key == key(i).public_key());
    const std::pair<const char*, error_code> bad[] = {
        {"no-validators.json", make_error(chain::errc::bad_genesis)},
        {"duplicate-validator.json", make_error(chain::errc::bad_genesis)},
        {"zero-max-block-txs.json", make_error(chain::errc::bad_genesis)},
        {"missing-chain-id.json", make_error(errc::bad_json)},
        {"string-number.json", make_error(errc::bad_json)},
        {"uppercase-key.json", make_error(errc::hex_bad_digit)},
        {"short-key.json", make_error(errc::hex_wrong_length)},
        {"trailing-comma.json", make_error(errc::bad_json)},
    };
    for (const auto& [name, why] : bad) {
        INFO(name);
        const auto r = json::load_genesis_file(genesis_dir + "/" + name);
        REQUIRE_FALSE(r);
        CHECK(r.error() == why);
    }
}
