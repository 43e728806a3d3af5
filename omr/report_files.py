"""The class report's files beside a batch's CSV: ``report.json``, ``item_analysis.csv``, ``report.pdf``.

:func:`write_class_report` is what ``ai-worker omr grade-batch --key`` calls:
it analyses the graded rows (:func:`omr.report.report_from_rows`) and
writes the three files named by :func:`report_paths`. The JSON is
:meth:`omr.report.ClassReport.to_dict` (schema in ``docs/jobs/omr_batch.md``,
"Class report"); the page is :func:`omr.report_pdf.write_report_pdf`.

Examples:
    >>> import tempfile
    >>> from omr.template import build_template
    >>> rows = [{"status": "ok", "q1": "1", "q2": "2"}, {"status": "ok", "q1": "2", "q2": "2"}]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = write_class_report(rows, build_template(2), {"1": "1", "2": "2"}, Path(d) / "r.csv")
    ...     json.loads(paths["json"].read_text(encoding="utf-8"))["items"][0]["p"]
    0.5
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omr.meta import as_sheet_meta
from omr.report import BLANK, MULTI, ClassReport, report_from_rows
from omr.types import SheetMeta

__all__ = ["report_paths", "write_class_report", "write_item_csv", "write_report_json"]


def write_report_json(report: ClassReport, path: str | Path) -> Path:
    """Write :meth:`ClassReport.to_dict` as UTF-8 JSON (Korean labels unescaped)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
    return out


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def write_item_csv(report: ClassReport, path: str | Path) -> Path:
    """One row per question: ``question, key, points, n, p, point_biserial, upper_lower,
    flagged, choice_<label>... , blank, multi`` (labels of every question, first seen first).

    Undefined figures are empty cells; ``key`` joins accepted labels with ``|``.
    """
    labels: list[str] = []
    for item in report.items:
        labels += [c for c in item.choices if c not in (BLANK, MULTI) and c not in labels]
    head = ["question", "key", "points", "n", "p", "point_biserial", "upper_lower", "flagged",
            *(f"choice_{c}" for c in labels), BLANK, MULTI]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        for i in report.items:
            w.writerow([i.question, "|".join(i.key) if i.key is not None else "",
                        "" if i.points is None else f"{i.points:g}", i.n, _fmt(i.p), _fmt(i.point_biserial),
                        _fmt(i.upper_lower), i.flagged, *(i.choices.get(c, 0) for c in labels),
                        i.choices[BLANK], i.choices[MULTI]])
    return out


def report_paths(out_csv: str | Path) -> dict[str, Path]:
    """Where a batch's report goes, beside its CSV: ``<stem>.report.json``, ``<stem>.report.pdf``,
    ``<stem>.item_analysis.csv``.

    Examples:
        >>> sorted(p.name for p in report_paths("out/results.csv").values())
        ['results.item_analysis.csv', 'results.report.json', 'results.report.pdf']
    """
    out = Path(out_csv)
    return {"json": out.with_suffix(".report.json"), "pdf": out.with_suffix(".report.pdf"),
            "items": out.with_suffix(".item_analysis.csv")}


def write_class_report(rows: Sequence[Mapping[str, Any]], meta: SheetMeta | Mapping[str, Any],
                       key: Mapping[str, Any], out_csv: str | Path) -> dict[str, Path]:
    """Analyse a graded batch and write its three report files beside ``out_csv`` (:func:`report_paths`).

    Raises:
        MetaError: ``font_missing_glyph`` when the PDF's text cannot be drawn
            (the JSON and item CSV are written first).
    """
    from omr.report_pdf import write_report_pdf

    sheet = as_sheet_meta(meta)
    report = report_from_rows(rows, sheet, key)
    paths = report_paths(out_csv)
    write_report_json(report, paths["json"])
    write_item_csv(report, paths["items"])
    write_report_pdf(report, paths["pdf"], title=sheet.title)
    return paths
