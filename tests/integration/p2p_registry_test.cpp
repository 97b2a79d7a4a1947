// The P2P link with a validator set that grows (docs/protocol.md §11): --peers may name a
// validator that a validator-set change will add, by an index beyond the genesis.
#include "network.hpp"
#include "voter.hpp"

#include <catch2/catch.hpp>

using namespace ballotchain;
using namespace ballotchain::itest;

TEST_CASE("--peers may name validators a change will add (INDEX up to 1024); the network forms as before",
          "[integration][p2p]") {
    network net(3, network_options{false, false, 200, true, false});
    // validator 1 is also told where validators 4 and 1024 will listen: kept, not dialled while unknown
    net.set_extra_args(0, {"--peers", "4@127.0.0.1:" + std::to_string(free_port()), "1024@127.0.0.1:1"});
    for (int i = 0; i < 3; ++i) net.start(i);
    wait_connected(net);
    CHECK(net.running(0));
    voter_client vc(net.dir() / "submitter.key");
    auto h = vc.send(net.rpc(0), vc.make(1));
    REQUIRE(h);
    check_all_final(net, 3, {*h});

    // an index beyond the registry's bound is refused at start, naming the range
    auto [rc, out] = run({bin_dir + "/ballotchain-validator", "--config", (net.vdir(0) / "config.toml").string(),
                          "--rpc-addr", "127.0.0.1:" + std::to_string(free_port()), "--p2p-addr",
                          "127.0.0.1:" + std::to_string(free_port()), "--peers", "1025@127.0.0.1:1"},
                         net.dir() / "refused.log");
    CHECK(rc != 0);
    CHECK(out.find("1..1024") != std::string::npos);
}
