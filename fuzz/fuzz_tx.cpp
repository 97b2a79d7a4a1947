// Fuzz target: binary vote transaction decoder. Accepted input must re-encode to the same bytes.
#include <ballotchain/chain/codec.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ballotchain;
    const byte_view in(data, size);
    auto tx = decode_tx(in);
    if (tx) {
        const bytes again = encode(*tx);
        if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
    }
    return 0;
}
