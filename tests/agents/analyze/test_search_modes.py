"""Dense, keyword and hybrid search over a real tenant with the real embedding model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.analyze import Chunker, Embedder
from agents.analyze.index import ChunkIndex, IndexModelChangedError
from agents.analyze.indexer import index_documents
from agents.analyze.search import InvalidSearchError, fts_query, search
from agents.analyze.search_filters import InvalidFilterError, SearchFilters
from agents.documents.tags import DocumentTags
from agents.models import ModelLocation, locate_embedding_model
from storage.errors import QueryTimeoutError
from tests.agents.analyze.index_support import Tenant

pytestmark = pytest.mark.slow  # loads torch and the embedding model

MODES = ("dense", "keyword", "hybrid")

DOCUMENTS = {
    "invoice": dict(
        text="# Payment terms\n\nThe invoice is due within thirty days of receipt. Late "
        "payment incurs a fee of two percent per month.",
        filename="invoice.txt",
        source="upload",
        fmt="txt",
        metadata={"tags": ["finance", "q1"], "customer": "ACME"},
        created="2024-01-15T09:00:00.000+00:00",
    ),
    "cats": dict(
        text="# Animal behaviour\n\nCats sleep for most of the day and purr when content. "
        "Their whiskers sense small changes in the air.",
        filename="cats.md",
        source="dropbox",
        fmt="markdown",
        metadata={"department": "biology", "tags": ["animals"]},
        created="2024-02-20T12:00:00.000+00:00",
    ),
    "database": dict(
        text="SQLite keeps the whole database in a single file. Its FTS5 extension adds "
        "full-text search ranked with bm25.",
        filename="sqlite.html",
        source="api",
        fmt="html",
        metadata={"tags": ["tech"], "priority": 2},
        created="2024-03-01T00:00:00.000+00:00",
    ),
    "pump": dict(
        text="The XJ-9000 pump must be serviced every 500 operating hours. Replace the "
        "seal kit when the pressure drops below the marked line.",
        filename="pump.eml",
        source="imap",
        fmt="eml",
        metadata={"tags": ["support", "tech"]},
        created="2024-03-31T23:30:00.000+00:00",
    ),
}


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(locate_embedding_model(""))


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[tuple[Tenant, dict[str, str]]]:
    """One indexed tenant shared by the read-only tests of this module."""
    tenant = Tenant(tmp_path_factory.mktemp("search"))
    ids = {}
    for name, spec in DOCUMENTS.items():
        doc = tenant.add(
            spec["text"],
            filename=spec["filename"],
            source=spec["source"],
            fmt=spec["fmt"],
            metadata=spec["metadata"],
        )
        with tenant.db.write() as conn:
            conn.execute("UPDATE documents SET created_at = ? WHERE id = ?", (spec["created"], doc))
        ids[name] = doc
    chunker = Chunker(locate_embedding_model("").path)
    outcomes = index_documents(
        tenant.ledger, ChunkIndex(tenant.db), chunker, embedder, list(ids.values())
    )
    assert {o.state for o in outcomes} == {"indexed"}
    yield tenant, ids
    tenant.db.close()


def names(hits: list, ids: dict[str, str]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[h.document_id] for h in hits]


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_ranks_the_answer_first(corpus: tuple, embedder: Embedder, mode: str) -> None:
    tenant, ids = corpus
    # GIVEN an indexed tenant WHEN asked about a payment deadline in each mode
    hits = search(ChunkIndex(tenant.db), embedder, "When is the invoice payment due?", 3, mode)
    # THEN the invoice comes first
    assert names(hits, ids)[0] == "invoice"


def test_dense_finds_paraphrases_and_keyword_finds_rare_codes(
    corpus: tuple, embedder: Embedder
) -> None:
    tenant, ids = corpus
    index = ChunkIndex(tenant.db)
    # GIVEN a paraphrase that shares no word with its passage WHEN searched densely
    paraphrase = "felines napping all afternoon"
    assert names(search(index, embedder, paraphrase, 1, "dense"), ids) == ["cats"]
    assert search(index, embedder, paraphrase, 3, "keyword") == []
    # GIVEN a product code WHEN searched by keyword THEN the one passage naming it
    assert names(search(index, embedder, "XJ-9000", 3, "keyword"), ids) == ["pump"]
    # THEN hybrid finds both kinds
    assert names(search(index, embedder, paraphrase, 1, "hybrid"), ids) == ["cats"]
    assert names(search(index, embedder, "XJ-9000 servicing", 1, "hybrid"), ids) == ["pump"]


def test_hits_carry_the_passage_and_its_document(corpus: tuple, embedder: Embedder) -> None:
    tenant, ids = corpus
    # GIVEN an indexed tenant WHEN searched
    hit = search(ChunkIndex(tenant.db), embedder, "late payment fee", 1)[0]
    # THEN the hit names its document, title, page, heading, and holds the chunk text
    assert hit.document_id == ids["invoice"] and hit.title == "invoice.txt"
    assert hit.page == 1 and hit.heading == "Payment terms"
    assert "two percent per month" in hit.text
    assert (hit.source, hit.format) == ("upload", "txt")
    assert hit.score > 0 and hit.similarity is not None and 0 < hit.similarity <= 1
    assert hit.metadata == {"tags": ["finance", "q1"], "customer": "ACME"}
    public = hit.public()
    assert {"document_id", "chunk_id", "text", "score", "metadata"} <= set(public)
    assert public["metadata"]["type"] == "txt" and public["metadata"]["source"] == "upload"


def test_scores_are_ordered_and_k_is_respected(corpus: tuple, embedder: Embedder) -> None:
    tenant, _ = corpus
    index = ChunkIndex(tenant.db)
    for mode in MODES:
        # GIVEN any mode WHEN k=2 THEN at most two hits, best first
        hits = search(index, embedder, "pump seal database file", 2, mode)
        assert 1 <= len(hits) <= 2
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # AND keyword mode embeds nothing (no similarity), dense reports cosine as the score
    assert search(index, embedder, "pump", 1, "keyword")[0].similarity is None
    dense = search(index, embedder, "pump", 1, "dense")[0]
    assert dense.score == dense.similarity


FILTER_CASES = [
    ({"source": "dropbox"}, {"cats"}),
    ({"source": ["api", "imap"]}, {"database", "pump"}),
    ({"type": "html"}, {"database"}),
    ({"format": ["eml", "txt"]}, {"pump", "invoice"}),
    ({"date_from": "2024-02-01", "date_to": "2024-03-01"}, {"cats", "database"}),
    ({"date_to": "2024-03-31"}, {"invoice", "cats", "database", "pump"}),
    ({"date_from": "2024-03-31T23:00:00Z"}, {"pump"}),
    ({"date_to": "2024-03-31T23:00:00+00:00"}, {"invoice", "cats", "database"}),
    ({"metadata": {"customer": "ACME"}}, {"invoice"}),
    ({"metadata": {"priority": 2}}, {"database"}),
    ({"metadata": {"tags": "tech"}}, {"database", "pump"}),
    ({"tags": ["tech", "support"]}, {"pump"}),
    ({"tags": "animals", "source": "upload"}, set()),
]


@pytest.mark.parametrize(("filters", "allowed"), FILTER_CASES)
@pytest.mark.parametrize("mode", MODES)
def test_filters_limit_hits_to_matching_documents(
    corpus: tuple, embedder: Embedder, mode: str, filters: dict, allowed: set[str]
) -> None:
    tenant, ids = corpus
    # GIVEN documents of several sources, types, dates and tags
    index = ChunkIndex(tenant.db)
    query = "invoice cats database pump payment whiskers file seal"
    # WHEN searched with a filter
    hits = search(index, embedder, query, 10, mode, filters)
    # THEN every hit belongs to a matching document, and each matching one can be found
    assert set(names(hits, ids)) <= allowed
    if mode != "keyword":  # dense ranks every chunk, so all allowed documents show up
        assert set(names(hits, ids)) == allowed


def test_the_tags_filter_also_finds_tags_editors_put_on_documents(
    corpus: tuple, embedder: Embedder
) -> None:
    tenant, ids = corpus
    # GIVEN the cats document tagged "urgent" by an editor (not in its upload metadata)
    tags = DocumentTags(tenant.db)
    tags.add([ids["cats"]], ["urgent"])
    try:
        for mode in MODES:
            # WHEN searched with the tag as typed by a user
            hits = search(
                ChunkIndex(tenant.db), embedder, "cats pump", 10, mode, {"tags": "Urgent"}
            )
            # THEN only that document's chunks come back
            assert {h.document_id for h in hits} == {ids["cats"]}
    finally:
        tags.remove([ids["cats"]], ["urgent"])


def test_document_id_filter(corpus: tuple, embedder: Embedder) -> None:
    tenant, ids = corpus
    # GIVEN two document ids WHEN used as a filter THEN only their chunks come back
    wanted = [ids["cats"], ids["pump"]]
    for mode in MODES:
        hits = search(
            ChunkIndex(tenant.db), embedder, "cats pump", 10, mode, {"document_ids": wanted}
        )
        assert {h.document_id for h in hits} == set(wanted)


@pytest.mark.parametrize(
    "filters",
    [
        {"colour": "red"},
        {"source": 3},
        {"document_ids": "not-a-list-but-fine", "tags": [1]},
        {"date_from": "last tuesday"},
        {"metadata": {"nested": {"no": 1}}},
        {"metadata": ["tags"]},
        {"type": "pdf", "format": "pdf"},
        "source=upload",
    ],
)
def test_invalid_filters_are_refused_with_a_reason(
    corpus: tuple, embedder: Embedder, filters: object
) -> None:
    tenant, _ = corpus
    # GIVEN a malformed filter WHEN searching THEN a 400-style error names the problem
    with pytest.raises(InvalidFilterError) as refused:
        search(ChunkIndex(tenant.db), embedder, "invoice", 5, "hybrid", filters)  # type: ignore[arg-type]
    assert refused.value.status_code == 400 and refused.value.message


HOSTILE = [
    'invoice "unbalanced quote',
    "invoice NEAR(payment fee, 2)",
    "invoice*",
    "(invoice OR",
    "invoice AND NOT payment",
    "title:invoice",
    "^invoice",
    "invoice -payment +fee",
    "{text heading}: invoice",
    "'; DROP TABLE chunks; --",
    '"""',
    "*",
    "NEAR",
    "AND OR NOT",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_user_text_never_reaches_fts5_as_syntax(
    corpus: tuple, embedder: Embedder, query: str
) -> None:
    tenant, ids = corpus
    index = ChunkIndex(tenant.db)
    # GIVEN user text full of FTS5 operators WHEN searched by keyword
    hits = search(index, embedder, query, 5, "keyword")
    # THEN no syntax error; words present in the corpus still find their passage
    if "invoice" in query.lower():
        assert "invoice" in names(hits, ids)
    assert index.count() >= len(DOCUMENTS)  # nothing was dropped
    # AND hybrid search accepts it too
    search(index, embedder, query, 5, "hybrid")


