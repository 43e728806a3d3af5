"""The wrong-note layout, read from ``template.json``: page, fonts, styles, spacing, wording.

The drawing code in :mod:`nlp.wrong_note.render` knows no size, colour,
margin or heading; it takes them all from a :class:`Layout`. Another look
(a school's colours, English headings, Letter paper) is another template
file, not a code change.

Examples:
    >>> layout = load_layout()
    >>> layout.page_size_pt[0] > 500, layout.styles["title"].bold, layout.text["title"]
    (True, True, '오답 노트')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.errors import ModelError

__all__ = ["DEFAULT_TEMPLATE", "STYLE_NAMES", "TEXT_KEYS", "Layout", "Style", "load_layout"]

#: the template shipped with the package.
DEFAULT_TEMPLATE = Path(__file__).with_name("template.json")
#: points per millimetre (72 pt per inch, 25.4 mm per inch).
PT_PER_MM = 72.0 / 25.4

STYLE_NAMES = ("title", "meta", "exam_heading", "question_label", "answer", "question_text", "footer")
TEXT_KEYS = (
    "title", "student", "created", "exam_heading", "exam_heading_titled",
    "question_label", "submitted", "correct", "no_answer", "footer",
)
SPACING_KEYS = (
    "title_rule_gap", "after_title", "before_exam", "after_exam_heading", "before_item",
    "question_indent", "question_text_indent", "footer_from_bottom",
)


@dataclass(frozen=True)
class Style:
    """One text style.

    Args:
        size_pt: font size in points.
        leading: line height as a multiple of ``size_pt``.
        bold: use the bold font chain.
        color_rgb: fill colour, each channel 0..1.
    """

    size_pt: float
    leading: float
    bold: bool
    color_rgb: tuple[float, float, float]

    @property
    def line_height_pt(self) -> float:
        return self.size_pt * self.leading


@dataclass(frozen=True)
class Layout:
    """Everything the renderer draws with; lengths in points, origin bottom-left (PDF frame).

    Args:
        page_size_pt: ``(width, height)``.
        margins_pt: ``(top, right, bottom, left)``.
        regular_fonts: TTF paths, first choice first; later ones are used per
            character for glyphs the earlier ones lack.
        bold_fonts: the same for bold styles.
        styles: by name (:data:`STYLE_NAMES`).
        spacing_pt: vertical gaps and indents by name (:data:`SPACING_KEYS`).
        rule_width_pt: width of the rule under the title.
        rule_color_rgb: its colour.
        text: the wording, ``str.format`` patterns by name (:data:`TEXT_KEYS`).
    """

    page_size_pt: tuple[float, float]
    margins_pt: tuple[float, float, float, float]
    regular_fonts: tuple[str, ...]
    bold_fonts: tuple[str, ...]
    styles: Mapping[str, Style]
    spacing_pt: Mapping[str, float]
    rule_width_pt: float
    rule_color_rgb: tuple[float, float, float]
    text: Mapping[str, str]

    @property
    def content_width_pt(self) -> float:
        return self.page_size_pt[0] - self.margins_pt[1] - self.margins_pt[3]


def _color(raw: Any, where: str) -> tuple[float, float, float]:
    if not (isinstance(raw, str) and len(raw) == 7 and raw.startswith("#")):
        raise ModelError("wrong_note_template_invalid", f"{where} must be a colour like #c0392b, got {raw!r}")
    try:
        r, g, b = (int(raw[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
    except ValueError:
        raise ModelError("wrong_note_template_invalid", f"{where} must be a colour like #c0392b, got {raw!r}") from None
    return (r, g, b)


def _number(raw: Any, where: str, lo: float, hi: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not lo <= raw <= hi:
        raise ModelError("wrong_note_template_invalid", f"{where} must be a number in {lo}..{hi}, got {raw!r}")
    return float(raw)


def parse_layout(doc: Mapping[str, Any]) -> Layout:
    """Build a :class:`Layout` from a template document; ``wrong_note_template_invalid`` if malformed."""
    try:
        page, fonts, styles, spacing = doc["page"], doc["fonts"], doc["styles"], doc["spacing_mm"]
        width_mm, height_mm = (_number(v, "page.size_mm", 50, 2000) for v in page["size_mm"])
        m = page["margin_mm"]
        margins = tuple(_number(m[k], f"page.margin_mm.{k}", 0, 200) * PT_PER_MM for k in ("top", "right", "bottom", "left"))
        parsed_styles = {
            name: Style(
                size_pt=_number(styles[name]["size_pt"], f"styles.{name}.size_pt", 4, 72),
                leading=_number(styles[name]["leading"], f"styles.{name}.leading", 1, 4),
                bold=bool(styles[name]["bold"]),
                color_rgb=_color(styles[name]["color"], f"styles.{name}.color"),
            )
            for name in STYLE_NAMES
        }
        text = {k: str(doc["text"][k]) for k in TEXT_KEYS}
        layout = Layout(
            page_size_pt=(width_mm * PT_PER_MM, height_mm * PT_PER_MM),
            margins_pt=margins,  # type: ignore[arg-type]
            regular_fonts=tuple(str(p) for p in fonts["regular"]),
            bold_fonts=tuple(str(p) for p in fonts["bold"]),
            styles=parsed_styles,
            spacing_pt={k: _number(spacing[k], f"spacing_mm.{k}", 0, 200) * PT_PER_MM for k in SPACING_KEYS},
            rule_width_pt=_number(doc["rule"]["width_pt"], "rule.width_pt", 0, 20),
            rule_color_rgb=_color(doc["rule"]["color"], "rule.color"),
            text=text,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError("wrong_note_template_invalid", f"template is missing or mistyped: {exc!r}") from None
    if not layout.regular_fonts or not layout.bold_fonts:
        raise ModelError("wrong_note_template_invalid", "fonts.regular and fonts.bold each need at least one TTF path")
    if layout.content_width_pt < 72:
        raise ModelError("wrong_note_template_invalid", "margins leave less than 1 inch of line width")
    return layout


def load_layout(path: str | Path | None = None) -> Layout:
    """Read a template file (default: the packaged ``template.json``)."""
    source = Path(path) if path is not None else DEFAULT_TEMPLATE
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError("wrong_note_template_invalid", f"cannot read template {source}: {exc}") from None
    if not isinstance(doc, dict):
        raise ModelError("wrong_note_template_invalid", f"template {source} must be a JSON object")
    return parse_layout(doc)
