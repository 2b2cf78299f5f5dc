"""Drop-in for the predecessor's public API (SPEC 13).

Change one import line and keep the code:

    # from cache.vix_circuit_breaker import vix_circuit_breaker
    from vixbreaker.compat import vix_circuit_breaker
    ttl, mode = vix_circuit_breaker.get_ttl(60, "panic", {"league": "Ligue 1"})

Same names, signatures and return shapes as the predecessor
(`adaptive_panic_quota.py` and `vix_circuit_breaker.py`), but the state --
the panic start and the rolling window -- is the host's, shared by every
process through the segment (VIX_SEGMENT, else 'vixbreaker'; configuration
from VIX_CONFIG), and a decision takes no Redis round trip. The deliberate
differences are listed in docs/python.md.
"""

import enum
import math
import os
import threading
import urllib.parse
from datetime import datetime, timezone

from . import _native
from . import Engine, default_segment

__all__ = [
    "AdaptivePanicQuota", "CircuitBreakerMode", "MatchImportance",
    "PanicMode", "VIXCircuitBreaker", "vix_circuit_breaker",
    "PANIC_START_TS_KEY", "PANIC_TS_TTL_SECONDS",
]

# The predecessor's Redis key and dead-man's switch (the mirror's defaults).
PANIC_START_TS_KEY = "brain:panic_start_ts"
PANIC_TS_TTL_SECONDS = 86400

# The window the segment keeps (SPEC 6): 1800 buckets of 1 s.
_WINDOW_SECONDS = 1800
# The predecessor's fixed circuit_open -> high_volatility threshold.
_CIRCUIT_CLOSE_THRESHOLD = 0.60


class MatchImportance:
    """Match importance (SPEC 2.1): how long a panic is tolerated."""

    HIGH_STAKES = "high_stakes"
    MEDIUM_STAKES = "medium_stakes"
    LOW_STAKES = "low_stakes"

    @staticmethod
    def classify(match_context):
        """The importance of a match from its 'league' and 'competition'
        (lower-cased with str.lower(), matched by substring against the
        configured keywords, as the predecessor did)."""
        league, competition = _context_strings(match_context)
        return _policy().classify(league.lower(), competition.lower())


class PanicMode:
    """The mode strings get_ttl returns (the tier's name)."""

    NORMAL = "NORMAL"
    PANIC_FULL = "PANIC_FULL"
    PANIC_PARTIAL = "PANIC_PARTIAL"
    DEGRADED = "DEGRADED"
    NEW_NORMAL = "NEW_NORMAL"


class CircuitBreakerMode(enum.Enum):
    """The rolling-window breaker's mode (SPEC 6)."""

    NORMAL = "normal"
    HIGH_VOLATILITY = "high_volatility"
    CIRCUIT_OPEN = "circuit_open"


_REASONS = {
    1: "Fresh panic - full protection",
    2: "Persistent panic - partial cache to prevent backend overload",
    3: "Extended panic - degraded mode, infrastructure takes priority",
    4: "Chronic panic - accepting as new market baseline",
}
_ALERTS = {3: "REVIEW_MARKET_CONDITIONS", 4: "MARKET_REGIME_CHANGE_SUSPECTED"}


def _context_strings(match_context):
    if match_context is None:
        match_context = {}
    league = match_context.get("league", "")
    competition = match_context.get("competition", "")
    for key, value in (("league", league), ("competition", competition)):
        if not isinstance(value, str):
            raise TypeError(f"match_context['{key}'] must be a str, "
                            f"not {type(value).__name__}")
    return league, competition


_policy_lock = threading.Lock()
_policy_cache = {}


def _policy():
    """The policy of VIX_CONFIG (re-read when the variable changes)."""
    key = os.environ.get("VIX_CONFIG") or ""
    policy = _policy_cache.get(key)
    if policy is None:
        with _policy_lock:
            policy = _policy_cache.get(key)
            if policy is None:
                policy = _native._Policy(None)
                _policy_cache[key] = policy
    return policy


def _whole(value):
    """A threshold as the predecessor's table wrote it: an int if whole."""
    return int(value) if float(value).is_integer() else value


