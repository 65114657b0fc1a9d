# Dependencies of rediscache's tests, examples and benchmarks (never of the library itself).
# Defines pqxx::pqxx from pkg-config (libpqxx 6.4 on Debian ships no usable CMake package).
include_guard(GLOBAL)

if(NOT TARGET pqxx::pqxx)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(REDISCACHE_PQXX REQUIRED IMPORTED_TARGET GLOBAL libpqxx)
  add_library(pqxx::pqxx ALIAS PkgConfig::REDISCACHE_PQXX)
endif()
