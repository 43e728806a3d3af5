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

    return Step(f"ai.toy.{name}", run, (10, 20), skip_for_pdf_stack=name in ("warp", "identifier"))


def _finish(state: ToyState, ctx: StepContext) -> dict[str, Any]:
    return {"seen": list(state.seen)}


TOY = JobSpec(
    type="toy", queue=routing.LLM, state=ToyState, prepare=lambda job, ref: ToyState(ref),
    steps=(_step("fetch"), _step("warp"), _step("identifier"), Step("ai.toy.answers", _finish, (30, 40))),
    single_task="ai.toy.grade", single_time_limit_s=(50, 60), is_pdf_stack=lambda s: s.pages is not None,
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


def test_steps_marked_skip_for_pdf_stack_pass_a_stack_on_every_path() -> None:
    assert run_all(TOY, ToyState(REF)) == {"seen": ["fetch", "warp", "identifier"]}
    assert run_all(TOY, ToyState(REF, pages=3)) == {"seen": ["fetch"]}
    ctx = StepContext(REF, hop=True)
    stack = ToyState(REF, pages=3)
    assert [run_step(TOY, i, stack, ctx) for i in (1, 2)] == [stack, stack]
    assert run_step(TOY, 0, stack, ctx).seen == ("fetch",)


def test_only_omr_steps_skip_a_pdf_stack_and_its_answers_step_grades_it() -> None:
    skipping = {s.task for spec in JOBS.values() for s in spec.steps if s.skip_for_pdf_stack}
    assert skipping == {"ai.omr.warp", "ai.omr.identifier"}
    assert all(spec.is_pdf_stack is None for spec in JOBS.values() if spec.type != "omr_grading")


def test_a_spec_that_breaks_the_rules_is_refused_when_written() -> None:
    with pytest.raises(ValueError, match="go together"):
        JobSpec(type="x", queue="llm", state=ToyState, prepare=TOY.prepare, steps=(_step("fetch"),),
                single_task="ai.x")
    with pytest.raises(ValueError, match="is_pdf_stack"):
        JobSpec(type="x", queue="llm", state=ToyState, prepare=TOY.prepare, steps=(_step("warp"),))


def test_every_job_task_is_a_registered_step_task() -> None:
    from ai_tasks.task import JobStepTask
    from ai_tasks.tasks.steps import STEP_TASKS

    assert set(STEP_TASKS) == {task for spec in JOBS.values() for task in spec.tasks}
    assert all(isinstance(task, JobStepTask) and task.__doc__ for task in STEP_TASKS.values())
