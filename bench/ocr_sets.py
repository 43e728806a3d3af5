"""OCR on three sets side by side: (a) our synth, (b) the independent generator, (c) real PDFs.

Issue 16, point 7. Per set and condition (clean render, phone photo) it prints
our pipeline's CER (whitespace removed; overall, Hangul, ASCII), plain
Tesseract's CER on the same images (``image_to_string(lang="kor+eng")``, the
legacy call), CPU seconds per page, and the honesty of ``status``: pages
that say ``ok`` with CER above 30 %, pages flagged ``low_quality``, and the
flagged pages' CER. Then the confidence calibration (CER per confidence
decile, all pages of all sets) and, for (c), the text layer: ``pdf_text``'s
CER against pdfium's text and its milliseconds per page.

* (a) ``vision.synth`` exam pages and their photos (the generator the
  pipeline was developed beside);
* (b) :mod:`bench.ocr_independent` (own fonts, layouts, camera with grain sigma 4-20);
* (c) ``bench/real_documents/*/*.pdf``: born-digital Korean PDFs with
  permissive licences (``manifest.json``, read by :mod:`bench._real_documents`);
  the text layer is the truth; pages with a usable layer and at least 150
  characters, rendered at 200 dpi and photographed with (b)'s camera. No
  threshold is tuned on (c).

Usage::

    nice .venv/bin/python bench/ocr_sets.py --pages 4 --json /tmp/ocr_sets.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from _ocr_cer import CERCounter  # noqa: E402
from _ocr_errors import describe, page_errors  # noqa: E402
from _real_documents import drop_leaders  # noqa: E402
from ocr_independent import photograph, render_contents, render_page  # noqa: E402

from vision.ocr.pipeline import read_page  # noqa: E402

REAL = Path(__file__).resolve().parent / "real_documents"
OK_BOUND = 0.30
LOW_QUALITY_BOUND = 0.15


def cpu_s() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def synth_set(kind: str, n: int, seed0: int) -> Iterator[tuple[np.ndarray, str]]:
    from vision.synth.exam import render_exam_page
    from vision.synth.photo import to_photo

    for k in range(n):
        page = render_exam_page(seed0 + k, columns=1 + k % 2, lang="ko" if k % 3 else "en", dpi=200)
        yield (to_photo(page.image, seed0 + k)[0] if kind == "photo" else page.image), page.text


def independent_set(kind: str, n: int, seed0: int) -> Iterator[tuple[np.ndarray, str]]:
    for k in range(n):
        page = render_page(seed0 + k, columns=1 + k % 2)
        yield (photograph(page.image, page.seed) if kind == "photo" else page.image), page.text


def real_pages() -> list[tuple[Path, int, str]]:
    """``(pdf, page index, truth)`` of every real page with a usable layer of enough characters (:mod:`bench._real_documents`)."""
    from _real_documents import real_pages as manifest_pages

    return [(p.document.pdf, p.index, p.truth) for p in manifest_pages()]


def real_set(kind: str, n: int, seed0: int) -> Iterator[tuple[np.ndarray, str]]:
    from vision.pages import load_pages

    pages = real_pages()
    step = max(1, len(pages) // max(1, n))
    for k, (pdf, index, truth) in enumerate(pages[::step][:n]):
        image = next(load_pages(pdf.read_bytes(), max_pages=200, max_pixels=10**8, dpi=200, only={index})).image
        yield (photograph(image, seed0 + k) if kind == "photo" else image), truth


def contents_set(kind: str, n: int, seed0: int) -> Iterator[tuple[np.ndarray, str]]:
    """(b)'s contents pages with dot leaders (:func:`ocr_independent.render_contents`); truth without leaders."""
    for k in range(n):
        page = render_contents(seed0 + k)
        yield (photograph(page.image, page.seed) if kind == "photo" else page.image), page.text


def real_contents_set(kind: str, n: int, seed0: int) -> Iterator[tuple[np.ndarray, str]]:
    """(c)'s pages with dot leaders in their text layer (held out: looked at, never tuned on)."""
    from _real_documents import DPI, LEADER, MAX_PAGES, MAX_PIXELS, documents, usable_pages

    from vision.ocr.textlayer import read_text_layers

    pages = []
    for doc in documents():
        layers = read_text_layers(doc.pdf.read_bytes(), dpi=DPI, max_pages=MAX_PAGES, max_pixels=MAX_PIXELS)
        pages += [p for p in usable_pages(doc) if LEADER.search(layers[p.index].page.text)]
    for k, p in enumerate(pages[:n]):
        image = p.image()
        yield (photograph(image, seed0 + k) if kind == "photo" else image), p.truth


