#include <backend/outbox.hpp>

#include <backend/sqlite_store.hpp>

#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"
#include "validators_rig.hpp"

#include <ballotchain/core/clock.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

// The outbox (apps/backend/outbox.hpp) without processes: three validators in
// memory serve one real chain to the backend's verifying client (each can go
// down, refuse or lie), a manual clock moves only when told, and the store is
// the real SQLite model in a temp dir. Each case names one transition and
// checks the vote's stored status after it.

using namespace ballotchain;
using namespace ballotchain::backend;
namespace bjson = boost::json;
using test::node_mode;

namespace {

using outbox_type = outbox<test::chain_transport, manual_clock>;

constexpr std::uint64_t resend_ms = 15'000;

/// Three validators in memory, a real store and fallback chain in a temp dir,
/// and the outbox over them. `reopen()` drops the store, the client and the
/// outbox and opens new ones over the same files (a restart).
struct outbox_rig : test::validators_rig {
    std::unique_ptr<sqlite_store> db;
    std::unique_ptr<fallback_ledger> fallback;
    std::unique_ptr<outbox_type> box;
    std::int64_t election = 0, candidate = 0;
    std::uint64_t next_voter = 1;

    outbox_rig() : validators_rig("ballotchain-outbox") {
        reopen();
        const auto e = db->add_election(plain_election("e", 0, ~0ull >> 2), {candidate_row{0, 0, "a", ""}});
        REQUIRE(e);
        REQUIRE(*e);
        election = **e;
        const auto cs = db->candidates(election);
        REQUIRE(cs);
        candidate = cs->at(0).id;
    }

    void reopen() {
        box.reset();
        fallback.reset();
        db.reset();
        auto s = sqlite_store::open(dir.file("backend.db"));
        REQUIRE(s);
        db = std::move(*s);
        fallback = std::make_unique<fallback_ledger>(dir.file("fallback"), net.genesis, net.submitter.public_key(),
                                                     clock.wall_ms());
        connect();
        box = std::make_unique<outbox_type>(*db, *client, *fallback, clock, outbox_type::options{1000, resend_ms, 512});
    }

    /// A new voter (user) in the store; returns its user id and voter number.
    std::pair<std::int64_t, std::uint64_t> new_voter() {
        const auto voter = next_voter++;
        std::string email = "voter";  // appended: g++ 12 -O3 reports a false -Wrestrict on "voter" + ...
        email += std::to_string(voter);
        email += "@example.org";
        user_row u{0, email, "", bytes(16, 1), bytes(32, 2), false};
        const auto uid = db->add_user(u, clock.wall_ms());
        REQUIRE(uid);
        REQUIRE(*uid);
        return {**uid, voter};
    }

    /// Stores `tx` as user `user`'s vote ('pending'), as the service does before sending.
    vote_row store_tx(std::int64_t user, const vote_tx& tx) {
        vote_row v;
        v.user_id = user;
        v.election_id = election;
        v.candidate_id = candidate;
        v.tx_hash = tx_hash<test::S>(tx);
        v.ballot_hash = to_hex(v.tx_hash).substr(2);
        v.raw_tx = encode(tx);
        v.status = vote_status::pending;
        v.created_ms = clock.wall_ms();
        const vote_row* p = &v;
        auto ids = db->add_votes(std::span<const vote_row* const>(&p, 1));
        REQUIRE(ids);
        REQUIRE(ids->at(0));
        v.id = *ids->at(0);
        return v;
    }

    /// A new voter's vote, stored; `change` may alter its transaction (it is signed again after).
    vote_row store_vote(const std::function<void(vote_tx&)>& change = {}) {
        const auto [uid, voter] = new_voter();
        vote_tx tx = vote_of(voter);
        if (change) {
            change(tx);
            sign_tx<test::S>(tx, net.submitter);
        }
        return store_tx(uid, tx);
    }

    /// Voter number `voter`'s vote in the rig's election (what store_vote stores for it).
    vote_tx vote_of(std::uint64_t voter) const {
        return net.vote(voter, static_cast<std::uint64_t>(election), static_cast<std::uint64_t>(candidate));
    }

    /// The vote as stored now.
    vote_row stored(const vote_row& v) {
        auto r = db->vote_by_tx(v.tx_hash);
        REQUIRE(r);
        REQUIRE(*r);
        return **r;
    }
    vote_status status(const vote_row& v) { return stored(v).status; }

