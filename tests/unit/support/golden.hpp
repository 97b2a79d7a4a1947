#pragma once
/// @file The fixed values whose encodings are committed under tests/data/golden
/// (see the README there and docs/data-format.md, "Worked example").
///
/// All of them come from test_network(3) of fixtures.hpp: validators are keys
/// 0, 1, 2; the submitter is key 100.

#include "fixtures.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/core/file.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ballotchain::test {

/// Directory of the committed golden files.
inline std::string golden_dir() { return ballotchain::test_support::data_dir() + "/golden"; }

/// Reads golden file `name` (0x-hex, or JSON for *.json) without its final newline.
inline std::string golden_text(const std::string& name) {
    auto text = read_file(golden_dir() + "/" + name, 1 << 20);
    REQUIRE(text);
    std::string s = *text;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

/// The bytes of golden file `name`.hex.
inline bytes golden_bytes(const std::string& name) { return from_hex_or_die(golden_text(name + ".hex")); }

/// The golden values:
/// - `tx`: vote of voter 7 in election 2 for candidate 1, the last of a batch of three
///   signed together by the submitter (index 2, a path of one hash);
/// - `fb`: block 1 with that batch: votes (1, election 1, candidate 0), (2, 1, 3) and `tx`,
///   round 0, so proposed by validator 1, certified by validators 0 and 1;
/// - `g0`: block 0 derived from the genesis.
struct golden_values {
    test_network net{3};
    vote_tx tx = net.vote(7, 2, 1);
    finalized_block fb;
    finalized_block g0 = make_genesis_block<S>(net.genesis);

    golden_values() {
        auto c = net.open_chain();
        std::vector<vote_tx> batch{net.vote(1), net.vote(2, 1, 3), net.vote(7, 2, 1)};
        sign_batch<S>(batch, net.submitter);
        tx = batch[2];
        fb = net.next_block(c, batch);
    }

    /// The bytes validator v signs to seal block 1.
    bytes seal_msg() const {
        return seal_message(net.genesis.chain_id, fb.cert.height, fb.cert.round, fb.cert.block_hash);
    }

    /// (file name without .hex, bytes) of every binary golden file.
    std::vector<std::pair<std::string, bytes>> hex_files() const {
        return {{"tx", encode(tx)},
                {"tx_hash", raw(tx_hash<S>(tx))},
                {"header", encode(fb.blk.header)},
                {"block_hash", raw(block_hash<S>(fb.blk.header))},
                {"block", encode(fb.blk)},
                {"seal_message", seal_msg()},
                {"certificate", encode(fb.cert)},
                {"finalized_block", encode(fb)},
                {"genesis", encode(net.genesis)},
                {"genesis_hash", raw(genesis_hash<S>(net.genesis))},
                {"genesis_block", encode(g0)},
                {"genesis_block_hash", raw(block_hash<S>(g0.blk.header))}};
    }

    /// (file name, text) of the JSON golden files.
    std::vector<std::pair<std::string, std::string>> json_files() const {
        return {{"tx.json", boost::json::serialize(json::to_json(tx))},
                {"genesis.json", boost::json::serialize(json::to_json(net.genesis))}};
    }
};

}  // namespace ballotchain::test
