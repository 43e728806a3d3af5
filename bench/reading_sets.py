"""Every reading figure on three sets in one table: (a) our synth, (b) the independent generator, (c) real PDFs.

Issue 16, point 7. One run measures, on the same pages, our engines and the
legacy methods beside them, by calling the existing benches' pieces:

* **OCR** (:mod:`bench.ocr_sets`' page sets): CER without whitespace on clean
  renders and phone photos, overall and for ASCII characters; pages that say
  ``ok`` with CER above 30 %; CPU seconds per page. *legacy* is
  ``pytesseract.image_to_string(image, lang="kor+eng")``: the legacy worker's
  call, which is also plain Tesseract (one figure for both). CER is over all
  characters of the set (a page read as garbage weighs with its insertions);
  the median page's CER is printed beside it.
* **Segmentation** (:mod:`bench.segment`'s matching, :mod:`bench._segment_sets`'
  sets): F1 at IoU 0.75 and question numbers right on scans and photos where
  question truth exists ((a), (b)); headings and group instructions returned
  as questions where heading truth exists ((b); (c) from the text layer, see
  :mod:`bench._real_documents`); question boxes returned on (c)'s non-exam
  pages. *legacy* is the seed's contour heuristic (``bench/segment.py``).
* **Handwriting** (:func:`vision.handwriting.analyze_handwriting`, no blank
  unless said): (a) :mod:`bench.handwriting`'s written synth photos, AUROC
  (written vs printed-only) and Spearman against the true ink fraction, with
  and without the blank; (b) the independent photos, AUROC of pages with a
  student's pen in the margin against pages without (no ink truth, so no
  Spearman); (c) real printed pages photographed: the largest score
  (everything there is printed-only; target <= 0.05). *legacy* is the
  seed's Canny edge density.

Sets: (a) :mod:`vision.synth` pages and photos; (b) ``bench/ocr_independent.py``
and ``bench/segment_independent.py`` (own fonts, layouts, camera with grain
sigma 4-20); (c) ``bench/real_documents/`` (8 born-digital Korean PDFs from
3 sources, ``manifest.json``), ``--per-doc`` pages of each spread over it,
rendered at 200 dpi and photographed with (b)'s camera. No threshold is
tuned on (b) or (c).

Usage::

    nice .venv/bin/python bench/reading_sets.py                  # small: a few minutes on 2 loaded cores
    nice .venv/bin/python bench/reading_sets.py --full --json /tmp/reading_sets.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from _ocr_cer import CERCounter  # noqa: E402
from _real_documents import drop_leaders  # noqa: E402
from _segment_sets import Extra, Page  # noqa: E402
from ocr_sets import OK_BOUND, Tally, cpu_s, independent_set, page_cer, synth_set  # noqa: E402
from segment import Tally as SegCounts  # noqa: E402

from aicore.errors import AIError  # noqa: E402

SETS = ("a", "b", "c")
SET_NAMES = {"a": "(a) synth", "b": "(b) independent", "c": "(c) real"}
#: ``--full``: pages per OCR condition on (a)/(b), pages per document on (c), segmentation seeds, handwriting pages.
FULL = {"pages": 4, "per_doc": None, "seg_pages": 6, "hw_pages": 36}


# ---------------------------------------------------------------- OCR


def real_ocr_set(kind: str, per_doc: int | None, seed0: int) -> Iterator[tuple[np.ndarray, str]]:
    """Set (c) for OCR: ``per_doc`` pages of each document, clean or photographed."""
    from _real_documents import real_pages
    from ocr_independent import photograph

    for k, page in enumerate(real_pages(per_doc)):
        image = page.image()
        yield (photograph(image, seed0 + k) if kind == "photo" else image), page.truth


@dataclass
class OCRTally(Tally):
    """:class:`bench.ocr_sets.Tally` (``plain`` is the legacy call) plus its CPU time and our failed reads."""

    plain_cpu_s: float = 0.0
    errors: int = 0
    page_cer: list[float] = field(default_factory=list)
    plain_page_cer: list[float] = field(default_factory=list)


def run_ocr(args: argparse.Namespace) -> dict[tuple[str, str], OCRTally]:
    import pytesseract

    from vision.ocr.pipeline import read_page

    sources: dict[str, Callable[[str], Iterator[tuple[np.ndarray, str]]]] = {
        "a": lambda kind: synth_set(kind, args.pages, args.seed),
        "b": lambda kind: independent_set(kind, args.pages, args.seed),
        "c": lambda kind: real_ocr_set(kind, args.per_doc, args.seed),
    }
    out: dict[tuple[str, str], OCRTally] = {}
    for name in args.sets:
        for kind in ("clean", "photo"):
            t = out.setdefault((name, kind), OCRTally())
            for image, truth in sources[name](kind):
                c0 = cpu_s()
                try:
                    page = read_page(image)
                    text, status = drop_leaders(page.text), page.status
                except AIError as e:  # e.g. ocr_timeout on a loaded box: an empty read, counted
                    text, status = "", e.reason_code
                c1 = cpu_s()
                legacy = drop_leaders(str(pytesseract.image_to_string(image, lang="kor+eng")))
                t.cpu_s += c1 - c0
                t.plain_cpu_s += cpu_s() - c1
                t.pages += 1
                t.errors += status not in ("ok", "low_quality")
                one = CERCounter()
                one.add(truth, text)
                t.ours.add(truth, text)
                t.plain.add(truth, legacy)
                t.page_cer.append(one.cer())
                t.plain_page_cer.append(page_cer(truth, legacy))
                t.ok_over_bound += status == "ok" and one.cer() > OK_BOUND
                if status == "low_quality":
                    t.low_quality += 1
                    t.low_quality_cer.append(one.cer())
                if args.verbose:
                    print(f"  ocr {name}/{kind}: CER {one.cer():6.2%} {status}", flush=True)
    return out


# ---------------------------------------------------------------- segmentation and handwriting


@dataclass
class SegTally:
    """Per set, kind and method: :class:`bench.segment.Tally` plus :class:`bench._segment_sets.Extra`."""

    tally: SegCounts
    extra: Extra


@dataclass
class HandTally:
    """Writing scores: (score, label) per method; label is the true ink fraction (a), pen yes/no (b), 0 (c)."""

    rows: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def add(self, method: str, score: float, label: float) -> None:
        self.rows.setdefault(method, []).append((score, label))


def synth_seg_pages(n: int, seed0: int) -> Iterator[tuple[str, Page]]:
    """Set (a) for segmentation: ``n`` exam pages (1/2 columns, ko/en/mixed) as scans and photos."""
    from vision.synth.exam import render_exam_page
    from vision.synth.photo import map_box, to_photo

    for k in range(n):
        seed = seed0 + k
        page = render_exam_page(seed, columns=1 + k % 2, lang=("ko", "en", "mixed")[k % 3], dpi=200)
        truth = [(q.box_xywh, int(q.number)) for q in page.questions]
        yield "scan", Page(page.image, truth, [], [], f"synth {seed} scan")
        photo, matrix = to_photo(page.image, seed)
        yield "photo", Page(photo, [(map_box(b, matrix), n_) for b, n_ in truth], [], [], f"synth {seed} photo")


def run_segment_and_handwriting(args: argparse.Namespace) -> tuple[dict[tuple[str, str, str], SegTally], dict[str, HandTally]]:
    from _segment_sets import count_extra, independent_pages, real_pages, timed
    from handwriting import legacy_score
    from segment import _cpu_s, legacy_full, ours_full

    from vision.handwriting import analyze_handwriting

    methods = {"ours": ours_full("opencv"), "legacy": legacy_full}
    seg: dict[tuple[str, str, str], SegTally] = {}
    hand: dict[str, HandTally] = {name: HandTally() for name in args.sets}
    sources = {
        "a": lambda: synth_seg_pages(args.seg_pages, args.seg_seed),
        "b": lambda: ((k, p) for k, p in independent_pages(args.seg_pages, args.indep_seed) if k in ("scan", "photo")),
        "c": lambda: real_pages(args.per_doc),
    }
    for name in args.sets:
        for kind, page in sources[name]():
            kind = "photo" if kind == "photo" else "scan"
            for method, fn in methods.items():
                questions, others, dt, cpu = timed(fn, page.image, _cpu_s)
                st = seg.setdefault((name, kind, method), SegTally(SegCounts(), Extra()))
                st.tally.add(page.questions, questions, dt, cpu)
                count_extra(st.extra, page, [b for b, _ in questions], others)
            if name in ("b", "c") and kind == "photo":  # handwriting on the same photos
                label = float(any(n.startswith("pen") for n in page.notes))
                hand[name].add("ours", analyze_handwriting(page.image).writing_score, label)
                hand[name].add("legacy", legacy_score(page.image), label)
    if "a" in args.sets:
        run_synth_handwriting(args, hand["a"])
    return seg, hand


def run_synth_handwriting(args: argparse.Namespace, tally: HandTally) -> None:
    """Set (a) of :mod:`bench.handwriting`: written synth pages as photos, with and without the blank."""
    from handwriting import legacy_score, make_page

    from vision.handwriting import analyze_handwriting
    from vision.synth.photo import to_photo

    for i in range(args.hw_pages):
        seed = args.hw_seed * 1000 + i
        blank, written, ink, _, _ = make_page(seed)
        photo, _ = to_photo(written, seed)
        tally.add("ours", analyze_handwriting(photo).writing_score, ink)
        tally.add("ours, blank", analyze_handwriting(photo, blank).writing_score, ink)
        tally.add("legacy", legacy_score(photo), ink)


# ---------------------------------------------------------------- the table


def _pair(ours: str, legacy: str) -> str:
    return f"{ours} ({legacy})"


def _lowq(*tallies: OCRTally) -> str:
    cers = [c for t in tallies for c in t.low_quality_cer]
    return f"{len(cers)} of {sum(t.pages for t in tallies)}" + (f" ({_pct(float(np.mean(cers)))})" if cers else "")


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.1f} %"


def hand_figures(tally: HandTally) -> dict[str, str]:
    """The handwriting cells of one set: AUROC, Spearman (ink truth only), largest printed-only score."""
    from handwriting import auroc, spearman

    def split(method: str) -> tuple[list[float], list[float], list[float]]:
        rows = tally.rows.get(method, [])
        return [s for s, t in rows if t > 0], [s for s, t in rows if t == 0], [t for _, t in rows if t > 0]

    def au(method: str) -> str:
        pos, neg, _ = split(method)
        return f"{auroc(pos, neg):.3f}" if pos and neg else "–"

    def rho(method: str) -> str:
        pos, _, ink = split(method)
        # set (b)'s label is pen yes/no (all 1.0): no ranking truth
        return f"{spearman(pos, ink):.3f}" if len(set(ink)) > 2 else "–"

    def worst(method: str) -> str:
        _, neg, _ = split(method)
        return f"{max(neg):.3f}" if neg else "–"

    out: dict[str, str] = {}
    if not tally.rows:
        return out
    n_pos, n_neg = len(split("ours")[0]), len(split("ours")[1])
    out["hw AUROC, no blank"] = "–" if au("ours") == "–" else _pair(au("ours"), au("legacy")) + f" [{n_pos}+{n_neg}]"
    out["hw Spearman, no blank"] = "–" if rho("ours") == "–" else _pair(rho("ours"), rho("legacy"))
    if "ours, blank" in tally.rows:
        out["hw AUROC / Spearman, with blank"] = f"{au('ours, blank')} / {rho('ours, blank')}"
    out["hw largest score, printed-only pages (<= 0.05)"] = (
        "–" if worst("ours") == "–" else _pair(worst("ours"), worst("legacy")) + f" [{n_neg}]")
    return out


def table(ocr: dict[tuple[str, str], OCRTally], seg: dict[tuple[str, str, str], SegTally],
          hand: dict[str, HandTally], sets: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Rows ``(figure, {set: "ours (legacy)"})``."""
    rows: list[tuple[str, dict[str, str]]] = []

    def row(label: str, fn: Callable[[str], str]) -> None:
        rows.append((label, {s: fn(s) for s in sets}))

    def o(s: str, kind: str) -> OCRTally | None:
        return ocr.get((s, kind))

    for kind in ("clean", "photo"):
        row(f"OCR CER {kind}", lambda s, k=kind: _pair(_pct(t.ours.cer()), _pct(t.plain.cer())) if (t := o(s, k)) else "–")
        row(f"OCR CER {kind}, median page", lambda s, k=kind: _pair(_pct(float(np.median(t.page_cer))),
                                                                   _pct(float(np.median(t.plain_page_cer))))
            if (t := o(s, k)) and t.pages else "–")
        row(f"OCR ASCII CER {kind}", lambda s, k=kind: _pair(_pct(t.ours.cer("ascii")), _pct(t.plain.cer("ascii")))
            if (t := o(s, k)) else "–")
    row("OCR `ok` with CER > 30 %", lambda s: "–" if not (o(s, "clean") and o(s, "photo")) else
        f"{o(s, 'clean').ok_over_bound + o(s, 'photo').ok_over_bound}"
        f" of {o(s, 'clean').pages + o(s, 'photo').pages}")
    row("OCR `low_quality` pages (their mean CER)", lambda s: "–" if not (o(s, "clean") and o(s, "photo")) else
        _lowq(o(s, "clean"), o(s, "photo")))
    row("OCR pages failed with an error (ours)", lambda s: "–" if not (o(s, "clean") and o(s, "photo")) else
        str(o(s, "clean").errors + o(s, "photo").errors))
    row("OCR CPU s/page", lambda s: "–" if not (t := o(s, "clean")) else
        _pair(f"{t.cpu_s / max(1, t.pages):.2f}", f"{t.plain_cpu_s / max(1, t.pages):.2f}"))

    def sg(s: str, kind: str, m: str) -> SegTally | None:
        return seg.get((s, kind, m))

    for kind in ("scan", "photo"):
        def f1(s: str, k: str = kind) -> str:
            a, b = sg(s, k, "ours"), sg(s, k, "legacy")
            if not a or not b or not a.tally.truth:
                return "–"
            return _pair(f"{a.tally.f1_75():.3f}", f"{b.tally.f1_75():.3f}")

        def numbers(s: str, k: str = kind) -> str:
            a = sg(s, k, "ours")
            if not a or not a.tally.truth:
                return "–"
            return _pct(a.tally.numbers_right / a.tally.truth)

        def hq(s: str, k: str = kind) -> str:
            a, b = sg(s, k, "ours"), sg(s, k, "legacy")
            if not a or not b or not a.extra.headings:
                return "–"
            return _pair(f"{a.extra.heading_as_question}/{a.extra.headings}",
                         f"{b.extra.heading_as_question}")

        def stray(s: str, k: str = kind) -> str:
            a, b = sg(s, k, "ours"), sg(s, k, "legacy")
            if s != "c" or not a or not b:
                return "–"
            return _pair(str(a.extra.questions_returned), str(b.extra.questions_returned))

        row(f"seg F1@0.75 {kind}", f1)
        row(f"seg numbers right {kind}", numbers)
        row(f"seg headings as questions {kind}", hq)
        row(f"seg question boxes on non-exam pages {kind}", stray)
    figures = {s: hand_figures(hand.get(s, HandTally())) for s in sets}
    for label in ("hw AUROC, no blank", "hw Spearman, no blank", "hw AUROC / Spearman, with blank",
                  "hw largest score, printed-only pages (<= 0.05)"):
        row(label, lambda s, lab=label: figures[s].get(lab, "–"))
    return rows


