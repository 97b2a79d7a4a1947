#pragma once
/// @file The validator handshake: Noise XX (crypto/noise.hpp) with the validators'
/// genesis keys as static keys, as a pure state machine (no I/O).
///
/// Every message on a P2P connection is `u16 length (big-endian) ‖ bytes`. The
/// three handshake messages have fixed sizes, so before a peer is authenticated
/// nothing larger than 100 bytes is ever read or allocated.
///
///     prologue  = "ballotchain/p2p/1" ‖ u64 chain_id ‖ genesis hash
///     message 1 (initiator → responder, 77 bytes)  e ‖ payload
///               payload = u8 version (1) ‖ u64 chain_id ‖ genesis hash ‖ u32 index it dialled
///     message 2 (responder → initiator, 100 bytes) e, ee, s, es ‖ enc(u32 responder index)
///     message 3 (initiator → responder, 68 bytes)  s, se ‖ enc(u32 initiator index)
///
/// The payload of message 1 is readable (there is no key yet) but it is hashed
/// into the transcript, so changing it makes message 2 fail. A responder that
/// refuses message 1 (another chain, or it is not the validator that was dialled)
/// answers with one *refusal* message of 1 byte (a reason code) and closes; the
/// refusal is unauthenticated and only ever logged.
///
/// Either side is authenticated when the static key it sent is the X25519 form
/// (the suite's `link_public`) of the genesis key of the index it claims: the responder's after message 2 (for
/// the index that was dialled), the initiator's after message 3. Noise binds both
/// static keys, both ephemeral keys and the roles into the session keys, so a
/// relay that passes messages between two validators learns nothing it can use,
/// and a replayed message 3 never fits a fresh responder ephemeral.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/genesis.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/noise.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ballotchain::net {

enum class errc {
    ok = 0,
    frame_too_large,       ///< a frame longer than the bound
    bad_handshake,         ///< a handshake message of the wrong size, or it failed authentication
    wrong_chain,           ///< another chain id or genesis
    unknown_key,           ///< the static key is not the genesis key of the claimed index
    self_connection,       ///< a node connected to itself
    wrong_peer,            ///< the validator that answered is not the one dialled (a stale address)
    bad_record,            ///< after the handshake: a record failed authentication or was malformed
    timeout,               ///< handshake or idle timeout
    closed,                ///< the peer closed the connection
    too_many_connections,  ///< over the cap of connections not yet authenticated
    refused,               ///< the peer refused our handshake (its reason is logged)
};

inline const char* category_name(errc) noexcept { return "ballotchain.net"; }
inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::frame_too_large: return "frame exceeds the size limit";
    case errc::bad_handshake: return "handshake failed (malformed, or the peer could not prove its key)";
    case errc::wrong_chain: return "peer is on another chain";
    case errc::unknown_key: return "peer key is not the genesis key of the validator it claims to be";
    case errc::self_connection: return "connection to self";
    case errc::wrong_peer: return "the validator at that address is not the one dialled";
    case errc::bad_record: return "encrypted record failed authentication";
    case errc::timeout: return "timed out";
    case errc::closed: return "connection closed";
    case errc::too_many_connections: return "too many unauthenticated connections";
    case errc::refused: return "peer refused the handshake";
    }
    return "unknown net error";
}
inline error_code make_error_code(errc e) noexcept { return make_error(e); }

}  // namespace ballotchain::net

BALLOTCHAIN_ERROR_ENUM(ballotchain::net::errc)

