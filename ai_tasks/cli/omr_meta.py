"""``ai-worker omr meta-from-image``: propose a meta from a scan of a blank card.

::

    omr meta-from-image BLANK.jpg [--dpi 300] [--out meta.json] [--overlay overlay.png] [--title T]

The scan is of the card alone (a flatbed or a scanner app cropped to the
card; ``--dpi`` turns its pixels into millimetres). The proposed meta
(:func:`omr.propose.propose_meta`: bubbles, questions, ID grid, print colour,
timing marks, extra ovals) goes to ``--out`` or stdout; the overlay (every
bubble with its question and label) to ``--overlay`` for a person to confirm
before grading with it; what had to be assumed goes to stderr as
``{"notes": [...]}``. With ``--out``, stdout gets ``{"meta", "overlay",
"bubbles", "notes"}``. Errors: JSON ``{"reason_code", "message"}`` on stderr,
exit status 2 (``image_invalid``, ``alignment_failed``: no bubble grid found,
``output_unwritable``, ``option_invalid``: ``--dpi`` outside 100..1200).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ai_tasks.cli.output import float_in, print_json
from omr.errors import OMRError

__all__ = ["register"]

#: Scanner resolutions accepted (dpi): below, a 2.5 mm oval is a handful of pixels.
MIN_DPI, MAX_DPI = 100.0, 1200.0


def _cmd_meta_from_image(args: argparse.Namespace) -> int:
    import cv2

    from omr.propose import propose_meta_from_file

    proposal = propose_meta_from_file(Path(args.image), dpi=args.dpi, title=args.title)
    if args.overlay and not cv2.imwrite(str(args.overlay), proposal.overlay):
        raise OMRError("output_unwritable", f"cannot write overlay {args.overlay}")
    text = json.dumps(proposal.meta, ensure_ascii=False, indent=1)
    if args.out:
        try:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise OMRError("output_unwritable", f"cannot write {args.out}: {exc.strerror}") from None
        bubbles = sum(len(q.get("choices", ())) for q in proposal.meta.get("questions", ()))
        print_json({"meta": str(args.out), "overlay": args.overlay, "bubbles": bubbles, "notes": proposal.notes})
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
    m.add_argument("--dpi", type=float_in(MIN_DPI, MAX_DPI), default=300.0,
                   help=f"the scan's resolution ({MIN_DPI:g}..{MAX_DPI:g}, default 300)")
    m.add_argument("--out", default=None, help="write the meta JSON here (default: stdout)")
    m.add_argument("--overlay", default=None, help="write the annotated PNG here")
    m.add_argument("--title", default=None, help="the meta's title")
    m.set_defaults(omr_handler=_cmd_meta_from_image)
