"""The native API (SPEC 13): engine, scopes, decisions, admin, window,
detector, status, and bad input with vixctl's messages."""

import time

import pytest

import vixbreaker
from conftest import total_decisions, vixctl, vixctl_json


def vixctl_error(*args):
    """vixctl's one-line error without its 'vixctl: ' prefix."""
    result = vixctl(*args, check=False)
    assert result.returncode == 2, result
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("vixctl: ")
    return line[len("vixctl: "):]


def test_default_segment_follows_vix_segment(segment):
    assert vixbreaker.default_segment() == segment
    assert vixbreaker.Engine(log_fd=-1).segment == segment


def test_decide_starts_one_episode_and_reports_fields(engine):
    scope = engine.global_scope
    first = engine.decide(scope, "panic", 60, "high")
    second = engine.decide(scope, "panic", 60, engine.classify("Ligue 1"))
    assert (first.ttl, first.mode, first.tier, first.stakes, first.reason) == (
        0, "PANIC_FULL", 1, "high_stakes", "tier")
    assert first.first_writer and not second.first_writer
    assert second.stakes == "medium_stakes"
    assert first.episode_start == second.episode_start
    assert abs(first.episode_start - time.time()) < 60
    assert first.as_dict() == {
        "ttl": 0, "mode": "PANIC_FULL", "tier": 1, "stakes": "high_stakes",
        "reason": "tier", "episode_start": first.episode_start,
        "first_writer": True}
    calm = engine.decide(scope, "normal", 42, "low_stakes")
    assert (calm.ttl, calm.mode, calm.tier, calm.reason,
            calm.episode_start) == (42, "NORMAL", 0, "no_episode", None)


def test_mode_strings_are_interned(engine):
    scope = engine.global_scope
    a = engine.decide(scope, "normal", 60, "low")
    b = engine.decide(scope, "normal", 60, "low")
    assert a.mode is b.mode is "NORMAL"  # noqa: F632 (identity on purpose)


def test_named_scopes_are_independent(engine):
    cup = engine.scope("cup")
    assert engine.find_scope("nope") is None
    assert engine.find_scope("cup").name == "cup"
    engine.decide(cup, "panic", 60, "low")
    assert engine.decide(engine.global_scope, "normal", 60, "low").tier == 0
    assert engine.decide(cup, "warning", 60, "low").tier == 0
    assert engine.episode("cup")["episodes_ended"] == 1


def test_removed_scope_handle_decides_fail_safe(engine):
    old = engine.scope("market-x")
    engine.decide(old, "panic", 60, "low")
    with pytest.raises(vixbreaker.Error) as error:
        engine.remove_scope("market-x")
    assert error.value.code == "FAILED_PRECONDITION"
    engine.decide(old, "normal", 60, "low")
    engine.remove_scope("market-x")
    assert engine.find_scope("market-x") is None
    d = engine.decide(old, "panic", 60, "low")
    assert d.stale_scope and d.reason == "failsafe"
    fresh = engine.scope("market-x")
    assert not engine.decide(fresh, "normal", 60, "low").stale_scope
    with pytest.raises(vixbreaker.Error) as error:
        engine.remove_scope("market-x-absent")
    assert error.value.code == "NOT_FOUND"


def test_forced_start_gives_tier_and_reason_forced(engine):
    start = time.time() - 100 * 60
    result = engine.panic_start(at=start)
    assert result["forced"] and result["replaced_start"] is None
    assert result["episode_start"] == pytest.approx(start, abs=1e-3)
    d = engine.decide(engine.global_scope, "normal", 60, "medium")
    assert (d.tier, d.mode, d.ttl, d.reason) == (3, "DEGRADED", 30, "forced")
    assert engine.panic_end() == {"scope": "global", "ended": True}
    assert engine.panic_end() == {"scope": "global", "ended": False}


def test_bad_input_raises_value_error_with_vixctl_message(engine):
    scope = engine.global_scope
    cases = [
        (("Panic", 60, "low"), ("decide", "--status", "Panic")),
        (("panic", -1, "low"), ("decide", "--status", "panic",
                                "--base-ttl", "-1")),
        (("panic", 2**31, "low"), ("decide", "--status", "panic",
                                   "--base-ttl", str(2**31))),
        (("panic", 60, "hi"), ("decide", "--status", "panic",
                               "--stakes", "hi")),
    ]
    for args, cli in cases:
        with pytest.raises(ValueError) as error:
            engine.decide(scope, *args)
        assert str(error.value) == vixctl_error(*cli), args
    with pytest.raises(ValueError) as error:
        engine.panic_start(at=float("nan"))
    assert str(error.value) == vixctl_error("panic", "start", "--at", "nan")
    with pytest.raises(ValueError) as error:
        engine.scope("a/b")
    assert str(error.value) == vixctl_error("decide", "--status", "normal",
                                            "--scope", "a/b")
    with pytest.raises(TypeError):
        engine.decide(scope, "panic", "60", "low")
    with pytest.raises(TypeError):
        engine.decide("global", "panic", 60, "low")
    with pytest.raises(TypeError):
        engine.decide(scope, "panic", 60)
    with pytest.raises(ValueError):
        vixbreaker.Engine("bad/name")
    with pytest.raises(ValueError):
        vixbreaker.Engine(config="tiers.high = 10, 5, 1\n")


