"""One payload checker for every job: declared fields, one message style.

A job declares its payload once, ``PAYLOAD = PayloadSpec("ocr", (Text(...),
Choice(...), ...))``, and its ``prepare`` calls ``PAYLOAD.check(payload)``:

1. secret-named keys (:func:`ai_tasks.redact.is_secret_key`) are dropped, at
   every depth: they stop at the door;
2. a field no one declared is refused (``payload_invalid``, the known
   fields listed);
3. each field is read by its kind, in order: its type, its range or
   choices, its default when absent (``None``, and ``""`` for scalars);
4. a ``check`` (a library's validator) may refuse or transform a value;
   a library's refusal becomes a :class:`~ai_tasks.errors.JobPayloadError`
   with the library's reason code and message.

The result maps each field's name to its value; what depends on several
fields (OMR's photo source, its template source) stays in the job's
``prepare``.

Examples:
    >>> spec = PayloadSpec("ocr", (Text("download_url", required=True, missing_code="download_url_missing"),
    ...                            Integer("dpi", 200, 72, 600)))
    >>> spec.check({"download_url": " https://x/p.png ", "api_key": "sk-1"})
    {'download_url': 'https://x/p.png', 'dpi': 200}
    >>> spec.check({"download_url": "u", "psm": 6})
    Traceback (most recent call last):
    ...
    ai_tasks.errors.JobPayloadError: payload_invalid: ocr payload has unknown field(s): psm (known: download_url, dpi)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ai_tasks.errors import AIWorkerError, JobPayloadError
from ai_tasks.redact import strip_secrets

__all__ = [
    "Checked",
    "Choice",
    "Field",
    "Flag",
    "Integer",
    "JSONList",
    "JSONObject",
    "PayloadSpec",
    "Seconds",
    "Text",
    "reject_unknown_fields",
]

#: A value checker: returns the value to keep, or raises an error with a ``reason_code``.
Check = Callable[[Any], Any]


class Field(Protocol):
    """A declared payload field: its name and how it is read."""

    @property
    def name(self) -> str: ...

    def read(self, payload: Mapping[str, Any], where: str) -> Any:
        """The field's value in ``payload`` (``where`` names the payload in messages)."""
        ...


def _absent(raw: Any) -> bool:
    return raw is None or raw == ""


def _library(check: Check, value: Any) -> Any:
    """``check(value)``; a library's permanent refusal becomes a ``JobPayloadError``, same code and message."""
    try:
        return check(value)
    except AIWorkerError:
        raise
    except Exception as exc:
        code, message = getattr(exc, "reason_code", None), getattr(exc, "message", None)
        if not isinstance(code, str) or not isinstance(message, str) or getattr(exc, "retryable", False):
            raise
        raise JobPayloadError(code, message) from None


def reject_unknown_fields(payload: Mapping[str, Any], known: set[str] | frozenset[str], *, job_type: str) -> None:
    """Raise ``payload_invalid`` if ``payload`` has a field no one reads.

    Examples:
        >>> reject_unknown_fields({"a": 1}, {"a"}, job_type="ocr")
        >>> reject_unknown_fields({"b": 1}, {"a"}, job_type="ocr")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: payload_invalid: ocr payload has unknown field(s): b (known: a)
    """
    extra = sorted(set(payload) - set(known))
    if extra:
        raise JobPayloadError(
            "payload_invalid",
            f"{job_type} payload has unknown field(s): {', '.join(extra)} (known: {', '.join(sorted(known))})",
        )


