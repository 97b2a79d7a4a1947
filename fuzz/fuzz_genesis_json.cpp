// Fuzz target: genesis JSON parser. Accepted input must be a valid genesis whose JSON
// form parses back to the same value.
#include <ballotchain/chain/json.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ballotchain;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto g = json::parse_genesis(text)) {
        if (check_genesis(*g)) std::abort();
        auto again = json::parse_genesis(boost::json::serialize(json::to_json(*g)));
        if (!again || !(*again == *g)) std::abort();
    }
    return 0;
}