def test_scope_of_another_engine_is_refused(engine, segment):
    other = vixbreaker.Engine(segment, log_fd=-1)
    with pytest.raises(ValueError):
        engine.decide(other.global_scope, "normal", 60, "low")


def test_config_text_changes_the_tiers(segment):
    eng = vixbreaker.Engine(segment, log_fd=-1,
                            config="tiers.low = 1, 2, 3\nttls.low = 7, 8, 9\n")
    eng.panic_start(at=time.time() - 150)
    d = eng.decide(eng.global_scope, "panic", 60, "low")
    assert (d.tier, d.ttl) == (3, 8)


def test_status_equals_vixctl_status_json(engine, segment):
    engine.decide(engine.global_scope, "panic", 60, "high")
    engine.scope("market-1")
    engine.flush_logs()
    now = repr(time.time())
    mine = engine.status(now=now)
    theirs = vixctl_json("status", "--now", now, segment=segment)
    # The engine's background thread stamps its heartbeat between the two
    # reads; every other field is the same JSON.
    for status in (mine, theirs):
        for process in status["processes"]:
            assert set(process) >= {"heartbeat", "heartbeat_age_s"}
            del process["heartbeat"], process["heartbeat_age_s"]
    assert mine == theirs
    assert total_decisions(engine.status()) == 1


def test_window_record_matches_vixctl_window(engine, segment):
    window = engine.window(log_fd=-1)
    assert window.record("panic") == {
        "ttl": 5, "strategy": "adaptive", "breaker_mode": "high_volatility",
        "panic_ratio": 1.0}
    from_cli = vixctl_json("window", "--status", "panic", segment=segment)
    assert from_cli == {"ttl": 10, "strategy": "adaptive",
                        "breaker_mode": "circuit_open", "panic_ratio": 1.0}
    snapshot = window.snapshot()
    assert snapshot["breaker_mode"] == "circuit_open"
    assert snapshot["transitions"] == 2
    assert snapshot["total_samples"] == 2
    with pytest.raises(ValueError):
        engine.window(high_enter=0.2, high_exit=0.3)


def test_zscore_and_detector_match_vixctl():
    history = [1.9, 2.0, 2.1, 2.0]
    cli = vixctl_json("zscore", "--history", "1.9,2.0,2.1,2.0",
                      "--current", "2.5")
    assert vixbreaker.zscore(history, 2.5) == pytest.approx(cli)
    with pytest.raises(ValueError):
        vixbreaker.zscore([], 2.0)
    with pytest.raises(ValueError):
        vixbreaker.zscore([1.0, float("inf")], 2.0)
    detector = vixbreaker.VolatilityDetector()
    for i, odds in enumerate(history):
        detector.observe("1x2", odds, now=1000.0 + i)
    assert detector.observe("1x2", 2.5, now=1005.0)["status"] == "panic"
    assert detector.match_status(now=1005.0) == "panic"
    assert detector.sample_count("1x2") == 5


def test_policy_matches_vixctl_policy():
    for status, age, stakes in [("panic", "45", "low"), ("panic", "-2", "high"),
                                ("warning", "0", "medium")]:
        cli = vixctl_json("policy", "--status", status, "--age-min", age,
                          "--stakes", stakes)
        assert vixbreaker.policy(status, age_min=float(age),
                                 stakes=stakes) == cli


def test_mirror_starts_stops_and_reports_health(engine, redis_server):
    url = f"redis://:{redis_server.password}@127.0.0.1:{redis_server.port}/0"
    with engine.start_mirror(url, log_fd=-1) as mirror:
        assert redis_server.password not in mirror.endpoint
        assert redis_server.password not in repr(mirror)
        from conftest import wait_until
        wait_until(lambda: mirror.health()["redis"]["connected"],
                   "mirror connected")
        assert mirror.health()["healthy"]
        engine.decide(engine.global_scope, "panic", 60, "low")
        wait_until(lambda: redis_server.client.get("brain:panic_start_ts"),
                   "the episode published to Redis")
    assert not mirror.running
    with pytest.raises(ValueError):
        engine.start_mirror("http://nope")


def test_full_scope_table_is_an_error_with_a_code(engine):
    with pytest.raises(vixbreaker.Error) as error:
        for i in range(5000):
            engine.scope(f"market-{i}")
    assert error.value.code == "RESOURCE_EXHAUSTED"
    assert engine.decide(engine.global_scope, "normal", 60, "low").tier == 0


def test_corrupt_segment_raises_or_fails_safe(segment):
    with open(f"/dev/shm/{segment}", "wb") as f:
        f.write(b"not a vixbreaker segment" * 1000)
    with pytest.raises(vixbreaker.Error) as error:
        vixbreaker.Engine(segment, log_fd=-1)
    assert error.value.code in ("DATA_LOSS", "FAILED_PRECONDITION")
    eng = vixbreaker.Engine(segment, log_fd=-1, failsafe=True)
    assert eng.segment_error
    d = eng.decide(eng.global_scope, "panic", 60, "high")
    assert (d.ttl, d.mode, d.reason) == (0, "PANIC_FULL", "failsafe")
    assert eng.decide(eng.global_scope, "normal", 60, "high").ttl == 60
    with pytest.raises(vixbreaker.Error):
        eng.status()
