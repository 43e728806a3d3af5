"""``ai-worker omr grade-batch``: a stack of sheets to one CSV, here or on the cluster.

::

    omr grade-batch SOURCE --meta META.json --out results.csv [--key KEY.json]
        [--mode auto|photo|scan] [--processes N] [--summary SUMMARY.json] [--no-report]
        [--broker [--pipeline single|chain] [--timeout S]]

``SOURCE`` is a folder, a PDF (pages rendered at ``--dpi``, 200 by default),
a multi-page TIFF, a zip or one image (:func:`omr.batch.list_sheets`). Each
page is a sheet; a page that cannot be read or graded is one error row with
its reason code, never a failed batch. A progress bar (tqdm) runs on stderr;
at the end the CSV is written, the summary (:func:`omr.batch.summarize`:
per-question statistics, sheets needing review) goes to ``--summary``
(default: ``<csv>.summary.json``) and, readable, to stderr, and stdout gets
JSON ``{"csv", "images", "errors"}`` (``images``: sheets, pages included).
With ``--key``, the class report (:func:`omr.report_files.write_class_report`:
item analysis, KR-20, score distribution, a one-page PDF) is written beside
the CSV as ``<stem>.report.json``, ``<stem>.report.pdf`` and
``<stem>.item_analysis.csv``, unless ``--no-report``.

``--broker`` fans the sheets out over the Celery cluster: each page's bytes
go to the artifact store (``AI_WORKER_ARTIFACT_URL``, which the workers must
share: Redis for several machines) and one ``ai.job`` ``omr_grading`` job per
page, with ``image_key``, is sent as one group. The bar advances as pages
finish. Rows come from the same :func:`omr.batch.row_from_result`, and the
workers run the same step functions on the same bytes, so the CSV is the one
the in-process path writes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "grade_on_cluster", "run"]

#: How often the CLI asks the result backend which pages are done.
POLL_INTERVAL_S = 0.1
#: Default wait for a whole batch on the cluster (300 sheets at a few per second, with room).
DEFAULT_TIMEOUT_S = 1800.0
#: More processes than this is a typo, not a machine.
MAX_PROCESSES = 256


def add_arguments(b: argparse.ArgumentParser) -> None:
    """The ``grade-batch`` options (the ``omr`` command registers the sub-parser)."""
    from ai_tasks.cli.output import float_in, int_in
    from omr.batch import PDF_DPI, PDF_DPI_RANGE

    b.add_argument("source", help="a folder, PDF, multi-page TIFF, zip or image")
    b.add_argument("--meta", required=True, help="the sheet's meta.json")
    b.add_argument("--out", required=True, help="CSV path (its folder must exist)")
    b.add_argument("--mode", choices=("auto", "photo", "scan"), default="auto")
    b.add_argument("--key", default=None, help="answer key JSON")
    b.add_argument("--dpi", type=int_in(*PDF_DPI_RANGE), default=PDF_DPI,
                   help=f"PDF rendering resolution ({PDF_DPI_RANGE[0]}..{PDF_DPI_RANGE[1]}, default {PDF_DPI})")
    b.add_argument("--processes", type=int_in(1, MAX_PROCESSES), default=1,
                   help="grade in this many processes (in-process path; default 1)")
    b.add_argument("--summary", default=None, help="summary JSON path (default: <csv>.summary.json)")
    b.add_argument("--broker", action="store_true", help="grade on the Celery cluster (CELERY_BROKER_URL)")
    b.add_argument("--pipeline", choices=("single", "chain"), default=None, help="with --broker (default single)")
    b.add_argument("--timeout", type=float_in(1, 7 * 86_400), default=None,
                   help=f"seconds to wait, with --broker (default {DEFAULT_TIMEOUT_S:g})")
    b.add_argument("--progress", action="store_true", help="show the progress bar even when stderr is no TTY")
    b.add_argument("--no-report", dest="report", action="store_false",
                   help="with --key, skip the class report (<csv>.report.json/.report.pdf, <csv>.item_analysis.csv)")


def _check_options(args: argparse.Namespace) -> tuple[str, str] | None:
    """``(reason_code, message)`` for options that do not go together (each alone passed argparse), or None."""
    if not args.broker:
        given = [name for name in ("timeout", "pipeline") if getattr(args, name) is not None]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            return "option_invalid", f"--{' and --'.join(given)} only {verb} with --broker"
    elif args.processes != 1:
        return "option_invalid", "--processes applies to the in-process path; with --broker the workers grade"
    out = Path(args.out)
    if out.is_dir():
        return "output_unwritable", f"--out {out} is a folder; give the CSV file's path"
    if not out.parent.is_dir():
        return "output_unwritable", f"the folder of --out {out} does not exist"
    return None


def _bar(total: int, show: bool) -> Any:
    if not (show or sys.stderr.isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a core dependency
        return None
    return tqdm(total=total, unit="sheet", file=sys.stderr)


def run(args: argparse.Namespace, read_json: Callable[[str, str], Any]) -> int:
    """Run ``grade-batch``; returns the exit code (errors raise with a reason code)."""
    from ai_tasks.cli.output import fail
    from omr.batch import grade_sheets, list_sheets, summarize, write_csv
    from omr.meta import load_meta
    from omr.scoring import check_key

    wrong = _check_options(args)
    if wrong:
        return fail(wrong[0], f"ai-worker omr grade-batch: {wrong[1]}")
    sheet = load_meta(read_json(args.meta, "meta"))
    key = read_json(args.key, "key") if args.key else None
    if key is not None:
        check_key(key, sheet)
    report = key is not None and args.report
    if report:
        from omr.report_pdf import check_fonts

        check_fonts()  # before grading: a batch does not end in a font error
    refs = list_sheets(args.source, pdf_dpi=args.dpi)
    if not refs:
        return fail("input_empty", f"{args.source} holds no sheet (images, PDFs, TIFFs or zips of them)")
    bar = _bar(len(refs), args.progress)

    def progress(done: int, total: int, ref: Any) -> None:
        if bar is not None:
            bar.update(1)

    try:
        if args.broker:
            rows = grade_on_cluster(refs, sheet.raw, mode=args.mode, key=key, pipeline=args.pipeline or "single",
                                    timeout_s=args.timeout or DEFAULT_TIMEOUT_S, progress=progress)
        else:
            rows = grade_sheets(refs, sheet, mode=args.mode, key=key, processes=args.processes, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    write_csv(rows, sheet, args.out)
    summary = summarize(rows, sheet, key)
    summary_path = Path(args.summary) if args.summary else Path(args.out).with_suffix(".summary.json")
    summary_path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    sys.stderr.write(_readable(summary, summary_path))
    if report and key is not None:
        from omr.report_files import write_class_report

        paths = write_class_report(rows, sheet, key, args.out)
        sys.stderr.write(f"class report: {paths['pdf']} ({paths['json'].name}, {paths['items'].name})\n")
    errors = sum(1 for r in rows if r["status"] == "error")
    print(json.dumps({"csv": str(args.out), "images": len(rows), "errors": errors}))
    return 0


def _readable(summary: Mapping[str, Any], path: Path) -> str:
    """The summary for a person: counts, the questions most often wrong or flagged, who needs review."""
    lines = [f"{summary['graded']} of {summary['sheets']} sheets graded; errors: {summary['errors'] or 'none'}"]
    for q in summary["questions"]:
        right = f" {q['correct_pct']:5.1f}% right" if "correct_pct" in q else ""
        lines.append(f"  q{q['question']:<3}{right} flagged {q['flagged']:<3} blank {q['blank']:<3} {q['choices']}")
    review = summary["review"]
    lines.append(f"needs review ({len(review)}): {', '.join(review[:20])}{' ...' if len(review) > 20 else ''}")
    lines.append(f"summary: {path}")
    return "\n".join(lines) + "\n"


def grade_on_cluster(refs: Sequence[Any], meta: Mapping[str, Any], *, mode: str, key: Mapping[str, Any] | None,
                     pipeline: str = "single", timeout_s: float = DEFAULT_TIMEOUT_S,
                     progress: Callable[[int, int, Any], None] | None = None) -> list[dict[str, Any]]:
    """Grade ``refs`` (:class:`omr.batch.SheetRef`) as a group of ``ai.job`` jobs; one CSV row per sheet."""
    from celery import group

    from ai_tasks.celery import app
    from ai_tasks.resources import artifact_store
    from omr.batch import error_row, row_from_result
    from omr.errors import OMRError

    store = artifact_store()
    batch = uuid.uuid4().hex[:12]
    rows: dict[int, dict[str, Any]] = {}
    sigs, order = [], []
    done = 0

    def finished(i: int, row: dict[str, Any]) -> None:
        nonlocal done
        rows[i] = row
        done += 1
        if progress is not None:
            progress(done, len(refs), refs[i])

    for i, ref in enumerate(refs):
        try:
            data = ref.read()
        except OMRError as exc:
            finished(i, error_row(ref, exc.reason_code, exc.message))
            continue
        except OSError as exc:
            finished(i, error_row(ref, "input_unreadable", f"cannot read {ref.name}: {exc}"))
            continue
        payload: dict[str, Any] = {"image_key": store.put(data, kind="image"), "template_meta": dict(meta),
                                   "mode": mode, "pipeline": pipeline}
        if key is not None:
            payload["answer_key"] = dict(key)
        job = {"id": f"batch-{batch}-{i + 1}", "type": "omr_grading", "payload": payload}
        sigs.append(app.signature("ai.job", args=[job], queue="cpu-vision"))
        order.append(i)
    if sigs:
        pending = dict(zip(order, group(sigs).apply_async().results, strict=True))
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for i, res in list(pending.items()):
                if not res.ready():
                    continue
                out = res.get(propagate=False)
                del pending[i]
                if isinstance(out, dict) and out.get("status") == "DONE":
                    finished(i, row_from_result(refs[i], out["result"]))
                elif isinstance(out, dict) and isinstance(out.get("error"), dict):
                    finished(i, error_row(refs[i], out["error"]["reason_code"], out["error"]["message"]))
                else:
                    finished(i, error_row(refs[i], "job_failed", f"ended {res.state}: {out!r}"[:300]))
            if pending:
                time.sleep(POLL_INTERVAL_S)
        for i in pending:
            finished(i, error_row(refs[i], "result_timeout", f"no result within {timeout_s:g} s"))
    return [rows[i] for i in range(len(refs))]
