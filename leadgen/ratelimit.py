"""Request and token limits per minute, shared by every worker of a run.

Workers are separate processes forked from a server process, so a limit kept
in memory would hold per worker, not per run. The bucket's state lives in a
small file in the run folder instead and every change happens under an
exclusive ``fcntl`` lock on it; the run lock already keeps other runs out of
the folder. Dask workers on other machines use a file at the same path on
their own machine, so on a cluster of several machines a limit holds per
machine. Both buckets refill continuously (a minute's allowance spread
over the minute); the request bucket holds a single request, so requests are
evenly spaced, and the token bucket holds a minute's allowance and starts full.

Tokens are not known before a request is answered: a request takes an
estimate, and ``settle`` charges the difference once the answer says what it
really used. A bucket may go into debt that way, which delays later requests.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger

from leadgen import logs

STATE_FILE = "ratelimit.json"


@dataclass(frozen=True)
class RateLimits:
    """The limits of one run and where their shared state is kept.

    Args:
        state_path: The bucket file in the run folder.
        requests_per_minute: Model requests allowed per minute, or None.
        tokens_per_minute: Model tokens allowed per minute, or None.
    """

    state_path: str
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.requests_per_minute or self.tokens_per_minute)


class SharedBucket:
    """A token bucket for requests and one for tokens, kept in a locked file."""

    def __init__(
        self, limits: RateLimits, clock: Callable[[], float] = time.time
    ) -> None:
        self.limits = limits
        self._clock = clock

    def try_take(self, tokens: int) -> float:
        """Take one request and ``tokens`` tokens if both are available.

        Returns:
            0.0 when taken; otherwise the seconds to wait before trying again
            (nothing is taken then).
        """
        with _LockedState(self.limits.state_path) as state:
            now = self._clock()
            self._refill(state, now)
            wait = max(
                _wait(state.get("requests", 0), 1, self.limits.requests_per_minute),
                _wait(state.get("tokens", 0), tokens, self.limits.tokens_per_minute),
            )
            if wait == 0.0 and self.limits.requests_per_minute:
                state["requests"] -= 1
            if wait == 0.0 and self.limits.tokens_per_minute:
                state["tokens"] -= self._capped(tokens)
            return wait

    def settle(self, estimated: int, actual: int) -> None:
        """Charge (or refund) the difference between a request's estimate and use."""
        if not self.limits.tokens_per_minute or actual == estimated:
            return
        with _LockedState(self.limits.state_path) as state:
            self._refill(state, self._clock())
            state["tokens"] = state.get("tokens", 0) - (
                actual - self._capped(estimated)
            )

    async def acquire(self, tokens: int) -> None:
        """Wait until a request of about ``tokens`` tokens may be sent."""
        while True:
            wait = self.try_take(tokens)
            if wait == 0.0:
                return
            logger.debug(f"rate limit: waiting  {logs.fields(seconds=f'{wait:.2f}')}")
            await asyncio.sleep(wait)

    def _capped(self, tokens: int) -> int:
        # A request larger than a whole minute's allowance could never start.
        limit = self.limits.tokens_per_minute
        return min(tokens, limit) if limit else tokens

    def _refill(self, state: dict[str, Any], now: float) -> None:
        # Requests are spaced evenly (the bucket holds one request), because
        # providers count them over any sliding minute: a full minute's burst
        # at the start would be refused later in that minute. Tokens keep a
        # whole minute's allowance so that one large request can start.
        request_capacity = 1.0 if self.limits.requests_per_minute else 0.0
        if not isinstance(state.get("updated"), int | float):
            state.update(
                requests=request_capacity,
                tokens=float(self.limits.tokens_per_minute or 0),
                updated=now,
            )
            return
        elapsed = max(0.0, now - float(state["updated"]))
        for key, limit, capacity in (
            ("requests", self.limits.requests_per_minute, request_capacity),
            ("tokens", self.limits.tokens_per_minute, self.limits.tokens_per_minute),
        ):
            if limit and capacity:
                level = float(state.get(key, capacity)) + elapsed * limit / 60
                state[key] = min(float(capacity), level)
        state["updated"] = now


def _wait(available: float, wanted: int, per_minute: int | None) -> float:
    if not per_minute:
        return 0.0
    wanted = min(wanted, per_minute)
    if available >= wanted:
        return 0.0
    return (wanted - available) * 60.0 / per_minute


class _LockedState:
    """The bucket file, read and written while holding an exclusive lock."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1
        self.state: dict[str, Any] = {}

    def __enter__(self) -> dict[str, Any]:
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            # A cluster worker on another machine has no run folder at this
            # path: it keeps its own bucket there, so limits hold per machine.
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        raw = os.read(self.fd, 4096)
        try:
            loaded = json.loads(raw) if raw.strip() else {}
        except ValueError:
            loaded = {}  # a damaged file only loses the bucket's history
        self.state = loaded if isinstance(loaded, dict) else {}
        return self.state

    def __exit__(self, *exc_info: object) -> None:
        try:
            if exc_info[0] is None:
                data = json.dumps(self.state).encode()
                os.lseek(self.fd, 0, os.SEEK_SET)
                os.ftruncate(self.fd, 0)
                os.write(self.fd, data)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
