#pragma once
/// @file The verifying client's unit-test rig: a client over validators in
/// memory that serve one real chain (../support/chain_world.hpp: a node can go
/// down, hang, refuse, or lie per method); Catch2 prints the client's results
/// (../support/catch_client.hpp).

#include "../support/catch_client.hpp"
#include "../support/chain_world.hpp"
#include "../support/fixtures.hpp"

#include <ballotchain/client/client.hpp>

#include <boost/asio.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>

namespace ballotchain::test {

/// A client over a chain_world, on its own io_context; small waits so tests run fast.
struct client_rig {
    using client_type = client::basic_client<chain_transport, steady_clock_adapter, ed25519_sha256>;

    std::shared_ptr<chain_world> w = std::make_shared<chain_world>();
    boost::asio::io_context io;
    std::unique_ptr<client_type> c;

    explicit client_rig(client::client_options o = fast()) {
        c = std::make_unique<client_type>(io.get_executor(), w->nodes(), w->net.genesis, chain_transport{w},
                                          steady_clock_adapter{}, std::move(o));
    }

    static client::client_options fast() {
        client::client_options o;
        o.attempt_timeout = std::chrono::milliseconds(200);
        o.deadline = std::chrono::milliseconds(5'000);
        o.backoff_base = std::chrono::milliseconds(1);
        o.backoff_max = std::chrono::milliseconds(4);
        o.poll_min = std::chrono::milliseconds(1);
        o.poll_max = std::chrono::milliseconds(4);
        o.long_poll = std::chrono::milliseconds(500);
        return o;
    }

    /// Runs `op` (an awaitable) to completion on the rig's io_context.
    template <class T>
    T run(boost::asio::awaitable<T> op) {
        std::optional<T> out;
        boost::asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T v) {
            if (e) std::rethrow_exception(e);
            out = std::move(v);
        });
        io.restart();
        io.run();
        return std::move(*out);
    }

    client::node_status status_of(const std::string& node) const {
        for (const auto& n : c->health())
            if (n.info.node_id == node) return n.status;
        return client::node_status::unreachable;
    }
};

}  // namespace ballotchain::test
