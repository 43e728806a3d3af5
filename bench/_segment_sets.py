"""Sets (b) and (c) of the segmentation bench: pages we did not make (see ``bench/segment.py --sets``).

* **(b) independent**: :mod:`bench.segment_independent` pages (one, two,
  uneven two and three columns; headings, group instructions, tables,
  formulas, points, margin pen writing) as clean renders, phone photos with
  grain sigma 4-20 (every third at 20), photos cropped so the page fills the
  frame, and photos cut at an edge.
* **(c) real**: the usable pages of the PDFs under ``bench/real_documents/``
  (:mod:`bench._real_documents`) rendered at 200 dpi, clean and as photos
  (the independent camera). Their text layer names the headings (lines such
  as ``1.2 그림``, ``제 1 절``, ``제3조``, ``1) ...``, ``Chapter 2``); a
  question box whose top line is a heading is a heading returned as a
  question. None of these documents is an exam, so every question box
  returned on them is reported too (``questions``).
  Split in two (``--sets abc`` prints both): **c-dev**, the OpenChain
  specifications (:data:`DEV_SOURCE`), the part the heading rules were
  developed against; **c-held**, the thesis and the Typst rule documents,
  held out: their figures are the result.

What counts besides ``bench/segment.py``'s F1 and numbers: **hq**, heading or
instruction truth boxes returned as questions (a question box matching one
at IoU >= 0.5, or whose top line is one); **instr**, instructions returned
with kind ``instruction`` and the right ``governs``, over the instructions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]
#: capture kinds of set (b).
B_KINDS = ("scan", "photo", "fill", "cut")
#: the source of set (c) the segmentation rules were developed on (``c-dev``); the others are held out (``c-held``).
DEV_SOURCE = "openchain-kwg-spec-ko"


@dataclass
class Page:
    """One bench page: image and truth (questions; headings and instructions with what they govern)."""

    image: np.ndarray
    questions: list[tuple[Box, int]]
    headings: list[Box]
    instructions: list[tuple[Box, tuple[int, ...]]]
    name: str
    #: what else is on the page (set (b): ``pen right margin beside q5`` when a student wrote in a margin).
    notes: tuple[str, ...] = ()
    #: set (c): ``dev`` (:data:`DEV_SOURCE`) or ``held`` (held out).
    part: str = ""


def independent_pages(n: int, seed: int = 16000) -> Iterator[tuple[str, Page]]:
    """Set (b): ``n`` pages per capture kind."""
    from segment_independent import SegPage, photograph_page, render_seg_page

    def pack(p: SegPage, kind: str) -> Page:
        return Page(
            p.image,
            [(r.box_xywh, int(r.number or 0)) for r in p.regions if r.kind == "question"],
            [r.box_xywh for r in p.regions if r.kind == "heading"],
            [(r.box_xywh, r.governs) for r in p.regions if r.kind == "instruction"],
            f"{kind} {p.layout} seed {p.seed}",
            tuple(p.notes),
        )

    for k in range(n):
        page = render_seg_page(seed + k)
        yield "scan", pack(page, "scan")
        grain = 20.0 if k % 3 == 0 else None
        yield "photo", pack(photograph_page(page, grain=grain), "photo")
        yield "fill", pack(photograph_page(page, grain=grain, crop="fill"), "fill")
        yield "cut", pack(photograph_page(page, grain=grain, crop="cut"), "cut")


def real_pages(per_document: int | None = None) -> Iterator[tuple[str, Page]]:
    """Set (c): usable pages of each PDF (:mod:`bench._real_documents`) at 200 dpi, clean and photographed."""
    from _real_documents import real_pages as manifest_pages
    from ocr_independent import camera
    from segment_independent import map_box

    for real in manifest_pages(per_document):
        image = real.image()
        heads = list(real.headings)
        part = "dev" if real.document.source == DEV_SOURCE else "held"
        yield "clean", Page(image, [], heads, [], real.name + " clean", part=part)
        photo, matrix = camera(image, 16000 + real.index, grain=None)
        yield "photo", Page(photo, [], [map_box(b, matrix) for b in heads], [], real.name + " photo", part=part)


@dataclass
class Extra:
    """Counts beyond F1: headings returned as questions, instructions found, question boxes on real pages."""

    headings: int = 0
    heading_as_question: int = 0
    instructions: int = 0
    instructions_right: int = 0
    questions_returned: int = 0

    def row(self) -> str:
        instr = f"{self.instructions_right}/{self.instructions}" if self.instructions else "-"
        return f"hq {self.heading_as_question}/{self.headings}  instr {instr}  questions {self.questions_returned}"


def _iou(a: Box, b: Box) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _starts_with(q: Box, head: Box) -> bool:
    """The question box's top line is ``head``: tops within half a heading height, overlapping across."""
    overlap_x = min(q[0] + q[2], head[0] + head[2]) - max(q[0], head[0])
    return abs(q[1] - head[1]) <= max(8, head[3] // 2) and overlap_x > 0.5 * min(q[2], head[2])


def count_extra(extra: Extra, page: Page, questions: Sequence[Box], others: Sequence[tuple[str, Box, tuple[int, ...]]]) -> None:
    """Add one page's heading/instruction counts to ``extra``."""
    furniture = page.headings + [b for b, _ in page.instructions]
    extra.headings += len(furniture)
    extra.questions_returned += len(questions)
    for head in furniture:
        if any(_iou(q, head) >= 0.5 or _starts_with(q, head) for q in questions):
            extra.heading_as_question += 1
    for box, governs in page.instructions:
        extra.instructions += 1
        extra.instructions_right += any(
            kind == "instruction" and _iou(b, box) >= 0.5 and tuple(g) == tuple(governs) for kind, b, g in others
        )


Method = Callable[[np.ndarray], tuple[list[tuple[Box, int | None]], list[tuple[str, Box, tuple[int, ...]]]]]


def timed(fn: Method, image: np.ndarray, cpu_s: Callable[[], float]) -> tuple[
    list[tuple[Box, int | None]], list[tuple[str, Box, tuple[int, ...]]], float, float
]:
    """Run ``fn`` on ``image``: its questions, other regions, wall and CPU seconds."""
    c0, t0 = cpu_s(), time.perf_counter()
    questions, others = fn(image)
    return questions, others, time.perf_counter() - t0, cpu_s() - c0
