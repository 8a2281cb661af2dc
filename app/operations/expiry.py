"""Plain-words key lifetimes ("3 months", "90 days", "1 year") in the API's form (90d).

The API takes a number and a unit m (minutes), h, d or w; people write months and years.
A month counts as 30 days and a year as 365, which is what someone choosing a key's
lifetime means; the exact expiry date is shown once the key exists.
"""

import re

from app.errors import AppError

EXPIRY_HINT = "e.g. 90 days, 3 months, 1 year, 2 weeks (empty: never)"
_FORM = re.compile(r"^\s*0*([1-9][0-9]{0,5})\s*([a-z]+)\s*$")
_UNITS: dict[str, tuple[str, int]] = {}
for _names, _unit, _factor in (
    (("m", "min", "mins", "minute", "minutes"), "m", 1),
    (("h", "hr", "hrs", "hour", "hours"), "h", 1),
    (("d", "day", "days"), "d", 1),
    (("w", "wk", "wks", "week", "weeks"), "w", 1),
    (("mo", "month", "months"), "d", 30),
    (("y", "yr", "yrs", "year", "years"), "d", 365),
):
    for _name in _names:
        _UNITS[_name] = (_unit, _factor)
_MAX = 999_999


class InvalidExpiry(AppError):
    status_code = 422
    code = "invalid_text"


def plain_expiry(text: str | None) -> str | None:
    """The API form of a lifetime typed in words; None for "never" (empty)."""
    if text is None or not text.strip() or text.strip().lower() == "never":
        return None
    match = _FORM.fullmatch(text.lower())
    if match is None or match.group(2) not in _UNITS:
        raise InvalidExpiry(f"“Expires after” was not understood: write it like {EXPIRY_HINT}")
    unit, factor = _UNITS[match.group(2)]
    amount = int(match.group(1)) * factor
    if amount > _MAX:
        raise InvalidExpiry("“Expires after” is too far away; at most a few thousand years")
    return f"{amount}{unit}"
