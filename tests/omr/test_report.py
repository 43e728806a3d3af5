"""omr/report.py, omr/report_files.py and omr/report_pdf.py: item analysis, KR-20, the score distribution, the one-page PDF.

Every expected figure below is computed by hand in the comments next to it.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from omr.errors import MetaError
from omr.report import (
    Response,
    analyse,
    difficulty,
    kr20,
    point_biserial,
    report_from_rows,
    score_distribution,
    upper_lower_index,
)
from omr.report_files import write_class_report, write_item_csv, write_report_json
from omr.report_pdf import write_report_pdf
from omr.template import build_template

R = Response.from_cell

# The textbook matrix: 6 students (A..F) x 4 items, 1 = right.
#        i1 i2 i3 i4   X (number right)
# A       1  1  1  1   4
# B       1  1  1  0   3
# C       1  1  0  0   2
# D       1  0  1  0   2
# E       0  1  0  0   1
# F       0  0  0  0   0
MATRIX = [[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
TOTALS = [4, 3, 2, 2, 1, 0]
KEY = {1: {"1"}, 2: {"1"}, 3: {"1"}, 4: {"1"}}


def _responses(matrix: list[list[int]]) -> list[list[Response]]:
    """Right answers as label "1", wrong ones as "2"."""
    return [[R("1" if x else "2") for x in row] for row in matrix]


def _column(j: int) -> list[int]:
    return [row[j] for row in MATRIX]


def test_difficulty_is_the_proportion_right() -> None:
    # p = right / students: 4/6, 4/6, 3/6, 1/6
    assert [difficulty(_column(j)) for j in range(4)] == pytest.approx([4 / 6, 4 / 6, 3 / 6, 1 / 6])


def test_point_biserial_corrected_and_uncorrected_by_hand() -> None:
    # Item 1: x = 1 1 1 1 0 0, p = 2/3, sd(x) = sqrt(pq) = sqrt(2/9).
    # Corrected: rest = X - x = 3 2 1 1 1 0; mean 4/3; right ones' mean M1 = 7/4, wrong ones' M0 = 1/2;
    # var(rest) = (25 + 4 + 1 + 1 + 1 + 16) / 9 / 6 = 8/9.
    # r = (M1 - M0) * sqrt(pq) / sd(rest) = 5/4 * sqrt(2/9) / sqrt(8/9) = 5/4 * 1/2 = 0.625.
    assert point_biserial(_column(0), TOTALS) == pytest.approx(0.625)
    # Uncorrected: M1 = 11/4, M0 = 1/2, var(X) = 10/6 = 5/3: r = 9/4 * sqrt(2/9) / sqrt(5/3) = 9/4 * sqrt(2/15).
    assert point_biserial(_column(0), TOTALS, corrected=False) == pytest.approx(9 / 4 * math.sqrt(2 / 15))


def test_upper_lower_27_percent_by_hand() -> None:
    # n = 6: groups of round(0.27 * 6) = round(1.62) = 2. Upper: A (4), B (3); lower: F (0), E (1).
    # i1: upper 1 1, lower 0 0 -> 1.0; i2: upper 1 1, lower 0 1 -> 1 - 0.5; i4: upper 1 0, lower 0 0 -> 0.5.
    assert [upper_lower_index(_column(j), TOTALS) for j in (0, 1, 3)] == pytest.approx([1.0, 0.5, 0.5])


def test_upper_lower_shares_the_places_of_students_tied_at_the_cut() -> None:
    # n = 10: groups of 3. Upper: 5 and 4 in full, then one place shared by the three 3s (1/3 each):
    # p_upper = (1 + 1 + (1 + 0 + 0) / 3) / 3 = 7/9. Lower: the two 0s, then one place shared by the two 1s:
    # p_lower = (0 + 0 + (1 + 0) / 2) / 3 = 1/6. D = 7/9 - 1/6 = 11/18.
    totals = [5, 4, 3, 3, 3, 2, 1, 1, 0, 0]
    item = [1, 1, 1, 0, 0, 1, 1, 0, 0, 0]
    assert upper_lower_index(item, totals) == pytest.approx(11 / 18)
    order = [9, 3, 0, 7, 5, 1, 8, 2, 6, 4]  # the row order does not change it
    assert upper_lower_index([item[i] for i in order], [totals[i] for i in order]) == pytest.approx(11 / 18)


def test_kr20_textbook_example_by_hand() -> None:
    # p = 4/6 4/6 3/6 1/6; pq = 8/36 8/36 9/36 5/36, sum 30/36 = 5/6.
    # X = 4 3 2 2 1 0, mean 2, var = (4 + 1 + 0 + 0 + 1 + 4) / 6 = 5/3.
    # KR-20 = 4/3 * (1 - (5/6) / (5/3)) = 4/3 * 1/2 = 2/3.
    assert kr20(MATRIX) == pytest.approx(2 / 3)


def test_analyse_puts_it_together() -> None:
    rep = analyse(_responses(MATRIX), [1, 2, 3, 4], KEY)
    assert rep.students == 6 and rep.kr20 == pytest.approx(2 / 3) and rep.notes == ()
    i1 = rep.items[0]
    assert (i1.p, i1.point_biserial, i1.upper_lower) == pytest.approx((4 / 6, 0.625, 1.0))
    assert i1.choices == {"1": 4, "2": 2, "blank": 0, "multi": 0}
    assert rep.score.mean == 2.0 and rep.score.sd == pytest.approx(math.sqrt(5 / 3))
    assert (rep.score.median, rep.score.q1, rep.score.q3) == (2.0, 1.25, 2.75)  # linear: 0 1 2 2 3 4


def test_points_weight_the_distribution_not_the_item_statistics() -> None:
    rep = analyse(_responses(MATRIX), [1, 2, 3, 4], KEY, {4: 3.0})
    assert rep.score.max_score == 6.0 and rep.score.max == 6.0  # A: 1 + 1 + 1 + 3
    assert rep.kr20 == pytest.approx(2 / 3) and rep.items[0].point_biserial == pytest.approx(0.625)


@pytest.mark.parametrize(("matrix", "kr20_note"), [
    ([], "fewer than two students"),
    ([[1, 0]], "fewer than two students"),
    ([[1, 0], [0, 1], [1, 0]], "every student has the same number right (variance 0)"),
])
def test_degenerate_classes(matrix: list[list[int]], kr20_note: str) -> None:
    rep = analyse(_responses(matrix), [1, 2], {1: {"1"}, 2: {"1"}})
    assert rep.kr20 is None and rep.notes == (f"KR-20 undefined: {kr20_note}",)
    assert all(i.point_biserial is None and i.upper_lower is None for i in rep.items)
    json.dumps(rep.to_dict(), allow_nan=False)  # nothing NaN: undefined is null
    if not matrix:
        assert rep.items[0].p is None and rep.score.mean is None and rep.items[0].notes == ("no student graded",)
        assert sum(b.count for b in rep.score.histogram) == 0
    if len(matrix) == 1:
        assert rep.items[0].p == 1.0 and rep.score.sd == 0.0 and rep.score.median == 1.0
        assert rep.items[0].notes == ("one student: discrimination undefined",)
    if len(matrix) == 3:  # the corrected r would be -1 (rest = 1 - item): an artefact, not a figure
        assert rep.items[0].notes == ("every student has the same number right: discrimination undefined",)


def test_an_item_everyone_got_right_has_no_discrimination() -> None:
    rep = analyse(_responses([[1, 1, 0], [1, 0, 0], [1, 1, 1]]), [1, 2, 3], {q: {"1"} for q in (1, 2, 3)})
    assert rep.items[0].p == 1.0 and rep.items[0].point_biserial is None
    assert rep.items[0].notes == ("every student got it right: discrimination undefined",)


def test_questions_without_a_key_get_choice_counts_only() -> None:
    rep = analyse([[R("1"), R("3")], [R("2"), R("")]], [1, 2], {1: {"1"}})
    assert rep.items[1].key is None and rep.items[1].p is None and rep.items[1].notes == ("no key: choice counts only",)
    assert rep.items[1].choices == {"3": 1, "blank": 1, "multi": 0}
    assert len(rep.keyed) == 1 and rep.notes == ("KR-20 undefined: fewer than two keyed questions",)


def test_multi_blank_and_flagged_marks() -> None:
    cells = ["2?", "1|2", "", "?", "2", "5"]  # flagged single, multi, blank, flagged blank, right, off-key label
    rep = analyse([[R(c)] for c in cells], [1], {1: {"2"}}, labels={1: ["1", "2", "3"]})
    item = rep.items[0]
    assert item.choices == {"1": 0, "2": 2, "3": 0, "5": 1, "blank": 2, "multi": 1}
    assert item.flagged == 2
    assert item.p == pytest.approx(2 / 6)  # "2?" scores its best reading, "1|2" does not


def test_rows_of_a_batch_count_flagged_sheets_and_leave_errors_out() -> None:
    rows = [{"status": "ok", "review_needed": True, "q1": "3?", "q2": "1"},
            {"status": "ok", "review_needed": "False", "q1": "3", "q2": "2"},
            {"status": "ok", "review_needed": "False", "q1": "1|3?", "q2": ""},
            {"status": "error", "reason_code": "alignment_failed"},
            {"status": "error", "reason_code": "image_invalid"}]
    rep = report_from_rows(rows, build_template(2), {"answers": {"1": "3", "2": "1", "9": "4"}})
    assert rep.students == 3 and rep.sheets == 5 and rep.flagged_sheets == 1
    assert rep.excluded == {"alignment_failed": 1, "image_invalid": 1}
    assert [i.p for i in rep.items] == pytest.approx([2 / 3, 1 / 3])
    assert list(rep.items[0].choices) == ["1", "2", "3", "4", "5", "blank", "multi"]  # the sheet's labels
    assert rep.notes[-3:] == ("2 sheet(s) could not be graded and are left out",
                              "1 sheet(s) need review; counted with their best reading, as in the CSV's total",
                              "key questions not on the sheet, left out: [9]")


def test_analyse_refuses_ragged_rows() -> None:
    with pytest.raises(ValueError, match="expected 2 responses per student, got 1"):
        analyse([[R("1")]], [1, 2], {})


def test_histogram_bins() -> None:
    s = score_distribution([0, 37.5, 100, 100], 100)  # 100 points: 5-point bins, 21 of them
    assert len(s.histogram) == 21 and s.histogram[7].count == 1 and s.histogram[-1].count == 2
    assert (s.histogram[-1].from_score, s.histogram[-1].to_score) == (100, 105)


def test_json_and_item_csv(tmp_path: Path) -> None:
    rep = analyse(_responses(MATRIX), [1, 2, 3, 4], KEY)
    doc = json.loads(write_report_json(rep, tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "omr_class_report/1" and doc["keyed_items"] == 4 and doc["kr20"] == pytest.approx(2 / 3)
    assert doc["items"][0]["key"] == ["1"] and doc["score"]["histogram"][0] == {"from": 0.0, "to": 1.0, "count": 1}
    assert set(doc["method"]) >= {"point_biserial", "upper_lower_fraction", "kr20_variance", "flagged_sheets"}
    with write_item_csv(rep, tmp_path / "i.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["question", "key", "points", "n", "p", "point_biserial", "upper_lower", "flagged",
                             "choice_1", "choice_2", "blank", "multi"]
    assert rows[0] == {"question": "1", "key": "1", "points": "1", "n": "6", "p": "0.6667",
                       "point_biserial": "0.6250", "upper_lower": "1.0000", "flagged": "0",
                       "choice_1": "4", "choice_2": "2", "blank": "0", "multi": "0"}


def _pdf_text(path: Path) -> tuple[int, str]:
    pdf = pdfium.PdfDocument(path)
    try:
        pages = len(pdf)
        page = pdf[0]
        text = page.get_textpage().get_text_range()
        return pages, text
    finally:
        pdf.close()


@pytest.mark.parametrize("students", [0, 1, 6, 60])
def test_pdf_is_one_page_with_korean_labels(tmp_path: Path, students: int) -> None:
    n_items = 45
    matrix = [[int((s * 7 + q * 3) % 5 < 2 + s % 3) for q in range(n_items)] for s in range(students)]
    rep = analyse(_responses(matrix), list(range(1, n_items + 1)), {q: {"1"} for q in range(1, n_items + 1)})
    pages, text = _pdf_text(write_report_pdf(rep, tmp_path / "r.pdf", title="3월 모의고사 수학"))
    assert pages == 1
    for label in ("문항 분석", "정답률", "변별도", "점수 분포", "KR-20 신뢰도", "3월 모의고사 수학", "살펴볼 문항"):
        assert label in text, label
    assert f"응시 {students}명" in text


def test_pdf_refuses_a_title_no_font_draws(tmp_path: Path) -> None:
    rep = analyse(_responses(MATRIX), [1, 2, 3, 4], KEY)
    with pytest.raises(MetaError) as err:
        write_report_pdf(rep, tmp_path / "r.pdf", title="수학 \U000f0000")
    assert err.value.reason_code == "font_missing_glyph" and not (tmp_path / "r.pdf").exists()


def test_write_class_report_beside_the_csv(tmp_path: Path) -> None:
    meta: dict[str, Any] = build_template(3)
    rows = [{"status": "ok", "q1": "1", "q2": "2", "q3": "3"}, {"status": "ok", "q1": "1", "q2": "3", "q3": ""}]
    paths = write_class_report(rows, meta, {"1": "1", "2": "2", "3": "3"}, tmp_path / "out" / "results.csv")
    assert {k: p.name for k, p in paths.items()} == {
        "json": "results.report.json", "pdf": "results.report.pdf", "items": "results.item_analysis.csv"}
    assert all(p.exists() for p in paths.values())
