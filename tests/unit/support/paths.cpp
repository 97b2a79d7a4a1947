#include "paths.hpp"

namespace ballotchain::test_support {
std::string data_dir() { return BALLOTCHAIN_TEST_DATA_DIR; }
}  // namespace ballotchain::test_support
