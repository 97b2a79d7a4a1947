// The verifying client across validator-set changes (docs/client.md, "Validator-set changes"):
// blocks sealed by a later set verify once the client has learned the changes
// (poa_getValidatorChanges, each change's block checked against the sets known before it, in
// order); the follower learns them from the blocks it verifies; a validator that serves a forged
// change (too few approvals in a certified block, a block without a quorum, nothing at all) gets
// nothing learned and is reported as misbehaving.
#include "chain_validators.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using namespace ballotchain::test;
using client::errc;
using client::node_status;
namespace bj = boost::json;

namespace {

using Sv = ed25519_sha256;

/// Every validator rewrites its poa_getValidatorChanges result with `f`.
void all_lie_changes(client_rig& r, const std::function<void(bj::value&)>& f) {
    for (const auto& n : r.w->nodes()) r.w->lies[{n.node_id, "poa_getValidatorChanges"}] = f;
}

/// Block 1 of r's chain as its validators would make it, but holding `tx` (unchecked), proposed
/// by the genesis proposer and sealed by genesis ids `sealers`.
std::string forged_block1(const client_rig& r, const vote_tx& tx, const std::vector<std::uint32_t>& sealers) {
    const auto& net = r.w->net;
    auto fresh = net.open_chain();
    finalized_block fb;
    fb.blk = fresh.build_block(0, net.genesis.timestamp_ms + 1000, {}, net.validators.at(net.genesis.proposer_index(1, 0)));
    fb.blk.txs = {tx};
    fb.blk.header.tx_count = 1;
    fb.blk.header.tx_root = merkle_root<Sv>(std::vector<hash32>{tx_hash<Sv>(tx)});
    net.resign(fb.blk);
    const hash32 bh = block_hash<Sv>(fb.blk.header);
    fb.cert = commit_certificate{1, 0, bh, {}};
    for (auto v : sealers) fb.cert.seals.push_back(make_seal<Sv>(net.validators.at(v), v, net.genesis.chain_id, 1, 0, bh));
    return to_hex(encode(fb));
}

/// Replaces the raw block of the first answered change with `hex`.
std::function<void(bj::value&)> first_block_is(std::string hex) {
    return [hex](bj::value& v) {
        if (v.is_array() && !v.as_array().empty()) v.as_array()[0].as_object()["raw_block"] = hex;
    };
}

}  // namespace

TEST_CASE("a receipt sealed by a later validator set verifies once the client learned the changes, in order",
          "[client][validator_set]") {
    client_rig r;
    const auto vote = r.w->net.vote(1);
    const hash32 th = tx_hash<Sv>(vote);
    r.w->net.append_two_changes(r.w->node.c, {}, {vote});  // the vote is in block 5, sealed by ids {2, 3}
    REQUIRE(r.c->validators().changes() == 0);
    auto rc = r.c->get_transaction_receipt(th);
    REQUIRE(rc);
    REQUIRE(*rc);
    CHECK((*rc)->block_number == 5);
    CHECK(r.w->count("poa_getValidatorChanges") == 1);
    const auto vs = r.c->validators();
    REQUIRE(vs.changes() == 2);
    CHECK(vs == r.w->node.c.validators());  // the schedule the validators derived from the chain
    CHECK(vs.at(5).members == std::vector<std::uint32_t>{2, 3});
    // learned once: a second question needs no more changes
    auto again = r.c->get_vote_confirmation_status(th);
    REQUIRE(again);
    CHECK(again->state == client::tx_state::final);
    auto b3 = r.c->get_block(3);
    REQUIRE(b3);
    CHECK(r.w->count("poa_getValidatorChanges") == 1);
    CHECK(r.c->count(node_status::misbehaving) == 0);
}

TEST_CASE("the follower learns validator-set changes from the blocks it verifies", "[client][validator_set][follower]") {
    client_rig r;
    r.w->net.append_two_changes(r.w->node.c, {r.w->net.vote(1)}, {r.w->net.vote(2)});
    auto h = r.c->sync_follower(std::nullopt);
    REQUIRE(h);
    CHECK(*h == 5);
    CHECK(r.c->follower().votes == 4);  // two votes and the two change records
    CHECK(r.c->validators().changes() == 2);
    CHECK(r.w->count("poa_getValidatorChanges") == 0);  // every change came in a block before it decided
}

