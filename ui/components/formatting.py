"""Turning records into words people read: sizes, dates, states and failure reasons."""

from datetime import UTC, datetime
from typing import Any

# the ledger's state machine, in the order a document moves through it
STATES = ("received", "parsing", "parsed", "indexing", "indexed", "failed", "unsupported")
FINAL_STATES = frozenset({"indexed", "failed", "unsupported"})

STATE_COLORS = {
    "received": "grey-7",
    "parsing": "blue-7",
    "parsed": "teal-7",
    "indexing": "blue-7",
    "indexed": "positive",
    "failed": "negative",
    "unsupported": "orange-9",
}

# what a user can do about each failure code the ingest agent records
REASON_HINTS = {
    "timeout": "The file may be very large or unusually complex; try a smaller or simpler copy.",
    "too_large": "Split the file or ask an administrator to raise the size limit.",
    "malformed": "Open the file on your computer, save a fresh copy, and upload that.",
    "encrypted_pdf": "Remove the password protection (print or save as a new PDF), then upload.",
    "unsupported": "Convert the file to PDF, Word, Excel, CSV, text, HTML or e-mail (.eml).",
    "empty": "The file has no text that can be read; scanned images need text recognition first.",
    "forbidden_xml": "Re-save the document with your office program to get a clean copy.",
    "memory_limit": "The file needs more memory than allowed; try a smaller copy.",
    "crashed": "The reader stopped on this file; a freshly saved copy usually works.",
    "too_deep": "Attachments nested inside attachments were not opened; send them directly.",
}


def human_size(size: int | None) -> str:
    """1536 -> '1.5 KB'."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def short_time(iso: str | None) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM' (UTC, as stored)."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def elapsed_since(iso: str | None, now: datetime | None = None) -> str:
    """'25 s', '3 min 5 s' since an ISO timestamp; '' when unknown."""
    if not iso:
        return ""
    try:
        start = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    moment = now or datetime.now(start.tzinfo or UTC)
    seconds = max(0, int((moment - start).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60} s"


def progress_text(document: dict[str, Any], now: datetime | None = None) -> str:
    """What a document in the pipeline is doing, in words, with the time spent on it;
    '' once it reached a final state."""
    state = document.get("state")
    since = elapsed_since(document.get("updated_at"), now)
    pages = document.get("pages")
    if state == "received":
        return "waiting to be read"
    if state == "parsing":
        return f"reading the file · {since}"
    if state == "parsed":
        return "read; waiting to be indexed for search"
    if state == "indexing":
        what = f"{pages} pages" if pages and int(pages) > 1 else "the text"
        return f"indexing {what} for search · {since}"
    return ""


def failure_text(document: dict[str, Any]) -> str | None:
    """The plain reason a document failed, else None (its code: `failure_code`)."""
    error = document.get("error")
    if not error:
        return None
    return str(error.get("message") or "no reason was recorded")


def failure_code(document: dict[str, Any]) -> str | None:
    """The machine code of a failure, for the small print ("for support: ...")."""
    error = document.get("error") or {}
    return str(error["code"]) if error.get("code") else None


def failure_hint(document: dict[str, Any]) -> str | None:
    error = document.get("error") or {}
    return REASON_HINTS.get(str(error.get("code")))


def table_row(document: dict[str, Any]) -> dict[str, Any]:
    """A document as a row of the documents table (display strings next to raw values)."""
    return {
        "id": document["id"],
        "title": document.get("title") or document.get("filename") or document["id"],
        "state": document.get("state", ""),
        "state_color": STATE_COLORS.get(str(document.get("state")), "grey-7"),
        "type": document.get("type") or "",
        "source": document.get("source") or "",
        "size": document.get("size") or 0,
        "size_text": human_size(document.get("size")),
        "pages": document.get("pages") or "",
        "created_at": document.get("created_at") or "",
        "date_text": short_time(document.get("created_at")),
        "problem": failure_text(document) or "",
        "progress": progress_text(document),
        "tags": list(document.get("tags") or []),
    }
