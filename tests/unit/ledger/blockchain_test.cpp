// ledger/blockchain.hpp: blockchain<ed25519_sha256, memory_storage> — genesis, append
// with full validation (every rejection reason), lookups, tallies, reopen, and
// verify() naming the first tampered block.
#include <ballotchain/ledger/blockchain.hpp>

#include "../support/fixtures.hpp"

#include <functional>
#include <set>

using namespace ballotchain;
using namespace ballotchain::test;
using chain::errc;

namespace {
/// Everything append() may change.
struct chain_state {
    std::uint64_t height;
    hash32 head_hash;
    std::uint64_t total_txs;
    std::vector<std::uint64_t> elections;
    std::optional<std::uint64_t> stored_head;
    explicit chain_state(const mem_chain& c)
        : height(c.height()), head_hash(c.head_hash()), total_txs(c.total_txs()), elections(c.elections()),
          stored_head(c.storage().head()) {}
    bool operator==(const chain_state&) const = default;
};

/// append(fb) fails with exactly `why` and leaves the chain as it was.
void expect_rejected(mem_chain& c, const finalized_block& fb, errc why) {
    const chain_state before(c);
    auto r = c.append(fb);
    REQUIRE_FALSE(r);
    CHECK(r.error() == make_error(why));
    CHECK(chain_state(c) == before);
}

/// validate_block refuses `fb.blk` for `why` (block-level reasons).
void expect_block_rejected(mem_chain& c, const finalized_block& fb, errc why) {
    CHECK(c.validate_block(fb.blk) == make_error(why));
    expect_rejected(c, fb, why);
}

/// The block is fine; validate_certificate refuses the certificate for `why`.
void expect_cert_rejected(mem_chain& c, const finalized_block& fb, errc why) {
    CHECK_FALSE(c.validate_block(fb.blk));
    CHECK(c.validate_certificate(fb.blk.header, block_hash<S>(fb.blk.header), fb.cert) == make_error(why));
    expect_rejected(c, fb, why);
}

error_code check_tx_error(const mem_chain& c, const vote_tx& tx) {
    auto r = c.check_tx(tx);
    return r ? error_code{} : r.error();
}

/// A vote re-signed by the submitter after `change`.
vote_tx resigned(const test_network& net, vote_tx tx, const std::function<void(vote_tx&)>& change) {
    change(tx);
    sign_tx<S>(tx, net.submitter);
    return tx;
}
}  // namespace

TEST_CASE("chain: open writes block 0 derived from the genesis", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    CHECK(c.height() == 0);
    CHECK(c.total_txs() == 0);
    CHECK(c.elections().empty());
    CHECK(c.storage().head() == 0u);
    const auto g0 = make_genesis_block<S>(net.genesis);
    CHECK(c.block_at(0).value() == g0);
    CHECK(c.head() == g0.blk.header);
    CHECK(c.head().parent == genesis_hash<S>(net.genesis));
    CHECK(c.head().timestamp_ms == net.genesis.timestamp_ms);
    CHECK(c.head().tx_root == sha256::hash(bytes{}));
    CHECK(c.head_hash() == block_hash<S>(g0.blk.header));
    CHECK(g0.cert.block_hash == c.head_hash());
    CHECK(g0.cert.seals.empty());
    CHECK(c.hash_at(0) == c.head_hash());
    CHECK(c.height_of(c.head_hash()) == 0u);
    CHECK(c.genesis() == net.genesis);
    const auto rep = c.verify();
    CHECK(rep.ok);
    CHECK(rep.blocks_checked == 1);
}

TEST_CASE("chain: open refuses an invalid genesis and a store made from another genesis", "[chain]") {
    test_network net(3);
    auto bad = net.genesis;
    bad.validators.clear();
    CHECK(mem_chain::open(bad, memory_storage{}).error() == make_error(errc::bad_genesis));
    bad = net.genesis;
    bad.max_block_txs = 0;
    CHECK(mem_chain::open(bad, memory_storage{}).error() == make_error(errc::bad_genesis));

    auto c = net.open_chain();
    REQUIRE(c.append(net.next_block(c, {net.vote(1)})));
    const std::vector<std::pair<const char*, std::function<void(genesis_config&)>>> others = {
        {"chain id", [](genesis_config& g) { g.chain_id = 7; }},
        {"timestamp", [](genesis_config& g) { g.timestamp_ms++; }},
        {"validator order", [](genesis_config& g) { std::swap(g.validators[0], g.validators[1]); }},
        {"submitters", [](genesis_config& g) { g.submitters.push_back(key(101).public_key()); }},
        {"max_block_txs", [](genesis_config& g) { g.max_block_txs = 10; }},
    };
    for (const auto& [what, change] : others) {
        auto other = net.genesis;
        change(other);
        INFO(what);
        CHECK(mem_chain::open(other, c.storage()).error() == make_error(errc::genesis_mismatch));
    }
}

