#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs the
# demo on the embedded default (shared memory only, no Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DVIX_BUILD_TESTS=OFF \
  -DVIX_BUILD_BENCH=OFF >/dev/null
cmake --build build/demo -j2 --target vixdemo vixctl
exec build/demo/tools/demo/vixdemo
