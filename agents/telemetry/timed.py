"""Timed versions of the parse function and the embedder, for the composition root to
hand to the ingest and analysis agents instead of the plain ones."""

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from agents.analyze.embedding import Embedder
from agents.ingest.sandbox.document import ParsedDocument
from agents.telemetry.metrics import Metrics

ParseFn = Callable[..., ParsedDocument]


def timed_parse(parse: ParseFn, metrics: Metrics) -> ParseFn:
    """`parse` (SandboxPool.parse) recording each call's time and outcome."""
    if not metrics.enabled:
        return parse

    def parse_timed(*args: Any, **kwargs: Any) -> ParsedDocument:
        started = time.perf_counter()
        ok = False
        try:
            with metrics.tracing.span("parse"):
                parsed = parse(*args, **kwargs)
            ok = True
            return parsed
        finally:
            metrics.parsed(time.perf_counter() - started, ok)

    return parse_timed


class MeteredEmbedder(Embedder):
    """An Embedder that records the time of each encode call and the texts embedded."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None
    ) -> npt.NDArray[np.float32]:
        started = time.perf_counter()
        with self.metrics.tracing.span("embed", texts=len(texts)):
            vectors = super().encode(texts, batch_size)
        if len(texts):
            self.metrics.embedded(len(texts), time.perf_counter() - started)
        return vectors
