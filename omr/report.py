"""The class report after grading: item analysis, KR-20 and the score distribution.

Classical test theory on plain data. A class is an *answer matrix*: one row
per student, one :class:`Response` per question (the labels read, and
whether the reading was flagged); a *key* maps a question to the labels
that are right and its points. From them:

* **difficulty** ``p``: the proportion of students who got the item right;
* **point-biserial** ``r_pb``: the Pearson correlation of the item's 0/1
  score with the *rest score* (the number right on the other keyed items:
  the *corrected* item-total correlation, so the item does not correlate
  with itself);
* **upper-lower index** ``D = p_upper - p_lower`` over the top and bottom
  27 % of the class by number right (Kelley); students tied at a group's
  cut share its last places equally, so ``D`` does not depend on row order;
* **KR-20** ``k/(k-1) * (1 - sum(p*q) / var(X))`` over the ``k`` keyed
  items, ``X`` the number right, ``var`` the population variance (divide by
  ``n``, as ``p*q`` is);
* the **score distribution** of the points score (what the CSV's ``total``
  holds): histogram, mean, population sd, median and quartiles (linear
  interpolation, numpy's default and Excel's ``QUARTILE.INC``).

A statistic that is undefined is ``None`` with a note saying why: no student
or one, an item everyone (or no one) got right, every student with the same
number right (``var(X) = 0``), fewer than two keyed items, a question with
no key. Item statistics use the number right; only the distribution uses
points.

How a sheet counts (:func:`report_from_rows`): every sheet graded (CSV
``status`` ``ok``) is a student, flagged ones included, scored by its best
reading exactly as :mod:`omr.scoring` scores the CSV's ``total`` (one label
read and in the key: right, even if flagged; blank or several labels:
wrong); the report says how many sheets and cells were flagged, since
review may change the figures. Sheets that could not be graded are left
out and counted.

Examples:
    >>> r = [Response.from_cell(c) for c in ("1", "2", "")]
    >>> [x.choice for x in r]
    ['1', '2', 'blank']
    >>> report = analyse([[Response.from_cell("1")], [Response.from_cell("2")]], [1], {1: {"1"}})
    >>> report.items[0].p, report.score.mean
    (0.5, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from omr.meta import as_sheet_meta
from omr.types import SheetMeta

__all__ = [
    "REPORT_SCHEMA",
    "UPPER_LOWER_FRACTION",
    "ClassReport",
    "HistogramBin",
    "ItemStats",
    "Response",
    "ScoreStats",
    "analyse",
    "difficulty",
    "kr20",
    "point_biserial",
    "report_from_rows",
    "score_distribution",
    "upper_lower_index",
]

#: The ``schema`` field of ``report.json``; bumped when a field changes meaning.
REPORT_SCHEMA = "omr_class_report/1"
#: Kelley's 27 %: the group size that maximises the index's precision for a normal score distribution.
UPPER_LOWER_FRACTION = 0.27
#: At most this many histogram bins: a one-page chart stays readable.
MAX_BINS = 21
#: Bin widths tried, smallest first (scores are points; tests of 10 to 100 points fit one of these).
BIN_WIDTHS = (1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
#: Per-student figures: a list, or a 1-D float array.
Scores = Sequence[float] | npt.NDArray[np.float64]
#: Cells of the choice counts that are not labels.
BLANK, MULTI = "blank", "multi"


@dataclass(frozen=True)
class Response:
    """What was read for one question of one sheet.

    Attributes:
        labels: the labels read, in the order the CSV gives them (empty: blank).
        flagged: whether the reading was flagged for review.
    """

    labels: tuple[str, ...] = ()
    flagged: bool = False

    @classmethod
    def from_cell(cls, cell: object) -> Response:
        """Parse a CSV ``qN`` cell: labels joined by ``|``, ``?`` appended when flagged.

        Examples:
            >>> Response.from_cell("1|3?")
            Response(labels=('1', '3'), flagged=True)
            >>> Response.from_cell(None)
            Response(labels=(), flagged=False)
        """
        text = "" if cell is None else str(cell)
        flagged = text.endswith("?")
        body = text[:-1] if flagged else text
        return cls(tuple(lab for lab in body.split("|") if lab), flagged)

    @property
    def choice(self) -> str:
        """The label read, ``"blank"`` when none, ``"multi"`` when several."""
        return BLANK if not self.labels else self.labels[0] if len(self.labels) == 1 else MULTI


@dataclass(frozen=True)
class ItemStats:
    """The analysis of one question.

    Attributes:
        question: the question number.
        key: the labels that are right (``None``: not in the key).
        points: its points (``None`` without a key).
        n: students counted.
        p: difficulty, the proportion right (``None`` without key or students).
        point_biserial: corrected item-rest correlation (``None`` when undefined).
        upper_lower: ``p_upper - p_lower`` over the top and bottom 27 % (``None`` when undefined).
        choices: how many students picked each label, then ``blank`` and ``multi``.
        flagged: how many of its readings were flagged.
        notes: why a statistic is ``None``, and what to check.
    """

    question: int
    key: tuple[str, ...] | None
    points: float | None
    n: int
    p: float | None
    point_biserial: float | None
    upper_lower: float | None
    choices: dict[str, int]
    flagged: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistogramBin:
    """Scores ``from_score <= s < to_score`` (the last bin holds the maximum too): ``count`` students."""

    from_score: float
    to_score: float
    count: int


@dataclass(frozen=True)
class ScoreStats:
    """The distribution of the points score; every figure ``None`` when no student was graded.

    ``sd`` is the population standard deviation (divide by ``n``); quartiles
    interpolate linearly between order statistics.
    """

    n: int
    max_score: float
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None
    min: float | None
    max: float | None
    histogram: tuple[HistogramBin, ...]


@dataclass(frozen=True)
class ClassReport:
    """The whole report; :meth:`to_dict` is the ``report.json`` document (see ``docs/jobs/omr_batch.md``)."""

    students: int
    items: tuple[ItemStats, ...]
    kr20: float | None
    score: ScoreStats
    sheets: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    flagged_sheets: int = 0
    notes: tuple[str, ...] = ()

    @property
    def keyed(self) -> tuple[ItemStats, ...]:
        """The items with a key (those the statistics are about)."""
        return tuple(i for i in self.items if i.key is not None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: plain types, ``None`` for what is undefined."""
        d = asdict(self)
        d["keyed_items"] = len(self.keyed)
        d["schema"] = REPORT_SCHEMA
        d["method"] = {"point_biserial": "corrected: item score vs rest score (number right on the other keyed items)",
                       "upper_lower_fraction": UPPER_LOWER_FRACTION,
                       "upper_lower_ties": "students tied at a group's cut share its last places equally",
                       "kr20_variance": "population (n)", "sd": "population (n)",
                       "quartiles": "linear interpolation (numpy default, Excel QUARTILE.INC)",
                       "flagged_sheets": "counted with their best reading, as the CSV's total",
                       "item_total": "number right; the score distribution uses points"}
        for i in d["items"]:
            i["key"] = list(i["key"]) if i["key"] is not None else None
            i["notes"] = list(i["notes"])
        d["notes"] = list(self.notes)
        for b in d["score"]["histogram"]:
            b["from"], b["to"] = b.pop("from_score"), b.pop("to_score")
        return d


