"""The class report as one A4 page (ReportLab): the figures, three charts and the items to look at.

From top to bottom: the title, the summary (students, mean, sd, median,
quartiles, KR-20 신뢰도), 점수 분포 (histogram), 문항별 정답률 (difficulty
per item), 문항별 변별도 (corrected point-biserial and upper-lower 27 %
index per item, with the 0.20 line), 살펴볼 문항 (items with low or
negative discrimination or very hard, each with its most picked wrong
choice) and the definitions. Charts are ReportLab graphics; text is set in
the Nanum chain (:mod:`aicore.fonts` through :func:`omr.text.chain_for`), a
character no installed font draws refused with ``font_missing_glyph`` before
anything is written. Everything sits at fixed places, so the page is always
one page: the item list is cut to what fits, pointing at
``item_analysis.csv`` for the rest.

Frames: ReportLab points, origin bottom-left.

Examples:
    >>> import tempfile, pathlib
    >>> from omr.report import Response, analyse
    >>> rep = analyse([[Response(("1",))], [Response(("2",))]], [1], {1: {"1"}})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_report_pdf(rep, pathlib.Path(d) / "r.pdf").read_bytes()[:5]
    b'%PDF-'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omr.render_pdf import registered_font
from omr.report import BLANK, MULTI, ClassReport, ItemStats
from omr.text import chain_for, check_text

__all__ = ["check_fonts", "items_to_review", "write_report_pdf"]

#: A4 portrait in points.
PAGE_W_PT, PAGE_H_PT = 595.28, 841.89
MARGIN_PT = 42.0
#: Ebel's rule of thumb: an item discriminating below 0.20 is poor (revise or drop it).
LOW_DISCRIMINATION = 0.20
#: Fewer than one student in five right: a very hard item (or a wrong key).
HARD_P = 0.20
#: Items per chart before the axis labels only every fifth number.
DENSE_ITEMS = 30
BAR_RGB = (0.25, 0.45, 0.75)
SECOND_RGB = (0.93, 0.55, 0.20)
LINE_RGB = (0.75, 0.15, 0.15)
TEXT_GRAY = 0.15
LINE_PT = 12.0
#: Height of each chart: three charts leave room for about fifteen lines of items to look at.
CHART_H_PT = 128.0

_TITLE = "문항 분석 보고서"
_DEFINITIONS = (
    "정답률 p = 정답자 수 / 응시자 수.  변별도: 점이연 상관(교정) = 문항 점수와 '그 문항을 뺀 맞힌 개수'의 상관,",
    "상하 27% 지수 D = 상위 27% 정답률 − 하위 27% 정답률 (경계 동점자는 자리를 나눔).",
    "KR-20 = k/(k−1) · (1 − Σ p(1−p) / σ²),  σ²: 맞힌 개수의 모분산.  표준편차도 모표준편차(n으로 나눔).",
    "검토 필요 답안지는 최선 판독으로 집계(CSV의 total과 같음). 채점 불가 답안지는 제외.",
)


def check_fonts() -> None:
    """Refuse early (before a batch is graded) when the report's Korean text cannot be drawn.

    Raises:
        MetaError: ``font_missing_glyph``, naming the fonts tried.

    Examples:
        >>> check_fonts()
    """
    for line in (_TITLE, *_DEFINITIONS):
        check_text(line, bold=False, where="report text")
    check_text(_TITLE, bold=True, where="report title")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".removesuffix(".0")


class _Page:
    """A canvas with text set in the Nanum chain, run by run."""

    def __init__(self, path: Path, title: str) -> None:
        from reportlab.pdfgen import canvas

        self.c = canvas.Canvas(str(path), pagesize=(PAGE_W_PT, PAGE_H_PT), invariant=1)
        self.c.setTitle(title)

    def width(self, text: str, size: float, bold: bool = False) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return sum(stringWidth(run, registered_font(p), size) for p, run in chain_for(bold).runs(text))

    def text(self, x: float, y: float, text: str, size: float, *, bold: bool = False, align: str = "left") -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        check_text(text, bold=bold, where="report text")
        if align != "left":
            x -= self.width(text, size, bold) / (2 if align == "center" else 1)
        self.c.setFillGray(TEXT_GRAY)
        for path, run in chain_for(bold).runs(text):
            name = registered_font(path)
            self.c.setFont(name, size)
            self.c.drawString(x, y, run)
            x += stringWidth(run, name, size)


def _bar_chart(page: _Page, x: float, y: float, w: float, h: float, series: Sequence[Sequence[float | None]],
               names: Sequence[str], vmin: float, vmax: float, step: float, rule: float | None = None) -> None:
    """Draw grouped vertical bars (``None`` draws no bar) with their bottom-left corner at ``(x, y)``."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, Line
    from reportlab.lib import colors

    d = Drawing(w, h)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 28, 14, w - 34, h - 20
    chart.data = [list(s) for s in series]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = vmin, vmax, step
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = "Helvetica", 6.5
    chart.categoryAxis.categoryNames = list(names)
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = "Helvetica", 6
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.categoryAxis.visibleTicks = 0
    chart.categoryAxis.joinAxisMode = "bottom"  # numbers under the plot, not on a zero line among negative bars
    chart.barSpacing, chart.groupSpacing = 0.5, 2
    for i, rgb in enumerate((BAR_RGB, SECOND_RGB)[:len(series)]):
        chart.bars[i].fillColor = colors.Color(*rgb)
        chart.bars[i].strokeColor = None
    d.add(chart)

    def level(v: float) -> float:
        return chart.y + (v - vmin) / (vmax - vmin) * chart.height

    if vmin < 0:
        d.add(Line(chart.x, level(0), chart.x + chart.width, level(0), strokeColor=colors.black, strokeWidth=0.5))
    if rule is not None:
        d.add(Line(chart.x, level(rule), chart.x + chart.width, level(rule), strokeColor=colors.Color(*LINE_RGB),
                   strokeWidth=0.6, strokeDashArray=[3, 2]))
    renderPDF.draw(d, page.c, x, y)


