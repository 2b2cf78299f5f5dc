"""Processes and threads as Python services run them (SPEC 13, 15): an
engine opened before os.fork(), multiprocessing with fork and spawn,
thread pools replaced thousands of times; totals equal decisions made.

These exercise the engine's fork and thread-exit handling in shm/: no call
from user code, no re-opening."""

import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import vixbreaker
from conftest import WAIT_S, total_decisions
from vixbreaker import compat

CHILDREN = 4
PER_CHILD = 2000


def wait_child(pid):
    """Waits (bounded) for a forked child; returns its exit code."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail(f"forked child {pid} did not exit within {WAIT_S:.0f} s")


def fork_children(body):
    """Runs body() in CHILDREN forked children; each exits 0 if body()
    returns normally. Returns their exit codes."""
    pids = []
    for _ in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                body()
                code = 0
            except BaseException as e:  # noqa: BLE001 (report, then exit)
                os.write(2, f"child {os.getpid()}: {e!r}\n".encode())
            os._exit(code)
        pids.append(pid)
    return [wait_child(pid) for pid in pids]


def test_engine_opened_before_fork_decides_in_children(engine):
    scope = engine.scope("forked")
    assert engine.decide(scope, "normal", 60, "low").tier == 0
    parent_pid = os.getpid()

    def body():
        for _ in range(PER_CHILD):
            d = engine.decide(scope, "panic", 60, "low")
            assert d.tier == 1 and d.mode == "PANIC_FULL", d

    assert fork_children(body) == [0] * CHILDREN
    status = engine.status()
    assert total_decisions(status) == 1 + CHILDREN * PER_CHILD
    mine = [p for p in status["processes"] if p["pid"] == parent_pid]
    # The children never wrote the parent's slot.
    assert sum(sum(p["counters"]["decisions"].values()) for p in mine) == 1, mine
    assert status["scopes"][1]["episodes_started"] == 1


def test_forked_child_has_a_live_clock(engine):
    scope = engine.global_scope
    # Low stakes reach tier 2 at 15 min; the child must see the start age.
    # 3 s before it: room for a loaded ASan interpreter between the two.
    engine.panic_start(at=time.time() - 15 * 60 + 3.0)
    assert engine.decide(scope, "panic", 60, "low").tier == 1

    def body():
        deadline = time.monotonic() + 15
        while engine.decide(scope, "panic", 60, "low").tier != 2:
            assert time.monotonic() < deadline, "child's clock is frozen"
            time.sleep(0.05)

    assert fork_children(body) == [0] * CHILDREN


def test_one_first_writer_among_forked_children(engine, tmp_path):
    scope = engine.scope("race")

    def body():
        d = engine.decide(scope, "panic", 60, "high")
        (tmp_path / str(os.getpid())).write_text(str(d.first_writer))

    assert fork_children(body) == [0] * CHILDREN
    results = [p.read_text() for p in tmp_path.iterdir()]
    assert sorted(results) == ["False"] * (CHILDREN - 1) + ["True"]


def compat_worker(n):
    """Decides n times through the compat singleton; returns the episode
    start seen (a pool worker under fork or spawn)."""
    start = None
    for _ in range(n):
        ttl, mode = compat.vix_circuit_breaker.get_ttl(
            60, "panic", {"league": "Ligue 1"})
        assert (ttl, mode) == (0, "PANIC_FULL")
    start = compat.vix_circuit_breaker.engine.episode()["episode_start"]
    return os.getpid(), start


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_pool_shares_the_episode(segment, method):
    breaker = compat.vix_circuit_breaker
    assert breaker.get_ttl(60, "panic") == (0, "PANIC_FULL")  # opened here
    start = breaker.engine.episode()["episode_start"]
    context = multiprocessing.get_context(method)
    with context.Pool(4) as pool:
        results = pool.map_async(compat_worker, [500] * 8).get(WAIT_S * 4)
    assert {s for _, s in results} == {start}
    assert all(pid != os.getpid() for pid, _ in results)
    assert total_decisions(breaker.engine.status()) == 1 + 8 * 500


def test_thread_pools_replaced_thousands_of_times(engine):
    scope = engine.global_scope
    rounds, threads, per_thread = 1000, 3, 5

    def work(_):
        for _ in range(per_thread):
            engine.decide(scope, "normal", 60, "low")

    for _ in range(rounds):
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(work, range(threads)))
    status = engine.status()
    assert total_decisions(status) == rounds * threads * per_thread
    # Exited threads gave their slots back.
    assert status["totals"]["slots_in_use"] <= threads + 1, status["totals"]


def test_totals_equal_decisions_across_engines(segment):
    a = vixbreaker.Engine(segment, log_fd=-1)
    b = vixbreaker.Engine(segment, log_fd=-1)
    for i in range(300):
        a.decide(a.global_scope, "warning", 60, "high")
        b.decide(b.global_scope, "normal", 60, "medium")
    assert total_decisions(a.status()) == 600
