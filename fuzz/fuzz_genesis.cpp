// Fuzz target: binary genesis decoder. Accepted input must re-encode to the same bytes.
#include <ballotchain/chain/codec.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ballotchain;
    if (auto g = decode_genesis(byte_view(data, size))) {
        const bytes again = encode(*g);
        if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
    }
    return 0;
}
