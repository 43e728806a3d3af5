"""Job wrong_note: payload at the door, the PDF in the artifact store, FAILED results for bad notes."""

from __future__ import annotations

import json
from typing import Any

import pypdfium2 as pdfium
import pytest

from ai_tasks.contracts import AIJob
from ai_tasks.errors import JobPayloadError
from ai_tasks.jobs.base import JobRef, StepContext
from ai_tasks.jobs.wrong_note import WrongNoteState, prepare, run
from ai_tasks.resources import artifact_store

REF = JobRef(id="1", type="wrong_note")
NOTE: dict[str, Any] = {
    "enrollment_id": 17,
    "created_at": "2026-03-02",
    "items": [
        {"exam_id": 3, "exam_title": "3월 모의고사", "question_id": 12, "answer": "②", "correct_answer": "④",
         "question_text": "다음 중 옳은 것은? ① 1 ② 2 ③ 3 ④ 4 ⑤ 5"},
        {"exam_id": 4, "question_id": 1, "answer": "x = 3"},
    ],
}


def job(payload: dict[str, Any]) -> AIJob:
    return AIJob.from_dict({"id": 1, "type": "wrong_note", "payload": payload})


def run_job_here(payload: dict[str, Any]) -> dict[str, Any]:
    from ai_tasks.inprocess import run_job

    return run_job({"id": 1, "type": "wrong_note", "payload": payload})


def test_state_round_trips_through_json() -> None:
    state = prepare(job(NOTE), REF)
    assert WrongNoteState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


@pytest.mark.parametrize(
    "payload, code",
    [
        ({}, "wrong_note_empty"),
        ({**NOTE, "items": []}, "wrong_note_empty"),
        ({**NOTE, "student_name": "x"}, "wrong_note_invalid"),
        ({**NOTE, "items": [{**NOTE["items"][0], "score": 1}]}, "wrong_note_invalid"),
        ({**NOTE, "items": "12"}, "wrong_note_invalid"),
    ],
)
def test_bad_payloads_are_refused_at_the_door(payload: dict[str, Any], code: str) -> None:
    with pytest.raises(JobPayloadError) as info:
        prepare(job(payload), REF)
    assert info.value.reason_code == code


def test_run_stores_the_pdf_and_returns_its_key() -> None:
    out = run(prepare(job(NOTE), REF), StepContext(REF, hop=False))
    assert set(out) == {"pdf_key", "pages", "items", "exams"}
    assert (out["pages"], out["items"], out["exams"]) == (1, 2, 2)
    pdf = artifact_store().get(out["pdf_key"])
    text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "다음 중 옳은 것은? ① 1 ② 2 ③ 3 ④ 4 ⑤ 5" in text and "시험 3 · 3월 모의고사" in text


def test_in_process_job_answers_done_then_failed_then_done() -> None:
    assert run_job_here(NOTE)["status"] == "DONE"
    bad = run_job_here({**NOTE, "items": []})
    assert bad["status"] == "FAILED" and bad["error"]["reason_code"] == "wrong_note_empty"
    tofu = {**NOTE, "items": [{**NOTE["items"][0], "question_text": "\U000f0001"}]}
    out = run_job_here(tofu)
    assert out["status"] == "FAILED" and out["error"]["reason_code"] == "font_missing_glyph"
    assert run_job_here(NOTE)["status"] == "DONE"
