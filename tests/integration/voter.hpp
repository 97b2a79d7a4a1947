#pragma once
/// @file Test helpers shared by the integration tests: signed test votes and the
/// "every acknowledged vote final exactly once, chains identical" check.
#include "network.hpp"

#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>

#include <catch2/catch.hpp>

#include <set>

namespace ballotchain::itest {

/// Signs votes with the testnet's submitter key.
class voter_client {
public:
    explicit voter_client(const fs::path& key) : kp_(load_key_file(key.string()).value()) {}
    vote_tx make(std::uint64_t voter, std::uint64_t election = 1) {
        vote_tx tx;
        tx.chain_id = 1337;
        tx.election_id = election;
        tx.candidate_id = voter % 3;
        tx.encrypted_vote = bytes{1, 2, 3};
        bytes id(8);
        for (int b = 0; b < 8; ++b) id[static_cast<std::size_t>(b)] = static_cast<byte>(voter >> (8 * b));
        tx.voter_tag = sha256::hash(id);
        tx.timestamp_ms = 1'700'000'000'000ull + voter;
        sign_tx<ed25519_sha256>(tx, kp_);
        return tx;
    }
    /// eth_sendRawTransaction; the tx hash when the validator acknowledged it.
    std::optional<std::string> send(std::uint16_t port, const vote_tx& tx, json::value* err = nullptr) {
        auto r = rpc_call(port, "eth_sendRawTransaction", {to_hex(encode(tx))}, err);
        if (!r || !r->is_string()) return std::nullopt;
        return std::string(r->as_string());
    }

private:
    ed25519::key_pair kp_;
};

inline bool receipt_final(std::uint16_t port, const std::string& h) {
    auto r = rpc_call(port, "eth_getTransactionReceipt", {h});
    return r && r->is_object() && r->as_object().at("status").as_string() == "0x1";
}

inline void wait_connected(network& net) {
    REQUIRE(eventually([&] { return net.all_connected(); }, std::chrono::seconds(20)));
}

/// All acknowledged txs final on every validator, once each, on identical chains.
inline void check_all_final(network& net, int n, const std::vector<std::string>& acked) {
    for (int i = 0; i < n; ++i) {
        INFO("validator " << i + 1);
        REQUIRE(eventually(
            [&] {
                for (const auto& h : acked)
                    if (!receipt_final(net.rpc(i), h)) return false;
                return true;
            },
            std::chrono::seconds(60)));
    }
    // identical chains up to the lowest height
    std::uint64_t h = UINT64_MAX;
    for (int i = 0; i < n; ++i) h = std::min(h, net.height(i).value_or(0));
    std::vector<std::string> txs0;
    const auto ref = net.block_hashes(0, h, &txs0);
    REQUIRE(ref.size() == h);
    for (int i = 1; i < n; ++i) CHECK(net.block_hashes(i, h) == ref);
    // exactly once
    std::set<std::string> uniq(txs0.begin(), txs0.end());
    CHECK(uniq.size() == txs0.size());
    for (const auto& a : acked) CHECK(uniq.contains(a));
}

}  // namespace ballotchain::itest
