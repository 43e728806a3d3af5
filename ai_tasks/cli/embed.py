"""``ai-worker embed "text" ... | --file texts.txt``: embeddings without a broker.

The backend and models come from the same settings as the worker
(``EMBEDDING_BACKEND``, ``EMBEDDING_LOCAL_MODEL``, ``EMBEDDING_OPENAI_MODEL``,
``OPENAI_BASE_URL``, ``OPENAI_API_KEY``); ``--backend`` and ``--model``
override the first two. ``--file`` reads one text per line. The result goes
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

from ai_tasks.cli.output import fail as _fail

__all__ = ["add_parser", "run"]


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
    if args.cache:
        from ai_tasks.embed_cache import embed_cache

        cache = embed_cache()
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
    p.add_argument("--cache", action="store_true", help="use the worker's embedding cache (Redis)")
    p.set_defaults(func=run)