TEST_CASE("chain: valid blocks append; lookups by height, hash, tx and vote; tallies", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    const auto v1 = net.vote(1, 1, 0), v2 = net.vote(2, 1, 2), v3 = net.vote(3, 2, 1), v4 = net.vote(4, 1, 2);
    const auto v5 = net.vote(1, 3, 5);  // voter 1 again, in another election
    auto b1 = net.next_block(c, {v1, v2});
    REQUIRE(c.append(b1));
    auto b2 = net.next_block(c, {v3, v4, v5}, 1);  // proposed in round 1
    REQUIRE(c.append(b2));
    auto b3 = net.next_block(c, {});  // empty blocks are valid
    REQUIRE(c.append(b3));
    CHECK(c.height() == 3);
    CHECK(c.total_txs() == 5);
    CHECK(c.head() == b3.blk.header);
    CHECK(c.head_hash() == block_hash<S>(b3.blk.header));
    CHECK(c.block_at(1).value() == b1);
    CHECK(c.block_at(2).value() == b2);
    CHECK(c.block_at(4).error() == make_error(storage_ns::errc::not_found));
    CHECK(c.hash_at(2) == block_hash<S>(b2.blk.header));
    CHECK_FALSE(c.hash_at(4));
    CHECK(c.height_of(block_hash<S>(b2.blk.header)) == 2u);
    CHECK_FALSE(c.height_of(sha256::hash(bytes{1})));
    CHECK(c.find_tx(tx_hash<S>(v1)) == tx_location{1, 0});
    CHECK(c.find_tx(tx_hash<S>(v4)) == tx_location{2, 1});
    CHECK_FALSE(c.find_tx(tx_hash<S>(net.vote(9))));
    CHECK(c.find_vote(2, v3.voter_tag) == tx_location{2, 0});
    CHECK(c.find_vote(3, v5.voter_tag) == tx_location{2, 2});
    CHECK(c.find_vote(1, v5.voter_tag) == tx_location{1, 0});
    CHECK_FALSE(c.find_vote(1, v3.voter_tag));
    CHECK(c.tally(1) == tally_map{{0, 1}, {2, 2}});
    CHECK(c.tally(2) == tally_map{{1, 1}});
    CHECK(c.tally(3) == tally_map{{5, 1}});
    CHECK(c.tally(9).empty());
    CHECK(c.elections() == std::vector<std::uint64_t>{1, 2, 3});
    const auto rep = c.verify();
    CHECK(rep.ok);
    CHECK_FALSE(rep.bad_height);
    CHECK(rep.blocks_checked == 4);
    CHECK(rep.txs_checked == 5);
}

TEST_CASE("chain: an election's latest transactions come from its index, each confirmed by its block", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    const auto v1 = net.vote(1, 1, 0), v2 = net.vote(2, 2, 1), v3 = net.vote(3, 1, 2), v4 = net.vote(4, 1, 1);
    REQUIRE(c.append(net.next_block(c, {v1, v2})));
    REQUIRE(c.append(net.next_block(c, {v3, v4})));
    auto got = c.election_txs(1, 10);
    REQUIRE(got);
    REQUIRE(got->size() == 3);
    CHECK((*got)[0] == std::pair{tx_location{2, 1}, v4});
    CHECK((*got)[1] == std::pair{tx_location{2, 0}, v3});
    CHECK((*got)[2] == std::pair{tx_location{1, 0}, v1});
    CHECK(c.election_txs(1, 1).value().size() == 1);
    CHECK(c.election_txs(2, 10).value() == std::vector{std::pair{tx_location{1, 1}, v2}});

    // A forged row (election 2's vote claimed for election 1) is not believed.
    c.storage().tamper_tx_index(tx_hash<S>(v2), tx_index_row{tx_hash<S>(v2), 1, 1, 1, v2.voter_tag});
    const auto before = c.index_disagreements();
    CHECK(c.election_txs(1, 10).value().size() == 3);
    CHECK(c.index_disagreements() == before + 1);
}