    /// Makes the vote final in the next block; returns the block's height.
    std::uint64_t make_final(const vote_row& v) { return validators_rig::make_final(v.raw_tx); }
    std::string block_hash_at(std::uint64_t h) const { return to_hex(w->node.c.hash_at(h).value()); }
};

}  // namespace

TEST_CASE("vote status: strings as stored, and the one transition table", "[backend][outbox]") {
    for (auto s : {vote_status::pending, vote_status::submitted, vote_status::confirmed, vote_status::rejected})
        CHECK(parse_vote_status(to_string(s)) == s);
    CHECK(to_string(vote_status::pending) == "pending");
    CHECK(to_string(vote_status::submitted) == "submitted");
    CHECK(to_string(vote_status::confirmed) == "confirmed");
    CHECK(to_string(vote_status::rejected) == "rejected");
    CHECK_FALSE(parse_vote_status("fallback"));
    CHECK_FALSE(parse_vote_status("Pending"));
    CHECK_FALSE(parse_vote_status(""));  // a damaged row: sqlite_store_test.cpp

    using enum vote_status;
    CHECK(next_status(pending, vote_event::accepted) == submitted);
    CHECK(next_status(pending, vote_event::sent) == pending);
    CHECK(next_status(submitted, vote_event::sent) == submitted);
    CHECK(next_status(pending, vote_event::refused) == rejected);
    CHECK(next_status(submitted, vote_event::refused) == rejected);
    CHECK(next_status(pending, vote_event::final) == confirmed);
    CHECK(next_status(submitted, vote_event::final) == confirmed);
    CHECK(next_status(rejected, vote_event::final) == confirmed);  // a receipt outranks a refusal
    CHECK_FALSE(next_status(rejected, vote_event::accepted));
    CHECK_FALSE(next_status(rejected, vote_event::sent));
    for (auto e : {vote_event::sent, vote_event::accepted, vote_event::refused, vote_event::final})
        CHECK_FALSE(next_status(confirmed, e));  // final is final
}

TEST_CASE("outbox: pending -> submitted -> confirmed, from a verified receipt", "[backend][outbox]") {
    outbox_rig r;
    const auto v = r.store_vote();
    REQUIRE(r.status(v) == vote_status::pending);

    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::submitted);
    CHECK(sent.node == "validator-1");
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.stored(v).validator == "validator-1");
    CHECK(r.w->node.pool.contains(v.tx_hash));  // the validator really holds it

    // Not final yet: tick asks for the receipt and leaves it submitted (not due for a resend).
    CHECK(r.box->tick() == 0);
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.w->count("poa_getTransactionProof") == 3);  // not final anywhere: every validator was asked
    CHECK(r.w->count("eth_sendRawTransaction") == 1);

    const auto height = r.make_final(v);
    CHECK(r.box->tick() == 1);
    const auto f = r.stored(v);
    CHECK(f.status == vote_status::confirmed);
    REQUIRE(f.block_number);
    CHECK(*f.block_number == height);
    CHECK(f.block_hash == r.block_hash_at(height));

    // Confirmed is final: no longer open, nothing more is asked about it.
    const auto calls = r.w->calls.size();
    CHECK(r.box->tick() == 0);
    CHECK(r.w->calls.size() == calls);
    CHECK(r.box->open_counts().empty());
}

TEST_CASE("outbox: a receipt lookup writes nothing; confirm() does", "[backend][outbox]") {
    outbox_rig r;
    const auto v = r.store_vote();
    REQUIRE(r.box->submit(v).st == send_result::state::submitted);
    CHECK(r.box->lookup_receipt(v.tx_hash).st == receipt_info::state::not_final);
    const auto height = r.make_final(v);
    const auto info = r.box->lookup_receipt(v.tx_hash);
    CHECK(info.st == receipt_info::state::confirmed);
    CHECK(info.block == height);
    CHECK(info.block_hash == r.block_hash_at(height));
    CHECK(info.node.rfind("validator-", 0) == 0);
    CHECK(r.status(v) == vote_status::submitted);  // a query
    CHECK(r.box->confirm(r.stored(v), info));
    CHECK(r.status(v) == vote_status::confirmed);
    CHECK_FALSE(r.box->confirm(r.stored(v), info));  // confirmed -> confirmed is no transition

    r.w->all(node_mode::down);
    CHECK(r.box->lookup_receipt(v.tx_hash).st == receipt_info::state::unreachable);
}

