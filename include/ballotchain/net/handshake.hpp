#pragma once
/// @file The validator handshake: Noise XX (crypto/noise.hpp) with the validators'
/// registry keys as static keys, as a pure state machine (no I/O).
///
/// Validators have stable *registry ids*: the genesis validators are ids 0..n-1 (genesis
/// order), and each validator a change adds later gets the next id. The registry (the keys
/// by id) only grows; a node may run before its own key is in the registry it knows (a new
/// validator that has not yet synced the block adding it): it has no id yet.
///
/// Every message on a P2P connection is `u16 length (big-endian) ‖ bytes`. The
/// three handshake messages have fixed sizes, so before a peer is authenticated
/// nothing larger than 100 bytes is ever read or allocated.
///
///     prologue  = "ballotchain/p2p/1" ‖ u64 chain_id ‖ genesis hash
///     message 1 (initiator → responder, 77 bytes)  e ‖ payload
///               payload = u8 version (1) ‖ u64 chain_id ‖ genesis hash ‖ u32 id it dialled
///     message 2 (responder → initiator, 100 bytes) e, ee, s, es ‖ enc(u32 responder id)
///     message 3 (initiator → responder, 68 bytes)  s, se ‖ enc(u32 initiator id, or 0xFFFFFFFF: none yet)
///
/// The payload of message 1 is readable (there is no key yet) but it is hashed
/// into the transcript, so changing it makes message 2 fail. A responder that
/// refuses message 1 (another chain, or it is not the validator that was dialled,
/// which includes a responder without an id) answers with one *refusal* message of
/// 1 byte (a reason code) and closes; the refusal is unauthenticated and only ever logged.
///
/// Either side is authenticated by its static key, the X25519 form (the suite's
/// `link_public`) of a registry key: the responder's after message 2 (it must be the key
/// of the id that was dialled), the initiator's after message 3 (it must be the key of some
/// id other than the responder's own; when the initiator claims an id, that id). An
/// initiator whose key is not in the responder's registry is refused (the responder
/// closes). Noise binds both static keys, both ephemeral keys and the roles into the
/// session keys, so a relay that passes messages between two validators learns nothing it
/// can use, and a replayed message 3 never fits a fresh responder ephemeral.

#include <ballotchain/chain/codec.hpp>
#include <ballotchain/chain/genesis.hpp>
#include <ballotchain/core/wire.hpp>
#include <ballotchain/crypto/noise.hpp>

#include <algorithm>
#include <optional>
#include <span>
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
    bad_registry,          ///< a registry update refused: a key with no link form, a key twice, or too many keys
};

