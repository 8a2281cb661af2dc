"""Analysis: chunking and embedding now; indexing, retrieval and answers build on them.

Importing this package loads no model and imports neither torch nor transformers.
"""

from agents.analyze.chunking import Chunk, Chunker, Page
from agents.analyze.embedding import Embedder

__all__ = ["Chunk", "Chunker", "Embedder", "Page"]