TEST_CASE("chain: accepted edge cases — equal timestamp, later certificate round, all seals, full block, max vote", "[chain]") {
    test_network net(4);
    auto c = net.open_chain();
    // a block proposed in round 0 and committed in round 2 (certificate round > header round)
    auto fb = net.next_block(c, {net.vote(1)});
    fb.cert = net.certificate(1, 2, block_hash<S>(fb.blk.header));
    REQUIRE(c.append(fb));
    // same timestamp as the parent, and every validator sealing
    fb = net.next_block(c, {});
    fb.blk.header.timestamp_ms = c.head().timestamp_ms;
    net.reseal(fb);
    fb.cert = net.certificate(2, 0, block_hash<S>(fb.blk.header), 4);
    REQUIRE(c.append(fb));
    // exactly max_block_txs votes, one of them of exactly the maximum size
    std::vector<vote_tx> txs;
    for (std::uint32_t i = 0; i < net.genesis.max_block_txs; ++i) txs.push_back(net.vote(100 + i));
    txs[0] = resigned(net, txs[0], [&](vote_tx& t) { t.encrypted_vote.assign(net.genesis.max_encrypted_vote_bytes, 7); });
    REQUIRE(c.append(net.next_block(c, txs)));
    CHECK(c.total_txs() == 1 + net.genesis.max_block_txs);
    CHECK(c.verify().ok);
}

TEST_CASE("chain: check_tx names every reason a vote is refused", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    const auto ok = net.vote(1);
    CHECK(c.check_tx(ok).value() == tx_hash<S>(ok));
    CHECK(c.check_tx_stateless(ok).value() == tx_hash<S>(ok));

    auto t = resigned(net, ok, [](vote_tx& x) { x.chain_id = 1; });
    CHECK(check_tx_error(c, t) == make_error(errc::wrong_chain_id));
    t = resigned(net, ok, [&](vote_tx& x) { x.encrypted_vote.assign(net.genesis.max_encrypted_vote_bytes + 1, 0); });
    CHECK(check_tx_error(c, t) == make_error(errc::vote_too_large));
    const auto stranger = key(55);
    CHECK(check_tx_error(c, net.vote(2, 1, 0, &stranger)) == make_error(errc::unauthorized_submitter));
    const auto validator = net.validators[0];  // validators may not submit votes either
    CHECK(check_tx_error(c, net.vote(2, 1, 0, &validator)) == make_error(errc::unauthorized_submitter));
    t = ok;
    t.candidate_id = 9;  // changed after signing
    CHECK(check_tx_error(c, t) == make_error(errc::invalid_signature));
    t = ok;
    t.auth.sig.data[63] ^= 0x01;
    CHECK(check_tx_error(c, t) == make_error(errc::invalid_signature));
    t = ok;
    t.submitter = key(100).public_key();
    t.auth.sig = signature{};
    CHECK(check_tx_error(c, t) == make_error(errc::invalid_signature));

    REQUIRE(c.append(net.next_block(c, {ok})));
    CHECK(check_tx_error(c, ok) == make_error(errc::duplicate_tx));
    CHECK(check_tx_error(c, net.vote(1, 1, 4)) == make_error(errc::duplicate_vote));  // same voter, same election
    CHECK(c.check_tx(net.vote(1, 2, 4)));                                             // same voter, other election
    CHECK(c.check_tx_stateless(ok));  // the stateless check does not look at the chain
}

