/// Validator-set changes (docs/protocol.md §12): the record's rules, certificates before and
/// after a change, and engines that add a validator and then remove one while finalizing.

#include "harness.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using namespace ballotchain::test;
namespace vce = ballotchain::chain;

namespace {

validator_change vs_add_change(const test_network& net, std::uint64_t seq, std::uint64_t effective, int key_no) {
    validator_change c;
    c.sequence = seq;
    c.effective_height = effective;
    c.add.push_back({"validator-" + std::to_string(key_no + 1), net.validators.at(static_cast<std::size_t>(key_no)).public_key()});
    return c;
}

/// Appends a block at the next height holding `txs`, proposed by the scheduled proposer and
/// sealed by `sealers` (ids = key numbers of `net`).
void vs_append_block(mem_chain& ch, const test_network& net, std::vector<vote_tx> txs, const std::vector<std::uint32_t>& sealers,
                  error_code expect = {}) {
    const auto h = ch.height() + 1;
    const auto prop = ch.validators().at(h).proposer(h, 0);
    block b = ch.build_block(0, net.genesis.timestamp_ms + h * 1000, std::move(txs), net.validators.at(prop));
    const hash32 bh = block_hash<S>(b.header);
    commit_certificate cert{h, 0, bh, {}};
    for (auto v : sealers) cert.seals.push_back(make_seal<S>(net.validators.at(v), v, net.genesis.chain_id, h, 0, bh));
    auto r = ch.append(finalized_block{b, cert});
    if (expect) {
        CHECK(r.error() == expect);
    } else {
        REQUIRE(r);
    }
}

}  // namespace

TEST_CASE("validator-set change record: encoding round-trips and bounds are checked before allocating", "[validator_set]") {
    test_network net(4);
    validator_change_record rec{vs_add_change(net, 1, 10, 3), {}};
    rec.change.remove = {0};
    rec.change.add_submitters.push_back(net.validators[3].public_key());
    rec.approvals.push_back({1, signature{}});
    const bytes b = encode(rec);
    auto d = decode_validator_change(b);
    REQUIRE(d);
    CHECK(*d == rec);
    for (std::size_t cut = 0; cut < b.size(); ++cut)
        CHECK_FALSE(decode_validator_change(byte_view(b.data(), cut)));
    bytes longer = b;
    longer.push_back(0);
    CHECK_FALSE(decode_validator_change(longer));
    // A count of 2^32-1 validators to add, with a few bytes behind it: refused, nothing allocated for it.
    bytes huge{validator_change_limits::version, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff, 1, 2, 3};
    CHECK_FALSE(decode_validator_change(huge));
}

TEST_CASE("validator-set change: every rule refuses what it names", "[validator_set]") {
    test_network net(4);
    net.genesis.validators.resize(3);  // key 3 is nobody yet
    auto ch = net.open_chain();
    const auto ok = vs_add_change(net, 1, 5, 3);
    CHECK(ch.check_tx(net.validator_change(ok, {0, 1}, 0)));
    CHECK(ch.check_tx(net.validator_change(ok, {0, 1, 2}, 2)));

    CHECK(ch.check_tx(net.validator_change(ok, {0}, 0)).error() == vce::errc::change_not_approved);      // 1 of q = 2
    CHECK(ch.check_tx(net.validator_change(ok, {1, 0}, 0)).error() == vce::errc::change_not_approved);   // not ascending
    CHECK(ch.check_tx(net.validator_change(ok, {0, 3}, 0)).error() == vce::errc::bad_change_approval);   // 3: no id yet
    CHECK(ch.check_tx(net.validator_change(ok, {0, 1}, 3)).error() == vce::errc::unauthorized_submitter); // sent by no validator

    auto forged = net.validator_change(ok, {0, 1}, 0);  // approval of 1 signed by key 2
    {
        auto rec = decode_validator_change(forged.encrypted_vote).value();
        rec.approvals[1].sig = S::sign(net.validators[2], change_message(net.genesis.chain_id, rec.change));
        forged.encrypted_vote = encode(rec);
        sign_tx<S>(forged, net.validators[0]);
    }
    CHECK(ch.check_tx(forged).error() == vce::errc::bad_change_approval);

    auto seq2 = ok;
    seq2.sequence = 2;
    CHECK(ch.check_tx(net.validator_change(seq2, {0, 1}, 0)).error() == vce::errc::change_out_of_order);
    auto now = ok;
    now.effective_height = 1;  // the height it would be recorded at
    CHECK(ch.check_tx(net.validator_change(now, {0, 1}, 0)).error() == vce::errc::change_bad_height);
    now.effective_height = 2 + validator_change_limits::max_lead;
    CHECK(ch.check_tx(net.validator_change(now, {0, 1}, 0)).error() == vce::errc::change_bad_height);
    auto known = ok;
    known.add[0].key = net.validators[1].public_key();  // already a validator
    CHECK(ch.check_tx(net.validator_change(known, {0, 1}, 0)).error() == vce::errc::bad_validator_change);
    validator_change all;
    all.sequence = 1;
    all.effective_height = 5;
    all.remove = {0, 1, 2};  // an empty set
    CHECK(ch.check_tx(net.validator_change(all, {0, 1}, 0)).error() == vce::errc::bad_validator_change);
    validator_change nothing;
    nothing.sequence = 1;
    nothing.effective_height = 5;
    CHECK(ch.check_tx(net.validator_change(nothing, {0, 1}, 0)).error() == vce::errc::bad_validator_change);
    auto wrong_slot = net.validator_change(ok, {0, 1}, 0);
    wrong_slot.voter_tag = change_slot_tag(7);
    sign_tx<S>(wrong_slot, net.validators[0]);
    CHECK(ch.check_tx(wrong_slot).error() == vce::errc::wrong_slot_tag);
}

