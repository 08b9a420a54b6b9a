"""When to retry a request, and how long to wait first. Pure: no I/O, no clock.

Reads (and other idempotent calls: cancel, presign, upload PUT, downloads) are retried on 429,
5xx and transport errors. A create is retried only when it provably created nothing: a 429
(the service documents that a rejected create creates no prediction) or a connection that
failed before the request was sent. A create whose answer was lost is never retried blindly,
so nobody pays twice.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from typing import Literal

__all__ = ["Attempt", "RetryPolicy", "parse_retry_after"]

Kind = Literal["read", "create"]


@dataclass(frozen=True)
class Attempt:
    """One try's outcome: an HTTP status, or a transport error (``sent``: it may have arrived)."""

    status: int | None = None
    transport_error: bool = False
    sent: bool = True
    retry_after: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring ``Retry-After`` (capped at ``max_delay``)."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def should_retry(self, kind: Kind, attempt: Attempt) -> bool:
        if attempt.transport_error:
            return kind == "read" or not attempt.sent
        if attempt.status == 429:
            return True
        if attempt.status is not None and 500 <= attempt.status < 600:
            return kind == "read"
        return False

    def delay(
        self, attempt_number: int, attempt: Attempt, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before try ``attempt_number + 1`` (``attempt_number`` counts from 1)."""
        if attempt.retry_after is not None:
            return min(max(attempt.retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt_number - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)

    def next_delay(
        self, kind: Kind, attempt_number: int, attempt: Attempt, rng: random.Random | None = None
    ) -> float | None:
        """The wait before the next try, or ``None`` to give up and raise."""
        if attempt_number >= self.max_attempts or not self.should_retry(kind, attempt):
            return None
        return self.delay(attempt_number, attempt, rng)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; ``None`` if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
