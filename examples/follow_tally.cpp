// Follow an election's tally live, from blocks the client verifies itself.
//
//   follow_tally --rpc http://127.0.0.1:8001 --genesis genesis.json --election 1 [--until-votes N] [--state follower.json]
//
// The client's light follower applies every final block after checking it
// (header hash, commit certificate, transaction root, link to its parent) and
// counts the votes; no validator's word is taken for the tally. With --state
// it resumes from where it stopped. Completion handlers (callbacks) here.
// Exit 0 once --until-votes votes are counted (or on Ctrl-C); 1 on failure.
#include "common.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

using namespace ballotchain;
namespace asio = boost::asio;

int main(int argc, char** argv) {
    const example::args a(argc, argv);
    if (a.all("--rpc").empty()) {
        std::fprintf(stderr, "usage: follow_tally --rpc URL... --genesis FILE --election N [--until-votes N] [--state FILE]\n");
        return 1;
    }
    const std::uint64_t election = a.number("--election", 1);
    const std::uint64_t until = a.number("--until-votes", 0);
    client::client_options o;
    o.follower_state = a.get("--state");
    asio::io_context io;
    client::verifying_client<ed25519_sha256> c(io.get_executor(), example::nodes_of(a), example::genesis_of(a), {}, {}, o);

    asio::cancellation_signal stop;
    tally_map tally = c.follower().tallies[election];
    c.on_block([&](const client::verified_block& b) {
        for (const auto& tx : b.fb.blk.txs)
            if (tx.election_id == election) ++tally[tx.candidate_id];
        std::uint64_t total = 0;
        std::printf("block %llu:", static_cast<unsigned long long>(b.fb.blk.header.height));
        for (auto [cand, n] : tally) {
            std::printf(" candidate %llu = %llu", static_cast<unsigned long long>(cand), static_cast<unsigned long long>(n));
            total += n;
        }
        std::printf(" (total %llu)\n", static_cast<unsigned long long>(total));
        std::fflush(stdout);
        if (until && total >= until) stop.emit(asio::cancellation_type::terminal);
    });

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec) stop.emit(asio::cancellation_type::terminal);
    });
    int rc = 1;
    c.async_follow(asio::bind_cancellation_slot(stop.slot(), [&](client::call_result<std::uint64_t> r) {
        signals.cancel();
        if (r || r.error().kind == client::errc::cancelled) rc = 0;
        else std::fprintf(stderr, "follow: %s\n", r.error().what().c_str());
    }));
    io.run();
    return rc;
}
