"""Ground truth of one synthetic sheet, stored as JSON next to its image.

Rules the graders of a benchmark apply:

* ``answers[q]`` lists the labels the student meant to mark (empty = blank,
  two or more = a multi-mark that must be reported as such).
* A question in ``flag_ok`` is ambiguous on purpose (a tiny partial fill, an
  X over a bubble): reading it as ``answers[q]`` OR flagging it for review are
  both acceptable; anything else reported as ``ok`` is a silent error.
* ``identifier`` has one character per digit column; ``"?"`` marks a column
  the student left blank. When it has a ``"?"``, the engine must not report
  an exact identifier without a flag.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BLANK_DIGIT = "?"


@dataclass(frozen=True)
class SheetTruth:
    """What is really on a synthetic sheet.

    Attributes:
        identifier: One char per digit column, ``"?"`` for a blank column.
        answers: Question number (as str) -> labels meant as marked.
        flag_ok: Question numbers (as str) where a review flag is acceptable.
        fills: Question number (as str) -> fill kind, e.g. ``"pencil_light/partial"``.
        condition: Capture parameters (kind, tilt, blur, JPEG quality, ...).

    Examples:
        >>> t = SheetTruth("12345678", {"1": ["3"], "2": []}, [], {"1": "pen_blue/normal"})
        >>> SheetTruth.from_dict(json.loads(json.dumps(t.to_dict()))) == t
        True
        >>> t.identifier_complete
        True
    """

    identifier: str
    answers: dict[str, list[str]]
    flag_ok: list[str] = field(default_factory=list)
    fills: dict[str, str] = field(default_factory=dict)
    condition: dict[str, Any] = field(default_factory=dict)

    @property
    def identifier_complete(self) -> bool:
        """True when every digit column has exactly one intended mark."""
        return BLANK_DIGIT not in self.identifier

    def with_condition(self, **condition: Any) -> SheetTruth:
        """A copy whose ``condition`` is updated with ``condition``.

        Examples:
            >>> SheetTruth("1", {}).with_condition(kind="scan").condition
            {'kind': 'scan'}
        """
        merged = {**self.condition, **condition}
        return SheetTruth(self.identifier, self.answers, self.flag_ok, self.fills, merged)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SheetTruth:
        """Inverse of :meth:`to_dict`."""
        return cls(
            identifier=str(data["identifier"]),
            answers={str(k): [str(x) for x in v] for k, v in data["answers"].items()},
            flag_ok=[str(x) for x in data.get("flag_ok", [])],
            fills={str(k): str(v) for k, v in data.get("fills", {}).items()},
            condition=dict(data.get("condition", {})),
        )

    def save(self, path: Path) -> None:
        """Write as indented JSON to ``path``."""
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> SheetTruth:
        """Read a file written by :meth:`save`."""
        return cls.from_dict(json.loads(path.read_text()))
