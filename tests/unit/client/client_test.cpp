// client/client.hpp: the verifying client against validators in memory that
// serve one real chain (chain_validators.hpp): typed answers, failover order,
// deadlines, cancellation, retries, every completion-token style, waiting for
// confirmation (long-poll and polling), the follower, and a lying validator for
// each operation, detected, reported as misbehaving and avoided.
#include "chain_validators.hpp"
#include "../support/temp_dir.hpp"

#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <functional>

using namespace ballotchain;
using namespace ballotchain::test;
using client::errc;
using client::node_status;
using client::tx_state;
namespace asio = boost::asio;
namespace bj = boost::json;
using namespace std::chrono_literals;

namespace {

/// A hex string with one character changed (still hex, same length).
std::string flip_hex(std::string_view s, std::size_t at) {
    std::string out(s);
    out[at] = out[at] == '0' ? '1' : '0';
    return out;
}

/// Forges the result of `method` on `node`.
void lie(client_rig& r, const std::string& node, const std::string& method, std::function<void(bj::value&)> f) {
    r.w->lies[{node, method}] = std::move(f);
}

}  // namespace

TEST_CASE("the client submits a vote and returns its verified receipt once final", "[client]") {
    client_rig r;
    const auto tx = r.w->net.vote(1);
    const hash32 th = tx_hash<ed25519_sha256>(tx);
    auto sent = r.c->submit_vote(tx);
    REQUIRE(sent);
    CHECK(*sent == th);
    auto before = r.c->get_transaction_receipt(th);
    REQUIRE(before);
    CHECK_FALSE(before->has_value());  // pending: no receipt
    auto st = r.c->get_vote_confirmation_status(th);
    REQUIRE(st);
    CHECK(st->state == tx_state::pending);

    r.w->finalize({tx});
    auto rc = r.c->get_transaction_receipt(th);
    REQUIRE(rc);
    REQUIRE(rc->has_value());
    const auto& receipt = **rc;
    CHECK(receipt.tx_hash == th);
    CHECK(receipt.block_number == 1);
    CHECK(receipt.block_hash == r.w->node.c.hash_at(1));
    CHECK(receipt.index == 0);
    CHECK(receipt.signers() == std::vector<std::uint32_t>{0, 1});
    auto fin = r.c->get_vote_confirmation_status(th);
    REQUIRE(fin);
    CHECK(fin->state == tx_state::final);
    REQUIRE(fin->proof);
    CHECK(fin->proof->block_hash == receipt.block_hash);
}

TEST_CASE("a validator a block behind, with no receipt yet, does not hide one the others have", "[client]") {
    client_rig r;
    const auto tx = r.w->net.vote(1);
    const hash32 th = tx_hash<ed25519_sha256>(tx);
    r.w->finalize({tx});
    lie(r, "validator-1", "poa_getTransactionProof", [](bj::value& v) { v = nullptr; });  // it lags: "not final"
    for (int k = 0; k < 3; ++k) {  // every validator gets to answer first once
        auto rc = r.c->get_transaction_receipt(th);
        REQUIRE(rc);
        REQUIRE(rc->has_value());
        CHECK((*rc)->node != "validator-1");
    }
    CHECK(r.status_of("validator-1") != node_status::misbehaving);  // lagging is no lie
    // Nobody has it: no receipt, not an error.
    auto none = r.c->get_transaction_receipt(tx_hash<ed25519_sha256>(r.w->net.vote(2)));
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
}

