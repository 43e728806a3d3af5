"""How every ``ai-worker`` command answers: JSON on stdout, errors as JSON on stderr.

Every error a user can cause, a bad option value included, ends the same
way: one line ``{"reason_code": ..., "message": ...}`` on stderr and exit
code :data:`EXIT_ERROR` (2), never a traceback. :class:`CLIParser` turns
argparse's own complaints (a missing argument, ``--dpi abc``, a value out of
the range an :func:`int_in` / :func:`float_in` type allows) into that line
with the reason code ``option_invalid``.

Examples:
    >>> fail("image_invalid", "not an image")
    2
    >>> p = CLIParser(prog="ai-worker demo")
    >>> _ = p.add_argument("--dpi", type=int_in(72, 600), default=200)
    >>> p.parse_args(["--dpi", "300"]).dpi
    300
    >>> p.parse_args(["--dpi", "5"])
    Traceback (most recent call last):
    ...
    SystemExit: 2
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any, NoReturn

__all__ = ["EXIT_ERROR", "CLIParser", "fail", "float_in", "int_in", "print_json"]

#: Exit code of a command that failed with a reason code.
EXIT_ERROR = 2


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON (Korean kept readable) to stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def fail(reason_code: str, message: str, **extra: Any) -> int:
    """Write ``{"reason_code", "message", **extra}`` to stderr; return :data:`EXIT_ERROR`.

    Examples:
        >>> import contextlib, io
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     fail("job_failed", "boom", job_id="7")
        2
        >>> err.getvalue()
        '{"reason_code": "job_failed", "message": "boom", "job_id": "7"}\\n'
    """
    body = {"reason_code": reason_code, "message": message, **extra}
    sys.stderr.write(json.dumps(body, ensure_ascii=False) + "\n")
    return EXIT_ERROR


class CLIParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are the JSON line of :func:`fail` (``option_invalid``), exit 2.

    Sub-parsers made by ``add_subparsers().add_parser`` are of this class too.
    """

    def error(self, message: str) -> NoReturn:
        fail("option_invalid", f"{self.prog}: {message} (see {self.prog} --help)")
        sys.exit(EXIT_ERROR)


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``lo..hi``.

    Examples:
        >>> int_in(1, 10)("3")
        3
        >>> int_in(1, 10)("0")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: must be in 1..10, got 0
    """

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer in {lo}..{hi}, got {raw!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be in {lo}..{hi}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def float_in(lo: float, hi: float) -> Callable[[str], float]:
    """An argparse ``type``: a finite number in ``lo..hi``.

    Examples:
        >>> float_in(0.05, 60)("0.5")
        0.5
        >>> float_in(0.05, 60)("nan")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: must be in 0.05..60, got 'nan'
    """

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number in {lo:g}..{hi:g}, got {raw!r}") from None
        if not (math.isfinite(value) and lo <= value <= hi):
            raise argparse.ArgumentTypeError(f"must be in {lo:g}..{hi:g}, got {raw!r}")
        return value

    parse.__name__ = "number"
    return parse
