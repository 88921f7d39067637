include(GoogleTest)

# tempmail_add_gtest(NAME SOURCES a.cpp ... [LIBS ...] [LABELS ...])
# One GoogleTest executable; each TEST becomes its own ctest entry, discovered
# when ctest runs (the build never runs test binaries). Add GTest::gmock_main
# to LIBS unless a source defines main() (e.g. to register an Environment).
function(tempmail_add_gtest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gmock GTest::gtest)
  tempmail_set_warnings(${name})
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 120
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endfunction()
