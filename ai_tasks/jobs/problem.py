"""Job ``problem_generation`` (task ``ai.problem.generate``, queue ``llm``): an exam problem from OCR text.

Payload: ``ocr_text`` (required, non-empty, at most
:data:`nlp.problem.generate.MAX_OCR_CHARS` characters). Result: the legacy
keys ``body``, ``choices``, ``answer``, ``difficulty``, ``tag``, ``summary``,
``explanation`` plus ``warnings``, ``usage`` (tokens) and ``model``.

The model, server, key and per-call timeout come from the worker's settings
(``PROBLEM_GEN_MODEL``, ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``,
``AI_WORKER_LLM_TIMEOUT_S``), never from the payload. See ``docs/jobs/problem.md``.

Examples:
    >>> from ai_tasks.contracts import AIJob
    >>> ref = JobRef(id="1", type="problem_generation")
    >>> prepare(AIJob.from_dict({"id": 1, "type": "problem_generation", "payload": {"ocr_text": "1+1=?"}}), ref).ocr_text
    '1+1=?'
    >>> prepare(AIJob.from_dict({"id": 1, "type": "problem_generation", "payload": {}}), ref)
    Traceback (most recent call last):
    ...
    ai_tasks.errors.JobPayloadError: ocr_text_missing: ocr_text is empty
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.jobs.codec import StateCodec
from ai_tasks.jobs.payload import Checked, PayloadSpec
from ai_tasks.routing import LLM

__all__ = ["PAYLOAD", "SPEC", "ProblemState", "chat_client", "client_config", "prepare", "run", "warm_up"]


def _ocr_text(raw: Any) -> str:
    """The library's check of ``ocr_text`` (present, a string, bounded); kept as received."""
    from nlp.problem.generate import check_ocr_text

    return check_ocr_text(raw)


#: The payload (the legacy worker read only ocr_text).
PAYLOAD = PayloadSpec("problem_generation", (Checked("ocr_text", _ocr_text),))


@dataclass(frozen=True)
class ProblemState(StateCodec):
    """What crosses the broker for one ``problem_generation`` job.

    Args:
        job: who the job is.
        ocr_text: the OCR text of one question, as received (bounded at the door).
    """

    job: JobRef
    ocr_text: str


def prepare(job: AIJob, ref: JobRef) -> ProblemState:
    """The door: the payload checked by :data:`PAYLOAD` (secrets dropped), the first state."""
    return ProblemState(job=ref, **PAYLOAD.check(job.payload))


def client_config() -> Any:
    """The :class:`nlp.problem.ClientConfig` of this worker's settings."""
    from ai_tasks.settings import get_settings
    from nlp.problem import ClientConfig

    s = get_settings()
    return ClientConfig(
        model=s.problem_gen_model,
        api_key=s.openai_api_key,
        base_url=s.openai_base_url,
        timeout_s=s.llm_timeout_s,
    )


# One chat client per worker process (built lazily, after the pool forks), as
# artifact_store() keeps one store: building an openai client costs ~55 ms
# (bench/problem_gen.py), more than the rest of our side of a call (~6 ms).
# It is thread-safe, so every thread of a ``-P threads`` worker shares its
# connection pool. A settings change (tests) builds a new one.
_client_lock = threading.Lock()
_client: Any = None


def chat_client() -> Any:
    """This process's :class:`nlp.problem.ChatClient` for the current settings."""
    from nlp.problem import ChatClient

    global _client
    config = client_config()
    with _client_lock:
        if _client is None or _client.config != config:
            _client = ChatClient(config)
        return _client


def warm_up() -> None:
    """Import ``openai`` and build the chat client now, not in the first job.

    ``import openai`` takes 1-2 s and the first client ~0.15 s; on a ``-P
    threads`` worker the first job's threads would all wait for it. Call from
    a worker start-up signal of the llm queue (``worker_init`` for threads,
    ``worker_process_init`` for prefork). Without a key it only imports.
    """
    import openai  # noqa: F401

    from ai_tasks.settings import get_settings

    if get_settings().openai_api_key:
        chat_client()


def run(state: ProblemState, ctx: StepContext) -> dict[str, Any]:
    """Generate the problem; library errors (with their reason codes) propagate to the task base."""
    from nlp.problem import generate_problem

    problem = generate_problem(state.ocr_text, client_config=client_config(), client=chat_client())
    return problem.to_dict()


SPEC = JobSpec(type="problem_generation", queue=LLM, state=ProblemState, prepare=prepare, steps=(Step("ai.problem.generate", run, (240, 300)),))
