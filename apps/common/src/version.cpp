/// The values behind <ballotchain/app/version.hpp>, from the header cmake/version.cmake writes.
#include <ballotchain/app/version.hpp>

#include <ballotchain_generated/version.hpp>

namespace ballotchain::app {
const char* version() noexcept { return generated::version; }
const char* git_commit() noexcept { return generated::git_commit; }
}  // namespace ballotchain::app
