"""``ai-worker problem OCR.txt``: an exam problem from OCR text, without a broker.

The model, server and key come from the same settings as the worker
(``PROBLEM_GEN_MODEL``, ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``,
``AI_WORKER_LLM_TIMEOUT_S``); ``--model`` and ``--base-url`` override the
first two. The problem goes to stdout as JSON (the job's result keys);
errors exit with code 2 and print ``{"reason_code": ..., "message": ...}``
on stderr.

Examples:
    >>> p = argparse.ArgumentParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> p.parse_args(["problem", "q.txt", "--model", "m"]).model
    'm'
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from ai_tasks.cli.output import fail as _fail

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker problem``; returns the exit code (2 on error)."""
    from ai_tasks.jobs.problem import client_config
    from nlp.errors import NLPError
    from nlp.problem import generate_problem

    try:
        text = sys.stdin.read() if args.ocr_file == "-" else Path(args.ocr_file).read_text(encoding="utf-8")
    except FileNotFoundError:
        return _fail("input_not_found", f"{args.ocr_file} does not exist")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail("input_unreadable", f"cannot read {args.ocr_file} as UTF-8 text: {exc}")
    config = client_config()
    if args.model:
        config = replace(config, model=args.model)
    if args.base_url:
        config = replace(config, base_url=args.base_url)
    try:
        problem = generate_problem(text, client_config=config)
    except NLPError as exc:
        return _fail(exc.reason_code, exc.message)
    sys.stdout.write(json.dumps(problem.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``problem`` command to a CLI's sub-parsers."""
    p = subparsers.add_parser("problem", help="generate an exam problem from OCR text (through the LLM)")
    p.add_argument("ocr_file", help="a UTF-8 text file with the OCR text of one question ('-' for stdin)")
    p.add_argument("--model", default=None, help="override PROBLEM_GEN_MODEL")
    p.add_argument("--base-url", default=None, help="override OPENAI_BASE_URL (an OpenAI-compatible /v1 URL)")
    p.set_defaults(func=run)
