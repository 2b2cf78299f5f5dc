#!/bin/bash
# CI smoke run of vixbench : short durations, so the harness never
# rots. Fails if the JSON lacks a required field, if a figure that must be
# measured is null, or if the Redis figures are not null (with a note) when
# no Redis is given. Starts its own redis-server on a free loopback port.
#
#   bench/smoke.sh [path/to/vixbench]     (default: build/bench/vixbench/vixbench)
#
# It checks shape, not speed: speed is for a pinned run on a quiet machine
# (docs/benchmarks.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
vixbench=${1:-$root/build/bench/vixbench/vixbench}
[[ -x $vixbench ]] || { echo "smoke: no vixbench at $vixbench (build it first)" >&2; exit 1; }
command -v redis-server > /dev/null ||
  { echo "smoke: redis-server not found (apt-get install redis-server)" >&2; exit 1; }
work=$(mktemp -d)
redis_pid=
cleanup() {
  [[ -n $redis_pid ]] && kill "$redis_pid" 2> /dev/null && wait "$redis_pid" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no > "$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do
  redis-cli -p "$port" ping > /dev/null 2>&1 && break
  sleep 0.05
done

short=(--json --duration-scale 0.02 --repetitions 2)
echo "smoke: vixbench without Redis"
"$vixbench" "${short[@]}" > "$work/local.json" 2> "$work/local.err" ||
  { cat "$work/local.err" >&2; exit 1; }
echo "smoke: vixbench with redis://127.0.0.1:$port"
"$vixbench" "${short[@]}" --redis "redis://127.0.0.1:$port" > "$work/redis.json" \
  2> "$work/redis.err" || { cat "$work/redis.err" >&2; exit 1; }

python3 - "$work/local.json" "$work/redis.json" << 'PY'
import json, sys

REQUIRED = ["decide_p50_ns", "decide_p999_ns", "contended_p50_ns",
            "floor_p50_ns", "ratio_decide_over_floor", "two_engines_p50_ns",
            "idle_wakeups_per_s", "idle_cpu_pct",
            "propagation_local_ns", "propagation_remote_ms",
            "redis_per_call_p50_ns", "ratio_redis_over_decide",
            "redis_commands_per_s", "machine", "timestamp", "notes", "bars",
            "figures"]
LOCAL = ["decide_p50_ns", "decide_p999_ns", "contended_p50_ns",
         "floor_p50_ns", "ratio_decide_over_floor", "two_engines_p50_ns",
         "idle_wakeups_per_s", "idle_cpu_pct", "propagation_local_ns"]
REDIS = ["propagation_remote_ms", "redis_per_call_p50_ns",
         "ratio_redis_over_decide", "redis_commands_per_s"]
failures = []

def check(path, redis):
    with open(path) as f:
        run = json.load(f)  # exactly one JSON object, or this raises
    name = "with Redis" if redis else "without Redis"
    for key in REQUIRED:
        if key not in run:
            failures.append(f"{name}: missing field {key}")
    for key in ["cpu_model", "cores", "kernel"]:
        if not run.get("machine", {}).get(key):
            failures.append(f"{name}: machine.{key} is empty")
    for key in LOCAL + (REDIS if redis else []):
        if run.get(key) is None:
            failures.append(f"{name}: {key} is null")
    if not redis:
        for key in REDIS:
            if run.get(key) is not None:
                failures.append(f"without Redis: {key} should be null")
        if "no --redis" not in run.get("notes", {}).get("redis", ""):
            failures.append("without Redis: notes.redis does not say why")
    for bar in ["ratio_decide_over_floor", "two_engines_p50_ns",
                "idle_wakeups_per_s", "idle_cpu_pct"]:
        if run.get("bars", {}).get(bar, {}).get("met") is None:
            failures.append(f"{name}: bars.{bar} has no verdict")
    for key in (["decide", "floor", "two_engines", "redis_per_call"] if redis
                else ["decide", "floor", "two_engines"]):
        if not run.get("figures", {}).get(key, {}).get("buckets"):
            failures.append(f"{name}: figures.{key}.buckets is empty")

check(sys.argv[1], redis=False)
check(sys.argv[2], redis=True)
for f in failures:
    print("smoke: FAIL", f, file=sys.stderr)
if not failures:
    print("smoke: both JSON objects have every required field")
sys.exit(1 if failures else 0)
PY

# fleetbench (bench/fleet), short: 8 hosts, 3 episodes, a 2 s long episode.
fleetbench=$(dirname "$vixbench")/../fleet/fleetbench
[[ -x $fleetbench ]] || { echo "smoke: no fleetbench at $fleetbench" >&2; exit 1; }
echo "smoke: fleetbench with redis://127.0.0.1:$port"
"$fleetbench" --json --redis "redis://127.0.0.1:$port" --hosts 8 --rounds 3 \
  --long-seconds 2 > "$work/fleet.json" 2> "$work/fleet.err" ||
  { cat "$work/fleet.err" >&2; exit 1; }
python3 - "$work/fleet.json" << 'PY'
import json, sys
run = json.load(open(sys.argv[1]))
missing = [k for k in ["adoption_ms", "commands_per_host_per_s",
                       "redis_cpu_s_per_s", "redis_memory", "bars",
                       "meets_bars", "machine", "command"] if k not in run]
if run.get("adoption_ms", {}).get("samples", 0) != 3 * 7:
    missing.append("adoption_ms.samples != 21")
for m in missing:
    print("smoke: FAIL fleet:", m, file=sys.stderr)
sys.exit(1 if missing else 0)
PY
echo "smoke: fleetbench JSON has every required field"

if /usr/bin/python3 -c 'import matplotlib' 2> /dev/null; then
  /usr/bin/python3 "$root/scripts/plot_latency.py" "$work/redis.json" "$work/latency.png"
  [[ -s $work/latency.png ]] || { echo "smoke: the plot is empty" >&2; exit 1; }
  echo "smoke: plot_latency.py wrote a PNG"
else
  echo "smoke: python3-matplotlib not installed: plot not checked"
fi
echo "smoke: OK"