inline const char* category_name(errc) noexcept { return "ballotchain.net"; }
inline std::string describe(errc e) {
    switch (e) {
    case errc::ok: return "ok";
    case errc::frame_too_large: return "frame exceeds the size limit";
    case errc::bad_handshake: return "handshake failed (malformed, or the peer could not prove its key)";
    case errc::wrong_chain: return "peer is on another chain";
    case errc::unknown_key: return "peer key is not the registry key of the validator it claims to be";
    case errc::self_connection: return "connection to self";
    case errc::wrong_peer: return "the validator at that address is not the one dialled";
    case errc::bad_record: return "encrypted record failed authentication";
    case errc::timeout: return "timed out";
    case errc::closed: return "connection closed";
    case errc::too_many_connections: return "too many unauthenticated connections";
    case errc::refused: return "peer refused the handshake";
    case errc::bad_registry:
        return "validator registry refused (a key with no link form, a key listed twice, or more than 1024 keys)";
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

/// The id an initiator without one claims in message 3.
inline constexpr std::uint32_t no_id = 0xFFFFFFFFu;

/// What both sides of every handshake share: the chain, the validator registry (keys by id,
/// and their X25519 link forms) and our own key and id (none while our key is not in it).
struct handshake_context {
    std::uint64_t chain_id = 0;
    hash32 genesis_hash;
    std::vector<public_key> registry;          ///< validator keys, position = registry id
    std::vector<noise::key32> validator_keys;  ///< their link forms (the Noise static keys), by id
    std::optional<std::uint32_t> self;         ///< our id: the position of our key in the registry
    public_key self_public;                    ///< our key (to learn our id when the registry grows)
    noise::keypair static_key;

    /// From the chain, the registry and our key, through the suite's link keys
    /// (`S::link_secret`, `S::link_public`). Fails (errc::bad_registry) when a registry key has
    /// no link form, two keys have the same one, or there are more than limits::max_registry.
    template <secure_suite Suite>
    static result<handshake_context> make(std::uint64_t chain_id, const hash32& genesis_h,
                                          const std::vector<public_key>& registry, const typename Suite::key_pair& kp) {
        handshake_context c;
        c.chain_id = chain_id;
        c.genesis_hash = genesis_h;
        c.self_public = kp.public_key();
        c.static_key = noise::keypair_from_secret(Suite::link_secret(kp));
        if (auto ec = c.extend<Suite>(registry)) return ec;
        return c;
    }
    /// The genesis validators as the registry; our id is derived from `kp` (none if not among them).
    template <secure_suite Suite>
    static result<handshake_context> make(const genesis_config& g, const typename Suite::key_pair& kp) {
        std::vector<public_key> reg;
        reg.reserve(g.validators.size());
        for (const auto& v : g.validators) reg.push_back(v.key);
        return make<Suite>(g.chain_id, ballotchain::genesis_hash<Suite>(g), reg, kp);
    }
    /// As above, and `kp` must be genesis validator `self` (errc::unknown_key otherwise).
    template <secure_suite Suite>
    static result<handshake_context> make(const genesis_config& g, const typename Suite::key_pair& kp,
                                          std::uint32_t self) {
        if (self >= g.n() || g.validators[self].key != kp.public_key()) return make_error(errc::unknown_key);
        return make<Suite>(g, kp);
    }

    /// The registry grew: appends `keys` (ids size().., in order) and learns our id if our
    /// key is among them. All or nothing: on errc::bad_registry nothing changed.
    template <secure_suite Suite>
    error_code extend(std::span<const public_key> keys) {
        if (keys.size() > limits::max_registry - registry.size()) return make_error(errc::bad_registry);
        std::vector<noise::key32> links;
        links.reserve(keys.size());
        for (const auto& k : keys) {
            auto x = Suite::link_public(k);
            if (!x) return make_error(errc::bad_registry);
            const auto dup = [&](const noise::key32& y) { return y == *x; };
            if (std::any_of(validator_keys.begin(), validator_keys.end(), dup) || std::any_of(links.begin(), links.end(), dup))
                return make_error(errc::bad_registry);
            links.push_back(*x);
        }
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (!self && keys[i] == self_public) self = static_cast<std::uint32_t>(registry.size());
            registry.push_back(keys[i]);
            validator_keys.push_back(links[i]);
        }
        return {};
    }

    /// The id whose link key is `link` (none: not in the registry).
    std::optional<std::uint32_t> id_of_link(const noise::key32& link) const noexcept {
        for (std::size_t i = 0; i < validator_keys.size(); ++i)
            if (validator_keys[i] == link) return static_cast<std::uint32_t>(i);
        return std::nullopt;
    }
};

/// One handshake, either role. Feed it the peer's messages; it says what to send
/// and, at the end, who the peer is and the transport ciphers.
class handshake {
public:
    /// We dial validator `to` (an id in the registry).
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
            if (!c_->self || to != *c_->self) return fail(errc::wrong_peer, refusal::wrong_peer);
            if (!hs_.write_message(index_payload(*c_->self), out)) return fail(errc::bad_handshake);
            return out;
        }
        case 2: {  // initiator read message 2
            std::uint32_t idx = 0;
            r.u32(idx);
            if (!r.finish()) return fail(errc::bad_handshake);
            if (idx != peer_) return fail(errc::wrong_peer);
            if (peer_ >= c_->validator_keys.size() || *hs_.remote_static() != c_->validator_keys[peer_])
                return fail(errc::unknown_key);
            if (!hs_.write_message(index_payload(c_->self.value_or(no_id)), out)) return fail(errc::bad_handshake);
            return out;
        }
        case 3: {  // responder read message 3
            std::uint32_t idx = 0;
            r.u32(idx);
            if (!r.finish()) return fail(errc::bad_handshake);
            // The initiator is who its static key says, whatever id it claims; a claim (not no_id)
            // must be that key's id (an initiator that has not learnt its id yet claims no_id).
            if (idx != no_id && idx >= c_->validator_keys.size()) return fail(errc::unknown_key);
            const noise::key32 their = *hs_.remote_static();  // a copy: remote_static() returns by value
            if (their == c_->static_key.pub || (c_->self && idx == *c_->self)) return fail(errc::self_connection);
            const auto id = c_->id_of_link(their);
            if (!id || (idx != no_id && idx != *id)) return fail(errc::unknown_key);
            peer_ = *id;
            return out;
        }
        }
        return fail(errc::bad_handshake);
    }

    /// The authenticated peer's id (for a responder: the id of its key). @pre done().
    std::uint32_t peer() const noexcept { return peer_; }
    /// The id we dialled (initiator) — also before done().
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