# --- statistics on plain data ----------------------------------------------------------------


def _floats(values: Scores) -> npt.NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64).reshape(-1)


def difficulty(item: Scores) -> float | None:
    """The proportion of students who got the item right (``None`` with no student).

    Examples:
        >>> difficulty([1, 0, 1, 1]), difficulty([])
        (0.75, None)
    """
    x = _floats(item)
    return float(x.mean()) if x.size else None


def point_biserial(item: Scores, totals: Scores, *, corrected: bool = True) -> float | None:
    """Pearson correlation of a 0/1 item with the total (the rest score when ``corrected``).

    Args:
        item: the item's scores, 0 or 1 per student.
        totals: each student's number right over all keyed items, this one included.
        corrected: correlate with ``totals - item`` (the item does not inflate its own figure).

    Returns:
        ``r`` in [-1, 1], or ``None`` when a side does not vary (everyone
        right or wrong, every rest score equal, fewer than two students) or
        when every total is equal (then the rest score is ``total - item``
        and ``r = -1`` says nothing about the item).

    Examples:
        >>> round(point_biserial([1, 1, 0, 0], [4, 3, 1, 0]), 4)
        0.8944
        >>> round(point_biserial([1, 1, 0, 0], [4, 3, 1, 0], corrected=False), 4)
        0.9487
        >>> point_biserial([1, 1, 1], [3, 2, 1]) is None
        True
    """
    x, t = _floats(item), _floats(totals)
    y = t - x if corrected else t
    if x.size < 2 or x.std() == 0 or y.std() == 0 or t.std() == 0:
        return None
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (x.std() * y.std()))


