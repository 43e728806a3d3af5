"""Question segmentation benchmark on seeded synthetic exam pages (scans and phone photos).

Run::

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/segment.py [--pages 6] [--seed 1000] [--engine opencv]
        [--dpi 200] [--no-legacy] [--verbose] [--save-failures DIR] [--sets abc] [--indep-seed 16000]

``--sets`` adds (b) pages we did not make (``bench/segment_independent.py``) and
(c) real documents (``bench/real_documents/``), printed before (a); see
:mod:`bench._segment_sets` for what they hold and count.

Pages come from :func:`vision.synth.exam.render_exam_page` (Korean, English and
mixed, in turn), one and two columns, at 200 dpi (``--dpi 300`` for 300); *scans* are the clean
renders, *photos* go through :func:`vision.synth.photo.to_photo`
(perspective, uneven light, blur, noise, JPEG), with the desk around the
page; *full* photos are the same photos cropped to just inside the page (it
fills the frame: no outline to flatten). The engine runs on the photo
itself and its boxes (in photo pixels) are compared with the truth boxes
mapped through the photo's homography (the box around the mapped corners): a
user who sends a photo gets boxes on that photo.

What counts:

* Predictions are matched one to one to truth boxes, best IoU first.
* **P/R@0.5**: precision and recall of matches at IoU >= 0.5.
* **mIoU**: mean over truth questions of the IoU of its match (0 when unmatched).
* **F1@0.75**: F1 of matches at IoU >= 0.75 (the target).
* **numbers**: truth questions matched at IoU >= 0.5 whose number was read right,
  over all truth questions.
* **CPU s/page**: CPU seconds of the engine per page, this process plus its
  Tesseract child (``OMP_THREAD_LIMIT=1``, onnxruntime on one thread): the
  cost on one core, which wall-clock time on a shared, loaded machine is not
  (wall seconds are printed beside it).
* **legacy**: the seed's contour heuristic (Otsu, 5x5 dilation, external
  contours with area 0.5-90 % of the page and h/w >= 0.3), re-implemented
  here only as the baseline; it reads no numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from vision.synth.exam import render_exam_page  # noqa: E402
from vision.synth.photo import map_box, to_photo  # noqa: E402

Box = tuple[int, int, int, int]
LANGS = ("ko", "en", "mixed")
#: scan: clean render; photo: phone photo with desk around the page; full: the same photo cropped
#: to just inside the page (the page fills the frame: no outline to flatten, keystone left).
KINDS = ("scan", "photo", "full")


def _fill_frame(
    photo: np.ndarray, H: np.ndarray, page_hw: tuple[int, ...], truth: list[tuple[Box, int]]
) -> tuple[np.ndarray, list[tuple[Box, int]]]:
    """Crop a photo to 2 % inside the page's corners; truth boxes shifted and clipped."""
    from vision.synth.photo import map_points

    h, w = page_hw[0], page_hw[1]
    q = map_points([[0, 0], [w, 0], [w, h], [0, h]], H)
    x0, y0 = int(max(q[0, 0], q[3, 0]) + 0.02 * w), int(max(q[0, 1], q[1, 1]) + 0.02 * h)
    x1, y1 = int(min(q[1, 0], q[2, 0]) - 0.02 * w), int(min(q[2, 1], q[3, 1]) - 0.02 * h)
    out = []
    for (bx, by, bw, bh), n in truth:
        cx0, cy0 = max(0, bx - x0), max(0, by - y0)
        cx1, cy1 = min(x1 - x0, bx + bw - x0), min(y1 - y0, by + bh - y0)
        if cx1 > cx0 and cy1 > cy0:
            out.append(((cx0, cy0, cx1 - cx0, cy1 - cy0), n))
    return photo[y0:y1, x0:x1], out


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children (Tesseract runs as one)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def legacy_contours(image: np.ndarray) -> list[tuple[Box, int | None]]:
    """The seed's ``segment_questions_opencv`` heuristic (baseline only)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    blur = cv2.GaussianBlur(gray, (5, 5), 0)
    _, thresh = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    dilated = cv2.dilate(thresh, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)), iterations=1)
    contours, _ = cv2.findContours(dilated, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    h_img, w_img = gray.shape[:2]
    out: list[tuple[Box, int | None]] = []
    for cnt in contours:
        x, y, w, h = cv2.boundingRect(cnt)
        if not w_img * h_img * 0.005 <= w * h <= w_img * h_img * 0.9 or h / (w + 1e-6) < 0.3:
            continue
        out.append(((x, y, w, h), None))
    out.sort(key=lambda b: (b[0][1], b[0][0]))
    return out


def ours(engine: str) -> Callable[[np.ndarray], list[tuple[Box, int | None]]]:
    full = ours_full(engine)

    def run(image: np.ndarray) -> list[tuple[Box, int | None]]:
        return full(image)[0]

    return run


def ours_full(engine: str) -> Callable[[np.ndarray], tuple[list[tuple[Box, int | None]], list[tuple[str, Box, tuple[int, ...]]]]]:
    """The engine's questions and its other regions (headings, instructions) as plain tuples."""
    from vision.segment.engine import segment_page

    def run(image: np.ndarray) -> tuple[list[tuple[Box, int | None]], list[tuple[str, Box, tuple[int, ...]]]]:
        seg = segment_page(image, engine=engine)
        return [(q.box_xywh, q.number) for q in seg.questions], [(b.kind, b.box_xywh, b.governs) for b in getattr(seg, "blocks", ())]

    return run


