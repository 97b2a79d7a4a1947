#include <backend/outbox.hpp>

#include <backend/sqlite_store.hpp>

#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"
#include "scripted_validators.hpp"

#include <ballotchain/core/clock.hpp>
#include <ballotchain/crypto/sha256.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

// The outbox (apps/backend/outbox.hpp) without processes: a scripted transport
// answers each validator's JSON-RPC calls, a manual clock moves only when told,
// and the store is the real SQLite model in a temp dir. Each case names one
// transition and checks the vote's stored status after it.

using namespace ballotchain;
using namespace ballotchain::backend;
namespace bjson = boost::json;
using test::answer;
using test::script;
using test::scripted_transport;

namespace {

using outbox_type = outbox<scripted_transport, manual_clock>;

constexpr std::uint64_t resend_ms = 15'000;

/// Three scripted validators, a real store and fallback chain in a temp dir,
/// and the outbox over them. `reopen()` drops the store and the outbox and
/// opens new ones over the same files (a restart).
struct outbox_rig : test::scripted_pool_rig {
    std::unique_ptr<sqlite_store> db;
    std::unique_ptr<fallback_ledger> fallback;
    std::unique_ptr<outbox_type> box;
    std::int64_t election = 0, candidate = 0;
    std::uint64_t next_voter = 1;

    outbox_rig() : scripted_pool_rig("ballotchain-outbox") {
        reopen();
        const auto e = db->add_election({0, "e", "", 0, ~0ull >> 2, 0}, {candidate_row{0, 0, "a", ""}});
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
        box = std::make_unique<outbox_type>(*db, pool, *fallback, clock, outbox_type::options{1000, resend_ms, 512});
    }

    /// Stores a new voter's vote ('pending'), as the service does before sending.
    vote_row store_vote() {
        const auto voter = next_voter++;
        std::string email = "voter";  // appended: g++ 12 -O3 reports a false -Wrestrict on "voter" + ...
        email += std::to_string(voter);
        email += "@example.org";
        user_row u{0, email, "", bytes(16, 1), bytes(32, 2), false};
        const auto uid = db->add_user(u, clock.wall_ms());
        REQUIRE(uid);
        REQUIRE(*uid);
        const vote_tx tx = net.vote(voter, static_cast<std::uint64_t>(election), static_cast<std::uint64_t>(candidate));
        vote_row v;
        v.user_id = **uid;
        v.election_id = election;
        v.candidate_id = candidate;
        v.tx_hash = tx_hash<test::S>(tx);
        v.ballot_hash = std::to_string(voter);
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

    /// The vote as stored now.
    vote_row stored(const vote_row& v) {
        auto r = db->vote_by_tx(v.tx_hash);
        REQUIRE(r);
        REQUIRE(*r);
        return **r;
    }
    vote_status status(const vote_row& v) { return stored(v).status; }

    void make_final(const vote_row& v, std::uint64_t block) { sc->final_at[to_hex(v.tx_hash)] = block; }
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

TEST_CASE("outbox: pending -> submitted -> confirmed", "[backend][outbox]") {
    outbox_rig r;
    const auto v = r.store_vote();
    REQUIRE(r.status(v) == vote_status::pending);

    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::submitted);
    CHECK(sent.node == "validator-1");
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.stored(v).validator == "validator-1");

    // Not final yet: tick asks for the receipt and leaves it submitted (not due for a resend).
    CHECK(r.box->tick() == 0);
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.sc->count("eth_getTransactionReceipt") == 1);
    CHECK(r.sc->count("eth_sendRawTransaction") == 1);

    r.make_final(v, 7);
    CHECK(r.box->tick() == 1);
    const auto f = r.stored(v);
    CHECK(f.status == vote_status::confirmed);
    REQUIRE(f.block_number);
    CHECK(*f.block_number == 7);
    CHECK(f.block_hash == "0x" + std::string(64, 'b'));

