"""Everything derived from a sheet template, computed once and shared by every image of it.

Grading an image compares it with its template several times: the warp
correlates thumbnails (:mod:`omr.thumbnail`), the refinement correlates ring
blocks (:mod:`omr.refine`), the measures sample bubble masks
(:mod:`omr.bubble_masks`). Each of those is derived from the meta and the page
resolution only, so it is built lazily on first use and kept in one
:class:`CompiledSheet`; :func:`compile_sheet` keeps the most recently used
``COMPILED_CACHE_SIZE`` of them (one least-recently-used cache for the whole
library, keyed by ``(meta_hash, px_per_mm)``).

Examples:
    >>> from omr.meta import as_sheet_meta
    >>> from omr.template import build_template
    >>> sheet = as_sheet_meta(build_template(10))
    >>> cs = compile_sheet(sheet)
    >>> cs is compile_sheet(sheet), cs.px_per_mm, cs.masks("answers").flat_inner.shape[0]
    (True, 6.0, 50)
    >>> cs.thumbnail.shape, len(cs.anchors) > 0
    ((315, 445), True)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from omr.bubble_masks import BubbleMasks, Which, bubble_masks
from omr.refine import Anchor, anchors, ring_template
from omr.template import render_sheet
from omr.thumbnail import template_thumbnail
from omr.types import GrayImage, SheetMeta

__all__ = ["COMPILED_CACHE_SIZE", "PX_PER_MM", "CompiledSheet", "clear_compiled", "compile_sheet"]

PX_PER_MM = 6.0
"""Resolution of the warped page: a 2.4 mm bubble is ~29 px across, a 0.3 mm stroke ~2 px."""
COMPILED_CACHE_SIZE = 32
"""Templates kept compiled (~10 MB each at 6 px/mm); a worker grades a few templates at a time."""

_CACHE: OrderedDict[tuple[str, float], CompiledSheet] = OrderedDict()


@dataclass(frozen=True, eq=False)
class CompiledSheet:
    """The per-template data of one sheet at one page resolution, each built on first use.

    Attributes:
        sheet: The validated meta.
        px_per_mm: Resolution of the warped pages this serves.
    """

    sheet: SheetMeta
    px_per_mm: float = PX_PER_MM

    @cached_property
    def thumbnail(self) -> npt.NDArray[np.float64]:
        """High-passed template raster at ``omr.thumbnail.THUMB_PX_PER_MM`` (page search)."""
        return template_thumbnail(self.sheet)

    @cached_property
    def printed(self) -> GrayImage:
        """The template raster at ``px_per_mm`` (where the labels are printed)."""
        return render_sheet(self.sheet.raw, dpi=self.px_per_mm * 25.4)

    @cached_property
    def answer_masks(self) -> BubbleMasks:
        """Sampling masks of the answer bubbles (question order, choice order)."""
        return bubble_masks(self.sheet, self.printed, self.px_per_mm, "answers")

    @cached_property
    def identifier_masks(self) -> BubbleMasks:
        """Sampling masks of the ID bubbles (meta order)."""
        return bubble_masks(self.sheet, self.printed, self.px_per_mm, "identifier")

    def masks(self, which: Which) -> BubbleMasks:
        """:attr:`answer_masks` or :attr:`identifier_masks`."""
        return self.answer_masks if which == "answers" else self.identifier_masks

    @cached_property
    def anchors(self) -> list[Anchor]:
        """Bubble blocks the refinement locates (:func:`omr.refine.anchors`)."""
        return anchors(self.sheet)

    @cached_property
    def ring_template(self) -> npt.NDArray[np.float32]:
        """Band-passed ring raster the anchors are correlated with (:func:`omr.refine.ring_template`)."""
        return ring_template(self.sheet, self.px_per_mm)


def compile_sheet(sheet: SheetMeta, px_per_mm: float = PX_PER_MM) -> CompiledSheet:
    """The :class:`CompiledSheet` of ``sheet`` at ``px_per_mm``, from the cache when there.

    A sheet without ``meta_hash`` (built by hand, not by ``omr.meta``) is
    compiled afresh every time.
    """
    if not sheet.meta_hash:
        return CompiledSheet(sheet, px_per_mm)
    key = (sheet.meta_hash, px_per_mm)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    compiled = _CACHE[key] = CompiledSheet(sheet, px_per_mm)
    while len(_CACHE) > COMPILED_CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def clear_compiled() -> None:
    """Forget every compiled sheet (tests; a worker never needs it)."""
    _CACHE.clear()