def _group_weights(totals: np.ndarray, size: int, *, top: bool) -> np.ndarray:
    """Weights (summing to ``size``) of the students in the top or bottom group; a tie at the cut shares."""
    w = np.zeros(totals.size)
    left = float(size)
    for s in sorted(set(totals.tolist()), reverse=top):
        tied = totals == s
        count = int(tied.sum())
        w[tied] = min(1.0, left / count)
        left -= min(left, count)
        if left <= 0:
            break
    return w


def upper_lower_index(item: Scores, totals: Scores, *,
                      fraction: float = UPPER_LOWER_FRACTION) -> float | None:
    """``p_upper - p_lower``: the item's difficulty in the top and bottom ``fraction`` of the class.

    The groups are ``round(fraction * n)`` students (at least 1) ranked by
    ``totals``; students tied at a cut share the group's last places equally.

    Returns:
        ``D`` in [-1, 1], or ``None`` with fewer than two students or when every total is equal.

    Examples:
        >>> round(upper_lower_index([1, 1, 0, 1, 0, 0, 1, 0, 0, 0], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]), 4)
        0.6667
        >>> upper_lower_index([1, 0, 1, 0], [2, 2, 2, 2]) is None
        True
    """
    x, t = _floats(item), _floats(totals)
    if x.size < 2 or t.std() == 0:
        return None
    size = max(1, math.floor(fraction * x.size + 0.5))
    upper = float(np.dot(_group_weights(t, size, top=True), x)) / size
    lower = float(np.dot(_group_weights(t, size, top=False), x)) / size
    return upper - lower


