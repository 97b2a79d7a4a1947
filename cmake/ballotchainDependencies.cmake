# Finds what the header-only ballotchain library needs. Included by the
# top-level CMakeLists.txt and by the installed ballotchainConfig.cmake, so the
# build tree and an installed package resolve dependencies the same way.
include(CMakeFindDependencyMacro)

find_dependency(Boost 1.81 CONFIG COMPONENTS json)
find_dependency(SQLite3)
# TLS of the HTTP server and clients (rpc/tls.hpp: Beast over OpenSSL; Debian: libssl-dev)
find_dependency(OpenSSL 3.0)

if(NOT TARGET ballotchain::cryptopp)
  find_path(BALLOTCHAIN_CRYPTOPP_INCLUDE_DIR NAMES crypto++/xed25519.h)
  find_library(BALLOTCHAIN_CRYPTOPP_LIBRARY NAMES crypto++ cryptopp)
  if(NOT BALLOTCHAIN_CRYPTOPP_INCLUDE_DIR OR NOT BALLOTCHAIN_CRYPTOPP_LIBRARY)
    message(FATAL_ERROR "Crypto++ not found (Debian: apt-get install libcrypto++-dev)")
  endif()
  add_library(ballotchain::cryptopp UNKNOWN IMPORTED)
  set_target_properties(ballotchain::cryptopp PROPERTIES
    IMPORTED_LOCATION "${BALLOTCHAIN_CRYPTOPP_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${BALLOTCHAIN_CRYPTOPP_INCLUDE_DIR}")
endif()

if(NOT TARGET ballotchain::sodium)
  find_path(BALLOTCHAIN_SODIUM_INCLUDE_DIR NAMES sodium.h)
  find_library(BALLOTCHAIN_SODIUM_LIBRARY NAMES sodium)
  if(NOT BALLOTCHAIN_SODIUM_INCLUDE_DIR OR NOT BALLOTCHAIN_SODIUM_LIBRARY)
    message(FATAL_ERROR "libsodium not found (Debian: apt-get install libsodium-dev)")
  endif()
  add_library(ballotchain::sodium UNKNOWN IMPORTED)
  set_target_properties(ballotchain::sodium PROPERTIES
    IMPORTED_LOCATION "${BALLOTCHAIN_SODIUM_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${BALLOTCHAIN_SODIUM_INCLUDE_DIR}")
endif()

find_dependency(Threads)
