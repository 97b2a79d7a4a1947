// chain/election.hpp and chain/trustee.hpp on a real chain (memory storage, real signatures and
// certificates): an encrypted election defined on the chain, the validators' key ceremony run by
// their trustee logic alone, ballots checked by every rule, the tally decrypted from any two
// trustees' shares; a trustee down for the ceremony, a dealer that cheats (its complaint
// disqualifies it), a bad decryption share refused; the record encodings are strict; a full
// re-verification recomputes the same election state.
#include "../support/election_world.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using namespace ballotchain::test;
using election::phase;

namespace {

/// election_world over memory storage, with this file's election.
struct mem_world : election_world<mem_chain> {
    explicit mem_world(bool elections_defined = false)
        : election_world([](const genesis_config& g) { return mem_chain::open(g, memory_storage{}).value(); },
                         elections_defined) {}
    election::definition encrypted(std::uint64_t deadline, std::uint64_t start, std::uint64_t end) const {
        return {election::ballot_kind::encrypted, "Board", {{1, "Alice"}, {2, "Bob"}, {3, "Carol"}}, t0 + start, t0 + end, t0 + deadline, 2};
    }
};

}  // namespace

TEST_CASE("encrypted election: ceremony by the trustees, ballots, tally from two shares", "[chain][election]") {
    mem_world w;
    w.block({w.define(9, w.encrypted(10'000, 10'000, 30'000))});
    CHECK(w.state(9).ph == phase::ceremony);
    // Keys, dealings, verdicts: three blocks, then the key is ready before the deadline.
    w.run_trustees({1, 2, 3});
    REQUIRE(w.state(9).ph == phase::ready);
    CHECK(w.c.height() == 4);
    CHECK(w.state(9).qualified == std::vector<std::uint32_t>{1, 2, 3});
    CHECK(w.state(9).public_shares.size() == 3);
    CHECK(w.c.election_state().trustee_keys().size() == 3);

    // Before the start, a ballot is refused by block time.
    CHECK(w.refused({w.ballot(9, 0, 1)}) == chain::errc::outside_voting_window);
    w.until(w.t0 + 10'000);
    const std::vector<std::uint32_t> choices{0, 1, 1, 2, 1, 0, 1};
    std::vector<vote_tx> ballots;
    for (std::uint64_t v = 0; v < choices.size(); ++v) ballots.push_back(w.ballot(9, choices[v], 100 + v));
    w.block(ballots);
    CHECK(w.state(9).ballots == choices.size());
    // No candidate id is on the chain for these ballots.
    for (const auto& tx : ballots) CHECK(tx.candidate_id == 0);

    // Refused: a second ballot of one voter, a ballot proven for another voter, a plain vote,
    // a reserved voter tag, a ballot for an undefined election.
    CHECK(w.refused({w.ballot(9, 2, 100)}) == chain::errc::duplicate_vote);
    auto moved = w.ballot(9, 2, 200);
    moved.voter_tag = voter_tag_of(201);
    sign_tx<S>(moved, w.net.submitter);
    CHECK(w.refused({moved}) == chain::errc::invalid_ballot_proof);
    CHECK(w.refused({w.net.vote(300, 9, 1)}) == chain::errc::wrong_ballot_kind);
    auto reserved = w.ballot(9, 0, 301);
    reserved.voter_tag = election::slot_tag(tx_kind::dealing, 200);
    sign_tx<S>(reserved, w.net.submitter);
    CHECK(w.refused({reserved}) == chain::errc::reserved_voter_tag);
    CHECK(w.refused({election::ballot_record<S>(w.net.genesis, 10, w.state(9).key, 3, 0, voter_tag_of(5), w.net.submitter, 0)}) ==
          chain::errc::unknown_election);
    // A trustee cannot decrypt before the end, and owes no decryption yet.
    CHECK(w.owed({1, 2, 3}).empty());

    w.until(w.t0 + 30'000);
    CHECK(w.refused({w.ballot(9, 0, 400)}) == chain::errc::outside_voting_window);
    // Trustee 3 is down for the tally: 1 and 2 suffice.
    w.run_trustees({1, 2});
    REQUIRE(w.state(9).tally.has_value());
    CHECK(*w.state(9).tally == std::vector<std::uint64_t>{2, 4, 1});
    CHECK(w.state(9).decrypted_by == std::vector<std::uint32_t>{1, 2});

    // Anyone re-verifying the chain from its genesis derives the same election state.
    auto rep = w.c.verify();
    CHECK(rep.ok);
    CHECK(rep.elections == w.c.election_state());
    // So does a validator reopening its storage.
    auto reopened = mem_chain::open(w.net.genesis, std::move(w.c.storage())).value();
    CHECK(reopened.election_state() == rep.elections);
}

TEST_CASE("encrypted election: a trustee down for the whole ceremony; the deadline closes it", "[chain][election]") {
    mem_world w;
    // Trustee 3 published its key once, then went down.
    w.block({w.define(9, w.encrypted(8'000, 8'000, 20'000))});
    w.block(w.owed({1, 2, 3}));
    REQUIRE(w.c.election_state().trustee_keys().size() == 3);
    w.run_trustees({1, 2});  // dealings, then nothing until the deadline
    CHECK(w.state(9).ph == phase::ceremony);
    CHECK(w.state(9).dealings.size() == 2);
    w.until(w.t0 + 8'000);
    w.run_trustees({1, 2});  // the verdicts after the deadline close it
    REQUIRE(w.state(9).ph == phase::ready);
    CHECK(w.state(9).qualified == std::vector<std::uint32_t>{1, 2});
    CHECK(w.state(9).public_shares.contains(3));  // trustee 3 still got its shares
    // A late dealing is refused.
    vote_tx late;
    late.kind = tx_kind::dealing;
    late.chain_id = w.net.genesis.chain_id;
    late.election_id = 9;
    late.voter_tag = election::slot_tag(tx_kind::dealing, 3);
    late.encrypted_vote = election::encode(dkg::deal({late.chain_id, 9}, 3, 2, dkg::trustee_secrets(seed(2)),
                                                     w.c.election_state().trustee_keys()));
    sign_tx<S>(late, w.net.validators[2]);
    CHECK(w.refused({late}) == chain::errc::ceremony_closed);

    std::vector<vote_tx> ballots;
    for (std::uint64_t v = 0; v < 5; ++v) ballots.push_back(w.ballot(9, v % 3 == 0 ? 2 : 0, v));
    w.block(ballots);
    w.until(w.t0 + 20'000);
    // Trustee 3 is back for the tally; 2 and 3 decrypt.
    w.run_trustees({2, 3});
    REQUIRE(w.state(9).tally.has_value());
    CHECK(*w.state(9).tally == std::vector<std::uint64_t>{3, 0, 2});
}

TEST_CASE("encrypted election: a cheating dealer is disqualified by a complaint; a bad share is refused", "[chain][election]") {
    mem_world w;
    w.block({w.define(9, w.encrypted(10'000, 10'000, 20'000))});
    w.block(w.owed({1, 2, 3}));
    // Trustee 3 deals trustee 1 a share that does not match its commitments (and re-proves the dealing).
    auto txs = w.owed({1, 2, 3});
    REQUIRE(txs.size() == 3);
    w.cheat(txs[2], 3, 1);
    const dkg::ceremony_id cid{w.net.genesis.chain_id, 9};
    w.block(txs);
    // Trustee 1's verdict complains; trustee 2's does not.
    auto verdicts = w.owed({1, 2});
    REQUIRE(verdicts.size() == 2);
    CHECK(election::decode_verdict(verdicts[0].encrypted_vote).value().complaints.size() == 1);
    CHECK(election::decode_verdict(verdicts[1].encrypted_vote).value().complaints.empty());
    // An unfounded complaint (trustee 2 against honest dealer 1) is refused.
    {
        election::verdict v;
        v.complaints.push_back(dkg::make_complaint(cid, 1, dkg::trustee_secrets(seed(1)).key(w.net.genesis.chain_id),
                                                   w.state(9).dealings.at(1)));
        auto tx = verdicts[1];
        tx.encrypted_vote = election::encode(v);
        sign_tx<S>(tx, w.net.validators[1]);
        CHECK(w.refused({tx}) == chain::errc::complaint_refused);
    }
    w.block(verdicts);
    w.run_trustees({3});  // trustee 3's verdict completes the ceremony
    REQUIRE(w.state(9).ph == phase::ready);
    CHECK(w.state(9).disqualified == std::set<std::uint32_t>{3});
    CHECK(w.state(9).qualified == std::vector<std::uint32_t>{1, 2});

    w.until(w.t0 + 10'000);
    w.block({w.ballot(9, 1, 1), w.ballot(9, 1, 2), w.ballot(9, 0, 3)});
    w.until(w.t0 + 20'000);
    // A decryption share that lies is refused, naming the reason.
    auto shares = w.owed({1});
    REQUIRE(shares.size() == 1);
    auto dec = election::decode_decryption(shares[0].encrypted_vote).value();
    dec.d[1] = dec.d[1] + ristretto::point::generator();
    auto lying = shares[0];
    lying.encrypted_vote = election::encode(dec);
    sign_tx<S>(lying, w.net.validators[0]);
    CHECK(w.refused({lying}) == chain::errc::invalid_decryption_share);
    // A submitter cannot post a trustee's record.
    auto forged = shares[0];
    sign_tx<S>(forged, w.net.submitter);
    CHECK(w.refused({forged}) == chain::errc::unauthorized_submitter);
    w.run_trustees({1, 2});
    REQUIRE(w.state(9).tally.has_value());
    CHECK(*w.state(9).tally == std::vector<std::uint64_t>{1, 2, 0});
}

TEST_CASE("election definitions: refused when malformed, repeated, or over plain votes", "[chain][election]") {
    mem_world w;
    auto d = w.encrypted(5'000, 5'000, 9'000);
    auto bad = d;
    bad.threshold = 4;  // more than the 3 trustees
    CHECK(w.refused({w.define(1, bad)}) == chain::errc::bad_election_definition);
    bad = d;
    bad.key_deadline_ms = bad.start_ms + 1;
    CHECK(w.refused({w.define(1, bad)}) == chain::errc::bad_election_definition);
    bad = d;
    bad.candidates = {{2, "B"}, {1, "A"}};
    CHECK(w.refused({w.define(1, bad)}) == chain::errc::bad_election_definition);
    bad = d;
    for (std::uint64_t k = 4; k <= 21; ++k) bad.candidates.push_back({k, "C" + std::to_string(k)});
    CHECK(election::ballot_size(21) > w.net.genesis.max_encrypted_vote_bytes);  // 21 do not fit a ballot
    CHECK(w.refused({w.define(1, bad)}) == chain::errc::bad_election_definition);
    bad.candidates.pop_back();
    CHECK_FALSE(w.refused({w.define(1, bad)}));  // 20 do
    bad = d;
    bad.end_ms = bad.start_ms;
    CHECK(w.refused({w.define(1, bad)}) == chain::errc::bad_election_definition);
    auto wrong_slot = w.define(1, d);
    wrong_slot.voter_tag = voter_tag_of(1);
    sign_tx<S>(wrong_slot, w.net.submitter);
    CHECK(w.refused({wrong_slot}) == chain::errc::wrong_slot_tag);
    const auto first = w.define(1, d);
    w.block({first, w.net.vote(1, 2, 0)});
    CHECK(w.refused({first}) == chain::errc::duplicate_tx);
    auto again = d;
    again.name = "Again";
    CHECK(w.refused({w.define(1, again)}) == chain::errc::duplicate_vote);  // the slot is taken
    CHECK(w.refused({w.define(2, d)}) == chain::errc::election_exists);    // election 2 has plain votes

    // A plain election on the chain: its candidates and window hold for plain votes.
    election::definition plain{election::ballot_kind::plain, "Poll", {{7, "Yes"}, {8, "No"}}, w.t0 + 5'000, w.t0 + 8'000, 0, 0};
    w.block({w.define(3, plain)});
    CHECK(w.refused({w.net.vote(1, 3, 7)}) == chain::errc::outside_voting_window);
    w.until(w.t0 + 5'000);
    CHECK(w.refused({w.net.vote(1, 3, 9)}) == chain::errc::unknown_candidate);
    w.block({w.net.vote(1, 3, 7), w.net.vote(2, 3, 8)});
    CHECK(w.c.tally(3) == tally_map{{7, 1}, {8, 1}});
}

TEST_CASE("elections_defined: a plain vote needs its election defined on the chain, its candidate and window",
          "[chain][election]") {
    mem_world w(true);
    // No definition: refused, in a block and at admission (the mempool's check).
    CHECK(w.refused({w.net.vote(1, 1, 7)}) == chain::errc::unknown_election);
    CHECK(w.c.check_tx(w.net.vote(1, 1, 7)).error() == chain::errc::unknown_election);
    // Without the flag the same vote is the submitter's word (older chains verify as before).
    mem_world old;
    CHECK_FALSE(old.refused({old.net.vote(1, 1, 7)}));

    election::definition poll{election::ballot_kind::plain, "Poll", {{7, "Yes"}, {8, "No"}}, w.t0 + 1'000, w.t0 + 6'000, 0, 0};
    // The definition and a vote in one block: the vote counts against the state after it.
    w.block({w.define(1, poll), w.net.vote(1, 1, 7)});
    CHECK(w.c.check_tx(w.net.vote(2, 1, 9)).error() == chain::errc::unknown_candidate);
    CHECK(w.refused({w.net.vote(2, 1, 9)}) == chain::errc::unknown_candidate);
    CHECK(w.refused({w.net.vote(2, 2, 7)}) == chain::errc::unknown_election);
    w.block({w.net.vote(2, 1, 8), w.net.vote(3, 1, 8)});
    CHECK(w.c.tally(1) == tally_map{{7, 1}, {8, 2}});
    w.until(w.t0 + 6'000);
    CHECK(w.refused({w.net.vote(4, 1, 7)}) == chain::errc::outside_voting_window);
    CHECK(w.c.check_tx(w.net.vote(4, 1, 7), w.t0 + 6'000).error() == chain::errc::outside_voting_window);
    // A definition whose window has not opened yet.
    election::definition later = poll;
    later.start_ms = w.t0 + 60'000;
    later.end_ms = w.t0 + 70'000;
    w.block({w.define(2, later)});
    CHECK(w.refused({w.net.vote(5, 2, 7)}) == chain::errc::outside_voting_window);

    // Re-verifying from the genesis applies the same rules and derives the same state.
    auto rep = w.c.verify();
    CHECK(rep.ok);
    CHECK(rep.elections == w.c.election_state());
}

TEST_CASE("election records: strict encodings", "[chain][election][codec]") {
    mem_world w;
    auto def = w.encrypted(1, 2, 3);
    CHECK(election::decode_definition(election::encode(def)).value() == def);
    auto b = elgamal::seal_ballot({1, 2, ristretto::point::base_mul(ristretto::scalar::from_u64(5)), {}, {}}, 3, 1);
    auto enc = election::encode(b);
    CHECK(enc.size() == 1 + 4 + 3 * election::ballot_entry_size + 64);
    auto back = election::decode_ballot(enc).value();
    CHECK(back.cts == b.cts);
    CHECK(back.proofs == b.proofs);
    CHECK(back.sum == b.sum);
    // Trailing bytes, a wrong version, a non-canonical point, an unreduced scalar.
    auto t = enc;
    t.push_back(0);
    CHECK(election::decode_ballot(t).error() == core::errc::trailing_bytes);
    t = enc;
    t[0] = 2;
    CHECK(election::decode_ballot(t).error() == core::errc::bad_tag);
    t = enc;
    std::fill(t.begin() + 5, t.begin() + 37, byte{0xff});
    CHECK(election::decode_ballot(t).error() == core::errc::non_canonical);
    t = enc;
    std::fill(t.begin() + 5 + 64, t.begin() + 5 + 96, byte{0xff});
    CHECK(election::decode_ballot(t).error() == core::errc::non_canonical);
    // A count beyond the bound is refused before allocating.
    t = enc;
    t[1] = 0xff;
    CHECK(election::decode_ballot(t).error() == core::errc::length_too_large);

    // Records travel in the chain's codec: tag 0x07, kind, no candidate id.
    auto rec = w.define(4, def);
    const bytes raw = encode(rec);
    CHECK(raw[0] == 0x07);
    CHECK(raw[9] == static_cast<byte>(tx_kind::define_election));
    CHECK(raw.size() == codec::min_election_tx_size + rec.encrypted_vote.size());
    CHECK(decode_tx(raw).value() == rec);
    auto k = raw;
    k[9] = 8;  // no such kind
    CHECK(decode_tx(k).error() == core::errc::bad_tag);
    k[9] = 0;  // a vote is never tag 0x07
    CHECK(decode_tx(k).error() == core::errc::bad_tag);

    CHECK(election::is_slot_tag(election::slot_tag(tx_kind::verdict, 3)));
    CHECK_FALSE(election::is_slot_tag(voter_tag_of(3)));
}
