"""How every ``ai-worker`` command answers: JSON on stdout, errors as JSON on stderr.

Examples:
    >>> fail("image_invalid", "not an image")
    2
"""

from __future__ import annotations

import json
import sys
from typing import Any

__all__ = ["EXIT_ERROR", "fail", "print_json"]

#: Exit code of a command that failed with a reason code.
EXIT_ERROR = 2


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON (Korean kept readable) to stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def fail(reason_code: str, message: str) -> int:
    """Write ``{"reason_code", "message"}`` to stderr; return :data:`EXIT_ERROR`."""
    sys.stderr.write(json.dumps({"reason_code": reason_code, "message": message}, ensure_ascii=False) + "\n")
    return EXIT_ERROR