def legacy_full(image: np.ndarray) -> tuple[list[tuple[Box, int | None]], list[tuple[str, Box, tuple[int, ...]]]]:
    return legacy_contours(image), []


def run_sets(args: argparse.Namespace) -> None:
    """Sets (b) independent and (c) real (:mod:`bench._segment_sets`), printed beside (a)."""
    from _segment_sets import Extra, count_extra, independent_pages, real_pages, timed

    methods = {f"ours ({args.engine})": ours_full(args.engine)}
    if not args.no_legacy:
        methods["legacy contours"] = legacy_full
    tallies: dict[tuple[str, str, str], tuple[Tally, Extra]] = {}
    sources = []
    if "b" in args.sets:
        sources.append(("b", independent_pages(args.pages, args.indep_seed)))
    if "c" in args.sets:
        sources.append(("c", real_pages()))
    for source, pages in sources:
        for kind, page in pages:
            set_name = f"{source}-{page.part}" if page.part else source
            for name, fn in methods.items():
                questions, others, dt, cpu = timed(fn, page.image, _cpu_s)
                tally, extra = tallies.setdefault((name, set_name, kind), (Tally(), Extra()))
                before, right_before = tally.tp75, tally.numbers_right
                tally.add(page.questions, questions, dt, cpu)
                hq_before = extra.heading_as_question
                count_extra(extra, page, [b for b, _ in questions], others)
                wrong = (tally.tp75 - before < len(page.questions) or len(questions) != len(page.questions)
                         or tally.numbers_right - right_before < len(page.questions) or extra.heading_as_question > hq_before)
                if args.verbose and wrong and name.startswith("ours") and (set_name == "b" or questions):
                    print(f"  ({set_name}) {page.name}: truth {[n for _, n in page.questions]} got {[n for _, n in questions]}"
                          f" hq {extra.heading_as_question - hq_before}", flush=True)
                if args.save_failures and wrong and name.startswith("ours"):
                    _save_overlay(args.save_failures, f"{set_name}_{page.name.replace(' ', '_')}", page.image, page.questions, questions)
    print(f"sets (b) independent ({args.pages} pages per kind, seeds {args.indep_seed}..) and (c) real documents")
    for (name, set_name, kind), (tally, extra) in tallies.items():
        print(f"({set_name}) {name:18s} {kind:5s} {tally.row()}  {extra.row()}")