TEST_CASE("outbox: a submitted vote not final is re-sent after the timeout", "[backend][outbox]") {
    outbox_rig r;
    const auto v = r.store_vote();
    REQUIRE(r.box->submit(v).st == send_result::state::submitted);
    const auto sent_ms = r.stored(v).sent_ms;
    CHECK(r.w->count("eth_sendRawTransaction") == 1);

    r.clock.advance(resend_ms - 1);
    r.box->tick();
    CHECK(r.w->count("eth_sendRawTransaction") == 1);  // not yet

    r.clock.advance(1);
    r.box->tick();
    CHECK(r.w->count("eth_sendRawTransaction") == 2);  // the same raw transaction again (the validator holds it: duplicate_tx)
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.stored(v).sent_ms == sent_ms + resend_ms);
    CHECK(r.w->node.pool.size() == 1);
}

TEST_CASE("outbox: failover to another validator when one does not answer", "[backend][outbox]") {
    outbox_rig r;
    r.w->modes["validator-1"] = node_mode::down;
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::submitted);
    CHECK(sent.node == "validator-2");
    CHECK(r.w->count("validator-1", "eth_sendRawTransaction") == 1);
    CHECK(r.w->count("validator-2", "eth_sendRawTransaction") == 1);
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.stored(v).validator == "validator-2");
    CHECK_FALSE(r.stored(v).fallback);
    CHECK_FALSE(r.fallback->contains(v.tx_hash));
    CHECK(r.status_of("validator-1") == client::node_status::unreachable);
}

TEST_CASE("outbox: all validators down -> kept on the fallback chain, sent when they return", "[backend][outbox]") {
    outbox_rig r;
    r.w->all(node_mode::down);
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::unreachable);
    CHECK(sent.on_fallback);
    CHECK(r.w->count("eth_sendRawTransaction") == 3);  // each validator tried once: no backoff rounds for the voter
    CHECK(r.status(v) == vote_status::pending);
    CHECK(r.stored(v).fallback);
    CHECK(r.fallback->contains(v.tx_hash));
    CHECK(r.fallback->total_votes(static_cast<std::uint64_t>(r.election)) == 1);
    CHECK(r.fallback->verify().ok);

    // Still down: the tick gives up for this round and changes nothing.
    r.clock.advance(2000);
    CHECK(r.box->tick() == 0);
    CHECK(r.status(v) == vote_status::pending);

    r.w->all(node_mode::honest);
    CHECK(r.box->tick() == 1);
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.w->node.pool.contains(v.tx_hash));
    CHECK(r.fallback->height() == 1);  // recorded once, not again
}

TEST_CASE("outbox: replay counters and fallback in use, for /metrics", "[backend][outbox][metrics]") {
    outbox_rig r;
    const auto& st = r.box->stats();
    auto n = [](const std::atomic<std::uint64_t>& a) { return a.load(); };
    r.w->all(node_mode::down);
    const auto v = r.store_vote();
    CHECK_FALSE(st.fallback_in_use.load());
    REQUIRE(r.box->submit(v).on_fallback);
    CHECK(st.fallback_in_use.load());
    CHECK(n(st.attempts) == 0);  // a first send is not the replay's

    r.clock.advance(2000);  // due: sent again, nobody answers, the pass stops
    CHECK(r.box->tick() == 0);
    CHECK(n(st.attempts) == 1);
    CHECK(n(st.resends) == 1);
    CHECK(n(st.stalls) == 1);
    CHECK(st.fallback_in_use.load());

    r.w->all(node_mode::honest);
    CHECK(r.box->tick() == 1);  // taken
    CHECK(n(st.attempts) == 2);
    CHECK(n(st.resends) == 2);
    CHECK(n(st.stalls) == 1);
    CHECK_FALSE(st.fallback_in_use.load());  // a validator took a vote again

    r.make_final(v);
    CHECK(r.box->tick() == 1);  // a receipt: confirmed, nothing sent
    CHECK(n(st.attempts) == 3);
    CHECK(n(st.resends) == 2);
    CHECK(n(st.confirmations) == 1);
    CHECK(n(st.rejections) == 0);

    // A vote the validators refuse for good when the replay sends it.
    const auto bad = r.store_vote([](vote_tx& tx) { tx.chain_id = 99; });
    r.clock.advance(2000);
    CHECK(r.box->tick() == 1);
    CHECK(r.status(bad) == vote_status::rejected);
    CHECK(n(st.rejections) == 1);
    CHECK(n(st.resends) == 3);
    CHECK(n(st.stalls) == 1);
}