TEST_CASE("a forged validator-set change is never learned; the validator serving it is misbehaving",
          "[client][validator_set][lie]") {
    client_rig r;
    const auto vote = r.w->net.vote(1);
    const hash32 th = tx_hash<Sv>(vote);
    const auto changes = r.w->net.append_two_changes(r.w->node.c, {}, {vote});
    SECTION("no change at all") {
        all_lie_changes(r, [](bj::value& v) { v = bj::array{}; });
    }
    SECTION("change 1 in a certified block, approved by fewer validators than the quorum") {
        auto rec = decode_validator_change(changes[0].encrypted_vote).value();
        auto under = r.w->net.validator_change(rec.change, {0}, 0);
        all_lie_changes(r, first_block_is(forged_block1(r, under, {0, 1})));
    }
    SECTION("change 1's approvals are fine, its block lacks a quorum of seals") {
        all_lie_changes(r, first_block_is(forged_block1(r, changes[0], {0})));
    }
    SECTION("change 1 answered for change 2's block") {
        all_lie_changes(r, [](bj::value& v) {
            if (v.is_array() && v.as_array().size() == 2) v.as_array().erase(v.as_array().begin());
        });
    }
    SECTION("more than 16 entries") {
        all_lie_changes(r, [](bj::value& v) {
            auto& a = v.as_array();
            while (a.size() <= 16) a.push_back(a[0]);
        });
    }
    auto rc = r.c->get_transaction_receipt(th);
    REQUIRE_FALSE(rc);
    CHECK(rc.error().kind == errc::misbehaving);
    CHECK(r.c->validators().changes() == 0);
    CHECK(r.c->count(node_status::misbehaving) == 3);
}

TEST_CASE("a light verifier learns a change only from a block it can check, approved by a quorum", "[client][validator_set]") {
    test_network net{3};
    auto ch = net.open_chain();
    const auto changes = net.append_two_changes(ch);
    client::light_verifier<Sv> v(net.genesis);
    auto b1 = ch.block_at(1).value();
    // out of order: change 2 before change 1
    CHECK(v.learn_block(ch.block_at(3).value()));
    CHECK(v.validators().changes() == 0);
    // change 1 with one approval (quorum 2)
    auto rec = decode_validator_change(changes[0].encrypted_vote).value();
    auto forged = b1;
    forged.blk.txs = {net.validator_change(rec.change, {0}, 0)};
    CHECK(v.learn_block(forged));
    CHECK(v.validators().changes() == 0);
    // block 3 is not final under the genesis set (seals of ids 2 and 3)
    CHECK_FALSE(v.check_block(ch.block_at(3).value()));
    REQUIRE_FALSE(v.learn_block(b1));
    CHECK(v.validators().changes() == 1);
    CHECK(v.check_block(ch.block_at(3).value()));
    REQUIRE_FALSE(v.learn_block(ch.block_at(3).value()));
    CHECK(v.validators() == ch.validators());
    CHECK(v.check_block(ch.block_at(5).value()));
}

TEST_CASE("update_validators learns the changes from the first validator that can show them; a liar is passed over",
          "[client][validator_set]") {
    client_rig r;
    r.w->net.append_two_changes(r.w->node.c);
    r.w->lies[{"validator-1", "poa_getValidatorChanges"}] = [](bj::value& v) {
        if (v.is_array() && !v.as_array().empty()) v.as_array()[0].as_object()["sequence"] = 2;
    };
    auto n = r.c->update_validators();
    REQUIRE(n);
    CHECK(*n == 2);
    CHECK(r.status_of("validator-1") == node_status::misbehaving);
    CHECK(r.c->validators() == r.w->node.c.validators());
    auto again = r.c->update_validators();  // nothing new: the same count
    REQUIRE(again);
    CHECK(*again == 2);
}

static_assert(ballotchain::rpc::validator_changes_max_count == 16, "the client reads at most 16 changes per answer (client.hpp)");
