// The verifying client across a validator-set change on real validators (docs/client.md,
// "Validator-set changes"): 4 validators remove 2 of them by an on-chain change; a vote final
// after the change is sealed by the 2 left (fewer than the genesis quorum of 3), and a client
// that holds only the genesis verifies its receipt by learning the change (poa_getValidatorChanges),
// as its follower does from the blocks.
#include "network.hpp"
#include "voter.hpp"

#include <ballotchain/client/client.hpp>
#include <ballotchain/chain/validator_set.hpp>
#include <ballotchain/crypto/key_file.hpp>

#include <catch2/catch.hpp>
#include <catch_client.hpp>
#include <catch_result.hpp>

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;
using namespace std::chrono_literals;

namespace {

/// The change record `c` approved by the validators whose key files are `approvers` (their ids,
/// ascending), as a transaction signed by `by`'s key (protocol.md §12).
vote_tx valset_change_tx(const genesis_config& g, const validator_change& c,
                  const std::vector<std::pair<std::uint32_t, ed25519::key_pair>>& approvers, const ed25519::key_pair& by) {
    validator_change_record rec{c, {}};
    const bytes msg = change_message(g.chain_id, c);
    for (const auto& [id, kp] : approvers) rec.approvals.push_back({id, ed25519_sha256::sign(kp, msg)});
    vote_tx tx;
    tx.chain_id = g.chain_id;
    tx.kind = tx_kind::validator_set;
    tx.voter_tag = change_slot_tag(c.sequence);
    tx.encrypted_vote = encode(rec);
    tx.timestamp_ms = g.timestamp_ms;
    sign_tx<ed25519_sha256>(tx, by);
    return tx;
}

std::string node_url(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

std::uint64_t valset_status_u64(std::uint16_t port, const char* field) {
    auto s = rpc_call(port, "poa_status", {});
    if (!s || !s->is_object() || !s->as_object().contains(field)) return 0;
    return s->as_object().at(field).to_number<std::uint64_t>();
}

}  // namespace

TEST_CASE("after a validator-set change, a client holding only the genesis verifies a receipt sealed by the new set",
          "[integration][client][validator_set]") {
    network net(4);
    wait_connected(net);
    const auto& g = net.genesis();
    REQUIRE(g.quorum() == 3);
    std::vector<std::pair<std::uint32_t, ed25519::key_pair>> keys;
    for (std::uint32_t i = 0; i < 4; ++i)
        keys.emplace_back(i, load_key_file((net.vdir(static_cast<int>(i)) / "validator.key").string()).value());

    // Validators 3 and 4 (ids 2, 3) leave: from `effective` on, ids {0, 1} decide with quorum 2.
    const auto head = net.height(0);
    REQUIRE(head);
    validator_change c;
    c.sequence = 1;
    c.effective_height = *head + 10;
    c.remove = {2, 3};
    const auto tx = valset_change_tx(g, c, {keys[0], keys[1], keys[2]}, keys[0].second);
    auto sent = rpc_call(net.rpc(0), "eth_sendRawTransaction", {to_hex(encode(tx))});
    REQUIRE(sent);
    REQUIRE(eventually([&] { return valset_status_u64(net.rpc(0), "validator_set_changes") == 1; }, 30s));
    // Empty blocks are off: heights move only with votes, so keep sending some until H is passed.
    voter_client pump(net.dir() / "submitter.key");
    std::uint64_t pumped = 900'000;
    REQUIRE(eventually(
        [&] {
            (void)rpc_call(net.rpc(0), "eth_sendRawTransaction", {to_hex(encode(pump.make(pumped++, 999)))});
            return net.height(0).value_or(0) > c.effective_height;
        },
        90s));
    CHECK(valset_status_u64(net.rpc(0), "validators") == 2);

    // A vote final after the change: its certificate holds seals of ids 0 and 1 only.
    boost::asio::io_context io;
    client::verifying_client<ed25519_sha256> cl(io.get_executor(), {{"validator-1", node_url(net.rpc(0)), ""}, {"validator-2", node_url(net.rpc(1)), ""}}, g);
    REQUIRE(cl.validators().changes() == 0);
    voter_client vc(net.dir() / "submitter.key");
    const auto vote = vc.make(1);
    auto th = cl.submit_vote(vote);
    REQUIRE(th);
    auto conf = cl.wait_for_confirmation(*th, 60s);
    REQUIRE(conf);
    REQUIRE(conf->state == client::tx_state::final);
    REQUIRE(conf->proof);
    CHECK(conf->proof->block_number >= c.effective_height);
    for (const auto& s : conf->proof->certificate.seals) CHECK(s.validator < 2);
    // what the genesis alone cannot check: the client learned the change to verify it
    CHECK(client::light_verifier<ed25519_sha256>(g).check_receipt(*conf->proof, *th));
    const auto vs = cl.validators();
    REQUIRE(vs.changes() == 1);
    CHECK(vs.at(conf->proof->block_number).members == std::vector<std::uint32_t>{0, 1});

    // a second client's follower learns the change from the blocks it verifies
    client::verifying_client<ed25519_sha256> follower(io.get_executor(), {{"validator-2", node_url(net.rpc(1)), ""}}, g);
    auto h = follower.sync_follower(conf->proof->block_number);
    REQUIRE(h);
    CHECK(follower.validators().changes() == 1);
    auto rc = follower.get_transaction_receipt(*th);
    REQUIRE(rc);
    CHECK(rc->has_value());
}