class AdaptivePanicQuota:
    """The tier table (SPEC 2), pure: no state, no clock."""

    @property
    def thresholds(self):
        """{importance: {'tier1', 'tier2', 'tier3', 'ttl_partial',
        'ttl_degraded', 'ttl_new_normal'}} from the configuration."""
        return {stakes: self._row(stakes) for stakes in (
            MatchImportance.HIGH_STAKES, MatchImportance.MEDIUM_STAKES,
            MatchImportance.LOW_STAKES)}

    @staticmethod
    def _row(stakes):
        minutes, ttls = _policy().row(stakes)
        return {
            "tier1": _whole(minutes[0]), "tier2": _whole(minutes[1]),
            "tier3": _whole(minutes[2]), "ttl_partial": ttls[0],
            "ttl_degraded": ttls[1], "ttl_new_normal": ttls[2],
        }

    def calculate_ttl_strategy(self, base_ttl, panic_duration_minutes,
                               match_context=None):
        """(ttl, mode, metadata) for a panic of `panic_duration_minutes`
        (0: no panic, as in the predecessor; negative: a start in the
        future, tier 1; NaN or infinite: ValueError)."""
        if isinstance(panic_duration_minutes, bool) or not isinstance(
                panic_duration_minutes, (int, float)):
            raise TypeError("panic_duration_minutes must be a number, not "
                            f"{type(panic_duration_minutes).__name__}")
        if not math.isfinite(panic_duration_minutes):
            raise ValueError(
                f"bad panic_duration_minutes {panic_duration_minutes!r}: "
                "expected a finite number of minutes")
        if isinstance(base_ttl, bool) or not isinstance(base_ttl, int):
            raise TypeError(
                f"base_ttl must be an int, not {type(base_ttl).__name__}")
        if panic_duration_minutes == 0:
            _policy().decide_for_age(0.0, base_ttl, "low")  # validates base_ttl
            return base_ttl, PanicMode.NORMAL, {
                "panic_active": False,
                "panic_duration_min": 0,
                "mode": PanicMode.NORMAL,
                "reason": "No panic detected",
            }
        importance = MatchImportance.classify(match_context)
        decision = _policy().decide_for_age(float(panic_duration_minutes),
                                            base_ttl, importance)
        metadata = {
            "panic_active": True,
            "panic_duration_min": round(panic_duration_minutes, 1),
            "match_importance": importance,
            "thresholds": self._row(importance),
            "mode": decision.mode,
            "reason": _REASONS[decision.tier],
            "tier": decision.tier,
        }
        if decision.tier in _ALERTS:
            metadata["alert"] = _ALERTS[decision.tier]
        return decision.ttl, decision.mode, metadata


# ---- the host: one engine per segment per process ------------------------


def _redis_url(client):
    """redis:// or unix:// URL from a redis-py client's connection settings
    (percent-encoded credentials; never logged)."""
    pool = getattr(client, "connection_pool", None)
    kwargs = getattr(pool, "connection_kwargs", None)
    if not isinstance(kwargs, dict):
        raise TypeError("redis_client must be a redis-py client (redis.Redis)"
                        f", not {type(client).__name__}")
    if getattr(pool, "connection_class", None).__name__ == "SSLConnection":
        raise ValueError("redis_client uses TLS, which the mirror does not "
                         "speak: use a local stunnel (docs/mirror.md)")
    user = kwargs.get("username") or ""
    password = kwargs.get("password") or ""
    auth = ""
    if password:
        auth = (urllib.parse.quote(user, safe="") + ":" +
                urllib.parse.quote(password, safe="") + "@")
    db = int(kwargs.get("db") or 0)
    if kwargs.get("path"):
        return f"unix://{auth}{kwargs['path']}?db={db}"
    host = kwargs.get("host") or "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"redis://{auth}{host}:{int(kwargs.get('port') or 6379)}/{db}"


class _Host:
    """This process's engine on one segment, its windows and its mirror."""

    def __init__(self, segment):
        self.engine = Engine(segment, failsafe=True)
        self.windows = {}
        self.mirror = None
        self.mirror_url = None
        self.lock = threading.Lock()

    def window(self, thresholds):
        with self.lock:
            window = self.windows.get(thresholds)
            if window is None:
                window = self.engine.window(*thresholds)
                self.windows[thresholds] = window
            return window

    def start_mirror(self, url):
        with self.lock:
            if self.mirror is None:
                self.mirror = self.engine.start_mirror(url)
                self.mirror_url = url
            elif self.mirror_url != url:
                raise ValueError(
                    "this process already mirrors the segment to another "
                    f"Redis ({self.mirror.endpoint}); one mirror per host")


_hosts_lock = threading.Lock()
_hosts = {}


def _host(segment):
    host = _hosts.get(segment)
    if host is None:
        with _hosts_lock:
            host = _hosts.get(segment)
            if host is None:
                host = _Host(segment)
                _hosts[segment] = host
    return host


def _fresh_locks_after_fork():
    """A lock held by another thread at fork() stays held in the child;
    the child starts with fresh ones (the engines themselves need no
    call: the segment handles fork)."""
    global _hosts_lock, _policy_lock
    _hosts_lock = threading.Lock()
    _policy_lock = threading.Lock()
    for host in _hosts.values():
        host.lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_locks_after_fork)


