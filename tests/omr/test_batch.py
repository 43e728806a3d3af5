"""omr/batch.py: folders, PDFs, multi-page TIFFs and zips of sheets to one CSV."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from omr.batch import MAX_PAGES, grade_folder, grade_sheets, list_sheets, summarize
from omr.template import render_sheet


def _pdf(pages: list[np.ndarray], dpi: int = 150) -> bytes:
    """A PDF with one gray page image per page, at ``dpi`` (as a scanner writes it)."""
    ims = [Image.fromarray(p) for p in pages]
    buf = io.BytesIO()
    ims[0].save(buf, format="PDF", save_all=True, append_images=ims[1:], resolution=dpi)
    return buf.getvalue()


def _tiff(pages: list[np.ndarray]) -> bytes:
    ims = [Image.fromarray(p) for p in pages]
    buf = io.BytesIO()
    ims[0].save(buf, format="TIFF", save_all=True, append_images=ims[1:], compression="tiff_deflate")
    return buf.getvalue()


def test_empty_folder_gives_a_header_only_csv(tmp_path: Path, meta10: dict[str, Any]) -> None:
    rows = grade_folder(tmp_path, meta10, tmp_path / "r.csv")
    assert rows == []
    with (tmp_path / "r.csv").open() as fh:
        assert next(csv.reader(fh))[:3] == ["file", "page", "status"]


def test_batch_one_bad_image(tmp_path: Path, meta10: dict[str, Any], sheet_factory: Any) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), sheet_factory(meta10, {1: ["5"]}, "11112222"))
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    cv2.imwrite(str(tmp_path / "c.png"), render_sheet(meta10, dpi=120))
    seen = []
    rows = grade_folder(tmp_path, meta10, tmp_path / "out" / "r.csv", mode="scan",
                        progress=lambda d, t, p: seen.append((d, t)))
    assert seen[-1] == (3, 3)
    by = {r["file"]: r for r in rows}
    assert by["a.png"]["status"] == "ok" and by["a.png"]["q1"] == "5" and by["a.png"]["identifier"] == "11112222"
    assert by["b.jpg"]["status"] == "error" and by["b.jpg"]["reason_code"].startswith("image_")
    with (tmp_path / "out" / "r.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 3


def test_pdf_stack_is_one_sheet_per_page(tmp_path: Path, meta10: dict[str, Any], sheet_factory: Any) -> None:
    pages = [sheet_factory(meta10, {1: ["2"]}, "12345678"), np.full((300, 200), 255, np.uint8),
             sheet_factory(meta10, {2: ["4"]}, "87654321")]
    (tmp_path / "class.pdf").write_bytes(_pdf(pages))
    refs = list_sheets(tmp_path / "class.pdf")
    assert [r.name for r in refs] == ["class.pdf#1", "class.pdf#2", "class.pdf#3"]
    rows = grade_sheets(refs, meta10, mode="scan")
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    assert rows[0]["q1"] == "2" and rows[0]["identifier"] == "12345678" and rows[0]["page"] == 1
    assert rows[1]["reason_code"].startswith(("alignment_", "image_"))  # a blank page is one error row
    assert rows[2]["q2"] == "4" and rows[2]["identifier"] == "87654321"


def test_multipage_tiff_and_a_pool_give_the_same_rows(tmp_path: Path, meta10: dict[str, Any],
                                                      sheet_factory: Any) -> None:
    pages = [sheet_factory(meta10, {3: ["1"]}, "11111111"), sheet_factory(meta10, {3: ["3"]}, "22222222")]
    (tmp_path / "stack.tif").write_bytes(_tiff(pages))
    refs = list_sheets(tmp_path)
    assert [r.name for r in refs] == ["stack.tif#1", "stack.tif#2"]
    one = grade_sheets(refs, meta10, mode="scan")
    two = grade_sheets(refs, meta10, mode="scan", processes=2)
    assert one == two and [r["q3"] for r in one] == ["1", "3"]


def test_corrupt_pdf_is_one_error_row(tmp_path: Path, meta10: dict[str, Any]) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4\n garbage")
    rows = grade_sheets(list_sheets(tmp_path), meta10)
    assert len(rows) == 1 and rows[0]["reason_code"] == "pdf_unreadable"


def test_a_pdf_without_pages_is_pdf_empty_as_in_vision(tmp_path: Path, meta10: dict[str, Any]) -> None:
    # the page layer's code for this failure (aicore.page.pdf); the batch said pdf_unreadable before
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    (tmp_path / "none.pdf").write_bytes(buf.getvalue())
    rows = grade_sheets(list_sheets(tmp_path), meta10)
    assert len(rows) == 1 and rows[0]["reason_code"] == "pdf_empty"


def test_zip_refuses_traversal_and_bombs_but_grades_the_rest(tmp_path: Path, meta10: dict[str, Any],
                                                             sheet_factory: Any) -> None:
    good = cv2.imencode(".png", sheet_factory(meta10, {1: ["1"]}, "12121212"))[1].tobytes()
    zpath = tmp_path / "set.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheets/a.png", good)
        zf.writestr("../../evil.png", good)
        zf.writestr("bomb.png", b"\x00" * 5_000_000)  # deflates ~1000:1
        zf.writestr("__MACOSX/._a.png", b"junk")
        zf.writestr("notes.txt", b"hello")
    rows = grade_sheets(list_sheets(zpath), meta10, mode="scan")
    by = {r["file"]: r for r in rows}
    assert set(by) == {"sheets/a.png", "../../evil.png", "bomb.png"}
    assert by["sheets/a.png"]["status"] == "ok" and by["sheets/a.png"]["q1"] == "1"
    assert by["../../evil.png"]["reason_code"] == "zip_member_unsafe"
    assert by["bomb.png"]["reason_code"] == "zip_bomb"
    assert not (tmp_path.parent / "evil.png").exists()


def test_not_a_zip_and_missing_input(tmp_path: Path, meta10: dict[str, Any]) -> None:
    (tmp_path / "bad.zip").write_bytes(b"PK nope")
    assert grade_sheets(list_sheets(tmp_path / "bad.zip"), meta10)[0]["reason_code"] == "zip_unreadable"
    with pytest.raises(Exception) as info:
        list_sheets(tmp_path / "nothing-here")
    assert getattr(info.value, "reason_code", None) == "input_not_found"


def test_too_many_pages_is_refused_before_rendering(tmp_path: Path, meta10: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("omr.batch.MAX_PAGES", 1)
    (tmp_path / "two.pdf").write_bytes(_pdf([np.full((50, 50), 255, np.uint8)] * 2))
    rows = grade_sheets(list_sheets(tmp_path), meta10)
    assert MAX_PAGES > 1 and rows[0]["reason_code"] == "too_many_pages"


def test_summary_statistics(meta10: dict[str, Any]) -> None:
    rows: list[dict[str, Any]] = [
        {"file": "a", "page": "", "status": "ok", "review_needed": False, "q1": "1", "q2": "2"},
        {"file": "b", "page": 2, "status": "ok", "review_needed": True, "q1": "1|3?", "q2": ""},
        {"file": "c", "page": "", "status": "error", "reason_code": "alignment_failed"},
    ]
    s = summarize(rows, meta10, {"1": "1", "2": "2"})
    assert s["sheets"] == 3 and s["graded"] == 2 and s["errors"] == {"alignment_failed": 1}
    assert s["review"] == ["b#2", "c"]
    q1, q2 = s["questions"][:2]
    assert q1["choices"] == {"1": 1, "1|3": 1} and q1["flagged"] == 1 and q1["correct_pct"] == 50.0
    assert q2["blank"] == 1 and q2["correct_pct"] == 50.0
    assert "correct_pct" not in summarize(rows, meta10)["questions"][0]