    // Confirmed is final: no longer open, nothing more is asked about it.
    const auto calls = r.sc->calls.size();
    CHECK(r.box->tick() == 0);
    CHECK(r.sc->calls.size() == calls);
    CHECK(r.box->open_counts().empty());
}

TEST_CASE("outbox: a receipt lookup writes nothing; confirm() does", "[backend][outbox]") {
    outbox_rig r;
    const auto v = r.store_vote();
    REQUIRE(r.box->submit(v).st == send_result::state::submitted);
    r.make_final(v, 3);
    const auto info = r.box->lookup_receipt(v.tx_hash);
    CHECK(info.st == receipt_info::state::confirmed);
    CHECK(info.block == 3);
    CHECK(r.status(v) == vote_status::submitted);  // a query
    CHECK(r.box->confirm(r.stored(v), info));
    CHECK(r.status(v) == vote_status::confirmed);
    CHECK_FALSE(r.box->confirm(r.stored(v), info));  // confirmed -> confirmed is no transition
}

TEST_CASE("outbox: a submitted vote not final is re-sent after the timeout", "[backend][outbox]") {
    outbox_rig r;
    const auto v = r.store_vote();
    REQUIRE(r.box->submit(v).st == send_result::state::submitted);
    const auto sent_ms = r.stored(v).sent_ms;
    CHECK(r.sc->count("eth_sendRawTransaction") == 1);

    r.clock.advance(resend_ms - 1);
    r.box->tick();
    CHECK(r.sc->count("eth_sendRawTransaction") == 1);  // not yet

    r.clock.advance(1);
    r.box->tick();
    CHECK(r.sc->count("eth_sendRawTransaction") == 2);  // the same raw transaction again
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.stored(v).sent_ms == sent_ms + resend_ms);
}

TEST_CASE("outbox: failover to another validator when one does not answer", "[backend][outbox]") {
    outbox_rig r;
    r.sc->nodes["validator-1"] = answer::down;
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::submitted);
    CHECK(sent.node == "validator-2");
    CHECK(r.sc->count("validator-1", "eth_sendRawTransaction") == 1);
    CHECK(r.sc->count("validator-2", "eth_sendRawTransaction") == 1);
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.stored(v).validator == "validator-2");
    CHECK_FALSE(r.stored(v).fallback);
    CHECK_FALSE(r.fallback->contains(v.tx_hash));
}

TEST_CASE("outbox: all validators down -> kept on the fallback chain, sent when they return", "[backend][outbox]") {
    outbox_rig r;
    r.sc->all(answer::down);
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::unreachable);
    CHECK(sent.on_fallback);
    CHECK(r.sc->count("eth_sendRawTransaction") == 3);  // each validator tried once
    CHECK(r.status(v) == vote_status::pending);
    CHECK(r.stored(v).fallback);
    CHECK(r.fallback->contains(v.tx_hash));
    CHECK(r.fallback->total_votes(static_cast<std::uint64_t>(r.election)) == 1);
    CHECK(r.fallback->verify().ok);

    // Still down: the tick gives up for this round and changes nothing.
    r.clock.advance(2000);
    CHECK(r.box->tick() == 0);
    CHECK(r.status(v) == vote_status::pending);

    r.sc->all(answer::accept);
    CHECK(r.box->tick() == 1);
    CHECK(r.status(v) == vote_status::submitted);
    CHECK(r.fallback->height() == 1);  // recorded once, not again
}

TEST_CASE("outbox: a full pool keeps the vote queued and it is sent later", "[backend][outbox]") {
    outbox_rig r;
    r.sc->all(answer::pool_full);
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::queued);
    CHECK(r.sc->count("eth_sendRawTransaction") == 1);  // an answer: no failover
    const auto s = r.stored(v);
    CHECK(s.status == vote_status::pending);
    CHECK(s.sent_ms == r.clock.wall_ms());
    CHECK_FALSE(s.fallback);

    r.sc->all(answer::accept);
    r.clock.advance(resend_ms);
    CHECK(r.box->tick() == 1);
    CHECK(r.status(v) == vote_status::submitted);
}

