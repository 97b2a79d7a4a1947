// Fuzz target: where the P2P network enters a validator.
//  1. An attacker's bytes, cut into messages the way the session reads them (u16
//     length ‖ bytes), fed to a responder handshake: it must never complete (the
//     attacker holds no validator key) and must refuse any size but the expected one.
//  2. Frames sealed into records by a real session, with the attacker choosing the
//     frame sizes, the receiver's bound and one bit to flip on the wire: every frame
//     delivered is exactly one that was sent, in order, and a flipped bit or a frame
//     over the bound always ends the session.
#include <ballotchain/crypto/ed25519_sha256.hpp>
#include <ballotchain/net/record.hpp>

#include <cstdlib>

namespace {
using namespace ballotchain;

/// Reads the fuzzer input as a sequence of small integers and byte strings.
struct input {
    const std::uint8_t* p;
    std::size_t n;
    std::size_t u16() {
        std::size_t v = 0;
        for (int i = 0; i < 2 && n; ++i, ++p, --n) v = (v << 8) | *p;
        return v;
    }
    bytes take(std::size_t k) {
        k = std::min(k, n);
        bytes b(p, p + k);
        p += k;
        n -= k;
        return b;
    }
};

ed25519::key_pair key(int i) {
    secret_key sk;
    sk.data[0] = static_cast<byte>(i + 1);
    sk.data[31] = 0x5a;
    return ed25519::from_secret(sk);
}

struct fixture {
    genesis_config g;
    net::handshake_context c0, c1;
    noise::cipher_state send, recv;  ///< 0 → 1 after a real handshake
    fixture() {
        g.chain_id = 1337;
        for (int i = 0; i < 3; ++i) g.validators.push_back({"v", key(i).public_key()});
        g.submitters.push_back(key(9).public_key());
        c0 = net::handshake_context::make<ed25519_sha256>(g, key(0), 0).value();
        c1 = net::handshake_context::make<ed25519_sha256>(g, key(1), 1).value();
        auto i = net::handshake::initiator(c0, 1);
        auto r = net::handshake::responder(c1);
        auto m2 = r.on_message(i.start().value()).value();
        if (!r.on_message(i.on_message(m2).value())) std::abort();
        send = i.ciphers().first;
        recv = r.ciphers().second;
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fixture f;
    input in{data, size};

    // 1. the responder side of a handshake, fed by the attacker
    const std::size_t messages = in.u16() % 4;
    auto r = net::handshake::responder(f.c1);
    for (std::size_t k = 0; k < messages; ++k) {
        const bytes m = in.take(in.u16() % 200);
        const bool right_size = m.size() == r.expected_size();
        auto res = r.on_message(m);
        if (res && !right_size) std::abort();
        if (r.done()) std::abort();  // nobody without a validator key gets in
        if (!res) break;
    }

    // 2. frames through the record layer
    net::frame_sealer seal(f.send);
    const std::size_t bound = 1 + in.u16() * 8;
    net::frame_opener open(f.recv, bound);
    std::vector<bytes> sent;
    bytes wire;
    const std::size_t frames = 1 + in.u16() % 6;
    for (std::size_t k = 0; k < frames; ++k) {
        bytes fr = in.take(in.u16() % 512);
        fr.resize(std::max<std::size_t>(1, in.u16() * 3 + fr.size()), static_cast<byte>(k));  // up to ~197 KB
        if (!seal.seal(fr, wire)) std::abort();
        sent.push_back(std::move(fr));
    }
    const std::size_t flip = in.u16() * 4;
    const bool flipped = flip < wire.size();
    if (flipped) wire[flip] ^= static_cast<byte>(1u << (flip % 8));
    std::vector<bytes> got;
    bool failed = false;
    for (std::size_t at = 0; at + 2 <= wire.size();) {
        const std::size_t len = (std::size_t{wire[at]} << 8) | wire[at + 1];
        if (!net::frame_opener::valid_record_size(len) || at + 2 + len > wire.size()) {
            failed = true;  // the session would close on this length
            break;
        }
        if (open.open(byte_view(wire).subspan(at + 2, len), got)) {
            failed = true;
            break;
        }
        at += 2 + len;
    }
    if (got.size() > sent.size()) std::abort();
    for (std::size_t k = 0; k < got.size(); ++k)
        if (got[k] != sent[k] || got[k].size() > bound) std::abort();
    bool over = false;
    for (auto& s : sent) over = over || s.size() > bound;
    if (!flipped && !over && (failed || got.size() != sent.size())) std::abort();
    if ((flipped || over) && !failed) std::abort();
    return 0;
}
