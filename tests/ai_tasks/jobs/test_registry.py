"""ai_tasks/jobs/__init__.py: the registry is the one source of a job's tasks, routes, limits and step rules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ai_tasks import routing
from ai_tasks.jobs import JOBS
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.jobs.codec import StateCodec
from ai_tasks.jobs.runner import run_all, run_step

REF = JobRef(id="1", type="toy")


@dataclass(frozen=True)
class ToyState(StateCodec):
    job: JobRef
    pages: int | None = None
    seen: tuple[str, ...] = ()


def _step(name: str) -> Step:
    def run(state: ToyState, ctx: StepContext) -> ToyState:
        return ToyState(state.job, state.pages, (*state.seen, name))

    return Step(f"ai.toy.{name}", run, (10, 20))


def _finish(state: ToyState, ctx: StepContext) -> dict[str, Any]:
    return {"seen": list(state.seen)}


TOY = JobSpec(
    type="toy", queue=routing.LLM, state=ToyState, prepare=lambda job, ref: ToyState(ref),
    steps=(_step("fetch"), _step("warp"), _step("identifier"), Step("ai.toy.answers", _finish, (30, 40))),
    single_task="ai.toy.grade", single_time_limit_s=(50, 60),
)


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(JOBS, "toy", TOY)
    routing.task_queues.cache_clear()
    yield
    monkeypatch.delitem(JOBS, "toy")
    routing.task_queues.cache_clear()


def test_a_job_listed_in_the_registry_is_routed_to_its_queue_with_no_other_edit(toy_registered: None) -> None:
    from ai_tasks.routing import TASK_QUEUES

    assert {t: TASK_QUEUES[t] for t in TOY.tasks} == dict.fromkeys(TOY.tasks, "llm")
    assert TOY.time_limits_s == {"ai.toy.fetch": (10, 20), "ai.toy.warp": (10, 20), "ai.toy.identifier": (10, 20),
                                 "ai.toy.answers": (30, 40), "ai.toy.grade": (50, 60)}


def test_run_all_runs_every_step_in_order_and_run_step_one() -> None:
    assert run_all(TOY, ToyState(REF)) == {"seen": ["fetch", "warp", "identifier"]}
    assert run_step(TOY, 1, ToyState(REF), StepContext(REF, hop=True)).seen == ("warp",)


def test_omr_reads_a_sheet_in_one_step_after_fetch() -> None:
    assert [s.task for s in JOBS["omr_grading"].steps] == ["ai.omr.fetch", "ai.omr.read"]


def test_a_spec_that_breaks_the_rules_is_refused_when_written() -> None:
    with pytest.raises(ValueError, match="go together"):
        JobSpec(type="x", queue="llm", state=ToyState, prepare=TOY.prepare, steps=(_step("fetch"),),
                single_task="ai.x")


def test_every_job_task_is_a_registered_step_task() -> None:
    from ai_tasks.task import JobStepTask
    from ai_tasks.tasks.steps import STEP_TASKS

    assert set(STEP_TASKS) == {task for spec in JOBS.values() for task in spec.tasks}
    assert all(isinstance(task, JobStepTask) and task.__doc__ for task in STEP_TASKS.values())