TEST_CASE("outbox: a definitive refusal rejects the vote with its reason; the voter may vote again",
          "[backend][outbox]") {
    outbox_rig r;
    r.sc->all(answer::refuse);
    const auto v = r.store_vote();
    const auto sent = r.box->submit(v);
    CHECK(sent.st == send_result::state::rejected);
    CHECK(sent.detail == "wrong chain id (validator-1, JSON-RPC error -32007)");
    const auto s = r.stored(v);
    CHECK(s.status == vote_status::rejected);
    CHECK(s.detail == sent.detail);
    CHECK(r.box->open_counts().empty());

    // The voter's place is free: another vote of the same user in that election is stored.
    auto held = r.db->vote_by_user(v.user_id, v.election_id);
    REQUIRE(held);
    CHECK_FALSE(*held);
    vote_row again = v;
    again.tx_hash = sha256::hash(to_bytes("another transaction"));
    const vote_row* p = &again;
    auto ids = r.db->add_votes(std::span<const vote_row* const>(&p, 1));
    REQUIRE(ids);
    CHECK(ids->at(0));

    // A refused vote is not sent again.
    r.clock.advance(10 * resend_ms);
    const auto before = r.sc->count("eth_sendRawTransaction");
    r.sc->all(answer::accept);
    r.box->tick();
    CHECK(r.status(v) == vote_status::rejected);
    CHECK(r.sc->count("eth_sendRawTransaction") == before + 1);  // only the new vote
}

TEST_CASE("outbox: a refusal that is not definitive keeps the vote for a retry", "[backend][outbox]") {
    outbox_rig r;
    r.sc->all(answer::refuse);
    r.sc->refuse_code = rpc::tx_code::storage;
    r.sc->refuse_message = "storage error";
    const auto v = r.store_vote();
    CHECK(r.box->submit(v).st == send_result::state::queued);
    CHECK(r.status(v) == vote_status::pending);
}

TEST_CASE("outbox: a duplicate-vote refusal of a vote already final confirms it", "[backend][outbox]") {
    outbox_rig r;
    r.sc->all(answer::refuse);
    r.sc->refuse_code = rpc::tx_code::duplicate_vote;
    const auto v = r.store_vote();
    r.make_final(v, 4);
    CHECK(r.box->submit(v).st == send_result::state::submitted);
    CHECK(r.status(v) == vote_status::confirmed);
}

TEST_CASE("outbox: a restart picks up the stored outbox where it was", "[backend][outbox]") {
    outbox_rig r;
    r.sc->all(answer::down);
    const auto a = r.store_vote();  // all down: pending, on the fallback chain
    REQUIRE(r.box->submit(a).st == send_result::state::unreachable);
    r.sc->all(answer::accept);
    const auto b = r.store_vote();  // taken by a validator, not final yet
    REQUIRE(r.box->submit(b).st == send_result::state::submitted);
    const auto c = r.store_vote();  // stored, then the backend died before sending it
    REQUIRE(r.status(c) == vote_status::pending);

    r.reopen();  // new store connection, fallback ledger and outbox over the same files
    CHECK(r.fallback->contains(a.tx_hash));
    r.make_final(b, 9);
    r.clock.advance(1000);
    CHECK(r.box->tick() == 3);
    CHECK(r.status(a) == vote_status::submitted);
    CHECK(r.status(b) == vote_status::confirmed);
    CHECK(r.status(c) == vote_status::submitted);

    r.make_final(a, 10);
    r.make_final(c, 10);
    r.reopen();
    CHECK(r.box->tick() == 2);
    CHECK(r.status(a) == vote_status::confirmed);
    CHECK(r.status(c) == vote_status::confirmed);
    CHECK(r.box->open_counts().empty());
}
