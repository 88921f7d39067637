# Every dependency comes from Debian's packages (scripts/install-deps).
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS json url)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
# The same names are used in cmake/tempmailConfig.cmake.in: exported targets refer to them.
pkg_check_modules(TEMPMAIL_GMIME REQUIRED IMPORTED_TARGET GLOBAL gmime-3.0)
pkg_check_modules(TEMPMAIL_GUMBO REQUIRED IMPORTED_TARGET GLOBAL gumbo)
pkg_check_modules(TEMPMAIL_RE2 REQUIRED IMPORTED_TARGET GLOBAL re2)
# XXH3 checksums guard the store's journal records (src/local/store/journal.hpp).
pkg_check_modules(TEMPMAIL_XXHASH REQUIRED IMPORTED_TARGET GLOBAL libxxhash)
find_package(CLI11 CONFIG REQUIRED)
# GoogleTest is needed for the GoogleTest extension (tempmail::gtest) as well as the tests.
find_package(GTest CONFIG REQUIRED)
