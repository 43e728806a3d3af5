"""Every state's JSON and every job's door, pinned byte for byte.

``assets/state_snapshots.json`` holds ``json.dumps(state.to_dict(),
sort_keys=True)`` of representative states of every job (each stage of the
OMR chain, defaults and every option set), and of the first state that
``prepare`` builds from valid payloads. ``assets/rejections.json`` holds the
``reason_code: message`` of invalid payloads, several per job. Both were
recorded from the hand-written ``to_dict``/``from_dict`` and per-job payload
checks that the generic codec and the declarative payload checker replaced:
they are what a message between steps and a refusal at the door look like,
and changing either is a change of contract, made on purpose.

Regenerate (only for an intended change, and say so in the commit)::

    PYTHONPATH=$PWD python -m tests.ai_tasks.jobs.test_snapshots
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ai_tasks.jobs import JOBS
from ai_tasks.jobs.base import JobRef
from ai_tasks.jobs.embedding import EmbeddingState
from ai_tasks.jobs.handwriting import HandwritingState
from ai_tasks.jobs.ocr import OCRState
from ai_tasks.jobs.omr import OMRState, TemplateFetch
from ai_tasks.jobs.problem import ProblemState
from ai_tasks.jobs.runner import start_job
from ai_tasks.jobs.segmentation import SegmentationState
from ai_tasks.jobs.video import VideoState
from ai_tasks.jobs.wrong_note import WrongNoteState
from ai_tasks.settings import get_settings

ASSETS = Path(__file__).parent / "assets"
STATES_FILE = ASSETS / "state_snapshots.json"
REJECTIONS_FILE = ASSETS / "rejections.json"
#: Settings that change a door's defaults: unset, so the goldens do not depend on the shell.
_DEFAULT_ENV = ("OCR_ENGINE", "QUESTION_SEGMENTATION_ENGINE", "EMBEDDING_BACKEND")

URL = "https://s3.example.com/bucket/page.png?X-Amz-Signature=abc"
REF = JobRef(id="42", type="ocr")
FULL_REF = JobRef(id="42", type="omr_grading", source_id="7", result_id="r-42")
LEGACY_QUESTIONS = [
    {"question_number": 1, "choices": [{"label": str(i), "center": {"x": 40.0 + 8 * i, "y": 50.0}, "r": 2.5}
                                       for i in range(1, 6)]},
    {"question_number": 2, "choices": [{"label": str(i), "center": {"x": 40.0 + 8 * i, "y": 60.0}, "r": 2.5}
                                       for i in range(1, 6)]},
]
NOTE = {
    "enrollment_id": 7,
    "created_at": "2026-03-02",
    "items": [{"exam_id": 1, "exam_title": "3월 모의고사", "question_id": 4, "answer": "2", "correct_answer": "3",
               "question_text": "다음 중 옳은 것은?"}],
}


def _omr_stages() -> dict[str, Any]:
    """The OMR state as it leaves each step of the chain but the last (and a PDF stack)."""
    start = OMRState(job=FULL_REF, mode="scan", download_url=URL, template_meta={"version": "v1", "page": {"w": 297}},
                     meta_source="payload", answer_key={"1": "3", "2": ["1", "2"]}, overlay=True)
    fetched = OMRState(job=FULL_REF, mode="scan", meta_source="payload", answer_key={"1": "3"}, overlay=True,
                       meta_key="meta/abc.json", meta_hash="abc123", image_key="image/def.bin",
                       timings_ms={"fetch": 12.5})
    return {
        "omr_grading/empty": OMRState(job=REF),
        "omr_grading/prepared_meta": start,
        "omr_grading/prepared_fetch": OMRState(job=FULL_REF, download_url=URL, meta_source="api",
                                               template_fetch=TemplateFetch(base_url="https://api.example", question_count=20)),
        "omr_grading/prepared_fetch_no_base": OMRState(job=FULL_REF, image_key="image/batch-1.bin", meta_source="api",
                                                       template_fetch=TemplateFetch(base_url=None, question_count=1)),
        "omr_grading/after_fetch": fetched,
        "omr_grading/after_fetch_pdf": OMRState(job=FULL_REF, meta_source="payload", meta_key="meta/abc.json",
                                                meta_hash="abc123", image_key="image/pdf.bin", page_count=3,
                                                timings_ms={"fetch": 3.0}),
    }


def representative_states() -> dict[str, Any]:
    """Name -> state: defaults and every option set, for every state dataclass."""
    states: dict[str, Any] = {
        "job_ref/minimal": REF,
        "job_ref/full": FULL_REF,
        "omr_grading/template_fetch": TemplateFetch(base_url="https://api.example", question_count=20),
        **_omr_stages(),
        "ocr/defaults": OCRState(job=REF, download_url=URL),
        "ocr/options": OCRState(job=FULL_REF, download_url=URL, engine="google", language="kor", dpi=300,
                                columns=False, circled=True, deskew=False),
        "question_segmentation/defaults": SegmentationState(job=REF, download_url=URL),
        "question_segmentation/options": SegmentationState(job=FULL_REF, download_url=URL, engine="yolo", crops=True,
                                                           overlay=True),
        "handwriting_analysis/defaults": HandwritingState(job=REF, download_url=URL),
        "handwriting_analysis/options": HandwritingState(job=FULL_REF, download_url=URL,
                                                         reference_url="https://s3.example.com/blank.pdf", overlay=True),
        "homework_video_analysis/defaults": VideoState(job=REF, download_url=URL),
        "homework_video_analysis/every": VideoState(job=FULL_REF, download_url=URL, sample_every_s=0.5,
                                                    min_frame_count=0),
        "homework_video_analysis/stride": VideoState(job=FULL_REF, download_url=URL, frame_stride=15,
                                                     min_frame_count=100, stride_given=True),
        "embedding/defaults": EmbeddingState(job=REF, texts=()),
        "embedding/options": EmbeddingState(job=FULL_REF, texts=("가나다", "", "x y"), backend="local"),
        "problem_generation/text": ProblemState(job=FULL_REF, ocr_text="1. 다음 중 옳은 것은?\n① 1  ② 2"),
        "wrong_note/empty": WrongNoteState(job=REF),
        "wrong_note/note": WrongNoteState(job=FULL_REF, note=NOTE),
    }
    return states


#: Valid payloads per job: the first state ``prepare`` builds from each.
VALID_PAYLOADS: dict[str, list[dict[str, Any]]] = {
    "omr_grading": [
        {"download_url": f" {URL} ", "template_fetch": {"base_url": "https://api.example"}, "cookie": "s=1x",
         "question_count": "20", "mode": "PHOTO", "overlay": True, "answer_key": {"1": "3"}, "Authorization": "Bearer x"},
        {"download_url": URL, "questions": LEGACY_QUESTIONS},
        {"image_key": "0123456789abcdef0123456789abcdef.image", "template_fetch": {"base_url": None}, "question_count": 5,
         "pipeline": "single"},
    ],
    "ocr": [
        {"download_url": URL},
        {"download_url": URL, "engine": "Tesseract", "language": "eng", "api_key": "sk-x",
         "options": {"dpi": 72.0, "columns": False, "circled": False, "deskew": False}},
    ],
    "question_segmentation": [
        {"download_url": URL},
        {"download_url": URL, "engine": "OPENCV", "crops": True, "overlay": False, "token": "t"},
    ],
    "handwriting_analysis": [
        {"download_url": URL},
        {"download_url": URL, "reference_url": " https://s3.example.com/blank.png ", "overlay": True},
    ],
    "homework_video_analysis": [
        {"download_url": URL},
        {"download_url": URL, "frame_stride": "5", "min_frame_count": 0},
        {"download_url": URL, "sample_every_s": "0.25", "frame_stride": 3},
    ],
    "embedding": [
        {"texts": [" a ", None, "b"]},
        {"texts": [], "backend": "OpenAI"},
    ],
    "problem_generation": [{"ocr_text": "  1+1=?  "}],
    "wrong_note": [NOTE],
}

#: Invalid payloads per job, in the order the door checks them.
INVALID_PAYLOADS: dict[str, list[Any]] = {
    "omr_grading": [
        {},
        {"download_url": URL},
        {"download_url": URL, "surprise": 1, "questions": LEGACY_QUESTIONS},
        {"download_url": 123, "questions": LEGACY_QUESTIONS},
        {"download_url": "https://b.example/" + "a" * 9000, "questions": LEGACY_QUESTIONS},
        {"download_url": URL, "image_key": "0123456789abcdef0123456789abcdef.image", "questions": LEGACY_QUESTIONS},
        {"image_key": "../etc/passwd", "questions": LEGACY_QUESTIONS},
        {"download_url": URL, "mode": "x-ray", "questions": LEGACY_QUESTIONS},
        {"download_url": URL, "overlay": "yes", "questions": LEGACY_QUESTIONS},
        {"download_url": URL, "answer_key": [1, 2], "questions": LEGACY_QUESTIONS},
        {"download_url": URL, "answer_key": {"x": "1"}, "questions": LEGACY_QUESTIONS},
        {"download_url": URL, "template_meta": [1]},
        {"download_url": URL, "template_meta": {"version": "v0"}},
        {"download_url": URL, "template_fetch": "https://api.example", "question_count": 20},
        {"download_url": URL, "template_fetch": {"base_url": "https://api.example"}},
        {"download_url": URL, "template_fetch": {"base_url": "https://api.example"}, "question_count": 0},
        {"download_url": URL, "template_fetch": {"base_url": "https://api.example"}, "question_count": "x"},
        {"download_url": URL, "template_fetch": {"base_url": 5}, "question_count": 20},
        {"download_url": URL, "questions": {"1": "a"}},
        {"download_url": URL, "questions": [{"question_number": 1}]},
        {"download_url": URL, "questions": LEGACY_QUESTIONS, "pipeline": "fast"},
    ],
    "ocr": [
        {},
        {"download_url": URL, "surprise": 1},
        {"download_url": ["x"]},
        {"download_url": URL, "engine": "paddle"},
        {"download_url": URL, "language": "jpn"},
        {"download_url": URL, "options": [1]},
        {"download_url": URL, "options": {"psm": 6}},
        {"download_url": URL, "options": {"dpi": 20000}},
        {"download_url": URL, "options": {"dpi": "high"}},
        {"download_url": URL, "options": {"dpi": True}},
        {"download_url": URL, "options": {"dpi": 150.5}},
        {"download_url": URL, "options": {"columns": "no"}},
        {"download_url": URL, "pipeline": "fast"},
    ],
    "question_segmentation": [
        {},
        {"download_url": URL, "boxes": True},
        {"download_url": URL, "engine": "sam"},
        {"download_url": URL, "crops": "yes"},
        {"download_url": URL, "overlay": 1},
    ],
    "handwriting_analysis": [
        {},
        {"download_url": URL, "mode": "x"},
        {"download_url": URL, "reference_url": 5},
        {"download_url": URL, "overlay": "1"},
    ],
    "homework_video_analysis": [
        {},
        {"download_url": URL, "fps": 30},
        {"download_url": URL, "sample_every_s": "x"},
        {"download_url": URL, "sample_every_s": 0},
        {"download_url": URL, "sample_every_s": True},
        {"download_url": URL, "sample_every_s": [1]},
        {"download_url": URL, "sample_every_s": "nan"},
        {"download_url": URL, "frame_stride": 0},
        {"download_url": URL, "frame_stride": 1.5},
        {"download_url": URL, "min_frame_count": -1},
    ],
    "embedding": [
        {},
        {"texts": "a"},
        {"texts": [1]},
        {"texts": ["a"], "backend": "cohere"},
        {"texts": ["a"], "model": "x"},
        {"texts": ["a" * 9000]},
    ],
    "problem_generation": [
        {},
        {"ocr_text": 5},
        {"ocr_text": "   "},
        {"ocr_text": "x", "model": "gpt"},
        {"ocr_text": "x" * 100_000},
    ],
    "wrong_note": [
        {},
        {**NOTE, "items": []},
        {**NOTE, "items": [{"exam_id": 1}]},
        {**NOTE, "surprise": 1},
    ],
}


def _dump(data: Any) -> str:
    """What the goldens pin: the JSON text of a state (as the broker carries it, keys sorted)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _prepare(job_type: str, payload: Any) -> Any:
    _, state, _ = start_job({"id": 42, "type": job_type, "payload": payload, "source_id": 7}, result_id="r-42")
    return state