TEST_CASE("outbox: many new votes go to a validator in one call, each with its own outcome", "[backend][outbox]") {
    outbox_rig r;
    const auto a = r.store_vote(), b = r.store_vote();
    const auto other_chain = r.store_vote([](vote_tx& tx) { tx.chain_id = 99; });
    const auto sent = r.box->submit_many({a, b, other_chain});
    REQUIRE(sent.size() == 3);
    CHECK(r.w->count("poa_sendRawTransactions") == 1);
    CHECK(r.w->count("eth_sendRawTransaction") == 0);
    for (const auto* v : {&a, &b}) {
        CHECK(sent[v == &a ? 0 : 1].st == send_result::state::submitted);
        CHECK(r.status(*v) == vote_status::submitted);
        CHECK(r.stored(*v).validator == sent[0].node);
        CHECK(r.w->node.pool.contains(v->tx_hash));
    }
    CHECK(sent[2].st == send_result::state::rejected);  // refused for good: the voter may vote again
    CHECK(r.status(other_chain) == vote_status::rejected);
    CHECK_THAT(r.stored(other_chain).detail, Catch::Contains("wrong chain id"));

    SECTION("no validator answers: each is kept on the fallback chain, as one by one") {
        r.w->all(node_mode::down);
        const auto c = r.store_vote(), d = r.store_vote();
        const auto down = r.box->submit_many({c, d});
        for (const auto& s : down) {
            CHECK(s.st == send_result::state::unreachable);
            CHECK(s.on_fallback);
        }
        CHECK(r.fallback->contains(c.tx_hash));
        CHECK(r.fallback->contains(d.tx_hash));
        CHECK(r.stored(c).fallback);
        CHECK(r.status(d) == vote_status::pending);
    }
    SECTION("a validator without the method: the votes go one by one") {
        r.w->refuse_everywhere("poa_sendRawTransactions", rpc::code::method_not_found, "Method not found");
        const auto c = r.store_vote();
        const auto one = r.box->submit_many({c});
        CHECK(one[0].st == send_result::state::submitted);
        CHECK(r.w->count("eth_sendRawTransaction") == 1);
        CHECK(r.status(c) == vote_status::submitted);
    }
}

TEST_CASE("outbox: a batch refused for one vote is sent again at once without it", "[backend][outbox]") {
    // The votes stored together are signed as one batch; the validators take a batch whole or
    // not at all. One of these three conflicts with a vote already on the chain (the backend's
    // database was rebuilt while the chain kept the voter's earlier vote).
    outbox_rig r;
    std::vector<std::pair<std::int64_t, vote_tx>> made;
    for (int i = 0; i < 3; ++i) {
        const auto [uid, voter] = r.new_voter();
        made.emplace_back(uid, r.vote_of(voter));
    }
    auto earlier = made[1].second;
    earlier.timestamp_ms -= 1;  // the same voter tag and election, another transaction
    sign_tx<test::S>(earlier, r.net.submitter);
    r.w->finalize({earlier});
    std::vector<vote_tx> batch;
    for (const auto& m : made) batch.push_back(m.second);
    sign_batch<test::S>(batch, r.net.submitter);
    std::vector<vote_row> rows;
    for (std::size_t i = 0; i < 3; ++i) rows.push_back(r.store_tx(made[i].first, batch[i]));

    const auto sent = r.box->submit_many(rows);
    CHECK(r.w->count("poa_sendRawTransactions") == 2);  // the batch, then the two others
    CHECK(sent[1].st == send_result::state::rejected);
    CHECK_THAT(sent[1].detail, Catch::Contains("duplicate vote"));
    for (std::size_t i : {0u, 2u}) {
        INFO("vote " << i);
        CHECK(sent[i].st == send_result::state::submitted);
        CHECK(r.status(rows[i]) == vote_status::submitted);
        CHECK(r.w->node.pool.contains(rows[i].tx_hash));
    }
}