def print_table(rows: list[tuple[str, dict[str, str]]], sets: list[str]) -> None:
    print("| figure | " + " | ".join(SET_NAMES[s] for s in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for label, cells in rows:
        print(f"| {label} | " + " | ".join(cells[s] for s in sets) + " |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="abc", help="which sets, e.g. abc or c")
    p.add_argument("--pages", type=int, default=2, help="OCR pages per set and condition on (a) and (b)")
    p.add_argument("--per-doc", type=int, default=2, help="pages of each real document (c) (default 2)")
    p.add_argument("--seg-pages", type=int, default=2, help="segmentation pages per kind on (a) and (b)")
    p.add_argument("--hw-pages", type=int, default=9, help="handwriting pages on (a)")
    p.add_argument("--full", action="store_true", help="4 OCR pages per condition, every usable real page, 6 seg pages, 36 handwriting pages")
    p.add_argument("--seed", type=int, default=7100, help="OCR seeds (as bench/ocr_sets.py)")
    p.add_argument("--seg-seed", type=int, default=1000, help="segmentation seeds on (a) (as bench/segment.py)")
    p.add_argument("--indep-seed", type=int, default=16000, help="segmentation seeds on (b) (as bench/segment.py)")
    p.add_argument("--hw-seed", type=int, default=1, help="handwriting seed (as bench/handwriting.py)")
    p.add_argument("--no-ocr", action="store_true", help="skip OCR (segmentation and handwriting only)")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--json", type=Path, help="write the table here")
    args = p.parse_args(argv)
    if args.full:
        args.pages, args.per_doc, args.seg_pages, args.hw_pages = (FULL["pages"], FULL["per_doc"], FULL["seg_pages"],
                                                                   FULL["hw_pages"])
    args.sets = [s for s in SETS if s in args.sets]
    w0, c0 = time.perf_counter(), cpu_s()
    ocr = {} if args.no_ocr else run_ocr(args)
    seg, hand = run_segment_and_handwriting(args)
    rows = table(ocr, seg, hand, args.sets)
    print(f"reading on three sets: OCR {args.pages} pages per condition on (a)/(b), {args.per_doc or 'all usable'} pages"
          f" per real document; segmentation {args.seg_pages} pages per kind on (a)/(b); handwriting {args.hw_pages}"
          f" pages on (a). Cells: ours (legacy; for OCR the legacy call is plain Tesseract).")
    print_table(rows, args.sets)
    print(f"\n{time.perf_counter() - w0:.0f} s wall, {cpu_s() - c0:.0f} s CPU (this process and Tesseract)")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: v for k, v in vars(args).items() if k != "json"},
                                         "rows": rows}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