TEST_CASE("chain: append refuses a block for every reason, and the chain is unchanged", "[chain]") {
    test_network net(4);  // q = 3
    auto c = net.open_chain();
    const auto first = net.vote(1);
    REQUIRE(c.append(net.next_block(c, {first})));
    auto fresh = [&](std::vector<vote_tx> txs = {}, std::uint32_t round = 0) {
        return net.next_block(c, std::move(txs), round);
    };

    SECTION("wrong_chain_id in the header") {
        auto fb = fresh();
        fb.blk.header.chain_id = 5;
        net.reseal(fb);
        expect_block_rejected(c, fb, errc::wrong_chain_id);
    }
    SECTION("wrong_height: a gap, and the current height again") {
        auto fb = fresh();
        fb.blk.header.height = 3;
        net.reseal(fb);
        expect_block_rejected(c, fb, errc::wrong_height);
        fb = fresh();
        fb.blk.header.height = 1;
        net.reseal(fb);
        expect_block_rejected(c, fb, errc::wrong_height);
    }
    SECTION("wrong_parent") {
        auto fb = fresh();
        fb.blk.header.parent.data[0] ^= 1;
        net.reseal(fb);
        expect_block_rejected(c, fb, errc::wrong_parent);
    }
    SECTION("bad_timestamp: before the parent") {
        auto fb = fresh();
        fb.blk.header.timestamp_ms = c.head().timestamp_ms - 1;
        net.reseal(fb);
        expect_block_rejected(c, fb, errc::bad_timestamp);
    }
    SECTION("wrong_proposer: validly signed by a validator whose turn it is not") {
        auto fb = fresh();
        fb.blk.header.proposer = (fb.blk.header.proposer + 1) % 4;
        net.reseal(fb);
        expect_block_rejected(c, fb, errc::wrong_proposer);
        fb = fresh({}, 1);  // round 1's proposer claiming round 0
        fb.blk.header.round = 0;
        net.reseal(fb);
        expect_block_rejected(c, fb, errc::wrong_proposer);
    }
    SECTION("bad_proposer_signature: a flipped bit, or the key of another validator") {
        auto fb = fresh();
        fb.blk.proposer_sig.data[3] ^= 1;
        expect_block_rejected(c, fb, errc::bad_proposer_signature);
        fb = fresh();
        fb.blk.proposer_sig = S::sign(net.validators[0], block_hash<S>(fb.blk.header).view());
        REQUIRE(fb.blk.header.proposer != 0);
        expect_block_rejected(c, fb, errc::bad_proposer_signature);
    }
    SECTION("too_many_txs: over max_block_txs, or tx_count not the number of txs") {
        std::vector<vote_tx> txs;
        for (std::uint32_t i = 0; i <= net.genesis.max_block_txs; ++i) txs.push_back(net.vote(100 + i));
        expect_block_rejected(c, fresh(txs), errc::too_many_txs);
        auto fb = fresh({net.vote(7)});
        fb.blk.header.tx_count = 2;
        net.reseal(fb);
        expect_block_rejected(c, fb, errc::too_many_txs);
        fb = fresh({net.vote(7), net.vote(8)});
        fb.blk.txs.pop_back();
        expect_block_rejected(c, fb, errc::too_many_txs);
    }
    SECTION("bad_tx_root: reordered txs, a replaced tx") {
        auto fb = fresh({net.vote(7), net.vote(8)});
        std::swap(fb.blk.txs[0], fb.blk.txs[1]);
        expect_block_rejected(c, fb, errc::bad_tx_root);
        fb = fresh({net.vote(7), net.vote(8)});
        fb.blk.txs[1] = net.vote(9);
        expect_block_rejected(c, fb, errc::bad_tx_root);
    }
    SECTION("tx reasons inside a block: wrong_chain_id, vote_too_large, unauthorized_submitter, invalid_signature") {
        const auto w = resigned(net, net.vote(9), [](vote_tx& t) { t.chain_id = 3; });
        expect_block_rejected(c, fresh({net.vote(8), w}), errc::wrong_chain_id);
        const auto big = resigned(net, net.vote(10), [&](vote_tx& t) {
            t.encrypted_vote.assign(net.genesis.max_encrypted_vote_bytes + 1, 1);
        });
        expect_block_rejected(c, fresh({big}), errc::vote_too_large);
        const auto stranger = key(77);
        expect_block_rejected(c, fresh({net.vote(8, 1, 0, &stranger)}), errc::unauthorized_submitter);
        auto t = net.vote(7);
        t.candidate_id = 3;
        expect_block_rejected(c, fresh({t}), errc::invalid_signature);
    }
    SECTION("duplicate_tx: twice in one block, and again after it is final") {
        const auto v = net.vote(7);
        expect_block_rejected(c, fresh({v, net.vote(8), v}), errc::duplicate_tx);
        expect_block_rejected(c, fresh({first}), errc::duplicate_tx);
    }
    SECTION("duplicate_vote: one voter twice in one election, in one block and across blocks") {
        expect_block_rejected(c, fresh({net.vote(7, 1, 0), net.vote(7, 1, 1)}), errc::duplicate_vote);
        expect_block_rejected(c, fresh({net.vote(1, 1, 3)}), errc::duplicate_vote);
        REQUIRE(c.append(fresh({net.vote(7, 2, 0), net.vote(1, 2, 3)})));  // other election: fine
    }
    SECTION("cert_wrong_block: another block hash or another height") {
        auto fb = fresh();
        fb.cert = net.certificate(2, 0, sha256::hash(bytes{1}));
        expect_cert_rejected(c, fb, errc::cert_wrong_block);
        fb.cert = net.certificate(3, 0, block_hash<S>(fb.blk.header));
        expect_cert_rejected(c, fb, errc::cert_wrong_block);
    }
    SECTION("cert_wrong_round: certificate round below the header's") {
        auto fb = fresh({}, 2);
        fb.cert = net.certificate(2, 1, block_hash<S>(fb.blk.header));
        expect_cert_rejected(c, fb, errc::cert_wrong_round);
    }
    SECTION("cert_too_few_seals: q - 1 seals, and none") {
        auto fb = fresh();
        fb.cert = net.certificate(2, 0, block_hash<S>(fb.blk.header), 2);
        expect_cert_rejected(c, fb, errc::cert_too_few_seals);
        fb.cert.seals.clear();
        expect_cert_rejected(c, fb, errc::cert_too_few_seals);
    }
    SECTION("cert_unknown_validator: a seal index past the validator list") {
        auto fb = fresh();
        fb.cert.seals.back().validator = 4;
        expect_cert_rejected(c, fb, errc::cert_unknown_validator);
    }
    SECTION("cert_duplicate_seal: one validator twice, or seals out of order") {
        auto fb = fresh();
        fb.cert.seals[1] = fb.cert.seals[0];
        expect_cert_rejected(c, fb, errc::cert_duplicate_seal);
        fb = fresh();
        std::swap(fb.cert.seals[0], fb.cert.seals[2]);
        expect_cert_rejected(c, fb, errc::cert_duplicate_seal);
    }
    SECTION("cert_bad_seal: flipped bit, other round, other chain, wrong signer") {
        auto fb = fresh();
        const hash32 bh = block_hash<S>(fb.blk.header);
        auto f2 = fb;
        f2.cert.seals[1].sig.data[0] ^= 1;
        expect_cert_rejected(c, f2, errc::cert_bad_seal);
        f2 = fb;
        f2.cert = net.certificate(2, 1, bh);  // seals signed for round 1, certificate says round 0
        f2.cert.round = 0;
        expect_cert_rejected(c, f2, errc::cert_bad_seal);
        f2 = fb;
        f2.cert.seals[2] = make_seal<S>(net.validators[2], 2, net.genesis.chain_id + 1, 2, 0, bh);
        expect_cert_rejected(c, f2, errc::cert_bad_seal);
        f2 = fb;
        f2.cert.seals[2] = make_seal<S>(net.validators[3], 2, net.genesis.chain_id, 2, 0, bh);  // index 2, key 3
        expect_cert_rejected(c, f2, errc::cert_bad_seal);
        f2 = fb;
        f2.cert.seals[2].sig = f2.cert.seals[1].sig;  // a copy of another validator's seal
        expect_cert_rejected(c, f2, errc::cert_bad_seal);
        REQUIRE(c.append(fb));  // the genuine one still goes in
        CHECK(c.height() == 2);
    }
    // After any refusal the next valid block still appends.
    REQUIRE(c.append(net.next_block(c, {net.vote(50)})));
    CHECK(c.verify().ok);
}

