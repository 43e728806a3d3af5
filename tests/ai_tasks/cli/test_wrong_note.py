"""``ai-worker wrong-note NOTE.json --out note.pdf``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai_tasks.cli import main

NOTE = {"enrollment_id": 1, "created_at": "2026-03-02", "items": [{"exam_id": 1, "question_id": 2, "answer": "③"}]}


def test_writes_the_pdf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = tmp_path / "n.json", tmp_path / "n.pdf"
    src.write_text(json.dumps(NOTE), encoding="utf-8")
    assert main(["wrong-note", str(src), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert json.loads(capsys.readouterr().out) == {"out": str(out), "pages": 1, "items": 1, "exams": 1}


@pytest.mark.parametrize(
    "content, code",
    [(None, "input_not_found"), ("{", "wrong_note_invalid"), (json.dumps({**NOTE, "items": []}), "wrong_note_empty")],
)
def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, code: str) -> None:
    src = tmp_path / "n.json"
    if content is not None:
        src.write_text(content, encoding="utf-8")
    assert main(["wrong-note", str(src), "--out", str(tmp_path / "n.pdf")]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == code
    assert not (tmp_path / "n.pdf").exists()