TEST_CASE("a refusal keeps the validator's JSON-RPC code and message", "[client]") {
    client_rig r;
    auto tx = r.w->net.vote(1);
    tx.chain_id = 99;  // another chain: refused by every validator for the same reason
    sign_tx<ed25519_sha256>(tx, r.w->net.submitter);
    auto sent = r.c->submit_vote(tx);
    REQUIRE_FALSE(sent);
    CHECK(sent.error().kind == errc::rpc_error);
    CHECK(sent.error().rpc_code == rpc::tx_code::wrong_chain);
    CHECK(sent.error().message == "wrong chain id");
    CHECK(r.w->count("eth_sendRawTransaction") == 1);  // a definitive refusal is not retried elsewhere
    // The same transaction twice: the second answer (duplicate_tx) still means "taken".
    const auto ok = r.w->net.vote(2);
    REQUIRE(r.c->submit_vote(ok));
    auto again = r.c->submit_vote(ok);
    REQUIRE(again);
    CHECK(*again == tx_hash<ed25519_sha256>(ok));
}

TEST_CASE("many votes in one call: each answered on its own; a validator that acknowledges another hash is passed over",
          "[client]") {
    client_rig r;
    const auto v1 = r.w->net.vote(1), v2 = r.w->net.vote(2);
    auto other_chain = r.w->net.vote(3);
    other_chain.chain_id = 99;
    sign_tx<ed25519_sha256>(other_chain, r.w->net.submitter);
    REQUIRE(r.c->submit_vote(v1));
    auto out = r.c->send_votes({v1, v2, other_chain});
    REQUIRE(out);
    REQUIRE(out->size() == 3);
    REQUIRE((*out)[0]);  // already held: taken
    CHECK((*out)[0]->tx_hash == tx_hash<ed25519_sha256>(v1));
    REQUIRE((*out)[1]);
    CHECK((*out)[1]->tx_hash == tx_hash<ed25519_sha256>(v2));
    REQUIRE_FALSE((*out)[2]);
    CHECK((*out)[2].error().rpc_code == rpc::tx_code::wrong_chain);
    CHECK((*out)[2].error().node == (*out)[1]->node);
    CHECK(r.w->count("poa_sendRawTransactions") == 1);  // one call for all three
    CHECK(r.c->send_votes({})->empty());

    // validator-1 swaps the first hash it acknowledges: caught, and another validator answers.
    lie(r, "validator-1", "poa_sendRawTransactions", [](bj::value& v) {
        auto& first = v.as_array()[0].as_object();
        if (first.contains("hash")) first["hash"] = to_hex(sha256::hash(bytes{1}));
    });
    for (int k = 0; k < 3; ++k) {
        auto more = r.c->send_votes({r.w->net.vote(10 + static_cast<std::uint64_t>(k))});
        REQUIRE(more);
        REQUIRE((*more)[0]);
        CHECK((*more)[0]->node != "validator-1");
    }
    CHECK(r.status_of("validator-1") == node_status::misbehaving);
}

TEST_CASE("calls fail over past unreachable validators, healthy ones first", "[client][failover]") {
    client_rig r;
    r.w->modes["validator-1"] = node_mode::down;
    r.w->modes["validator-2"] = node_mode::down;
    for (int i = 0; i < 3; ++i) {
        auto s = r.c->get_blockchain_state();
        REQUIRE(s);
        CHECK(s->node == "validator-3");
        CHECK(s->head_verified);
    }
    CHECK(r.status_of("validator-1") == node_status::unreachable);
    CHECK(r.status_of("validator-2") == node_status::unreachable);
    // Once they are known unreachable, the healthy one is asked first: no more calls to the others.
    r.w->calls.clear();
    REQUIRE(r.c->get_blockchain_state());
    CHECK(r.w->calls.front().first == "validator-3");
    CHECK(r.w->count("validator-1", "poa_status") == 0);
}

TEST_CASE("with no validator answering, the client retries in rounds and then says unreachable", "[client][retry]") {
    client_rig r;
    for (const auto& n : r.w->nodes()) r.w->modes[n.node_id] = node_mode::down;
    auto s = r.c->get_blockchain_state();
    REQUIRE_FALSE(s);
    CHECK(s.error().kind == errc::unreachable);
    CHECK(s.error().message == "connection refused");
    CHECK(r.w->count("poa_status") == 3 * r.c->options().max_rounds);
}

