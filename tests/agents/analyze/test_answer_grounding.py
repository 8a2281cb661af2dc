"""Answers with the real default model (SmolLM2-135M) over real manuals: they do not loop,
every [n] points at a passage that supports its sentence (or the answer is extractive),
citations are numbered by first use, one per page; and a GGUF configured by path is used.

The questions are the two that failed in the issue: over libtasn1's info manual and the
shared MIME-info specification (both shipped by Debian packages on this machine).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from agents.analyze import Chunker, Embedder
from agents.analyze.answer import Answerer, AnswerSettings
from agents.analyze.search import Hit, search
from agents.llm import LlamaCppBackend, LLMService
from agents.models import locate_llm_model
from app.llm_wiring import build_llm
from app.settings import ModelSettings, Settings
from bench.answer_scoring import judge
from bench.retrieval_corpora import Corpus, CorpusMissingError, html_sections, info_nodes
from bench.retrieval_suite import IndexedCorpus, index_corpus
from tests.llama_server import server_model_settings

pytestmark = pytest.mark.slow  # real embedding model and real LLM

MIME_SPEC = Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.html")
QUESTIONS = ("Which function decodes DER encoded data?", "What is the shared MIME-info database?")


class IndexSearch:
    """The analysis service's `search`, over one test index."""

    def __init__(self, indexed: IndexedCorpus, embedder: Embedder) -> None:
        self.indexed, self.embedder = indexed, embedder

    def search(
        self,
        tenant_id: str,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        filters: Mapping[str, Any] | None = None,
        timeout_ms: int | None = None,
    ) -> list[Hit]:
        return search(self.indexed.index, self.embedder, query, k=k, mode=mode, filters=filters)


@pytest.fixture(scope="module")
def manuals(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, chunker: Chunker
) -> Iterator[IndexedCorpus]:
    corpus = Corpus("manuals", "libtasn1-doc, shared-mime-info")
    try:
        corpus.add_document("libtasn1 manual", info_nodes("libtasn1"))
    except CorpusMissingError as error:
        pytest.fail(str(error))  # installed with the default model's dependencies
    sections = [
        section
        for page in sorted(MIME_SPEC.glob("*.html"))
        for section in html_sections(page.read_text("utf-8", "replace"))
    ]
    corpus.add_document("Shared MIME-info Database", sections)
    indexed = index_corpus(tmp_path_factory.mktemp("manuals"), corpus, embedder, chunker)
    yield indexed
    indexed.db.close()


@pytest.fixture(scope="module", params=["llama.cpp in process", "llama.cpp server"])
def llm(request: pytest.FixtureRequest) -> Iterator[LLMService]:
    """The default model in this process, and served by a real llama.cpp server that the
    appliance reaches as its OpenAI-compatible endpoint (issue 17)."""
    if request.param == "llama.cpp server":
        server = request.getfixturevalue("llama_server")
        service = build_llm(Settings(models=ModelSettings(**server_model_settings(server))))
    else:
        service = LLMService(LlamaCppBackend(locate_llm_model("")))
    yield service
    service.close()


def _passages(indexed: IndexedCorpus, citations: list[dict[str, Any]]) -> list[str]:
    with indexed.db.read() as conn:
        texts = {int(r[0]): r[1] for r in conn.execute("SELECT id, text FROM chunks")}
    return ["\n".join(texts[i] for i in c["chunk_ids"]) for c in citations]


@pytest.mark.parametrize("question", QUESTIONS)
def test_an_answer_does_not_loop_and_every_marker_points_at_support(
    manuals: IndexedCorpus, embedder: Embedder, llm: LLMService, question: str
) -> None:
    # GIVEN two real manuals indexed, and the default model
    answerer = Answerer(IndexSearch(manuals, embedder), llm, AnswerSettings())
    # WHEN the question that looped or invented in the issue is asked
    result = answerer.ask("t", question)
    answer, citations = result["answer"], result["citations"]
    print(f"\n{question}\n-> {answer}\n   extractive={result['extractive']}")
    verdict = judge(answer, "", _passages(manuals, citations))
    # THEN it answers, does not loop, and every [n] is a citation that supports its sentence
    assert not result["no_answer"] and answer
    assert not verdict["loops"], answer
    assert verdict["markers"] >= 1 and verdict["all_markers_supported"], (answer, verdict)
    # AND citations are numbered by first use, one per document page
    assert [c["number"] for c in citations] == list(range(1, len(citations) + 1))
    pages = [(c["document_id"], c["page"]) for c in citations]
    assert len(pages) == len(set(pages))


def test_a_gguf_configured_by_path_is_the_model_that_answers(
    tmp_path: Path, manuals: IndexedCorpus, embedder: Embedder
) -> None:
    # GIVEN a user's own GGUF file in the data directory's models folder
    own = tmp_path / "models" / "MyOwn-Instruct.Q4_1.gguf"
    own.parent.mkdir()
    shutil.copyfile(locate_llm_model("").path, own)
    settings = Settings(models=ModelSettings(llm_model=str(own)))
    # WHEN the appliance builds its LLM from the settings and answers
    service = build_llm(settings)
    try:
        answerer = Answerer(IndexSearch(manuals, embedder), service, AnswerSettings())
        result = answerer.ask("t", QUESTIONS[1])
        # THEN that file is the model in use, and it answered through its chat template
        assert service.status().model == "MyOwn-Instruct.Q4_1"
        assert service.status().loaded
        assert result["answer"] and not result["no_answer"]
    finally:
        service.close()
