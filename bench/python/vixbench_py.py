#!/usr/bin/python3
"""The Python benchmark (SPEC 10's Python rows), run with /usr/bin/python3.

  /usr/bin/python3 bench/python/vixbench_py.py --build-dir build/release \\
      --json bench-python.json [--join docs/latency.json]

Figures, each the median over --repetitions interleaved repetitions on one
pinned CPU (--cpu, default the last one):
  decide        Engine.decide(scope, 'panic', 60, 'high') with a precomputed
                scope and stakes, episode running
  noop          _vixbench_noop.noop(same four arguments) -> new (int, str)
                tuple: a bare METH_FASTCALL C function (the bar's baseline)
  get_ttl       compat vix_circuit_breaker.get_ttl(60, 'panic', context)
  get_adaptive  compat vix_circuit_breaker.get_adaptive_ttl('panic', 60)
  redis         the predecessor's per-call protocol with redis-py against a
                real redis-server started here: SET key ts NX EX 86400, GET,
                EXPIRE key 86400 (its panic path), one call timed at a time
Fast calls are timed in batches of --batch calls (time.perf_counter_ns
around a `for` loop), so p50 is the median of batch means; the loop's own
cost is included in every figure alike (and reported as `loop`).
(`bare_loop`, the loop alone, gives decide/noop with it subtracted too.)
Bars (SPEC 10): decide p50 <= 1.5 x noop p50 (same run); get_ttl p50 <=
500 ns; redis p50 / get_ttl p50 >= 300.

The JSON has vixbench's shape (flat `python_*` keys, `figures`, `bars`,
`notes`); --join merges it into a vixbench --json report and writes the
union to --json.
"""

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default="build/release")
    p.add_argument("--json", help="write the report here (default stdout)")
    p.add_argument("--join", help="a vixbench --json report to merge into")
    p.add_argument("--cpu", type=int, default=os.cpu_count() - 1)
    p.add_argument("--repetitions", type=int, default=15)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--batches", type=int, default=300,
                   help="batches per figure per repetition")
    p.add_argument("--redis-calls", type=int, default=2000)
    return p.parse_args()