TEST_CASE("a validator that comes back during the backoff answers the next round", "[client][retry]") {
    auto o = client_rig::fast();
    o.backoff_base = 200ms;
    client_rig r(o);
    for (const auto& n : r.w->nodes()) r.w->modes[n.node_id] = node_mode::down;
    // Bring validator-2 back once the first round has failed everywhere: a timer on the client's
    // own io_context looks every millisecond, so it acts during the backoff wait (100-200 ms),
    // however busy the machine (timers run in the order they expire), never before.
    asio::steady_timer t(r.io);
    std::function<void()> watch = [&] {
        t.expires_after(1ms);
        t.async_wait([&](boost::system::error_code ec) {
            if (ec) return;
            if (r.w->count("poa_status") >= 3) {
                r.w->modes["validator-2"] = node_mode::honest;
                return;
            }
            watch();
        });
    };
    watch();
    auto s = r.run(r.c->async_get_blockchain_state(asio::use_awaitable));
    REQUIRE(s);
    CHECK(s->node == "validator-2");
    CHECK(r.w->count("poa_status") >= 4);  // a full failed round, then validator-2
}

TEST_CASE("a call's deadline bounds it when validators hang", "[client][deadline]") {
    client_rig r;
    for (const auto& n : r.w->nodes()) r.w->modes[n.node_id] = node_mode::hang;
    auto s = r.c->get_blockchain_state(client::call_options{50ms});
    REQUIRE_FALSE(s);
    CHECK(s.error().kind == errc::timeout);
    // Each attempt was cut off by the attempt timeout or the deadline, never answered.
    CHECK(r.status_of("validator-1") == node_status::unreachable);
}

TEST_CASE("cancelling a call ends it with errc::cancelled", "[client][cancel]") {
    client_rig r;
    for (const auto& n : r.w->nodes()) r.w->modes[n.node_id] = node_mode::hang;
    asio::cancellation_signal sig;
    std::optional<client::call_result<client::chain_state>> out;
    r.c->async_get_blockchain_state(client::call_options{60s},
                                    asio::bind_cancellation_slot(sig.slot(), [&](auto res) { out = std::move(res); }));
    asio::steady_timer t(r.io, 10ms);
    t.async_wait([&](boost::system::error_code) { sig.emit(asio::cancellation_type::terminal); });
    r.io.run();
    REQUIRE(out);
    REQUIRE_FALSE(*out);
    CHECK(out->error().kind == errc::cancelled);
}

TEST_CASE("every completion token style gives the same answer", "[client][async]") {
    client_rig r;
    r.w->finalize_votes(0, 5);
    // callback
    std::optional<client::call_result<client::chain_state>> cb;
    r.c->async_get_blockchain_state([&](auto res) { cb = std::move(res); });
    r.io.run();
    REQUIRE(cb);
    REQUIRE(*cb);
    CHECK((*cb)->height == 1);
    // use_future, with the io_context run by another thread
    auto fut = r.c->async_get_election_results(1, asio::use_future);
    r.io.restart();
    std::thread runner([&] { r.io.run(); });
    auto t = fut.get();
    runner.join();
    REQUIRE(t);
    CHECK(t->total == 5);
    CHECK(t->verified);
    // use_awaitable
    auto aw = r.run(r.c->async_get_blockchain_state(asio::use_awaitable));
    REQUIRE(aw);
    CHECK(aw->head_hash == (*cb)->head_hash);
    // synchronous
    auto sync = r.c->get_blockchain_state();
    REQUIRE(sync);
    CHECK(sync->height == 1);
}

TEST_CASE("wait_for_confirmation returns the verified receipt once the vote is final", "[client][wait]") {
    client_rig r;
    const auto tx = r.w->net.vote(7);
    const hash32 th = tx_hash<ed25519_sha256>(tx);
    REQUIRE(r.c->submit_vote(tx));
    // The block comes while the client waits.
    asio::steady_timer t(r.io, 20ms);
    t.async_wait([&](boost::system::error_code) { r.w->finalize({tx}); });
    auto c = r.run(r.c->async_wait_for_confirmation(th, 10s, asio::use_awaitable));
    REQUIRE(c);
    CHECK(c->state == tx_state::final);
    REQUIRE(c->proof);
    CHECK(c->proof->block_number == 1);
    CHECK(r.w->count("poa_waitForBlock") >= 1);
}

