"""vixbreaker: the host's shared panic clock, from Python (SPEC 13).

    import vixbreaker
    engine = vixbreaker.Engine()                # VIX_SEGMENT or 'vixbreaker'
    scope = engine.global_scope                 # once
    stakes = engine.classify("Premier League")  # once per match
    d = engine.decide(scope, "panic", 60, stakes)   # per request, ~50 ns
    d.ttl, d.mode, d.tier, d.stakes, d.reason, d.episode_start, d.first_writer

Bad input raises ValueError with the message vixctl prints; other failures
raise vixbreaker.Error (a RuntimeError) whose `code` names the cause.
An engine opened before os.fork() keeps working in the children; threads
may come and go. The predecessor's API is vixbreaker.compat.
"""

import json as _json
import os as _os

from . import _native
from ._native import Decision, Error, Scope, VolatilityDetector, Window, zscore
from ._native import policy

__all__ = [
    "Decision", "Engine", "Error", "Mirror", "Scope", "VolatilityDetector",
    "Window", "default_segment", "policy", "zscore",
]


def default_segment():
    """The segment name vixctl would use: VIX_SEGMENT, else 'vixbreaker'."""
    return _os.environ.get("VIX_SEGMENT") or "vixbreaker"


def _seconds_text(value, what):
    """Unix seconds as text for the strict parser (its errors quote it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{what} must be a number of Unix seconds, "
                        f"not {type(value).__name__}")
    return value if isinstance(value, str) else repr(value)


class Engine(_native.EngineCore):
    """One process's handle on a host segment (SPEC 3, 4).

    Engine(segment=None, *, config=None, config_path=None, log_fd=2,
           failsafe=False)

    segment: the segment name (default: VIX_SEGMENT, else 'vixbreaker'),
      created if it does not exist.
    config: the configuration text (`key = value` lines, see the README);
      config_path: a file holding it; neither: the file named by VIX_CONFIG,
      else the defaults -- as vixctl does.
    log_fd: where JSON log lines go (-1: nowhere).
    failsafe: if the segment cannot be attached, keep a fail-safe engine
      (panic -> PANIC_FULL, reason 'failsafe') and say why in
      `segment_error`, instead of raising vixbreaker.Error.
    """

    def __init__(self, segment=None, *, config=None, config_path=None,
                 log_fd=2, failsafe=False):
        if segment is None:
            segment = default_segment()
        if not isinstance(segment, str):
            raise TypeError("segment must be a str")
        if config is not None and config_path is not None:
            raise ValueError("give config or config_path, not both")
        if config_path is not None:
            try:
                with open(config_path, encoding="utf-8") as f:
                    config = f.read()
            except OSError as e:
                raise ValueError(f"cannot read config file {config_path}: "
                                 f"{e.strerror}") from None
        super().__init__(segment, config, log_fd, failsafe)

    def __repr__(self):
        return f"vixbreaker.Engine(segment={self.segment!r})"

    # -- scopes and stakes -------------------------------------------------

    def scope(self, name):
        """The scope `name`, created if needed (slow: resolve once).

        Raises ValueError for a bad name, vixbreaker.Error with code
        'RESOURCE_EXHAUSTED' when the segment's scope table is full.
        """
        return _native._scope(self, name, True)

    def find_scope(self, name):
        """The scope `name` if it exists, else None; never creates one."""
        return _native._scope(self, name, False)

    def remove_scope(self, name):
        """Removes the named scope if it has no episode (its entry is
        reused). Handles still held decide fail-safe with `stale_scope`
        set. vixbreaker.Error: code 'NOT_FOUND' if absent,
        'FAILED_PRECONDITION' while an episode runs."""
        _native._remove_scope(self, name)

    def classify(self, league="", competition=""):
        """Stakes of a match (SPEC 2.1): 'high_stakes', 'medium_stakes' or
        'low_stakes', by the configured keywords. Classify once per match
        and pass the result to every decide()."""
        return _native._classify(self, league, competition)

    # -- decisions -----------------------------------------------------------
    # decide(scope, status, base_ttl, stakes, /) is native (EngineCore).

    def decide_match(self, status, base_ttl=60, *, league="", competition="",
                     stakes=None, scope="global"):
        """One decision from strings, as `vixctl decide` takes it: resolves
        (creating) the scope and classifies league/competition unless
        `stakes` is given. Slow; the hot path is decide()."""
        resolved = self.scope(scope)
        if stakes is None:
            stakes = self.classify(league, competition)
        return self.decide(resolved, status, base_ttl, stakes)

    # -- admin (SPEC 3) ------------------------------------------------------

    def _resolve(self, scope):
        return self.scope(scope) if isinstance(scope, str) else scope

    def panic_start(self, at=None, scope="global"):
        """Forces an episode to start at `at` (Unix seconds; default now),
        replacing the start of a running one; decisions then carry reason
        'forced'. Returns the fields of `vixctl panic start --json`."""
        handle = self._resolve(scope)
        before = self.episode(handle)
        at_text = None if at is None else _seconds_text(at, "at")
        _native._force_start(self, handle, at_text)
        after = self.episode(handle)
        return {
            "scope": handle.name,
            "episode_start": after["episode_start"],
            "forced": True,
            "replaced_start": before["episode_start"] if before["active"]
            else None,
        }

    def panic_end(self, scope="global"):
        """Ends the scope's episode; {'scope', 'ended'} as `vixctl panic
        end --json` (ended: whether one was running)."""
        handle = self._resolve(scope)
        return {"scope": handle.name,
                "ended": _native._force_end(self, handle)}

    def episode(self, scope="global"):
        """The scope's episode now: active, forced, episode_start,
        last_panic, calm_since, remote_start, first_writer_pid,
        episodes_started, episodes_ended."""
        return _native._episode(self, self._resolve(scope))

    # -- the rest of the host ------------------------------------------------

    def window(self, high_enter=0.50, high_exit=0.30, open_enter=0.80,
               open_exit=0.60, *, log_fd=2):
        """The host's rolling-window breaker (SPEC 6) with these
        thresholds (ValueError unless high_exit < high_enter < open_enter,
        open_exit < open_enter, all in (0, 1))."""
        return _native._open_window(self, high_enter, high_exit, open_enter,
                                    open_exit, log_fd)

    def start_mirror(self, redis_url, *, policy="local",
                     key_prefix="brain:panic_start_ts", poll_interval_s=1.0,
                     command_timeout_s=0.5, log_fd=2):
        """Starts this process's Redis mirror (SPEC 5) for the segment: the
        host's lease holder talks to Redis, the others stand by. One per
        segment per process. redis_url: redis://[user:pass@]host:port/db or
        unix:///path; its password never appears in logs or `endpoint`."""
        return Mirror(self, redis_url, policy=policy, key_prefix=key_prefix,
                      poll_interval_s=poll_interval_s,
                      command_timeout_s=command_timeout_s, log_fd=log_fd)

    def status(self, now=None):
        """The whole segment as `vixctl status --json` prints it (the
        inspector's own JSON, parsed). `now`: Unix seconds, for
        reproducible output."""
        now_text = None if now is None else _seconds_text(now, "now")
        return _json.loads(_native._status_json(self, now_text))

    def flush_logs(self):
        """Writes queued log lines now (a background thread does it every
        millisecond)."""
        _native._flush_logs(self)


class Mirror:
    """A running Redis mirror of one Engine's segment (Engine.start_mirror).
    Stop it with stop() (or a `with` block) before dropping the engine."""

    def __init__(self, engine, redis_url, *, policy="local",
                 key_prefix="brain:panic_start_ts", poll_interval_s=1.0,
                 command_timeout_s=0.5, log_fd=2):
        self._native = _native._Mirror(engine, redis_url, policy, key_prefix,
                                       float(poll_interval_s),
                                       float(command_timeout_s), log_fd)
        self.engine = engine

    @property
    def endpoint(self):
        """The Redis URL with the password replaced by '***'."""
        return self._native.endpoint

    @property
    def running(self):
        return self._native.running

    @property
    def holds_lease(self):
        """Whether this process is the host's mirror right now."""
        return self._native.holds_lease

    def health(self):
        """The mirror section of status(): configured, connected, healthy,
        policy, lease {holder_pid, ...}, redis {connected,
        last_success, last_error, reconnects, publish_lag_s, ...}"""
        return self.engine.status()["mirror"]

    def stop(self):
        """Stops the thread and gives up the lease (waits at most about one
        command timeout)."""
        self._native.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return f"vixbreaker.Mirror({self.endpoint!r}, running={self.running})"