def batch_means(call, args, batch, batches):
    """Per-call ns of `batches` timed batches of `batch` calls; with call
    None, of the timing loop alone."""
    clock = time.perf_counter_ns
    loop = range(batch)
    out = []
    for _ in range(batches):
        if call is None:
            t0 = clock()
            for _ in loop:
                pass
        else:
            t0 = clock()
            for _ in loop:
                call(*args)
        out.append((clock() - t0) / batch)
    return out


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def start_redis():
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("vixbench_py: redis-server is not installed "
                 "(tools/setup.sh test)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="vixbench-py-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", tmp],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                sys.exit("vixbench_py: redis-server did not start")
            time.sleep(0.02)
    return proc, tmp, client, port


def predecessor_call(client, key="brain:panic_start_ts"):
    """What the predecessor did per get_ttl during a panic."""
    client.set(key, time.time(), nx=True, ex=86400)
    stored = client.get(key)
    if stored is not None:
        client.expire(key, 86400)
    return float(stored)


def time_each(call, n):
    clock = time.perf_counter_ns
    out = []
    for _ in range(n):
        t0 = clock()
        call()
        out.append(clock() - t0)
    return out


def figure(samples_by_rep, note):
    p50s = [statistics.median(r) for r in samples_by_rep]
    all_samples = [x for r in samples_by_rep for x in r]
    return {
        "measured": True,
        "samples": len(all_samples),
        "p50_ns": statistics.median(p50s),
        "p99_ns": percentile(all_samples, 0.99),
        "min_ns": min(all_samples),
        "p50_by_repetition_ns": p50s,
        "note": note,
    }


def bar(value, limit, pass_if, text):
    met = value <= limit if pass_if == "value <= limit" else value >= limit
    return {"value": value, "limit": limit, "pass_if": pass_if, "met": met,
            "bar": text}


def main():
    a = parse_args()
    build = os.path.abspath(a.build_dir)
    sys.path[:0] = [os.path.join(build, "python")]
    import _vixbench_noop
    import vixbreaker
    os.sched_setaffinity(0, {a.cpu})
    segment = f"vixbench-py-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    os.environ["VIX_SEGMENT"] = segment
    from vixbreaker import compat
    redis_proc, redis_dir, client, port = start_redis()
    try:
        engine = vixbreaker.Engine(segment, log_fd=-1)
        scope, stakes = engine.global_scope, engine.classify("UCL Final")
        decide, noop = engine.decide, _vixbench_noop.noop
        breaker = compat.vix_circuit_breaker
        get_ttl, adaptive = breaker.get_ttl, breaker.get_adaptive_ttl
        context = {"league": "Premier League", "competition": "Matchday 12"}
        decide(scope, "panic", 60, stakes)  # the episode runs from here

        def empty():
            pass
        fast = {
            "loop": (empty, ()),
            "noop": (noop, (scope, "panic", 60, stakes)),
            "decide": (decide, (scope, "panic", 60, stakes)),
            "get_ttl": (get_ttl, (60, "panic", context)),
            "get_adaptive": (adaptive, ("panic", 60)),
        }
        reps = {name: [] for name in fast}
        reps["redis"] = []
        reps["bare_loop"] = []
        ratios = []
        net_ratios = []
        for rep in range(a.repetitions + 1):  # the first is warm-up
            this = {}
            for name, (call, args) in fast.items():
                this[name] = batch_means(call, args, a.batch, a.batches)
            this["bare_loop"] = batch_means(None, (), a.batch, a.batches)
            this["redis"] = time_each(lambda: predecessor_call(client),
                                      a.redis_calls)
            if rep == 0:
                continue
            for name, samples in this.items():
                reps[name].append(samples)
            m = {n: statistics.median(v) for n, v in this.items()}
            ratios.append(m["decide"] / m["noop"])
            net_ratios.append((m["decide"] - m["bare_loop"]) /
                              (m["noop"] - m["bare_loop"]))
        status = engine.status()
    finally:
        redis_proc.terminate()
        redis_proc.wait()
        shutil.rmtree(redis_dir, ignore_errors=True)
        try:
            os.unlink(f"/dev/shm/{segment}")
        except FileNotFoundError:
            pass

    how = (f"/usr/bin/python3 {platform.python_version()}, pinned to CPU "
           f"{a.cpu}, {a.repetitions} interleaved repetitions (plus one "
           f"warm-up), each {a.batches} batches of {a.batch} calls timed "
           "with perf_counter_ns around a for loop: per-call = batch / "
           "calls, percentiles are of batch means, loop cost included")
    notes = {
        "loop": "an empty Python function; " + how,
        "bare_loop": "the timing loop alone (for _ in range: pass); " + how,
        "noop": "_vixbench_noop.noop(scope, 'panic', 60, stakes) -> new "
                "(int, str) tuple, METH_FASTCALL; " + how,
        "decide": "Engine.decide(scope, 'panic', 60, stakes), precomputed "
                  "scope and stakes, episode running; " + how,
        "get_ttl": "compat vix_circuit_breaker.get_ttl(60, 'panic', "
                   "{'league': 'Premier League', ...}); " + how,
        "get_adaptive": "compat vix_circuit_breaker.get_adaptive_ttl("
                        "'panic', 60); " + how,
        "redis": f"redis-py {__import__('redis').__version__} against "
                 f"redis-server on 127.0.0.1:{port}: SET NX EX, GET, EXPIRE "
                 f"per call, {a.redis_calls} calls per repetition, each "
                 "timed alone",
    }
    figures = {f"python_{n}": figure(reps[n], notes[n]) for n in reps}
    p50 = {n: figures[f"python_{n}"]["p50_ns"] for n in reps}
    ratio = statistics.median(ratios)
    redis_ratio = p50["redis"] / p50["get_ttl"]
    report = {
        "schema_version": 1,
        "python_timestamp": time.time(),
        "python_machine": {"cpu_count": os.cpu_count(),
                           "kernel": platform.release(),
                           "load_average_1m_at_end": os.getloadavg()[0]},
        "python_decide_p50_ns": p50["decide"],
        "python_noop_p50_ns": p50["noop"],
        "python_decide_over_noop": ratio,
        "python_decide_over_noop_loop_subtracted": statistics.median(
            net_ratios),
        "python_get_ttl_p50_ns": p50["get_ttl"],
        "python_get_adaptive_ttl_p50_ns": p50["get_adaptive"],
        "python_redis_protocol_p50_ns": p50["redis"],
        "python_ratio_redis_over_get_ttl": redis_ratio,
        "python_decisions_counted": sum(
            status["totals"]["all"]["decisions"].values()),
        "figures": figures,
        "bars": {
            "python_decide_over_noop": bar(
                ratio, 1.5, "value <= limit",
                "Engine.decide p50 <= 1.5x a METH_FASTCALL no-op with the "
                "same arguments returning a new (int, str) tuple, same run "
                "(median of per-repetition ratios)"),
            "python_get_ttl_p50_ns": bar(
                p50["get_ttl"], 500, "value <= limit",
                "compat get_ttl p50 <= 500 ns"),
            "python_ratio_redis_over_get_ttl": bar(
                redis_ratio, 300, "value >= limit",
                "predecessor's per-call protocol with redis-py / compat "
                "get_ttl >= 300x, same run"),
        },
        "notes": {f"python_{n}": notes[n] for n in notes},
    }
    if a.join:
        with open(a.join) as f:
            joined = json.load(f)
        for key in ("figures", "bars", "notes"):
            joined.setdefault(key, {}).update(report.pop(key))
        joined.update(report)
        report = joined
    text = json.dumps(report, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    print(f"decide/noop with the bare loop subtracted: "
          f"{report['python_decide_over_noop_loop_subtracted']:.2f}",
          file=sys.stderr)
    for name in ("bare_loop", "loop", "noop", "decide", "get_ttl", "get_adaptive",
                 "redis"):
        print(f"{name:13s} p50 {p50[name]:12.1f} ns", file=sys.stderr)
    for name, b in report["bars"].items():
        if name.startswith("python_"):
            print(f"{name}: {b['value']:.2f} (limit {b['limit']}) "
                  f"{'met' if b['met'] else 'NOT MET'}", file=sys.stderr)


if __name__ == "__main__":
    main()
