"""``ai-worker embed "text" ... | --file texts.txt``: embeddings without a broker.

The backend and models come from the same settings as the worker
(``EMBEDDING_BACKEND``, ``EMBEDDING_LOCAL_MODEL``, ``EMBEDDING_OPENAI_MODEL``,
``OPENAI_BASE_URL``, ``OPENAI_API_KEY``); ``--backend`` and ``--model``
override the first two. ``--cache`` reads and fills the workers' cache (the
Redis of ``CELERY_RESULT_BACKEND``, by default ``redis://127.0.0.1:6379/0``),
``--cache-url URL`` another Redis; stderr says which, and one that does not
answer is ``redis_unavailable``. ``--file`` reads one text per line. The result goes
to stdout as JSON (the job's result keys); errors exit with code 2 and print
``{"reason_code": ..., "message": ...}`` on stderr.

Examples:
    >>> p = argparse.ArgumentParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> args = p.parse_args(["embed", "안녕", "hello", "--backend", "local"])
    >>> args.texts, args.backend
    (['안녕', 'hello'], 'local')
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ai_tasks.cli.output import fail as _fail

__all__ = ["add_parser", "run"]


def _open_cache(url: str | None) -> tuple[Any, str]:
    """The Redis embedding cache to use (None: in memory), and where it is and why, for stderr."""
    from ai_tasks.embed_cache import RedisEmbeddingCache, embed_cache
    from ai_tasks.redact import redact_url
    from ai_tasks.settings import get_settings

    s = get_settings()
    if url:
        cache = RedisEmbeddingCache(url, ttl_s=s.embed_cache_ttl_s, max_items=s.embed_cache_max_items)
        return cache, f"{redact_url(url)} (--cache-url)"
    backend = s.resolved_result_backend
    if s.result_backend:
        why = "CELERY_RESULT_BACKEND"
    elif s.broker_url and backend == s.broker_url:
        why = "CELERY_BROKER_URL"
    else:
        why = "the default; set CELERY_RESULT_BACKEND or --cache-url"
    workers_cache = embed_cache()
    if not isinstance(workers_cache, RedisEmbeddingCache):
        return None, f"memory only: {redact_url(backend)} ({why}) is not Redis"
    return workers_cache, f"{redact_url(backend)} ({why})"


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker embed``; returns the exit code (2 on error)."""
    from ai_tasks.jobs.embedding import openai_embedder
    from ai_tasks.settings import get_settings
    from nlp.embed.engine import embed_texts
    from nlp.errors import NLPError

    texts = list(args.texts)
    if args.file:
        try:
            raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        except FileNotFoundError:
            return _fail("input_not_found", f"{args.file} does not exist")
        except (OSError, UnicodeDecodeError) as exc:
            return _fail("input_unreadable", f"cannot read {args.file} as UTF-8 text: {exc}")
        texts.extend(line for line in raw.splitlines() if line.strip())
    if not texts:
        return _fail("texts_missing", "give texts as arguments or --file FILE (one text per line)")
    s = get_settings()
    cache = None
    if args.cache or args.cache_url:
        try:
            cache, where = _open_cache(args.cache_url)
        except ValueError as exc:  # not a Redis URL
            return _fail("option_invalid", f"--cache-url: {exc}")
        sys.stderr.write(f"ai-worker: embedding cache at {where}\n")
        if cache is not None:
            try:
                cache.size()
            except Exception as exc:  # redis.RedisError, OSError: the cache was asked for by name, so say so
                return _fail("redis_unavailable", f"the embedding cache at {where} does not answer: {type(exc).__name__}")
    started = time.perf_counter()
    try:
        batch = embed_texts(
            texts,
            backend=args.backend or s.embedding_backend,
            local_model=args.model or s.embedding_local_model,
            openai=openai_embedder(),
            cache=cache,
            max_texts=s.embed_max_texts,
            max_chars=s.embed_max_chars,
        )
    except NLPError as exc:
        return _fail(exc.reason_code, exc.message)
    result = batch.to_dict()
    result["timings_ms"] = {"embed": round((time.perf_counter() - started) * 1000, 1)}
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``embed`` command to a CLI's sub-parsers."""
    p = subparsers.add_parser("embed", help="embed texts (local model or OpenAI); JSON on stdout")
    p.add_argument("texts", nargs="*", help="texts to embed")
    p.add_argument("--file", default=None, help="a UTF-8 file with one text per line ('-' for stdin)")
    p.add_argument("--backend", choices=("auto", "local", "openai"), default=None, help="override EMBEDDING_BACKEND")
    p.add_argument("--model", default=None, help="override EMBEDDING_LOCAL_MODEL (a name or a model folder)")
    p.add_argument("--cache", action="store_true",
                   help="use the workers' embedding cache: the Redis of CELERY_RESULT_BACKEND (else a Redis "
                        "CELERY_BROKER_URL, else redis://127.0.0.1:6379/0); stderr names it")
    p.add_argument("--cache-url", default=None, metavar="URL", help="use the embedding cache in this Redis instead")
    p.set_defaults(func=run)
