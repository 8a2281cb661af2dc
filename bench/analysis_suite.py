"""The index and search suites: thin wrappers over bench.analysis_corpus with targets."""

from typing import Any

from agents.analyze.embedding import Embedder
from agents.models import locate_embedding_model
from app.services import database_options
from app.settings import Settings
from bench.analysis_corpus import bench_index, bench_search
from storage.database import DatabaseOptions

TARGET_INDEX_RATIO = 0.9
TARGET_SEARCH_P95_RATIO = 2.0
TARGET_RECALL = 0.98


def _find(tree: Any, key: str) -> Any:
    """The first value stored under `key` anywhere in a nested result."""
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        for value in tree.values():
            found = _find(value, key)
            if found is not None:
                return found
    return None


def run_index(settings: Settings) -> dict[str, Any]:
    embedder = Embedder(locate_embedding_model(settings.models.embedding_model))
    results = bench_index(embedder=embedder)
    ratio = _find(results, "ratio")
    return {
        "results": results,
        "targets": {"ratio": f">= {TARGET_INDEX_RATIO}"},
        "met": {"ratio": isinstance(ratio, int | float) and ratio >= TARGET_INDEX_RATIO},
    }


def run_search(settings: Settings, queries: int) -> dict[str, Any]:
    options = database_options(settings)
    results = bench_search(
        queries=max(queries, 20),
        options=DatabaseOptions(**{**options.__dict__, "load_vec": True}),
    )
    sizes = results.get("results", {})
    largest = sizes[max(sizes, key=int)] if sizes else {}
    p95_ratio = largest.get("ratio_p95_vs_numpy")
    recall = largest.get("recall@10")
    return {
        "results": results,
        "targets": {
            "p95_ratio_at_largest": f"<= {TARGET_SEARCH_P95_RATIO}",
            "recall_at_10": f">= {TARGET_RECALL}",
        },
        "met": {
            "p95_ratio_at_largest": isinstance(p95_ratio, int | float)
            and p95_ratio <= TARGET_SEARCH_P95_RATIO,
            "recall_at_10": isinstance(recall, int | float) and recall >= TARGET_RECALL,
        },
    }
