"""vixbreaker.compat: the predecessor's API (SPEC 13) and the deliberate
differences of SPEC 2.3 and 6, on a fresh segment per test."""

import math
import time

import pytest

from conftest import total_decisions, wait_until
from vixbreaker import compat
from vixbreaker.compat import (AdaptivePanicQuota, CircuitBreakerMode,
                               MatchImportance, PanicMode, VIXCircuitBreaker,
                               vix_circuit_breaker)

CONTEXTS = {
    "high_stakes": {"league": "Liga", "competition": "UCL Final"},
    "medium_stakes": {"league": "Ligue 1", "competition": "J12"},
    "low_stakes": {"league": "Ligue 2"},
}
# SPEC 2.2: minutes at which tiers 2, 3, 4 start; TTLs of tiers 2, 3, 4.
TABLE = {
    "high_stakes": ((60, 180, 360), (5, 30, 60)),
    "medium_stakes": ((30, 90, 180), (5, 30, 60)),
    "low_stakes": ((15, 45, 90), (5, 20, 45)),
}
MODES = [PanicMode.NORMAL, PanicMode.PANIC_FULL, PanicMode.PANIC_PARTIAL,
         PanicMode.DEGRADED, PanicMode.NEW_NORMAL]


def force_age(minutes):
    """Forces the host's global episode to have started `minutes` ago."""
    vix_circuit_breaker.engine.panic_start(at=time.time() - minutes * 60)


def expected(stakes, minutes):
    starts, ttls = TABLE[stakes]
    tier = 1 + sum(minutes >= s for s in starts)
    return (0 if tier == 1 else ttls[tier - 2]), MODES[tier]


def test_constants_and_names():
    assert (MatchImportance.HIGH_STAKES, MatchImportance.MEDIUM_STAKES,
            MatchImportance.LOW_STAKES) == ("high_stakes", "medium_stakes",
                                            "low_stakes")
    assert [m.value for m in CircuitBreakerMode] == [
        "normal", "high_volatility", "circuit_open"]
    assert compat.PANIC_START_TS_KEY == "brain:panic_start_ts"
    assert compat.PANIC_TS_TTL_SECONDS == 86400


@pytest.mark.parametrize("stakes", sorted(TABLE))
def test_tier_table_through_get_ttl_with_forced_start(segment, stakes):
    starts, _ = TABLE[stakes]
    ages = [0.5]
    # Just before and just after each start (3 s: the hot path's cached
    # clock may lag the precise one that stamped the forced start, more so
    # on a loaded machine; exactly on a threshold is covered by the pure
    # calculate_ttl_strategy below).
    for s in starts:
        ages += [s - 0.1, s + 0.05, s + 0.1]
    ages.append(starts[-1] * 10)
    for minutes in ages:
        force_age(minutes)
        got = vix_circuit_breaker.get_ttl(60, "panic", CONTEXTS[stakes])
        assert got == expected(stakes, minutes), (stakes, minutes)
        # A forced episode is not ended by a calm observation.
        assert vix_circuit_breaker.get_ttl(
            60, vix_status="normal",
            match_context=CONTEXTS[stakes]) == expected(stakes, minutes)


def test_calm_gives_base_ttl_and_panic_starts_tier_1(segment):
    assert vix_circuit_breaker.get_ttl(60) == (60, "NORMAL")
    assert vix_circuit_breaker.get_ttl(7, "warning", {}) == (7, "NORMAL")
    # Difference 1: a fresh episode (age 0) is tier 1, never NORMAL; and
    # without Redis the episode is the segment's, not a fail-safe.
    assert vix_circuit_breaker.get_ttl(60, "panic") == (0, "PANIC_FULL")
    episode = vix_circuit_breaker.engine.episode()
    assert episode["active"] and not episode["forced"]
    assert vix_circuit_breaker.get_ttl(60, "normal") == (60, "NORMAL")
    assert not vix_circuit_breaker.engine.episode()["active"]


def test_future_start_is_tier_1_and_an_anomaly(segment):
    vix_circuit_breaker.engine.panic_start(at=time.time() + 600)
    assert vix_circuit_breaker.get_ttl(60, "panic", CONTEXTS["low_stakes"]) \
        == (0, "PANIC_FULL")
    status = vix_circuit_breaker.engine.status()
    assert status["totals"]["all"]["anomalies"] >= 1


def test_status_is_parsed_strictly(segment):
    for bad in ("Panic", "PANIC", " panic", "", "calm"):
        with pytest.raises(ValueError, match="unknown status"):
            vix_circuit_breaker.get_ttl(60, bad)
        with pytest.raises(ValueError, match="unknown status"):
            vix_circuit_breaker.get_adaptive_ttl(bad)
    with pytest.raises(TypeError):
        vix_circuit_breaker.get_ttl(60, None)


