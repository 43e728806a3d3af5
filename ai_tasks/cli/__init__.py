"""``ai-worker``: submit jobs, grade OMR sheets, inspect dead letters.

Every command prints its result as JSON on stdout; every error a user can
cause (a bad option value included) is one JSON line ``{"reason_code",
"message"}`` on stderr and exit code 2 (:mod:`ai_tasks.cli.output`).

Examples:
    >>> build_parser().parse_args(["submit", "ocr", "--payload", "{}"]).wait
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from ai_tasks.cli.output import CLIParser
from ai_tasks.cli.output import fail as _fail
from ai_tasks.errors import AIWorkerError

__all__ = ["build_parser", "main"]


def build_parser() -> CLIParser:
    parser = CLIParser(prog="ai-worker", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    from ai_tasks.cli import dead_letters as dead_letters_cli
    from ai_tasks.cli import submit as submit_cli

    submit_cli.add_parser(sub)
    dead_letters_cli.add_parser(sub)

    try:
        from ai_tasks.cli import omr as omr_cli
    except ImportError:  # the vision extra is not installed on this box
        omr_cli = None  # type: ignore[assignment]
    if omr_cli is not None:
        omr_cli.register(sub)
    from ai_tasks.cli import problem as problem_cli
    from ai_tasks.cli import wrong_note as wrong_note_cli

    problem_cli.add_parser(sub)
    wrong_note_cli.add_parser(sub)
    from ai_tasks.cli import segment as segment_cli

    segment_cli.add_parser(sub)
    from ai_tasks.cli import ocr as ocr_cli

    ocr_cli.add_parser(sub)
    from ai_tasks.cli import embed as embed_cli

    embed_cli.add_parser(sub)
    from ai_tasks.cli import handwriting as handwriting_cli
    from ai_tasks.cli import video as video_cli

    handwriting_cli.add_parser(sub)
    video_cli.add_parser(sub)
    from ai_tasks.cli import bridge as bridge_cli

    bridge_cli.add_parser(sub)
    from ai_tasks.cli import queue_metrics as queue_metrics_cli

    queue_metrics_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ai-worker`` command; returns the exit code (``--help`` and bad options too)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a bad option, already reported as JSON (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return int(args.func(args))
    except AIWorkerError as exc:
        return _fail(exc.reason_code, exc.message)
    except Exception as exc:  # library errors carry a reason code too
        code = getattr(exc, "reason_code", None)
        if isinstance(code, str):
            return _fail(code, str(getattr(exc, "message", exc)))
        if isinstance(exc, OSError):  # a path the user named cannot be used: say which, no traceback
            return _fail("io_error", f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        raise


