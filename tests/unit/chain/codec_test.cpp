// chain codec: round trips, committed golden encodings, strict decoding, Merkle, JSON.
#include "../support/fixtures.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/file.hpp>

#include <filesystem>
#include <fstream>

using namespace ballotchain;
using namespace ballotchain::test;

namespace {
const std::string golden_dir = std::string(BALLOTCHAIN_TEST_DATA_DIR) + "/golden";

/// The fixed values whose encodings are committed under tests/data/golden.
struct golden_values {
    test_network net{3};
    vote_tx tx = net.vote(7, 2, 1);
    finalized_block fb;
    golden_values() {
        auto c = net.open_chain();
        fb = net.next_block(c, {net.vote(1), net.vote(2, 1, 3), tx});
    }
    static bytes raw(const hash32& h) { return bytes(h.data.begin(), h.data.end()); }
    std::vector<std::pair<std::string, bytes>> files() const {
        return {{"tx", encode(tx)},
                {"header", encode(fb.blk.header)},
                {"block", encode(fb.blk)},
                {"certificate", encode(fb.cert)},
                {"finalized_block", encode(fb)},
                {"genesis", encode(net.genesis)},
                {"tx_hash", raw(tx_hash<H>(tx))},
                {"block_hash", raw(block_hash<H>(fb.blk.header))},
                {"genesis_hash", raw(genesis_hash<H>(net.genesis))}};
    }
};

template <class T, class Decode>
void every_truncation_fails(const bytes& enc, Decode decode) {
    for (std::size_t n = 0; n < enc.size(); ++n) {
        INFO("prefix of " << n << " of " << enc.size() << " bytes");
        CHECK_FALSE(decode(byte_view(enc.data(), n)).has_value());
    }
    bytes longer = enc;
    longer.push_back(0x00);
    CHECK(decode(longer).error() == make_error(core::errc::trailing_bytes));
}

/// RFC 6962 Merkle tree hash, written out independently of merkle.hpp.
hash32 reference_mth(const std::vector<hash32>& d) {
    if (d.empty()) return H::hash(bytes{});
    if (d.size() == 1) {
        bytes m{0x00};
        m.insert(m.end(), d[0].data.begin(), d[0].data.end());
        return H::hash(m);
    }
    std::size_t k = 1;
    while (k * 2 < d.size()) k *= 2;
    const auto l = reference_mth({d.begin(), d.begin() + static_cast<std::ptrdiff_t>(k)});
    const auto r = reference_mth({d.begin() + static_cast<std::ptrdiff_t>(k), d.end()});
    bytes m{0x01};
    m.insert(m.end(), l.data.begin(), l.data.end());
    m.insert(m.end(), r.data.begin(), r.data.end());
    return H::hash(m);
}
}  // namespace

TEST_CASE("regenerate golden files", "[.generate]") {
    golden_values g;
    std::filesystem::create_directories(golden_dir);
    for (const auto& [name, b] : g.files()) std::ofstream(golden_dir + "/" + name + ".hex") << to_hex(b) << "\n";
}

TEST_CASE("encodings match the committed golden files byte for byte", "[chain][golden]") {
    golden_values g;
    for (const auto& [name, b] : g.files()) {
        INFO(name);
        auto text = read_file(golden_dir + "/" + name + ".hex", 1 << 20);
        REQUIRE(text);
        std::string s = *text;
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        CHECK(s == to_hex(b));
    }
}

TEST_CASE("every value round-trips through its encoding", "[chain]") {
    golden_values g;
    CHECK(decode_tx(encode(g.tx)).value() == g.tx);
    CHECK(decode_header(encode(g.fb.blk.header)).value() == g.fb.blk.header);
    CHECK(decode_block(encode(g.fb.blk)).value() == g.fb.blk);
    CHECK(decode_certificate(encode(g.fb.cert)).value() == g.fb.cert);
    CHECK(decode_finalized_block(encode(g.fb)).value() == g.fb);
    CHECK(decode_genesis(encode(g.net.genesis)).value() == g.net.genesis);
    CHECK(encode(g.fb.blk.header).size() == codec::header_size);
}

TEST_CASE("strict decoding: every truncation and any trailing byte fails", "[chain]") {
    golden_values g;
    every_truncation_fails<vote_tx>(encode(g.tx), [](byte_view b) { return decode_tx(b); });
    every_truncation_fails<block_header>(encode(g.fb.blk.header), [](byte_view b) { return decode_header(b); });
    every_truncation_fails<block>(encode(g.fb.blk), [](byte_view b) { return decode_block(b); });
    every_truncation_fails<commit_certificate>(encode(g.fb.cert), [](byte_view b) { return decode_certificate(b); });
    every_truncation_fails<genesis_config>(encode(g.net.genesis), [](byte_view b) { return decode_genesis(b); });
}

TEST_CASE("strict decoding: wrong tags, oversize lengths, unordered seals", "[chain]") {
    golden_values g;
    bytes tx = encode(g.tx);
    tx[0] = static_cast<byte>(tag::header);
    CHECK(decode_tx(tx).error() == make_error(core::errc::bad_tag));
    // encrypted_vote length prefix (after tag, chain, election, candidate) set to 4 GiB
    bytes big = encode(g.tx);
    for (int i = 0; i < 4; ++i) big[1 + 8 + 8 + 8 + static_cast<std::size_t>(i)] = 0xff;
    CHECK(decode_tx(big).error() == make_error(core::errc::length_too_large));
    // certificate seals out of order
    auto cert = g.fb.cert;
    std::swap(cert.seals[0], cert.seals[1]);
    CHECK_FALSE(decode_certificate(encode(cert)).has_value());
    // duplicate seal
    cert = g.fb.cert;
    cert.seals[1] = cert.seals[0];
    CHECK_FALSE(decode_certificate(encode(cert)).has_value());
}