TEST_CASE("wait_for_confirmation polls with backoff when validators cannot long-poll", "[client][wait]") {
    client_rig r;
    r.w->unknown_methods = {"poa_waitForBlock"};
    const auto tx = r.w->net.vote(8);
    const hash32 th = tx_hash<ed25519_sha256>(tx);
    REQUIRE(r.c->submit_vote(tx));
    asio::steady_timer t(r.io, 20ms);
    t.async_wait([&](boost::system::error_code) { r.w->finalize({tx}); });
    auto c = r.run(r.c->async_wait_for_confirmation(th, 10s, asio::use_awaitable));
    REQUIRE(c);
    CHECK(c->state == tx_state::final);
    CHECK(r.w->count("poa_getTransactionStatus") >= 2);
}

TEST_CASE("wait_for_confirmation times out on a vote that never becomes final", "[client][wait]") {
    client_rig r;
    const hash32 th = tx_hash<ed25519_sha256>(r.w->net.vote(9));
    auto c = r.c->wait_for_confirmation(th, 30ms);
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == errc::timeout);
}

TEST_CASE("a dropped vote is reported with the winner's verified receipt", "[client][wait]") {
    client_rig r;
    const auto winner = r.w->net.vote(3, 1, 0);
    auto loser = r.w->net.vote(3, 1, 1);  // same voter, same election
    const hash32 lh = tx_hash<ed25519_sha256>(loser);
    r.w->finalize({winner});
    // The client submitted the loser itself (refused: the voter's vote is final), so it knows its key.
    auto refused = r.c->submit_vote(loser);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().is_rpc(rpc::tx_code::duplicate_vote));
    rpc::tx_status st;
    st.status = rpc::tx_status::state::dropped;
    st.conflicting_tx = tx_hash<ed25519_sha256>(winner);
    st.conflicting_block = 1;
    st.reason = "another vote of this voter is final";
    r.w->node.dropped[lh] = st;
    auto c = r.c->wait_for_confirmation(lh, 5s);
    REQUIRE(c);
    CHECK(c->state == tx_state::dropped);
    REQUIRE(c->proof);
    CHECK(c->proof->tx_hash == tx_hash<ed25519_sha256>(winner));
}

TEST_CASE("results come from the client's own verified follower, resumed from its saved position", "[client][follower]") {
    temp_dir dir("client-follower");
    auto o = client_rig::fast();
    o.follower_state = (dir.path() / "follower.json").string();
    o.blocks_per_fetch = 2;  // several fetches
    {
        client_rig r(o);
        for (std::uint64_t b = 0; b < 5; ++b) r.w->finalize_votes(b * 10, 10);
        auto t = r.c->get_election_results(1);
        REQUIRE(t);
        CHECK(t->verified);
        CHECK(t->height == 5);
        CHECK(t->total == 50);
        CHECK(t->results == r.w->node.tally(1));
        CHECK(t->node != "");  // compared with a validator's answer at the same height
        CHECK(r.c->follower().height == 5);
    }
    client_rig again(o);
    for (std::uint64_t b = 0; b < 5; ++b) again.w->finalize_votes(b * 10, 10);  // the same chain, rebuilt
    CHECK(again.c->follower_load_error().empty());
    CHECK(again.c->follower().height == 5);  // resumed
    again.w->finalize_votes(100, 4);
    auto t = again.c->get_election_results(1);
    REQUIRE(t);
    CHECK(t->total == 54);
    CHECK(again.w->count("poa_getRawBlocks") == 1);  // only block 6 was fetched
}

