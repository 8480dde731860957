"""When to send a failed model request again, and after how long.

This is the only retry layer for model requests: the OpenAI client is built
with ``max_retries=0`` and the SDK's own retry settings stay off, so a 429 is
never retried by two layers at once. Rate limits (429), server errors (5xx),
408/409 and timeouts or dropped connections are retried; a ``Retry-After``
(or ``retry-after-ms``) header is honoured, otherwise the delay grows
exponentially with jitter. Anything else (a 400, a bad key, a refused schema)
fails at once.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

RETRY_STATUSES = frozenset({408, 409, 429})
NEVER_RETRY_CODES = frozenset({"insufficient_quota"})
_TRANSIENT_NAMES = frozenset(
    {"APITimeoutError", "APIConnectionError", "Timeout", "TimeoutError"}
)


@dataclass(frozen=True)
class RetrySettings:
    """How often and how patiently to retry one model request.

    Args:
        max_retries: Retries after the first attempt.
        base_delay: Seconds before the first retry without a Retry-After.
        max_delay: Upper bound of any one wait, Retry-After included.
    """

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 60.0


def is_retryable(exc: BaseException) -> bool:
    """True for failures that are likely to pass: 429, 5xx, timeouts, resets."""
    if getattr(exc, "code", None) in NEVER_RETRY_CODES:
        return False  # an exhausted quota does not come back in a minute
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status in RETRY_STATUSES or status >= 500
    return any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__)


def retry_delay(
    exc: BaseException,
    attempt: int,
    settings: RetrySettings,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retrying after ``attempt`` failed, or None to give up.

    Args:
        exc: The error of the failed attempt.
        attempt: Which attempt failed, starting at 1.
        settings: The retry budget and delays.
        rand: Source of jitter in [0, 1).
    """
    if attempt > settings.max_retries or not is_retryable(exc):
        return None
    advised = retry_after_seconds(_headers(exc))
    if advised is not None:
        return min(advised, settings.max_delay)
    backoff = settings.base_delay * 2.0 ** (attempt - 1)
    return min(backoff * (0.75 + 0.5 * rand()), settings.max_delay)


def retry_after_seconds(
    headers: Mapping[str, str], now: Callable[[], float] = time.time
) -> float | None:
    """The wait a server asked for: ``retry-after-ms``, or ``Retry-After``.

    ``Retry-After`` may be seconds or an HTTP date; anything unreadable or
    negative is ignored.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = _number(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now())


def _headers(exc: BaseException) -> Mapping[str, str]:
    response: Any = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    return headers if isinstance(headers, Mapping) else {}


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 and number == number else None