def _save_overlay(folder: Path, stem: str, image: np.ndarray, truth: Sequence[tuple[Box, int]], pred: Sequence[tuple[Box, int | None]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    vis = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    for b, n in truth:
        cv2.rectangle(vis, (b[0], b[1]), (b[0] + b[2], b[1] + b[3]), (0, 200, 0), 3)
        cv2.putText(vis, str(n), (b[0] - 40, b[1] + 25), 0, 0.9, (0, 160, 0), 2)
    for b, pn in pred:
        cv2.rectangle(vis, (b[0], b[1]), (b[0] + b[2], b[1] + b[3]), (0, 0, 255), 2)
        cv2.putText(vis, str(pn), (b[0] + b[2] + 5, b[1] + 25), 0, 0.9, (0, 0, 255), 2)
    cv2.imwrite(str(folder / f"{stem}.jpg"), vis)


def iou(a: Box, b: Box) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def match(truth: Sequence[Box], pred: Sequence[Box]) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching, best IoU first: (truth index, pred index, IoU)."""
    pairs = sorted(((iou(t, p), i, j) for i, t in enumerate(truth) for j, p in enumerate(pred)), reverse=True)
    used_t: set[int] = set()
    used_p: set[int] = set()
    out = []
    for v, i, j in pairs:
        if v <= 0 or i in used_t or j in used_p:
            continue
        used_t.add(i)
        used_p.add(j)
        out.append((i, j, v))
    return out


@dataclass
class Tally:
    truth: int = 0
    pred: int = 0
    tp50: int = 0
    tp75: int = 0
    iou_sum: float = 0.0
    numbers_right: int = 0
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    def add(self, truth: Sequence[tuple[Box, int]], pred: Sequence[tuple[Box, int | None]], seconds: float, cpu_s: float) -> None:
        m = match([t[0] for t in truth], [p[0] for p in pred])
        self.truth += len(truth)
        self.pred += len(pred)
        self.seconds.append(seconds)
        self.cpu_seconds.append(cpu_s)
        for i, j, v in m:
            self.iou_sum += v
            self.tp50 += v >= 0.5
            self.tp75 += v >= 0.75
            self.numbers_right += v >= 0.5 and pred[j][1] == truth[i][1]

    def row(self) -> str:
        p = self.tp50 / max(self.pred, 1)
        r = self.tp50 / max(self.truth, 1)
        f1 = 2 * self.tp75 / max(self.truth + self.pred, 1)
        return (
            f"P@0.5 {p:6.3f}  R@0.5 {r:6.3f}  mIoU {self.iou_sum / max(self.truth, 1):6.3f}  "
            f"F1@0.75 {f1:6.3f}  numbers {100 * self.numbers_right / max(self.truth, 1):6.1f} %  "
            f"CPU s/page {np.mean(self.cpu_seconds):4.2f} (max {max(self.cpu_seconds):4.2f})  wall {np.mean(self.seconds):4.2f}"
        )

    def f1_75(self) -> float:
        return 2 * self.tp75 / max(self.truth + self.pred, 1)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=6, help="pages per set (6 sets: 1/2 columns x scan/photo/full)")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--engine", default="opencv")
    ap.add_argument("--dpi", type=int, default=200, help="render resolution (200 or 300)")
    ap.add_argument("--no-legacy", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="print each page with a miss")
    ap.add_argument("--save-failures", type=Path, default=None, help="write overlays of pages with an F1@0.75 below 1")
    ap.add_argument("--sets", default="a", help="which sets: a (our synth), b (independent), c (real documents), e.g. abc")
    ap.add_argument("--indep-seed", type=int, default=16000, help="first seed of set (b)")
    args = ap.parse_args(argv)
    if "b" in args.sets or "c" in args.sets:
        run_sets(args)
    if "a" not in args.sets:
        return 0
    methods: dict[str, Callable[[np.ndarray], list[tuple[Box, int | None]]]] = {f"ours ({args.engine})": ours(args.engine)}
    if not args.no_legacy:
        methods["legacy contours"] = legacy_contours
    tallies: dict[tuple[str, str, int], Tally] = {}
    for kind in KINDS:
        for columns in (1, 2):
            for k in range(args.pages):
                seed = args.seed + k
                page = render_exam_page(seed, columns=columns, lang=LANGS[k % 3], dpi=args.dpi)  # type: ignore[arg-type]
                truth = [(q.box_xywh, q.number) for q in page.questions]
                image = page.image
                if kind in ("photo", "full"):
                    image, H = to_photo(page.image, seed)
                    truth = [(map_box(b, H), n) for b, n in truth]
                if kind == "full":
                    image, truth = _fill_frame(image, H, page.image.shape, truth)
                for name, fn in methods.items():
                    c0 = _cpu_s()
                    t0 = time.perf_counter()
                    pred = fn(image)
                    dt = time.perf_counter() - t0
                    cpu = _cpu_s() - c0
                    tally = tallies.setdefault((name, kind, columns), Tally())
                    before, right_before = tally.tp75, tally.numbers_right
                    tally.add(truth, pred, dt, cpu)
                    wrong = tally.tp75 - before < len(truth) or len(pred) != len(truth) or tally.numbers_right - right_before < len(truth)
                    if args.verbose and wrong and name.startswith("ours"):
                        print(f"  {kind} {columns}-col seed {seed}: truth {[n for _, n in truth]} got {[n for _, n in pred]}")
                    if args.save_failures and name.startswith("ours") and wrong:
                        _save_overlay(args.save_failures, f"{kind}_{columns}col_{seed}", image, truth, pred)
    print(f"question segmentation, {args.pages} pages per set, seeds {args.seed}..{args.seed + args.pages - 1}, {args.dpi} dpi")
    for (name, kind, columns), tally in tallies.items():
        print(f"{name:18s} {kind:5s} {columns}-col  {tally.row()}")
    for name in methods:
        for kind, target in (("scan", 0.97), ("photo", 0.93), ("full", 0.93)):
            parts = [t for (n, k, _), t in tallies.items() if n == name and k == kind]
            merged = Tally()
            for t in parts:
                merged.truth += t.truth
                merged.pred += t.pred
                merged.tp50 += t.tp50
                merged.tp75 += t.tp75
                merged.iou_sum += t.iou_sum
                merged.numbers_right += t.numbers_right
                merged.seconds += t.seconds
                merged.cpu_seconds += t.cpu_seconds
            f1_ok = merged.f1_75() >= target
            num_ok = merged.numbers_right >= 0.99 * merged.truth
            cpu_ok = float(np.mean(merged.cpu_seconds)) <= 1.0
            print(
                f"{name:18s} {kind:5s} all    {merged.row()}\n{'':25s}targets: F1@0.75 >= {target} "
                f"{'met' if f1_ok else 'MISSED'}; numbers >= 99 % {'met' if num_ok else 'MISSED'}; "
                f"<= 1 CPU s/page {'met' if cpu_ok else 'MISSED'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
