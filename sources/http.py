"""Politeness over HTTP shared by every web collector: timeouts, size caps, per-host pacing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from monitor import __version__
from monitor.config_files import Duration


class HttpPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: Duration = dt.timedelta(seconds=20)
    max_bytes: int = Field(default=5_000_000, ge=10_000)
    user_agent: str = f"tension-monitor/{__version__} (+council community safety monitoring)"
    # Minimum gap between two requests to the same host, across all sources.
    per_host_interval: Duration = dt.timedelta(seconds=2)
    # Failed polls back off exponentially from `backoff_base` up to `backoff_max`, with jitter,
    # and never stop: a source that keeps failing raises a source-health alert instead.
    backoff_base: Duration = dt.timedelta(minutes=1)
    backoff_max: Duration = dt.timedelta(hours=6)


class HostPacer:
    """Keeps requests to one host at least ``interval`` apart, across threads."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def wait(self, host: str, interval: float) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + interval
        if slot > now:
            self._sleep(slot - now)
