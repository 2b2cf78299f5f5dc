"""A Python process and a C++ process (vixctl) on one segment agree."""

import time

import pytest

from conftest import total_decisions, vixctl_json
from vixbreaker.compat import vix_circuit_breaker


def test_vixctl_episode_is_seen_by_python_and_back(engine, segment):
    cli = vixctl_json("decide", "--status", "panic", "--stakes", "high",
                      segment=segment)
    assert cli["first_writer"] and cli["tier"] == 1
    d = engine.decide(engine.global_scope, "panic", 60, "high")
    assert not d.first_writer
    assert d.episode_start == pytest.approx(cli["episode_start"], abs=1e-6)

    # Python forces an old start; vixctl decides from it.
    start = time.time() - 200 * 60
    engine.panic_start(at=start)
    cli = vixctl_json("decide", "--status", "panic", "--stakes", "medium",
                      segment=segment)
    assert (cli["tier"], cli["mode"], cli["ttl"], cli["reason"]) == (
        4, "NEW_NORMAL", 60, "forced")
    assert cli["episode_start"] == pytest.approx(start, abs=1e-3)
    # vixctl ends it; Python sees calm.
    assert vixctl_json("panic", "end", segment=segment)["ended"]
    assert engine.decide(engine.global_scope, "normal", 60, "high").tier == 0
    assert total_decisions(vixctl_json("status", segment=segment)) == 4


def test_compat_and_vixctl_share_the_window_and_the_episode(segment):
    assert vix_circuit_breaker.get_adaptive_ttl("panic") == (5, "adaptive")
    assert vixctl_json("window", "--status", "panic", segment=segment) == {
        "ttl": 10, "strategy": "adaptive", "breaker_mode": "circuit_open",
        "panic_ratio": 1.0}
    assert vix_circuit_breaker.mode.value == "circuit_open"
    vixctl_json("panic", "start", "--at", repr(time.time() - 20 * 60),
                segment=segment)
    assert vix_circuit_breaker.get_ttl(60, "panic", {"league": "x"}) == (
        5, "PANIC_PARTIAL")