def collect_states() -> dict[str, Any]:
    """Name -> ``state.to_dict()`` of every representative and every prepared state."""
    out = {name: state.to_dict() for name, state in representative_states().items()}
    for job_type, payloads in VALID_PAYLOADS.items():
        for i, payload in enumerate(payloads):
            out[f"{job_type}/prepare_{i}"] = _prepare(job_type, payload).to_dict()
    return out


def collect_rejections() -> dict[str, str]:
    out: dict[str, str] = {}
    for job_type, payloads in INVALID_PAYLOADS.items():
        for i, payload in enumerate(payloads):
            try:
                _prepare(job_type, payload)
            except Exception as exc:
                out[f"{job_type}/{i:02d}"] = f"{getattr(exc, 'reason_code', type(exc).__name__)}: {exc.message}"  # type: ignore[attr-defined]
            else:
                out[f"{job_type}/{i:02d}"] = "ACCEPTED"
    return out


def _text(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


@pytest.fixture(autouse=True)
def _default_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _DEFAULT_ENV:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_snapshots_cover_every_job() -> None:
    states = representative_states()
    assert {name.split("/")[0] for name in states} - {"job_ref"} == set(JOBS)
    assert {type(state) for state in states.values()} >= {spec.state for spec in JOBS.values()}
    assert set(VALID_PAYLOADS) == set(JOBS) == set(INVALID_PAYLOADS)


def test_state_json_is_byte_identical_to_the_golden() -> None:
    golden = json.loads(STATES_FILE.read_text(encoding="utf-8"))
    got = collect_states()
    assert sorted(got) == sorted(golden)
    for name in golden:
        assert _dump(got[name]) == _dump(golden[name]), name


@pytest.mark.parametrize("name", sorted(representative_states()))
def test_state_round_trips_through_json(name: str) -> None:
    state = representative_states()[name]
    assert type(state).from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_prepared_states_round_trip_through_json() -> None:
    for job_type, payloads in VALID_PAYLOADS.items():
        for payload in payloads:
            state = _prepare(job_type, payload)
            assert JOBS[job_type].state.from_dict(json.loads(json.dumps(state.to_dict()))) == state, job_type


def test_rejections_are_byte_identical_to_the_golden() -> None:
    golden = json.loads(REJECTIONS_FILE.read_text(encoding="utf-8"))
    got = collect_rejections()
    assert sorted(got) == sorted(golden)
    for name in golden:
        assert got[name] == golden[name], name
    assert "ACCEPTED" not in got.values()


def test_no_secret_reaches_a_state() -> None:
    dumped = _dump(collect_states())
    assert "s=1x" not in dumped and "sk-x" not in dumped and '"token"' not in dumped and "Bearer" not in dumped


def _write() -> None:  # pragma: no cover - run by hand for an intended change
    for name in _DEFAULT_ENV:
        os.environ.pop(name, None)
    get_settings.cache_clear()
    ASSETS.mkdir(exist_ok=True)
    STATES_FILE.write_text(_text(collect_states()), encoding="utf-8")
    REJECTIONS_FILE.write_text(_text(collect_rejections()), encoding="utf-8")
    sys.stdout.write(f"wrote {STATES_FILE} and {REJECTIONS_FILE}\n")


if __name__ == "__main__":  # pragma: no cover
    import tests.conftest  # noqa: F401  (the test environment, before settings are read)

    _write()
