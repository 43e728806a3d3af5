"""Grade a folder of sheet images to CSV; one bad image never fails the batch.

Columns: ``file, status, reason_code, message, identifier, id_status,
review_needed, review_reasons, alignment_method, fit_error_mm, total, max,
q1..qN`` (``qN`` = detected labels joined by ``|``, suffixed ``?`` when the
question is flagged). ``status`` is ``ok`` or ``error`` (then ``reason_code``
says why, e.g. ``image_truncated`` or ``alignment_failed``).

Examples:
    >>> import tempfile, pathlib
    >>> from omr.template import build_template
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (pathlib.Path(d) / "bad.jpg").write_bytes(b"not an image")
    ...     rows = grade_folder(d, build_template(10), pathlib.Path(d) / "out.csv")
    ...     rows[0]["status"], rows[0]["reason_code"]
    ('error', 'image_invalid')
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from omr.errors import OMRError
from omr.grade import grade_image
from omr.meta import as_sheet_meta
from omr.types import SheetMeta

__all__ = ["IMAGE_SUFFIXES", "grade_folder", "list_images"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def grade_folder(folder: str | Path, meta: SheetMeta | Mapping[str, Any], out_csv: str | Path, *,
                 mode: str = "auto", key: Mapping[str, Any] | None = None,
                 progress: Callable[[int, int, Path], None] | None = None) -> list[dict[str, Any]]:
    """Grade every image in ``folder`` and write one CSV row per image.

    Args:
        folder: Folder with images (not recursive).
        meta: Sheet meta.
        out_csv: Output CSV path.
        mode: Warp mode for every image.
        key: Optional answer key (adds ``total``/``max``).
        progress: Called as ``progress(done, total, path)`` after each image.

    Returns:
        The rows written (dicts).
    """
    sheet = as_sheet_meta(meta)
    qnums = [q.number for q in sheet.questions]
    files = list_images(folder)
    rows: list[dict[str, Any]] = []
    for i, path in enumerate(files):
        row: dict[str, Any] = {"file": path.name, "status": "ok", "reason_code": "", "message": ""}
        try:
            r = grade_image(path, sheet, mode=mode, key=key)
        except OMRError as exc:
            row.update(status="error", reason_code=exc.reason_code, message=exc.message)
        except Exception as exc:  # noqa: BLE001 - one crash is one error row, never a failed batch
            row.update(status="error", reason_code="internal_error", message=f"{type(exc).__name__}: {exc}")
        else:
            ident = r["identifier"] or {}
            row.update(
                identifier=ident.get("identifier") or "", id_status=ident.get("status", ""),
                review_needed=r["review"]["needed"], review_reasons=";".join(r["review"]["reasons"]),
                alignment_method=r["alignment"]["method"], fit_error_mm=r["alignment"]["fit_error_mm"],
            )
            if "score" in r:
                row.update(total=r["score"]["total"], max=r["score"]["max"])
            for a in r["answers"]:
                flag = "?" if a["status"] in ("ambiguous", "low_confidence", "error", "multi") else ""
                row[f"q{a['question_id']}"] = "|".join(a["detected"]) + flag
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(files), path)
    fields = ["file", "status", "reason_code", "message", "identifier", "id_status", "review_needed",
              "review_reasons", "alignment_method", "fit_error_mm", "total", "max"] + [f"q{n}" for n in qnums]
    out = Path(out_csv)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(row)
    return rows
