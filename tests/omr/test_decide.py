"""The decision rules of ``omr.decide`` on measured values (no images).

Each case gives a group's :class:`~omr.measure.Measures` (``measures_of``:
unspecified fields are those of clean fills) and the sheet's typical mark
darkness, and expects an exact decision.
"""

from dataclasses import replace

import numpy as np
import pytest

from omr.decide import (
    DEFAULT_THRESHOLDS,
    DEFAULT_TYPICAL_FILL,
    GroupDecision,
    decide_group,
    measures_of,
    typical_fill,
)

TH = DEFAULT_THRESHOLDS
# an X over an empty bubble: dark thin strokes over half the disc, four clear wedges
X = {"fill": 0.36, "peak": 0.8, "cover": 0.55, "solid": 0.05, "gaps": 4, "ink": 0.55, "clear": 0.45,
     "clear_room_mm": 0.5}
EMPTY = {"fill": 0.0, "peak": 0.0, "cover": 0.0, "solid": 0.0, "gaps": 0, "ink": 0.0, "clear": 1.0,
         "clear_room_mm": 1.75}
FILLED = {"fill": 0.7, "peak": 0.72, "cover": 1.0, "solid": 1.0, "gaps": 0, "ink": 1.0, "clear": 0.0,
          "clear_room_mm": 0.0}


def group(*bubbles: dict[str, float]):
    full = [{"label_ink": 0.0, **EMPTY, **b} for b in bubbles]
    return measures_of(**{k: [b[k] for b in full] for k in full[0]})


def test_degenerate_group_of_no_bubbles_is_blank() -> None:
    d = decide_group(measures_of([]), 0.7)
    assert d == GroupDecision(marked=(), questionable=(), status="blank", confidence=1.0, bar=0.315)


@pytest.mark.parametrize(("bubbles", "status", "marked", "questionable"), [
    ([EMPTY, EMPTY, EMPTY], "blank", (), ()),
    ([FILLED, EMPTY, EMPTY], "ok", (0,), ()),
    ([X, EMPTY, EMPTY], "ambiguous", (), (0,)),  # an X alone is never a mark
    ([FILLED, X, EMPTY], "ambiguous", (0,), (1,)),  # crossed out beside the new answer: review
    ([FILLED, FILLED, EMPTY], "multi", (0, 1), ()),
    ([{**EMPTY, "fill": 0.06, "peak": 0.2, "cover": 0.2, "ink": 0.2}, EMPTY, EMPTY], "ambiguous", (), (0,)),  # tiny dot
    ([{**EMPTY, "fill": 0.03, "peak": 0.06, "cover": 0.05, "ink": 0.05}, EMPTY, EMPTY], "blank", (), ()),  # erased
    ([{**EMPTY, "label_ink": 0.1}, EMPTY, EMPTY], "ambiguous", (), (0,)),  # a dot on the printed number
])
def test_decision_table(bubbles, status: str, marked, questionable) -> None:
    d = decide_group(group(*bubbles), 0.7)
    assert (d.status, d.marked, d.questionable, d.bar) == (status, marked, questionable, 0.315)


def test_confidences_are_exact() -> None:
    assert decide_group(group(FILLED, EMPTY, EMPTY), 0.7).confidence == 1.0
    assert decide_group(group(EMPTY, EMPTY, EMPTY), 0.7).confidence == 1.0
    assert decide_group(group(X, EMPTY, EMPTY), 0.7).confidence == 0.246
    assert decide_group(group(FILLED, FILLED, EMPTY), 0.7).confidence == 1.0


def test_strokes_are_never_marks() -> None:
    """Dark and well covered, but thin (solid << cover) or cut into wedges (gaps >= 3)."""
    thin = {**X, "fill": 0.4, "cover": 0.6, "solid": 0.1, "gaps": 1}
    wedges = {**X, "fill": 0.4, "cover": 0.6, "solid": 0.5, "gaps": 4}
    for strokes in (thin, wedges):
        d = decide_group(group(strokes, EMPTY), 0.7)
        assert (d.status, d.marked, d.questionable) == ("ambiguous", (), (0,))


