"""``ai-worker handwriting IMAGE [--reference BLANK] [--overlay OUT.png]``: handwriting analysis without a broker.

The result (the ``handwriting_analysis`` job's keys: ``writing_score``,
``calculation_score``, ``method``, ``ink_fraction``, ``written_fraction``,
``regions`` ...) goes to stdout as JSON. Errors exit with code 2 and print
``{"reason_code": ..., "message": ...}`` on stderr.

Examples:
    >>> p = argparse.ArgumentParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["handwriting", "page.jpg", "--reference", "blank.pdf"])
    >>> a.image, a.reference, a.overlay
    ('page.jpg', 'blank.pdf', None)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ai_tasks.cli.output import fail as _fail

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker handwriting``; returns the exit code (2 on error)."""
    import cv2

    from ai_tasks.jobs.handwriting import load_image
    from vision.errors import VisionError
    from vision.handwriting import analyze_handwriting, render_overlay

    for name in filter(None, (args.image, args.reference)):
        if not Path(name).is_file():
            return _fail("input_not_found", f"{name} does not exist")
    try:
        image = load_image(Path(args.image))
        reference = load_image(Path(args.reference), what="reference") if args.reference else None
        result = analyze_handwriting(image, reference)
    except VisionError as exc:
        return _fail(exc.reason_code, exc.message)
    out = result.to_dict()
    if args.overlay:
        if not cv2.imwrite(str(args.overlay), render_overlay(image, result)):
            return _fail("output_unwritable", f"cannot write overlay {args.overlay}")
        out["overlay"] = str(args.overlay)
    sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``handwriting`` command to a CLI's sub-parsers."""
    p = subparsers.add_parser("handwriting", help="how much was handwritten on a worksheet photo; JSON on stdout")
    p.add_argument("image", help="a photo or scan of the written page (image or PDF)")
    p.add_argument("--reference", default=None, help="the blank worksheet (image or PDF): score only what was added")
    p.add_argument("--overlay", default=None, help="write a PNG with the handwriting tinted and regions boxed")
    p.set_defaults(func=run)
