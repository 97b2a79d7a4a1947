#pragma once
// The fixed chain and clock that fuzz_bootnode_register checks registrations against, and that
// fuzz_make_corpus signs its seed registrations for (so the seeds reach the accepting path).
#include <ballotchain/app/bootnode_proto.hpp>

namespace ballotchain::fuzz_fixture {

inline constexpr std::uint64_t bootnode_chain_id = 1337;
inline constexpr std::uint64_t bootnode_wall_ms = 1'700'000'000'000ull;
inline constexpr std::uint64_t bootnode_now_ms = 5'000;
inline constexpr std::size_t bootnode_validators = 3;

/// Key i of the fixture (the same seeds as make_corpus.cpp's keys).
inline ed25519::key_pair bootnode_key(int i) {
    secret_key sk;
    sk.data[0] = static_cast<byte>(i + 1);
    return ed25519::from_secret(sk);
}

inline genesis_config bootnode_genesis() {
    genesis_config g;
    g.chain_id = bootnode_chain_id;
    for (std::size_t i = 0; i < bootnode_validators; ++i)
        g.validators.push_back({"validator-" + std::to_string(i + 1), bootnode_key(static_cast<int>(i)).public_key()});
    return g;
}

}  // namespace ballotchain::fuzz_fixture
