"""Hybrid search is never worse than its parts: on the Python FAQ (python3.11-doc, ~200
passages, 150 questions whose answer is the FAQ entry under that heading), the default
mode's recall@5 is at least the better of dense and keyword search.

The full evaluation on four corpora of thousands of passages is `appliance bench
retrieval` (docs/benchmarks.md); this is its smallest corpus, kept as a regression test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.analyze import Chunker, Embedder
from agents.analyze.fusion import weighted_fusion
from bench.retrieval_corpora import CorpusMissingError, python_faq
from bench.retrieval_suite import IndexedCorpus, evaluate, index_corpus

pytestmark = pytest.mark.slow  # embeds ~200 passages with the real model


@pytest.fixture(scope="module")
def faq(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, chunker: Chunker
) -> Iterator[IndexedCorpus]:
    try:
        corpus = python_faq(library_pages=False)
    except CorpusMissingError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(str(error))
        pytest.skip(str(error))
    indexed = index_corpus(Path(tmp_path_factory.mktemp("faq")), corpus, embedder, chunker)
    yield indexed
    indexed.db.close()


def test_default_recall_at_5_is_at_least_the_better_of_dense_and_keyword(
    faq: IndexedCorpus, embedder: Embedder
) -> None:
    # GIVEN the Python FAQ indexed through the real pipeline
    assert faq.passages >= 150 and len(faq.corpus.questions) >= 100
    # WHEN every FAQ question is searched in each mode
    modes = evaluate(faq, embedder)
    recall = {mode: modes[mode]["recall@5"] for mode in ("dense", "keyword", "hybrid")}
    print(f"\nPython FAQ, {faq.passages} passages: recall@5 {recall}")
    # THEN the default (hybrid) finds the answer in the top 5 at least as often as either
    assert recall["hybrid"] >= max(recall["dense"], recall["keyword"]), modes


def test_a_strong_keyword_match_wins_over_an_undecided_dense_ranking() -> None:
    # GIVEN dense search that barely separates its top three of twenty candidates, and a
    # keyword list whose best match is dense's third
    dense = [(1, 0.501), (2, 0.500), (3, 0.499)] + [(i, 0.3 - 0.01 * i) for i in range(4, 21)]
    keyword = [(3, 9.0), (1, 1.0)]
    similarity = dict(dense)
    # WHEN fused THEN the keyword match comes first
    assert next(c for c, _ in weighted_fusion(dense, keyword, similarity)) == 3


def test_a_clear_dense_winner_keeps_its_place_against_weak_keyword_evidence() -> None:
    # GIVEN dense search sure of passage 1 and keyword search mildly preferring 2
    dense = [(1, 0.80), (2, 0.40), (3, 0.38)]
    keyword = [(2, 2.0), (1, 1.6)]
    # WHEN fused THEN passage 1 stays first, and a keyword-only candidate is ranked too
    fused = weighted_fusion(dense, [*keyword, (4, 0.5)], dict(dense) | {4: 0.1})
    assert [c for c, _ in fused][:2] == [1, 2]
    assert 4 in [c for c, _ in fused]
