#pragma once
/// @file Waiting on a condition in unit tests that run real sockets and threads:
/// polls `pred` every 20 ms until it holds or `timeout` passes (generous: the
/// machine may be loaded). A condition, never a sleep of a guessed length.

#include <chrono>
#include <thread>

namespace ballotchain::test {

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

}  // namespace ballotchain::test
