import numpy as np
import pytest

from omr.labels import _group_medians, group_medians


def _loop(values: np.ndarray, groups: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """The per-group loop group_medians replaces."""
    out = np.zeros_like(values)
    for _g, sel in groups:
        out[sel] = np.median(values[sel], axis=0)
    return out


def _groups(labels: np.ndarray) -> list[tuple[int, np.ndarray]]:
    return [(g, labels == g) for g in range(int(labels.max()) + 1) if (labels == g).any()]


@pytest.mark.parametrize("case", ["no groups", "equal sizes, even", "equal sizes, odd", "mixed sizes"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_medians_equal_the_per_group_loop(case: str, dtype: type) -> None:
    rng = np.random.default_rng(7)
    labels = {"no groups": np.zeros(6, np.intp), "equal sizes, even": np.arange(80) % 10,
              "equal sizes, odd": np.arange(35) % 5, "mixed sizes": rng.integers(0, 6, 53)}[case]
    groups = [] if case == "no groups" else _groups(labels)
    for shape in [(len(labels),), (len(labels), 17)]:
        values = rng.random(shape).astype(dtype)
        got = group_medians(values, groups)
        assert got.dtype == values.dtype and got.shape == values.shape
        assert np.array_equal(got, _loop(values, groups))  # the same numbers, to the bit


def test_group_medians_leave_rows_outside_the_groups_at_zero() -> None:
    values = np.arange(12, dtype=np.float32).reshape(6, 2) + 1
    sel = np.array([1, 1, 1, 0, 0, 0], bool)
    got = group_medians(values, [(0, sel)])
    assert got[:3].tolist() == [[3.0, 4.0]] * 3 and not got[3:].any()


def test_marked_bubbles_left_out_of_the_label_print() -> None:
    """``unmarked`` keeps the loop: the print of an ID label, three of whose six bubbles are marked."""
    dark = np.full((6, 4), 0.1, np.float32)
    dark[[0, 2, 4]] = 0.8
    everyone = [(0, np.ones(6, bool))]
    assert np.allclose(_group_medians(dark, everyone, unmarked=True), 0.1)
    assert np.allclose(_group_medians(dark, everyone), 0.45)
