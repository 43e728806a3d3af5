"""Scoring of engine results against synthetic ground truth (used by omr_accuracy.py).

Vocabulary (the same in the report and the JSON summary):

* A *mark* is one question of one sheet (20 per sheet by default).
* A mark is *flagged* when the engine sets a review status on it, or when the
  whole sheet was rejected (exception / error status): every mark of a
  rejected sheet is flagged, never right.
* A mark is *right* when the engine's marked labels equal the truth and it is
  not flagged; for a ``flag_ok`` truth (tiny fill, X over a bubble) a flag is
  also right.
* A *silent error* is an unflagged mark whose labels differ from the truth
  (``flag_ok`` included): a wrong answer the teacher would never look at.
* Per-bubble *sensitivity* / *specificity* count bubbles of non-``flag_ok``
  questions on sheets that were not rejected, flags ignored.
* The *ID* is exact when the engine's 8 digits equal the truth and the ID is
  not flagged; when the truth has a blank column (``?``) it is right only if
  the engine flags the ID or reports that column as blank.
* A sheet is *fully right* when every mark is right and the ID is right;
  ``strict`` additionally requires that nothing at all was flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BLANK_CHARS = frozenset({"?", "_", "-", " "})
MARK_FLAGS = frozenset({"multi", "ambiguous", "low_confidence", "error"})
"""Question statuses the engine sends to review (``omr.review.FLAG_STATUSES``)."""


@dataclass
class Read:
    """What the engine reported, normalised.

    ``marks`` maps question number -> (detected labels, status). ``sheet_flag``
    is a sheet-level review reason (alignment) that flags every mark.
    """

    marks: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    identifier: str | None = None
    raw_identifier: str = ""
    id_status: str = "error"
    sheet_flag: str | None = None
    rejected: str | None = None
    review_reasons: list[str] = field(default_factory=list)
    alignment: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)


def normalise(result: dict[str, Any]) -> Read:
    """Map an ``omr.grade_image`` result (contract ``v1``) onto :class:`Read`.

    Examples:
        >>> r = normalise({"answers": [{"question_id": 1, "detected": ["2"], "status": "ok"}],
        ...                "identifier": {"identifier": "12345678", "raw_identifier": "12345678",
        ...                               "status": "ok"},
        ...                "review": {"needed": False, "reasons": []}})
        >>> r.marks, r.identifier, r.id_status, r.sheet_flag
        ({'1': (['2'], 'ok')}, '12345678', 'ok', None)
    """
    reasons = [str(x) for x in (result.get("review") or {}).get("reasons", [])]
    read = Read(
        timings_ms={k: float(v) for k, v in (result.get("timings_ms") or {}).items()},
        review_reasons=reasons,
        alignment=dict(result.get("alignment") or {}),
    )
    sheet_level = [r for r in reasons if r.startswith("alignment")]
    read.sheet_flag = ",".join(sheet_level) or None
    for a in result.get("answers") or []:
        read.marks[str(a["question_id"])] = (
            sorted(str(x) for x in a.get("detected") or []),
            str(a["status"]),
        )
    ident = result.get("identifier") or {}
    read.identifier = ident.get("identifier")
    read.raw_identifier = str(ident.get("raw_identifier") or "")
    read.id_status = str(ident.get("status", "error"))
    return read


@dataclass
class SheetScore:
    """Per-sheet outcome."""

    marks: int = 0
    right: int = 0
    flagged: int = 0
    silent: int = 0
    tp: int = 0
    fn: int = 0
    tn: int = 0
    fp: int = 0
    id_right: bool = False
    any_flag: bool = False
    per_fill: dict[str, list[int]] = field(
        default_factory=dict
    )  # fill -> [marks, right, flagged, silent]
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fully_right(self) -> bool:
        return self.right == self.marks and self.id_right

    @property
    def strict(self) -> bool:
        return self.fully_right and not self.any_flag


def score_sheet(truth: dict[str, Any], read: Read, choices: dict[str, list[str]]) -> SheetScore:
    """Compare one sheet's truth JSON (``SheetTruth.to_dict()``) with the engine's read.

    Args:
        truth: Ground truth dict.
        read: Normalised engine output.
        choices: Question number -> all its labels (for per-bubble counts).

    Returns:
        The sheet's counts.
    """
    s = SheetScore()
    flag_ok = set(truth.get("flag_ok", []))
    for q, want in truth["answers"].items():
        want = sorted(want)
        fill = (
            truth.get("fills", {}).get(q, "?").split("/")[1]
            if "/" in truth.get("fills", {}).get(q, "")
            else "?"
        )
        got: list[str]
        if read.rejected is not None:
            got, status = [], "rejected"
        else:
            got, status = read.marks.get(q, ([], "missing"))
        flagged = (
            status in MARK_FLAGS or status in ("rejected", "missing") or read.sheet_flag is not None
        )
        same = got == want
        multi_ok = same and status == "multi" and len(want) > 1 and read.sheet_flag is None
        right = (same and not flagged) or multi_ok or (q in flag_ok and (same or flagged))
        silent = not flagged and not same
        s.marks += 1
        s.right += right
        s.flagged += flagged
        s.silent += silent
        s.any_flag |= flagged
        counts = s.per_fill.setdefault(fill, [0, 0, 0, 0])
        for i, v in enumerate((1, right, flagged, silent)):
            counts[i] += int(v)
        if not right:
            s.errors.append(
                {
                    "question": q,
                    "truth": want,
                    "read": got,
                    "flagged": flagged,
                    "silent": silent,
                    "fill": truth.get("fills", {}).get(q),
                }
            )
        if read.rejected is None and q not in flag_ok:
            for label in choices.get(q, []):
                t, g = label in want, label in got
                s.tp += t and g
                s.fn += t and not g
                s.fp += g and not t
                s.tn += not t and not g
    want_id = str(truth["identifier"])
    id_flagged = read.id_status != "ok" or read.sheet_flag is not None
    if read.rejected is not None:
        s.id_right, s.any_flag = False, True
    elif "?" in want_id:
        got_id = read.raw_identifier
        shown_blank = len(got_id) == len(want_id) and all(
            (w == "?" and g in BLANK_CHARS) or w == g for w, g in zip(want_id, got_id, strict=True)
        )
        s.id_right = id_flagged or shown_blank
    else:
        s.id_right = read.identifier == want_id and not id_flagged
    s.any_flag |= id_flagged or bool(read.review_reasons)
    if not s.id_right:
        s.errors.append(
            {"identifier": want_id, "read": read.raw_identifier, "status": read.id_status}
        )
    return s
