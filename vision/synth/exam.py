"""Seeded synthetic exam pages with exact truth: question boxes, numbers and line text.

:func:`render_exam_page` lays out an A4 exam page the way Korean academies
print them: a header (school, exam title, a rule), one or two columns
(optionally split by a vertical rule), questions opened by a number anchor in
one of four styles (``1.``, ``2)``, ``[3]``, ``문제 4``), stems that wrap with a
hanging indent, choices ①-⑤ or (1)-(5) in a row or one per line, equations
(``x² + 3x = 10``, ``3/4``), a figure (a frame with shapes) or a small table in
some questions, passages shared by several questions (``[1~2] 다음 글을 읽고
...``), and a footer with a page number.

Truth conventions:
    * A question's box is the tight box around all of its ink: anchor, stem,
      equation, figure, table and choices.
    * A passage shared by several questions belongs to the **first** question
      of its group: that question's box spans the ``[1~2]`` instruction, the
      passage frame and the question itself (a crop of it can be answered on its
      own); the later questions of the group hold only their own ink.
    * Headers, footers, page numbers and rules belong to no question.
    * ``questions`` are in reading order: column by column, top to bottom.
    * ``lines`` hold the exact text of every printed line (questions, header and
      footer), in reading order; table rows are one line with cells joined by a
      space; ``text`` joins them with newlines (for OCR character error rate).

Frames:
    Boxes are ``(x, y, w, h)`` in page pixels of ``image``: origin top-left,
    x right, y down. ``image`` is ``uint8`` grayscale ``(H, W)``, A4 at ``dpi``
    (1654x2339 at 200 dpi).

Examples:
    >>> page = render_exam_page(3, columns=2, lang="ko")
    >>> page.image.shape, page.image.dtype.name, page.dpi
    ((2339, 1654), 'uint8', 200)
    >>> len(page.questions) >= 4 and {q.column for q in page.questions} == {0, 1}
    True
    >>> numbers = [q.number for q in page.questions]
    >>> numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    True
    >>> page.questions[0].box_xywh == render_exam_page(3, columns=2, lang="ko").questions[0].box_xywh
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from vision.synth.content import EQUATIONS, pick_choices, pick_passage, pick_stem
from vision.synth.fonts import load_font

__all__ = [
    "ANCHOR_STYLES",
    "ExamPage",
    "LineTruth",
    "QuestionTruth",
    "anchor_text",
    "render_exam_page",
]

Lang = Literal["ko", "en", "mixed"]
BoxXYWH = tuple[int, int, int, int]

#: A4 paper size in millimetres.
A4_MM = (210.0, 297.0)
#: Page margins in millimetres (left/right, top, bottom): typical school print settings.
MARGIN_X_MM, MARGIN_TOP_MM, MARGIN_BOTTOM_MM = 15.0, 12.0, 12.0
#: Gap between two columns in millimetres (room for a divider rule).
GUTTER_MM = 10.0
#: Body text size range in points: 9.5-11.5 pt covers printed exams.
BODY_PT = (9.5, 11.5)
#: Line pitch as a multiple of the font size.
LINE_PITCH = 1.55
#: Extra blank space between questions, in line pitches (exams leave room to work).
QUESTION_GAP_LINES = (1.2, 4.0)
#: Question-number anchor styles and their sampling weights.
ANCHOR_STYLES: dict[str, float] = {"dot": 0.4, "paren": 0.2, "bracket": 0.2, "munje": 0.2}
#: Probability that a question carries a figure, a table, an equation.
P_FIGURE, P_TABLE, P_EQUATION = 0.18, 0.15, 0.3
#: Probability that a page opens a shared-passage group at a given question.
P_PASSAGE_GROUP = 0.12


@dataclass(frozen=True)
class LineTruth:
    """One printed line: its exact text and its ink box ``(x, y, w, h)`` in page pixels."""

    text: str
    box_xywh: BoxXYWH


@dataclass(frozen=True)
class QuestionTruth:
    """One question: its number, its ink box ``(x, y, w, h)`` in page pixels, its column (0-based)."""

    number: int
    box_xywh: BoxXYWH
    column: int


@dataclass(frozen=True, eq=False)
class ExamPage:
    """A rendered exam page and its truth.

    Attributes:
        image: ``uint8`` grayscale ``(H, W)``, white paper, black ink.
        dpi: dots per inch of ``image``.
        columns: 1 or 2.
        lang: ``"ko"``, ``"en"`` or ``"mixed"``.
        anchor_style: one of :data:`ANCHOR_STYLES`.
        questions: in reading order (column by column, top to bottom).
        lines: every printed line, in reading order.
        text: ``lines`` joined with newlines.
    """

    image: npt.NDArray[np.uint8]
    dpi: int
    columns: int
    lang: str
    anchor_style: str
    questions: tuple[QuestionTruth, ...]
    lines: tuple[LineTruth, ...]
    text: str


def anchor_text(style: str, number: int) -> str:
    """The printed anchor of question ``number`` in ``style``.

    Examples:
        >>> [anchor_text(s, 4) for s in ANCHOR_STYLES]
        ['4.', '4)', '[4]', '문제 4']
    """
    return {"dot": f"{number}.", "paren": f"{number})", "bracket": f"[{number}]", "munje": f"문제 {number}"}[style]


# --------------------------------------------------------------------------- layout

Font = ImageFont.FreeTypeFont


@dataclass
class _Block:
    """Drawing ops of one question (or passage group head), positioned relative to its top-left."""

    ops: list[Callable[[ImageDraw.ImageDraw, int, int], list[LineTruth | BoxXYWH]]] = field(default_factory=list)
    height: int = 0


def _union(boxes: list[BoxXYWH]) -> BoxXYWH:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _text_op(segments: list[tuple[int, str, Font]], dy: int) -> Callable[..., list[LineTruth | BoxXYWH]]:
    """One printed line made of ``(dx, text, font)`` segments at ``dy``."""

    def op(draw: ImageDraw.ImageDraw, x0: int, y0: int) -> list[LineTruth | BoxXYWH]:
        boxes = []
        for dx, text, font in segments:
            x_l, t, r, b = draw.textbbox((x0 + dx, y0 + dy), text, font=font)
            draw.text((x0 + dx, y0 + dy), text, font=font, fill=0)
            boxes.append((int(x_l), int(t), int(r - x_l), int(b - t)))
        return [LineTruth(" ".join(s[1] for s in segments), _union(boxes))]

    return op


def _wrap(text: str, font: Font, width_px: float) -> list[str]:
    """Greedy word wrap of ``text`` to ``width_px``."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if current and font.getlength(trial) > width_px:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


