"""Sentence embeddings with sentence-transformers, loaded offline on first use."""

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from agents.analyze.priority_turns import PriorityTurns
from agents.models import ModelLocation
from agents.openmp_policy import apply_openmp_wait_policy

_POOLING_MODES = (
    "pooling_mode_cls_token",
    "pooling_mode_max_tokens",
    "pooling_mode_mean_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
    "pooling_mode_lasttoken",
)


class Embedder:
    """One shared SentenceTransformer on the CPU; `encode` is safe from many threads.

    Calls take turns: on a 2-core machine torch already uses every core for one batch,
    so overlapping calls would only compete for them and for memory. A call of more
    than one batch (indexing) takes one turn per batch, and a call that fits in one
    batch (a search query) goes before its next batch: a query never waits for a whole
    document to be embedded (issue 21: search hung for minutes while a 20 MiB text
    indexed).
    """

    def __init__(self, model: ModelLocation, *, batch_size: int = 32, threads: int = 0) -> None:
        self.name = model.name
        self.path = model.path
        self.batch_size = batch_size
        # torch's intra-op threads in this process (0: torch's default, one per core)
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()  # loading
        self._turns = PriorityTurns()
        self._dimension = _dimension_from_files(model.path)

    @property
    def loaded(self) -> bool:
        """True once torch and the weights are in memory."""
        return self._model is not None

    @property
    def dimension(self) -> int:
        """Length of each vector (read from the model files when possible, else loaded)."""
        if self._dimension is None:
            self.load()
            self._dimension = int(self._model.get_embedding_dimension())
        return self._dimension

    @property
    def max_seq_length(self) -> int:
        """Tokens the model reads per text (longer texts are truncated by the model)."""
        return max_seq_length(self.path)

    def load(self) -> None:
        """Load the model unless already loaded; never reaches a model hub."""
        with self._lock:
            if self._model is None:
                self._model = _load(self.path, self.threads)

    @property
    def busy(self) -> bool:
        """True while a batch is being embedded."""
        return self._turns.busy

    def encode(
        self, texts: Sequence[str], batch_size: int | None = None
    ) -> npt.NDArray[np.float32]:
        """L2-normalised float32 vectors, one row per text, in input order."""
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not one string")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        size = batch_size or self.batch_size
        if len(texts) <= size:
            with self._turns.turn(urgent=True):
                return self._encode_batch(list(texts), size)
        # Longest first, as sentence-transformers orders one call itself: batches of
        # similar length need the least padding, so splitting the call costs nothing.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            with self._turns.turn(urgent=False):
                vectors[rows] = self._encode_batch([texts[i] for i in rows], size)
        return vectors

    def _encode_batch(self, texts: list[str], batch_size: int) -> npt.NDArray[np.float32]:
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def max_seq_length(path: Path) -> int:
    """The model's max_seq_length from sentence_bert_config.json (512 when absent)."""
    for folder in (path, transformer_dir(path)):
        config = folder / "sentence_bert_config.json"
        if config.exists():
            value = json.loads(config.read_text("utf-8")).get("max_seq_length")
            if isinstance(value, int) and value > 0:
                return value
    return 512


def transformer_dir(path: Path) -> Path:
    """Where the tokenizer files are: the model directory itself, or (older
    sentence-transformers layouts) the Transformer module's folder named in modules.json."""
    if (path / "tokenizer_config.json").exists() or (path / "tokenizer.json").exists():
        return path
    try:
        modules = json.loads((path / "modules.json").read_text("utf-8"))
    except (OSError, ValueError):
        return path
    for module in modules:
        if str(module.get("type", "")).endswith("models.Transformer") and module.get("path"):
            return path / module["path"]
    return path


def _load(path: Path, threads: int = 0) -> Any:
    # offline guarantees must be set before the hub libraries are first imported
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    apply_openmp_wait_policy()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    if threads > 0:
        # several processes embedding on few cores: each with every core's worth of
        # OpenMP threads makes them wait at each other's barriers (docs/scaling.md)
        import torch

        torch.set_num_threads(threads)

    # a server has no terminal to draw the weight-loading progress bar on
    transformers_logging.disable_progress_bar()
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def _dimension_from_files(path: Path) -> int | None:
    """Output size from modules.json without importing torch; None when unsure."""
    try:
        modules = json.loads((path / "modules.json").read_text("utf-8"))
        dimension = None
        for module in modules:
            kind = module.get("type", "")
            config = path / module.get("path", "") / "config.json"
            if kind.endswith("models.Pooling"):
                pooling = json.loads(config.read_text("utf-8"))
                modes = sum(bool(pooling.get(mode)) for mode in _POOLING_MODES)
                dimension = int(pooling["word_embedding_dimension"]) * max(modes, 1)
            elif kind.endswith("models.Dense"):
                dimension = int(json.loads(config.read_text("utf-8"))["out_features"])
            elif not kind.endswith(("models.Transformer", "models.Normalize")):
                return None  # a module whose output size is not known here
        return dimension
    except (OSError, ValueError, KeyError, TypeError):
        return None
