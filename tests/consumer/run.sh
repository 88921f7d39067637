#!/usr/bin/env bash
# Installs the built package into a temporary prefix, builds tests/consumer/project
# against it with find_package(tempmail CONFIG), and runs the result.
set -euo pipefail
build_dir=$1 source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/consumer/project" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
env -u TEMPMAIL_API_KEY "$work/build/consumer_test"
