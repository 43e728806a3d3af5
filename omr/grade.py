"""One-call grading: decode -> warp -> identifier -> answers -> review (-> score).

``grade_image`` is literally the composition of the public step functions a
Celery chain calls one by one (:func:`omr.image.decode_image`,
:func:`omr.warp.warp_page`, :func:`omr.identifier.read_identifier`,
:func:`omr.answers.read_answers`, :func:`omr.review.review`,
:func:`omr.scoring.score`); :func:`assemble_result` builds the output contract.

Examples:
    >>> import cv2
    >>> from omr.template import build_template, render_sheet
    >>> meta = build_template(10)
    >>> png = cv2.imencode(".png", render_sheet(meta, dpi=150))[1].tobytes()
    >>> r = grade_image(png, meta, mode="scan")
    >>> r["aligned"], r["alignment"]["method"], [a["status"] for a in r["answers"]][:2]
    (True, 'fiducials', ['blank', 'blank'])
    >>> r["review"]["needed"], r["review"]["reasons"]
    (True, ['identifier_blank'])
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from omr.answers import read_answers
from omr.dropout import DropoutImage
from omr.extra_ovals import read_extra_ovals
from omr.identifier import read_identifier
from omr.image import decode_image
from omr.meta import as_sheet_meta
from omr.review import review
from omr.scoring import check_key, score
from omr.types import GrayImage, SheetMeta
from omr.warp import WarpedPage, warp_page

__all__ = ["RESULT_VERSION", "assemble_result", "grade_image", "grade_image_with_page"]

RESULT_VERSION = "v1"


def assemble_result(page: WarpedPage, identifier: dict[str, Any], answers: list[dict[str, Any]], *,
                    mode: str, key: Mapping[str, Any] | None = None,
                    timings_ms: Mapping[str, float] | None = None,
                    meta_source: str = "payload", extra_ovals: list[dict[str, Any]] | None = None
                    ) -> dict[str, Any]:
    """Build the output contract from the step outputs (see ``docs/omr.md``).

    ``extra_ovals`` (:func:`omr.extra_ovals.read_extra_ovals`) is added to the
    result only when the meta has ovals to read (``use: "field"``).

    ``meta_source`` says where the meta came from: ``payload`` (given by the
    caller: a job's ``template_meta``, the CLI's ``--meta``), ``api`` (the
    template endpoint) or ``legacy_questions``; ``meta_used`` keeps its
    legacy meaning, "the meta came from the API".
    """
    alignment = {k: v for k, v in page.alignment.items() if not k.startswith("_")}
    result: dict[str, Any] = {
        "version": RESULT_VERSION,
        "mode": mode,
        "aligned": True,
        "alignment": alignment,
        "identifier": identifier,
        "answers": answers,
        "meta_used": meta_source == "api",
        "meta_source": meta_source,
        "review": review(alignment, identifier, answers),
    }
    if extra_ovals:
        result["extra_ovals"] = extra_ovals
    if key is not None:
        result["score"] = score(answers, key)
    if timings_ms is not None:
        result["timings_ms"] = {k: round(float(v), 2) for k, v in timings_ms.items()}
    return result


def grade_image(image: bytes | Path | str | GrayImage, meta: SheetMeta | Mapping[str, Any], *,
                mode: str = "auto", key: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Grade one sheet image end to end.

    Args:
        image: Encoded bytes, a path, or an already decoded ``(H, W)`` uint8 image.
        meta: Sheet meta (dict or :class:`SheetMeta`).
        mode: ``"auto"``, ``"photo"`` or ``"scan"``.
        key: Optional answer key (see :mod:`omr.scoring`).

    Returns:
        The result contract: ``version, mode, aligned, alignment, identifier,
        answers, meta_used, meta_source, review, timings_ms`` and ``score`` when
        ``key`` is set (``meta_source`` is ``payload``: the caller gave the meta).

    Raises:
        ImageError, AlignmentError, MetaError, KeyFormatError, OptionError: with reason codes.
    """
    return grade_image_with_page(image, meta, mode=mode, key=key)[0]


def grade_image_with_page(image: bytes | Path | str | GrayImage, meta: SheetMeta | Mapping[str, Any], *,
                          mode: str = "auto", key: Mapping[str, Any] | None = None
                          ) -> tuple[dict[str, Any], WarpedPage]:
    """:func:`grade_image`, and the warped page it read (for an overlay).

    Returns:
        ``(result, page)``: the result contract and the :class:`WarpedPage`.

    Examples:
        >>> import cv2
        >>> from omr.template import build_template, render_sheet
        >>> meta = build_template(10)
        >>> png = cv2.imencode(".png", render_sheet(meta, dpi=150))[1].tobytes()
        >>> result, page = grade_image_with_page(png, meta, mode="scan")
        >>> page.page.shape, "_page" in result
        ((1260, 1782), False)
    """
    t = {}
    t0 = time.perf_counter()
    sheet = as_sheet_meta(meta)
    if key is not None:
        check_key(key, sheet)  # a key for another sheet fails before any pixel is read
    t1 = time.perf_counter()
    t["meta"] = (t1 - t0) * 1e3
    if isinstance(image, np.ndarray):
        gray: GrayImage | DropoutImage = image
    else:
        gray = decode_image(image, print_colour=sheet.print_colour)
    t2 = time.perf_counter()
    t["decode"] = (t2 - t1) * 1e3
    page = warp_page(gray, sheet, mode)
    t3 = time.perf_counter()
    t["warp"] = (t3 - t2) * 1e3
    ident = read_identifier(page, sheet)
    t4 = time.perf_counter()
    t["identifier"] = (t4 - t3) * 1e3
    answers = read_answers(page, sheet)
    extra = read_extra_ovals(page, sheet)
    t5 = time.perf_counter()
    t["answers"] = (t5 - t4) * 1e3
    t["total"] = (t5 - t0) * 1e3
    return assemble_result(page, ident, answers, mode=mode, key=key, timings_ms=t, extra_ovals=extra), page