TEST_CASE("hashes cover every field: changing any field changes the tx and block hash", "[chain]") {
    golden_values g;
    const hash32 th = tx_hash<H>(g.tx);
    auto t = g.tx;
    t.candidate_id++;
    CHECK(tx_hash<H>(t) != th);
    t = g.tx;
    t.voter_tag.data[0] ^= 1;
    CHECK(tx_hash<H>(t) != th);
    t = g.tx;
    t.sig.data[0] ^= 1;  // the signature is not part of the hash
    CHECK(tx_hash<H>(t) == th);
    const hash32 bh = block_hash<H>(g.fb.blk.header);
    auto h = g.fb.blk.header;
    h.round++;
    CHECK(block_hash<H>(h) != bh);
    h = g.fb.blk.header;
    h.tx_root.data[5] ^= 1;
    CHECK(block_hash<H>(h) != bh);
}

TEST_CASE("Merkle roots equal an independent RFC 6962 implementation; proofs verify for every leaf", "[chain]") {
    for (std::size_t n = 0; n <= 17; ++n) {
        std::vector<hash32> leaves;
        for (std::size_t i = 0; i < n; ++i) leaves.push_back(H::hash(bytes{static_cast<byte>(i)}));
        const hash32 root = merkle_root<H>(leaves);
        INFO("n = " << n);
        CHECK(root == reference_mth(leaves));
        for (std::size_t i = 0; i < n; ++i) {
            const auto proof = merkle_proof<H>(leaves, i);
            CHECK(merkle_verify<H>(leaves[i], i, n, proof, root));
            if (n > 1) CHECK_FALSE(merkle_verify<H>(leaves[(i + 1) % n], i, n, proof, root));
            if (!proof.empty()) {
                auto bad = proof;
                bad[0].data[0] ^= 1;
                CHECK_FALSE(merkle_verify<H>(leaves[i], i, n, bad, root));
            }
            CHECK_FALSE(merkle_verify<H>(leaves[i], n, n, proof, root));
        }
    }
}

TEST_CASE("JSON: tx and genesis round-trip; strict parsing refuses wrong shapes", "[chain][json]") {
    golden_values g;
    CHECK(json::tx_from_json(json::to_json(g.tx)).value() == g.tx);
    const std::string gj = boost::json::serialize(json::to_json(g.net.genesis));
    CHECK(json::parse_genesis(gj).value() == g.net.genesis);

    auto tx_with = [&](const char* k, boost::json::value v) {
        auto o = json::to_json(g.tx);
        o[k] = std::move(v);
        return json::tx_from_json(o);
    };
    CHECK_FALSE(tx_with("chain_id", "1337"));
    CHECK_FALSE(tx_with("chain_id", -1));
    CHECK_FALSE(tx_with("voter_tag", "0x00"));
    CHECK_FALSE(tx_with("signature", "0XAB"));
    CHECK_FALSE(tx_with("encrypted_vote", 5));
    auto missing = json::to_json(g.tx);
    missing.erase("submitter");
    CHECK_FALSE(json::tx_from_json(missing));
    CHECK_FALSE(json::tx_from_json(boost::json::array{}));

    CHECK_FALSE(json::parse_genesis("{"));
    CHECK_FALSE(json::parse_genesis("[]"));
    CHECK_FALSE(json::parse_genesis(R"({"chain_id":1337,"validators":[]})"));
    CHECK_FALSE(json::parse_genesis(std::string(json::max_genesis_file_bytes + 1, ' ')));
    auto go = json::to_json(g.net.genesis);
    go["validators"].as_array().push_back(go["validators"].as_array()[0]);  // duplicate key
    CHECK_FALSE(json::parse_genesis(boost::json::serialize(go)));
}

TEST_CASE("genesis: quorum, proposer rotation and semantic checks", "[chain]") {
    for (int n = 1; n <= 21; ++n) {
        test_network net(n);
        const std::size_t q = (2 * static_cast<std::size_t>(n) + 2) / 3;  // ceil(2n/3)
        CHECK(net.genesis.quorum() == q);
        CHECK(3 * q >= 2 * static_cast<std::size_t>(n));
        for (std::uint64_t h = 0; h < 5; ++h)
            for (std::uint32_t r = 0; r < 5; ++r) CHECK(net.genesis.proposer_index(h, r) == (h + r) % static_cast<std::uint64_t>(n));
    }
    test_network net(3);
    CHECK_FALSE(check_genesis(net.genesis));
    auto g = net.genesis;
    g.validators.clear();
    CHECK(check_genesis(g) == make_error(chain::errc::bad_genesis));
    g = net.genesis;
    g.validators[1].key = g.validators[0].key;
    CHECK(check_genesis(g) == make_error(chain::errc::bad_genesis));
    g = net.genesis;
    g.max_block_txs = 0;
    CHECK(check_genesis(g) == make_error(chain::errc::bad_genesis));
    g = net.genesis;
    g.round_timeout_ms = 0;
    CHECK(check_genesis(g) == make_error(chain::errc::bad_genesis));
    g = net.genesis;
    g.round_timeout_max_ms = 1;
    CHECK(check_genesis(g) == make_error(chain::errc::bad_genesis));
    g = net.genesis;
    g.validators.resize(limits::max_validators + 1, g.validators[0]);
    CHECK(check_genesis(g) == make_error(chain::errc::bad_genesis));
}
