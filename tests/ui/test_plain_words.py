"""The words the pages use: PDF dates, metadata labels, retries, progress, mailbox ports
and field problems, the ask scope in the address."""

from datetime import UTC, datetime

from ui.components.ask_scope import parse_scope, scope_url
from ui.components.document_facts import document_facts, metadata_label, metadata_value, tries_text
from ui.components.formatting import progress_text
from ui.components.mailbox_form import default_port, problems
from ui.components.meaning_results import relevance_text


def test_pdf_dates_become_readable_dates() -> None:
    assert metadata_value("D:20250208122313Z") == "8 Feb 2025, 12:23"
    assert metadata_value("D:20250208122313+01'00'") == "8 Feb 2025, 12:23 (+0100)"
    assert metadata_value("D:2025") == "1 Jan 2025, 00:00"
    assert metadata_value("D:not a date") == "D:not a date"
    assert metadata_value("2024-05-01T09:30:00+00:00") == "1 May 2024, 09:30"
    assert metadata_value("Acme Writer 3") == "Acme Writer 3"


def test_metadata_labels_are_capitalised_plain_words() -> None:
    assert metadata_label("creation_date") == "Created"
    assert metadata_label("producer") == "Converted by"
    assert metadata_label("someCustom_key") == "Some custom key"


def test_a_clean_first_arrival_shows_no_attempts_but_a_retry_does() -> None:
    # GIVEN a document read once and indexed once (two counted steps)
    clean = {"state": "indexed", "attempts": 2}
    # THEN nothing about tries is shown
    assert tries_text(clean) is None
    assert "Retries" not in dict(document_facts(clean))
    # AND an interrupted read that was repeated is said in words
    assert tries_text({"state": "indexed", "attempts": 3}) == (
        "Read again after an interruption (1 extra)"
    )
    assert tries_text({"state": "failed", "attempts": 3}) == "Tried 3 times before giving up"


def test_progress_says_what_happens_and_for_how_long() -> None:
    now = datetime(2026, 1, 1, 12, 0, 40, tzinfo=UTC)
    doc = {"state": "indexing", "pages": 36, "updated_at": "2026-01-01T12:00:00+00:00"}
    assert progress_text(doc, now) == "indexing 36 pages for search · 40 s"
    doc = {"state": "parsing", "updated_at": "2026-01-01T11:58:00+00:00"}
    assert progress_text(doc, now) == "reading the file · 2 min 40 s"
    assert progress_text({"state": "indexed"}, now) == ""


def test_the_port_follows_protocol_and_encryption() -> None:
    assert default_port("imap", "tls") == 993
    assert default_port("imap", "starttls") == 143
    assert default_port("pop3", "tls") == 995
    assert default_port("pop3", "plain") == 110


def test_every_bad_mailbox_field_is_named_at_once() -> None:
    values = {
        "name": "",
        "host": "https://mail.example.com",
        "port": 70000,
        "username": "",
        "protocol": "imap",
        "after_success": "move",
        "move_to": None,
    }
    found = problems(values, needs_password=True, password="")
    assert set(found) == {"name", "host", "port", "username", "password", "move_to"}


def test_the_ask_scope_travels_in_the_address() -> None:
    url = scope_url("demo", ["d1", "d 2"])
    assert url == "/ask?tenant=demo&docs=d1,d%202"
    assert parse_scope("d1, d2,,d1") == ["d1", "d2"]
    assert relevance_text(0.873) == "match 87%"
