#include <backend/votes.hpp>

#include <backend/sqlite_store.hpp>

#include "../support/catch_result.hpp"
#include "../support/fixtures.hpp"
#include "../support/temp_dir.hpp"
#include "handler_checks.hpp"
#include "validators_rig.hpp"

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/core/clock.hpp>
#include <ballotchain/crypto/hmac.hpp>
#include <ballotchain/crypto/sha256.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

// The backend's votes (apps/backend/votes.hpp) without processes: a vote request
// read with its bounds, its transaction built and signed by vote_maker and
// checked by an independent chain from the same genesis, and the submit and
// status endpoints over a real store, the outbox and validators in memory over
// a real chain (a status says "confirmed" only from a verified receipt).

using namespace ballotchain;
using namespace ballotchain::backend;
using test::error_of;
using test::node_mode;
using test::text;

namespace {

const bytes tag_secret(32, 0x5a);

vote_maker maker_of(const test::test_network& net, const ed25519::key_pair& submitter) {
    return vote_maker(net.open_chain(), submitter, tag_secret);
}

bjson::object request(std::int64_t election, std::int64_t candidate, std::string encrypted_vote = "c2VjcmV0") {
    return {{"election_id", election}, {"candidate_id", candidate}, {"encrypted_vote", std::move(encrypted_vote)}};
}

}  // namespace

TEST_CASE("vote maker: a vote built from a request, signed when stored, passes the chain's rules", "[backend][votes]") {
    const test::test_network net;
    const auto maker = maker_of(net, net.submitter);
    const auto req = read_vote_request(request(3, 2), net.genesis.max_encrypted_vote_bytes);
    const std::uint64_t now = net.genesis.timestamp_ms + 5000;
    auto [tx, row] = maker.make(42, req, now);

    CHECK(tx.chain_id == net.genesis.chain_id);
    CHECK(tx.election_id == 3);
    CHECK(tx.candidate_id == 2);
    CHECK(tx.encrypted_vote == to_bytes("secret"));
    CHECK(tx.voter_tag == maker.voter_tag(3, 42));
    CHECK(tx.timestamp_ms == now);
    CHECK(tx.submitter == net.submitter.public_key());
    CHECK(maker.check(tx));  // every rule but the signature, which is made when it is stored

    // Its row, as the store takes it: 'pending', no id, the raw transaction that goes out.
    CHECK(row.id == 0);
    CHECK(row.user_id == 42);
    CHECK(row.election_id == 3);
    CHECK(row.candidate_id == 2);
    CHECK(row.status == vote_status::pending);
    CHECK(row.created_ms == now);
    CHECK(row.raw_tx == encode(tx));
    CHECK(row.ballot_hash == to_hex(sha256::hash(to_bytes("secret"))).substr(2));
    CHECK(row.ballot_hash.size() == 64);

    // Signed with two others stored at the same time: one signature, hashes unchanged.
    auto second = maker.make(43, req, now).row, third = maker.make(44, req, now).row;
    maker.sign_rows(std::vector<vote_row*>{&row, &second, &third});
    std::vector<vote_tx> signed_txs;
    for (const auto* r : {&row, &second, &third}) signed_txs.push_back(decode_tx(r->raw_tx).value());
    CHECK(signed_txs[0].auth.size == 3);
    CHECK(signed_txs[2].auth.index == 2);
    CHECK(signed_txs[0].auth.sig == signed_txs[2].auth.sig);

    // The validators' own rules, from the same genesis, take them as they are.
    auto chain = net.open_chain();
    const auto checked = chain.check_tx_stateless(signed_txs[0]);
    REQUIRE(checked);
    CHECK(*checked == row.tx_hash);
    CHECK(tx_hash<test::S>(signed_txs[1]) == second.tx_hash);
    auto fb = net.next_block(chain, signed_txs);
    REQUIRE(chain.append(fb));
    CHECK(chain.tally(3).at(2) == 3);
}

TEST_CASE("vote maker: the voter tag is HMAC-SHA256 of (election, user) under the secret", "[backend][votes]") {
    const test::test_network net;
    const auto maker = maker_of(net, net.submitter);
    // Written out here so that a change of the tag (which would let a voter vote twice
    // across an upgrade) fails this test.
    bytes m = to_bytes("ballotchain/backend-voter");
    for (const byte b : {0, 0, 0, 0, 0, 0, 0, 7}) m.push_back(b);             // election 7, big-endian
    for (const byte b : {0, 0, 0, 0, 0, 0, 0x01, 0x02}) m.push_back(b);       // user 258
    CHECK(maker.voter_tag(7, 258) == hmac_sha256::mac(tag_secret, m));

    CHECK(maker.voter_tag(7, 258) == maker_of(net, net.submitter).voter_tag(7, 258));  // stable
    CHECK(maker.voter_tag(7, 258) != maker.voter_tag(8, 258));
    CHECK(maker.voter_tag(7, 258) != maker.voter_tag(7, 259));
    const vote_maker other_secret(net.open_chain(), net.submitter, bytes(32, 0x5b));
    CHECK(maker.voter_tag(7, 258) != other_secret.voter_tag(7, 258));
}