TEST_CASE("outbox: full pools keep the vote queued and it is sent later", "[backend][outbox]") {
    outbox_rig r;
    r.w->node.pool = ledger::mempool<ed25519_sha256>(1);  // one vote fills every validator's pool
    const auto filler = r.w->net.vote(900);
    REQUIRE(r.w->node.submit(filler));
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::queued);
    CHECK(r.w->count("eth_sendRawTransaction") == 3);  // a full pool is one validator's: each asked once
    const auto s = r.stored(v);
    CHECK(s.status == vote_status::pending);
    CHECK(s.sent_ms == r.clock.wall_ms());
    CHECK_FALSE(s.fallback);
    CHECK_FALSE(r.fallback->contains(v.tx_hash));

    r.w->finalize({filler});  // the pools drain
    r.clock.advance(resend_ms);
    CHECK(r.box->tick() == 1);
    CHECK(r.status(v) == vote_status::submitted);
}

TEST_CASE("outbox: a validator with a full pool is passed over for one that takes the vote", "[backend][outbox]") {
    outbox_rig r;
    r.w->refusals[{"validator-1", "eth_sendRawTransaction"}] = {rpc::tx_code::pool_full, "transaction pool full"};
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::submitted);
    CHECK(sent.node == "validator-2");
    CHECK(r.stored(v).validator == "validator-2");
}

TEST_CASE("outbox: a definitive refusal rejects the vote with its reason; the voter may vote again",
          "[backend][outbox]") {
    outbox_rig r;
    // Made for another chain (a backend run with another genesis than the validators'): refused by every one.
    const auto v = r.store_vote([](vote_tx& tx) { tx.chain_id = 99; });
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::rejected);
    CHECK(sent.detail == "wrong chain id (validator-1, JSON-RPC error -32007)");
    CHECK(r.w->count("eth_sendRawTransaction") == 1);  // no other validator would take it
    const auto s = r.stored(v);
    CHECK(s.status == vote_status::rejected);
    CHECK(s.detail == sent.detail);
    CHECK(r.box->open_counts().empty());

    // The voter's place is free: another vote of the same user in that election is stored.
    auto held = r.db->vote_by_user(v.user_id, v.election_id);
    REQUIRE(held);
    CHECK_FALSE(*held);
    const vote_tx good = r.vote_of(r.next_voter - 1);
    const auto again = r.store_tx(v.user_id, good);

    // A refused vote is not sent again; the new one is, and is taken.
    r.clock.advance(10 * resend_ms);
    const auto before = r.w->count("eth_sendRawTransaction");
    r.box->tick();
    CHECK(r.status(v) == vote_status::rejected);
    CHECK(r.w->count("eth_sendRawTransaction") == before + 1);  // only the new vote
    CHECK(r.status(again) == vote_status::submitted);
}

TEST_CASE("outbox: a refusal that is not definitive keeps the vote for a retry", "[backend][outbox]") {
    outbox_rig r;
    r.w->refuse_everywhere("eth_sendRawTransaction", rpc::tx_code::storage, "storage error");
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::queued);
    CHECK(r.status(v) == vote_status::pending);
    CHECK_FALSE(r.stored(v).fallback);

    r.w->refusals.clear();
    r.clock.advance(resend_ms);
    CHECK(r.box->tick() == 1);
    CHECK(r.status(v) == vote_status::submitted);
}

TEST_CASE("outbox: a duplicate-vote refusal of a vote already final confirms it", "[backend][outbox]") {
    outbox_rig r;
    const auto v = r.store_vote();
    const auto height = r.make_final(v);
    r.w->refuse_everywhere("eth_sendRawTransaction", rpc::tx_code::duplicate_vote,
                           "duplicate vote: voter already voted in this election");
    CHECK(r.box->submit(v).st == send_result::state::submitted);
    CHECK(r.status(v) == vote_status::confirmed);
    CHECK(*r.stored(v).block_number == height);
}