TEST_CASE("the follower applies blocks in order and follows live with async_follow", "[client][follower]") {
    client_rig r;
    r.w->finalize_votes(0, 3);
    std::vector<std::uint64_t> seen;
    r.c->on_block([&](const client::verified_block& b) { seen.push_back(b.fb.blk.header.height); });
    asio::cancellation_signal sig;
    std::optional<client::call_result<std::uint64_t>> done;
    r.c->async_follow(asio::bind_cancellation_slot(sig.slot(), [&](auto res) { done = std::move(res); }));
    asio::steady_timer t(r.io, 10ms);
    t.async_wait([&](boost::system::error_code) { r.w->finalize_votes(10, 2); });
    asio::steady_timer check(r.io);
    std::function<void(boost::system::error_code)> poll = [&](boost::system::error_code) {
        if (seen.size() >= 2) return sig.emit(asio::cancellation_type::terminal);
        check.expires_after(2ms);
        check.async_wait(poll);
    };
    poll({});
    r.io.run();
    CHECK(seen == std::vector<std::uint64_t>{1, 2});
    REQUIRE(done);
    CHECK(done->error().kind == errc::cancelled);
    CHECK(r.c->follower().tallies.at(1).size() >= 2);
}

TEST_CASE("the health monitor runs on the caller's executor until cancelled", "[client][health]") {
    client_rig r;
    r.w->modes["validator-2"] = node_mode::down;
    asio::cancellation_signal sig;
    std::optional<client::call_result<std::size_t>> done;
    r.c->async_run_health_monitor(1ms, asio::bind_cancellation_slot(sig.slot(), [&](auto res) { done = std::move(res); }));
    asio::steady_timer check(r.io);
    std::function<void(boost::system::error_code)> poll = [&](boost::system::error_code) {
        if (r.w->probes >= 9) return sig.emit(asio::cancellation_type::terminal);
        check.expires_after(1ms);
        check.async_wait(poll);
    };
    poll({});
    r.io.run();
    REQUIRE(done);
    CHECK(done->error().kind == errc::cancelled);
    CHECK(r.status_of("validator-1") == node_status::healthy);
    CHECK(r.status_of("validator-2") == node_status::unreachable);
}

// ---- lying validators ------------------------------------------------------------------------

namespace {

/// A rig where validator-1 lies about `method` with `f`; every other validator is honest.
/// Checks that the call still gives the honest answer, and that validator-1 is marked misbehaving.
struct liar_rig : client_rig {
    liar_rig(const std::string& method, std::function<void(bj::value&)> f) { lie(*this, "validator-1", method, std::move(f)); }
    void expect_caught() {
        CHECK(status_of("validator-1") == node_status::misbehaving);
        for (const auto& n : c->health())
            if (n.info.node_id == "validator-1") {
                CHECK(n.misbehaviours >= 1);
                CHECK_FALSE(n.detail.empty());
            }
    }
};

/// A final vote and its hash, in a rig.
hash32 final_vote(client_rig& r, std::uint64_t voter = 1) {
    const auto tx = r.w->net.vote(voter);
    r.w->finalize({tx});
    return tx_hash<ed25519_sha256>(tx);
}

bj::object& obj(bj::value& v) { return v.as_object(); }

}  // namespace

