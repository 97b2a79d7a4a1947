// Submit a vote and await its verified confirmation, with C++20 coroutines.
//
//   submit_and_confirm --rpc http://127.0.0.1:8001 --rpc http://127.0.0.1:8002
//       --genesis genesis.json --key submitter.key --election 1 --candidate 2 --voter alice
//
// Prints the transaction hash, then the block that holds the vote once the
// client has checked the block header's hash, the commit certificate (a quorum
// of seals from the genesis validators) and the Merkle proof of the vote.
// Exit 0: final; 1: refused, dropped or not final within --timeout-s.
#include "common.hpp"

#include <ballotchain/crypto/key_file.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace ballotchain;
namespace asio = boost::asio;

asio::awaitable<int> vote(client::verifying_client<ed25519_sha256>& c, vote_tx tx, std::chrono::seconds timeout) {
    auto sent = co_await c.async_submit_vote(tx, asio::use_awaitable);
    if (!sent) {
        std::printf("refused: %s\n", sent.error().what().c_str());
        co_return 1;
    }
    std::printf("submitted %s\n", to_hex(*sent).c_str());
    auto conf = co_await c.async_wait_for_confirmation(*sent, timeout, asio::use_awaitable);
    if (!conf) {
        std::printf("not confirmed: %s\n", conf.error().what().c_str());
        co_return 1;
    }
    if (conf->state == client::tx_state::dropped) {
        std::printf("dropped: another vote of this voter is final (%s)\n", to_hex(*conf->conflicting_tx).c_str());
        co_return 1;
    }
    const auto& r = *conf->proof;
    std::printf("final in block %llu %s at index %u; certificate signed by", static_cast<unsigned long long>(r.block_number),
                to_hex(r.block_hash).c_str(), r.index);
    for (auto v : r.signers()) std::printf(" %s", c.genesis().validators[v].name.c_str());
    std::printf(" (verified)\n");
    co_return 0;
}

int main(int argc, char** argv) {
    const example::args a(argc, argv);
    auto kp = load_key_file(a.get("--key"));
    if (!kp || a.all("--rpc").empty()) {
        std::fprintf(stderr, "usage: submit_and_confirm --rpc URL... --genesis FILE --key FILE --election N --candidate N --voter ID\n");
        return 1;
    }
    asio::io_context io;
    client::verifying_client<ed25519_sha256> c(io.get_executor(), example::nodes_of(a), example::genesis_of(a));

    vote_tx tx;
    tx.chain_id = c.genesis().chain_id;
    tx.election_id = a.number("--election", 1);
    tx.candidate_id = a.number("--candidate", 0);
    tx.voter_tag = sha256::hash(byte_view(reinterpret_cast<const byte*>(a.get("--voter").data()), a.get("--voter").size()));
    tx.timestamp_ms = steady_clock_adapter{}.wall_ms();
    sign_tx<ed25519_sha256>(tx, *kp);

    int rc = 1;
    asio::co_spawn(io, vote(c, tx, std::chrono::seconds(a.number("--timeout-s", 60))), [&](std::exception_ptr e, int r) {
        rc = e ? 1 : r;
    });
    io.run();
    return rc;
}