SETS = {"a_synth": synth_set, "b_independent": independent_set, "b_contents": contents_set, "c_real": real_set,
        "c_contents": real_contents_set}


@dataclass
class Tally:
    ours: CERCounter = field(default_factory=CERCounter)
    plain: CERCounter = field(default_factory=CERCounter)
    cpu_s: float = 0.0
    pages: int = 0
    ok_over_bound: int = 0
    low_quality: int = 0
    low_quality_cer: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def page_cer(truth: str, text: str) -> float:
    c = CERCounter()
    c.add(truth, text)
    return c.cer()


def run(args: argparse.Namespace) -> dict[str, object]:
    import pytesseract

    points: list[tuple[float, float, str, str]] = []  # (confidence, CER, set, status)
    rows: dict[str, dict[str, float]] = {}
    warm_up()
    for name in args.sets:
        for kind in ("clean", "photo"):
            t = Tally()
            for image, truth in SETS[name](kind, args.pages, args.seed):
                c0 = cpu_s()
                page = read_page(image)
                t.cpu_s += cpu_s() - c0
                page = replace(page, lines=tuple(replace(ln, text=drop_leaders(ln.text)) for ln in page.lines))
                t.pages += 1
                t.ours.add(truth, page.text)
                if args.errors:
                    t.errors += page_errors(truth, page.text)
                cer = page_cer(truth, page.text)
                chars = sum(len(line.text) for line in page.lines)
                conf = sum(line.confidence * len(line.text) for line in page.lines) / chars if chars else 0.0
                points.append((conf, cer, name, page.status))
                if page.status == "ok" and cer > OK_BOUND:
                    t.ok_over_bound += 1
                if page.status == "low_quality":
                    t.low_quality += 1
                    t.low_quality_cer.append(cer)
                if not args.no_plain:
                    t.plain.add(truth, str(pytesseract.image_to_string(image, lang="kor+eng")))
                print(f"  {name}/{kind}: CER {cer:6.2%} conf {conf:.2f} {page.status} {page.reason}", flush=True)
            label = f"{name}/{kind}"
            rows[label] = {
                "pages": t.pages, "cer": t.ours.cer(), "hangul": t.ours.cer("hangul"), "ascii": t.ours.cer("ascii"),
                "plain_cer": t.plain.cer() if not args.no_plain else float("nan"),
                "s_per_page_cpu": t.cpu_s / max(1, t.pages), "ok_over_30": t.ok_over_bound, "low_quality": t.low_quality,
            }
            print(f"{label:22s} CER {t.ours.cer():6.2%} hangul {t.ours.cer('hangul'):6.2%} ascii {t.ours.cer('ascii'):6.2%} | "
                  f"plain {rows[label]['plain_cer']:6.2%} | {rows[label]['s_per_page_cpu']:.2f} s/page cpu | "
                  f"ok with CER>30%: {t.ok_over_bound} | low_quality {t.low_quality}/{t.pages}", flush=True)
            if args.errors:
                print(f"{'':22s} errors: {describe(t.errors, t.ours.chars['all'])}", flush=True)
    calibration = deciles(points)
    print("\nconfidence decile   pages  mean conf  CER")
    for lo, hi, count, conf, cer in calibration:
        print(f"  {lo:.2f}-{hi:.2f}        {count:4d}     {conf:.2f}    {cer:6.2%}")
    if args.calibration:
        print_calibration(points)
    text_layer = pdf_text_check() if "c_real" in args.sets else {}
    print("\npdf_text:", text_layer)
    return {"rows": rows, "calibration": calibration, "points": points, "pdf_text": text_layer}


def warm_up() -> None:
    """Load the Tesseract models and the circled-number templates before the clock starts.

    A worker process pays this once (~3 s CPU), not per page; left in, it
    added ~0.75 s to each page of a 4-page run.
    """
    from vision.ocr.jamo import classify_jamo
    from vision.ocr.tesseract import TesseractConfig, read_region
    from vision.synth.exam import render_exam_page

    page = render_exam_page(1, columns=1, lang="ko", dpi=100).image[:400]
    read_page(page)
    for lang in ("kor", "eng"):  # the second look's models
        read_region(page, TesseractConfig(lang=lang))
    classify_jamo(np.ones((10, 10), np.uint8))  # the jamo templates (0.37 s)