TEST_CASE("lying validators are caught on every receipt forgery", "[client][lie]") {
    struct forgery {
        const char* name;
        std::function<void(bj::value&)> f;
    };
    test_network other(4);  // foreign keys
    const std::vector<forgery> forgeries = {
        {"header that does not hash to block_hash",
         [](bj::value& v) { obj(v)["header"] = flip_hex(obj(v)["header"].as_string(), 40); }},
        {"block_hash of another header", [](bj::value& v) { obj(v)["block_hash"] = flip_hex(obj(v)["block_hash"].as_string(), 10); }},
        {"certificate with too few seals",
         [](bj::value& v) { obj(v)["certificate"].as_object()["seals"].as_array().resize(1); }},
        {"certificate with a foreign seal",
         [&](bj::value& v) {
             auto& seal = obj(v)["certificate"].as_object()["seals"].as_array()[1].as_object();
             auto cert = json::cert_from_json(obj(v)["certificate"]).value();
             seal["signature"] = to_hex(make_seal<ed25519_sha256>(other.validators[3], 1, 1337, cert.height, cert.round, cert.block_hash).sig);
         }},
        {"certificate with a seal repeated", [](bj::value& v) {
             auto& seals = obj(v)["certificate"].as_object()["seals"].as_array();
             seals[1] = seals[0];
         }},
        {"Merkle proof of another position", [](bj::value& v) { obj(v)["index"] = 1; }},
        {"Merkle path altered", [](bj::value& v) { obj(v)["proof"].as_array()[0] = flip_hex(obj(v)["proof"].as_array()[0].as_string(), 5); }},
        {"receipt of another transaction", [](bj::value& v) { obj(v)["tx_hash"] = flip_hex(obj(v)["tx_hash"].as_string(), 5); }},
        {"no certificate at all", [](bj::value& v) { obj(v).erase("certificate"); }},
    };
    for (const auto& f : forgeries) {
        DYNAMIC_SECTION(f.name) {
            liar_rig r("poa_getTransactionProof", f.f);
            auto tx1 = r.w->net.vote(1), tx2 = r.w->net.vote(2);
            r.w->finalize({tx1, tx2});  // two votes: the proof has one step
            const hash32 th = tx_hash<ed25519_sha256>(tx1);
            for (int k = 0; k < 3; ++k) {  // every validator gets to answer first once
                auto rc = r.c->get_transaction_receipt(th);
                REQUIRE(rc);
                REQUIRE(rc->has_value());
                CHECK((*rc)->node != "validator-1");
                CHECK((*rc)->block_hash == r.w->node.c.hash_at(1));
            }
            r.expect_caught();
        }
    }
}

TEST_CASE("a single validator's own block (its seal alone) is no receipt", "[client][lie]") {
    // validator-1 makes up a block holding a vote and seals it itself: the certificate lacks a quorum.
    client_rig r;
    for (const auto& n : r.w->nodes()) r.w->modes[n.node_id] = node_mode::down;
    r.w->modes["validator-1"] = node_mode::honest;
    const auto tx = r.w->net.vote(5);
    const hash32 th = tx_hash<ed25519_sha256>(tx);
    auto fb = r.w->net.next_block(r.w->node.c, {tx});
    fb.cert = r.w->net.certificate(1, 0, block_hash<ed25519_sha256>(fb.blk.header), 1);
    lie(r, "validator-1", "poa_getTransactionProof", [&](bj::value& v) {
        v = bj::object{{"tx_hash", to_hex(th)},
                       {"block_number", 1},
                       {"block_hash", to_hex(block_hash<ed25519_sha256>(fb.blk.header))},
                       {"index", 0},
                       {"tx_count", 1},
                       {"tx_root", to_hex(fb.blk.header.tx_root)},
                       {"proof", bj::array{}},
                       {"header", to_hex(encode(fb.blk.header))},
                       {"certificate", json::to_json(fb.cert)}};
    });
    auto rc = r.c->get_transaction_receipt(th);  // the honest answer would be null: rewrite needs a result
    REQUIRE_FALSE(rc);
    CHECK(rc.error().kind == errc::misbehaving);
    CHECK_THAT(rc.error().message, Catch::Contains("fewer seals than the quorum"));
    CHECK(r.status_of("validator-1") == node_status::misbehaving);
}

