#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, builds tests/install/
# consumer against it with find_package(vixbreaker), and runs it.
set -euo pipefail
build_dir=$1
source_dir=$2
build_type=${3:-Release}
# A sanitizer build installs instrumented libraries: link the consumer alike.
case "$build_type" in
  Asan) sanitize="-fsanitize=address,undefined" ;;
  Tsan) sanitize="-fsanitize=thread" ;;
  *) sanitize="" ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/install/consumer" -B "$work/build" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="$sanitize" \
  -DCMAKE_EXE_LINKER_FLAGS="$sanitize" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
out=$("$work/build/consumer" "vixtest-consumer-$$")
echo "consumer printed: $out"
[ "$out" = "0 PANIC_FULL high_stakes" ] || {
  echo "expected '0 PANIC_FULL high_stakes'" >&2
  exit 1
}