TEST_CASE("outbox: a duplicate-vote refusal for another vote of the voter on the chain rejects ours",
          "[backend][outbox]") {
    // The backend's database was rebuilt while the chain kept the voter's earlier vote.
    outbox_rig r;
    const auto v = r.store_vote();
    auto earlier = r.vote_of(r.next_voter - 1);
    earlier.timestamp_ms -= 1;  // the same voter tag and election, another transaction
    sign_tx<test::S>(earlier, r.net.submitter);
    r.w->finalize({earlier});
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::rejected);
    CHECK(sent.detail == "duplicate vote: voter already voted in this election (validator-1, JSON-RPC error -32003)");
    CHECK(r.status(v) == vote_status::rejected);
}

TEST_CASE("outbox: a forged receipt confirms nothing; the liar is marked misbehaving", "[backend][outbox][lie]") {
    outbox_rig r;
    const auto v = r.store_vote();
    REQUIRE(r.box->submit(v).st == send_result::state::submitted);
    r.lie_about_receipt("validator-1", decode_tx(v.raw_tx).value());
    // Round-robin: within three ticks each validator is asked first once, the liar too.
    for (int k = 0; k < 3; ++k) {
        CHECK(r.box->tick() == 0);
        CHECK(r.status(v) == vote_status::submitted);
        CHECK(r.box->lookup_receipt(v.tx_hash).st == receipt_info::state::not_final);
    }
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.w->count("validator-1", "poa_getTransactionProof") >= 1);
    CHECK(r.status_of("validator-1") == client::node_status::misbehaving);

    // Once it is final for real, the honest validators' receipt confirms it.
    const auto height = r.make_final(v);
    CHECK(r.box->tick() == 1);
    CHECK(r.status(v) == vote_status::confirmed);
    CHECK(r.stored(v).block_hash == r.block_hash_at(height));
}

TEST_CASE("outbox: an acknowledgement of another transaction is not believed", "[backend][outbox][lie]") {
    outbox_rig r;
    // A liar drops the vote it was sent and acknowledges another transaction.
    auto drop_and_lie = [w = r.w.get()](bjson::value& x) {
        if (auto h = from_hex_fixed<32>(std::string_view(x.as_string()))) (void)w->node.pool.erase(*h);
        x = "0x" + std::string(64, 'e');
    };
    r.w->lies[{"validator-1", "eth_sendRawTransaction"}] = drop_and_lie;
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::submitted);
    CHECK(sent.node == "validator-2");
    CHECK(r.w->node.pool.contains(v.tx_hash));
    CHECK(r.status_of("validator-1") == client::node_status::misbehaving);

    // When every validator answers so, none holds the vote: it is kept on the fallback chain.
    for (const auto* n : {"validator-2", "validator-3"}) r.w->lies[{n, "eth_sendRawTransaction"}] = drop_and_lie;
    const auto u = r.store_vote();
    const auto lied = r.box->submit(u);
    CHECK(lied.st == send_result::state::unreachable);
    CHECK(lied.on_fallback);
    CHECK(r.status(u) == vote_status::pending);
    CHECK(r.fallback->contains(u.tx_hash));
}

TEST_CASE("outbox: a restart picks up the stored outbox where it was", "[backend][outbox]") {
    outbox_rig r;
    r.w->all(node_mode::down);
    const auto a = r.store_vote();  // all down: pending, on the fallback chain
    REQUIRE(r.box->submit(a).st == send_result::state::unreachable);
    r.w->all(node_mode::honest);
    const auto b = r.store_vote();  // taken by a validator, not final yet
    REQUIRE(r.box->submit(b).st == send_result::state::submitted);
    const auto c = r.store_vote();  // stored, then the backend died before sending it
    REQUIRE(r.status(c) == vote_status::pending);

    r.reopen();  // new store connection, fallback ledger, client and outbox over the same files
    CHECK(r.fallback->contains(a.tx_hash));
    r.make_final(b);
    r.clock.advance(1000);
    CHECK(r.box->tick() == 3);
    CHECK(r.status(a) == vote_status::submitted);
    CHECK(r.status(b) == vote_status::confirmed);
    CHECK(r.status(c) == vote_status::submitted);

    r.w->finalize({decode_tx(a.raw_tx).value(), decode_tx(c.raw_tx).value()});
    r.reopen();
    CHECK(r.box->tick() == 2);
    CHECK(r.status(a) == vote_status::confirmed);
    CHECK(r.status(c) == vote_status::confirmed);
    CHECK(r.box->open_counts().empty());
}
