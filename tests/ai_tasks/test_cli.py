"""``ai-worker submit`` without a broker runs in-process and says so."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ai_tasks.cli import main


def test_submit_without_broker_runs_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["submit", "ocr", "--payload", '{"engine": "tesseract"}', "--id", "c1"])
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert "in-process" in lines[0]
    error = json.loads(lines[-1])  # a FAILED result: exit 2, its error on stderr, nothing on stdout
    assert (code, out) == (2, "")
    assert error["job_id"] == "c1" and error["reason_code"] == "download_url_missing"


def test_submit_reads_the_payload_from_a_file_or_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = tmp_path / "payload.json"
    job.write_text('{"engine": "tesseract"}', encoding="utf-8")
    assert main(["submit", "ocr", "--payload", f"@{job}", "--id", "f1"]) == 2
    assert json.loads(capsys.readouterr().err.splitlines()[-1])["reason_code"] == "download_url_missing"
    monkeypatch.setattr("sys.stdin", io.StringIO('{"engine": "tesseract"}'))
    assert main(["submit", "ocr", "--payload", "@-", "--id", "s1"]) == 2
    assert json.loads(capsys.readouterr().err.splitlines()[-1])["job_id"] == "s1"
    assert main(["submit", "ocr", "--payload", f"@{tmp_path / 'missing.json'}"]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == "input_not_found"


def test_submit_help_states_how_long_it_waits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "--help"]) == 0
    assert "300" in capsys.readouterr().out


@pytest.mark.parametrize(("payload", "code"), [("[]", "payload_invalid"), ("{nope", "payload_invalid")])
def test_submit_refuses_bad_payload_json(capsys: pytest.CaptureFixture[str], payload: str, code: str) -> None:
    assert main(["submit", "omr_grading", "--payload", payload]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == code


def test_submit_refuses_unknown_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "teleport"]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == "option_invalid"
