"""The Details card of a document in plain words: labels people read, dates as dates,
and the number of tries only when something had to be tried again."""

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ui.components.formatting import human_size, short_time

# metadata keys the parsers write, as people call them
LABELS = {
    "author": "Author",
    "creator": "Made with",
    "producer": "Converted by",
    "subject": "Subject",
    "keywords": "Keywords",
    "title": "Title",
    "created": "Created",
    "creation_date": "Created",
    "modified": "Last changed",
    "mod_date": "Last changed",
    "last_modified_by": "Last changed by",
    "unreadable_pages": "Unreadable pages",
    "table_count": "Tables",
    "sheet_count": "Sheets",
    "sheet_names": "Sheet names",
    "attachment_count": "Attachments",
    "json_lines": "JSON lines",
    "json_type": "JSON content",
    "key_count": "Keys",
    "item_count": "Items",
    "columns": "Columns",
    "from": "From",
    "to": "To",
    "cc": "Copy to",
    "date": "Sent",
    "message_id": "Message ID",
}
HIDDEN = frozenset({"sections", "page_count"})
_PDF_DATE = re.compile(
    r"^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?'?$"
)
# a document read once and indexed once counts two tries (parse + index)
CLEAN_TRIES = 2


def metadata_label(key: str) -> str:
    """'creation_date' -> 'Created'; unknown keys become 'Some key' (capitalised, spaced)."""
    known = LABELS.get(key.lower())
    if known:
        return known
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ")
    words = " ".join(words.split()).lower()
    return words[:1].upper() + words[1:] if words else key


def pdf_date(value: str) -> datetime | None:
    """A PDF date string (`D:20250208122313Z`, `D:20250208122313+01'00'`) as a datetime."""
    match = _PDF_DATE.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    tz: timezone = UTC
    if zone and zone != "Z":
        digits = zone.replace("'", "")
        sign = -1 if digits[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5] or 0)))
    try:
        return datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None


def readable_date(moment: datetime) -> str:
    """'8 Feb 2025, 12:23' (with the zone when it is not UTC)."""
    text = f"{moment.day} {moment:%b %Y, %H:%M}"
    offset = moment.utcoffset()
    if offset:
        text += f" ({moment:%z})"
    return text


def metadata_value(value: Any) -> str:
    """Dates in PDF or ISO form as readable dates; everything else as text."""
    text = str(value)
    moment = pdf_date(text) if text.startswith("D:") else None
    if moment is None and re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
    return readable_date(moment) if moment is not None else text


def tries_text(document: dict[str, Any]) -> str | None:
    """Something only when a step had to be tried again (an interruption, a crash):
    a clean arrival is read once and indexed once, which is nothing to report."""
    attempts = int(document.get("attempts") or 0)
    state = document.get("state")
    if state == "failed" and attempts > 1:
        return f"Tried {attempts} times before giving up"
    if attempts > CLEAN_TRIES:
        return f"Read again after an interruption ({attempts - CLEAN_TRIES} extra)"
    return None


def document_facts(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs for the Details card, empty values left out."""
    facts: list[tuple[str, Any]] = [
        ("Type", str(doc.get("type") or "").upper() or "not known yet"),
        ("Source", doc.get("source")),
        ("From", doc.get("source_ref")),
        ("File name", doc.get("filename")),
        ("Size", human_size(doc.get("size"))),
        ("Pages", doc.get("pages")),
        ("Added", short_time(doc.get("created_at"))),
        ("Updated", short_time(doc.get("updated_at"))),
        ("Retries", tries_text(doc)),
        ("SHA-256", doc.get("sha256")),
    ]
    extra = sorted(
        (metadata_label(k), metadata_value(v))
        for k, v in (doc.get("metadata") or {}).items()
        if k not in HIDDEN and isinstance(v, str | int | float) and str(v).strip()
    )
    shown = [(label, str(value)) for label, value in facts if value not in (None, "")]
    taken = {label for label, _ in shown}
    return shown + [(label, value) for label, value in extra if label not in taken]