def test_fts_queries_are_quoted_words_only() -> None:
    # GIVEN hostile text WHEN turned into an FTS5 query THEN only quoted words joined by OR
    expected = '"b" OR "c" OR "2" OR "d" OR "e" OR "f" OR "col" OR "g"'
    assert fts_query('a "b" NEAR(c, 2) d* (e OR f) col:g') == expected
    assert fts_query("the and of") == '"the" OR "and" OR "of"'  # only stop words: keep them
    assert fts_query("¿¡!*()") is None
    long_query = " ".join(f"word{n}" for n in range(10_000))
    assert fts_query(long_query).count(" OR ") == 63


def test_a_ten_thousand_word_query_is_bounded(corpus: tuple, embedder: Embedder) -> None:
    tenant, ids = corpus
    # GIVEN a 10,000-word question WHEN searched in hybrid mode THEN it answers normally
    question = "When is the invoice payment due? " + " ".join(["filler"] * 10_000)
    hits = search(ChunkIndex(tenant.db), embedder, question, 3)
    assert names(hits, ids)[0] == "invoice"


def test_an_empty_tenant_and_a_blank_query_give_no_hits(
    tmp_path: Path, corpus: tuple, embedder: Embedder
) -> None:
    # GIVEN a tenant with nothing indexed WHEN searched in every mode THEN no hits, no error
    empty = Tenant(tmp_path / "empty")
    try:
        for mode in MODES:
            assert search(ChunkIndex(empty.db), embedder, "anything at all", 5, mode) == []
        # AND with a model recorded but no chunks, likewise
        ChunkIndex(empty.db).ensure_model(embedder.name, embedder.dimension)
        for mode in MODES:
            assert (
                search(ChunkIndex(empty.db), embedder, "anything", 5, mode, {"source": "upload"})
                == []
            )
    finally:
        empty.db.close()
    # GIVEN an indexed tenant WHEN the query is blank THEN no hits
    tenant, _ = corpus
    assert search(ChunkIndex(tenant.db), embedder, "   ", 5) == []


