"""Optical mark recognition of objective answer sheets (pure library).

No Celery and no ``ai_tasks`` imports here: the library works on bytes, paths,
numpy arrays and plain dicts. See ``docs/omr.md``.
"""

from omr.errors import (
    AlignmentError,
    ImageError,
    KeyFormatError,
    MetaError,
    OMRError,
    OptionError,
    PageFactsError,
)
from omr.grade import grade_image, grade_image_with_page
from omr.meta import as_sheet_meta, load_meta, meta_from_legacy_questions
from omr.template import build_template, render_sheet, write_sheet
from omr.types import BGRImage, GrayImage, SheetMeta

__all__ = [
    "AlignmentError",
    "BGRImage",
    "GrayImage",
    "ImageError",
    "KeyFormatError",
    "MetaError",
    "OMRError",
    "OptionError",
    "PageFactsError",
    "SheetMeta",
    "as_sheet_meta",
    "build_template",
    "grade_image",
    "grade_image_with_page",
    "load_meta",
    "meta_from_legacy_questions",
    "render_sheet",
    "write_sheet",
]
