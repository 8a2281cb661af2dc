"""Validation of the /logs query parameters: each bad one is a 400 that names it."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from agents.telemetry.activity_log import LEVELS, ActivityQuery
from app.errors import AppError

MAX_LIMIT = 500
MAX_TEXT = 200
KNOWN = frozenset({"level", "agent", "run_id", "q", "since", "limit", "cursor", "tenant"})
_RELATIVE = re.compile(r"^(\d{1,6})([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class InvalidLogQuery(AppError):
    status_code = 400
    code = "invalid_parameter"

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"query parameter '{parameter}': {problem}")
        self.parameter = parameter


def parse_since(raw: str, now: datetime | None = None) -> str:
    """ISO-8601 (`2026-01-02T03:04:05Z`, naive means UTC) or relative (`15m`, `2h`, `7d`),
    as the activity log's sortable UTC text."""
    match = _RELATIVE.match(raw)
    if match:
        delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        moment = (now or datetime.now(UTC)) - delta
    else:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
        except ValueError:
            raise InvalidLogQuery(
                "since", "give an ISO-8601 time (2026-01-02T03:04:05Z) or an age like 15m, 2h, 7d"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if len(value) > MAX_TEXT:
        raise InvalidLogQuery(name, f"at most {MAX_TEXT} characters")
    return value


def _positive(
    params: Mapping[str, str], name: str, default: int | None, top: int | None
) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1 or (top is not None and int(raw) > top):
        upper = f" up to {top}" if top is not None else ""
        raise InvalidLogQuery(name, f"must be a whole number from 1{upper}")
    return int(raw)


def parse_log_query(params: Mapping[str, str], allow_tenant: bool = False) -> ActivityQuery:
    """An ActivityQuery from the request's query parameters (all optional)."""
    for name in params:
        if name not in KNOWN or (name == "tenant" and not allow_tenant):
            raise InvalidLogQuery(name, "unknown parameter")
    level = _text(params, "level")
    min_level = 0
    if level is not None:
        if level.upper() not in LEVELS:
            raise InvalidLogQuery("level", f"one of {', '.join(LEVELS)}")
        min_level = LEVELS[level.upper()]
    since = _text(params, "since")
    return ActivityQuery(
        min_level=min_level,
        agent=_text(params, "agent"),
        run_id=_text(params, "run_id"),
        q=_text(params, "q"),
        since=parse_since(since) if since else None,
        limit=_positive(params, "limit", 100, MAX_LIMIT) or 100,
        before_id=_positive(params, "cursor", None, None),
    )
