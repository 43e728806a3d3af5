"""Statements in the docs that the code must keep true (issue 15, point 10)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER_WORDS = {6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}


def test_readme_lists_every_job_type_and_api_md_counts_them() -> None:
    from ai_tasks.jobs import JOBS

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## What it does", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)
    assert sorted(table) == sorted(JOBS)
    api = (ROOT / "docs" / "api.md").read_text()
    assert f"the {NUMBER_WORDS[len(JOBS)]} in the README" in api


def test_llm_rate_limit_setting_becomes_the_tasks_rate_limit() -> None:
    """docs/jobs/problem.md and docs/configuration.md: AI_WORKER_LLM_RATE_LIMIT is ai.problem.generate's rate_limit."""
    code = "import json, celeryconfig; print(json.dumps(celeryconfig.task_annotations['ai.problem.generate']))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_WORKER_")}
    for value, expected in (("60/m", "60/m"), (None, None)):
        run_env = {**env, "PYTHONPATH": str(ROOT), **({"AI_WORKER_LLM_RATE_LIMIT": value} if value else {})}
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=run_env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr[-2000:]
        assert json.loads(out.stdout).get("rate_limit") == expected