namespace ballotchain::net {

inline constexpr std::uint8_t p2p_version = 1;
inline constexpr std::string_view prologue_label = "ballotchain/p2p/1";
inline constexpr std::size_t hello_payload_size = 1 + 8 + 32 + 4;
inline constexpr std::size_t index_payload_size = 4;
/// Sizes of handshake messages 1, 2 and 3.
inline constexpr std::size_t handshake_message_size[3] = {
    noise::handshake_xx::overhead(0) + hello_payload_size,
    noise::handshake_xx::overhead(1) + index_payload_size,
    noise::handshake_xx::overhead(2) + index_payload_size,
};
/// Largest handshake message: the bound on reads before authentication.
inline constexpr std::size_t max_handshake_message = 100;
static_assert(handshake_message_size[0] <= max_handshake_message && handshake_message_size[1] <= max_handshake_message &&
              handshake_message_size[2] <= max_handshake_message);
/// A refusal message: one byte, the reason.
inline constexpr std::size_t refusal_size = 1;
enum class refusal : std::uint8_t { wrong_chain = 1, wrong_peer = 2, busy = 3, bad_handshake = 4 };

inline std::string describe(refusal r) {
    switch (r) {
    case refusal::wrong_chain: return "it is on another chain";
    case refusal::wrong_peer: return "it is not the validator we dialled";
    case refusal::busy: return "it has too many unauthenticated connections";
    case refusal::bad_handshake: return "our handshake message was malformed";
    }
    return "unknown reason";
}

inline bytes p2p_prologue(std::uint64_t chain_id, const hash32& genesis_h) {
    bytes p(prologue_label.begin(), prologue_label.end());
    wire::writer w(p);
    w.u64(chain_id);
    w.fixed(genesis_h);
    return p;
}

/// What both sides of every handshake share: the chain, its validators' static
/// keys (X25519 forms of the genesis keys, by index) and our own key.
struct handshake_context {
    std::uint64_t chain_id = 0;
    hash32 genesis_hash;
    std::vector<noise::key32> validator_keys;
    std::uint32_t self = 0;
    noise::keypair static_key;

    /// From the genesis and our key, through the suite's link keys (`S::link_secret`,
    /// `S::link_public`). Fails when a genesis key has no link form (check_genesis
    /// already refuses small-order keys) or `kp` is not validator `self`.
    template <secure_suite Suite>
    static result<handshake_context> make(const genesis_config& g, const typename Suite::key_pair& kp,
                                          std::uint32_t self) {
        if (self >= g.n() || g.validators[self].key != kp.public_key()) return make_error(errc::unknown_key);
        handshake_context c;
        c.chain_id = g.chain_id;
        c.genesis_hash = ballotchain::genesis_hash<Suite>(g);
        c.self = self;
        c.static_key = noise::keypair_from_secret(Suite::link_secret(kp));
        for (const auto& v : g.validators) {
            auto x = Suite::link_public(v.key);
            if (!x) return make_error(errc::unknown_key);
            c.validator_keys.push_back(*x);
        }
        return c;
    }
};

/// One handshake, either role. Feed it the peer's messages; it says what to send
/// and, at the end, who the peer is and the transport ciphers.
class handshake {
public:
    /// We dial validator `to`.
    static handshake initiator(const handshake_context& c, std::uint32_t to) { return handshake(c, true, to); }
    /// Someone dialled us.
    static handshake responder(const handshake_context& c) { return handshake(c, false, 0); }
    /// The handshake keeps a reference to its context: a temporary would dangle.
    static handshake initiator(const handshake_context&&, std::uint32_t) = delete;
    static handshake responder(const handshake_context&&) = delete;

    bool is_initiator() const noexcept { return hs_.initiator(); }
    bool done() const noexcept { return hs_.done(); }

    /// The size the peer's next message must have (0 when it is our turn or done).
    /// An initiator waiting for message 2 also accepts a refusal (`refusal_size`).
    std::size_t expected_size() const noexcept {
        if (hs_.done() || hs_.my_turn()) return 0;
        return handshake_message_size[hs_.step()];
    }

    /// The initiator's message 1. @pre is_initiator(), called once, first.
    result<bytes> start() {
        bytes payload;
        wire::writer w(payload);
        w.u8(p2p_version);
        w.u64(c_->chain_id);
        w.fixed(c_->genesis_hash);
        w.u32(peer_);
        bytes out;
        if (!hs_.write_message(payload, out)) return make_error(errc::bad_handshake);
        return out;
    }