def _check_ratio(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be 0-1, got {value}")


class VIXCircuitBreaker(_native.CompatCore):
    """The predecessor's circuit breaker on the host's shared state.

    get_ttl(base_ttl, vix_status='normal', match_context=None) -> (ttl, mode)
    get_adaptive_ttl(vix_status, base_ttl=None) -> (ttl, strategy)
    record_panic_status(vix_status) -> None
    (native methods; see their docstrings)

    The segment (VIX_SEGMENT, else 'vixbreaker') is opened on first use.
    redis_client: a redis-py client whose connection settings start this
    host's Redis mirror (its password never appears in logs).
    """

    def __init__(self, redis_client=None, window_seconds=1800,
                 panic_threshold_enter=0.50, panic_threshold_exit=0.30,
                 circuit_open_threshold=0.80):
        _check_ratio("panic_threshold_enter", panic_threshold_enter)
        _check_ratio("panic_threshold_exit", panic_threshold_exit)
        _check_ratio("circuit_open_threshold", circuit_open_threshold)
        if panic_threshold_exit >= panic_threshold_enter:
            raise ValueError(
                f"panic_threshold_exit ({panic_threshold_exit}) must be < "
                f"panic_threshold_enter ({panic_threshold_enter}) for "
                "hystérésis")
        if window_seconds != _WINDOW_SECONDS:
            raise ValueError(
                f"window_seconds {window_seconds!r}: the host's window is "
                f"{_WINDOW_SECONDS} s (1800 buckets of 1 s in the segment)")
        self._thresholds = (float(panic_threshold_enter),
                            float(panic_threshold_exit),
                            float(circuit_open_threshold),
                            _CIRCUIT_CLOSE_THRESHOLD)
        _native._validate_breaker_thresholds(*self._thresholds)
        self.redis = redis_client
        self.window_seconds = window_seconds
        self.panic_threshold_enter = panic_threshold_enter
        self.panic_threshold_exit = panic_threshold_exit
        self.circuit_open_threshold = circuit_open_threshold
        self._panic_quota = AdaptivePanicQuota()
        self._redis_url = None if redis_client is None else _redis_url(
            redis_client)
        self._vix_host = None
        self._vix_window = None
        if redis_client is not None:
            self._vix_open()  # the mirror starts now, not on first use

    def _vix_open(self):
        """Binds the host's engine and window (called on first use)."""
        host = _host(default_segment())
        window = host.window(self._thresholds)
        if self._redis_url is not None:
            host.start_mirror(self._redis_url)
        self._vix_host = host
        self._vix_window = window
        self._vix_bind(host.engine, window)

    def _window_snapshot(self):
        if self._vix_window is None:
            self._vix_open()
        return self._vix_window.snapshot()

    @property
    def engine(self):
        """The vixbreaker.Engine behind this breaker (opened on access)."""
        if self._vix_host is None:
            self._vix_open()
        return self._vix_host.engine

    @property
    def mode(self):
        """The host's breaker mode (a CircuitBreakerMode), read-only."""
        return CircuitBreakerMode(self._window_snapshot()["breaker_mode"])

    def get_metrics(self):
        """The predecessor's metrics dict, from the host's window."""
        s = self._window_snapshot()
        history = s["history"]
        last = None
        if history:
            last = datetime.fromtimestamp(history[-1]["at"],
                                          timezone.utc).isoformat()
        return {
            "mode": s["breaker_mode"],
            "panic_ratio_pct": round(s["panic_ratio"] * 100, 2),
            "window_size": s["total_samples"],
            "window_full": s["total_samples"] >= self.window_seconds,
            "window_seconds": self.window_seconds,
            "mode_changes_count": s["transitions"],
            "last_mode_change": last,
            "thresholds": {
                "enter_high_vol_pct": self.panic_threshold_enter * 100,
                "exit_high_vol_pct": self.panic_threshold_exit * 100,
                "circuit_open_pct": self.circuit_open_threshold * 100,
                "hysteresis_pct": (self.panic_threshold_enter -
                                   self.panic_threshold_exit) * 100,
            },
        }

    def reset(self):
        """Testing only, as in the predecessor. The window is the host's and
        other processes use it, so nothing shared is cleared: this forgets
        the breaker's cached classifications and binding only. Tests get a
        clean state from a fresh segment (VIX_SEGMENT)."""
        self._vix_host = None
        self._vix_window = None
        self._vix_unbind()


vix_circuit_breaker = VIXCircuitBreaker()
