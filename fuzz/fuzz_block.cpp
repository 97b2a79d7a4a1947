// Fuzz target: block and finalized-block decoders. Accepted input must re-encode to the same bytes.
#include <ballotchain/chain/codec.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ballotchain;
    const byte_view in(data, size);
    if (auto b = decode_block(in)) {
        const bytes again = encode(*b);
        if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
    }
    if (auto fb = decode_finalized_block(in)) {
        const bytes again = encode(*fb);
        if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
    }
    if (auto c = decode_certificate(in)) {
        const bytes again = encode(*c);
        if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
    }
    return 0;
}