def _item_names(items: Sequence[ItemStats]) -> list[str]:
    dense = len(items) > DENSE_ITEMS
    return [str(i.question) if not dense or i.question % 5 == 0 or k == 0 else "" for k, i in enumerate(items)]


def _worst_distractor(item: ItemStats) -> str:
    wrong = {c: n for c, n in item.choices.items() if c not in (item.key or ()) and c != BLANK and n}
    if not wrong or not item.n:
        return ""
    label = max(wrong, key=lambda c: wrong[c])
    shown = "복수 표기" if label == MULTI else label
    return f", 가장 많이 고른 오답 {shown} ({100 * wrong[label] / item.n:.0f}%)"


def items_to_review(report: ClassReport) -> list[str]:
    """One Korean line per keyed item worth a look: negative or low discrimination, or very hard.

    Examples:
        >>> from omr.report import Response, analyse
        >>> R = Response.from_cell
        >>> rows = [[R("1"), R("2")], [R("1"), R("2")], [R("2"), R("2")], [R("2"), R("1")]]
        >>> for line in items_to_review(analyse(rows, [1, 2], {1: {"1"}, 2: {"1"}})):
        ...     print(line)
        1번: 정답률 0.50, 변별도 -0.58 (음수: 정답 확인), 가장 많이 고른 오답 2 (50%)
        2번: 정답률 0.25, 변별도 -0.58 (음수: 정답 확인), 가장 많이 고른 오답 2 (75%)
    """
    lines = []
    for i in report.keyed:
        r = i.point_biserial
        why = []
        if r is not None and r < 0 or i.upper_lower is not None and i.upper_lower < 0:
            why.append("음수: 정답 확인")
        elif r is not None and r < LOW_DISCRIMINATION:
            why.append("낮음")
        if i.p is not None and i.p < HARD_P:
            why.append("매우 어려움")
        if why:
            lines.append(f"{i.question}번: 정답률 {_fmt(i.p)}, 변별도 {_fmt(r)} ({', '.join(why)})"
                         + _worst_distractor(i))
    return lines


def _summary_lines(report: ClassReport) -> list[str]:
    s = report.score
    kr = _fmt(report.kr20) if report.kr20 is not None else "계산 불가"
    lines = [f"응시 {report.students}명 · 문항 {len(report.keyed)}개 · 만점 {_num(s.max_score)} · "
             f"평균 {_fmt(s.mean)} · 표준편차 {_fmt(s.sd)} · 최저 {_num(s.min)} · 최고 {_num(s.max)}",
             f"중앙값 {_num(s.median)} · 사분위수 Q1 {_num(s.q1)} / Q3 {_num(s.q3)} · KR-20 신뢰도 {kr}"]
    extra = []
    if report.excluded:
        extra.append(f"채점 불가 {sum(report.excluded.values())}장 제외")
    if report.flagged_sheets:
        extra.append(f"검토 필요 {report.flagged_sheets}장 (최선 판독으로 집계)")
    if not report.keyed:
        extra.append("정답이 주어진 문항이 없어 점수와 문항 통계가 없음")
    elif report.kr20 is None:
        extra.append("KR-20: 응시자·문항이 2 이상이고 점수가 서로 달라야 계산됨")
    if extra:
        lines.append(" · ".join(extra))
    return lines


