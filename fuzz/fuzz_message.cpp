// Fuzz target: consensus envelope and body decoders. Accepted input must re-encode to the same bytes.
#include <ballotchain/consensus/messages.hpp>

#include <cstdlib>

namespace {
void same(const ballotchain::bytes& again, const std::uint8_t* data, std::size_t size) {
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ballotchain;
    using namespace ballotchain::consensus;
    const byte_view in(data, size);
    if (auto e = decode_envelope(in)) same(consensus::encode(*e), data, size);
    if (auto p = decode_proposal(in)) same(consensus::encode(*p), data, size);
    if (auto r = decode_round_change(in)) same(consensus::encode(*r), data, size);
    if (auto c = decode_commit(in)) same(consensus::encode(*c), data, size);
    if (auto t = decode_txs(in)) same(encode_txs(*t), data, size);
    return 0;
}
