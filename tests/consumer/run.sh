#!/usr/bin/env bash
# Builds tests/consumer/project, a user's project outside this tree, against tempmail
# taken one of four ways, and runs what it built:
#
#   run.sh install    BUILD SOURCE [CMAKE_ARGS...]   cmake --install into a temporary prefix, find_package
#   run.sh no-gtest   BUILD SOURCE [CMAKE_ARGS...]   the same prefix, find_package with GoogleTest disabled
#   run.sh subproject BUILD SOURCE DIR [CMAKE_ARGS...]  FetchContent of SOURCE, built in DIR (kept, so a
#                                                    second run only rebuilds what changed)
#   run.sh deb        BUILD SOURCE [CMAKE_ARGS...]   cpack -G DEB, dpkg -x into a temporary root (nothing is
#                                                    installed on the machine), then CMake and pkg-config
#
# BUILD is tempmail's build tree (already built), SOURCE its source tree. CMAKE_ARGS go to
# every configure of the consumer (the compiler and its launcher, e.g. ccache).
set -euo pipefail
mode=$1 build_dir=$2 source_dir=$3
shift 3
project="$source_dir/tests/consumer/project"

fail() {
  echo "consumer: FAILED: $*" >&2
  exit 1
}

# configure_and_build BUILD_DIR CMAKE_ARGS...: the consumer project, with Ninja.
configure_and_build() {
  local dir=$1
  shift
  cmake -S "$project" -B "$dir" -G Ninja "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log" >&2; fail "configuring the consumer project"; }
  grep '^-- consumer: ' "$dir.configure.log" || true
  cmake --build "$dir" >"$dir.build.log" 2>&1 || { cat "$dir.build.log" >&2; fail "building the consumer project"; }
}

# run_consumer BUILD_DIR: runs what configure_and_build built, and checks the link line of
# local_only (tempmail::local alone): the server's library, never the client's (libtempmail.a).
run_consumer() {
  local dir=$1 link
  link=$(ninja -C "$dir" -t commands local_only | tail -n 1)
  [[ $link == *libtempmail_local.a* ]] || fail "local_only does not link libtempmail_local.a: $link"
  [[ $link != */libtempmail.a* ]] || fail "local_only (tempmail::local alone) links the client: $link"
  echo "consumer: local_only links libtempmail_local.a and not libtempmail.a (the client)"
  "$dir/local_only"
  "$dir/consumer"
  env -u TEMPMAIL_API_KEY "$dir/consumer_test" --gtest_brief=1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
install_prefix() {
  cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "cmake --install $build_dir"; }
}

