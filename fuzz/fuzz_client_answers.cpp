// Fuzz target: the verifying client's decoders of validator answers (client/answers.hpp) and
// the light verifier behind them (client/light_verify.hpp), over the fixed chain of
// chain_fixture.hpp. Input: a selector byte, then a JSON answer. Beyond "never crashes,
// never allocates unbounded": soundness. A receipt or block the verifier accepts must be
// the chain's own (the tx really is at that place of that block; the block hash is the
// chain's at that height): a forged answer that passes is a bug.
#include "jsonrpc_fixture.hpp"

#include <ballotchain/client/answers.hpp>
#include <ballotchain/client/light_verify.hpp>

#include <cstdlib>

namespace {
using namespace ballotchain;
namespace fx = ballotchain::fuzz_fixture;

const fx::memory_node& node() {
    static const fx::memory_node n = fx::make_memory_node();
    return n;
}
const client::light_verifier<ed25519_sha256>& verifier() {
    static const client::light_verifier<ed25519_sha256> v(fx::chain_genesis());
    return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    boost::system::error_code ec;
    const auto v = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), ec);
    if (ec) return 0;
    switch (data[0] % 8) {
    case 0:
        if (auto r = client::decode_tx_proof(v); r && !verifier().check_receipt(*r, r->tx_hash)) {
            const auto loc = node().c.find_tx(r->tx_hash);
            if (!loc || loc->height != r->block_number || loc->index != r->index || node().c.hash_at(loc->height) != r->block_hash)
                std::abort();  // a forged receipt passed
        }
        break;
    case 1: (void)client::decode_tx_status(v); break;
    case 2: (void)client::decode_chain_state(v); break;
    case 3: (void)client::decode_integrity(v); break;
    case 4:
        if (auto t = client::decode_tally(v)) {
            std::uint64_t sum = 0;
            for (const auto& [c, n] : t->results) sum += n;
            if (sum != t->total) std::abort();
        }
        break;
    case 5: (void)client::decode_head_event(v); break;
    case 6:
        if (const auto* blocks = client::detail::member(v, "blocks"); blocks && blocks->is_array())
            for (const auto& b : blocks->as_array()) {
                if (!b.is_string()) continue;
                if (auto vb = verifier().check_raw_block(b.as_string(), true)) {
                    const auto h = vb->fb.blk.header.height;
                    if (h > node().c.height() || node().c.hash_at(h) != vb->hash) std::abort();  // a forged block passed
                }
            }
        break;
    case 7: (void)client::decode_tx_hash(v); break;
    }
    return 0;
}
