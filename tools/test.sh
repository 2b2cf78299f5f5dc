#!/usr/bin/env bash
# The README's test command: installs what is missing, builds and runs every
# test. Build types: Release (default), Asan (AddressSanitizer+UBSan), Tsan.
#   tools/test.sh                  Release
#   tools/test.sh Release Asan Tsan
# Tests that need Redis start their own redis-server on a free loopback
# port; they fail (never skip) if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh test
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(Release)
for type in "${types[@]}"; do
  case "$type" in Release|Asan|Tsan) ;; *)
    echo "tools/test.sh: unknown build type '$type' (Release, Asan, Tsan)" >&2
    exit 2 ;;
  esac
  dir=build/$(echo "$type" | tr '[:upper:]' '[:lower:]')
  echo "=== $type: build in $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
  cmake --build "$dir" -j2
  echo "=== $type: test"
  # halt_on_error keeps sanitizer reports loud; setarch -R avoids TSan's
  # failures on kernels with high mmap randomisation.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    setarch "$(uname -m)" -R \
    ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 \
      --timeout 900
done