def test_partial_fill_below_the_bar_is_ok_when_it_covers_the_disc() -> None:
    half = {**FILLED, "fill": 0.2, "peak": 0.6, "cover": 0.6, "solid": 0.55, "gaps": 1, "clear": 0.4}
    d = decide_group(group(half, EMPTY, EMPTY), 0.7)
    assert (d.status, d.marked) == ("ok", (0,))


def test_solid_fill_with_holes_is_a_mark() -> None:
    """Textured light pencil: the disc mostly solid ink, a few holes read as gaps."""
    holes = {**FILLED, "fill": 0.28, "peak": 0.36, "cover": 0.8, "solid": 0.85, "gaps": 3}
    assert decide_group(group(holes, EMPTY), 0.35).status == "ok"


@pytest.mark.parametrize(("peak", "status"), [(0.3, "low_confidence"), (0.5, "ok")])
def test_half_fill_near_the_bar_is_ok_in_the_sheets_own_ink(peak: float, status: str) -> None:
    """Half the disc covered, mean darkness just over the bar (0.45 * 0.5): ok only when
    the ink is as dark as the sheet's clear marks (typical 0.5)."""
    half = {**FILLED, "fill": 0.23, "peak": peak, "cover": 0.44, "solid": 0.42, "gaps": 1, "clear": 0.5,
            "clear_room_mm": 1.0}
    d = decide_group(group(half, EMPTY), 0.5)
    assert (d.status, d.marked) == (status, (0,))


def test_even_light_fill_cut_into_holes_is_a_mark() -> None:
    """Blurred light pencil at the ink level: the threshold cuts random holes (gaps 3,
    solid < 0.6) but the disc is evenly dark (fill ~ peak)."""
    even = {**FILLED, "fill": 0.224, "peak": 0.214, "cover": 0.69, "solid": 0.546, "gaps": 3, "clear": 0.3,
            "clear_room_mm": 0.5}
    d = decide_group(group(even, EMPTY), 0.32)
    assert (d.status, d.marked) == ("ok", (0,))


def test_hatching_is_a_fill_but_an_x_is_not() -> None:
    """Hatching leaves little clear paper and no clear spot; an X leaves clear wedges."""
    hatch = {**X, "clear": 0.2, "clear_room_mm": 0.3}
    assert decide_group(group(hatch, EMPTY), 0.7).status == "ok"
    assert decide_group(group(X, EMPTY), 0.7).status == "ambiguous"
    no_hatch_rule = replace(TH, hatch_clear=0.0)
    assert decide_group(group(hatch, EMPTY), 0.7, no_hatch_rule).status == "ambiguous"


def test_low_confidence_just_above_the_bar() -> None:
    f = [0.01, TH.mark_min + TH.margin / 2, 0.0, 0.02]
    d = decide_group(measures_of(f, cover=[0, 0.3, 0, 0], ink=[0, 0.3, 0, 0], solid=[0, 0.3, 0, 0],
                                 clear=[1, 0.7, 1, 1], clear_room_mm=[2, 1, 2, 2]), typical=0.2)
    assert (d.status, d.marked, d.bar) == ("low_confidence", (1,), TH.mark_min)


def test_a_mark_too_close_in_darkness_to_the_next_bubble_is_ambiguous() -> None:
    """A light partial fill (marked by its cover) only 0.07 darker than a faint neighbour."""
    light = {**FILLED, "fill": 0.15, "peak": 0.2, "cover": 0.5, "solid": 0.5, "ink": 0.5, "clear": 0.5,
             "clear_room_mm": 1.0}
    faint = {**EMPTY, "fill": 0.08, "peak": 0.1, "cover": 0.05, "ink": 0.05}
    d = decide_group(group(light, faint), 0.7)
    assert (d.status, d.marked, d.questionable) == ("ambiguous", (0,), ())


