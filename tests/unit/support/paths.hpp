#pragma once
/// @file Where the tests' data files are. The path is compiled into one small
/// library (paths.cpp) rather than into every test file, so that no test object
/// depends on where the source tree is (compiler caches then hit across clones).
#include <string>

namespace ballotchain::test_support {
/// tests/data in the source tree.
std::string data_dir();
}  // namespace ballotchain::test_support