case "$mode" in
  install)
    install_prefix
    configure_and_build "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" "$@"
    run_consumer "$work/build"
    ;;

  no-gtest)
    install_prefix
    no_gtest="$source_dir/tests/consumer/no_gtest"
    cmake -S "$no_gtest" -B "$work/plain" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON "$@" ||
      fail "find_package(tempmail) without GoogleTest"
    if cmake -S "$no_gtest" -B "$work/wants-gtest" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCONSUMER_COMPONENTS="COMPONENTS;gtest" "$@" \
      >"$work/wants-gtest.log" 2>&1; then
      fail "find_package(tempmail COMPONENTS gtest) succeeded without GoogleTest"
    fi
    grep -q 'GTest' "$work/wants-gtest.log" || { cat "$work/wants-gtest.log" >&2; fail "no word of GTest"; }
    echo "consumer: find_package(tempmail COMPONENTS gtest) fails without GoogleTest, naming it"
    ;;

  subproject)
    dir=$1
    shift
    mkdir -p "$dir"
    # An empty CMAKE_BUILD_TYPE: the parent's choice, which tempmail must not replace.
    configure_and_build "$dir/build" -DCONSUMER_FETCHCONTENT=ON -DCMAKE_BUILD_TYPE= \
      -DFETCHCONTENT_SOURCE_DIR_TEMPMAIL="$source_dir" "$@"
    tests=$(ctest --test-dir "$dir/build" -N | sed -n 's/^ *Test *#[0-9]*: //p')
    [[ $tests == "consumer.main" ]] || fail "the parent's tests are not only its own: $tests"
    echo "consumer: the parent's ctest lists its own test only ($tests)"
    run_consumer "$dir/build"
    ;;

  deb)
    cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
      { cat "$work/cpack.log" >&2; fail "cpack -G DEB"; }
    deb=$(ls "$work"/pkg/*.deb)
    echo "consumer: built $(basename "$deb")"
    version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
    [[ $(dpkg-deb -f "$deb" Package) == tempmail-cpp ]] || fail "Package is not tempmail-cpp"
    [[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "Version is not $version"
    depends=$(dpkg-deb -f "$deb" Depends)
    echo "consumer: Depends: $depends"
    # dpkg-shlibdeps' share (what the executables load) and the development packages.
    for p in libc6 libstdc++6 libssl3 libsqlite3-0 libgmime-3.0-0 libboost-json1.81.0 \
      libssl-dev libsqlite3-dev libgmime-3.0-dev libgumbo-dev libre2-dev libxxhash-dev libboost-json1.81-dev \
      libboost-url1.81-dev libboost1.81-dev pkg-config; do
      [[ ", $depends," == *", $p "* || ", $depends," == *", $p,"* ]] || fail "Depends lacks $p"
    done
    # Every package it depends on exists (is installed on this build machine).
    for p in $(tr ',|' '\n' <<<"$depends" | sed 's/(.*)//; s/ //g'); do
      dpkg-query -W "$p" >/dev/null 2>&1 || fail "Depends names $p, which dpkg does not know"
    done
    dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' >"$work/files"
    for f in /usr/bin/tempmail /usr/bin/tempmail-server /usr/include/tempmail/client.hpp \
      /usr/include/tempmail/version.hpp /usr/include/tempmail/local/server.hpp \
      /usr/include/tempmail/gtest/mailbox_test.hpp /usr/lib/libtempmail.a /usr/lib/libtempmail_local.a \
      /usr/lib/cmake/tempmail/tempmailConfig.cmake /usr/lib/pkgconfig/tempmail.pc \
      /usr/lib/pkgconfig/tempmail-local.pc /usr/lib/pkgconfig/tempmail-gtest-main.pc; do
      grep -qx "$f" "$work/files" || fail "the package lacks $f"
    done
    others=$(grep -v -e '^/usr/include/tempmail/' -e '^/usr/lib/cmake/tempmail/' -e '^/usr/lib/pkgconfig/tempmail' \
      -e '^/usr/lib/libtempmail[a-z_]*\.a$' -e '^/usr/bin/tempmail$' -e '^/usr/bin/tempmail-server$' "$work/files" || true)
    [[ -z $others ]] || fail "the package holds more than the library and the executables: $others"
    echo "consumer: the package holds $(wc -l <"$work/files") files: libraries, headers, CMake and pkg-config files, 2 executables"

    dpkg -x "$deb" "$work/root"
    root="$work/root/usr"
    "$root/bin/tempmail" --version | grep -qx "tempmail $version" || fail "tempmail --version is not $version"
    "$root/bin/tempmail-server" --help >/dev/null || fail "tempmail-server --help"

    configure_and_build "$work/cmake" -DCMAKE_PREFIX_PATH="$root" "$@"
    run_consumer "$work/cmake"

    # pkg-config: the same programs, compiled and linked with pkg-config's flags alone.
    export PKG_CONFIG_PATH="$root/lib/pkgconfig"
    [[ $(pkg-config --modversion tempmail) == "$version" ]] || fail "pkg-config --modversion tempmail"
    cxx=${CXX:-c++}
    # shellcheck disable=SC2046 # pkg-config's output is a list of flags
    $cxx -std=c++20 -o "$work/pc_consumer" "$project/main.cpp" $(pkg-config --cflags --libs tempmail tempmail-local)
    # shellcheck disable=SC2046
    $cxx -std=c++20 -o "$work/pc_local_only" "$project/local_only.cpp" $(pkg-config --cflags --libs tempmail-local)
    # shellcheck disable=SC2046
    $cxx -std=c++20 -o "$work/pc_consumer_test" "$project/signup_test.cpp" \
      $(pkg-config --cflags --libs tempmail-gtest-main)
    echo "consumer: pkg-config: built main.cpp, local_only.cpp and signup_test.cpp"
    "$work/pc_local_only"
    "$work/pc_consumer"
    env -u TEMPMAIL_API_KEY "$work/pc_consumer_test" --gtest_brief=1
    ;;

  *)
    fail "unknown mode '$mode' (install, no-gtest, subproject or deb)"
    ;;
esac
echo "consumer: $mode passed"
