"""Seeded generation of synthetic sheets: one JPEG plus one truth JSON each.

Sheet ``i`` of kind ``k`` under seed ``s`` draws everything from
``numpy.random.default_rng([s, KIND_CODES[k], i])``, so any sheet can be
regenerated alone, in any order, in any process, byte for byte.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from omr.synth.fills import fill_sheet
from omr.synth.photo import simulate_photo
from omr.synth.raster import ColorImage, GrayImage
from omr.synth.scan import simulate_scan
from omr.synth.truth import SheetTruth

KINDS = ("photo", "scan")
KIND_CODES = {"photo": 1, "scan": 2}
PAGE_DPI = 300
THUMB_RATE = 0.05
BLANK_ID_DIGIT_RATE = 0.02

Renderer = Callable[[dict[str, Any], int], GrayImage]
"""``render_sheet(meta, dpi) -> GrayImage``, as in ``omr.template``."""


def render_page(
    meta: dict[str, Any], dpi: int = PAGE_DPI, render: Renderer | None = None
) -> GrayImage:
    """Render the blank printed page once, to be copied for every sheet.

    Args:
        meta: Template meta (mm).
        dpi: Render resolution (300 keeps pencil texture sharp).
        render: The renderer; ``omr.template.render_sheet`` when None.

    Returns:
        Gray page (H, W) uint8.
    """
    if render is None:
        from omr.template import render_sheet

        render = render_sheet
    return render(meta, dpi)


def sheet_rng(seed: int, kind: str, index: int) -> np.random.Generator:
    """The random source of one sheet.

    Examples:
        >>> a = sheet_rng(1, "photo", 7).integers(1 << 30)
        >>> b = sheet_rng(1, "photo", 7).integers(1 << 30)
        >>> bool(a == b)
        True
    """
    if kind not in KIND_CODES:
        raise ValueError(f"expected kind in {KINDS}, got {kind!r}")
    return np.random.default_rng([seed, KIND_CODES[kind], index])


def make_sheet(
    meta: dict[str, Any],
    page: GrayImage,
    kind: str,
    seed: int,
    index: int,
    *,
    page_dpi: int = PAGE_DPI,
    blank: bool = False,
    thumb: bool | None = None,
    blank_id_digit: bool | None = None,
    frame_wh: tuple[int, int] | None = None,
    erasures: bool = False,
) -> tuple[bytes, SheetTruth]:
    """Fill, capture and encode one synthetic sheet.

    Args:
        meta: Template meta (mm).
        page: The blank page rendered from ``meta`` at ``page_dpi`` (not modified).
        kind: ``"photo"`` or ``"scan"``.
        seed: Dataset seed.
        index: Sheet number within the dataset.
        page_dpi: Resolution of ``page``.
        blank: Leave the sheet unmarked (the degenerate case).
        thumb: Photos only: a thumb over a corner marker; 5% of photos when None.
        blank_id_digit: Leave one ID column blank; 2% of sheets when None.
        frame_wh: Photos only: force the frame size.
        erasures: Fill from the erasure table (``omr.synth.fills.ERASURE_EVENTS``);
            off by default so existing seeds keep their images byte for byte.

    Returns:
        JPEG bytes and the truth (``condition`` holds fill and capture parameters).
    """
    rng = sheet_rng(seed, kind, index)
    canvas: ColorImage = np.asarray(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), np.uint8)
    if blank_id_digit is None:
        blank_id_digit = bool(rng.uniform() < BLANK_ID_DIGIT_RATE)
    if thumb is None:
        thumb = kind == "photo" and bool(rng.uniform() < THUMB_RATE)
    truth = fill_sheet(canvas, meta, page_dpi, rng, blank=blank, blank_id_digit=blank_id_digit,
                        erasures=erasures)
    if kind == "photo":
        data, cond = simulate_photo(canvas, page_dpi, meta, rng, thumb=thumb, frame_wh=frame_wh)
    else:
        data, cond = simulate_scan(canvas, page_dpi, meta, rng)
    return data, truth.with_condition(**cond, seed=seed, index=index)


_WORKER: dict[str, Any] = {}


def _init_worker(meta: dict[str, Any], page: GrayImage) -> None:
    cv2.setNumThreads(1)
    _WORKER.update(meta=meta, page=page)


def _write_one(job: tuple[Path, str, int, int, bool]) -> Path:
    out_dir, kind, seed, index, erasures = job
    image = out_dir / f"{kind}_{index:05d}.jpg"
    truth_path = image.with_suffix(".json")
    if not (image.exists() and truth_path.exists()):
        data, truth = make_sheet(_WORKER["meta"], _WORKER["page"], kind, seed, index, erasures=erasures)
        image.write_bytes(data)
        truth.save(truth_path)
    return image


def generate_dataset(
    out_dir: Path,
    kind: str,
    count: int,
    meta: dict[str, Any],
    *,
    seed: int = 1,
    page: GrayImage | None = None,
    workers: int = 1,
    erasures: bool = False,
) -> list[Path]:
    """Write ``count`` sheets (``<kind>_NNNNN.jpg`` + ``.json``) and ``meta.json``.

    Sheets already present are kept (the folder is a cache keyed by its
    caller), so an interrupted run resumes.

    Args:
        out_dir: Destination folder (created).
        kind: ``"photo"`` or ``"scan"``.
        count: Number of sheets.
        meta: Template meta (mm).
        seed: Dataset seed.
        page: Blank page rendered at 300 dpi; rendered with ``omr.template`` when None.
        workers: Processes to use.
        erasures: Fill from the erasure table (see :func:`make_sheet`).

    Returns:
        Image paths in index order.
    """
    if kind not in KINDS:
        raise ValueError(f"expected kind in {KINDS}, got {kind!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))
    page = render_page(meta) if page is None else page
    jobs = [(out_dir, kind, seed, i, erasures) for i in range(count)]
    if workers <= 1:
        _init_worker(meta, page)
        return [_write_one(j) for j in jobs]
    # spawn, not fork: a forked child of a process that already ran OpenCV's
    # thread pool can deadlock inside cv2.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, ctx, initializer=_init_worker, initargs=(meta, page)) as pool:
        return list(pool.map(_write_one, jobs, chunksize=4))