@pytest.mark.parametrize(
    ("mode", "k"), [("fuzzy", 5), ("hybrid", 0), ("hybrid", 101), ("dense", True)]
)
def test_bad_mode_or_k_is_refused(corpus: tuple, embedder: Embedder, mode: str, k: int) -> None:
    tenant, _ = corpus
    with pytest.raises(InvalidSearchError):
        search(ChunkIndex(tenant.db), embedder, "invoice", k, mode)


def test_an_embedder_of_another_model_is_refused(corpus: tuple, embedder: Embedder) -> None:
    tenant, _ = corpus
    # GIVEN the same weights under another model name (as a changed setting would give)
    other = Embedder(ModelLocation("renamed-model", embedder.path))
    # WHEN searching densely THEN the vector spaces are not mixed
    with pytest.raises(IndexModelChangedError):
        search(ChunkIndex(tenant.db), other, "invoice", 5, "dense")
    # AND keyword search needs no embedder at all
    assert search(ChunkIndex(tenant.db), None, "invoice", 5, "keyword")
    with pytest.raises(InvalidSearchError):
        search(ChunkIndex(tenant.db), None, "invoice", 5, "hybrid")


def test_search_reads_obey_the_query_time_limit(tmp_path: Path, embedder: Embedder) -> None:
    # GIVEN a tenant with many documents, so filtering them takes real work
    tenant = Tenant(tmp_path / "big")
    try:
        ChunkIndex(tenant.db).ensure_model(embedder.name, embedder.dimension)
        with tenant.db.write() as conn:
            conn.executemany(
                "INSERT INTO documents (id, sha256, title, size, source, state, metadata, "
                "created_at, updated_at) "
                "VALUES (?, ?, 't', 1, 'api', 'indexed', ?, '2024', '2024')",
                [(f"d{n}", f"h{n}", '{"tags": ["a", "b", "c"], "k": "v"}') for n in range(30_000)],
            )
            conn.execute(
                "INSERT INTO chunks (document_id, position, page, char_start, char_end, "
                "token_count, text) VALUES ('d1', 0, 1, 0, 4, 1, 'word')"
            )
        # WHEN a filtered search is given a 1 ms limit
        # THEN it stops with QueryTimeoutError instead of running on
        with pytest.raises(QueryTimeoutError):
            search(
                ChunkIndex(tenant.db),
                embedder,
                "word",
                5,
                "keyword",
                {"tags": ["z"], "metadata": {"k": "w"}},
                timeout_ms=1,
            )
    finally:
        tenant.db.close()


