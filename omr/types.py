"""Plain data types shared by the OMR modules.

Coordinates in the meta are millimetres in the *template frame*: origin at the
top-left corner of the A4 landscape page, x to the right, y down.

Examples:
    >>> b = Bubble(label="3", x_mm=10.0, y_mm=20.0, r_mm=2.4)
    >>> b.label, b.r_mm
    ('3', 2.4)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BGRImage",
    "Bubble",
    "BubbleShape",
    "ExtraOval",
    "GrayImage",
    "IdBubble",
    "Marker",
    "Question",
    "SheetMeta",
    "TimingBar",
    "WriteIn",
]

GrayImage = npt.NDArray[np.uint8]
"""A single-channel image, shape ``(H, W)``, dtype ``uint8``, 0 = black."""

BGRImage = npt.NDArray[np.uint8]
"""A colour image, shape ``(H, W, 3)``, dtype ``uint8``, OpenCV BGR order."""


@dataclass(frozen=True)
class Marker:
    """A printed square fiducial.

    Attributes:
        id: Stable name (``"tl"``, ``"tr"``, ``"br"``, ``"bl"``, ``"tc"``, ``"bc"``).
        kind: ``"solid"`` (filled square), ``"hollow"`` (square with a white
            centre; the orientation marker) or ``"edge"`` (small mid-edge square).
        x_mm: Centre x in mm.
        y_mm: Centre y in mm.
        size_mm: Side of the square in mm.
    """

    id: str
    kind: str
    x_mm: float
    y_mm: float
    size_mm: float


@dataclass(frozen=True)
class Bubble:
    """An answer bubble: a printed ring with ``label`` inside."""

    label: str
    x_mm: float
    y_mm: float
    r_mm: float


@dataclass(frozen=True)
class IdBubble:
    """A student-ID bubble: digit position ``digit_index`` (1-based), value ``number``."""

    digit_index: int
    number: int
    x_mm: float
    y_mm: float
    r_mm: float


@dataclass(frozen=True)
class Question:
    """A numbered question and its choice bubbles (in label order)."""

    number: int
    choices: tuple[Bubble, ...]


@dataclass(frozen=True)
class TimingBar:
    """A black timing mark printed along one edge of a card (meta ``timing.bars``), mm on the page."""

    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float


@dataclass(frozen=True)
class BubbleShape:
    """The printed outline of every bubble (meta ``bubble``): an oval ``w_mm`` x ``h_mm`` turned by
    ``rotation_deg`` (counter-clockwise on the page, y down: clockwise as seen), or a circle."""

    shape: str
    w_mm: float
    h_mm: float
    rotation_deg: float = 0.0


@dataclass(frozen=True)
class ExtraOval:
    """An oval that is not a question (meta ``extra_ovals``, e.g. 결시자 확인), mm on the page.
    ``use`` is ``ignore`` (printed furniture) or ``field`` (read and reported under its ``id``)."""

    id: str
    x_mm: float
    y_mm: float
    use: str = "ignore"


@dataclass(frozen=True)
class WriteIn:
    """A box for handwriting (meta ``write_in``: 서답형, the ID's write-in digits): top-left corner and size, mm.
    Its ink is never a bubble's: rings found inside it are left out of the registration's evidence."""

    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float


@dataclass(frozen=True)
class SheetMeta:
    """Validated sheet meta (see ``docs/omr-meta.md``).

    Attributes:
        page_w_mm: Page width in mm (297 for A4 landscape).
        page_h_mm: Page height in mm (210).
        markers: Fiducials; may be empty for legacy metas (outline fallback).
        id_digits: Number of student-ID digits (0 if the sheet has no ID grid).
        id_bubbles: Student-ID bubbles.
        questions: Questions ordered by number.
        title: Optional header title.
        print_colour: The meta's ``print.colour``: ``"#rrggbb"``, ``"auto"``
            (estimated on each image) or ``None`` (not said: grayscale, as printed by us).
        timing_side: The meta's ``timing.side`` (``left``/``right``/``top``/``bottom``) or ``None``.
        timing_bars: The timing marks (centres and sizes), empty when the meta has none; they tell
            a card's orientation when its bubble grid looks the same turned half way (:mod:`omr.orient`).
        bubble: The bubbles' printed shape (meta ``bubble``) or ``None`` (circles of each ``r``).
        extra_ovals: Ovals that are not questions (meta ``extra_ovals``).
        write_in: Handwriting boxes (meta ``write_in``).
        raw: The JSON-able meta dict this was built from.
        meta_hash: Stable hash of ``raw`` (the key of :func:`omr.compiled.compile_sheet`'s cache).
    """

    page_w_mm: float
    page_h_mm: float
    markers: tuple[Marker, ...]
    id_digits: int
    id_bubbles: tuple[IdBubble, ...]
    questions: tuple[Question, ...]
    title: str | None = None
    print_colour: str | None = None
    timing_side: str | None = None
    timing_bars: tuple[TimingBar, ...] = ()
    bubble: BubbleShape | None = None
    extra_ovals: tuple[ExtraOval, ...] = ()
    write_in: tuple[WriteIn, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    meta_hash: str = ""
