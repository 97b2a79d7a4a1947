// Fuzz target: the bootnode's POST /register body. JSON text in, parse_registration and
// peer_registry::admit against a fixed 3-validator chain and clock. Properties: nothing
// crashes; every refusal has a status the docs name and a reason; an accepted registration
// re-serializes to the same value, is a genesis validator's, fresh and correctly signed, the
// table then holds exactly that one entry, and sending it again is refused as a replay (409).
#include "bootnode_fixture.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ballotchain;
    namespace fx = fuzz_fixture;
    if (size > app::max_registration_body_bytes) return 0;  // the bootnode answers 413 unread
    boost::system::error_code ec;
    const auto v = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
    if (ec) return 0;
    app::registration r;
    if (auto why = app::parse_registration(v, r)) {
        if (why->empty()) std::abort();
        return 0;
    }
    app::registration again;
    if (app::parse_registration(app::to_json(r), again) || !(again == r)) std::abort();
    if (!app::valid_p2p_address(r.p2p)) std::abort();

    static const genesis_config g = fx::bootnode_genesis();
    app::peer_registry reg({60'000, 30'000});
    if (!reg.add_chain(g) || reg.add_chain(g)) std::abort();
    const auto verdict = reg.admit(r, fx::bootnode_now_ms, fx::bootnode_wall_ms);
    if (verdict) {
        const auto st = verdict->status;
        if ((st != 403 && st != 404 && st != 409 && st != 422) || verdict->detail.empty()) std::abort();
        if (reg.size(fx::bootnode_now_ms) != 0) std::abort();
        return 0;
    }
    if (r.chain_id != g.chain_id || r.index >= g.n() || r.key != g.validators[r.index].key) std::abort();
    if (r.timestamp_ms + 30'000 < fx::bootnode_wall_ms || r.timestamp_ms > fx::bootnode_wall_ms + 30'000) std::abort();
    if (!ed25519::verify(r.key, app::registration_digest(r).view(), r.sig)) std::abort();
    if (reg.size(fx::bootnode_now_ms) != 1 || reg.list(g.chain_id, fx::bootnode_now_ms).size() != 1) std::abort();
    const auto replay = reg.admit(r, fx::bootnode_now_ms + 1, fx::bootnode_wall_ms + 1);
    if (!replay || replay->status != 409) std::abort();
    if (reg.size(fx::bootnode_now_ms + 60'001) != 0) std::abort();  // expired after the ttl
    return 0;
}
