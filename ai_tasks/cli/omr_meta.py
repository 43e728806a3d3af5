"""``ai-worker omr meta-from-image``: propose a meta from a scan of a blank card.

::

    omr meta-from-image BLANK.jpg [--dpi 300] [--out meta.json] [--overlay overlay.png] [--title T]

The scan is of the card alone (a flatbed or a scanner app cropped to the
card; ``--dpi`` turns its pixels into millimetres). The proposed meta
(:func:`omr.propose.propose_meta`: bubbles, questions, ID grid, print colour,
timing marks, extra ovals) goes to ``--out`` or stdout; the overlay (every
bubble with its question and label) to ``--overlay`` for a person to confirm
before grading with it; what had to be assumed goes to stderr as
``{"notes": [...]}``. Errors: JSON ``{"reason_code", "message"}`` on stderr,
exit status 2 (``image_invalid``, ``alignment_failed``: no bubble grid found,
``overlay_unwritable``, ``dpi_invalid``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from omr.errors import OMRError, OptionError

__all__ = ["register"]

#: Scanner resolutions accepted (dpi): below, a 2.5 mm oval is a handful of pixels.
MIN_DPI, MAX_DPI = 100.0, 1200.0


def _cmd_meta_from_image(args: argparse.Namespace) -> int:
    import cv2

    from omr.propose import propose_meta_from_file

    if not MIN_DPI <= args.dpi <= MAX_DPI:
        raise OptionError("dpi_invalid", f"--dpi must be {MIN_DPI:g}..{MAX_DPI:g}, got {args.dpi:g}")
    proposal = propose_meta_from_file(Path(args.image), dpi=args.dpi, title=args.title)
    if args.overlay and not cv2.imwrite(str(args.overlay), proposal.overlay):
        raise OMRError("overlay_unwritable", f"cannot write overlay {args.overlay}")
    text = json.dumps(proposal.meta, ensure_ascii=False, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    if proposal.notes:
        print(json.dumps({"notes": proposal.notes}, ensure_ascii=False), file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``meta-from-image`` to the ``omr`` command's sub-parsers.

    Examples:
        >>> p = argparse.ArgumentParser(prog="omr")
        >>> register(p.add_subparsers(dest="omr_command"))
        >>> p.parse_args(["meta-from-image", "blank.jpg", "--dpi", "200"]).dpi
        200.0
    """
    m = sub.add_parser("meta-from-image", help="propose a meta (and an overlay to confirm) from a blank card's scan")
    m.add_argument("image", help="scan of one blank card, the card alone")
    m.add_argument("--dpi", type=float, default=300.0, help="the scan's resolution (default 300)")
    m.add_argument("--out", default=None, help="write the meta JSON here (default: stdout)")
    m.add_argument("--overlay", default=None, help="write the annotated PNG here")
    m.add_argument("--title", default=None, help="the meta's title")
    m.set_defaults(omr_handler=_cmd_meta_from_image)