TEST_CASE("a validator that forges confirmation status is caught", "[client][lie]") {
    SECTION("final without a proof") {
        liar_rig r("poa_getTransactionStatus", [](bj::value& v) {
            obj(v)["status"] = "final";
            obj(v)["block_number"] = 1;
            obj(v)["block_hash"] = "0x" + std::string(64, 'a');
        });
        const auto tx = r.w->net.vote(4);
        REQUIRE(r.c->submit_vote(tx));
        r.w->finalize_votes(50, 1);  // block 1 exists, without this vote
        for (int k = 0; k < 3; ++k) {
            auto st = r.c->get_vote_confirmation_status(tx_hash<ed25519_sha256>(tx));
            REQUIRE(st);
            CHECK(st->state == tx_state::pending);
        }
        r.expect_caught();
    }
    SECTION("dropped for another voter's final vote") {
        liar_rig r("poa_getTransactionStatus", [](bj::value&) {});
        const auto other = r.w->net.vote(30);  // another voter, final
        r.w->finalize({other});
        const auto tx = r.w->net.vote(4);
        REQUIRE(r.c->submit_vote(tx));
        const auto other_hash = to_hex(tx_hash<ed25519_sha256>(other));
        lie(r, "validator-1", "poa_getTransactionStatus", [other_hash](bj::value& v) {
            obj(v)["status"] = "dropped";
            obj(v)["conflicting_tx"] = other_hash;
            obj(v)["reason"] = "made up";
        });
        for (int k = 0; k < 3; ++k) {
            auto st = r.c->get_vote_confirmation_status(tx_hash<ed25519_sha256>(tx));
            REQUIRE(st);
            CHECK(st->state == tx_state::pending);
        }
        r.expect_caught();
    }
    SECTION("dropped for a winner that is not final") {
        liar_rig r("poa_getTransactionStatus", [](bj::value& v) {
            obj(v)["status"] = "dropped";
            obj(v)["conflicting_tx"] = "0x" + std::string(64, 'c');
            obj(v)["reason"] = "made up";
        });
        const auto tx = r.w->net.vote(4);
        REQUIRE(r.c->submit_vote(tx));
        for (int k = 0; k < 3; ++k) {
            auto st = r.c->get_vote_confirmation_status(tx_hash<ed25519_sha256>(tx));
            REQUIRE(st);
            CHECK(st->state == tx_state::pending);
        }
        r.expect_caught();
    }
}

TEST_CASE("a validator that acknowledges another hash is caught", "[client][lie]") {
    liar_rig r("eth_sendRawTransaction", [](bj::value& v) { v = "0x" + std::string(64, 'e'); });
    for (std::uint64_t k = 0; k < 3; ++k) {
        const auto tx = r.w->net.vote(20 + k);
        auto h = r.c->submit_vote(tx);
        REQUIRE(h);
        CHECK(*h == tx_hash<ed25519_sha256>(tx));
    }
    r.expect_caught();
}

TEST_CASE("a validator that lies about the chain head, a block or its integrity is caught", "[client][lie]") {
    SECTION("head hash") {
        liar_rig r("poa_status", [](bj::value& v) { obj(v)["head_hash"] = "0x" + std::string(64, 'd'); });
        r.w->finalize_votes(0, 2);
        for (int k = 0; k < 3; ++k) {
            auto s = r.c->get_blockchain_state();
            REQUIRE(s);
            CHECK(s->head_hash == r.w->node.c.head_hash());
        }
        r.expect_caught();
    }
    SECTION("a block's bytes") {
        liar_rig r("poa_getRawBlock", [](bj::value& v) { v = flip_hex(v.as_string(), v.as_string().size() - 200); });
        r.w->finalize_votes(0, 2);
        for (int k = 0; k < 3; ++k) {
            auto b = r.c->get_block(1);
            REQUIRE(b);
            CHECK(b->hash == r.w->node.c.hash_at(1));
        }
        r.expect_caught();
    }
    SECTION("another block for the height asked") {
        liar_rig r("poa_getRawBlock", [](bj::value&) {});
        r.w->finalize_votes(0, 2);
        r.w->finalize_votes(10, 2);
        const auto two = to_hex(r.w->node.c.raw_block_at(2).value());
        lie(r, "validator-1", "poa_getRawBlock", [two](bj::value& v) { v = two; });
        for (int k = 0; k < 3; ++k) {
            auto b = r.c->get_block(1);
            REQUIRE(b);
            CHECK(b->fb.blk.header.height == 1);
        }
        r.expect_caught();
    }
    SECTION("integrity report") {
        liar_rig r("poa_verifyChain", [](bj::value& v) { obj(v)["verified_hash"] = "0x" + std::string(64, 'f'); });
        r.w->finalize_votes(0, 2);
        for (int k = 0; k < 3; ++k) {
            auto rep = r.c->verify_blockchain_integrity();
            REQUIRE(rep);
            CHECK(rep->ok);
            CHECK(rep->verified_hash_certified);
        }
        r.expect_caught();
    }
}

