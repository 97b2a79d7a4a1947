#pragma once
/// @file Test helpers shared by the integration tests: signed test votes and the
/// "every acknowledged vote final exactly once, chains identical" check.
#include "network.hpp"

#include <ballotchain/chain/json.hpp>
#include <ballotchain/client/client.hpp>
#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>

#include <catch2/catch.hpp>

#include <set>

namespace ballotchain::itest {

/// The verifying client talking to one validator only (the tests choose which one answers):
/// one attempt of at most 5 s, answers checked against the network's genesis.
struct one_validator_client {
    boost::asio::io_context io;
    client::verifying_client<ed25519_sha256> c;
    one_validator_client(const genesis_config& g, std::uint16_t port)
        : c(io.get_executor(), {{"validator", "http://127.0.0.1:" + std::to_string(port), ""}}, g, {}, {}, options()) {}
    static client::client_options options() {
        client::client_options o;
        o.max_rounds = 1;
        o.attempt_timeout = std::chrono::seconds(5);
        o.deadline = std::chrono::seconds(5);
        return o;
    }
};

/// Signs votes with the testnet's submitter key (and sends them with the verifying client,
/// checked against the genesis next to the key).
class voter_client {
public:
    explicit voter_client(const fs::path& key)
        : kp_(load_key_file(key.string()).value()),
          genesis_(ballotchain::json::load_genesis_file((key.parent_path() / "genesis.json").string()).value()) {}
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
    /// Submits `tx` to the validator at `port`; the tx hash when it acknowledged it (or already
    /// holds it), otherwise nullopt and, when it refused, `*err` = {"code", "message"}.
    std::optional<std::string> send(std::uint16_t port, const vote_tx& tx, bj::value* err = nullptr) {
        one_validator_client v(genesis_, port);
        auto r = v.c.submit_vote(tx);
        if (r) return to_hex(*r);
        if (err && r.error().kind == client::errc::rpc_error)
            *err = bj::object{{"code", r.error().rpc_code}, {"message", r.error().message}};
        return std::nullopt;
    }

    const ed25519::key_pair& key() const { return kp_; }
    const genesis_config& genesis() const { return genesis_; }

private:
    ed25519::key_pair kp_;
    genesis_config genesis_;
};

/// Validator i has a receipt for tx `h` that the verifying client accepts (header hash,
/// certificate against the genesis, Merkle proof).
inline bool receipt_final(const network& net, int i, const std::string& h) {
    auto th = from_hex_fixed<32>(h);
    if (!th) return false;
    one_validator_client v(net.genesis(), net.rpc(i));
    auto r = v.c.get_transaction_receipt(*th);
    return r && r->has_value();
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
                    if (!receipt_final(net, i, h)) return false;
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
