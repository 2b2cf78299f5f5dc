"""Type stubs of vixbreaker.compat (the predecessor's API)."""

import enum
from typing import Any, Dict, Mapping, Optional, Tuple

from . import Engine

PANIC_START_TS_KEY: str
PANIC_TS_TTL_SECONDS: int

class MatchImportance:
    HIGH_STAKES: str
    MEDIUM_STAKES: str
    LOW_STAKES: str
    @staticmethod
    def classify(match_context: Optional[Mapping[str, Any]]) -> str: ...

class PanicMode:
    NORMAL: str
    PANIC_FULL: str
    PANIC_PARTIAL: str
    DEGRADED: str
    NEW_NORMAL: str

class CircuitBreakerMode(enum.Enum):
    NORMAL: str
    HIGH_VOLATILITY: str
    CIRCUIT_OPEN: str

class AdaptivePanicQuota:
    @property
    def thresholds(self) -> Dict[str, Dict[str, Any]]: ...
    def calculate_ttl_strategy(
        self, base_ttl: int, panic_duration_minutes: float,
        match_context: Optional[Mapping[str, Any]] = None,
    ) -> Tuple[int, str, Dict[str, Any]]: ...

class VIXCircuitBreaker:
    redis: Any
    window_seconds: int
    panic_threshold_enter: float
    panic_threshold_exit: float
    circuit_open_threshold: float
    def __init__(self, redis_client: Any = None, window_seconds: int = 1800,
                 panic_threshold_enter: float = 0.5,
                 panic_threshold_exit: float = 0.3,
                 circuit_open_threshold: float = 0.8) -> None: ...
    def get_ttl(self, base_ttl: int, vix_status: str = "normal",
                match_context: Optional[Mapping[str, Any]] = None
                ) -> Tuple[int, str]: ...
    def get_adaptive_ttl(self, vix_status: str,
                         base_ttl: Optional[int] = None) -> Tuple[int, str]: ...
    def record_panic_status(self, vix_status: str) -> None: ...
    def get_metrics(self) -> Dict[str, Any]: ...
    def reset(self) -> None: ...
    @property
    def mode(self) -> CircuitBreakerMode: ...
    @property
    def engine(self) -> Engine: ...

vix_circuit_breaker: VIXCircuitBreaker
