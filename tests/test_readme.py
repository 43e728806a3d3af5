"""Every shell command of the README runs as written, or parses, or is a known outside command.

The commands are the lines of the README's ``sh``/``bash`` code blocks
(continuation lines joined, comments dropped, ``VAR=value`` prefixes kept
apart). Each is one of:

* an ``ai-worker`` command: parsed by the CLI's own parser (a typo in an
  option fails here); those that need no outside service (OMR, OCR,
  segmentation, handwriting, video, embeddings, wrong-note PDFs) are also
  *run*, in order, by bash in a scratch folder where ``omr/`` is the
  repository's and the README's stand-in files (``page.jpg``,
  ``worksheet.jpg``, ``homework.mp4``, ``note.json`` ...) are made from the
  project's own synthetic generators. ``submit``'s inline payload must be a
  JSON object; the README's ``omr_grading`` example finishing DONE on a real
  worker is tests/integration/test_cli_submit.py's;
* ``make TARGET``: the target exists in the Makefile;
* ``celery -A ai_tasks worker|flower ...``: its queues exist;
* ``.venv/bin/python bench/X.py --flag``: the script exists and knows the flag;
* ``docker compose ...``: the compose file exists (tests/test_compose.py checks it).

Anything else fails the test: add it to a rule here, with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: ``ai-worker`` sub-commands that need no broker, Redis or model server: the test runs them.
RUNNABLE = frozenset({"omr", "ocr", "segment", "handwriting", "video", "embed", "wrong-note"})
#: Options that would make a runnable command need a server anyway.
NEEDS_SERVER_OPTIONS = frozenset({"--broker", "--cache", "--cache-url"})
_ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def _drop_comment(line: str) -> str:
    """``line`` without its shell comment (a ``#`` that starts a word, outside quotes).

    Examples:
        >>> _drop_comment("ai-worker x 'a #b' c#d  # note")
        "ai-worker x 'a #b' c#d  "
    """
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def readme_commands(text: str) -> list[str]:
    """The README's shell commands: one string per command, continuations joined, comments dropped.

    Examples:
        >>> readme_commands("x\\n```sh\\nmake demo   # go\\nai-worker a \\\\\\n  --b 'c d'\\n```\\n")
        ['make demo', "ai-worker a --b 'c d'"]
    """
    commands: list[str] = []
    in_block = False
    pending = ""
    for line in text.splitlines():
        fence = line.strip()
        if fence.startswith("```"):
            in_block = not in_block and fence[3:].strip() in ("sh", "bash", "shell", "console")
            continue
        if not in_block:
            continue
        code = _drop_comment(line).rstrip()
        if code.endswith("\\"):
            pending += code[:-1] + " "
            continue
        words = shlex.split(pending + code)
        pending = ""
        if words:
            commands.append(shlex.join(words))
    return commands


def split_env(command: str) -> tuple[dict[str, str], list[str]]:
    """``VAR=value`` prefixes and the words after them.

    Examples:
        >>> split_env("CELERY_BROKER_URL=redis://h/0 ai-worker submit ocr")
        ({'CELERY_BROKER_URL': 'redis://h/0'}, ['ai-worker', 'submit', 'ocr'])
    """
    words = shlex.split(command)
    env: dict[str, str] = {}
    while words and _ENV_ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return env, words


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.MULTILINE)}


def _check_ai_worker(env: dict[str, str], args: list[str]) -> None:
    from ai_tasks.cli import build_parser
    from ai_tasks.cli.submit import read_payload

    try:
        ns = build_parser().parse_args(args)
    except SystemExit as exit_:
        pytest.fail(f"the CLI's parser refuses the README's `ai-worker {' '.join(args)}` (exit {exit_.code})")
    if ns.command == "submit" and not ns.payload.startswith("@"):
        read_payload(ns.payload)


def _check_celery(args: list[str]) -> None:
    from ai_tasks.routing import QUEUE_NAMES

    assert args[:2] == ["-A", "ai_tasks"], args
    assert args[2] in ("worker", "flower", "inspect", "status", "events"), args
    if "-Q" in args:
        queues = args[args.index("-Q") + 1].split(",")
        assert set(queues) <= set(QUEUE_NAMES), f"unknown queue in {queues}"


def _check_python(args: list[str]) -> None:
    script = ROOT / args[0]
    assert script.is_file(), f"{args[0]} does not exist"
    source = script.read_text(encoding="utf-8")
    for flag in (a for a in args[1:] if a.startswith("--")):
        assert f'"{flag.split("=")[0]}"' in source, f"{args[0]} has no option {flag}"


def _check_pip(args: list[str]) -> None:
    """``pip install`` from the lock: every ``-r`` file exists, every install is hashed or ``--no-deps``."""
    for part in " ".join(args).split("&&"):
        words = part.split()
        words = words[1:] if words[:1] == ["pip"] else words
        assert words[:1] == ["install"], part
        assert "--require-hashes" in words or "--no-deps" in words, f"an install outside the lock: {part}"
        for i, word in enumerate(words):
            if word == "-r":
                assert (ROOT / words[i + 1]).is_file(), f"{words[i + 1]} does not exist"


def _runnable(env: dict[str, str], words: list[str]) -> bool:
    return (
        not env and words[0] == "ai-worker" and len(words) > 1 and words[1] in RUNNABLE
        and not NEEDS_SERVER_OPTIONS & set(words)
    )


def test_the_readme_has_commands_of_every_kind() -> None:
    firsts = {split_env(c)[1][0] for c in COMMANDS}
    assert {"make", "ai-worker", "celery"} <= firsts
    assert sum(_runnable(*split_env(c)) for c in COMMANDS) >= 8


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_is_known(command: str) -> None:
    env, words = split_env(command)
    program, args = words[0], words[1:]
    if program == "ai-worker":
        _check_ai_worker(env, args)
    elif program == "make":
        targets = [a for a in args if not _ENV_ASSIGNMENT.match(a)]  # ARGS=... are make variables
        assert set(targets) <= _make_targets(), f"make targets {targets} not in the Makefile"
    elif program == "pip":
        _check_pip(args)
    elif program == "celery":
        _check_celery(args)
    elif program in (".venv/bin/python", "python", "python3") and args[:1] == ["-m"]:
        assert importlib.util.find_spec(args[1]) is not None, f"no module {args[1]}"
    elif program in (".venv/bin/python", "python", "python3"):
        _check_python(args)
    elif program == "docker":
        assert args[0] == "compose" and (ROOT / "docker-compose.yml").is_file()
    else:
        pytest.fail(f"README command `{command}` is not known to tests/test_readme.py: add a rule for it")


def _stand_ins(folder: Path) -> None:
    """The files the README's examples name, made by the project's own generators."""
    from tests.vision.handwriting._pages import printed_page
    from vision.handwriting.synth import add_handwriting
    from vision.synth.exam import render_exam_page
    from vision.video.synth import write_homework_video

    (folder / "omr").symlink_to(ROOT / "omr")
    (folder / "card.jpg").symlink_to(ROOT / "tests" / "omr" / "assets" / "blank_card" / "pink20_150dpi.jpg")
    page = render_exam_page(4, columns=1, lang="en").image
    cv2.imwrite(str(folder / "page.jpg"), page)
    cv2.imwrite(str(folder / "page.png"), page)
    blank = printed_page(4)
    cv2.imwrite(str(folder / "blank.png"), blank)
    cv2.imwrite(str(folder / "worksheet.jpg"), add_handwriting(blank, 3, units=10, tool="blue_pen").image)
    write_homework_video(folder / "homework.mp4", seed=1, duration_s=2, size_wh=(320, 180), fps=15)
    note = {"enrollment_id": 1, "created_at": "2026-03-02", "items": [{"exam_id": 1, "question_id": 2, "answer": "③"}]}
    (folder / "note.json").write_text(json.dumps(note), encoding="utf-8")


def test_commands_that_need_no_server_run_as_written(tmp_path: Path) -> None:
    _stand_ins(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI_WORKER_", "CELERY_"))}
    env["PYTHONPATH"] = str(ROOT)
    # `ai-worker` is this checkout's CLI, whatever is installed on PATH
    prelude = f'ai-worker() {{ {shlex.quote(sys.executable)} -m ai_tasks.cli "$@"; }}\n'
    ran = []
    for command in COMMANDS:
        if not _runnable(*split_env(command)):
            continue
        done = subprocess.run(["bash", "-c", prelude + command], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"`{command}` exited {done.returncode}: {done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr
        if "--text" not in command:
            json.loads(done.stdout)  # every command answers JSON
        ran.append(command)
    assert len(ran) >= 8, ran
    assert (tmp_path / "out" / "results.csv").is_file() and (tmp_path / "note.pdf").is_file()