@dataclass(frozen=True)
class Text:
    """A string, stripped; absent gives ``default``, or ``missing_code`` when required.

    Examples:
        >>> Text("u").read({"u": " x "}, "ocr")
        'x'
        >>> Text("u", required=True, missing_code="download_url_missing").read({}, "ocr")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: download_url_missing: payload has no u
    """

    name: str
    required: bool = False
    default: str | None = None
    max_len: int = 8192
    missing_code: str = "payload_invalid"
    check: Check | None = None

    def read(self, payload: Mapping[str, Any], where: str) -> str | None:
        raw = payload.get(self.name)
        if _absent(raw):
            if self.required:
                raise JobPayloadError(self.missing_code, f"payload has no {self.name}")
            return self.default
        if not isinstance(raw, str):
            raise JobPayloadError("payload_invalid", f"{self.name} must be a string, got {type(raw).__name__}")
        if len(raw) > self.max_len:
            raise JobPayloadError("payload_invalid", f"{self.name} is {len(raw)} characters, limit {self.max_len}")
        value = raw.strip()
        return value if self.check is None else _library(self.check, value)


@dataclass(frozen=True)
class Choice:
    """A lower-cased string that must be one of ``choices``.

    ``default`` may be a function (a worker setting read when the job
    arrives).

    Examples:
        >>> Choice("mode", ("auto", "scan"), "auto").read({"mode": "SCAN"}, "omr")
        'scan'
        >>> Choice("mode", ("auto", "scan"), "auto").read({"mode": "x"}, "omr")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: payload_invalid: mode must be one of auto, scan, got 'x'
    """

    name: str
    choices: tuple[str, ...]
    default: str | None | Callable[[], str | None] = None

    def read(self, payload: Mapping[str, Any], where: str) -> str | None:
        raw = payload.get(self.name)
        if _absent(raw):
            return self.default() if callable(self.default) else self.default
        value = str(raw).strip().lower()
        if value not in self.choices:
            raise JobPayloadError("payload_invalid", f"{self.name} must be one of {', '.join(self.choices)}, got {raw!r}")
        return value


@dataclass(frozen=True)
class Integer:
    """An integer within ``lo..hi`` (bools and floats with fractions refused; numeric strings read).

    Examples:
        >>> Integer("n", 10, 1, 100).read({"n": "12"}, "ocr")
        12
        >>> Integer("n", 10, 1, 100).read({"n": 0}, "ocr")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: payload_invalid: n must be in 1..100, got 0
    """

    name: str
    default: int | None
    lo: int
    hi: int

    def read(self, payload: Mapping[str, Any], where: str) -> int | None:
        raw: Any = payload.get(self.name)
        if _absent(raw):
            return self.default
        if isinstance(raw, bool):
            raise JobPayloadError("payload_invalid", f"{self.name} must be an integer, got {raw!r}")
        try:
            value = int(raw)
            if isinstance(raw, float) and raw != value:
                raise ValueError
        except (TypeError, ValueError):
            raise JobPayloadError("payload_invalid", f"{self.name} must be an integer, got {raw!r}") from None
        if not self.lo <= value <= self.hi:
            raise JobPayloadError("payload_invalid", f"{self.name} must be in {self.lo}..{self.hi}, got {value}")
        return value


@dataclass(frozen=True)
class Seconds:
    """A number of seconds within ``lo..hi`` (a number or a numeric string; NaN refused).

    Examples:
        >>> Seconds("every", 0.05, 60.0).read({"every": "0.5"}, "video")
        0.5
        >>> Seconds("every", 0.05, 60.0).read({"every": 0}, "video")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: payload_invalid: every must be in 0.05..60.0 s, got 0
    """

    name: str
    lo: float
    hi: float
    default: float | None = None

    def read(self, payload: Mapping[str, Any], where: str) -> float | None:
        raw = payload.get(self.name)
        if _absent(raw):
            return self.default
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise JobPayloadError("payload_invalid", f"{self.name} must be a number of seconds, got {raw!r}")
        try:
            value = float(raw)
        except ValueError:
            raise JobPayloadError("payload_invalid", f"{self.name} must be a number of seconds, got {raw!r}") from None
        if not self.lo <= value <= self.hi:  # also refuses NaN
            raise JobPayloadError("payload_invalid", f"{self.name} must be in {self.lo}..{self.hi} s, got {raw!r}")
        return value