def test_bad_base_ttl_and_context(segment):
    for bad in (-1, 2**31, 10**30):
        with pytest.raises(ValueError, match="bad base TTL"):
            vix_circuit_breaker.get_ttl(bad, "normal")
    with pytest.raises(TypeError):
        vix_circuit_breaker.get_ttl("60", "normal")
    with pytest.raises(TypeError):
        vix_circuit_breaker.get_ttl(60, "panic", {"league": None})
    with pytest.raises(TypeError):
        vix_circuit_breaker.get_ttl()
    with pytest.raises(TypeError):
        vix_circuit_breaker.get_ttl(60, "normal", None, 4)
    with pytest.raises(TypeError):
        vix_circuit_breaker.get_ttl(60, status="normal")
    with pytest.raises(TypeError):
        vix_circuit_breaker.get_ttl(60, base_ttl=60)


def test_classification_cache_follows_a_mutated_dict(segment):
    breaker = VIXCircuitBreaker()
    force_age(20)  # low: tier 2 (from 15 min); medium: tier 1 (until 30)
    context = {"league": "Ligue 2"}
    assert breaker.get_ttl(60, "panic", context) == (5, "PANIC_PARTIAL")
    context["league"] = "Ligue 1"
    assert breaker.get_ttl(60, "panic", context) == (0, "PANIC_FULL")
    force_age(40)  # medium: tier 2 (from 30 min); high: tier 1 (until 60)
    assert breaker.get_ttl(60, "panic", context) == (5, "PANIC_PARTIAL")
    context["competition"] = "Coupe de France - Final"
    assert breaker.get_ttl(60, "panic", context) == (0, "PANIC_FULL")
    assert MatchImportance.classify(context) == "high_stakes"
    entries = breaker._vix_cached_contexts
    for _ in range(1000):  # equal dicts share an entry
        breaker.get_ttl(60, "panic", {"league": "Ligue 1"})
    assert breaker._vix_cached_contexts == entries


def test_any_mapping_with_get(segment):
    class Context:
        def get(self, key, default):
            return {"league": "PREMIER LEAGUE"}.get(key, default)
    assert MatchImportance.classify(Context()) == "medium_stakes"
    assert MatchImportance.classify({"league": "Ucl"}) == "high_stakes"
    assert MatchImportance.classify(None) == "low_stakes"
    force_age(1)
    assert vix_circuit_breaker.get_ttl(60, "panic", Context()) == (
        0, "PANIC_FULL")


def test_calculate_ttl_strategy_metadata():
    quota = AdaptivePanicQuota()
    ttl, mode, meta = quota.calculate_ttl_strategy(60, 0, {})
    assert (ttl, mode) == (60, "NORMAL")
    assert meta == {"panic_active": False, "panic_duration_min": 0,
                    "mode": "NORMAL", "reason": "No panic detected"}
    reasons = {
        1: "Fresh panic - full protection",
        2: "Persistent panic - partial cache to prevent backend overload",
        3: "Extended panic - degraded mode, infrastructure takes priority",
        4: "Chronic panic - accepting as new market baseline"}
    alerts = {3: "REVIEW_MARKET_CONDITIONS",
              4: "MARKET_REGIME_CHANGE_SUSPECTED"}
    for stakes, context in CONTEXTS.items():
        (t2, t3, t4), (p, d, n) = TABLE[stakes]
        for minutes in (1.04, t2, t3 + 0.26, t4 * 2):
            ttl, mode, meta = quota.calculate_ttl_strategy(60, minutes,
                                                           context)
            want_ttl, want_mode = expected(stakes, minutes)
            tier = MODES.index(want_mode)
            assert (ttl, mode) == (want_ttl, want_mode)
            keys = ["panic_active", "panic_duration_min", "match_importance",
                    "thresholds", "mode", "reason", "tier"]
            if tier >= 3:
                keys.append("alert")
                assert meta["alert"] == alerts[tier]
            assert list(meta) == keys
            assert meta["panic_active"] is True
            assert meta["panic_duration_min"] == round(minutes, 1)
            assert isinstance(meta["panic_duration_min"], type(minutes))
            assert meta["match_importance"] == stakes
            assert meta["thresholds"] == {
                "tier1": t2, "tier2": t3, "tier3": t4, "ttl_partial": p,
                "ttl_degraded": d, "ttl_new_normal": n}
            assert all(type(v) is int for v in meta["thresholds"].values())
            assert meta["mode"] == mode and type(meta["tier"]) is int
            assert meta["tier"] == tier and meta["reason"] == reasons[tier]
    # Difference 3: NaN and infinities are bad input (the predecessor
    # turned NaN into tier 4).
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError):
            quota.calculate_ttl_strategy(60, bad)
    # A negative duration (start in the future) is tier 1.
    assert quota.calculate_ttl_strategy(60, -5)[:2] == (0, "PANIC_FULL")
    assert quota.thresholds["low_stakes"]["ttl_degraded"] == 20


