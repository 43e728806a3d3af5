"""The job pattern every job type follows: a typed state, steps, one spec.

A job is a sequence of *steps*. Each step is a pure-ish function
``run(state, ctx) -> next_state`` (the last step returns the job's result
dict) and a Celery task name that runs it on the job's queue. The state is a
frozen dataclass with ``to_dict``/``from_dict``: it is what crosses the
broker between steps, so it holds ids, keys, URLs and small numbers, never
image bytes and never secrets.

A :class:`JobSpec` ties them together; :mod:`ai_tasks.jobs` keeps the one
registry (job type -> spec) that the dispatcher (``ai.job``), the in-process
runner and ``ai-worker submit`` all read. Nothing else decides what runs a job.

Examples:
    >>> ref = JobRef(id="7", type="ocr", source_id=None, result_id="r-1")
    >>> JobRef.from_dict(ref.to_dict()) == ref
    True
    >>> ctx = StepContext(ref)
    >>> ctx.progress(3, 10)   # no reporter: a no-op
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ai_tasks.errors import JobPayloadError

__all__ = [
    "JobRef",
    "JobSpec",
    "JobState",
    "ProgressReporter",
    "Step",
    "StepContext",
    "payload_bool",
    "payload_choice",
    "payload_int",
    "payload_str",
    "reject_unknown_fields",
]


@dataclass(frozen=True)
class JobRef:
    """Who a job is: the API's ids, and where its final result is stored.

    Args:
        id: the API's job id.
        type: the job type (``AIJob.type``).
        source_id: the API object the job belongs to (used when delivering).
        result_id: the ``ai.job`` task id whose result the API reads; ``None``
            when the job runs outside a broker.
    """

    id: str
    type: str
    source_id: str | None = None
    result_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "source_id": self.source_id, "result_id": self.result_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobRef:
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            source_id=None if data.get("source_id") is None else str(data["source_id"]),
            result_id=None if data.get("result_id") is None else str(data["result_id"]),
        )


class JobState(Protocol):
    """What every job's state dataclass provides (frozen, JSON round-trip exact)."""

    @property
    def job(self) -> JobRef: ...

    def to_dict(self) -> dict[str, Any]: ...


S = TypeVar("S")

#: ``reporter(done, total, info)``: publishes progress where the caller can see it.
ProgressReporter = Callable[[int, int, Mapping[str, Any]], None]


@dataclass
class StepContext:
    """What a step may ask of its runner besides its state.

    Args:
        job: the job being run.
        reporter: where progress goes (a Celery task state, a CLI progress
            bar); ``None`` ignores progress.
        hop: ``True`` when the next step runs in another task (the state
            must carry everything by key); ``False`` when all steps run in
            this process and may hand objects over in :attr:`local`.
    """

    job: JobRef
    reporter: ProgressReporter | None = None
    hop: bool = True
    local: dict[str, Any] = field(default_factory=dict)

    def progress(self, done: int, total: int, **info: Any) -> None:
        """Report ``done`` of ``total`` units (frames, pages, texts)."""
        if self.reporter is not None:
            self.reporter(int(done), int(total), info)


@dataclass(frozen=True)
class Step:
    """One step of a job: the Celery task that runs it and the function it runs.

    ``run(state, ctx)`` returns the next state, or the job's result dict for
    the last step.
    """

    task: str
    run: Callable[[Any, StepContext], Any]


@dataclass(frozen=True)
class JobSpec:
    """Everything the dispatcher needs to know about one job type.

    Args:
        type: the job type (``AIJob.type``).
        queue: the queue its steps run on.
        state: the state dataclass (``from_dict`` rebuilds it in each step).
        prepare: validates the AIJob at the door and returns the first state.
            It is the only code that sees the raw payload: secrets stop here.
        steps: the steps, in order; one step for most jobs.
        single_task: a task that runs all steps in one process (the
            ``payload.pipeline: "single"`` path); ``None`` when the job has
            one step anyway.
        release: called with the last state after the result is stored, to
            delete what the steps left in the artifact store.
    """

    type: str
    queue: str
    state: Any
    prepare: Callable[..., Any]
    steps: tuple[Step, ...]
    single_task: str | None = None
    release: Callable[[Any], None] | None = None

    @property
    def tasks(self) -> tuple[str, ...]:
        """Every task name this job uses."""
        names = tuple(s.task for s in self.steps)
        return names + ((self.single_task,) if self.single_task else ())


# --- payload validation helpers: one message style for every job ------------


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


def payload_str(payload: Mapping[str, Any], name: str, *, required: bool = False, max_len: int = 8192,
                default: str | None = None, reason_code: str = "payload_invalid") -> str | None:
    """A string field, stripped; ``None``/missing gives ``default`` unless required.

    Examples:
        >>> payload_str({"u": " x "}, "u")
        'x'
        >>> payload_str({}, "u", required=True, reason_code="download_url_missing")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: download_url_missing: payload has no u
    """
    raw = payload.get(name)
    if raw is None or raw == "":
        if required:
            raise JobPayloadError(reason_code, f"payload has no {name}")
        return default
    if not isinstance(raw, str):
        raise JobPayloadError("payload_invalid", f"{name} must be a string, got {type(raw).__name__}")
    if len(raw) > max_len:
        raise JobPayloadError("payload_invalid", f"{name} is {len(raw)} characters, limit {max_len}")
    return raw.strip()


def payload_choice(payload: Mapping[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    """A lower-cased string field that must be one of ``choices``.

    Examples:
        >>> payload_choice({"mode": "SCAN"}, "mode", ("auto", "scan"), "auto")
        'scan'
        >>> payload_choice({"mode": "x"}, "mode", ("auto", "scan"), "auto")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: payload_invalid: mode must be one of auto, scan, got 'x'
    """
    raw = payload.get(name)
    if raw is None or raw == "":
        return default
    value = str(raw).strip().lower()
    if value not in choices:
        raise JobPayloadError("payload_invalid", f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value


def payload_int(payload: Mapping[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    """An integer field within ``lo..hi`` (bools and floats with fractions refused).

    Examples:
        >>> payload_int({"n": "12"}, "n", 10, 1, 100)
        12
        >>> payload_int({"n": 0}, "n", 10, 1, 100)
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: payload_invalid: n must be in 1..100, got 0
    """
    raw = payload.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise JobPayloadError("payload_invalid", f"{name} must be an integer, got {raw!r}")
    try:
        value = int(raw)
        if isinstance(raw, float) and raw != value:
            raise ValueError
    except (TypeError, ValueError):
        raise JobPayloadError("payload_invalid", f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise JobPayloadError("payload_invalid", f"{name} must be in {lo}..{hi}, got {value}")
    return value


def payload_bool(payload: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """A boolean field (JSON true/false only).

    Examples:
        >>> payload_bool({"crops": True}, "crops")
        True
        >>> payload_bool({"crops": "yes"}, "crops")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.JobPayloadError: payload_invalid: crops must be true or false, got 'yes'
    """
    raw = payload.get(name)
    if raw is None:
        return default
    if not isinstance(raw, bool):
        raise JobPayloadError("payload_invalid", f"{name} must be true or false, got {raw!r}")
    return raw
