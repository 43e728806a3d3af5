"""``ai-worker video FILE [--sample-every S] [--min-frame-count N]``: homework video analysis without a broker.

The result (the ``homework_video_analysis`` job's keys: ``total_frames``,
``sampled_frames``, ``avg_writing_score``, ``filled_ratio``, ``frames``,
``too_short``, ``progress`` ...) goes to stdout as JSON; ``--summary`` leaves
out the per-frame lists. Limits come from the worker's settings
(``AI_WORKER_VIDEO_MAX_DURATION_S``, ``AI_WORKER_VIDEO_MAX_FRAMES``,
``AI_WORKER_MAX_PIXELS``). Errors exit with code 2 and print
``{"reason_code": ..., "message": ...}`` on stderr.

Examples:
    >>> p = argparse.ArgumentParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["video", "hw.mp4", "--sample-every", "2"])
    >>> a.file, a.sample_every, a.min_frame_count, a.summary
    ('hw.mp4', 2.0, 30, False)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ai_tasks.cli.output import fail as _fail
from ai_tasks.cli.output import float_in, int_in

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker video``; returns the exit code (2 on error)."""
    from ai_tasks.jobs.video import video_limits
    from vision.errors import VisionError
    from vision.video.analyze import analyze_video

    if not Path(args.file).is_file():
        return _fail("input_not_found", f"{args.file} does not exist")
    try:
        analysis = analyze_video(Path(args.file), sample_every_s=args.sample_every, limits=video_limits(),
                                 min_frame_count=args.min_frame_count)
    except VisionError as exc:
        return _fail(exc.reason_code, exc.message)
    out = analysis.to_dict()
    if args.summary:
        out.pop("frames")
        out.pop("progress")
    sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``video`` command to a CLI's sub-parsers."""
    from ai_tasks.jobs.video import MIN_FRAME_COUNT_RANGE, SAMPLE_EVERY_RANGE_S

    lo, hi = SAMPLE_EVERY_RANGE_S
    p = subparsers.add_parser("video", help="writing on the page in a homework video; JSON on stdout")
    p.add_argument("file", help="a video file (MP4, MOV, WebM, ...)")
    p.add_argument("--sample-every", type=float_in(lo, hi), default=1.0,
                   help=f"seconds between samples ({lo:g}..{hi:g}, default 1)")
    p.add_argument("--min-frame-count", type=int_in(*MIN_FRAME_COUNT_RANGE), default=30,
                   help="fewer frames than this: too_short (default 30)")
    p.add_argument("--summary", action="store_true", help="leave out the per-frame lists")
    p.set_defaults(func=run)
