"""Job ``wrong_note`` (task ``ai.wrong_note``, queue ``cpu-vision``): a wrong-answer note PDF.

Payload: ``{enrollment_id, created_at, items: [{exam_id, exam_title?,
question_id, answer, correct_answer?, question_text?}]}``, validated at the
door by :func:`nlp.wrong_note.parse_note` (``wrong_note_empty``,
``wrong_note_invalid``, ``wrong_note_too_large``). The PDF goes to the
artifact store; the result is ``{pdf_key, pages, items, exams}``. See
``docs/jobs/wrong_note.md``.

Examples:
    >>> from ai_tasks.contracts import AIJob
    >>> ref = JobRef(id="1", type="wrong_note")
    >>> prepare(AIJob.from_dict({"id": 1, "type": "wrong_note", "payload": {
    ...     "enrollment_id": 7, "created_at": "2026-03-02", "items": []}}), ref)
    Traceback (most recent call last):
    ...
    ai_tasks.errors.JobPayloadError: wrong_note_empty: the note has no items
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ai_tasks.contracts import AIJob
from ai_tasks.jobs.base import JobRef, JobSpec, Step, StepContext
from ai_tasks.jobs.codec import StateCodec
from ai_tasks.jobs.payload import PayloadSpec
from ai_tasks.routing import CPU_VISION

__all__ = ["PAYLOAD", "PDF_KIND", "SPEC", "WrongNoteState", "prepare", "run"]

#: artifact kind of the PDF (its key ends in ``.pdf``).
PDF_KIND = "pdf"


def _note(payload: dict[str, Any]) -> dict[str, Any]:
    """The note library owns the payload's shape: the validated, cleaned note."""
    from nlp.wrong_note import parse_note

    return {"note": parse_note(payload).to_dict()}


#: The payload: the whole of it is the note (:func:`nlp.wrong_note.parse_note`).
PAYLOAD = PayloadSpec("wrong_note", parse=_note)


@dataclass(frozen=True)
class WrongNoteState(StateCodec):
    """What crosses the broker for one ``wrong_note`` job.

    Args:
        job: who the job is.
        note: the validated, cleaned note in the payload's shape
            (:meth:`nlp.wrong_note.WrongNote.to_dict`).
    """

    job: JobRef
    note: Mapping[str, Any] = field(default_factory=dict)


def prepare(job: AIJob, ref: JobRef) -> WrongNoteState:
    """The door: the payload checked by :data:`PAYLOAD` (secrets dropped), the first state."""
    return WrongNoteState(job=ref, **PAYLOAD.check(job.payload))


def run(state: WrongNoteState, ctx: StepContext) -> dict[str, Any]:
    """Render the PDF, store it, return its key and counts."""
    from ai_tasks.resources import artifact_store
    from nlp.wrong_note import parse_note, render_note

    rendered = render_note(parse_note(state.note))
    key = artifact_store().put(rendered.pdf, kind=PDF_KIND)
    return {"pdf_key": key, "pages": rendered.pages, "items": rendered.items, "exams": rendered.exams}


SPEC = JobSpec(type="wrong_note", queue=CPU_VISION, state=WrongNoteState, prepare=prepare, steps=(Step("ai.wrong_note", run, (60, 90)),))
