"""``ai-worker segment PAGE``: find the questions of an exam page, without a broker.

The engine and the YOLO model come from the worker's settings
(``QUESTION_SEGMENTATION_ENGINE``, ``YOLO_QUESTION_*``); ``--engine`` and
``--model`` override them. The result (the job's keys: ``boxes``,
``questions``, ``engine``, ``pages``) goes to stdout as JSON; ``--crops DIR``
writes ``p<page>_q<number>.png`` per question, ``--overlay OUT.png`` the
first page with the boxes drawn (``OUT_p<n>.png`` for later pages). Errors
exit with code 2 and print ``{"reason_code": ..., "message": ...}`` on stderr.

Examples:
    >>> p = argparse.ArgumentParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> a = p.parse_args(["segment", "page.png", "--engine", "opencv", "--crops", "out"])
    >>> a.engine, a.crops
    ('opencv', 'out')
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ai_tasks.cli.output import fail as _fail

__all__ = ["add_parser", "run"]


def _overlay_path(base: Path, index: int) -> Path:
    return base if index == 0 else base.with_name(f"{base.stem}_p{index + 1}{base.suffix}")


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker segment``; returns the exit code (2 on error)."""
    import cv2

    from ai_tasks.settings import get_settings
    from vision.errors import VisionError
    from vision.pages import load_pages
    from vision.segment.engine import ENGINES, YoloConfig, segment_page
    from vision.segment.overlay import draw_questions

    s = get_settings()
    engine = (args.engine or s.segmentation_engine or "auto").lower()
    if engine not in ENGINES:
        return _fail("segmentation_engine_unknown", f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    yolo = YoloConfig(s.yolo_model_path, s.yolo_input_size, s.yolo_conf_threshold, s.yolo_iou_threshold)
    if args.model:
        yolo = replace(yolo, model_path=args.model)
    path = Path(args.page)
    if not path.is_file():
        return _fail("input_not_found", f"{args.page} does not exist")
    crops_dir = Path(args.crops) if args.crops else None
    if crops_dir:
        if crops_dir.exists() and not crops_dir.is_dir():
            return _fail("output_exists", f"--crops {crops_dir} is an existing file; give a folder")
        try:
            crops_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return _fail("output_unwritable", f"cannot create --crops folder {crops_dir}: {exc.strerror}")
    if args.overlay and not Path(args.overlay).resolve().parent.is_dir():
        return _fail("output_unwritable", f"the folder of --overlay {args.overlay} does not exist")
    questions: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    try:
        for page in load_pages(path, max_pages=s.max_pages, max_pixels=s.max_pixels):
            seg = segment_page(page.image, engine=engine, yolo=yolo)
            pages.append({"index": page.index, "width": seg.size_wh[0], "height": seg.size_wh[1], "engine": seg.engine, "count": len(seg.questions)})
            blocks += [{**b.to_dict(), "page": page.index} for b in seg.blocks]
            for k, q in enumerate(seg.questions):
                item = {**q.to_dict(), "page": page.index}
                if crops_dir:
                    x, y, w, h = q.box_xywh
                    name = crops_dir / f"p{page.index + 1}_q{q.number if q.number is not None else f'x{k + 1}'}.png"
                    if not cv2.imwrite(str(name), page.image[y : y + h, x : x + w]):
                        return _fail("output_unwritable", f"cannot write crop {name}")
                    item["crop"] = str(name)
                questions.append(item)
            if args.overlay:
                drawn = _overlay_path(Path(args.overlay), page.index)
                if not cv2.imwrite(str(drawn), draw_questions(page.image, seg.questions)):
                    return _fail("output_unwritable", f"cannot write overlay {drawn} (is it a .png path?)")
    except VisionError as exc:
        return _fail(exc.reason_code, exc.message)
    result = {
        "boxes": [q["box"] for q in questions],
        "questions": questions,
        "blocks": blocks,
        "engine": pages[0]["engine"] if pages else engine,
        "pages": pages,
    }
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``segment`` command to a CLI's sub-parsers."""
    p = subparsers.add_parser("segment", help="find the questions of an exam page (image or PDF); JSON on stdout")
    p.add_argument("page", help="a photo, scan or PDF")
    p.add_argument("--engine", choices=("opencv", "yolo", "auto"), default=None, help="override QUESTION_SEGMENTATION_ENGINE")
    p.add_argument("--model", default=None, help="override YOLO_QUESTION_MODEL_PATH (an ONNX file)")
    p.add_argument("--crops", default=None, metavar="DIR", help="write a PNG crop of each question into DIR")
    p.add_argument("--overlay", default=None, metavar="OUT.png", help="write the page with the boxes drawn")
    p.set_defaults(func=run)