def test_filters_parse_to_a_reusable_object() -> None:
    # GIVEN JSON filters WHEN parsed THEN normalised values, and parsing is idempotent
    parsed = SearchFilters.parse({"source": "api", "date_to": "2024-01-31"})
    assert parsed.sources == ("api",) and parsed.date_to == "2024-02-01T00:00:00.000+00:00"
    assert SearchFilters.parse(parsed) is parsed and SearchFilters.parse(None).empty


def test_tenants_never_see_each_others_chunks(
    tmp_path: Path, corpus: tuple, embedder: Embedder
) -> None:
    tenant, _ = corpus
    # GIVEN another tenant holding a single document
    other = Tenant(tmp_path / "other")
    try:
        doc = other.add("Confidential: the other tenant's invoice is due tomorrow.")
        chunker = Chunker(locate_embedding_model("").path)
        index_documents(other.ledger, ChunkIndex(other.db), chunker, embedder, [doc])
        # WHEN each tenant searches for invoices
        mine = search(ChunkIndex(tenant.db), embedder, "invoice due", 10)
        theirs = search(ChunkIndex(other.db), embedder, "invoice due", 10)
        # THEN each sees only its own documents
        assert {h.document_id for h in theirs} == {doc}
        assert doc not in {h.document_id for h in mine}
        assert all("Confidential" not in h.text for h in mine)
    finally:
        other.db.close()
