// Check a validator set's health: the synchronous form of the client, for simple programs.
//
//   validator_health --rpc http://127.0.0.1:8001 --rpc http://127.0.0.1:8002 --rpc http://127.0.0.1:8003 --genesis genesis.json
//
// Probes every validator, then asks for the chain head and checks it against a
// certified block. Exit 0: a quorum of the genesis validators is healthy and the
// head is certified; 2: not; 1: usage.
#include "common.hpp"

#include <boost/asio/io_context.hpp>

using namespace ballotchain;

int main(int argc, char** argv) {
    const example::args a(argc, argv);
    if (a.all("--rpc").empty()) {
        std::fprintf(stderr, "usage: validator_health --rpc URL... --genesis FILE\n");
        return 1;
    }
    boost::asio::io_context io;  // only for asynchronous calls; the synchronous ones below run on their own
    client::verifying_client<ed25519_sha256> c(io.get_executor(), example::nodes_of(a), example::genesis_of(a));

    auto healthy = c.check_health();
    for (const auto& n : c.health())
        std::printf("%-28s %-12s height %llu %s\n", n.info.rpc_url.c_str(), client::to_string(n.status),
                    static_cast<unsigned long long>(n.height), n.detail.c_str());
    auto head = c.get_blockchain_state();
    if (head)
        std::printf("head %llu %s (certified)\n", static_cast<unsigned long long>(head->height), to_hex(head->head_hash).c_str());
    else
        std::printf("no certified head: %s\n", head.error().what().c_str());
    const bool quorum = healthy && *healthy >= c.genesis().quorum();
    std::printf("%zu of %zu healthy; quorum %zu: %s\n", healthy ? *healthy : 0, c.size(), c.genesis().quorum(),
                quorum ? "yes" : "no");
    return quorum && head ? 0 : 2;
}