@dataclass(frozen=True)
class Flag:
    """A boolean (JSON ``true``/``false`` only).

    Examples:
        >>> Flag("crops").read({"crops": True}, "segment")
        True
        >>> Flag("crops").read({"crops": "yes"}, "segment")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: payload_invalid: crops must be true or false, got 'yes'
    """

    name: str
    default: bool = False

    def read(self, payload: Mapping[str, Any], where: str) -> bool:
        raw = payload.get(self.name)
        if raw is None:
            return self.default
        if not isinstance(raw, bool):
            raise JobPayloadError("payload_invalid", f"{self.name} must be true or false, got {raw!r}")
        return raw


@dataclass(frozen=True)
class JSONObject:
    """A JSON object: with ``fields``, read like a payload (absent: every default); without, kept whole.

    Examples:
        >>> opts = JSONObject("options", (Integer("dpi", 200, 72, 600),))
        >>> opts.read({}, "ocr"), opts.read({"options": {"dpi": 300}}, "ocr")
        ({'dpi': 200}, {'dpi': 300})
        >>> opts.read({"options": {"psm": 6}}, "ocr")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: payload_invalid: ocr options payload has unknown field(s): psm (known: dpi)
        >>> JSONObject("answer_key", reason_code="key_invalid").read({"answer_key": [1]}, "omr_grading")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: key_invalid: answer_key must be a JSON object, got list
    """

    name: str
    fields: tuple[Field, ...] | None = None
    reason_code: str = "payload_invalid"
    check: Check | None = None

    def read(self, payload: Mapping[str, Any], where: str) -> Any:
        raw = payload.get(self.name)
        if raw is not None and not isinstance(raw, Mapping):
            raise JobPayloadError(self.reason_code, f"{self.name} must be a JSON object, got {type(raw).__name__}")
        if self.fields is not None:
            return read_fields(raw or {}, self.fields, f"{where} {self.name}")
        if raw is None:
            return None
        return raw if self.check is None else _library(self.check, raw)


@dataclass(frozen=True)
class JSONList:
    """A JSON list, kept whole (``check`` may validate it).

    Examples:
        >>> JSONList("questions", reason_code="meta_invalid").read({"questions": {}}, "omr_grading")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: meta_invalid: questions must be a JSON list, got dict
    """

    name: str
    reason_code: str = "payload_invalid"
    check: Check | None = None

    def read(self, payload: Mapping[str, Any], where: str) -> Any:
        raw = payload.get(self.name)
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise JobPayloadError(self.reason_code, f"{self.name} must be a JSON list, got {type(raw).__name__}")
        return raw if self.check is None else _library(self.check, raw)


@dataclass(frozen=True)
class Checked:
    """A field whose shape a library owns: ``check(raw)`` (``raw`` is ``None`` when absent).

    Examples:
        >>> Checked("n", check=lambda raw: int(raw or 0) * 2).read({"n": 2}, "x")
        4
    """

    name: str
    check: Check

    def read(self, payload: Mapping[str, Any], where: str) -> Any:
        return _library(self.check, payload.get(self.name))


def read_fields(payload: Mapping[str, Any], fields: tuple[Field, ...], where: str) -> dict[str, Any]:
    """Refuse unknown fields, then read each declared one in order."""
    reject_unknown_fields(payload, {f.name for f in fields}, job_type=where)
    return {f.name: f.read(payload, where) for f in fields}


@dataclass(frozen=True)
class PayloadSpec:
    """A job's payload, declared: its fields, or a library parser that owns the whole shape.

    Args:
        job_type: names the payload in messages.
        fields: the fields, read in order.
        parse: instead of ``fields``, a library's parser of the whole
            (secret-free) payload; returns the checked values by name
            (``wrong_note``: the note's own schema).
    """

    job_type: str
    fields: tuple[Field, ...] = ()
    parse: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def check(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The checked values by field name; secrets dropped, unknown fields refused."""
        clean = strip_secrets(dict(payload))
        if self.parse is not None:
            return dict(_library(self.parse, clean))
        return read_fields(clean, self.fields, self.job_type)
