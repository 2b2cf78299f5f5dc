#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz and runs each for
# SECONDS (default 20) on a copy of its seed corpus. Exits non-zero, naming
# the target and the crash file, if any target finds a crash or an invariant
# violation. Usage: fuzz/run.sh [SECONDS]
set -euo pipefail

seconds="${1:-20}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || (( seconds == 0 )); then
  echo "run.sh: SECONDS must be a positive whole number, got \"$seconds\"" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
jobs="${VIX_FUZZ_BUILD_JOBS:-1}"

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DVIX_BUILD_FUZZ=ON -DVIX_BUILD_TESTS=OFF -DVIX_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target vix_fuzzers

# target:max_len (bytes): parser inputs are short, configs are longer.
targets=(parse_fuzzer:256 config_fuzzer:4096 classify_fuzzer:1024
         redis_fuzzer:512)
failed=()
for entry in "${targets[@]}"; do
  target="${entry%%:*}"
  max_len="${entry##*:}"
  work="$build/fuzz-work/$target"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -n "$root/fuzz/corpus/$target/"* "$work/corpus/" 2>/dev/null || true
  echo "== $target: ${seconds}s, -max_len=$max_len"
  if ! "$build/fuzz/$target" "$work/corpus" \
      -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/" 2>"$work/log"; then
    tail -n 40 "$work/log" >&2
    echo "run.sh: $target FAILED; reproducer(s):" >&2
    ls -1 "$work/artifacts/" >&2
    failed+=("$target")
  else
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done' \
      "$work/log" || true
  fi
done

if ((${#failed[@]} > 0)); then
  echo "run.sh: crashes in: ${failed[*]} (see $build/fuzz-work/*/artifacts)" >&2
  exit 1
fi
echo "run.sh: all fuzz targets ran ${seconds}s without a crash"
