"""``ai-worker problem OCR.txt`` against a local chat-completions server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_tasks.cli import main
from ai_tasks.settings import get_settings
from tests.nlp.problem._chat_server import ScriptedServer, completion, error, scripted_server

GOOD = {"body": "1+1=?", "choices": [], "answer": "2", "difficulty": 1, "tag": "수학", "summary": "덧셈", "explanation": "1+1=2"}


@pytest.fixture()
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    with scripted_server() as srv:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-test")
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # overridden by --base-url
        get_settings.cache_clear()
        yield srv
    get_settings.cache_clear()


def test_prints_the_problem(llm: ScriptedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    llm.extend([completion(json.dumps(GOOD, ensure_ascii=False))])
    ocr = tmp_path / "q.txt"
    ocr.write_text("1+1=?", encoding="utf-8")
    assert main(["problem", str(ocr), "--base-url", llm.base_url, "--model", "m2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answer"] == "2" and out["tag"] == "수학"
    assert llm.bodies[0]["model"] == "m2"


@pytest.mark.parametrize("content, code", [("", "ocr_text_missing"), (None, "input_not_found")])
def test_bad_input_exits_2(llm: ScriptedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           content: str | None, code: str) -> None:
    ocr = tmp_path / "q.txt"
    if content is not None:
        ocr.write_text(content, encoding="utf-8")
    assert main(["problem", str(ocr), "--base-url", llm.base_url]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == code


def test_rejected_key_exits_2(llm: ScriptedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    llm.extend([error(401, "Incorrect API key")])
    ocr = tmp_path / "q.txt"
    ocr.write_text("1+1=?", encoding="utf-8")
    assert main(["problem", str(ocr), "--base-url", llm.base_url]) == 2
    err = capsys.readouterr().err
    assert json.loads(err)["reason_code"] == "llm_auth_failed" and "sk-cli-test" not in err
