"""Handwriting analysis of worksheet photos: how much was written, where, and how much is calculation.

Entry point :func:`analyze_handwriting` (see :mod:`vision.handwriting.engine`).
"""

from vision.handwriting.engine import analyze_handwriting
from vision.handwriting.overlay import render_overlay
from vision.handwriting.types import METHODS, HandwritingResult, WrittenRegion

__all__ = ["METHODS", "HandwritingResult", "WrittenRegion", "analyze_handwriting", "render_overlay"]
