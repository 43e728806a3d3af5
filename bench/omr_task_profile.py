"""Where the CPU of one OMR sheet goes inside a worker, by cause, for ``ai.job`` single and the chain.

Run (under ``flock /tmp/aiw-redis.lock``; Redis databases 5/6 as ``bench/omr_throughput.py``)::

    .venv/bin/python bench/omr_task_profile.py [--count 20] [--distinct 6]

A ``celery worker -P solo`` (every task in its main thread) runs under
``cProfile`` on the CPU clock (``time.process_time``), switched on after a
warm-up and off after the measured sheets (real-time signals, so Celery's own
``SIGUSR1`` is untouched). The profile is then split by cause: the engine
(decode, warp, identifier, answers, overlay), the artifact store, the page
hand-over's pack and unpack, the download, meta validation, result-backend
writes, publishes (hand-overs, events), acks, the ledger, redaction, the JSON
log line; "Celery and kombu, the rest" is what is left of the worker's CPU.
Figures are ms of CPU per sheet. cProfile slows Python-heavy code (Celery's
machinery) more than native code (OpenCV), so the split overstates the
machinery a little; compare paths and trees with it, not with wall times.
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from omr_throughput import _serve, _worker_pids, bench_env, make_photos, through_ai_job  # noqa: E402

ON, OFF = signal.SIGRTMIN + 1, signal.SIGRTMIN + 2

#: cause -> (file fragment, function name) pairs whose *cumulative* CPU is that cause. Chosen not to nest
#: in one another (the engine's functions are below the step functions, the store below none of the others).
CAUSES: dict[str, tuple[tuple[str, str], ...]] = {
    "engine: decode": (("omr/image.py", "decode_image"),),
    "engine: warp": (("omr/warp.py", "warp_page"),),
    "engine: identifier, answers, scoring": (
        ("omr/identifier.py", "read_identifier"), ("omr/answers.py", "read_answers"),
        ("omr/grade.py", "assemble_result"),
    ),
    "artifact store put/get/delete": (
        ("ai_tasks/artifacts.py", "put"), ("ai_tasks/artifacts.py", "get"), ("ai_tasks/artifacts.py", "delete"),
    ),
    "page hand-over pack/unpack, page facts": (
        ("omr/warp.py", "to_bytes"), ("omr/warp.py", "from_bytes"),
        ("omr/answers.py", "export_page_facts"), ("omr/answers.py", "import_page_facts"),
    ),
    "download (HTTP client, temp file)": (("ai_tasks/download.py", "download_to_dir"),),
    "meta validation (as_sheet_meta)": (("omr/meta.py", "as_sheet_meta"),),
    "state codec (to_dict/from_dict)": (
        ("ai_tasks/jobs/codec.py", "state_to_dict"), ("ai_tasks/jobs/codec.py", "state_from_dict"),
    ),
    "result backend writes": (("celery/backends/base.py", "store_result"),),
    "result backend reads": (("celery/backends/base.py", "get_task_meta"),),
    "publishes (hand-over, deliver, events)": (("kombu/messaging.py", "publish"),),
    "acks": (("kombu/message.py", "ack"),),
    "ledger settle": (("ai_tasks/ledger.py", "settle"),),
    "redaction (reprs, log line)": (("ai_tasks/redact.py", "redact"), ("ai_tasks/redact.py", "redacted_repr")),
    "logging (emit)": (("logging/__init__.py", "callHandlers"),),
}

_WRAPPER = r"""
import cProfile, signal, sys, time
prof = cProfile.Profile(time.process_time)
out = sys.argv.pop(1)
signal.signal(signal.SIGRTMIN + 1, lambda *a: prof.enable())
def _off(*a):
    prof.disable()
    prof.dump_stats(out)
signal.signal(signal.SIGRTMIN + 2, _off)
from celery.__main__ import main
sys.argv[0] = "celery"
main()
"""


def _stats_by_cause(path: Path, sheets: int) -> dict[str, float]:
    st = pstats.Stats(str(path))
    raw: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in raw.values())
    out: dict[str, float] = {}
    for cause, names in CAUSES.items():
        cum = 0.0
        for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in raw.items():
            if any(frag in file and func == name for frag, name in names):
                cum += ct
        out[cause] = 1000.0 * cum / sheets
    out["worker total"] = 1000.0 * total / sheets
    out["Celery and kombu, the rest"] = out["worker total"] - sum(v for k, v in out.items() if k != "worker total")
    return out


def profile_path(pipeline: str, photos: list[bytes], meta: dict[str, Any], count: int) -> dict[str, float]:
    from _worker import worker  # type: ignore[import-not-found]

    from ai_tasks.celery import app

    env = bench_env()
    out = Path(tempfile.mkstemp(suffix=".prof")[1])

    def dump(proc: Any) -> None:
        proc.send_signal(OFF)
        deadline = time.monotonic() + 30
        while out.stat().st_size == 0 and time.monotonic() < deadline:
            time.sleep(0.1)

    try:
        with _serve(photos) as base, worker("ai_tasks", "cpu-vision", env, 1, ("-P", "solo"),
                                            launcher=("-c", _WRAPPER, str(out)), on_stop=dump) as node:
            through_ai_job(app, base, meta, 4, pipeline, f"warm-{pipeline}")
            os.kill(_worker_pids(node)[0], ON)
            _, ok, _ = through_ai_job(app, base, meta, count, pipeline, pipeline)
        if ok != count:
            print(f"  {pipeline}: only {ok} of {count} DONE")
        return _stats_by_cause(out, count)
    finally:
        if os.environ.get("KEEP_PROFILE"):
            print(f"  {pipeline}: profile kept in {out}")
        else:
            out.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20, help="measured sheets per path")
    parser.add_argument("--distinct", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    photos, meta = make_photos(args.distinct, args.seed)
    cols = {p: profile_path(p, photos, meta, args.count) for p in ("single", "chain")}
    print(f"CPU ms per sheet by cause, {args.count} sheets per path, worker -P solo under cProfile:")
    print(f"  {'cause':<42} {'single':>8} {'chain':>8} {'chain-single':>12}")
    for cause in cols["single"]:
        s, c = cols["single"][cause], cols["chain"][cause]
        print(f"  {cause:<42} {s:8.2f} {c:8.2f} {c - s:12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
