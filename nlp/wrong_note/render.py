"""Typeset a :class:`~nlp.wrong_note.model.WrongNote` into a PDF, grouped by exam.

The look comes from a :class:`~nlp.wrong_note.layout.Layout` (``template.json``);
this module only places text. Frames: PDF points, origin at the page's
bottom-left, ``y`` up; a line is placed by its baseline.

Before anything is drawn, every character of every field is checked against
the font chain (``font_missing_glyph`` names the field and the character);
lines break between words only (:mod:`nlp.wrong_note.linebreak`).

Examples:
    >>> from nlp.wrong_note.model import parse_note
    >>> note = parse_note({"enrollment_id": 7, "created_at": "2026-03-02", "items": [
    ...     {"exam_id": 1, "question_id": 3, "answer": "②", "correct_answer": "④"}]})
    >>> out = render_note(note)
    >>> out.pdf[:5], out.pages, out.items, out.exams
    (b'%PDF-', 1, 1, 1)
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from nlp.errors import InputError
from nlp.wrong_note.fonts import FontChain
from nlp.wrong_note.layout import Layout, Style, load_layout
from nlp.wrong_note.linebreak import Piece, wrap
from nlp.wrong_note.model import NoteItem, WrongNote

__all__ = ["MAX_PAGES", "RenderedNote", "render_note"]

#: most pages one note may take: 2,000 items of short questions fit in ~200; 500 bounds the worst case.
MAX_PAGES = 500
#: the baseline sits this fraction of the font size above the bottom of its line box (room for descenders).
BASELINE_FROM_BOTTOM = 0.28


@dataclass(frozen=True)
class RenderedNote:
    """The PDF and what it holds.

    Args:
        pdf: the PDF file's bytes.
        pages: page count.
        items: questions listed.
        exams: exam groups.
    """

    pdf: bytes
    pages: int
    items: int
    exams: int


@dataclass(frozen=True)
class _Line:
    x_pt: float
    baseline_pt: float
    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class _Rule:
    x0_pt: float
    x1_pt: float
    y_pt: float


@dataclass
class _Typesetter:
    """Places lines top to bottom, page by page."""

    layout: Layout
    regular: FontChain
    bold: FontChain
    pages: list[list[_Line | _Rule]] = field(default_factory=lambda: [[]])
    y_pt: float = 0.0

    def __post_init__(self) -> None:
        self.y_pt = self.top_pt

    @property
    def top_pt(self) -> float:
        return self.layout.page_size_pt[1] - self.layout.margins_pt[0]

    @property
    def bottom_pt(self) -> float:
        return self.layout.margins_pt[2]

    @property
    def left_pt(self) -> float:
        return self.layout.margins_pt[3]

    def style(self, name: str) -> Style:
        return self.layout.styles[name]

    def chain(self, style: str) -> FontChain:
        return self.bold if self.style(style).bold else self.regular

    def width(self, text: str, style: str) -> float:
        return self.chain(style).width_pt(text, self.style(style).size_pt)

    def new_page(self) -> None:
        if len(self.pages) >= MAX_PAGES:
            raise InputError("wrong_note_too_large", f"the note would take more than {MAX_PAGES} pages")
        self.pages.append([])
        self.y_pt = self.top_pt

    def at_page_top(self) -> bool:
        return self.y_pt >= self.top_pt

    def gap(self, name: str) -> None:
        """Vertical space, dropped at the top of a page."""
        if not self.at_page_top():
            self.y_pt -= self.layout.spacing_pt[name]

    def ensure_room(self, height_pt: float) -> None:
        if self.y_pt - height_pt < self.bottom_pt and not self.at_page_top():
            self.new_page()

    def paragraph(self, pieces: list[Piece], indent_pt: float) -> None:
        """Wrap ``pieces`` to the line width and place the lines."""
        max_width = self.layout.content_width_pt - indent_pt
        for line in wrap(pieces, max_width, self.width):
            styles = [self.style(s) for _, s in line]
            height = max(s.line_height_pt for s in styles)
            size = max(s.size_pt for s in styles)
            self.ensure_room(height)
            baseline = self.y_pt - height + (height - size) / 2 + BASELINE_FROM_BOTTOM * size
            self.pages[-1].append(_Line(self.left_pt + indent_pt, baseline, tuple(line)))
            self.y_pt -= height

    def rule(self) -> None:
        self.pages[-1].append(_Rule(self.left_pt, self.left_pt + self.layout.content_width_pt, self.y_pt))


def _item_label(layout: Layout, item: NoteItem) -> list[Piece]:
    text = layout.text
    answer = item.answer if item.answer is not None else text["no_answer"]
    pieces: list[Piece] = [
        (text["question_label"].format(question_id=item.question_id), "question_label"),
        (text["submitted"].format(answer=answer), "answer"),
    ]
    if item.correct_answer is not None:
        pieces.append((text["correct"].format(correct_answer=item.correct_answer), "answer"))
    return pieces


def _exam_heading(layout: Layout, exam_id: str, items: list[NoteItem]) -> str:
    title = next((i.exam_title for i in items if i.exam_title), None)
    if title:
        return layout.text["exam_heading_titled"].format(exam_id=exam_id, exam_title=title)
    return layout.text["exam_heading"].format(exam_id=exam_id)


def _check_glyphs(note: WrongNote, layout: Layout, regular: FontChain, bold: FontChain) -> None:
    """Refuse, by field, any character the chain of its style cannot draw."""
    chains = {name: bold if style.bold else regular for name, style in layout.styles.items()}
    chains["title"].check(layout.text["title"], "template.text.title")
    chains["meta"].check(note.enrollment_id + note.created_at, "enrollment_id/created_at")
    for i, item in enumerate(note.items):
        where = f"items[{i}]"
        chains["exam_heading"].check(item.exam_id + (item.exam_title or ""), f"{where}.exam_id/exam_title")
        chains["question_label"].check(item.question_id, f"{where}.question_id")
        chains["answer"].check((item.answer or "") + (item.correct_answer or ""), f"{where}.answer/correct_answer")
        chains["question_text"].check(item.question_text or "", f"{where}.question_text")


def _typeset(note: WrongNote, layout: Layout, regular: FontChain, bold: FontChain) -> _Typesetter:
    ts = _Typesetter(layout, regular, bold)
    sp = layout.spacing_pt
    ts.paragraph([(layout.text["title"], "title")], 0.0)
    ts.y_pt -= sp["title_rule_gap"]
    ts.rule()
    ts.y_pt -= sp["after_title"]
    ts.paragraph([(layout.text["student"].format(enrollment_id=note.enrollment_id), "meta")], 0.0)
    ts.paragraph([(layout.text["created"].format(created_at=note.created_at), "meta")], 0.0)
    for exam_id, items in note.exams:
        ts.gap("before_exam")
        heading_h = ts.style("exam_heading").line_height_pt
        ts.ensure_room(heading_h + sp["after_exam_heading"] + ts.style("question_label").line_height_pt)
        ts.paragraph([(_exam_heading(layout, exam_id, items), "exam_heading")], 0.0)
        ts.y_pt -= sp["after_exam_heading"]
        for item in items:
            ts.gap("before_item")
            ts.paragraph(_item_label(layout, item), sp["question_indent"])
            for para in (item.question_text or "").split("\n"):
                if para:
                    ts.paragraph([(para, "question_text")], sp["question_text_indent"])
    return ts


def _draw(ts: _Typesetter, title: str) -> bytes:
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    layout = ts.layout
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=layout.page_size_pt, invariant=1)
    canvas.setTitle(title)
    total = len(ts.pages)
    footer = layout.styles["footer"]
    for number, elements in enumerate(ts.pages, start=1):
        for el in elements:
            if isinstance(el, _Rule):
                canvas.setStrokeColorRGB(*layout.rule_color_rgb)
                canvas.setLineWidth(layout.rule_width_pt)
                canvas.line(el.x0_pt, el.y_pt, el.x1_pt, el.y_pt)
                continue
            x = el.x_pt
            for text, style_name in el.pieces:
                style = layout.styles[style_name]
                canvas.setFillColorRGB(*style.color_rgb)
                for font, run in ts.chain(style_name).runs(text):
                    canvas.setFont(font, style.size_pt)
                    canvas.drawString(x, el.baseline_pt, run)
                    x += stringWidth(run, font, style.size_pt)
        label = layout.text["footer"].format(page=number, pages=total)
        canvas.setFillColorRGB(*footer.color_rgb)
        x = (layout.page_size_pt[0] - ts.regular.width_pt(label, footer.size_pt)) / 2
        for font, run in ts.regular.runs(label):
            canvas.setFont(font, footer.size_pt)
            canvas.drawString(x, layout.spacing_pt["footer_from_bottom"], run)
            x += stringWidth(run, font, footer.size_pt)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def render_note(note: WrongNote, layout: Layout | None = None) -> RenderedNote:
    """Render ``note`` as a PDF.

    Args:
        note: a validated note (:func:`nlp.wrong_note.model.parse_note`).
        layout: the look; the packaged ``template.json`` when ``None``.

    Raises:
        InputError: ``font_missing_glyph`` (a character no font draws),
            ``wrong_note_too_large`` (over :data:`MAX_PAGES`).
        ModelError: ``font_missing`` (no font of the chain installed),
            ``wrong_note_template_invalid``.
    """
    layout = layout or load_layout()
    regular, bold = FontChain(layout.regular_fonts), FontChain(layout.bold_fonts)
    _check_glyphs(note, layout, regular, bold)
    ts = _typeset(note, layout, regular, bold)
    pdf = _draw(ts, layout.text["title"])
    return RenderedNote(pdf=pdf, pages=len(ts.pages), items=len(note.items), exams=len(note.exams))
