"""Combining the dense and keyword candidate lists of a hybrid search.

The default, `weighted_fusion`, scores every candidate of either list by
`DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * keyword`, where both parts are min-max
scaled over the query's candidates, so each runs from 0 (its weakest candidate) to 1
(its best):

- dense is the candidate's cosine with the query (computed for keyword-only candidates
  too, so no candidate lacks it);
- keyword is its bm25 score (0 when FTS5 did not return it).

Why both scaled the same way: the first version divided bm25 by the query's best bm25,
which keeps bm25's zero point. The weakest of a query's 50 keyword candidates then still
scored about a quarter of the best (median 0.22-0.27 on the four bench corpora), so the
differences between keyword candidates used only about three quarters of the scale the
cosines use, and keyword search counted for less than its weight said. Scaled alike,
the weight means what it says. On the
retrieval suite (docs/benchmarks.md; recall@5, tuning corpora) this brought c-functions
from 0.987 to 0.993, equal to keyword search alone (dense 0.920), and kept python-faq at
1.000 (dense 0.993, keyword 0.987). It costs gnu-manuals 0.973 -> 0.947 (keyword alone
0.927, dense 0.900): still above both parts, which the old scaling was not everywhere.

Why not reciprocal-rank fusion: RRF throws the scores away. A passage that one list puts
first by a wide margin and one it puts fifth by a hair are worth the same (1 / (k +
rank)); scaled scores put the answer first more often where one side is clearly right
(c-functions recall@1 0.87 against RRF's 0.77). The weight 0.4 was the best of 0.2-0.9
on the two tuning corpora (python-faq, c-functions); the held-out Debian FAQ was only
measured, never tuned on.
"""

from collections.abc import Iterable, Mapping

DENSE_WEIGHT = 0.4  # chosen on the tuning corpora only, see docs/benchmarks.md
RRF_K = 10


def weighted_fusion(
    dense: list[tuple[int, float]],
    keyword: list[tuple[int, float]],
    similarity: Mapping[int, float],
    dense_weight: float = DENSE_WEIGHT,
) -> list[tuple[int, float]]:
    """Fused (chunk id, score), best first; ties broken by chunk id.

    `dense` and `keyword` are (chunk id, score) best first; `similarity` holds the
    cosine of every candidate of both lists (a candidate without one counts as the
    lowest dense score).
    """
    ids = list(dict.fromkeys([c for c, _ in dense] + [c for c, _ in keyword]))
    if not ids:
        return []
    cosines = {c: similarity.get(c) for c in ids}
    known = [v for v in cosines.values() if v is not None]
    low = min(known, default=0.0)
    high = max(known, default=0.0)
    spread = high - low
    keyword_score = dict(keyword)
    k_low = min(keyword_score.values(), default=0.0)
    k_spread = max(keyword_score.values(), default=0.0) - k_low
    fused = []
    for chunk_id in ids:
        cosine = cosines[chunk_id]
        d = 0.0 if cosine is None or spread <= 0 else (cosine - low) / spread
        if spread <= 0 and cosine is not None:
            d = 1.0  # one candidate, or all equal: dense cannot tell them apart
        if chunk_id not in keyword_score:
            k = 0.0
        elif k_spread <= 0:
            k = 1.0  # one keyword match, or all equal
        else:
            k = (keyword_score[chunk_id] - k_low) / k_spread
        fused.append((chunk_id, dense_weight * d + (1.0 - dense_weight) * k))
    return sorted(fused, key=lambda pair: (-pair[1], pair[0]))


def reciprocal_rank_fusion(
    lists: Iterable[list[tuple[int, float]]], k: int = RRF_K
) -> list[tuple[int, float]]:
    """Fused (chunk id, sum of 1 / (k + rank)), best first; ties broken by chunk id.
    Kept for comparison (the retrieval suite and tests measure it beside the default)."""
    fused: dict[int, float] = {}
    for ranked in lists:
        for rank, (chunk_id, _) in enumerate(ranked, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