def test_typical_fill_needs_three_clearly_marked_groups() -> None:
    f32 = lambda v: np.array(v, np.float32)  # noqa: E731
    assert typical_fill([]) == DEFAULT_TYPICAL_FILL
    assert typical_fill([f32([0.7, 0.0]), f32([0.6, 0.0])]) == DEFAULT_TYPICAL_FILL
    assert typical_fill([f32([0.7, 0.0]), f32([0.6, 0.0]), f32([0.5, 0.1]), f32([0.2, 0.0])]) == pytest.approx(0.6)


# erased-pencil residue as measured on photos of omr.synth's erasure sheets (the
# darkest seen: a grainy wash over disc and label, fill 0.098, peak 0.108, label 0.084)
RESIDUE = {"fill": 0.098, "peak": 0.108, "cover": 0.078, "ink": 0.057, "solid": 0.0, "gaps": 1,
           "clear": 0.21, "clear_room_mm": 1.667, "label_ink": 0.084}


def _with(first: dict[str, float], *others: float, **over: float) -> dict[str, list[float]]:
    """Measures of a group: bubble 0 from ``first``, the others clean fills of the given darkness."""
    rest = measures_of(list(others))
    out: dict[str, list[float]] = {}
    for name in rest._fields:
        out[name] = [float({**first, **over}.get(name, 0.0))] + [float(v) for v in getattr(rest, name)]
    out["fill"][0] = float({**first, **over}["fill"])
    return out


def test_residue_beside_a_clear_fill_reads_as_the_fill() -> None:
    d = decide_group(measures_of(**_with(RESIDUE, 0.0, 0.45, 0.0)), typical=0.6)
    assert (d.status, d.marked, d.questionable) == ("ok", (2,), ())
    assert d.confidence >= 0.5
    # the lightest pencil sheets too (typical 0.31, the mark 0.27)
    assert decide_group(measures_of(**_with(RESIDUE, 0.27, 0.0)), typical=0.31).status == "ok"


def test_residue_alone_is_blank_but_a_darker_wash_is_looked_at() -> None:
    assert decide_group(measures_of(**_with(RESIDUE, 0.0, 0.0)), typical=0.6).status == "blank"
    # beyond residue_fill, or half as dark as the light pencil sheet's marks: review
    for over, typical in (({"fill": 0.16}, 0.6), ({}, 0.22)):
        d = decide_group(measures_of(**_with(RESIDUE, 0.0, 0.0, **over)), typical=typical)
        assert d.status == "ambiguous" and d.questionable == (0,)


@pytest.mark.parametrize("over", [
    {"peak": 0.3},                    # real ink somewhere in the disc (the lightest pencil: 0.38)
    {"ink": 0.15},                    # a tiny fill
    {"label_ink": 0.2},               # a dot on the printed number
    {"label_ink": 0.12, "fill": 0.05, "peak": 0.06},  # a label darker than the disc: a dot, not a wash
])
def test_ink_that_is_not_residue_beside_a_clear_fill_is_still_flagged(over: dict[str, float]) -> None:
    d = decide_group(measures_of(**_with(RESIDUE, 0.0, 0.7, **over)), typical=0.7)
    assert d.status == "ambiguous" and d.questionable == (0,)


def test_residue_rule_leaves_two_marks_alone() -> None:
    # two comparably dark marks: multi
    assert decide_group(measures_of([0.62, 0.0, 0.55, 0.0]), typical=0.6).status == "multi"
    # the shadow corner beside a clear pen fill (0.88 / 0.18, the corner covering the disc): flagged,
    # not a confident multi
    d = decide_group(measures_of([0.88, 0.18, 0.0], cover=[1, 0.9, 0]), typical=0.8)
    assert d.status == "ambiguous" and d.confidence < 0.5
    # a light second fill (under the bar, but inked) beside a clear one: flagged
    d = decide_group(measures_of([0.7, 0.14, 0.0], peak=[0.7, 0.4, 0], ink=[1, 0.3, 0], cover=[1, 0.2, 0]),
                     typical=0.7)
    assert d.status == "ambiguous" and d.questionable == (1,)