TEST_CASE("vote maker: the rules refuse a vote of an unauthorized submitter or a changed vote", "[backend][votes]") {
    const test::test_network net;
    const auto req = read_vote_request(request(1, 1), net.genesis.max_encrypted_vote_bytes);
    const auto stranger = maker_of(net, test::key(7));  // a key the genesis does not list as submitter
    const auto [tx, row] = stranger.make(1, req, 1);
    const auto refused = stranger.check(tx);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == chain::errc::unauthorized_submitter);

    const auto maker = maker_of(net, net.submitter);
    auto mine = maker.make(1, req, 1).row;
    maker.sign_rows(std::vector<vote_row*>{&mine});
    auto changed = decode_tx(mine.raw_tx).value();
    changed.candidate_id = 2;  // after signing
    const auto bad_sig = net.open_chain().check_tx_stateless(changed);
    REQUIRE_FALSE(bad_sig);
    CHECK(bad_sig.error() == chain::errc::invalid_signature);
}

TEST_CASE("read_vote_request: ids, padded base64 and the chain's size bound", "[backend][votes]") {
    const auto r = read_vote_request(request(3, 4, "Zm9v"), 16);
    CHECK(r.election_id == 3);
    CHECK(r.candidate_id == 4);
    CHECK(r.encrypted_vote == to_bytes("foo"));
    CHECK(read_vote_request({{"election_id", 1}, {"candidate_id", 1}}, 16).encrypted_vote.empty());

    auto refused = [](const bjson::object& b, std::size_t max) { return error_of([&] { read_vote_request(b, max); }); };
    const auto no_election = refused({{"candidate_id", 1}}, 16);
    CHECK(no_election.status == http::status::unprocessable_entity);
    CHECK(no_election.detail == "election_id is required");
    CHECK(refused(request(1, 0), 16).detail == "candidate_id must be a positive integer");
    CHECK(refused(request(-1, 1), 16).detail == "election_id must be a positive integer");
    CHECK(refused(request(1, 1, "YQ"), 16).detail == "encrypted_vote must be padded base64");
    CHECK(refused(request(1, 1, "***="), 16).detail == "encrypted_vote must be padded base64");
    // At most 4 bytes: 8 base64 characters pass the length check, but 6 bytes do not decode within it.
    CHECK(read_vote_request(request(1, 1, "AAAAAA=="), 4).encrypted_vote == bytes(4, 0));
    CHECK(refused(request(1, 1, "AAAAAAAA"), 4).detail == "encrypted_vote must be padded base64");
    const auto large = refused(request(1, 1, "AAAAAAAAAAAA"), 4);
    CHECK(large.status == http::status::unprocessable_entity);
    CHECK(large.detail ==
          "encrypted_vote is too large: at most 4 bytes (the chain's max_encrypted_vote_bytes), 8 base64 characters");
}

