"""Document tags in a real encrypted tenant database."""

from pathlib import Path

import pytest

from agents.documents.tags import DocumentTags, InvalidTagError, clean_tag
from storage.errors import NotFoundError
from tests.agents.analyze.index_support import Tenant


def test_tags_are_cleaned_and_refused_when_not_plain_text() -> None:
    assert clean_tag("  Big   Invoices ") == "big invoices"
    for bad in ("", "   ", "x" * 41, "bell\x07ring", "bidi\u202etag"):
        with pytest.raises(InvalidTagError):
            clean_tag(bad)


def test_tags_follow_their_documents_and_count_per_tag(tmp_path: Path) -> None:
    # GIVEN two documents, both tagged "invoices", one also "urgent"
    tenant = Tenant(tmp_path)
    first, second = tenant.add("alpha text", filename="a.txt"), tenant.add("beta", filename="b.txt")
    tags = DocumentTags(tenant.db)
    assert tags.add([first, second], ["Invoices"]) == 2
    assert tags.add([first], ["urgent", "invoices"]) == 1  # an existing pair stays one
    # THEN each document lists its tags and the tenant counts them
    assert tags.of([first, second]) == {first: ["invoices", "urgent"], second: ["invoices"]}
    assert tags.all_tags() == [("invoices", 2), ("urgent", 1)]
    assert tags.tagged("INVOICES") == {first, second}
    # WHEN a document is deleted THEN its tags go with it
    tenant.ledger.delete(first)
    assert tags.all_tags() == [("invoices", 1)]


def test_an_unknown_document_changes_nothing(tmp_path: Path) -> None:
    tenant = Tenant(tmp_path)
    known = tenant.add("alpha text")
    tags = DocumentTags(tenant.db)
    with pytest.raises(NotFoundError):
        tags.add([known, "missing"], ["x"])
    assert tags.all_tags() == []
