"""The stroke classifier: shipped weights match the features, retraining reproduces them, black pen is found."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.vision.handwriting._pages import photo_of, printed_page
from vision.handwriting import analyze_handwriting
from vision.handwriting.classifier import WEIGHTS_PATH, StrokeModel, load_model
from vision.handwriting.features import FEATURE_NAMES
from vision.handwriting.synth import add_handwriting

ASSETS = Path(__file__).with_name("assets")


def test_shipped_model_reads_the_engine_features() -> None:
    model = load_model()
    assert model.names == FEATURE_NAMES
    assert model.trees.shape[1] == 10 and len(model.trees) > 10
    assert set(model.trees[:, [0, 2, 4]].astype(int).ravel()) <= set(range(len(FEATURE_NAMES)))
    assert StrokeModel.from_dict(json.loads(json.dumps(model.to_dict()))).to_dict() == model.to_dict()
    assert json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))["names"] == list(FEATURE_NAMES)


@pytest.mark.timeout(300)
def test_retraining_on_the_first_training_pages_agrees_with_the_shipped_model() -> None:
    # the shipped model comes from bench/_hand_train.py (36 pages of set (a)); the
    # first three of those pages give a model that judges their ink like the shipped one
    # (weighted by component size), not bit-identical trees
    from bench._hand_train import collect
    from vision.handwriting.classifier import fit

    x, y, w = collect("a", 3)
    small = fit(x, y, w, FEATURE_NAMES, rounds=40)
    again = fit(x, y, w, FEATURE_NAMES, rounds=40)
    assert np.array_equal(small.trees, again.trees) and small.bias == again.bias  # deterministic
    shipped = load_model()
    agree = (small.probability(x) >= 0.5) == (shipped.probability(x) >= 0.5)
    assert float(w[agree].sum() / w.sum()) >= 0.97
    # and both find the handwriting the generator drew on those pages
    for model in (small, shipped):
        hit = (model.probability(x) >= 0.5) & (y > 0)
        assert float(w[hit].sum() / w[y > 0].sum()) >= 0.8


def test_black_pen_is_found_without_a_reference() -> None:
    # black ink is neither coloured nor grey: the rules alone found ~1/3 of it on photos
    blank = printed_page(1)
    printed = analyze_handwriting(photo_of(blank, 4))
    written = add_handwriting(blank, seed=8, units=10, tool="black_pen")
    found = analyze_handwriting(photo_of(written.image, 4))
    assert printed.writing_score <= 0.05 and found.method == "features"
    assert found.ink_fraction >= 0.5 * written.ink_fraction, (found.ink_fraction, written.ink_fraction)


@pytest.mark.parametrize(("name", "truth"), [("worksheet_printed.jpg", 0.0), ("worksheet_ballpoint.jpg", None)])
def test_committed_independent_photos(name: str, truth: float | None) -> None:
    # crops of set (b) photos (bench/_hand_draw.py, seeds in assets/README.md): a printed-only
    # worksheet and one written on in black ballpoint, its true ink share in the JSON beside it
    image = cv2.imread(str(ASSETS / name), cv2.IMREAD_COLOR)
    assert image is not None
    res = analyze_handwriting(np.asarray(image, np.uint8))
    if truth == 0.0:
        assert res.writing_score <= 0.05, res.to_dict()
        return
    # black ballpoint the size of print digits is the hard case without a blank: measured
    # 31 % of the true ink found with the first classifier, 48 % since markers are in its
    # training; never more than there is
    meta = json.loads((ASSETS / "worksheet_ballpoint.json").read_text(encoding="utf-8"))
    assert 0.25 * meta["ink_fraction"] <= res.ink_fraction <= 1.5 * meta["ink_fraction"], (res.ink_fraction, meta)
    assert res.writing_score > 0.1


def test_thick_black_felt_tip_is_found_on_a_scan() -> None:
    # a crop of a set (b) scan written in black felt tip (assets/README.md): strokes two to
    # three times as wide as print, darker than it, neither coloured nor grey. Before the
    # classifier saw markers in training it took them for bold print (0.0006 of the page found,
    # truth 0.019); now about half of it (the crop is analysed at full size, where the
    # strokes are wider than on a whole page), and never more than there is
    image = cv2.imread(str(ASSETS / "worksheet_felt_scan.jpg"), cv2.IMREAD_COLOR)
    assert image is not None
    meta = json.loads((ASSETS / "worksheet_felt_scan.json").read_text(encoding="utf-8"))
    res = analyze_handwriting(np.asarray(image, np.uint8))
    assert 0.3 * meta["ink_fraction"] <= res.ink_fraction <= 1.2 * meta["ink_fraction"], (res.ink_fraction, meta)


def test_black_marker_is_found_and_bold_print_is_not() -> None:
    # set (a)'s own marker (the training generator) on the test page, scan and photo: found
    # without a blank; the printed page alone (bold 2 px print, rules, a table) stays at 0
    blank = printed_page(2)
    written = add_handwriting(blank, seed=11, units=8, tool="black_marker")
    for image in (written.image, photo_of(written.image, 5)):
        res = analyze_handwriting(image)
        assert res.ink_fraction >= 0.5 * written.ink_fraction, (res.ink_fraction, written.ink_fraction)
    assert analyze_handwriting(blank).writing_score <= 0.05
