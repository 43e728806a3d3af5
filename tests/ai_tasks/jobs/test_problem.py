"""Job problem_generation: payload at the door, the real client against a local server, legacy result keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ai_tasks.contracts import AIJob
from ai_tasks.errors import JobPayloadError
from ai_tasks.jobs.base import JobRef, StepContext
from ai_tasks.jobs.problem import ProblemState, prepare, run
from ai_tasks.settings import get_settings
from nlp.errors import NLPError
from tests.nlp.problem._chat_server import ScriptedServer, completion, error, scripted_server

GOOD = {
    "body": "2 + 3 = ?",
    "choices": ["4", "5", "6"],
    "answer": "5",
    "difficulty": 1,
    "tag": "수학",
    "summary": "덧셈",
    "explanation": "2 + 3 = 5",
}
SEED_KEYS = {"body", "choices", "answer", "difficulty", "tag", "summary", "explanation"}
REF = JobRef(id="1", type="problem_generation")


@pytest.fixture()
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    with scripted_server() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-job-test")
        monkeypatch.setenv("PROBLEM_GEN_MODEL", "test-model")
        monkeypatch.setenv("AI_WORKER_LLM_TIMEOUT_S", "5")
        get_settings.cache_clear()
        yield srv
    get_settings.cache_clear()


def job(payload: dict[str, Any]) -> AIJob:
    return AIJob.from_dict({"id": 1, "type": "problem_generation", "payload": payload})


def run_job_here(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        from ai_tasks.inprocess import run_job
    except ImportError:  # pragma: no cover - registry not landed
        pytest.skip("in-process runner not available")
    return run_job({"id": 1, "type": "problem_generation", "payload": payload})


def test_state_round_trips_through_json() -> None:
    state = prepare(job({"ocr_text": "1+1=?"}), REF)
    assert ProblemState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


@pytest.mark.parametrize(
    "payload, code",
    [
        ({}, "ocr_text_missing"),
        ({"ocr_text": ""}, "ocr_text_missing"),
        ({"ocr_text": "   "}, "ocr_text_missing"),
        ({"ocr_text": None}, "ocr_text_missing"),
        ({"ocr_text": 12}, "ocr_text_invalid"),
        ({"ocr_text": "x" * 20_001}, "ocr_text_too_long"),
        ({"ocr_text": "x", "model": "gpt-6"}, "payload_invalid"),
    ],
)
def test_bad_payloads_are_refused_at_the_door(payload: dict[str, Any], code: str) -> None:
    with pytest.raises(JobPayloadError) as info:
        prepare(job(payload), REF)
    assert info.value.reason_code == code


def test_secret_named_fields_are_dropped_not_refused() -> None:
    state = prepare(job({"ocr_text": "x", "api_key": "sk-leak"}), REF)
    assert "sk-leak" not in json.dumps(state.to_dict())


def test_run_returns_the_legacy_keys_plus_usage(llm: ScriptedServer) -> None:
    llm.extend([completion(json.dumps(GOOD, ensure_ascii=False), model="served", usage=(10, 5))])
    out = run(prepare(job({"ocr_text": "2 + 3 = ? (1) 4 (2) 5 (3) 6"}), REF), StepContext(REF, hop=False))
    assert SEED_KEYS <= set(out)
    assert {k: out[k] for k in SEED_KEYS} == GOOD
    assert out["usage"]["total_tokens"] == 15 and out["model"] == "served" and out["warnings"] == []
    assert llm.bodies[0]["model"] == "test-model"
    json.dumps(out)


def test_missing_key_is_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(NLPError) as info:
            run(prepare(job({"ocr_text": "x"}), REF), StepContext(REF, hop=False))
    finally:
        get_settings.cache_clear()
    assert info.value.reason_code == "llm_not_configured"


@pytest.mark.parametrize(
    "script, code",
    [
        ([error(401, "bad key")], "llm_auth_failed"),
        ([completion(None, refusal="no")], "llm_refused"),
        ([completion("<xml/>"), completion("<xml/>")], "llm_invalid_output"),
        ([completion("{" + "\"a\": 1," * 800_000 + "\"b\": 2}")], "llm_output_too_large"),
    ],
)
def test_failures_answer_failed_results_in_process(llm: ScriptedServer, script: list, code: str) -> None:
    llm.extend(script)
    out = run_job_here({"ocr_text": "1+1=?"})
    assert out["status"] == "FAILED"
    assert out["error"]["reason_code"] == code
    assert "sk-job-test" not in json.dumps(out)
    # the worker is alive afterwards: the next job succeeds
    llm.extend([completion(json.dumps(GOOD))])
    assert run_job_here({"ocr_text": "1+1=?"})["status"] == "DONE"


def test_empty_ocr_text_answers_failed_in_process() -> None:
    out = run_job_here({"ocr_text": ""})
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == "ocr_text_missing"


def test_warm_up_builds_the_shared_client(llm: ScriptedServer) -> None:
    from ai_tasks.jobs import problem

    problem.warm_up()
    first = problem.chat_client()
    assert problem.chat_client() is first and llm.calls == 0
