#!/usr/bin/python3
"""Plots vixbench's latency distributions (decision vs per-call Redis).

    build/bench/vixbench/vixbench --json --redis redis://127.0.0.1:6379 > run.json
    /usr/bin/python3 scripts/plot_latency.py run.json docs/latency.png

Needs Debian's python3-matplotlib (apt-get install python3-matplotlib).
Left: each distribution's histogram on a log time axis (share of samples
per bucket, buckets 20 per decade). Right: latency by percentile on a log
axis, with the SPEC 10 bars. A figure that was not measured is left out.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402

# (key in "figures", legend label, colour)
SERIES = [
    ("decide", "decision, one thread (panic, steady)", "tab:green"),
    ("decide_calm", "decision, one thread (normal, no episode)", "tab:olive"),
    ("contended", "decision while another process writes the scope", "tab:orange"),
    ("propagation_local", "episode start seen by another process", "tab:purple"),
    ("redis_per_call", "predecessor: SET NX EX + GET + EXPIRE per call", "tab:red"),
]
PERCENTILES = [("p50_ns", 50), ("p90_ns", 90), ("p99_ns", 99), ("p999_ns", 99.9)]


def measured(run):
    figures = run.get("figures", {})
    for key, label, colour in SERIES:
        figure = figures.get(key)
        if figure and figure.get("measured") and figure.get("buckets"):
            yield key, label, colour, figure


def plot_histograms(axis, run):
    for _, label, colour, figure in measured(run):
        buckets = figure["buckets"]
        total = sum(count for _, _, count in buckets)
        edges = [low for low, _, _ in buckets] + [buckets[-1][1]]
        shares = [count / total for _, _, count in buckets]
        axis.stairs(shares, edges, color=colour, label=label, linewidth=1.4)
        axis.axvline(figure["p50_ns"], color=colour, linestyle=":", linewidth=1)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("latency per call (ns, log scale)")
    axis.set_ylabel("share of samples per bucket (log scale)")
    axis.set_title("distributions (dotted: p50)")
    axis.grid(True, which="major", alpha=0.3)


def plot_percentiles(axis, run):
    for _, label, colour, figure in measured(run):
        points = [(q, figure[k]) for k, q in PERCENTILES if figure.get(k)]
        axis.plot([str(q) for q, _ in points], [v for _, v in points],
                  marker="o", color=colour, label=label)
    for value, text in [(5, "bar: decision p50 5 ns"),
                        (50, "bar: decision p99.9 50 ns"),
                        (1000, "bar: local propagation 1 µs")]:
        axis.axhline(value, color="grey", linestyle="--", linewidth=0.8)
        axis.annotate(text, (0, value), fontsize=7, color="grey",
                      xytext=(2, 2), textcoords="offset points")
    axis.set_yscale("log")
    axis.set_xlabel("percentile (medians of repetitions)")
    axis.set_ylabel("latency (ns, log scale)")
    ratio = run.get("ratio_redis_over_decide")
    axis.set_title("by percentile" +
                   (f"; Redis / decision p50 = {ratio:,.0f}x" if ratio else ""))
    axis.grid(True, which="major", alpha=0.3)


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: plot_latency.py RUN.json OUT.png")
    with open(argv[1]) as f:
        run = json.load(f)
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    plot_histograms(left, run)
    plot_percentiles(right, run)
    machine = run.get("machine", {})
    fig.suptitle(
        f"vixbench {run.get('timestamp', '')} — {machine.get('cpu_model', '?')}, "
        f"{machine.get('cores', '?')} CPUs, {machine.get('kernel', '?')}"
        f"{' (VM)' if machine.get('virtual_machine') else ''}", fontsize=10)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(argv[2], dpi=110)


if __name__ == "__main__":
    main(sys.argv)