def write_report_pdf(report: ClassReport, path: str | Path, *, title: str | None = None) -> Path:
    """Write ``report`` as a one-page A4 PDF.

    Args:
        report: from :func:`omr.report.report_from_rows` or :func:`omr.report.analyse`.
        path: the output file (parents created).
        title: a line under the heading (the test's name, e.g. ``"3월 모의고사 수학"``).

    Returns:
        The written path.

    Raises:
        MetaError: ``font_missing_glyph`` when no installed font draws a
            character (nothing is written then).
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_fonts()  # no Nanum chain installed: refuse before drawing
    page = _Page(out, f"{_TITLE} {title}" if title else _TITLE)
    left, width = MARGIN_PT, PAGE_W_PT - 2 * MARGIN_PT
    y = PAGE_H_PT - MARGIN_PT - 16
    page.text(left, y, _TITLE, 18, bold=True)
    if title:
        page.text(left + width, y, title, 11, align="right")
    y -= 22
    for line in _summary_lines(report):
        page.text(left, y, line, 9.5)
        y -= 14

    s = report.score
    chart_h = CHART_H_PT
    y -= 8
    bin_w = s.histogram[0].to_score - s.histogram[0].from_score
    page.text(left, y, "점수 분포 (학생 수)" if bin_w == 1 else f"점수 분포 (학생 수, {_num(bin_w)}점 구간)", 11,
              bold=True)
    top = max([b.count for b in s.histogram] + [1])
    _bar_chart(page, left, y - chart_h - 4, width, chart_h, [[b.count for b in s.histogram]],
               [_num(b.from_score) for b in s.histogram], 0, top, max(1, -(-top // 5)))
    y -= chart_h + 24

    keyed = report.keyed
    names = _item_names(keyed)
    page.text(left, y, "문항별 정답률 (p)", 11, bold=True)
    _bar_chart(page, left, y - chart_h - 4, width, chart_h, [[i.p for i in keyed]], names, 0, 1, 0.2)
    y -= chart_h + 24

    page.text(left, y, "문항별 변별도", 11, bold=True)
    legend_x = left + 90
    for label, rgb in (("점이연 상관 (교정)", BAR_RGB), ("상하 27% 지수", SECOND_RGB)):
        page.c.setFillColorRGB(*rgb)
        page.c.rect(legend_x, y, 7, 7, stroke=0, fill=1)
        page.text(legend_x + 10, y, label, 8)
        legend_x += 20 + page.width(label, 8)
    page.text(left + width, y, f"점선: {LOW_DISCRIMINATION:.2f}", 8, align="right")
    values = [v for i in keyed for v in (i.point_biserial, i.upper_lower) if v is not None]
    vmin = -1.0 if min(values, default=0.0) < -0.5 else -0.5
    _bar_chart(page, left, y - chart_h - 4, width, chart_h,
               [[i.point_biserial for i in keyed], [i.upper_lower for i in keyed]],
               names, vmin, 1.0, 0.25, rule=LOW_DISCRIMINATION)
    y -= chart_h + 24

    page.text(left, y, "살펴볼 문항", 11, bold=True)
    y -= 14
    bottom = MARGIN_PT + LINE_PT * len(_DEFINITIONS) + 10
    review = items_to_review(report) or ["없음 (변별도 0.20 미만이거나 정답률 0.20 미만인 문항이 없습니다)"]
    room = max(1, int((y - bottom) // LINE_PT))
    if len(review) > room:
        review = [*review[:room - 1], f"… 외 {len(review) - room + 1}문항: item_analysis.csv 참고"]
    for line in review:
        page.text(left + 6, y, line, 8.5)
        y -= LINE_PT
    y = MARGIN_PT + LINE_PT * (len(_DEFINITIONS) - 1)
    for line in _DEFINITIONS:
        page.text(left, y, line, 7)
        y -= LINE_PT
    page.c.showPage()
    page.c.save()
    return out
