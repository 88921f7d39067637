# cpack -G DEB (run in the build directory after the build): one Debian package with the
# static libraries, the headers, the CMake package config, the pkg-config files and the
# executables tempmail and tempmail-server.
#
# Depends: what the executables load at run time, computed by dpkg-shlibdeps, plus the
# development packages that the static libraries and the CMake config need at the user's
# link time (pkg-config for gmime, gumbo and re2). GoogleTest is only recommended: the
# client and the local server work without it (find_package(tempmail COMPONENTS gtest)).
set(CPACK_PACKAGE_NAME tempmail-cpp)
set(CPACK_PACKAGE_VENDOR "tempmail-cpp")
set(CPACK_PACKAGE_CONTACT "tempmail-cpp maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Without the debug information of a RelWithDebInfo build (250 MB, most of it in the .a files).
set(CPACK_STRIP_FILES ON)
set(tempmail_deb_link_depends
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libsqlite3-dev
  libgmime-3.0-dev libgumbo-dev libre2-dev libxxhash-dev pkg-config)
list(JOIN tempmail_deb_link_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libgtest-dev, libgmock-dev, cmake")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "Disposable mailboxes for email-verification tests in C++: a client for the Temp Mail
 user API, a local server with the same API and an SMTP listener (tempmail-server), the
 tempmail command line, and a GoogleTest extension. Static libraries, headers, CMake
 config (find_package(tempmail)) and pkg-config files.")
include(CPack)
