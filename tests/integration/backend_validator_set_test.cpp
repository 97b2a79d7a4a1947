// The backend across a validator-set change (protocol.md §12; docs/client.md, "Validator-set
// changes"): 4 validators remove 2 of them and add a new submitter key by an on-chain change.
// Votes before and after are confirmed (the backend's verifying client learns the change: the
// certificates after it hold 2 seals, fewer than the genesis quorum of 3), and the backend
// restarted with the new submitter key, which the genesis does not name, takes votes that
// become final. GET /api/chain/validator-changes passes the change on with the very block that
// recorded it, for the verify page.
#include "backend.hpp"
#include "network.hpp"
#include "voter.hpp"

#include <ballotchain/chain/validator_set.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/key_file.hpp>
#include <ballotchain/rpc/validator_api.hpp>

#include <catch2/catch.hpp>

using namespace ballotchain;
using namespace ballotchain::itest;
namespace bj = boost::json;
using namespace std::chrono_literals;

namespace {

std::uint64_t bvs_status(std::uint16_t port, const char* field) {
    auto s = rpc_call(port, "poa_status", {});
    if (!s || !s->is_object() || !s->as_object().contains(field)) return 0;
    return s->as_object().at(field).to_number<std::uint64_t>();
}

}  // namespace

TEST_CASE("backend: votes before and after a validator-set change are confirmed; a submitter key the change added "
          "takes votes",
          "[integration][backend][validator_set]") {
    network net(4);
    wait_connected(net);
    const auto& g = net.genesis();
    REQUIRE(g.quorum() == 3);
    backend b(net, 2);  // validators 1 and 2 stay
    const auto admin = b.admin();
    const auto election = b.election(admin, 2);
    const std::int64_t eid = election.first;
    const std::vector<std::int64_t> cands = election.second;
    const auto first = b.vote(b.voter(1), eid, cands[0]);
    REQUIRE(first.status == 200);
    const auto tx1 = first.str("transaction_id");
    REQUIRE(eventually([&] { return confirmed(b, tx1, eid); }, 60s));

    // The change: ids 2 and 3 leave, a new submitter key joins, from `effective` on.
    temp_dir cfg;
    const auto new_key = ed25519::generate();
    REQUIRE(save_key_file((cfg.path() / "new-submitter.key").string(), new_key, false));
    std::vector<ed25519::key_pair> keys;
    for (int i = 0; i < 3; ++i) keys.push_back(load_key_file((net.vdir(i) / "validator.key").string()).value());
    const auto head = net.height(0);
    REQUIRE(head);
    validator_change c;
    c.sequence = 1;
    c.effective_height = *head + 10;
    c.remove = {2, 3};
    c.add_submitters = {new_key.public_key()};
    validator_change_record rec{c, {}};
    const bytes msg = change_message(g.chain_id, c);
    for (std::uint32_t i = 0; i < 3; ++i) rec.approvals.push_back({i, ed25519_sha256::sign(keys[i], msg)});
    vote_tx tx;
    tx.chain_id = g.chain_id;
    tx.kind = tx_kind::validator_set;
    tx.voter_tag = change_slot_tag(1);
    tx.encrypted_vote = encode(rec);
    tx.timestamp_ms = g.timestamp_ms;
    sign_tx<ed25519_sha256>(tx, keys[0]);
    REQUIRE(rpc_call(net.rpc(0), "eth_sendRawTransaction", {to_hex(encode(tx))}));
    // Empty blocks are off: heights move only with votes, so keep sending some until H is passed.
    voter_client pump(net.dir() / "submitter.key");
    std::uint64_t pumped = 900'000;
    REQUIRE(eventually(
        [&] {
            (void)rpc_call(net.rpc(0), "eth_sendRawTransaction", {to_hex(encode(pump.make(pumped++, 999)))});
            return net.height(0).value_or(0) > c.effective_height;
        },
        90s));
    REQUIRE(bvs_status(net.rpc(0), "validator_set_changes") == 1);

    // after the change, with the genesis's submitter key: sealed by ids 0 and 1 only
    const auto second = b.vote(b.voter(2), eid, cands[1]);
    REQUIRE(second.status == 200);
    const auto tx2 = second.str("transaction_id");
    REQUIRE(eventually([&] { return confirmed(b, tx2, eid); }, 60s));
    CHECK(confirmed(b, tx1, eid));
    auto proof = b.get("/api/votes/proof?transaction_id=" + tx2);
    REQUIRE(proof.status == 200);

    // The change for the verify page: the backend's client learned it verified, and passes on
    // the block that recorded it byte for byte as a validator stores it (each validator keeps the
    // certificate it assembled: the first quorum of COMMITs it received, so copies may differ there).
    auto changes = b.get("/api/chain/validator-changes");
    INFO(bj::serialize(changes.body));
    REQUIRE(changes.status == 200);
    const auto& list = changes.obj().at("changes").as_array();
    REQUIRE(list.size() == 1);
    const auto& change = list[0].as_object();
    CHECK(change.at("sequence").to_number<std::uint64_t>() == 1);
    CHECK(change.at("effective_height").to_number<std::uint64_t>() == c.effective_height);
    const auto recorded = change.at("height").to_number<std::uint64_t>();
    CHECK(recorded < c.effective_height);
    auto from_validator = rpc_call(net.rpc(1), "poa_getValidatorChanges", {1});
    REQUIRE(from_validator);
    REQUIRE(from_validator->as_array().size() == 1);
    CHECK(from_validator->as_array()[0].as_object().at("height").to_number<std::uint64_t>() == recorded);
    bool stored_by_one = false;
    for (int i = 0; i < 4; ++i) {
        auto raw = rpc_call(net.rpc(i), "poa_getRawBlock", {hexq(recorded)});
        REQUIRE(raw);
        REQUIRE(raw->is_string());
        if (change.at("raw_block").as_string() == raw->as_string()) stored_by_one = true;
    }
    CHECK(stored_by_one);
    CHECK(b.get("/api/chain/validator-changes?from_sequence=2").body == bj::value(bj::object{{"changes", bj::array{}}}));

    // the backend restarted with the key the change added (not in the genesis)
    b.restart({{"--submitter-key", (cfg.path() / "new-submitter.key").string()}});
    const auto third = b.vote(b.voter(3), eid, cands[0]);
    INFO(bj::serialize(third.body));
    REQUIRE(third.status == 200);
    const auto tx3 = third.str("transaction_id");
    REQUIRE(eventually([&] { return confirmed(b, tx3, eid); }, 60s));
    auto on_chain = rpc_call(net.rpc(1), "eth_getTransactionByHash", {tx3});
    REQUIRE(on_chain);
    CHECK(on_chain->as_object().at("from").as_string() == rpc::address_of<ed25519_sha256>(new_key.public_key()));
}
