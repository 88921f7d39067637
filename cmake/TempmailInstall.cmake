# Install rules (TEMPMAIL_INSTALL): libraries, headers (with the generated version.hpp),
# the CMake package config (find_package(tempmail CONFIG)), pkg-config files and, when
# built, the two executables.
include(CMakePackageConfigHelpers)
set(tempmail_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/tempmail)

install(DIRECTORY include/tempmail DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/tempmail/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tempmail)
install(TARGETS tempmail_asio tempmail_common tempmail_extract tempmail_client tempmail_local
  EXPORT tempmailTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT tempmailTargets NAMESPACE tempmail:: DESTINATION ${tempmail_cmake_dir})

# tempmail::gtest in an export set of its own, so that find_package(tempmail) looks for
# GoogleTest only when the gtest component is asked for (see tempmailConfig.cmake.in).
if(TEMPMAIL_BUILD_GTEST)
  install(DIRECTORY gtest_ext/include/tempmail DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(TARGETS tempmail_gtest tempmail_gtest_main
    EXPORT tempmailGtestTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT tempmailGtestTargets NAMESPACE tempmail:: DESTINATION ${tempmail_cmake_dir})
endif()

if(TEMPMAIL_BUILD_APPS)
  install(TARGETS tempmail tempmail-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

configure_package_config_file(cmake/tempmailConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tempmailConfig.cmake
  INSTALL_DESTINATION ${tempmail_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tempmailConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/tempmailConfig.cmake
  ${PROJECT_BINARY_DIR}/tempmailConfigVersion.cmake
  DESTINATION ${tempmail_cmake_dir})

# pkg-config: tempmail (the client, with extraction), tempmail-local (the embedded
# server), tempmail-gtest and tempmail-gtest-main; tempmail-common is what they share.
# The libraries are static, so each file lists its dependencies in Libs/Requires (not
# .private): `pkg-config --libs tempmail` is a complete link line. The prefix is found
# relative to the file (${pcfiledir}), so an unpacked package (dpkg -x) works too.
file(RELATIVE_PATH tempmail_pc_to_prefix "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
set(tempmail_pc_prefix "\${pcfiledir}/${tempmail_pc_to_prefix}")
set(tempmail_pc_names tempmail-common tempmail tempmail-local)
if(TEMPMAIL_BUILD_GTEST)
  list(APPEND tempmail_pc_names tempmail-gtest tempmail-gtest-main)
endif()
foreach(name IN LISTS tempmail_pc_names)
  configure_file(cmake/pkgconfig/${name}.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