def kr20(matrix: Sequence[Sequence[float]] | npt.NDArray[np.float64]) -> float | None:
    """Kuder-Richardson 20 of a 0/1 matrix (students x items).

    ``k/(k-1) * (1 - sum(p*q) / var(X))``, ``X`` the number right, ``var``
    the population variance.

    Returns:
        The reliability (may be negative), or ``None`` with fewer than two
        students or items, or when every student has the same number right.

    Examples:
        >>> round(kr20([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]), 4)
        0.75
        >>> kr20([[1, 0], [0, 1]]) is None
        True
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] < 2 or m.shape[1] < 2:
        return None
    var_x = float(m.sum(axis=1).var())
    if var_x == 0:
        return None
    p = m.mean(axis=0)
    k = m.shape[1]
    return k / (k - 1) * (1 - float(np.sum(p * (1 - p))) / var_x)


def _bin_width(max_score: float) -> float:
    for w in BIN_WIDTHS:
        if math.floor(max_score / w) + 1 <= MAX_BINS:
            return w
    return max_score / (MAX_BINS - 1)


def score_distribution(scores: Scores, max_score: float) -> ScoreStats:
    """Histogram and summary of ``scores`` out of ``max_score``.

    Bins are ``[k*w, (k+1)*w)`` from 0 past ``max_score``, ``w`` the
    smallest of :data:`BIN_WIDTHS` giving at most :data:`MAX_BINS` bins
    (one bin per point up to 20 points).

    Examples:
        >>> s = score_distribution([2, 4, 4, 4, 5, 5, 7, 9], 10)
        >>> s.mean, s.sd, s.median, s.q1, s.q3
        (5.0, 2.0, 4.5, 4.0, 5.5)
        >>> [b.count for b in s.histogram]
        [0, 0, 1, 0, 3, 2, 0, 1, 0, 1, 0]
        >>> score_distribution([], 10).mean is None
        True
    """
    x = _floats(scores)
    w = _bin_width(max_score)
    n_bins = math.floor(max_score / w) + 1
    idx = np.clip(np.floor(x / w).astype(int), 0, n_bins - 1) if x.size else np.zeros(0, int)
    counts = np.bincount(idx, minlength=n_bins)
    bins = tuple(HistogramBin(k * w, (k + 1) * w, int(c)) for k, c in enumerate(counts))
    if not x.size:
        return ScoreStats(0, float(max_score), None, None, None, None, None, None, None, bins)
    q1, median, q3 = (float(v) for v in np.percentile(x, [25, 50, 75]))
    return ScoreStats(int(x.size), float(max_score), float(x.mean()), float(x.std()), median, q1, q3,
                      float(x.min()), float(x.max()), bins)


# --- the report ---------------------------------------------------------------------------------


def _choice_counts(column: Sequence[Response], labels: Sequence[str]) -> dict[str, int]:
    seen = [r.choice for r in column]
    extra = sorted({c for c in seen if c not in labels and c not in (BLANK, MULTI)})
    return {c: seen.count(c) for c in (*labels, *extra, BLANK, MULTI)}


def _item_notes(p: float | None, r: float | None, d: float | None, totals: npt.NDArray[np.float64]) -> tuple[str, ...]:
    if totals.size == 0:
        return ("no student graded",)
    notes = []
    if totals.size < 2:
        notes.append("one student: discrimination undefined")
    elif p in (0.0, 1.0):
        notes.append(f"{'every' if p == 1.0 else 'no'} student got it right: discrimination undefined")
    elif totals.std() == 0:
        notes.append("every student has the same number right: discrimination undefined")
    elif r is None:
        notes.append("every rest score is equal: point-biserial undefined")
    if r is not None and r < 0 or d is not None and d < 0:
        notes.append("negative discrimination: check the key")
    return tuple(notes)


def analyse(responses: Sequence[Sequence[Response]], questions: Sequence[int],
            key: Mapping[int, set[str] | frozenset[str] | Sequence[str]],
            points: Mapping[int, float] | None = None, *,
            labels: Mapping[int, Sequence[str]] | None = None) -> ClassReport:
    """The report of an answer matrix.

    Args:
        responses: one row per student, one :class:`Response` per question of ``questions``.
        questions: the question numbers, in column order.
        key: question -> the labels that are right; questions not in it get choice counts only.
        points: question -> points (1 when missing).
        labels: question -> its printed labels, the order of its choice counts
            (default: the labels seen, sorted).

    Raises:
        ValueError: a row's length is not ``len(questions)``.

    Examples:
        >>> R = Response.from_cell
        >>> rows = [[R("1"), R("2")], [R("1"), R("3")], [R("2"), R("2")]]
        >>> rep = analyse(rows, [1, 2], {1: {"1"}, 2: {"2"}})
        >>> [round(i.p, 3) for i in rep.keyed], rep.score.median, rep.items[1].choices
        ([0.667, 0.667], 1.0, {'2': 2, '3': 1, 'blank': 0, 'multi': 0})
    """
    n = len(responses)
    for row in responses:
        if len(row) != len(questions):
            raise ValueError(f"expected {len(questions)} responses per student, got {len(row)}")
    accepted = {q: frozenset(str(x) for x in key[q]) for q in questions if q in key}
    pts = {q: float((points or {}).get(q, 1.0)) for q in accepted}
    keyed_cols = [j for j, q in enumerate(questions) if q in accepted]
    right = np.array([[float(len(row[j].labels) == 1 and row[j].labels[0] in accepted[questions[j]])
                       for j in keyed_cols] for row in responses], dtype=np.float64).reshape(n, len(keyed_cols))
    totals = right.sum(axis=1)
    weights = np.array([pts[questions[j]] for j in keyed_cols], dtype=np.float64)
    items = []
    for j, q in enumerate(questions):
        column = [row[j] for row in responses]
        order = list(labels[q]) if labels and q in labels else []
        counts = _choice_counts(column, order)
        flagged = sum(r.flagged for r in column)
        if q not in accepted:
            items.append(ItemStats(q, None, None, n, None, None, None, counts, flagged,
                                   ("no key: choice counts only",)))
            continue
        x = right[:, keyed_cols.index(j)]
        p, r, d = difficulty(x), point_biserial(x, totals), upper_lower_index(x, totals)
        items.append(ItemStats(q, tuple(sorted(accepted[q])), pts[q], n, p, r, d, counts, flagged,
                               _item_notes(p, r, d, totals)))
    notes = []
    reliability = kr20(right)
    if reliability is None:
        why = ("fewer than two keyed questions" if len(keyed_cols) < 2 else
               "fewer than two students" if n < 2 else "every student has the same number right (variance 0)")
        notes.append(f"KR-20 undefined: {why}")
    score = score_distribution(right @ weights if n else [], float(weights.sum()))
    return ClassReport(students=n, items=tuple(items), kr20=reliability, score=score, sheets=n,
                       notes=tuple(notes))


def report_from_rows(rows: Sequence[Mapping[str, Any]], meta: SheetMeta | Mapping[str, Any],
                     key: Mapping[str, Any]) -> ClassReport:
    """The report of a graded batch (the rows :func:`omr.batch.grade_sheets` returns, or the CSV read back).

    Sheets with ``status`` ``ok`` are the students, flagged ones included
    with their best reading; the others are left out and counted in
    ``excluded`` by reason code.

    Examples:
        >>> from omr.template import build_template
        >>> rows = [{"status": "ok", "review_needed": "True", "q1": "3?", "q2": ""},
        ...         {"status": "ok", "review_needed": "False", "q1": "2", "q2": "1"},
        ...         {"status": "error", "reason_code": "alignment_failed"}]
        >>> rep = report_from_rows(rows, build_template(2), {"1": "3", "2": "1"})
        >>> rep.students, rep.flagged_sheets, rep.excluded, [i.p for i in rep.items]
        (2, 1, {'alignment_failed': 1}, [0.5, 0.5])
    """
    from omr.scoring import normalize_key

    sheet = as_sheet_meta(meta)
    accepted, points = normalize_key(key)
    questions = [q.number for q in sheet.questions]
    graded = [r for r in rows if r.get("status") == "ok"]
    matrix = [[Response.from_cell(r.get(f"q{q}")) for q in questions] for r in graded]
    base = analyse(matrix, questions, accepted, points,
                   labels={q.number: [b.label for b in q.choices] for q in sheet.questions})
    excluded: dict[str, int] = {}
    for r in rows:
        if r.get("status") != "ok":
            code = str(r.get("reason_code") or "error")
            excluded[code] = excluded.get(code, 0) + 1
    flagged = sum(str(r.get("review_needed")).lower() == "true" for r in graded)
    notes = list(base.notes)
    if excluded:
        notes.append(f"{sum(excluded.values())} sheet(s) could not be graded and are left out")
    if flagged:
        notes.append(f"{flagged} sheet(s) need review; counted with their best reading, as in the CSV's total")
    off_sheet = sorted(set(accepted) - set(questions))
    if off_sheet:
        notes.append(f"key questions not on the sheet, left out: {off_sheet}")
    return ClassReport(students=base.students, items=base.items, kr20=base.kr20, score=base.score,
                       sheets=len(rows), excluded=excluded, flagged_sheets=flagged, notes=tuple(notes))