TEST_CASE("chain: known_valid skips only the signature check, and verify() still catches a bad signature", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    auto forged = net.vote(1);
    forged.candidate_id = 2;  // signature no longer matches
    const hash32 th = tx_hash<S>(forged);
    auto trust = [&](const hash32& h, const vote_tx&) { return h == th; };
    auto fb = net.next_block(c, {forged});
    CHECK(c.validate_block(fb.blk) == make_error(errc::invalid_signature));
    CHECK_FALSE(c.validate_block(fb.blk, trust));
    const auto stranger = key(70);
    auto other = net.next_block(c, {net.vote(2, 1, 0, &stranger)});
    CHECK(c.validate_block(other.blk, [](const hash32&, const vote_tx&) { return true; }) == make_error(errc::unauthorized_submitter));
    std::vector<hash32> ths;
    CHECK_FALSE(c.validate_block(fb.blk, trust, &ths));
    CHECK(ths == std::vector<hash32>{th});
    REQUIRE(c.append(fb, trust));  // the caller vouched for it
    const auto rep = c.verify();   // an offline re-check trusts nobody
    CHECK_FALSE(rep.ok);
    CHECK(rep.bad_height == 1u);
    CHECK(rep.reason == make_error(errc::invalid_signature));
}

TEST_CASE("chain: reopening a store restores height, head, tallies and lookups", "[chain]") {
    test_network net(3);
    auto c = net.open_chain();
    REQUIRE(c.append(net.next_block(c, {net.vote(1, 1, 0), net.vote(2, 1, 1)})));
    REQUIRE(c.append(net.next_block(c, {net.vote(3, 2, 1), net.vote(4, 1, 1)})));
    auto again = mem_chain::open(net.genesis, c.storage());
    REQUIRE(again);
    CHECK(again->height() == 2);
    CHECK(again->head_hash() == c.head_hash());
    CHECK(again->head() == c.head());
    CHECK(again->total_txs() == 4);
    CHECK(again->tally(1) == tally_map{{0, 1}, {1, 2}});
    CHECK(again->tally(2) == tally_map{{1, 1}});
    CHECK(again->elections() == c.elections());
    CHECK(again->verify().ok);
    REQUIRE(again->append(net.next_block(*again, {net.vote(5)})));
    CHECK(again->height() == 3);
}

