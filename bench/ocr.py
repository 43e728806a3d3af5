"""OCR accuracy and speed on seeded exam pages: ours against the legacy call, same pages, same run.

Two page generators, so the figures do not only reflect the one the pipeline
was tuned on:

* ``mine`` (:mod:`bench._ocr_pages`): the pages this pipeline was developed on;
* ``synth`` (:mod:`vision.synth.exam` + :mod:`vision.synth.photo`): written
  independently by the segmentation engineer (anchors ``1.``/``2)``/``[3]``/
  ``문제 4``, passages, equations, tables, headers and footers).

Each is rendered clean at 200 and 300 dpi and as a phone photo (from the
200 dpi page for ``synth``, the 300 dpi page for ``mine``), in one and two
columns. Printed per condition: CER without whitespace overall and for Hangul,
ASCII and circled numbers (``bench/_ocr_cer.py`` says how), the share of
``①..⑤`` read exactly, and CPU seconds per page (this process + Tesseract's,
one OpenMP thread: "seconds on one core" even on a busy machine).

The legacy figure is ``pytesseract.image_to_string(img, lang="kor+eng")``:
the legacy worker's call (default ``--psm 3``, no preprocessing), given the
right languages.

Usage::

    .venv/bin/python bench/ocr.py              # quick: 2 pages per condition
    .venv/bin/python bench/ocr.py --pages 6    # the figures in docs/benchmarks-ocr.md
    .venv/bin/python bench/ocr.py --ablate     # each pipeline step turned off in turn
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before any Tesseract runs (see vision/ocr/tesseract.py)
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from _ocr_cer import CERCounter  # noqa: E402

from vision.ocr.pipeline import PageOptions, read_page  # noqa: E402

TARGET_CER = 0.03
TARGET_CIRCLED = 0.99
TARGET_S_PER_PAGE_200 = 1.5


@dataclass(frozen=True)
class Sample:
    image: np.ndarray
    text: str


def cpu_s() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def mine_pages(kind: str, dpi: int, columns: int, n: int, seed0: int) -> Iterator[Sample]:
    from _ocr_pages import photograph, render_page

    for k in range(n):
        seed = seed0 + 1000 * columns + k
        page = render_page(seed, dpi=dpi, columns=columns)
        if kind == "photo":
            page = photograph(page, seed)
        yield Sample(page.image, page.text)


def synth_pages(kind: str, dpi: int, columns: int, n: int, seed0: int) -> Iterator[Sample]:
    from vision.synth.exam import render_exam_page
    from vision.synth.photo import to_photo

    for k in range(n):
        seed = seed0 + 1000 * columns + k
        page = render_exam_page(seed, columns=columns, lang="ko" if k % 3 else "en", dpi=dpi)
        image = to_photo(page.image, seed)[0] if kind == "photo" else page.image
        yield Sample(image, page.text)


SOURCES: dict[str, tuple[Callable[..., Iterator[Sample]], int]] = {
    "mine": (mine_pages, 300),  # photo taken of the 300 dpi render
    "synth": (synth_pages, 200),
}
CONDITIONS = (("clean", 200), ("clean", 300), ("photo", None))


def legacy(image: np.ndarray) -> str:
    import pytesseract

    return str(pytesseract.image_to_string(image, lang="kor+eng"))


def ours(options: PageOptions) -> Callable[[np.ndarray], str]:
    return lambda image: read_page(image, options).text


@dataclass
class Tally:
    cer: CERCounter
    cpu_s: float = 0.0
    wall_s: float = 0.0
    pages: int = 0

    def add(self, truth: str, read: Callable[[np.ndarray], str], image: np.ndarray) -> None:
        c0, w0 = cpu_s(), time.perf_counter()
        text = read(image)
        self.cpu_s += cpu_s() - c0
        self.wall_s += time.perf_counter() - w0
        self.pages += 1
        self.cer.add(truth, text)

    def row(self, name: str) -> str:
        c = self.cer
        return (f"{name:8s} CER {c.cer():6.2%}  hangul {c.cer('hangul'):6.2%}  ascii {c.cer('ascii'):6.2%}  "
                f"circled {c.cer('circled'):6.2%}  ①-⑤ right {c.circled_accuracy:7.2%} ({c.circled_right}/{c.circled_total})  "
                f"{self.cpu_s / max(1, self.pages):5.2f} s/page cpu")


def run(args: argparse.Namespace) -> None:
    readers: dict[str, Callable[[np.ndarray], str]] = {"ours": ours(PageOptions())}
    if not args.no_legacy:
        readers["legacy"] = legacy
    if args.ablate:
        base = PageOptions()
        for name, opt in (
            ("-reread", replace(base, reread=False)),
            ("-circled", replace(base, circled=False)),
            ("-columns", replace(base, columns=False)),
            ("-deskew", replace(base, deskew=False)),
            ("bin=off", replace(base, binarize=False)),
            ("bin=on", replace(base, binarize=True)),
        ):
            readers[name] = ours(opt)
    totals: dict[tuple[str, str], Tally] = {}
    print(f"OCR bench: {args.pages} page(s) per source x condition x columns; sources {', '.join(args.sources)}; "
          f"OMP_THREAD_LIMIT={os.environ.get('OMP_THREAD_LIMIT')}")
    for source in args.sources:
        make, photo_dpi = SOURCES[source]
        for kind, dpi in CONDITIONS:
            render_dpi = dpi or photo_dpi
            label = f"{source}/{kind}@{render_dpi}dpi"
            tallies = {name: Tally(CERCounter()) for name in readers}
            for columns in (1, 2):
                for sample in make(kind, render_dpi, columns, args.pages, args.seed):
                    for name, read in readers.items():
                        tallies[name].add(sample.text, read, sample.image)
            print(f"\n== {label} (1 and 2 columns)")
            for name, tally in tallies.items():
                print("  " + tally.row(name))
                group = "photo" if kind == "photo" else "clean"
                total = totals.setdefault((name, group), Tally(CERCounter()))
                total.cer.errors.update(tally.cer.errors)
                total.cer.chars.update(tally.cer.chars)
                total.cer.circled_right += tally.cer.circled_right
                total.cer.circled_total += tally.cer.circled_total
                total.cpu_s += tally.cpu_s
                total.pages += tally.pages
                if kind == "clean" and render_dpi == 200:
                    speed = totals.setdefault((name, "200dpi"), Tally(CERCounter()))
                    speed.cpu_s += tally.cpu_s
                    speed.pages += tally.pages
            if args.confusions:
                print("  top confusions (truth, read):", tallies["ours"].cer.confusions.most_common(12))
    print("\n== summary against the targets")
    for name in readers:
        clean, photo, speed = totals[(name, "clean")], totals[(name, "photo")], totals[(name, "200dpi")]
        circled = CERCounter()
        circled.circled_right = clean.cer.circled_right + photo.cer.circled_right
        circled.circled_total = clean.cer.circled_total + photo.cer.circled_total
        print(f"  {name:8s} clean CER {clean.cer.cer():6.2%} (target <= {TARGET_CER:.0%}) | photo CER {photo.cer.cer():6.2%} "
              f"(target <= {TARGET_CER:.0%}) | ①-⑤ right {circled.circled_accuracy:7.2%} (target >= {TARGET_CIRCLED:.0%}) | "
              f"{speed.cpu_s / max(1, speed.pages):.2f} s per 200 dpi page on one core (target <= {TARGET_S_PER_PAGE_200} s)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=2, help="pages per source x condition x column count")
    p.add_argument("--sources", nargs="+", choices=tuple(SOURCES), default=list(SOURCES))
    p.add_argument("--seed", type=int, default=500, help="first seed (the pipeline was tuned on seeds < 200 of 'mine')")
    p.add_argument("--ablate", action="store_true", help="also run with each pipeline step turned off")
    p.add_argument("--no-legacy", action="store_true", help="skip the legacy call")
    p.add_argument("--confusions", action="store_true", help="print our most frequent confusions")
    run(p.parse_args(argv))


if __name__ == "__main__":
    main()
