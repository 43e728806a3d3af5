"""``ai-worker submit`` without a broker runs in-process and says so."""

from __future__ import annotations

import json

import pytest

from ai_tasks.cli import main


def test_submit_without_broker_runs_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["submit", "ocr", "--payload", '{"engine": "tesseract"}', "--id", "c1"])
    out, err = capsys.readouterr()
    assert "in-process" in err
    result = json.loads(out)
    assert code == 1 and result["job_id"] == "c1" and result["error"]["reason_code"] == "download_url_missing"


@pytest.mark.parametrize(("payload", "code"), [("[]", "payload_invalid"), ("{nope", "payload_invalid")])
def test_submit_refuses_bad_payload_json(capsys: pytest.CaptureFixture[str], payload: str, code: str) -> None:
    assert main(["submit", "omr_grading", "--payload", payload]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == code


def test_submit_refuses_unknown_type() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["submit", "teleport"])
    assert exit_.value.code == 2
