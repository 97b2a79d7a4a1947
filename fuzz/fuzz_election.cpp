// Fuzz target: the election records' body decoders (chain/election.hpp). The first byte picks the
// record (0 definition, 1 ballot, 2 trustee key, 3 dealing, 4 verdict, 5 decryption); accepted
// input must re-encode to the same bytes (one encoding per value: canonical points, reduced
// scalars, ascending recipients and dealers, no trailing bytes).
#include <ballotchain/chain/election.hpp>

#include <cstdlib>

namespace {
template <class Decoded>
void roundtrip(const Decoded& d, ballotchain::byte_view in) {
    if (!d) return;
    const ballotchain::bytes again = ballotchain::election::encode(*d);
    if (again.size() != in.size() || !std::equal(again.begin(), again.end(), in.begin())) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ballotchain;
    if (size == 0) return 0;
    const byte_view in(data + 1, size - 1);
    switch (data[0] % 6) {
    case 0: roundtrip(election::decode_definition(in), in); break;
    case 1: roundtrip(election::decode_ballot(in), in); break;
    case 2: roundtrip(election::decode_trustee_key(in), in); break;
    case 3: roundtrip(election::decode_dealing(in), in); break;
    case 4: roundtrip(election::decode_verdict(in), in); break;
    case 5: roundtrip(election::decode_decryption(in), in); break;
    }
    return 0;
}