TEST_CASE("validator-set change: certificates before the effective height verify against the old set, from it on the new", "[validator_set]") {
    test_network net(4);
    net.genesis.validators.resize(3);
    auto ch = net.open_chain();
    // Block 1 records: add key 3 from height 3.
    vs_append_block(ch, net, {net.validator_change(vs_add_change(net, 1, 3, 3), {0, 1}, 0)}, {0, 1});
    REQUIRE(ch.validators().changes() == 1);
    CHECK(ch.validators().at(2).n() == 3);
    CHECK(ch.validators().at(3).n() == 4);
    CHECK(ch.validators().at(3).quorum() == 3);
    // Block 2: still the old set (2 of 3 seal; a seal of the not-yet-active id 3 is unknown).
    vs_append_block(ch, net, {}, {0, 3}, make_error(vce::errc::cert_unknown_validator));
    vs_append_block(ch, net, {}, {0, 1});
    // Block 3: the new set, proposed by its member (3 + 0) mod 4 = id 3; 2 seals are no longer a quorum.
    CHECK(ch.validators().at(3).proposer(3, 0) == 3);
    vs_append_block(ch, net, {}, {0, 1}, make_error(vce::errc::cert_too_few_seals));
    vs_append_block(ch, net, {}, {1, 2, 3});
    // Remove id 0 from height 6: approved by 3 of the 4.
    validator_change rm;
    rm.sequence = 2;
    rm.effective_height = 6;
    rm.remove = {0};
    CHECK(ch.check_tx(net.validator_change(rm, {0, 1}, 1)).error() == vce::errc::change_not_approved);  // 2 of q = 3
    CHECK(ch.check_tx(net.validator_change(rm, {0, 1, 3}, 1)));
    vs_append_block(ch, net, {net.validator_change(rm, {1, 2, 3}, 1)}, {0, 1, 2});
    vs_append_block(ch, net, {}, {0, 1, 2});  // height 5: 0 still seals
    vs_append_block(ch, net, {}, {0, 1, 2}, make_error(vce::errc::cert_unknown_validator));  // height 6: 0 is out
    vs_append_block(ch, net, {}, {1, 2});  // q of 3 = 2
    CHECK(ch.height() == 6);
    const auto rep = ch.verify();
    INFO(rep.detail);
    CHECK(rep.ok);
    // The ledger replays the changes from the blocks when it is reopened.
    auto again = mem_chain::open(net.genesis, std::move(ch.storage())).value();
    CHECK(again.validators() == rep.elections.validators());
    CHECK(again.validators().at(6).members == std::vector<std::uint32_t>{1, 2, 3});
}

TEST_CASE("engines: a validator added by a change follows, then proposes and seals; a removed one stops; finality never stops",
          "[validator_set][engine]") {
    cluster_config cfg;
    cfg.n = 4;
    cfg.genesis_validators = 3;
    cfg.empty_blocks = true;
    cluster c(cfg);
    REQUIRE(c.run_until([&] { return c.all_at(2); }));
    CHECK(c.e(3).index() == engine_t::no_id);
    CHECK_FALSE(c.e(3).active());

    const std::uint64_t eff = c.e(0).chain().height() + 4;
    REQUIRE(c.submit(0, c.net.validator_change(vs_add_change(c.net, 1, eff, 3), {0, 1}, 0)));
    REQUIRE(c.run_until([&] { return c.all_at(eff + 8); }));
    CHECK(c.e(3).index() == 3);
    CHECK(c.e(3).active());

    bool new_proposed = false, new_sealed = false;
    for (std::uint64_t h = 1; h <= eff + 8; ++h) {
        auto fb = c.e(1).chain().block_at(h).value();
        CHECK(fb.cert.seals.size() >= (h < eff ? 2u : 3u));
        if (h >= eff && fb.blk.header.proposer == 3) new_proposed = true;
        for (const auto& s : fb.cert.seals)
            if (s.validator == 3) {
                CHECK(h >= eff);
                new_sealed = true;
            }
    }
    CHECK(new_proposed);
    CHECK(new_sealed);

    validator_change rm;
    rm.sequence = 2;
    rm.effective_height = c.e(1).chain().height() + 4;
    rm.remove = {0};
    REQUIRE(c.submit(1, c.net.validator_change(rm, {1, 2, 3}, 1)));
    REQUIRE(c.run_until([&] { return c.all_at(rm.effective_height + 8); }));
    CHECK_FALSE(c.e(0).active());
    for (std::uint64_t h = rm.effective_height; h <= rm.effective_height + 8; ++h) {
        auto fb = c.e(2).chain().block_at(h).value();
        CHECK(fb.blk.header.proposer != 0);
        for (const auto& s : fb.cert.seals) CHECK(s.validator != 0);
    }
    // The removed validator still follows the chain (it takes the new set's certificates).
    c.stop(1);  // 3 of the remaining set {1, 2, 3} minus one: q = 2 of 3 keeps finalizing
    const auto h0 = c.e(2).chain().height();
    CHECK(c.run_until([&] { return c.e(2).chain().height() >= h0 + 4 && c.e(0).chain().height() >= h0 + 4; }));
    for (int i : {0, 2, 3}) {
        const auto rep = c.e(i).chain().verify();
        INFO("node " << i << ": " << rep.detail);
        CHECK(rep.ok);
    }
    CHECK(c.equivocations.empty());
}
