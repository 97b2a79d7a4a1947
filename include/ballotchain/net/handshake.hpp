#pragma once
/// @file P2P framing and the validator handshake.
///
/// Frames: u32 big-endian length, then that many bytes (bounded). The first
/// two frames each way are HELLO and AUTH; after that every frame is one
/// consensus envelope (consensus/messages.hpp).
///
/// HELLO = 0x20 ‖ u64 chain_id ‖ genesis hash ‖ u32 validator index ‖ public key ‖ 32-byte nonce
/// AUTH  = 0x21 ‖ Ed25519 signature by that validator's key over
///         SHA-256(0x21 ‖ genesis hash ‖ peer's nonce ‖ own nonce ‖ u32 own index)
/// A side is authenticated once its AUTH verifies against the genesis key of
/// the index it claimed, over the nonce *we* chose: a replayed AUTH never fits.

#include <ballotchain/chain/genesis.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/concepts.hpp>

#include <optional>

namespace ballotchain::net {

enum class errc {
    ok = 0,
    frame_too_large,  ///< a frame longer than the bound
    bad_hello,        ///< HELLO does not decode
    wrong_chain,      ///< another chain id or genesis
    unknown_key,      ///< the key is not the genesis validator of that index
    self_connection,  ///< a node connected to itself
    bad_auth,         ///< AUTH does not verify
    timeout,          ///< handshake or idle timeout
    closed,           ///< the peer closed the connection
};

inline const char* category_name(errc) noexcept { return "ballotchain.net"; }
inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::frame_too_large: return "frame exceeds the size limit";
    case errc::bad_hello: return "malformed handshake";
    case errc::wrong_chain: return "peer is on another chain";
    case errc::unknown_key: return "peer key is not a validator of this chain";
    case errc::self_connection: return "connection to self";
    case errc::bad_auth: return "peer failed to prove its validator key";
    case errc::timeout: return "timed out";
    case errc::closed: return "connection closed";
    }
    return "unknown net error";
}
inline error_code make_error_code(errc e) noexcept { return make_error(e); }

}  // namespace ballotchain::net

BALLOTCHAIN_ERROR_ENUM(ballotchain::net::errc)

namespace ballotchain::net {

inline constexpr std::uint8_t hello_tag = 0x20;
inline constexpr std::uint8_t auth_tag = 0x21;
inline constexpr std::size_t hello_size = 1 + 8 + 32 + 4 + 32 + 32;
inline constexpr std::size_t auth_size = 1 + 64;

struct hello {
    std::uint64_t chain_id = 0;
    hash32 genesis;
    std::uint32_t index = 0;
    public_key key;
    hash32 nonce;
    bool operator==(const hello&) const = default;
};

inline bytes encode(const hello& h) {
    bytes out;
    out.reserve(hello_size);
    wire::writer w(out);
    w.u8(hello_tag);
    w.u64(h.chain_id);
    w.fixed(h.genesis);
    w.u32(h.index);
    w.fixed(h.key);
    w.fixed(h.nonce);
    return out;
}

inline result<hello> decode_hello(byte_view in) {
    wire::reader r(in);
    hello h;
    std::uint8_t tag = 0;
    r.u8(tag);
    if (r.ok() && tag != hello_tag) return make_error(errc::bad_hello);
    r.u64(h.chain_id);
    r.fixed(h.genesis);
    r.u32(h.index);
    r.fixed(h.key);
    r.fixed(h.nonce);
    if (!r.finish()) return make_error(errc::bad_hello);
    return h;
}

/// Checks a peer's HELLO against our genesis; returns its validator index.
inline result<std::uint32_t> check_hello(const hello& peer, const genesis_config& g, const hash32& genesis_h,
                                         std::optional<std::uint32_t> self) {
    if (peer.chain_id != g.chain_id || peer.genesis != genesis_h) return make_error(errc::wrong_chain);
    if (peer.index >= g.n() || g.validators[peer.index].key != peer.key) return make_error(errc::unknown_key);
    if (self && peer.index == *self) return make_error(errc::self_connection);
    return peer.index;
}

/// The 32 bytes an AUTH signs.
template <hasher Hasher>
hash32 auth_digest(const hash32& genesis_h, const hash32& peer_nonce, const hash32& own_nonce, std::uint32_t own_index) {
    bytes m;
    wire::writer w(m);
    w.u8(auth_tag);
    w.fixed(genesis_h);
    w.fixed(peer_nonce);
    w.fixed(own_nonce);
    w.u32(own_index);
    return Hasher::hash(m);
}

template <hasher Hasher, signer Signer>
bytes make_auth(const typename Signer::key_pair& kp, const hash32& genesis_h, const hash32& peer_nonce,
                const hash32& own_nonce, std::uint32_t own_index) {
    bytes out{auth_tag};
    const signature s = Signer::sign(kp, auth_digest<Hasher>(genesis_h, peer_nonce, own_nonce, own_index).view());
    out.insert(out.end(), s.data.begin(), s.data.end());
    return out;
}

/// Verifies the peer's AUTH: signed by `peer.key` over our nonce and theirs.
template <hasher Hasher, signer Signer>
error_code check_auth(byte_view auth, const hello& peer, const hash32& genesis_h, const hash32& own_nonce) {
    if (auth.size() != auth_size || auth[0] != auth_tag) return make_error(errc::bad_auth);
    signature s;
    std::copy(auth.begin() + 1, auth.end(), s.data.begin());
    if (!Signer::verify(peer.key, auth_digest<Hasher>(genesis_h, own_nonce, peer.nonce, peer.index).view(), s))
        return make_error(errc::bad_auth);
    return {};
}

}  // namespace ballotchain::net