def test_window_start_up_sequence_through_get_adaptive_ttl(segment):
    breaker = VIXCircuitBreaker()
    assert breaker.mode is CircuitBreakerMode.NORMAL
    sequence = [
        (("panic",), (5, "adaptive"), "high_volatility"),   # 1/1 > 0.5
        (("panic",), (10, "adaptive"), "circuit_open"),     # 2/2 > 0.8
        (("normal", 90), (60, "normal"), "circuit_open"),   # 2/3 >= 0.6
        (("warning",), (10, "adaptive"), "high_volatility"),  # 2/4 < 0.6
        (("normal", 90), (90, "normal"), "high_volatility"),  # 2/5 >= 0.3
        (("normal",), (60, "normal"), "high_volatility"),   # 2/6 >= 0.3
        (("normal", 45), (45, "normal"), "normal"),         # 2/7 < 0.3
        (("panic",), (0, "bypass"), "normal"),              # 3/8 <= 0.5
        (("warning", None), (60, "normal"), "normal"),
    ]
    for args, want, mode in sequence:
        assert breaker.get_adaptive_ttl(*args) == want, args
        assert breaker.mode is CircuitBreakerMode(mode), args
    breaker.record_panic_status("panic")
    metrics = breaker.get_metrics()
    assert list(metrics) == [
        "mode", "panic_ratio_pct", "window_size", "window_full",
        "window_seconds", "mode_changes_count", "last_mode_change",
        "thresholds"]
    assert metrics["mode"] == "normal"
    assert metrics["panic_ratio_pct"] == round(4 / 10 * 100, 2)
    assert (metrics["window_size"], metrics["window_full"],
            metrics["window_seconds"]) == (10, False, 1800)
    assert metrics["mode_changes_count"] == 4
    assert isinstance(metrics["last_mode_change"], str)
    assert metrics["thresholds"] == {
        "enter_high_vol_pct": 50.0, "exit_high_vol_pct": 30.0,
        "circuit_open_pct": 80.0, "hysteresis_pct": pytest.approx(20.0)}


def test_window_is_shared_by_breakers_of_the_host(segment):
    a, b = VIXCircuitBreaker(), VIXCircuitBreaker()
    a.get_adaptive_ttl("panic")
    assert b.mode is CircuitBreakerMode.HIGH_VOLATILITY
    assert b.get_metrics()["window_size"] == 1


def test_constructor_validation():
    with pytest.raises(ValueError, match="must be 0-1"):
        VIXCircuitBreaker(panic_threshold_enter=1.5)
    with pytest.raises(ValueError, match="hystérésis"):
        VIXCircuitBreaker(panic_threshold_enter=0.3, panic_threshold_exit=0.4)
    with pytest.raises(ValueError, match="1800"):
        VIXCircuitBreaker(window_seconds=60)
    with pytest.raises(TypeError):
        VIXCircuitBreaker(redis_client=object())


def test_totals_equal_compat_decisions(segment):
    for i in range(500):
        vix_circuit_breaker.get_ttl(60, "panic" if i % 3 else "normal",
                                    CONTEXTS["medium_stakes"])
    assert total_decisions(vix_circuit_breaker.engine.status()) == 500


def test_redis_client_starts_the_mirror_without_logging_the_password(
        segment, redis_server, capfd):
    import redis
    client = redis.Redis(host="127.0.0.1", port=redis_server.port,
                         password=redis_server.password)
    breaker = VIXCircuitBreaker(redis_client=client)
    assert breaker.get_ttl(60, "panic") == (0, "PANIC_FULL")
    value = wait_until(lambda: client.get(compat.PANIC_START_TS_KEY),
                       "the start published under the predecessor's key")
    start = breaker.engine.episode()["episode_start"]
    assert float(value) == pytest.approx(start, abs=1e-3)
    assert 0 < client.ttl(compat.PANIC_START_TS_KEY) <= 86400
    # A calm observation ends it here and removes the key (compare-and-
    # delete), as the predecessor's DELETE did.
    breaker.get_ttl(60, "normal")
    wait_until(lambda: client.get(compat.PANIC_START_TS_KEY) is None,
               "the key removed after calm")
    compat._hosts[segment].mirror.stop()
    breaker.engine.flush_logs()
    out, err = capfd.readouterr()
    assert redis_server.password not in out + err
    assert "PANIC_TIMESTAMP_INITIALIZED" in err


def test_redis_client_settings_become_a_mirror_url(segment):
    import redis
    client = redis.Redis(host="127.0.0.1", port=1, db=3, username="app",
                         password="p@ss w/rd:1")
    url = compat._redis_url(client)
    assert url == "redis://app:p%40ss%20w%2Frd%3A1@127.0.0.1:1/3"
    unix = compat._redis_url(redis.Redis(unix_socket_path="/run/r.sock",
                                         password="pw"))
    assert unix == "unix://:pw@/run/r.sock?db=0"
    # The mirror's parser accepts it; Redis need not be up to start.
    engine = compat._host(segment).engine
    with engine.start_mirror(url, log_fd=-1) as mirror:
        assert "p%40ss" not in mirror.endpoint and "***" in mirror.endpoint
