"""A small learned stroke classifier: is this ink component handwriting or print?

Gradient-boosted depth-2 trees over the per-component features of
:func:`vision.handwriting.features.stroke_table`, fitted on the logistic loss
with histogram splits (each feature cut at :data:`BINS` quantiles): pure
numpy, deterministic (no sampling, ties broken by index), a few seconds on
~50k components. The model ships beside this module as JSON
(:data:`WEIGHTS_PATH`); ``bench/_hand_train.py`` regenerates it from the page
generators (see ``docs/benchmarks-handwriting-video.md``).

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(600, 2)); y = ((x[:, 0] > 0) & (x[:, 1] > -0.5)).astype(float)
    >>> model = fit(x, y, np.ones(600), names=("a", "b"), rounds=40)
    >>> bool(((model.probability(x) > 0.5) == (y > 0)).mean() > 0.95)
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["WEIGHTS_PATH", "StrokeModel", "fit", "load_model"]

#: the shipped model.
WEIGHTS_PATH = Path(__file__).with_name("stroke_model.json")
#: boosting rounds (trees).
ROUNDS = 120
#: shrinkage of each tree's leaf values.
LEARNING_RATE = 0.2
#: candidate cuts per feature: its training quantiles.
BINS = 32
#: L2 penalty on a leaf value (in units of the hessian weight): tames leaves with few pixels.
LEAF_L2 = 1.0
#: a split must leave at least this share of the total weight on each side.
MIN_LEAF_WEIGHT = 0.002

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class StrokeModel:
    """Boosted depth-2 trees.

    Args:
        names: feature names, in column order.
        bias: the starting log-odds.
        trees: ``(T, 10)`` rows ``[f, t, f_lo, t_lo, f_hi, t_hi, v_lo_lo, v_lo_hi, v_hi_lo, v_hi_hi]``:
            the root sends ``x[f] <= t`` to the ``lo`` child, each child cuts
            again on its own feature and threshold; ``v_*`` are the four
            leaves' log-odds.
    """

    names: tuple[str, ...]
    bias: float
    trees: FloatArray

    def log_odds(self, x: FloatArray) -> FloatArray:
        """Summed tree outputs per row of ``x`` ``(N, F)``."""
        x = np.asarray(x, np.float64)
        out = np.full(len(x), self.bias)
        for row in self.trees:
            f, t, fl, tl, fh, th = int(row[0]), row[1], int(row[2]), row[3], int(row[4]), row[5]
            lo = x[:, f] <= t
            out += np.where(lo, np.where(x[:, fl] <= tl, row[6], row[7]), np.where(x[:, fh] <= th, row[8], row[9]))
        return out

    def probability(self, x: FloatArray) -> FloatArray:
        """P(handwriting) per row of ``x`` ``(N, F)``."""
        out: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(self.log_odds(x), -40, 40)))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "bias": round(self.bias, 6),
                "trees": [[round(float(v), 6) for v in row] for row in self.trees]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StrokeModel:
        return cls(tuple(data["names"]), float(data["bias"]), np.asarray(data["trees"], np.float64).reshape(-1, 10))


def _best_split(binned: npt.NDArray[np.int64], g: FloatArray, h: FloatArray, rows: npt.NDArray[np.bool_],
                min_weight: float) -> tuple[int, int, float]:
    """(feature, bin, gain) of the best cut ``bin(x) <= b`` among ``rows``; gain 0 when none helps."""
    gs, hs = g[rows], h[rows]
    total_g, total_h = float(gs.sum()), float(hs.sum())
    parent = total_g * total_g / (total_h + LEAF_L2)
    best = (0, -1, 0.0)
    for f in range(binned.shape[1]):
        b = binned[rows, f]
        cg = np.cumsum(np.bincount(b, weights=gs, minlength=BINS + 1))[:-1]
        ch = np.cumsum(np.bincount(b, weights=hs, minlength=BINS + 1))[:-1]
        ok = (ch >= min_weight) & (total_h - ch >= min_weight)
        if not ok.any():
            continue
        gain = cg**2 / (ch + LEAF_L2) + (total_g - cg) ** 2 / (total_h - ch + LEAF_L2) - parent
        gain[~ok] = 0.0
        k = int(np.argmax(gain))
        if gain[k] > best[2] + 1e-12:
            best = (f, k, float(gain[k]))
    return best


def fit(x: FloatArray, y: FloatArray, weight: FloatArray, names: tuple[str, ...], rounds: int = ROUNDS) -> StrokeModel:
    """Boost ``rounds`` depth-2 trees on the weighted logistic loss of ``y`` (0/1) given ``x`` ``(N, F)``."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    w = np.asarray(weight, np.float64) / max(float(np.sum(weight)), 1e-12) * len(y)
    edges = [np.unique(np.quantile(x[:, f], np.linspace(0, 1, BINS + 1)[1:-1])) for f in range(x.shape[1])]
    binned = np.stack([np.searchsorted(e, x[:, f], side="left") for f, e in enumerate(edges)], axis=1)

    def cut(f: int, b: int) -> float:
        e = edges[f]
        return float(e[b]) if b < len(e) else float("inf")

    rate = float(np.clip(np.average(y, weights=w), 1e-4, 1 - 1e-4))
    bias = float(np.log(rate / (1 - rate)))
    score = np.full(len(y), bias)
    min_weight = MIN_LEAF_WEIGHT * len(y)
    trees: list[list[float]] = []
    for _ in range(rounds):
        p = 1.0 / (1.0 + np.exp(-score))
        g, h = w * (p - y), w * np.maximum(p * (1 - p), 1e-6)
        everyone = np.ones(len(y), bool)
        f, b, gain = _best_split(binned, g, h, everyone, min_weight)
        if gain <= 0.0:
            break
        lo = binned[:, f] <= b
        row: list[float] = [f, cut(f, b)]
        leaves: list[float] = []
        for side in (lo, ~lo):
            fs, bs, gs = _best_split(binned, g, h, side, min_weight)
            if gs <= 0.0:
                fs, bs = f, BINS  # no useful cut: both leaves equal
            row += [fs, cut(fs, bs)]
            child = binned[:, fs] <= bs
            for part in (side & child, side & ~child):
                leaves.append(-LEARNING_RATE * float(g[part].sum()) / (float(h[part].sum()) + LEAF_L2))
        trees.append(row + leaves)
        model = StrokeModel(names, bias, np.asarray([trees[-1]], np.float64))
        score += model.log_odds(x) - bias
    return StrokeModel(names, bias, np.asarray(trees, np.float64).reshape(-1, 10))


def load_model(path: Path = WEIGHTS_PATH) -> StrokeModel:
    """The shipped model."""
    return StrokeModel.from_dict(json.loads(path.read_text(encoding="utf-8")))
