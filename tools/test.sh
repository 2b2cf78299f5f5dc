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
  # The Python module (SPEC 13) under Debian's interpreter: Release as
  # built; Asan with the sanitizer runtimes preloaded into the
  # uninstrumented python3 (CPython's own allocations are not leaks to
  # report); not under TSan (its runtime in an uninstrumented interpreter
  # reports false races). pytest's exit 5 ("no tests collected") fails
  # like any other.
  preload=none
  case "$type" in
    Release) preload="" ;;
    Asan) preload="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" ;;
  esac
  if [ "$preload" != none ]; then
    echo "=== $type: Python tests (/usr/bin/python3 -m pytest tests/python)"
    rc=0
    LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      VIX_BUILD_DIR="$dir" /usr/bin/python3 -m pytest -q tests/python || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "tools/test.sh: $type Python tests failed (pytest exit $rc)" >&2
      exit 1
    fi
  fi
done