namespace {

using votes_type = votes<test::chain_transport, manual_clock>;
using outbox_type = outbox<test::chain_transport, manual_clock>;

/// The vote endpoints over a real store and fallback chain in a temp dir and
/// three validators in memory; one voter, an open election with two
/// candidates, a closed one and another open one.
struct votes_rig : test::validators_rig {
    std::unique_ptr<sqlite_store> db = sqlite_store::open(dir.file("backend.db")).value();
    fallback_ledger fallback{dir.file("fallback"), net.genesis, net.submitter.public_key(), clock.wall_ms()};
    group_commit commit{*db};
    outbox_type box{*db, *client, fallback, clock, {1000, 15'000, 512}};
    elections<manual_clock> el{*db, clock};
    vote_maker maker;
    votes_type vs{*db, el, commit, box, maker, clock};
    user_row voter;
    std::int64_t open = 0, closed = 0, other = 0;
    std::int64_t cand_a = 0, cand_b = 0, cand_closed = 0, cand_other = 0;

    explicit votes_rig(const ed25519::key_pair* submitter = nullptr)
        : validators_rig("ballotchain-votes"), maker(maker_of(net, submitter ? *submitter : net.submitter)) {
        voter = {0, "voter@example.org", "Voter", bytes(16, 1), bytes(32, 2), false};
        voter.id = db->add_user(voter, clock.wall_ms()).value().value();
        open = add_election("open", 0, ~0ull >> 2, cand_a, &cand_b);
        closed = add_election("closed", 0, 1, cand_closed);
        other = add_election("other", 0, ~0ull >> 2, cand_other);
    }

    std::int64_t add_election(const std::string& name, std::uint64_t start, std::uint64_t end, std::int64_t& first,
                              std::int64_t* second = nullptr) {
        const auto e = db->add_election(plain_election(name, start, end), {candidate_row{0, 0, "a", ""}, candidate_row{0, 0, "b", ""}})
                           .value()
                           .value();
        const auto cs = db->candidates(e).value();
        first = cs.at(0).id;
        if (second) *second = cs.at(1).id;
        return e;
    }

    /// POST /api/votes/submit: the status and the JSON answer.
    std::pair<unsigned, bjson::object> submit(const bjson::object& body) {
        const auto res = vs.submit(voter, body, 11);
        return {res.result_int(), bjson::parse(res.body()).as_object()};
    }

    std::size_t stored_votes() { return db->open_votes(100).value().size(); }
};

}  // namespace

TEST_CASE("votes: a vote is checked, stored and sent once; the second is refused", "[backend][votes]") {
    votes_rig r;
    const auto [st, out] = r.submit(request(r.open, r.cand_b));
    CHECK(st == 200);
    CHECK(out.at("status") == "submitted");
    CHECK(out.at("validator") == "validator-1");
    CHECK(text(out.at("timestamp")) == app::iso_time(r.clock.wall_ms()));
    CHECK_FALSE(out.contains("previous_attempt"));
    CHECK(r.w->count("poa_sendRawTransactions") == 1);

    const std::string txid(out.at("transaction_id").as_string());
    const auto stored = r.db->vote_by_user(r.voter.id, r.open).value();
    REQUIRE(stored);
    CHECK(to_hex(stored->tx_hash) == txid);
    CHECK(stored->status == vote_status::submitted);
    CHECK(stored->candidate_id == r.cand_b);
    CHECK(out.at("id") == stored->id);
    CHECK(r.w->node.pool.contains(stored->tx_hash));  // the validators hold the very transaction stored

    const auto status = r.vs.transaction_status("transaction_id=" + txid);
    CHECK(status.at("status") == "submitted");
    CHECK(status.at("confirmed") == false);
    CHECK(status.at("election_id") == r.open);
    CHECK(status.at("source") == "poa_validators");

    const auto again = error_of([&] { r.submit(request(r.open, r.cand_a)); });
    CHECK(again.status == http::status::conflict);
    CHECK(again.detail == "you have already voted in this election (transaction " + txid + ", submitted)");
    CHECK(r.w->count("poa_sendRawTransactions") == 1);
}

TEST_CASE("votes: nothing is stored or sent for a vote that fails a check", "[backend][votes]") {
    votes_rig r;
    CHECK(error_of([&] { r.submit(request(999, r.cand_a)); }).status == http::status::not_found);
    const auto closed = error_of([&] { r.submit(request(r.closed, r.cand_a)); });
    CHECK(closed.status == http::status::bad_request);
    CHECK(closed.detail == "the election is not open");
    const auto foreign = error_of([&] { r.submit(request(r.open, r.cand_other)); });
    CHECK(foreign.status == http::status::unprocessable_entity);
    CHECK(foreign.detail == "candidate_id is not a candidate of this election");
    CHECK(error_of([&] { r.submit(request(r.open, r.cand_a, "YQ")); }).status == http::status::unprocessable_entity);
    CHECK(r.stored_votes() == 0);
    CHECK(r.w->calls.empty());
}

TEST_CASE("votes: a vote the chain's rules refuse is not stored (our configuration is wrong)", "[backend][votes]") {
    const auto stranger = test::key(7);
    votes_rig r(&stranger);
    const auto e = error_of([&] { r.submit(request(r.open, r.cand_a)); });
    CHECK(e.status == http::status::internal_server_error);
    CHECK(e.detail == "the backend cannot make a valid transaction: unauthorized submitter");
    CHECK(r.stored_votes() == 0);
    CHECK_FALSE(r.db->vote_by_user(r.voter.id, r.open).value());
    CHECK(r.w->calls.empty());
}

TEST_CASE("votes: a submitter key a validator-set change added takes votes once the client learned the change",
          "[backend][votes][validator_set]") {
    const auto added = test::key(7);
    votes_rig r(&added);
    validator_change c;  // from height 3, key 7 is a submitter too
    c.sequence = 1;
    c.effective_height = 3;
    c.add_submitters = {added.public_key()};
    r.w->finalize({r.w->net.validator_change(c, {0, 1}, 0)});
    r.w->finalize({});
    // as the service wires it: the client's learned sets, and learning the changes it lacks
    r.maker.use_submitter_sets({[&] { return r.client->validators(); }, [&] { (void)r.client->update_validators(); },
                                std::chrono::milliseconds(0)});
    const auto [st, out] = r.submit(request(r.open, r.cand_a));
    CHECK(st == 200);
    CHECK(r.client->validators().changes() == 1);
    CHECK(r.w->count("poa_getValidatorChanges") >= 1);
    CHECK(r.stored_votes() == 1);
}

TEST_CASE("votes: a refused vote frees the voter's place and the next vote says so", "[backend][votes]") {
    votes_rig r;
    // The validators run with another chain id than this backend's genesis.
    r.w->refuse_everywhere("eth_sendRawTransaction", rpc::tx_code::wrong_chain, "wrong chain id");
    r.w->refuse_everywhere("poa_sendRawTransactions", rpc::tx_code::wrong_chain, "wrong chain id");
    const auto [st, out] = r.submit(request(r.open, r.cand_a));
    CHECK(st == 503);
    CHECK(out.at("status") == "rejected");
    const std::string refused_tx(out.at("transaction_id").as_string());

    r.w->refusals.clear();
    r.clock.advance(1);  // another timestamp: another transaction
    const auto [st2, out2] = r.submit(request(r.open, r.cand_a));
    CHECK(st2 == 200);
    REQUIRE(out2.contains("previous_attempt"));
    const auto& prev = out2.at("previous_attempt").as_object();
    CHECK(text(prev.at("transaction_id")) == refused_tx);
    CHECK(prev.at("status") == "rejected");
    CHECK_THAT(text(prev.at("detail")), Catch::Matches(R"(wrong chain id \(validator-[123], JSON-RPC error -32007\))"));

    const auto status = r.vs.transaction_status("transaction_id=" + refused_tx + "&election_id=" + std::to_string(r.open));
    CHECK(status.at("status") == "rejected");
    CHECK(status.at("detail") == prev.at("detail"));
}

TEST_CASE("votes: transaction-status says confirmed from a verified receipt only", "[backend][votes][lie]") {
    votes_rig r;
    const auto [st, out] = r.submit(request(r.open, r.cand_a));
    REQUIRE(st == 200);
    const std::string txid(out.at("transaction_id").as_string());
    const auto row = r.db->vote_by_user(r.voter.id, r.open).value().value();
    const vote_tx tx = decode_tx(row.raw_tx).value();

    // Every validator forges a receipt for it: nothing is believed, nothing is written.
    for (const auto& n : r.w->nodes()) r.lie_about_receipt(n.node_id, tx);
    for (int k = 0; k < 3; ++k) {
        const auto s = r.vs.transaction_status("transaction_id=" + txid);
        CHECK(s.at("status") == "submitted");
        CHECK(s.at("confirmed") == false);
        CHECK(s.at("block_number").is_null());
    }
    CHECK(r.db->vote_by_tx(row.tx_hash).value()->status == vote_status::submitted);
    CHECK(r.client->count(client::node_status::misbehaving) == 3);
    // Of a transaction not ours, a forged receipt is no answer either.
    const auto stranger = r.net.vote(77, static_cast<std::uint64_t>(r.open), static_cast<std::uint64_t>(r.cand_a));
    for (const auto& n : r.w->nodes()) r.lie_about_receipt(n.node_id, stranger);
    const auto unknown = error_of([&] { r.vs.transaction_status("transaction_id=" + to_hex(tx_hash<test::S>(stranger))); });
    CHECK(unknown.status == http::status::not_found);

    // Final for real: the receipt verifies and the vote is confirmed on the spot.
    const auto height = r.make_final(row.raw_tx);
    const auto s = r.vs.transaction_status("transaction_id=" + txid + "&election_id=" + std::to_string(r.open));
    CHECK(s.at("status") == "confirmed");
    CHECK(s.at("confirmed") == true);
    CHECK(s.at("block_number") == height);
    CHECK(text(s.at("block_hash")) == to_hex(r.w->node.c.hash_at(height).value()));
    CHECK(r.db->vote_by_tx(row.tx_hash).value()->status == vote_status::confirmed);

    // A final transaction not ours: what the validators prove of it.
    r.w->finalize({stranger});
    const auto theirs = r.vs.transaction_status("transaction_id=" + to_hex(tx_hash<test::S>(stranger)));
    CHECK(theirs.at("status") == "confirmed");
    CHECK(theirs.at("block_number") == height + 1);
    CHECK(theirs.at("source") == "poa_validators");

    r.w->all(node_mode::down);
    const auto down = error_of([&] { r.vs.transaction_status("transaction_id=0x" + std::string(64, '1')); });
    CHECK(down.status == http::status::service_unavailable);
}
