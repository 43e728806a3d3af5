"""``ai-worker omr grade-batch`` in-process: a PDF stack, a zip, the summary, the progress bar, errors."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from ai_tasks.cli.omr import main
from omr.template import build_template
from tests.omr.conftest import filled_sheet


@pytest.fixture(scope="module")
def meta() -> dict[str, Any]:
    return build_template(10)


def _pdf(pages: list[np.ndarray]) -> bytes:
    ims = [Image.fromarray(p) for p in pages]
    buf = io.BytesIO()
    ims[0].save(buf, format="PDF", save_all=True, append_images=ims[1:], resolution=150)
    return buf.getvalue()


def test_pdf_stack_to_csv_and_summary(tmp_path: Path, meta: dict[str, Any],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    (tmp_path / "key.json").write_text(json.dumps({"1": "2", "2": "4"}))
    pages = [filled_sheet(meta, {1: ["2"], 2: ["4"]}, "12345678"), np.full((300, 200), 255, np.uint8),
             filled_sheet(meta, {1: ["3"], 2: ["4"]}, "23456789")]
    (tmp_path / "class.pdf").write_bytes(_pdf(pages))
    rc = main(["omr", "grade-batch", str(tmp_path / "class.pdf"), "--meta", str(tmp_path / "meta.json"),
               "--key", str(tmp_path / "key.json"), "--out", str(tmp_path / "r.csv"), "--mode", "scan",
               "--summary", str(tmp_path / "s.json"), "--progress"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    report = json.loads(out)
    assert report == {"csv": str(tmp_path / "r.csv"), "images": 3, "errors": 1}
    assert "3/3" in err and "2 of 3 sheets graded" in err  # the progress bar and the summary on stderr
    with (tmp_path / "r.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["file"], r["page"], r["status"]) for r in rows] == [
        ("class.pdf", "1", "ok"), ("class.pdf", "2", "error"), ("class.pdf", "3", "ok")]
    assert rows[0]["total"] == "2.0" and rows[2]["identifier"] == "23456789"
    summary = json.loads((tmp_path / "s.json").read_text())
    q1 = summary["questions"][0]
    assert q1["choices"] == {"2": 1, "3": 1} and q1["correct_pct"] == 50.0
    assert summary["review"][0] == "class.pdf#1" or "class.pdf#2" in summary["review"]


def test_zip_in_a_pool(tmp_path: Path, meta: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as zf:
        for i, label in enumerate(("1", "5")):
            png = cv2.imencode(".png", filled_sheet(meta, {4: [label]}, None))[1].tobytes()
            zf.writestr(f"s{i}.png", png)
    rc = main(["omr", "grade-batch", str(tmp_path / "set.zip"), "--meta", str(tmp_path / "meta.json"),
               "--out", str(tmp_path / "r.csv"), "--mode", "scan", "--processes", "2"])
    assert rc == 0
    with (tmp_path / "r.csv").open() as fh:
        assert [r["q4"] for r in csv.DictReader(fh)] == ["1", "5"]
    assert json.loads((tmp_path / "r.summary.json").read_text())["graded"] == 2


def test_missing_source_and_bad_meta_exit_2(tmp_path: Path, meta: dict[str, Any],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    rc = main(["omr", "grade-batch", str(tmp_path / "nope"), "--meta", str(tmp_path / "meta.json"),
               "--out", str(tmp_path / "r.csv")])
    assert rc == 2 and json.loads(capsys.readouterr().err)["reason_code"] == "input_not_found"
    (tmp_path / "bad.json").write_text("{")
    rc = main(["omr", "grade-batch", str(tmp_path), "--meta", str(tmp_path / "bad.json"), "--out", "x.csv"])
    assert rc == 2 and json.loads(capsys.readouterr().err)["reason_code"] == "meta_invalid"