def print_calibration(points: list[tuple[float, float, str, str]]) -> None:
    """The calibration as a Markdown table (CER per confidence decile, all sets) and the status check.

    Per decile: pages, confidence range and mean, mean and worst CER, and how
    many were flagged ``low_quality``. Then the two rules of issue 16: pages
    whose CER is above :data:`LOW_QUALITY_BOUND` should be flagged (how many
    are not), and no page above :data:`OK_BOUND` may say ``ok``.
    """
    ordered = sorted(points)
    print("\n| decile | confidence | pages | mean conf | mean CER | worst CER | low_quality | sets (a/b/c) |")
    print("|---|---|---|---|---|---|---|---|")
    for k in range(10):
        part = ordered[k * len(ordered) // 10 : (k + 1) * len(ordered) // 10]
        if not part:
            continue
        sets = "/".join(str(sum(1 for p in part if p[2].startswith(s))) for s in "abc")
        print(f"| {k + 1} | {part[0][0]:.2f}-{part[-1][0]:.2f} | {len(part)} | {np.mean([p[0] for p in part]):.2f} | "
              f"{np.mean([p[1] for p in part]):.1%} | {max(p[1] for p in part):.1%} | "
              f"{sum(p[3] == 'low_quality' for p in part)} | {sets} |")
    over15 = [p for p in points if p[1] > LOW_QUALITY_BOUND]
    ok_over30 = [p for p in points if p[1] > OK_BOUND and p[3] == "ok"]
    flagged_fine = [p for p in points if p[1] <= LOW_QUALITY_BOUND and p[3] == "low_quality"]
    print(f"\npages {len(points)}; CER > {LOW_QUALITY_BOUND:.0%}: {len(over15)}, of which flagged low_quality "
          f"{sum(p[3] == 'low_quality' for p in over15)}; 'ok' with CER > {OK_BOUND:.0%}: {len(ok_over30)}; "
          f"flagged with CER <= {LOW_QUALITY_BOUND:.0%}: {len(flagged_fine)}")


def deciles(points: list[tuple[float, float, str, str]]) -> list[tuple[float, float, int, float, float]]:
    """Pages sorted by confidence, cut in ten groups: (lowest, highest conf, pages, mean conf, mean CER)."""
    ordered = sorted(points)
    out = []
    for k in range(10):
        part = ordered[k * len(ordered) // 10 : (k + 1) * len(ordered) // 10]
        if part:
            out.append((part[0][0], part[-1][0], len(part), float(np.mean([p[0] for p in part])),
                        float(np.mean([p[1] for p in part]))))
    return out


def pdf_text_check() -> dict[str, float]:
    """``pdf_text`` on each real PDF: CER against pdfium's own text, and ms per page of the layer path.

    The time is :func:`vision.ocr.textlayer.read_text_layers` on the whole PDF (every page's layer read
    and judged, usable or not) divided by its pages, CPU and wall: what ``pdf_text`` costs. The pages
    without a usable layer are then rendered and OCR'd by ``recognize``; that second figure is the OCR's,
    not the text layer's, and is printed apart (``ocr_pages``).
    """
    import pypdfium2 as pdfium

    from vision.ocr import OCROptions, recognize
    from vision.ocr.textlayer import read_text_layers

    options = OCROptions(engine="tesseract")
    counter, pages, layer_pages, wall, cpu = CERCounter(), 0, 0, 0.0, 0.0
    for pdf in sorted(REAL.glob("*/*.pdf")):
        data = pdf.read_bytes()
        w0, c0 = time.perf_counter(), time.process_time()
        layers = read_text_layers(data, dpi=options.dpi, max_pages=options.max_pages, max_pixels=options.max_pixels)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        pages += len(layers)
        result = recognize(data, options)
        doc = pdfium.PdfDocument(data)
        for i, page in enumerate(result.pages):
            if page.engine == "pdf_text":
                layer_pages += 1
                tp = doc[i].get_textpage()
                counter.add(tp.get_text_range(), page.text)
                tp.close()
        doc.close()
    return {"pages": pages, "pdf_text_pages": layer_pages, "ocr_pages": pages - layer_pages,
            "cer": counter.cer(), "ms_per_page_wall": 1000 * wall / max(1, pages),
            "ms_per_page_cpu": 1000 * cpu / max(1, pages)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=4, help="pages per set and condition")
    p.add_argument("--seed", type=int, default=7100)
    p.add_argument("--sets", nargs="+", choices=tuple(SETS), default=["a_synth", "b_independent", "c_real"],
                   help="b_contents: (b)'s contents pages with dot leaders; c_contents: (c)'s pages with leaders")
    p.add_argument("--no-plain", action="store_true", help="skip plain Tesseract")
    p.add_argument("--calibration", action="store_true",
                   help="print the CER per confidence decile as a Markdown table and check the status rules")
    p.add_argument("--errors", action="store_true", help="break the errors down by character class and line")
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args(argv)
    out = run(args)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=float))


if __name__ == "__main__":
    main()