@dataclass(frozen=True)
class _Style:
    """Per-page typography."""

    body: Font
    anchor: Font
    pitch: int
    em: int
    hanging: bool
    circled: bool
    anchor_style: str


def _compose_question(
    rng: np.random.Generator, st: _Style, lang: str, number: int, width: int
) -> _Block:
    """Lay out one question in a column ``width`` px wide."""
    block = _Block()
    y = 0
    anchor = anchor_text(st.anchor_style, number)
    indent = int(st.anchor.getlength(anchor + " ")) + st.em // 4
    stem_lines = _wrap(pick_stem(rng, lang), st.body, width - indent)
    for i, line in enumerate(stem_lines):
        if i == 0:
            segs = [(0, anchor, st.anchor), (indent, line, st.body)]
        else:
            segs = [(indent if st.hanging else 0, line, st.body)]
        block.ops.append(_text_op(segs, y))
        y += st.pitch
    inner = indent if st.hanging else st.em
    if rng.random() < P_EQUATION:
        block.ops.append(_text_op([(inner + st.em, str(rng.choice(EQUATIONS)), st.body)], y + st.pitch // 4))
        y += st.pitch + st.pitch // 2
    if rng.random() < P_FIGURE:
        y = _add_figure(rng, block, st, lang, inner, y, width)
    elif rng.random() < P_TABLE:
        y = _add_table(rng, block, st, inner, y)
    y = _add_choices(rng, block, st, lang, inner, y, width)
    block.height = y
    return block


def _add_figure(
    rng: np.random.Generator, block: _Block, st: _Style, lang: str, x: int, y: int, width: int
) -> int:
    fw = int(min(width - x, st.em * rng.uniform(9, 14)))
    fh = int(st.pitch * rng.uniform(3.5, 5.5))
    y0 = y + st.pitch // 4
    n_shapes = int(rng.integers(2, 4))
    kinds = [str(k) for k in rng.choice(["circle", "triangle", "rect"], size=n_shapes)]
    jitter = rng.uniform(0.7, 1.0, size=(n_shapes, 2))

    def op(draw: ImageDraw.ImageDraw, x0: int, y00: int) -> list[LineTruth | BoxXYWH]:
        bx, by = x0 + x, y00 + y0
        draw.rectangle((bx, by, bx + fw, by + fh), outline=0, width=2)
        cell = fw // n_shapes
        for i, kind in enumerate(kinds):
            cx = bx + cell * i + cell // 2
            cy = by + fh // 2
            rx = int(min(cell, fh) * 0.35 * jitter[i, 0])
            ry = int(min(cell, fh) * 0.35 * jitter[i, 1])
            if kind == "circle":
                draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=0, width=2)
            elif kind == "triangle":
                draw.polygon([(cx, cy - ry), (cx - rx, cy + ry), (cx + rx, cy + ry)], outline=0, width=2)
            else:
                draw.rectangle((cx - rx, cy - ry, cx + rx, cy + ry), outline=0, width=2)
        return [(bx, by, fw + 1, fh + 1)]

    block.ops.append(op)
    y = y0 + fh + st.pitch // 3
    caption = "[그림]" if lang == "ko" else "[Figure]"
    block.ops.append(_text_op([(x + fw // 2 - int(st.body.getlength(caption)) // 2, caption, st.body)], y))
    return y + st.pitch


def _add_table(rng: np.random.Generator, block: _Block, st: _Style, x: int, y: int) -> int:
    n_cols = int(rng.integers(3, 6))
    n_rows = int(rng.integers(2, 4))
    head = ["x"] + [str(i) for i in range(1, n_cols)]
    rows = [head] + [
        [("y" if r == 0 else "z")] + [str(int(v)) for v in rng.integers(0, 60, size=n_cols - 1)]
        for r in range(n_rows - 1)
    ]
    cw = int(st.em * 2.6)
    rh = int(st.pitch * 1.1)
    y0 = y + st.pitch // 4

    def op(draw: ImageDraw.ImageDraw, x0: int, y00: int) -> list[LineTruth | BoxXYWH]:
        bx, by = x0 + x, y00 + y0
        out: list[LineTruth | BoxXYWH] = []
        for r, row in enumerate(rows):
            boxes = []
            for c, cell in enumerate(row):
                tx = bx + c * cw + (cw - int(st.body.getlength(cell))) // 2
                ty = by + r * rh + (rh - st.em) // 2 - st.em // 8
                x_l, t, rr, b = draw.textbbox((tx, ty), cell, font=st.body)
                draw.text((tx, ty), cell, font=st.body, fill=0)
                boxes.append((int(x_l), int(t), int(rr - x_l), int(b - t)))
            out.append(LineTruth(" ".join(row), _union(boxes)))
        for r in range(n_rows + 1):
            draw.line((bx, by + r * rh, bx + n_cols * cw, by + r * rh), fill=0, width=2)
        for c in range(n_cols + 1):
            draw.line((bx + c * cw, by, bx + c * cw, by + n_rows * rh), fill=0, width=2)
        out.append((bx, by, n_cols * cw + 2, n_rows * rh + 2))
        return out

    block.ops.append(op)
    return y0 + n_rows * rh + st.pitch // 2


def _add_choices(
    rng: np.random.Generator, block: _Block, st: _Style, lang: str, x: int, y: int, width: int
) -> int:
    choices = pick_choices(rng, lang)
    marks = "①②③④⑤" if st.circled else None
    labels = [marks[i] if marks else f"({i + 1})" for i in range(5)]
    texts = [f"{lab} {c}" for lab, c in zip(labels, choices, strict=True)]
    y += st.pitch // 4
    avail = width - x
    slot = avail // 5
    if max(st.body.getlength(t) for t in texts) < slot - st.em:
        block.ops.append(_text_op([(x + i * slot, t, st.body) for i, t in enumerate(texts)], y))
        return y + st.pitch
    for t in texts:
        for j, line in enumerate(_wrap(t, st.body, avail - st.em)):
            block.ops.append(_text_op([(x + (0 if j == 0 else st.em * 2), line, st.body)], y))
            y += st.pitch
    return y


def _compose_passage_head(
    rng: np.random.Generator, st: _Style, lang: str, first: int, last: int, width: int
) -> _Block:
    """The ``[first~last]`` instruction and a framed passage."""
    block = _Block()
    instruction, sentences = pick_passage(rng, lang)
    y = 0
    for i, line in enumerate(_wrap(f"[{first}~{last}] {instruction}", st.anchor, width)):
        block.ops.append(_text_op([(0 if i == 0 else st.em, line, st.anchor)], y))
        y += st.pitch
    y += st.pitch // 4
    pad = st.em // 2
    lines = _wrap(" ".join(sentences), st.body, width - 2 * pad - st.em)
    top = y
    y += pad
    for line in lines:
        block.ops.append(_text_op([(pad + st.em // 2, line, st.body)], y))
        y += st.pitch
    bottom = y + pad // 2

    def frame(draw: ImageDraw.ImageDraw, x0: int, y0: int) -> list[LineTruth | BoxXYWH]:
        draw.rectangle((x0, y0 + top, x0 + width - 1, y0 + bottom), outline=0, width=2)
        return [(x0, y0 + top, width, bottom - top + 1)]

    block.ops.insert(1, frame)
    block.height = bottom + st.pitch // 2
    return block


def _draw_block(draw: ImageDraw.ImageDraw, block: _Block, x0: int, y0: int) -> tuple[list[LineTruth], BoxXYWH]:
    lines: list[LineTruth] = []
    boxes: list[BoxXYWH] = []
    for op in block.ops:
        for item in op(draw, x0, y0):
            if isinstance(item, LineTruth):
                lines.append(item)
                boxes.append(item.box_xywh)
            else:
                boxes.append(item)
    return lines, _union(boxes)


def render_exam_page(seed: int, *, columns: int = 1, lang: Lang = "ko", dpi: int = 200) -> ExamPage:
    """Render one seeded exam page with its truth (see the module docstring for conventions).

    Args:
        seed: the same seed gives the same page, pixel for pixel.
        columns: 1 or 2.
        lang: ``"ko"``, ``"en"`` or ``"mixed"`` (each question Korean or English).
        dpi: resolution; A4 is ``round(210 / 25.4 * dpi)`` px wide.

    Raises:
        ValueError: ``columns`` not 1 or 2, ``lang`` unknown, ``dpi`` outside 72-600
            (a programming error of the caller, not user input).
    """
    if columns not in (1, 2):
        raise ValueError(f"columns must be 1 or 2, got {columns}")
    if lang not in ("ko", "en", "mixed"):
        raise ValueError(f"lang must be ko, en or mixed, got {lang!r}")
    if not 72 <= dpi <= 600:
        raise ValueError(f"dpi must be 72-600, got {dpi}")
    rng = np.random.default_rng([seed, columns, dpi, {"ko": 0, "en": 1, "mixed": 2}[lang]])
    mm = dpi / 25.4
    width, height = round(A4_MM[0] * mm), round(A4_MM[1] * mm)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)

    body_pt = rng.uniform(*BODY_PT)
    em = round(body_pt / 72 * dpi)
    face = str(rng.choice(["gothic", "myeongjo", "barun"]))
    styles = list(ANCHOR_STYLES)
    anchor_style = str(rng.choice(styles, p=np.array(list(ANCHOR_STYLES.values()))))
    st = _Style(
        body=load_font(face, em),
        anchor=load_font(face + "_bold", em) if rng.random() < 0.7 else load_font(face, em),
        pitch=round(em * LINE_PITCH),
        em=em,
        hanging=bool(rng.random() < 0.75),
        circled=bool(rng.random() < 0.7),
        anchor_style=anchor_style,
    )
    header_lang = "en" if lang == "en" else "ko"
    lines: list[LineTruth] = []

    # Header: title, school line, rule.
    mx, top, bottom = round(MARGIN_X_MM * mm), round(MARGIN_TOP_MM * mm), height - round(MARGIN_BOTTOM_MM * mm)
    title_font = load_font("gothic_bold", round(em * 1.5))
    title = "2026학년도 1학기 중간고사 수학" if header_lang == "ko" else "2026 Spring Midterm Exam: Mathematics"
    school = "한빛고등학교 2학년" if header_lang == "ko" else "Riverside High School, Grade 11"
    name = "성명:" if header_lang == "ko" else "Name:"
    tx = (width - int(title_font.getlength(title))) // 2
    lines += _text_op([(tx, title, title_font)], 0)(draw, 0, top)  # type: ignore[arg-type]
    y = top + round(em * 2.3)
    lines += _text_op([(mx, school, st.body)], 0)(draw, 0, y)  # type: ignore[arg-type]
    lines += _text_op([(width - mx - int(st.body.getlength(name)) - em * 6, name, st.body)], 0)(draw, 0, y)  # type: ignore[arg-type]
    y += st.pitch + em // 2
    draw.line((mx, y, width - mx, y), fill=0, width=max(2, dpi // 70))
    body_top = y + st.pitch

    # Footer: optional thin rule, page number centred.
    page_no = int(rng.integers(1, 9))
    footer = f"- {page_no} -" if rng.random() < 0.5 else f"{page_no} / 8"
    fy = bottom - em
    body_bottom = fy - st.pitch * 2
    if rng.random() < 0.5:
        draw.line((mx, fy - st.pitch // 2, width - mx, fy - st.pitch // 2), fill=0, width=1)
    footer_line = _text_op([((width - int(st.body.getlength(footer))) // 2, footer, st.body)], 0)(draw, 0, fy)

    # Columns.
    gutter = round(GUTTER_MM * mm)
    col_w = (width - 2 * mx - (columns - 1) * gutter) // columns
    col_x = [mx + c * (col_w + gutter) for c in range(columns)]
    if columns == 2 and rng.random() < 0.6:
        gx = mx + col_w + gutter // 2
        draw.line((gx, body_top - st.pitch // 2, gx, body_bottom), fill=0, width=1)

    number = int(rng.integers(1, 16))
    questions: list[QuestionTruth] = []
    col, y = 0, body_top
    done = False
    while not done:
        q_lang = str(rng.choice(["ko", "en"])) if lang == "mixed" else lang
        head: _Block | None = None
        if rng.random() < P_PASSAGE_GROUP:
            span = int(rng.integers(2, 4))
            head = _compose_passage_head(rng, st, q_lang, number, number + span - 1, col_w)
        group_left = int(rng.integers(2, 4)) if head else 1
        block = _compose_question(rng, st, q_lang, number, col_w)
        need = block.height + (head.height if head else 0)
        while y + need > body_bottom:
            col += 1
            y = body_top
            if col >= columns:
                done = True
                break
        if done:
            break
        q_lines: list[LineTruth] = []
        q_boxes: list[BoxXYWH] = []
        if head:
            hl, hb = _draw_block(draw, head, col_x[col], y)
            q_lines += hl
            q_boxes.append(hb)
            y += head.height
        ql, qb = _draw_block(draw, block, col_x[col], y)
        q_lines += ql
        q_boxes.append(qb)
        lines += q_lines
        questions.append(QuestionTruth(number, _union(q_boxes), col))
        number += 1
        y += block.height + round(st.pitch * rng.uniform(*QUESTION_GAP_LINES))
        # The rest of a passage group follows without a new head.
        for _ in range(group_left - 1):
            block = _compose_question(rng, st, q_lang, number, col_w)
            if y + block.height > body_bottom:
                break
            ql, qb = _draw_block(draw, block, col_x[col], y)
            lines += ql
            questions.append(QuestionTruth(number, qb, col))
            number += 1
            y += block.height + round(st.pitch * rng.uniform(*QUESTION_GAP_LINES))
    lines += footer_line  # type: ignore[arg-type]
    text_lines = tuple(ln for ln in lines if isinstance(ln, LineTruth))
    image = np.asarray(page, dtype=np.uint8).copy()
    return ExamPage(
        image=image,
        dpi=dpi,
        columns=columns,
        lang=lang,
        anchor_style=anchor_style,
        questions=tuple(questions),
        lines=text_lines,
        text="\n".join(ln.text for ln in text_lines),
    )
