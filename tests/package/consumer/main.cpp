#include <ballotchain/ledger/blockchain.hpp>
#include <ballotchain/core/hex.hpp>
#include <ballotchain/crypto/ed25519.hpp>
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/storage/memory_storage.hpp>

#include <cstdio>

int main() {
    using namespace ballotchain;
    const hash32 h = sha256::hash(bytes{'a', 'b', 'c'});
    if (to_hex(h) != "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") return 1;
    const auto kp = ed25519::from_secret(secret_key{});
    const auto sig = ed25519::sign(kp, h.view());
    if (!ed25519::verify(kp.public_key(), h.view(), sig)) return 2;
    genesis_config g;
    g.validators.push_back({"v1", kp.public_key()});
    auto c = ledger::blockchain<ed25519_sha256, memory_storage>::open(g, memory_storage{});
    if (!c || !c->verify().ok) return 3;
    std::puts("consumer ok");
    return 0;
}
