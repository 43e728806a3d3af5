"""Text embeddings: a local model (offline default: multilingual-e5-small, 4-bit) or OpenAI.

Examples:
    >>> batch = embed_texts(["수학 숙제"], backend="local")
    >>> batch.backend, batch.normalized, batch.dimensions
    ('local', True, 384)
"""

from nlp.embed.cache import EmbeddingCache, MemoryEmbeddingCache, cache_key
from nlp.embed.engine import BACKENDS, embed_texts, prepare_texts
from nlp.embed.local import DEFAULT_LOCAL_MODEL, load_local_model, warm_up
from nlp.embed.openai_backend import OpenAIEmbedder
from nlp.embed.types import EmbeddingBatch

__all__ = [
    "BACKENDS",
    "DEFAULT_LOCAL_MODEL",
    "EmbeddingBatch",
    "EmbeddingCache",
    "MemoryEmbeddingCache",
    "OpenAIEmbedder",
    "cache_key",
    "embed_texts",
    "load_local_model",
    "prepare_texts",
    "warm_up",
]
