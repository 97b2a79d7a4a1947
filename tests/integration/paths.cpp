// The build's paths, compiled here only (see tests/unit/support/paths.hpp for why).
#include <string>

namespace ballotchain::itest {
std::string built_bin_dir() { return BALLOTCHAIN_BIN_DIR; }
std::string node_bin_dir() { return BALLOTCHAIN_NODE_BIN_DIR; }
std::string eth_test_dir() { return BALLOTCHAIN_ETH_DIR; }
std::string examples_bin_dir() { return BALLOTCHAIN_EXAMPLES_DIR; }
std::string source_dir() { return BALLOTCHAIN_SOURCE_DIR; }
}  // namespace ballotchain::itest
