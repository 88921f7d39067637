# Every dependency comes from Debian's packages (scripts/install-deps), and only what is
# built is looked for: the libraries always, CLI11 for the executables and examples,
# GoogleTest for the GoogleTest extension and the tests.
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
if(TEMPMAIL_BUILD_APPS OR TEMPMAIL_BUILD_EXAMPLES)
  find_package(CLI11 CONFIG REQUIRED)
endif()
# A parent project may bring its own GoogleTest (e.g. with FetchContent): use its targets.
if((TEMPMAIL_BUILD_GTEST OR TEMPMAIL_BUILD_TESTS) AND NOT (TARGET GTest::gtest AND TARGET GTest::gmock))
  find_package(GTest CONFIG)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR "tempmail: the GoogleTest extension (tempmail::gtest) and the tests need "
                        "GoogleTest and GoogleMock (Debian: libgtest-dev libgmock-dev). Install them, "
                        "or configure with -DTEMPMAIL_BUILD_GTEST=OFF (and TEMPMAIL_BUILD_TESTS, "
                        "TEMPMAIL_BUILD_EXAMPLES off) if you do not use tempmail::gtest.")
  endif()
endif()
