"""``ai-worker omr grade-batch --key``: the class report beside the CSV (``--no-report`` skips it)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import cv2
import pypdfium2 as pdfium
import pytest

from ai_tasks.cli.omr import main
from omr.template import build_template
from tests.omr.conftest import filled_sheet

#: Three students on four questions (key 1, 2, 3, 4): 4, 2 and 1 right; the third leaves q4 blank.
ANSWERS = [{1: ["1"], 2: ["2"], 3: ["3"], 4: ["4"]},
           {1: ["1"], 2: ["2"], 3: ["1"], 4: ["1"]},
           {1: ["1"], 2: ["1", "3"], 3: ["2"]}]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("class")
    meta: dict[str, Any] = build_template(4)
    (d / "meta.json").write_text(json.dumps(meta))
    (d / "key.json").write_text(json.dumps({"1": "1", "2": "2", "3": "3", "4": "4"}))
    (d / "sheets").mkdir()
    for i, answers in enumerate(ANSWERS):
        cv2.imwrite(str(d / "sheets" / f"s{i}.png"), filled_sheet(meta, answers, f"1000000{i}"))
    (d / "sheets" / "broken.jpg").write_bytes(b"not an image")
    return d


def _grade(batch: Path, out: Path, *extra: str) -> int:
    return main(["omr", "grade-batch", str(batch / "sheets"), "--meta", str(batch / "meta.json"),
                 "--out", str(out), "--mode", "scan", *extra])


def test_a_key_writes_the_class_report(batch: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = _grade(batch, tmp_path / "results.csv", "--key", str(batch / "key.json"))
    err = capsys.readouterr().err
    assert rc == 0, err
    assert f"class report: {tmp_path / 'results.report.pdf'}" in err
    doc = json.loads((tmp_path / "results.report.json").read_text(encoding="utf-8"))
    assert doc["students"] == 3 and doc["sheets"] == 4 and doc["excluded"] == {"image_invalid": 1}
    assert [i["p"] for i in doc["items"]] == pytest.approx([1.0, 2 / 3, 1 / 3, 1 / 3])
    assert doc["items"][1]["choices"]["multi"] == 1 and doc["items"][3]["choices"]["blank"] == 1
    assert doc["score"]["mean"] == pytest.approx(7 / 3) and doc["score"]["max"] == 4.0
    # pq = 0 + 2/9 * 3 = 2/3; X = 4 2 1, var = 14/9; KR-20 = 4/3 * (1 - (2/3) / (14/9)) = 16/21
    assert doc["kr20"] == pytest.approx(16 / 21)
    with (tmp_path / "results.item_analysis.csv").open(encoding="utf-8") as fh:
        assert [r["question"] for r in csv.DictReader(fh)] == ["1", "2", "3", "4"]
    pdf = pdfium.PdfDocument(tmp_path / "results.report.pdf")
    try:
        assert len(pdf) == 1 and "문항 분석" in pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()


def test_no_report_and_no_key_write_none(batch: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _grade(batch, tmp_path / "a.csv", "--key", str(batch / "key.json"), "--no-report") == 0
    assert _grade(batch, tmp_path / "b.csv") == 0
    assert "class report" not in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.summary.json", "b.csv", "b.summary.json"]
