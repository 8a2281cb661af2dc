"""The retry schedule and how a delivery's outcome decides what happens next.

Svix's published schedule: the first attempt at once, then after 5 s, 5 min, 30 min, 2 h,
5 h, 10 h and 10 h; after the eighth attempt the message is dead. A `Retry-After` longer
than the schedule's wait is honoured. A 4xx answer other than 408, 409, 425 and 429
stops the retries (the receiver refuses the message itself); 410 Gone also disables the
endpoint.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

RETRY_SCHEDULE_S: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_S)
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
MAX_RETRY_AFTER_S = 24 * 3600.0


@dataclass(frozen=True)
class Attempt:
    """The result of one delivery attempt, as the sender saw it.

    outcome: "delivered", "retry" (transient: try again per the schedule), "dead" (do not
    retry), or "gone" (410: disable the endpoint). `error` is in plain words, no secrets;
    `code` is a machine code when the appliance itself refused (egress_blocked, ...).
    """

    outcome: str
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    response: dict[str, object] | None = None
    code: str | None = None  # machine code of a refusal, e.g. "egress_blocked"


def http_outcome(status: int) -> str:
    """How an HTTP status ends an attempt."""
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        return "dead"
    return "retry"


def next_delay(attempts_done: int, retry_after: float | None = None) -> float | None:
    """Seconds until the next attempt after `attempts_done` attempts failed, or None when
    the schedule is used up (the message is dead)."""
    if attempts_done >= MAX_ATTEMPTS:
        return None
    delay = RETRY_SCHEDULE_S[max(attempts_done, 0)]
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
