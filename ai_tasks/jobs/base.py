"""The job pattern every job type follows: a typed state, steps, one spec.

A job is a sequence of *steps*. Each step is a pure-ish function
``run(state, ctx) -> next_state`` (the last step returns the job's result
dict), the Celery task name that runs it on the job's queue, and that task's
time limits. The state is a frozen dataclass whose ``to_dict``/``from_dict``
come from :class:`~ai_tasks.jobs.codec.StateCodec`: it is what crosses the
broker between steps, so it holds ids, keys, URLs and small numbers, never
image bytes and never secrets.

A :class:`JobSpec` ties them together; :mod:`ai_tasks.jobs` keeps the one
registry (job type -> spec) that the dispatcher (``ai.job``), the in-process
runner, ``ai-worker submit``, the step tasks, the routes and the time limits
all read. Nothing else decides what runs a job, or where.

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
from typing import Any, Protocol

from ai_tasks.jobs.codec import StateCodec

__all__ = [
    "JobRef",
    "JobSpec",
    "JobState",
    "ProgressReporter",
    "Step",
    "StepContext",
    "TimeLimit",
]


@dataclass(frozen=True)
class JobRef(StateCodec):
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


class JobState(Protocol):
    """What every job's state dataclass provides (frozen, JSON round-trip exact)."""

    @property
    def job(self) -> JobRef: ...

    def to_dict(self) -> dict[str, Any]: ...


#: (soft, hard) seconds: the soft limit raises inside the task, the hard one kills its process.
TimeLimit = tuple[int, int]

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
    """One step of a job: the Celery task that runs it, the function it runs, its time limits.

    ``run(state, ctx)`` returns the next state, or the job's result dict for
    the last step.

    Args:
        task: the task name (``ai.omr.warp``); the registry routes it to the
            job's queue and ``ai_tasks/tasks/steps.py`` registers it.
        run: the step function.
        time_limit_s: (soft, hard) limits of the step's task.
    """

    task: str
    run: Callable[[Any, StepContext], Any]
    time_limit_s: TimeLimit


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """Everything the worker needs to know about one job type.

    Args:
        type: the job type (``AIJob.type``).
        queue: the queue its tasks run on (routes are derived from it).
        state: the state class (``from_dict`` rebuilds it in each step).
        prepare: validates the AIJob at the door (its module's ``PAYLOAD``
            checker) and returns the first state. It is the only code that
            sees the raw payload: secrets stop here.
        steps: the steps, in order; one step for most jobs.
        single_task: a task that runs all steps in one process (the
            ``payload.pipeline: "single"`` path); ``None`` when the job has
            one step anyway.
        single_time_limit_s: the single task's (soft, hard) limits.
        release: called with the last state after the result is stored, to
            delete what the steps left in the artifact store.
    """

    type: str
    queue: str
    state: Any
    prepare: Callable[..., Any]
    steps: tuple[Step, ...]
    single_task: str | None = None
    single_time_limit_s: TimeLimit | None = None
    release: Callable[[Any], None] | None = None

    def __post_init__(self) -> None:
        if (self.single_task is None) != (self.single_time_limit_s is None):
            raise ValueError(f"{self.type}: single_task and single_time_limit_s go together")

    @property
    def tasks(self) -> tuple[str, ...]:
        """Every task name this job uses."""
        names = tuple(s.task for s in self.steps)
        return names + ((self.single_task,) if self.single_task else ())

    @property
    def time_limits_s(self) -> dict[str, TimeLimit]:
        """Task name -> (soft, hard) seconds, for every task of this job."""
        limits = {s.task: s.time_limit_s for s in self.steps}
        if self.single_task and self.single_time_limit_s:
            limits[self.single_task] = self.single_time_limit_s
        return limits