    /// Processes the peer's next message. Returns what to send back (message 2 or 3,
    /// empty for the responder after message 3). On error the connection must end;
    /// if `refuse` is set the responder should first send that refusal.
    result<bytes> on_message(byte_view m, std::optional<refusal>* refuse = nullptr) {
        auto fail = [&](errc e, std::optional<refusal> r = std::nullopt) -> result<bytes> {
            if (refuse) *refuse = r;
            return make_error(e);
        };
        if (hs_.initiator() && hs_.step() == 1 && m.size() == refusal_size) {
            refused_ = static_cast<refusal>(m[0]);
            return fail(errc::refused);
        }
        if (m.size() != expected_size()) return fail(errc::bad_handshake, refusal::bad_handshake);
        bytes payload;
        if (!hs_.read_message(m, payload)) return fail(errc::bad_handshake);
        wire::reader r(payload);
        bytes out;
        switch (hs_.step()) {
        case 1: {  // responder read message 1
            std::uint8_t version = 0;
            std::uint64_t chain = 0;
            hash32 gh;
            std::uint32_t to = 0;
            r.u8(version);
            r.u64(chain);
            r.fixed(gh);
            r.u32(to);
            if (!r.finish() || version != p2p_version) return fail(errc::bad_handshake, refusal::bad_handshake);
            if (chain != c_->chain_id || gh != c_->genesis_hash) {
                their_chain_ = std::pair{chain, gh};
                return fail(errc::wrong_chain, refusal::wrong_chain);
            }
            if (to != c_->self) return fail(errc::wrong_peer, refusal::wrong_peer);
            if (!hs_.write_message(index_payload(c_->self), out)) return fail(errc::bad_handshake);
            return out;
        }
        case 2: {  // initiator read message 2
            std::uint32_t idx = 0;
            r.u32(idx);
            if (!r.finish()) return fail(errc::bad_handshake);
            if (idx != peer_) return fail(errc::wrong_peer);
            if (*hs_.remote_static() != c_->validator_keys[peer_]) return fail(errc::unknown_key);
            if (!hs_.write_message(index_payload(c_->self), out)) return fail(errc::bad_handshake);
            return out;
        }
        case 3: {  // responder read message 3
            std::uint32_t idx = 0;
            r.u32(idx);
            if (!r.finish()) return fail(errc::bad_handshake);
            if (idx >= c_->validator_keys.size()) return fail(errc::unknown_key);
            if (idx == c_->self) return fail(errc::self_connection);
            if (*hs_.remote_static() != c_->validator_keys[idx]) return fail(errc::unknown_key);
            peer_ = idx;
            return out;
        }
        }
        return fail(errc::bad_handshake);
    }

    /// The authenticated peer's index. @pre done().
    std::uint32_t peer() const noexcept { return peer_; }
    /// The index we dialled (initiator) — also before done().
    std::uint32_t dialled() const noexcept { return peer_; }
    /// Responder: the chain id and genesis hash the initiator claimed, after on_message
    /// returned errc::wrong_chain (for the operator's log: which chain the peer is on).
    const std::optional<std::pair<std::uint64_t, hash32>>& their_chain() const noexcept { return their_chain_; }
    /// Why the peer refused us, after on_message returned errc::refused.
    std::optional<refusal> refused() const noexcept { return refused_; }
    /// (send, receive) ciphers. @pre done().
    std::pair<noise::cipher_state, noise::cipher_state> ciphers() const { return hs_.split(); }
    const noise::digest& handshake_hash() const noexcept { return hs_.handshake_hash(); }

private:
    handshake(const handshake_context& c, bool initiator, std::uint32_t to)
        : c_(&c), hs_(initiator, p2p_prologue(c.chain_id, c.genesis_hash), c.static_key), peer_(to) {}

    static bytes index_payload(std::uint32_t i) {
        bytes p;
        wire::writer w(p);
        w.u32(i);
        return p;
    }

    const handshake_context* c_;
    noise::handshake_xx hs_;
    std::uint32_t peer_;
    std::optional<std::pair<std::uint64_t, hash32>> their_chain_;
    std::optional<refusal> refused_;
};

}  // namespace ballotchain::net
