"""The default fusion is never worse than its parts on recorded candidate lists of a real
corpus: the c-functions corpus of `appliance bench retrieval` (1,522 passages of C library
info manuals, 150 questions whose answer is a function entry), where keyword search alone
is strongest. The file holds, per question, the top 50 of dense and of keyword search and
the cosine of every candidate, as `search` computes them before fusing
(`bench/retrieval_candidates.py` recorded it); fusing them here is exactly what hybrid
search does, without the minutes of embedding.
"""

from pathlib import Path
from typing import Any

import pytest

from agents.analyze.fusion import reciprocal_rank_fusion, weighted_fusion
from bench.retrieval_candidates import keyword_only, load, recall_at

RECORDED = Path(__file__).parent / "data" / "c_functions_candidates.json.gz"


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    return load(RECORDED)


def test_default_fusion_recall_at_5_is_at_least_the_better_part_on_c_functions(
    recorded: dict[str, Any],
) -> None:
    # GIVEN the recorded candidate lists of 150 questions over 1,522 passages
    assert len(recorded["questions"]) == 150 and recorded["passages"] >= 1500
    # WHEN each ranking is cut to its top 5
    recall = {
        "dense": recall_at(recorded, None),
        "keyword": recall_at(recorded, keyword_only),
        "hybrid": recall_at(recorded, weighted_fusion),
        "rrf": recall_at(recorded, lambda d, k, _c: reciprocal_rank_fusion([d, k])),
    }
    print(f"\nc-functions recall@5: {recall}")
    # THEN the default fusion finds the answer at least as often as the better part
    assert recall["hybrid"] >= max(recall["dense"], recall["keyword"]), recall
