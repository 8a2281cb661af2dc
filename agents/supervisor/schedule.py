"""Cron slots in a time zone (croniter), for `schedule` triggers."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter


def check_cron(expression: str, timezone: str = "UTC") -> str | None:
    """Why `expression`/`timezone` is not usable, or None."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {timezone!r}"
    if not croniter.is_valid(expression):
        return f"invalid cron expression {expression!r}"
    return None


def latest_slot(expression: str, timezone: str, after: float, now: float) -> float | None:
    """The latest slot in (after, now], as epoch seconds; None when there is none.

    Several slots missed (the appliance was off) give one: the latest.
    """
    zone = ZoneInfo(timezone)
    # croniter's get_prev is strictly before its start, so start just after `now`
    start = datetime.fromtimestamp(int(now) + 1, UTC).astimezone(zone)
    slots = croniter(expression, start)
    slot = float(slots.get_prev(datetime).timestamp())
    while slot > now:
        slot = float(slots.get_prev(datetime).timestamp())
    return slot if slot > after else None


def next_slot(expression: str, timezone: str, now: float) -> float:
    """The first slot after `now` (shown in listings)."""
    zone = ZoneInfo(timezone)
    moment = datetime.fromtimestamp(now, UTC).astimezone(zone)
    return float(croniter(expression, moment).get_next(datetime).timestamp())
