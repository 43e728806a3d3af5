"""Train the handwriting stroke classifier (``vision/handwriting/stroke_model.json``) from the page generators.

Run::

    PYTHONPATH=. .venv/bin/python bench/_hand_train.py [--pages 42] [--sets a] [--out PATH]

Every training page is drawn with seeds :data:`TRAIN_SEED_BASE` + i, which
``bench/handwriting.py`` never uses (it draws ``seed * 1000 + i`` for its
small ``--seed`` values), so the bench reports on pages the classifier never
saw. Each page is scored as a photo and as a clean scan; a component's label
is "handwriting" when at least half of its pixels lie on the generator's
written mask (grown by :data:`TRUTH_GROW_PX` for the blur rim), its weight
its pixel count (the score is a pixel count). The fit is deterministic
(boosted trees on fixed quantile cuts, no sampling): the same pages give the same weights.

Sets: ``a`` = ``vision/synth`` exam pages written on by
``vision/handwriting/synth.py``; ``b`` = ``bench/_hand_draw.py``. The shipped
model is trained on ``a`` only, so set (b) in the bench stays independent.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Literal  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._hand_draw import capture, written_page  # noqa: E402
from vision.handwriting.classifier import WEIGHTS_PATH, StrokeModel, fit  # noqa: E402
from vision.handwriting.engine import ANALYSIS_LONG_SIDE_PX  # noqa: E402
from vision.handwriting.features import FEATURE_NAMES, stroke_table  # noqa: E402

#: training pages use seeds from here on (the bench's are far below).
TRAIN_SEED_BASE = 900_000
#: the written mask is grown by this much (analysis px) before labelling: blur widens a stroke.
TRUTH_GROW_PX = 2
#: a component is handwriting when this share of its pixels is on the grown written mask.
LABEL_SHARE = 0.5

Sample = tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]


def _to_analysis(image: npt.NDArray[np.uint8], mask: npt.NDArray[np.float32]) -> Sample:
    h, w = image.shape[:2]
    scale = min(1.0, ANALYSIS_LONG_SIDE_PX / max(h, w))
    size = (round(w * scale), round(h * scale))
    if scale < 1.0:
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
        mask = np.asarray(cv2.resize(mask, size, interpolation=cv2.INTER_AREA), np.float32)
    k = 2 * TRUTH_GROW_PX + 1
    grown = cv2.dilate((mask >= 0.3).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    return image, grown


def samples(which: Literal["a", "b"], seed: int) -> Iterator[Sample]:
    """(analysis-frame image, grown written mask) for the scan and the photo of one page."""
    if which == "a":
        from vision.handwriting.synth import add_handwriting
        from vision.synth.exam import render_exam_page
        from vision.synth.photo import to_photo

        rng = np.random.default_rng([seed, 77])
        lang: Literal["ko", "en", "mixed"] = ("ko", "en", "mixed")[seed % 3]
        page = render_exam_page(seed, columns=1 + seed % 2, lang=lang, dpi=200)
        gray = page.image if page.image.ndim == 2 else cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY)
        units = 0 if rng.random() < 1 / 3 else int(rng.integers(1, 25))
        # every third training page in black pen: the tool no rule finds (colour, grey), so the
        # one the trees need most examples of; every sixth in a black felt-tip marker, strokes
        # two to three times as wide as print (without it the trees took thick black writing for bold print)
        tool = "black_pen" if seed % 3 == 0 else "black_marker" if seed % 6 == 1 else None
        written = add_handwriting(np.asarray(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), np.uint8), seed, units=units,
                                  tool=tool)
        image, mask = written.image, np.asarray(written.mask, np.float32)
        photo, homography = to_photo(image, seed)
    else:
        wp = written_page(seed)
        image, mask = wp.image, wp.mask.astype(np.float32)
        photo, homography = capture(image, seed)
    if mask.max() > 1:
        mask = mask / 255.0
    yield _to_analysis(image, mask)
    warped = cv2.warpPerspective(mask, homography, (photo.shape[1], photo.shape[0]), flags=cv2.INTER_LINEAR)
    yield _to_analysis(photo, np.asarray(warped, np.float32))


def table_rows(image: npt.NDArray[np.uint8], truth: npt.NDArray[np.bool_]) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(features, labels, weights) of the judged components of one analysis-frame image."""
    table = stroke_table(image)
    labels = table.comps.labels
    n = table.comps.count + 1
    on = np.bincount(labels[truth], minlength=n)
    share = on / np.maximum(table.comps.area, 1)
    keep = table.big
    return table.x[keep], (share[keep] >= LABEL_SHARE).astype(np.float64), table.comps.area[keep].astype(np.float64)


def collect(sets: str, pages: int, base: int = TRAIN_SEED_BASE) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Stacked training rows of ``pages`` pages of each set in ``sets``."""
    xs, ys, ws = [], [], []
    for which in sets:
        for i in range(pages):
            for image, truth in samples(which, base + i):  # type: ignore[arg-type]
                x, y, w = table_rows(image, truth)
                xs.append(x)
                ys.append(y)
                ws.append(w)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def train(sets: str, pages: int, base: int = TRAIN_SEED_BASE) -> StrokeModel:
    """Fit the classifier on ``pages`` training pages of each set in ``sets``."""
    x, y, w = collect(sets, pages, base)
    return fit(x, y, w, FEATURE_NAMES)


def pixel_report(model: StrokeModel, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64],
                 w: npt.NDArray[np.float64]) -> str:
    pred = model.probability(x) >= 0.5
    hand_px, print_px = float(w[y > 0].sum()), float(w[y == 0].sum())
    found = float(w[(y > 0) & pred].sum()) / max(hand_px, 1)
    false = float(w[(y == 0) & pred].sum()) / max(print_px, 1)
    return f"handwriting pixels found {found:.3f}, print pixels taken for handwriting {false:.4f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=42, help="training pages per set (the shipped model: 42 of set a)")
    parser.add_argument("--sets", default="a", help="generators to train on: a, b or ab")
    parser.add_argument("--check-pages", type=int, default=6, help="pages per set scored after training (other seeds)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    parser.add_argument("--cache", type=Path, help="also save the training rows here (.npz)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    t0 = time.process_time()
    x, y, w = collect(args.sets, args.pages)
    t1 = time.process_time()
    if args.cache:
        np.savez(args.cache, x=x, y=y, w=w)
    model = fit(x, y, w, FEATURE_NAMES)
    t2 = time.process_time()
    print(f"trained on {len(y)} components ({int(y.sum())} handwriting) of {args.pages} pages x sets {args.sets!r}: "
          f"pages {t1 - t0:.1f} CPU-s, fit {t2 - t1:.2f} CPU-s")
    print(f"  training: {pixel_report(model, x, y, w)}")
    for which in "ab" if args.check_pages > 0 else "":
        xc, yc, wc = collect(which, args.check_pages, TRAIN_SEED_BASE + 50_000)
        print(f"  check ({which}, other seeds): {pixel_report(model, xc, yc, wc)}")
    import json

    args.out.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
