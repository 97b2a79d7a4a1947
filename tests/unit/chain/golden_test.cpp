// Golden encodings: fresh encodings equal the committed files byte for byte, the
// files decode back to the same values, and their structure, hashes and
// signatures check out when read with raw offsets (as docs/data-format.md
// describes them), independently of the decoder.
#include "../support/golden.hpp"

#include <filesystem>
#include <optional>
#include <fstream>

using namespace ballotchain;
using namespace ballotchain::test;

namespace {
std::uint64_t be(const bytes& b, std::size_t off, std::size_t n) {
    REQUIRE(off + n <= b.size());
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | b[off + i];
    return v;
}
template <std::size_t N>
fixed_bytes<N> at(const bytes& b, std::size_t off) {
    REQUIRE(off + N <= b.size());
    return fixed_bytes<N>::from(byte_view(b.data() + off, N));
}
bytes slice(const bytes& b, std::size_t off, std::size_t n) {
    REQUIRE(off + n <= b.size());
    return bytes(b.begin() + static_cast<std::ptrdiff_t>(off), b.begin() + static_cast<std::ptrdiff_t>(off + n));
}
bytes cat(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
hash32 sha(const bytes& b) { return sha256::hash(b); }
}  // namespace

TEST_CASE("regenerate golden files", "[.generate]") {
    golden_values g;
    std::filesystem::create_directories(golden_dir());
    for (const auto& [name, b] : g.hex_files()) std::ofstream(golden_dir() + "/" + name + ".hex") << to_hex(b) << "\n";
    for (const auto& [name, t] : g.json_files()) std::ofstream(golden_dir() + "/" + name) << t << "\n";
}

TEST_CASE("golden: fresh encodings match the committed files byte for byte", "[chain][golden]") {
    golden_values g;
    for (const auto& [name, b] : g.hex_files()) {
        INFO(name << ".hex");
        CHECK(golden_text(name + ".hex") == to_hex(b));
    }
    for (const auto& [name, t] : g.json_files()) {
        INFO(name);
        CHECK(golden_text(name) == t);
    }
}

TEST_CASE("golden: the committed files decode to the golden values", "[chain][golden]") {
    golden_values g;
    CHECK(decode_tx(golden_bytes("tx")).value() == g.tx);
    CHECK(decode_header(golden_bytes("header")).value() == g.fb.blk.header);
    CHECK(decode_block(golden_bytes("block")).value() == g.fb.blk);
    CHECK(decode_certificate(golden_bytes("certificate")).value() == g.fb.cert);
    CHECK(decode_finalized_block(golden_bytes("finalized_block")).value() == g.fb);
    CHECK(decode_genesis(golden_bytes("genesis")).value() == g.net.genesis);
    CHECK(decode_finalized_block(golden_bytes("genesis_block")).value() == g.g0);
    CHECK(json::tx_from_json(boost::json::parse(golden_text("tx.json"))).value() == g.tx);
    CHECK(json::parse_genesis(golden_text("genesis.json")).value() == g.net.genesis);
}

TEST_CASE("golden: the transaction read field by field at its documented offsets", "[chain][golden]") {
    const bytes tx = golden_bytes("tx");
    REQUIRE(tx.size() == 174 + 3 + 32);
    CHECK(tx[0] == 0x01);
    CHECK(be(tx, 1, 8) == 1337);  // chain_id
    CHECK(be(tx, 9, 8) == 2);     // election_id
    CHECK(be(tx, 17, 8) == 1);    // candidate_id
    CHECK(be(tx, 25, 4) == 3);    // encrypted_vote length
    CHECK(slice(tx, 29, 3) == bytes{0xe1, 0xe2, 0x07});
    CHECK(at<32>(tx, 32) == voter_tag_of(7));
    CHECK(be(tx, 64, 8) == 1'700'000'000'007ull);
    const auto submitter = at<32>(tx, 72);
    CHECK(submitter == key(100).public_key());
    // tx hash = SHA-256 of the payload (everything before the authorization)
    const hash32 th = sha(slice(tx, 0, 104));
    CHECK(raw(th) == golden_bytes("tx_hash"));
    // authorization: batch size 3, index 2, a path of 1 hash, the batch signature
    CHECK(be(tx, 104, 4) == 3);
    CHECK(be(tx, 108, 4) == 2);
    CHECK(tx[112] == 1);
    const auto sibling = at<32>(tx, 113);
    const auto sig = at<64>(tx, 145);
    // leaf 2 of 3 is the right child of the root: root = node(path[0], leaf(th))
    const hash32 leaf = sha(cat(bytes{0x00}, raw(th)));
    const hash32 root = sha(cat(cat(bytes{0x01}, raw(sibling)), raw(leaf)));
    // the submitter signs 0x08 ‖ chain_id ‖ u32 batch size ‖ root
    const bytes msg = cat(cat(cat(bytes{0x08}, slice(tx, 1, 8)), slice(tx, 104, 4)), raw(root));
    CHECK(msg.size() == codec::batch_message_size);
    CHECK(ed25519::verify(submitter, msg, sig));
    CHECK_FALSE(ed25519::verify(submitter, th.view(), sig));
}

TEST_CASE("golden: header, block, seals and certificate at their documented offsets", "[chain][golden]") {
    const bytes header = golden_bytes("header"), blk = golden_bytes("block"), cert = golden_bytes("certificate");
    const bytes genesis = golden_bytes("genesis"), g0 = golden_bytes("genesis_block");
    golden_values g;

    REQUIRE(header.size() == 101);
    CHECK(header[0] == 0x02);
    CHECK(be(header, 1, 8) == 1337);  // chain_id
    CHECK(be(header, 9, 8) == 1);     // height
    CHECK(be(header, 17, 4) == 0);    // round
    CHECK(raw(at<32>(header, 21)) == golden_bytes("genesis_block_hash"));  // parent = hash of block 0
    CHECK(be(header, 53, 8) == 1'700'000'001'000ull);                     // timestamp_ms
    CHECK(be(header, 61, 4) == 1);                                         // proposer = (1 + 0) mod 3
    const hash32 tx_root = at<32>(header, 65);
    CHECK(be(header, 97, 4) == 3);  // tx_count
    const hash32 bh = sha(header);
    CHECK(raw(bh) == golden_bytes("block_hash"));

    // block = 0x06 ‖ header ‖ proposer_sig ‖ txs
    CHECK(blk[0] == 0x06);
    CHECK(slice(blk, 1, 101) == header);
    CHECK(ed25519::verify(key(1).public_key(), bh.view(), at<64>(blk, 102)));
    std::vector<hash32> leaf_hashes;
    std::size_t off = 166;
    std::optional<signature> batch_sig;
    for (int i = 0; i < 3; ++i) {
        const std::size_t len = be(blk, off + 25, 4);
        const std::size_t payload = 101 + len;
        const std::size_t path_len = blk[off + payload + 8];
        const std::size_t size = payload + 9 + 32 * path_len + 64;
        const bytes t = slice(blk, off, size);
        CHECK(t[0] == 0x01);
        leaf_hashes.push_back(sha(slice(t, 0, payload)));
        CHECK(be(t, payload, 4) == 3);          // one batch of the three
        CHECK(be(t, payload + 4, 4) == std::uint64_t(i));  // in block order
        const auto sig = at<64>(t, size - 64);
        if (batch_sig) CHECK(sig == *batch_sig);  // one signature for all three
        batch_sig = sig;
        off += size;
    }
    CHECK(off == blk.size());
    CHECK(slice(blk, blk.size() - 209, 209) == golden_bytes("tx"));
    // RFC 6962 root of 3 leaves: node(node(leaf0, leaf1), leaf2)
    auto leaf = [](const hash32& d) { return sha(cat(bytes{0x00}, raw(d))); };
    auto node = [](const hash32& l, const hash32& r) { return sha(cat(cat(bytes{0x01}, raw(l)), raw(r))); };
    CHECK(tx_root == node(node(leaf(leaf_hashes[0]), leaf(leaf_hashes[1])), leaf(leaf_hashes[2])));
    // The batch is the block's three votes in the same order, so here its root is tx_root.
    const bytes msg = cat(cat(cat(bytes{0x08}, slice(header, 1, 8)), bytes{0, 0, 0, 3}), raw(tx_root));
    CHECK(ed25519::verify(key(100).public_key(), msg, *batch_sig));

    // seal message = 0x03 ‖ chain_id ‖ height ‖ round ‖ block hash
    const bytes sm = golden_bytes("seal_message");
    CHECK(sm == cat(cat(bytes{0x03}, slice(header, 1, 8 + 8 + 4)), raw(bh)));
    // certificate = 0x04 ‖ height ‖ round ‖ block hash ‖ count ‖ (validator ‖ sig)*
    CHECK(cert[0] == 0x04);
    CHECK(be(cert, 1, 8) == 1);
    CHECK(be(cert, 9, 4) == 0);
    CHECK(at<32>(cert, 13) == bh);
    REQUIRE(be(cert, 45, 4) == 2);  // q = 2 of n = 3
    CHECK(cert.size() == 49 + 2 * 68);
    for (std::uint32_t i = 0; i < 2; ++i) {
        const std::size_t s = 49 + 68 * i;
        const auto v = be(cert, s, 4);
        CHECK(v == i);
        CHECK(ed25519::verify(key(static_cast<int>(v)).public_key(), sm, at<64>(cert, s + 4)));
    }
    CHECK(golden_bytes("finalized_block") == cat(blk, cert));

    // genesis and block 0
    CHECK(genesis[0] == 0x05);
    CHECK(raw(sha(genesis)) == golden_bytes("genesis_hash"));
    CHECK(g0[0] == 0x06);
    const bytes h0 = slice(g0, 1, 101);
    CHECK(be(h0, 9, 8) == 0);                                    // height 0
    CHECK(raw(at<32>(h0, 21)) == golden_bytes("genesis_hash"));  // parent = genesis hash
    CHECK(be(h0, 53, 8) == g.net.genesis.timestamp_ms);
    CHECK(at<32>(h0, 65) == sha(bytes{}));  // tx_root of no txs = SHA-256("")
    CHECK(at<64>(g0, 102).is_zero());       // block 0 is not signed
    CHECK(raw(sha(h0)) == golden_bytes("genesis_block_hash"));
    // its certificate: height 0, round 0, the block hash, no seals
    CHECK(slice(g0, 166, g0.size() - 166) == cat(cat(bytes{0x04}, bytes(12, 0)), cat(raw(sha(h0)), bytes(4, 0))));
}

TEST_CASE("golden: the genesis read field by field", "[chain][golden]") {
    const bytes gb = golden_bytes("genesis");
    golden_values g;
    CHECK(be(gb, 1, 8) == 1337);
    CHECK(be(gb, 9, 8) == 1'700'000'000'000ull);
    REQUIRE(be(gb, 17, 4) == 3);
    std::size_t off = 21;
    for (int i = 0; i < 3; ++i) {
        const std::size_t n = be(gb, off, 4);
        const std::string name(gb.begin() + static_cast<std::ptrdiff_t>(off + 4),
                               gb.begin() + static_cast<std::ptrdiff_t>(off + 4 + n));
        CHECK(name == "validator-" + std::to_string(i + 1));
        CHECK(at<32>(gb, off + 4 + n) == key(i).public_key());
        off += 4 + n + 32;
    }
    REQUIRE(be(gb, off, 4) == 1);
    CHECK(at<32>(gb, off + 4) == key(100).public_key());
    off += 36;
    CHECK(be(gb, off, 8) == 5000);  // block_interval_ms
    CHECK(be(gb, off + 8, 4) == 32);  // max_block_txs
    CHECK(gb[off + 12] == 0);         // empty_blocks
    CHECK(be(gb, off + 13, 8) == 2000);
    CHECK(be(gb, off + 21, 8) == 60000);
    CHECK(be(gb, off + 29, 4) == 4096);
    CHECK(off + 33 == gb.size());
}
