#!/usr/bin/env bash
# Installs the Debian packages vixbreaker needs (as root, or with sudo).
#   tools/setup.sh build   compilers, CMake and the libraries
#   tools/setup.sh test    the above plus test tools (redis-server and
#                          redis-sentinel, stunnel4, clang for the fuzzers,
#                          promtool, tmux, curl, matplotlib for the latency
#                          plot, pytest, redis-py and gunicorn for the
#                          Python tests)
set -euo pipefail
profile=${1:-build}
packages=(build-essential cmake pkg-config libboost-dev libabsl-dev
          libgtest-dev libgmock-dev libbenchmark-dev libhiredis-dev
          python3 python3-dev pybind11-dev)
if [ "$profile" = test ]; then
  packages+=(redis-server redis-sentinel stunnel4 clang libclang-rt-14-dev
             prometheus tmux curl python3-matplotlib python3-pytest
             python3-redis gunicorn)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
