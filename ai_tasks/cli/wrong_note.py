"""``ai-worker wrong-note NOTE.json --out note.pdf``: a wrong-answer note PDF, without a broker.

``NOTE.json`` is the job's payload: ``{enrollment_id, created_at, items: [...]}``
(see ``docs/jobs/wrong_note.md``). The PDF is written to ``--out``; a JSON
summary ``{out, pages, items, exams}`` goes to stdout. Errors exit with
code 2 and print ``{"reason_code": ..., "message": ...}`` on stderr.

Examples:
    >>> p = argparse.ArgumentParser(prog="ai-worker")
    >>> add_parser(p.add_subparsers(dest="command"))
    >>> p.parse_args(["wrong-note", "n.json", "--out", "n.pdf"]).out
    'n.pdf'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ai_tasks.cli.output import fail as _fail

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Run ``ai-worker wrong-note``; returns the exit code (2 on error)."""
    from nlp.errors import NLPError
    from nlp.wrong_note import parse_note, render_note

    try:
        raw = json.loads(Path(args.note_file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _fail("input_not_found", f"{args.note_file} does not exist")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail("input_unreadable", f"cannot read {args.note_file}: {exc}")
    except json.JSONDecodeError as exc:
        return _fail("wrong_note_invalid", f"{args.note_file} is not JSON: {exc}")
    try:
        note = parse_note(raw)
        rendered = render_note(note)
    except NLPError as exc:
        return _fail(exc.reason_code, exc.message)
    try:
        Path(args.out).write_bytes(rendered.pdf)
    except OSError as exc:
        return _fail("output_unwritable", f"cannot write {args.out}: {exc}")
    summary = {"out": str(args.out), "pages": rendered.pages, "items": rendered.items, "exams": rendered.exams}
    sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``wrong-note`` command to a CLI's sub-parsers."""
    p = subparsers.add_parser("wrong-note", help="render a wrong-answer note PDF from its JSON payload")
    p.add_argument("note_file", help="the note as JSON: {enrollment_id, created_at, items: [...]}")
    p.add_argument("--out", required=True, help="where to write the PDF")
    p.set_defaults(func=run)