TEST_CASE("chain: verify() names the first tampered block and why; blocks before it are fine", "[chain][tamper]") {
    test_network net(3);
    auto c = net.open_chain();
    std::vector<vote_tx> committed;
    for (std::uint64_t b = 0; b < 5; ++b) {
        std::vector<vote_tx> txs{net.vote(10 * b + 1, 1, b % 3), net.vote(10 * b + 2, 1, 1)};
        committed.insert(committed.end(), txs.begin(), txs.end());
        REQUIRE(c.append(net.next_block(c, txs)));
    }
    REQUIRE(c.verify().ok);

    struct tamper_case {
        const char* what;
        std::uint64_t min_height;  // the change needs earlier blocks to exist
        std::function<void(finalized_block&)> change;
        error_code why;
    };
    const std::vector<tamper_case> cases = {
        {"a tx field", 1, [](finalized_block& fb) { fb.blk.txs[0].candidate_id ^= 1; }, make_error(errc::invalid_signature)},
        {"a tx signature", 1, [](finalized_block& fb) { fb.blk.txs[1].auth.sig.data[40] ^= 1; }, make_error(errc::invalid_signature)},
        {"the tx order", 1, [](finalized_block& fb) { std::swap(fb.blk.txs[0], fb.blk.txs[1]); }, make_error(errc::bad_tx_root)},
        {"a tx replaced by another valid one", 1, [&](finalized_block& fb) { fb.blk.txs[1] = net.vote(999); },
         make_error(errc::bad_tx_root)},
        // verify() starts from the stored bytes: what the strict decoder refuses is reported with its reason
        {"a tx removed (tx_count still 2: the certificate is read as a tx)", 1,
         [](finalized_block& fb) { fb.blk.txs.pop_back(); }, make_error(core::errc::bad_tag)},
        {"a tx removed and tx_count lowered", 1,
         [](finalized_block& fb) {
             fb.blk.txs.pop_back();
             fb.blk.header.tx_count = 1;
         },
         make_error(errc::bad_proposer_signature)},
        {"a tx from an earlier block", 2, [&](finalized_block& fb) { fb.blk.txs[0] = committed[0]; },
         make_error(errc::duplicate_tx)},
        {"a second vote of an earlier voter", 2, [&](finalized_block& fb) { fb.blk.txs[0] = net.vote(1, 1, 2); },
         make_error(errc::duplicate_vote)},
        {"a header field (its hash is no longer the one signed)", 1,
         [](finalized_block& fb) { fb.blk.header.timestamp_ms += 1; }, make_error(errc::bad_proposer_signature)},
        {"the proposer signature", 1, [](finalized_block& fb) { fb.blk.proposer_sig.data[1] ^= 1; },
         make_error(errc::bad_proposer_signature)},
        {"a seal", 1, [](finalized_block& fb) { fb.cert.seals[0].sig.data[9] ^= 1; }, make_error(errc::cert_bad_seal)},
        {"a seal removed", 1, [](finalized_block& fb) { fb.cert.seals.pop_back(); }, make_error(errc::cert_too_few_seals)},
        {"seals reordered (the decoder refuses unsorted seals)", 1,
         [](finalized_block& fb) { std::swap(fb.cert.seals[0], fb.cert.seals[1]); }, make_error(core::errc::non_canonical)},
        {"a seal repeated", 1, [](finalized_block& fb) { fb.cert.seals[1] = fb.cert.seals[0]; },
         make_error(core::errc::non_canonical)},
        {"an extra junk seal from a real validator", 1,
         [](finalized_block& fb) { fb.cert.seals.push_back({2, signature{}}); }, make_error(errc::cert_bad_seal)},
        {"the certificate's height", 1, [](finalized_block& fb) { fb.cert.height += 1; },
         make_error(errc::cert_wrong_block)},
        {"a seal's validator index", 1, [](finalized_block& fb) { fb.cert.seals[1].validator = 3; },
         make_error(errc::cert_unknown_validator)},
        {"the certificate's block hash", 1, [](finalized_block& fb) { fb.cert.block_hash.data[0] ^= 1; },
         make_error(errc::cert_wrong_block)},
        {"the certificate's round", 1, [](finalized_block& fb) { fb.cert.round = 3; }, make_error(errc::cert_bad_seal)},
    };
    for (std::uint64_t k = 1; k <= 5; ++k) {
        const auto orig = c.block_at(k).value();
        for (const auto& tc : cases) {
            if (k < tc.min_height) continue;
            INFO("block " << k << ": " << tc.what);
            auto t = orig;
            tc.change(t);
            c.storage().tamper(k, t);
            const auto rep = c.verify();
            CHECK_FALSE(rep.ok);
            CHECK(rep.bad_height == k);
            CHECK(rep.reason == tc.why);
            CHECK(rep.blocks_checked == k);         // blocks 0..k-1 were fine
            CHECK(rep.txs_checked == 2 * (k - 1));  // and their txs
            c.storage().tamper(k, orig);
        }
        CHECK(c.verify().ok);
    }
}