TEST_CASE("a validator that lies about a tally is caught; the tally comes from verified blocks", "[client][lie]") {
    SECTION("a vote moved between candidates") {
        liar_rig r("poa_getResults", [](bj::value& v) {
            auto& res = obj(v)["results"].as_object();
            res["0"] = res["0"].to_number<std::uint64_t>() + 1;
            res["1"] = res["1"].to_number<std::uint64_t>() - 1;
        });
        r.w->finalize_votes(0, 9);
        for (int k = 0; k < 3; ++k) {
            auto t = r.c->get_election_results(1);
            REQUIRE(t);
            CHECK(t->results == r.w->node.tally(1));
            CHECK(t->node != "validator-1");
        }
        r.expect_caught();
    }
    SECTION("a tally for a height no validator has") {
        liar_rig r("poa_getResults", [](bj::value& v) { obj(v)["height"] = 1000; });
        r.w->finalize_votes(0, 9);
        for (int k = 0; k < 3; ++k) {
            auto t = r.c->get_election_results(1);
            REQUIRE(t);
            CHECK(t->height == 1);
        }
        r.expect_caught();
    }
    SECTION("every validator lies: no tally is given out on their word") {
        client_rig r;
        for (const auto& n : r.w->nodes())
            lie(r, n.node_id, "poa_getResults", [](bj::value& v) { obj(v)["results"].as_object()["0"] = 1000; });
        r.w->finalize_votes(0, 9);
        auto t = r.c->get_election_results(1);
        REQUIRE_FALSE(t);
        CHECK(t.error().kind == errc::misbehaving);
    }
}

TEST_CASE("a validator's forged blocks do not reach the follower", "[client][lie][follower]") {
    liar_rig r("poa_getRawBlocks", [](bj::value& v) {
        auto& blocks = obj(v)["blocks"].as_array();
        blocks[0] = flip_hex(blocks[0].as_string(), blocks[0].as_string().size() - 100);
    });
    for (std::uint64_t b = 0; b < 3; ++b) r.w->finalize_votes(b * 10, 10);
    // Only the liar answers: nothing is applied.
    r.w->modes["validator-2"] = r.w->modes["validator-3"] = node_mode::down;
    auto none = r.c->sync_follower(std::nullopt);
    REQUIRE_FALSE(none);
    CHECK(none.error().kind == errc::misbehaving);
    CHECK(r.c->follower().height == 0);
    // With the others back, the follower gets the true chain.
    r.w->modes["validator-2"] = r.w->modes["validator-3"] = node_mode::honest;
    auto h = r.c->sync_follower(std::nullopt);
    REQUIRE(h);
    CHECK(*h == 3);
    CHECK(r.c->follower().head_hash == r.w->node.c.head_hash());
    CHECK(r.c->follower().tallies.at(1) == r.w->node.tally(1));
    r.expect_caught();
}

TEST_CASE("a misbehaving validator is asked last until its quarantine ends", "[client][lie]") {
    auto o = client_rig::fast();
    liar_rig r("poa_status", [](bj::value& v) { obj(v)["head_hash"] = "0x" + std::string(64, 'd'); });
    for (int k = 0; k < 3; ++k) REQUIRE(r.c->get_blockchain_state());
    r.expect_caught();
    r.w->calls.clear();
    for (int k = 0; k < 6; ++k) REQUIRE(r.c->get_blockchain_state());
    CHECK(r.w->count("validator-1", "poa_status") == 0);
    (void)o;
}
