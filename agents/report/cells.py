"""Cell values: typing by column type, display text, spreadsheet number formats, and the
formula-injection guard shared by the CSV and XLSX writers.

A text cell beginning with `=`, `+`, `-`, `@`, tab or CR (after any leading spaces)
would be run as a formula by a spreadsheet program opening the file; such cells get a
leading apostrophe, so they show as the text they are (OWASP's advice for CSV injection).
"""

import datetime as dt
import math
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_FIRST = frozenset("=+-@\t\r ")
_NUMERIC = frozenset({"number", "integer", "currency", "percent"})
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}


def neutralise(text: str) -> str:
    """`text`, made inert for spreadsheet programs (an apostrophe before a formula start)."""
    if not text or text[0] not in _FIRST:
        return text  # the common case, decided by one character
    if text.lstrip(" ").startswith(_TRIGGERS):
        return "'" + text
    return text


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value if not (isinstance(value, float) and not math.isfinite(value)) else None
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _date(value: Any) -> dt.date | dt.datetime | None:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # spreadsheets have no time zones: keep the wall time as written (UTC in the ledger)
    return parsed.replace(tzinfo=None)


def typed(value: Any, kind: str) -> Any:
    """The value as the spreadsheet should hold it: a number, a date, or (inert) text."""
    if value is None or value == "":
        return None
    cls = type(value)
    # fast paths for the values most rows hold (a spreadsheet row is typed cell by cell)
    if cls is str and kind == "text":
        return neutralise(value)
    if kind in _NUMERIC and (cls is int or (cls is float and math.isfinite(value))):
        return int(value) if kind == "integer" else value
    if kind in _NUMERIC:
        number = _number(value)
        if number is not None:
            return int(number) if kind == "integer" else number
    elif kind == "date":
        date = _date(value)
        if date is not None:
            return date
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return neutralise(_as_text(value))


def _as_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_as_text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_as_text(v)}" for k, v in value.items())
    return str(value)


def display(value: Any, kind: str, decimals: int | None = None, currency: str = "EUR") -> str:
    """The text a PDF shows for the value (numbers grouped, dates ISO, percent of 1)."""
    if value is None or value == "":
        return ""
    if kind in ("number", "integer", "currency", "percent"):
        number = _number(value)
        if number is None:
            return _as_text(value)
        if kind == "integer":
            return f"{int(number):,}"
        if kind == "percent":
            return f"{number * 100:,.{1 if decimals is None else decimals}f}%"
        text = f"{number:,.{2 if decimals is None else decimals}f}"
        if kind == "currency":
            symbol = _SYMBOLS.get(currency.upper(), currency.upper() + " ")
            return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
        return text
    if kind == "date":
        date = _date(value)
        if date is not None:
            return (
                date.isoformat(sep=" ", timespec="minutes")
                if isinstance(date, dt.datetime)
                else date.isoformat()
            )
    return _as_text(value)


def number_format(kind: str, decimals: int | None = None, currency: str = "EUR") -> str | None:
    """The XLSX number format of a column type (None: General)."""
    places = 2 if decimals is None else decimals
    fraction = "." + "0" * places if places else ""
    if kind == "number":
        return f"#,##0{fraction}"
    if kind == "integer":
        return "#,##0"
    if kind == "currency":
        symbol = _SYMBOLS.get(currency.upper(), currency.upper() + " ").strip()
        return f'"{symbol}"#,##0{fraction};-"{symbol}"#,##0{fraction}'
    if kind == "percent":
        places = 1 if decimals is None else decimals
        return "0" + ("." + "0" * places if places else "") + "%"
    if kind == "date":
        return "yyyy-mm-dd"
    return None


def plain(value: Any) -> str:
    """Any value as plain text (CSV cells, chart labels)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return _as_text(value)