TEST_CASE("chain: verify() reports the lowest of several tampered blocks; block 0 is checked against genesis", "[chain][tamper]") {
    test_network net(3);
    auto c = net.open_chain();
    for (std::uint64_t b = 0; b < 4; ++b) REQUIRE(c.append(net.next_block(c, {net.vote(b + 1)})));
    auto b4 = c.block_at(4).value();
    b4.blk.txs[0].timestamp_ms++;
    c.storage().tamper(4, b4);
    auto b2 = c.block_at(2).value();
    b2.cert.seals.clear();
    c.storage().tamper(2, b2);
    auto rep = c.verify();
    CHECK(rep.bad_height == 2u);
    CHECK(rep.reason == make_error(errc::cert_too_few_seals));

    auto g0 = c.block_at(0).value();
    g0.blk.proposer_sig.data[0] = 1;  // block 0 is never signed: any change is a mismatch
    c.storage().tamper(0, g0);
    rep = c.verify();
    CHECK(rep.bad_height == 0u);
    CHECK(rep.reason == make_error(errc::genesis_mismatch));
    CHECK(rep.blocks_checked == 0);
}

TEST_CASE("chain: verify() of an empty store reports block 0 missing", "[chain][tamper]") {
    // A blockchain always has block 0; only a store emptied behind its back lacks it.
    test_network net(3);
    auto c = net.open_chain();
    c.storage() = memory_storage{};
    const auto rep = c.verify();
    CHECK_FALSE(rep.ok);
    CHECK(rep.bad_height == 0u);
    CHECK(rep.reason == make_error(storage_ns::errc::not_found));
}

TEST_CASE("chain: every chain error is 'invalid input' with its own message", "[chain]") {
    std::set<std::string> messages;
    int count = 0;
    for (int e = 1; e <= 61; ++e) {
        const auto ec = make_error(static_cast<errc>(e));
        if (ec.message() == "unknown chain error") continue;
        ++count;
        messages.insert(ec.message());
        CHECK(is_invalid_input(ec));
        CHECK(std::string(ec.category().name()) == "ballotchain.chain");
    }
    CHECK(count == 24);  // 8 tx, 8 block, 6 certificate, 2 genesis reasons
    CHECK(messages.size() == 24u);
    CHECK(is_invalid_input(make_error(core::errc::truncated)));
    CHECK_FALSE(is_invalid_input(make_error(storage_ns::errc::io_error)));
    CHECK_FALSE(is_invalid_input(error_code(EIO, boost::system::system_category())));
}
