"""Writing instruments students mark sheets with: graphite pencils and pens.

An instrument says how much light its deposit absorbs per BGR channel at full
cover, how wide its stroke is, and how grainy and glossy the deposit looks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INSTRUMENT_NAMES = ("pencil_light", "pencil_mid", "pencil_dark", "pen_blue", "pen_black")


@dataclass(frozen=True)
class Instrument:
    """A pencil or pen.

    Attributes:
        name: One of :data:`INSTRUMENT_NAMES`.
        absorb_bgr: Fraction of light absorbed by a solid deposit, per B, G, R channel.
        width_mm: Stroke width in millimetres.
        grain: 0..1, how much paper tooth breaks up the deposit (graphite > ink).
        gloss: 0..1, how much a graphite deposit brightens toward one side (sheen).
    """

    name: str
    absorb_bgr: tuple[float, float, float]
    width_mm: float
    grain: float
    gloss: float

    @property
    def is_pencil(self) -> bool:
        """True for graphite."""
        return self.name.startswith("pencil")


def sample_instrument(rng: np.random.Generator, name: str | None = None) -> Instrument:
    """Draw a random instrument, optionally of a given kind.

    Light pencil absorbs 38-55% of the light, mid 55-72%, dark 72-88%; pens
    absorb 75-92% (blue ink lets the blue channel through).

    Args:
        rng: Random source.
        name: Instrument kind; random (weighted toward pencil) when None.

    Returns:
        The instrument.

    Examples:
        >>> sample_instrument(np.random.default_rng(0), "pen_blue").is_pencil
        False
    """
    if name is None:
        name = str(rng.choice(INSTRUMENT_NAMES, p=[0.2, 0.3, 0.2, 0.15, 0.15]))
    if name.startswith("pencil"):
        lo, hi = {"pencil_light": (0.38, 0.55), "pencil_mid": (0.55, 0.72)}.get(name, (0.72, 0.88))
        k = float(rng.uniform(lo, hi))
        return Instrument(
            name,
            (k * 0.97, k, k * 1.0),
            float(rng.uniform(0.3, 0.6)),
            float(rng.uniform(0.15, 0.4)),
            float(rng.uniform(0.0, 0.3)),
        )
    if name == "pen_blue":
        k = float(rng.uniform(0.75, 0.92))
        absorb = (k * 0.45, k * 0.8, k)
    elif name == "pen_black":
        k = float(rng.uniform(0.8, 0.92))
        absorb = (k, k, k)
    else:
        raise ValueError(f"expected an instrument in {INSTRUMENT_NAMES}, got {name!r}")
    return Instrument(name, absorb, float(rng.uniform(0.4, 0.8)), 0.05, 0.0)
