"""``ai-worker omr grade-batch --broker``: pages fanned out to real workers give the in-process CSV."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from omr.template import build_template
from tests.integration.conftest import ROOT, Workers
from tests.omr.conftest import filled_sheet, photograph


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder: a photo, a truncated JPEG, and a 3-page PDF whose middle page is blank."""
    d = tmp_path_factory.mktemp("stack")
    meta = build_template(10)
    (d / "meta.json").write_text(json.dumps(meta))
    (d / "key.json").write_text(json.dumps({"1": "2", "2": "3"}))
    src = d / "in"
    src.mkdir()
    photo = photograph(filled_sheet(meta, {1: ["2"], 2: ["3"]}, "12345678"), seed=3)
    (src / "a.jpg").write_bytes(cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes())
    (src / "b.jpg").write_bytes((src / "a.jpg").read_bytes()[:3000])
    pages = [Image.fromarray(p) for p in (filled_sheet(meta, {1: ["1"]}, "87654321"),
                                          np.full((300, 200), 255, np.uint8),
                                          filled_sheet(meta, {2: ["3"], 3: ["4"]}, None))]
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=150)
    (src / "c.pdf").write_bytes(buf.getvalue())
    return d


def _grade(workers: Workers, stack: Path, out: str, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "ai_tasks.cli", "omr", "grade-batch", str(stack / "in"),
           "--meta", str(stack / "meta.json"), "--key", str(stack / "key.json"), "--out", str(stack / out),
           "--progress", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=workers.env, cwd=ROOT, timeout=240)


@pytest.mark.parametrize("pipeline", ["single", "chain"])
def test_broker_batch_writes_the_in_process_csv(workers: Workers, stack: Path, pipeline: str) -> None:
    if not any(n.startswith("cpu-vision-") for n in workers.procs):
        workers.start("cpu-vision", tmp=workers.tmp)  # type: ignore[attr-defined]
    here = _grade(workers, stack, "here.csv")
    assert here.returncode == 0, here.stderr
    there = _grade(workers, stack, f"there-{pipeline}.csv", "--broker", "--pipeline", pipeline)
    assert there.returncode == 0, there.stderr
    assert json.loads(there.stdout)["images"] == 5 and "5/5" in there.stderr
    csv_here = (stack / "here.csv").read_text()
    assert (stack / f"there-{pipeline}.csv").read_text() == csv_here
    lines = csv_here.splitlines()
    assert lines[1].startswith("a.jpg,,ok,") and lines[2].startswith("b.jpg,,error,image_")
    assert lines[3].startswith("c.pdf,1,ok,") and lines[4].startswith("c.pdf,2,error,")
    summary = json.loads((stack / f"there-{pipeline}.summary.json").read_text())
    assert summary["sheets"] == 5 and summary["graded"] == 3
