"""``ai-worker ocr PAGE``: OCR a photo, scan or PDF, without a broker.

The engine comes from the worker's settings (``OCR_ENGINE``; Google's
credentials from ``GOOGLE_APPLICATION_CREDENTIALS`` or the endpoint override
``AI_WORKER_GOOGLE_VISION_ENDPOINT``); ``--engine`` overrides it. The result
(the ``ocr`` job's keys: ``text``, ``confidence``, ``engine``, ``status``,
``pages``, ``timings_ms``) goes to stdout as JSON; ``--text`` prints only the
text. Errors exit with code 2 and print ``{"reason_code": ..., "message": ...}``
on stderr.

Examples:
    >>> p = argparse.ArgumentParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["ocr", "page.png", "--engine", "tesseract", "--dpi", "300"])
    >>> a.engine, a.dpi, a.language, a.text
    ('tesseract', 300, 'kor+eng', False)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ai_tasks.cli.output import fail as _fail
from ai_tasks.cli.output import int_in

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker ocr``; returns the exit code (2 on error)."""
    from ai_tasks.jobs.base import JobRef
    from ai_tasks.jobs.ocr import ENGINES, OCRState, ocr_options
    from ai_tasks.settings import get_settings
    from vision.errors import VisionError
    from vision.ocr import recognize

    engine = (args.engine or get_settings().ocr_engine or "auto").lower()
    if engine not in ENGINES:
        return _fail("ocr_engine_unknown", f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    path = Path(args.page)
    if not path.is_file():
        return _fail("input_not_found", f"{args.page} does not exist")
    state = OCRState(
        job=JobRef(id="cli", type="ocr"), download_url=str(path), engine=engine, language=args.language,
        dpi=args.dpi, columns=not args.no_columns, circled=not args.no_circled, deskew=not args.no_deskew,
        force_ocr=args.force_ocr,
    )
    try:
        result = recognize(path, ocr_options(state))
    except VisionError as exc:
        return _fail(exc.reason_code, exc.message)
    if args.text:
        sys.stdout.write(result.text + "\n")
    else:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=1) + "\n")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``ocr`` command to a CLI's sub-parsers."""
    from ai_tasks.jobs.ocr import DPI_RANGE

    p = subparsers.add_parser("ocr", help="OCR a photo, scan or PDF (Tesseract kor+eng / Google); JSON on stdout")
    p.add_argument("page", help="a photo, scan or PDF")
    p.add_argument("--engine", choices=("tesseract", "google", "auto"), default=None, help="override OCR_ENGINE")
    p.add_argument("--language", choices=("kor+eng", "kor", "eng"), default="kor+eng", help="Tesseract languages")
    lo, hi = DPI_RANGE
    p.add_argument("--dpi", type=int_in(lo, hi), default=200, help=f"PDF rendering resolution ({lo}..{hi}, default 200)")
    p.add_argument("--text", action="store_true", help="print only the text, not the JSON result")
    p.add_argument("--no-columns", action="store_true", help="do not split columns before OCR")
    p.add_argument("--no-circled", action="store_true", help="do not look for circled numbers ①-⑨")
    p.add_argument("--no-deskew", action="store_true", help="do not straighten the page")
    p.add_argument("--force-ocr", action="store_true", help="OCR PDF pages even when their text layer is usable")
    p.set_defaults(func=run)
