"""``ai-worker omr ...``: sheet templates and grading from the command line.

Sub-commands::

    omr template --questions N [--choices 4|5] --out DIR [--dpi 200] [--title T] [--force]
    omr grade IMAGE --meta META.json [--mode auto|photo|scan] [--key KEY.json] [--overlay OUT.png]
    omr grade-batch SOURCE --meta META.json --out results.csv [--mode ...] [--key KEY.json] [--broker]

Results go to stdout as JSON; errors exit with code 2 and print
``{"reason_code": ..., "message": ...}`` on stderr: a path that does not
exist is ``input_not_found``, a meta or key that is not JSON ``meta_invalid``
/ ``key_invalid`` (an answer key naming a question the sheet does not have,
or a label that is not one of its choices, too), an option out of range
``option_invalid``. ``omr template`` refuses to overwrite the sheet files of
an earlier run (``output_exists``) unless ``--force``. This module imports
only ``omr``, the standard library and (lazily, on a TTY) ``tqdm``; it needs
no Celery.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ai_tasks.cli.output import CLIParser, fail, int_in
from omr.errors import KeyFormatError, MetaError, OMRError
from omr.template import SHEET_FILES, SHEET_PNG_DPI_RANGE

__all__ = ["main", "read_json", "register"]


def read_json(path: str, what: str) -> Any:
    """The JSON in file ``path``; ``what`` (``meta`` or ``key``) names it in errors.

    Raises:
        OMRError: ``input_not_found``, ``input_unreadable`` or ``<what>_invalid``.
    """
    error = KeyFormatError if what == "key" else MetaError
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error("input_not_found", f"{what} file {path} does not exist") from None
    except UnicodeDecodeError:
        raise error(f"{what}_invalid", f"{what} {path} is not JSON (not even UTF-8 text)") from None
    except OSError as exc:
        raise error("input_unreadable", f"cannot read {what} {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise error(f"{what}_invalid", f"{what} {path} is not JSON: {exc}") from None


def _cmd_template(args: argparse.Namespace) -> int:
    from omr.template import build_template, write_sheet

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return fail("output_exists", f"--out {out} is an existing file; give a folder (it gets {', '.join(SHEET_FILES)})")
    there = [name for name in SHEET_FILES if (out / name).exists()]
    if there and not args.force:
        return fail("output_exists", f"{out} already holds {', '.join(there)}; use --force to overwrite")
    meta = build_template(args.questions, choices=args.choices, title=args.title)
    try:
        paths = write_sheet(meta, out, dpi=args.dpi)
    except OSError as exc:
        return fail("output_unwritable", f"cannot write the sheet into {out}: {exc}")
    print(json.dumps({k: str(v) for k, v in paths.items()}))
    return 0


def _cmd_grade(args: argparse.Namespace) -> int:
    import cv2

    from omr.grade import grade_image_with_page
    from omr.meta import load_meta
    from omr.overlay import render_overlay

    if not Path(args.image).is_file():
        return fail("input_not_found", f"{args.image} does not exist")
    sheet = load_meta(read_json(args.meta, "meta"))
    key = read_json(args.key, "key") if args.key else None
    result, page = grade_image_with_page(Path(args.image), sheet, mode=args.mode, key=key)
    if args.overlay:
        if not cv2.imwrite(str(args.overlay), render_overlay(page, result, sheet)):
            raise OMRError("output_unwritable", f"cannot write overlay {args.overlay}")
    print(json.dumps(result, indent=1))
    return 0


def _cmd_grade_batch(args: argparse.Namespace) -> int:
    from ai_tasks.cli.omr_batch import run as run_batch

    return run_batch(args, read_json)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``omr`` command (with its sub-commands) to a CLI's sub-parsers.

    Examples:
        >>> p = CLIParser(prog="ai-worker")
        >>> register(p.add_subparsers(dest="command"))
        >>> p.parse_args(["omr", "template", "--questions", "10", "--out", "x"]).questions
        10
    """
    omr = subparsers.add_parser("omr", help="OMR answer sheets: templates and grading")
    sub = omr.add_subparsers(dest="omr_command", required=True)

    t = sub.add_parser("template", help="write sheet.pdf, sheet.png and meta.json")
    lo, hi = SHEET_PNG_DPI_RANGE
    t.add_argument("--questions", type=int_in(1, 100), required=True, help="number of questions (1..100)")
    t.add_argument("--choices", type=int, choices=(4, 5), default=5)
    t.add_argument("--out", required=True, help="output folder (created if missing)")
    t.add_argument("--dpi", type=int_in(lo, hi), default=200, help=f"resolution of sheet.png ({lo}..{hi}, default 200)")
    t.add_argument("--title", default=None)
    t.add_argument("--force", action="store_true", help="overwrite the sheet files of an earlier run in --out")
    t.set_defaults(omr_handler=_cmd_template)

    g = sub.add_parser("grade", help="grade one image; result JSON on stdout")
    g.add_argument("image")
    g.add_argument("--meta", required=True, help="the sheet's meta.json")
    g.add_argument("--mode", choices=("auto", "photo", "scan"), default="auto")
    g.add_argument("--key", default=None, help="answer key JSON")
    g.add_argument("--overlay", default=None, help="write an annotated PNG here")
    g.set_defaults(omr_handler=_cmd_grade)

    from ai_tasks.cli.omr_batch import add_arguments as batch_arguments

    b = sub.add_parser("grade-batch", help="grade a folder, PDF, TIFF or zip of sheets to CSV")
    batch_arguments(b)
    b.set_defaults(omr_handler=_cmd_grade_batch)
    __import__("ai_tasks.cli.omr_meta", fromlist=["register"]).register(sub)  # meta-from-image
    omr.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``omr`` sub-command; returns the exit code (2 on error)."""
    try:
        return int(args.omr_handler(args))
    except OMRError as exc:
        return fail(exc.reason_code, exc.message)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m ai_tasks.cli.omr omr grade ...``."""
    parser = CLIParser(prog="ai-worker")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
