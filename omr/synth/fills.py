"""How students mark a sheet: the fill events and the ground truth they imply.

A sheet gets one main instrument (a pencil of some darkness or a pen); each
question then gets one event, drawn with these probabilities:

============== ===== ====================================== ==========
event          p     what is drawn                          truth
============== ===== ====================================== ==========
normal         .655  scribble covering 70-100% of the ring  [label]
partial        .06   scribble covering 50-70%               [label]
sloppy         .07   scribble 15-50% wider than the ring    [label]
blank          .06   nothing                                []
multi          .03   two bubbles shaded                     [a, b]
erased         .03   faint smudge left by an eraser         []
erased_refill  .04   smudge on one bubble, fill on another  [other]
tiny           .02   fill covering 12-30% (ambiguous)       [label] + flag_ok
crossed        .015  an X over a bubble, nothing else       [] + flag_ok
crossed_refill .02   X over one bubble, fill on another     [other] + flag_ok
============== ===== ====================================== ==========

With ``erasures=True`` (:data:`ERASURE_EVENTS`, an opt-in set: the default
sheets stay byte for byte what they were) questions are drawn from a table
rich in erasure residue, spanning what real erasers leave:

============== ===== ====================================== ==========
event          p     what is drawn                          truth
============== ===== ====================================== ==========
normal         .50   as above                               [label]
sloppy         .05   as above                               [label]
partial        .04   as above                               [label]
blank          .03   nothing                                []
multi          .03   two bubbles shaded                     [a, b]
residue        .10   erased-pencil residue alone            []
residue_refill .25   residue on one bubble, fill on another [other]
============== ===== ====================================== ==========

Residue (:meth:`_Marker.residue`) absorbs 3-12% of the light on average where
it lies (grain makes spots of it darker and lighter), is grainy (graphite left in the paper's tooth: grain 0.45-0.85), covers
40-100% of the disc off-centre, and one time in three is smeared 10-45%
beyond the ring (the eraser drags it). The fill label records its absorption,
e.g. ``"pen_blue/residue_refill/0.09"``.

A fill's centre wanders up to 0.6 mm from the ring's centre. Stray marks
(dots, ticks, lines) land near bubbles but never inside a ring. The ID grid
gets a random 8-digit number, one fill per column, usually also handwritten
in the boxes above it; most sheets get a handwritten name at the top.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from omr.synth.instruments import sample_instrument
from omr.synth.raster import ColorImage, px_per_mm
from omr.synth.strokes import (
    PointsPx,
    cross_paths,
    draw_polylines,
    draw_text,
    scribble_paths,
    stroke_coverage,
    tick_paths,
)
from omr.synth.truth import BLANK_DIGIT, SheetTruth

EVENTS: dict[str, float] = {
    "normal": 0.655,
    "partial": 0.06,
    "sloppy": 0.07,
    "blank": 0.06,
    "multi": 0.03,
    "erased": 0.03,
    "erased_refill": 0.04,
    "tiny": 0.02,
    "crossed": 0.015,
    "crossed_refill": 0.02,
}
"""Fill event -> probability per question (sums to 1)."""

ERASURE_EVENTS: dict[str, float] = {
    "normal": 0.50,
    "sloppy": 0.05,
    "partial": 0.04,
    "blank": 0.03,
    "multi": 0.03,
    "residue": 0.10,
    "residue_refill": 0.25,
}
"""Fill event -> probability per question on erasure sheets (``fill_sheet(..., erasures=True)``)."""

RESIDUE_ABSORB = (0.03, 0.12)
"""Mean light absorbed where erased-pencil residue lies (what real erasers leave)."""
RESIDUE_GRAIN = (0.45, 0.85)
"""Graininess of residue: only graphite caught in the paper's tooth stays."""
RESIDUE_SMEAR_RATE = 1 / 3
"""Share of residues the eraser smeared beyond the ring."""

FLAG_OK_EVENTS = frozenset({"tiny", "crossed", "crossed_refill"})

_COVERAGE = {
    "normal": (0.7, 1.0),
    "partial": (0.5, 0.7),
    "sloppy": (0.85, 1.0),
    "tiny": (0.12, 0.3),
}
_MAX_JITTER_MM = 0.6


@dataclass(frozen=True)
class Bubble:
    """One printed bubble, in page millimetres."""

    x_mm: float
    y_mm: float
    r_mm: float


def _bubble(entry: dict[str, Any]) -> Bubble:
    c = entry["center"]
    return Bubble(float(c["x"]), float(c["y"]), float(entry["r"]))


def all_bubbles(meta: dict[str, Any]) -> list[Bubble]:
    """Every bubble of a template (ID grid and answers).

    Examples:
        >>> meta = {"identifier": {"bubbles": []}, "questions": [
        ...     {"question_number": 1, "choices": [{"label": "1", "center": {"x": 1, "y": 2}, "r": 2}]}]}
        >>> all_bubbles(meta)
        [Bubble(x_mm=1.0, y_mm=2.0, r_mm=2.0)]
    """
    out = [_bubble(b) for b in meta["identifier"]["bubbles"]]
    out += [_bubble(c) for q in meta["questions"] for c in q["choices"]]
    return out


class _Marker:
    """Draws marks on one page with one student's habits."""

    def __init__(
        self, page: ColorImage, meta: dict[str, Any], dpi: float, rng: np.random.Generator
    ) -> None:
        self.page, self.rng, self.s = page, rng, px_per_mm(dpi)
        self.tool = sample_instrument(rng)
        self.bubbles = all_bubbles(meta)
        xy = np.array([[b.x_mm, b.y_mm] for b in self.bubbles])
        r = np.array([b.r_mm for b in self.bubbles])
        self.xy_mm, self.r_mm = xy, r
        d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        np.fill_diagonal(d, np.inf)
        gap = float((d - r[:, None] - r[None, :]).min()) if len(r) > 1 else 4.0
        self.max_overflow_mm = max(0.3, 0.45 * gap)
        self.markers = [
            (float(m["center"]["x"]), float(m["center"]["y"]), float(m["size"]))
            for m in meta.get("markers", [])
        ]
        self.page_wh_mm = (
            float(meta["page"]["size"]["width"]),
            float(meta["page"]["size"]["height"]),
        )

    def shade(self, b: Bubble, kind: str) -> float:
        """Scribble a fill of ``kind`` over ``b``; returns its coverage of the ring."""
        rng, s, tool = self.rng, self.s, self.tool
        lo, hi = _COVERAGE[kind]
        best: tuple[float, list[PointsPx]] | None = None
        for _ in range(10):
            jr, ja = _MAX_JITTER_MM * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
            c = ((b.x_mm + jr * np.cos(ja)) * s, (b.y_mm + jr * np.sin(ja)) * s)
            if kind == "sloppy":
                k = rng.uniform(1.15, 1.5, 2)
                semi = np.minimum(k * b.r_mm, b.r_mm + self.max_overflow_mm)
            elif kind == "tiny":
                semi = rng.uniform(0.35, 0.65, 2) * b.r_mm
            else:
                semi = rng.uniform(0.88, 1.12, 2) * b.r_mm
            span = {"partial": rng.uniform(0.45, 0.8), "tiny": rng.uniform(0.6, 1.0)}.get(
                kind, rng.uniform(0.85, 1.0)
            )
            paths = scribble_paths(
                rng,
                c,
                (semi[0] * s, semi[1] * s),
                rng.uniform(0, np.pi),
                tool.width_mm * s * rng.uniform(0.55, 1.25),
                span,
                outline=kind in ("normal", "sloppy") and rng.uniform() < 0.35,
            )
            cov = stroke_coverage(paths, tool.width_mm * s, (b.x_mm * s, b.y_mm * s), b.r_mm * s)
            if lo <= cov <= hi:
                best = (cov, paths)
                break
            if best is None or abs(cov - (lo + hi) / 2) < abs(best[0] - (lo + hi) / 2):
                best = (cov, paths)
        assert best is not None
        draw_polylines(self.page, best[1], tool, s, rng)
        return best[0]

    def erase(self, b: Bubble) -> None:
        """Leave the faint smudge of an erased pencil fill (absorbs 3-10% of light)."""
        rng, s = self.rng, self.s
        pencil = self.tool if self.tool.is_pencil else sample_instrument(rng, "pencil_mid")
        semi = rng.uniform(0.8, 1.2, 2) * b.r_mm * s
        paths = scribble_paths(
            rng,
            (b.x_mm * s, b.y_mm * s),
            (semi[0], semi[1]),
            rng.uniform(0, np.pi),
            pencil.width_mm * s,
            rng.uniform(0.5, 1.0),
            outline=False,
        )
        strength = rng.uniform(0.03, 0.10) / max(pencil.absorb_bgr)
        draw_polylines(
            self.page, paths, pencil, s, rng, strength=strength, smudge_px=rng.uniform(0.3, 1.0) * s
        )

    def residue(self, b: Bubble) -> float:
        """Leave the grainy residue of an erased pencil fill; returns its absorption.

        Absorbs :data:`RESIDUE_ABSORB` of the light on average where it lies, partially
        covers the disc (off-centre, 40-100% of it) and, :data:`RESIDUE_SMEAR_RATE`
        of the time, is smeared 10-45% beyond the ring.
        """
        rng, s = self.rng, self.s
        base = self.tool if self.tool.is_pencil else sample_instrument(rng, "pencil_mid")
        pencil = replace(base, grain=float(rng.uniform(*RESIDUE_GRAIN)), gloss=0.0)
        smeared = bool(rng.uniform() < RESIDUE_SMEAR_RATE)
        jr, ja = _MAX_JITTER_MM * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        c = ((b.x_mm + jr * np.cos(ja)) * s, (b.y_mm + jr * np.sin(ja)) * s)
        if smeared:
            semi_mm = np.minimum(rng.uniform(1.1, 1.45, 2) * b.r_mm, b.r_mm + self.max_overflow_mm)
        else:
            semi_mm = rng.uniform(0.7, 1.05, 2) * b.r_mm
        paths = scribble_paths(
            rng,
            c,
            (semi_mm[0] * s, semi_mm[1] * s),
            rng.uniform(0, np.pi),
            pencil.width_mm * s * rng.uniform(0.5, 1.0),
            rng.uniform(0.4, 1.0),
            outline=False,
        )
        absorb = float(rng.uniform(*RESIDUE_ABSORB))
        # grain thins the deposit by half its strength on average (omr.synth.strokes._texture)
        strength = absorb / (max(pencil.absorb_bgr) * (1.0 - 0.5 * pencil.grain))
        smudge_mm = rng.uniform(0.4, 1.2) if smeared else rng.uniform(0.1, 0.5)
        draw_polylines(
            self.page, paths, pencil, s, rng, strength=strength,
            smudge_px=smudge_mm * s,
        )
        return absorb

    def cross(self, b: Bubble) -> None:
        """Draw an X over ``b``."""
        paths = cross_paths(self.rng, (b.x_mm * self.s, b.y_mm * self.s), b.r_mm * self.s * 1.1)
        draw_polylines(self.page, paths, self.tool, self.s, self.rng)

    def _clear_of_bubbles(self, paths: list[PointsPx], reach_mm: float) -> bool:
        pts_mm = np.concatenate([_densify(p) for p in paths]) / self.s
        d = np.hypot(*(pts_mm[:, None, :] - self.xy_mm[None, :, :]).transpose(2, 0, 1))
        if (d < self.r_mm[None, :] + 0.5 + reach_mm).any():
            return False
        w, h = self.page_wh_mm
        if (pts_mm < 6).any() or (pts_mm[:, 0] > w - 6).any() or (pts_mm[:, 1] > h - 6).any():
            return False
        for mx, my, size in self.markers:
            near = (np.abs(pts_mm[:, 0] - mx) < size / 2 + 3) & (
                np.abs(pts_mm[:, 1] - my) < size / 2 + 3
            )
            if near.any():
                return False
        return True

    def write(self, text: str, x_mm: float, y_mm: float, height_mm: float) -> bool:
        """Handwrite ``text`` centred at (x_mm, y_mm) unless its ink would come near a bubble."""
        s = self.s

        def clear(box_px: tuple[int, int, int, int]) -> bool:
            x0, y0, x1, y1 = (v / s for v in box_px)
            nx = np.clip(self.xy_mm[:, 0], x0, x1)
            ny = np.clip(self.xy_mm[:, 1], y0, y1)
            gap = np.hypot(self.xy_mm[:, 0] - nx, self.xy_mm[:, 1] - ny) - self.r_mm
            if len(gap) and gap.min() <= 0.5:
                return False
            w_mm, h_mm = self.page_wh_mm
            if x0 < 6 or y0 < 4 or x1 > w_mm - 6 or y1 > h_mm - 4:
                return False
            for mx, my, size in self.markers:
                half = size / 2 + 3
                if x0 < mx + half and x1 > mx - half and y0 < my + half and y1 > my - half:
                    return False
            return True

        box = draw_text(
            self.page,
            text,
            (x_mm * s, y_mm * s),
            height_mm * s,
            self.tool,
            s,
            self.rng,
            allowed=clear,
        )
        return box is not None

    def stray(self) -> str | None:
        """Draw one dot, tick or line near (never inside) a bubble; returns its kind."""
        rng, s = self.rng, self.s
        kind = str(rng.choice(["dot", "tick", "line"]))
        for _ in range(40):
            b = self.bubbles[int(rng.integers(len(self.bubbles)))]
            ang = rng.uniform(0, 2 * np.pi)
            dist = b.r_mm + rng.uniform(1.3, 4.5)
            x, y = (b.x_mm + dist * np.cos(ang)) * s, (b.y_mm + dist * np.sin(ang)) * s
            if kind == "dot":
                rad = rng.uniform(0.25, 0.7) * s
                paths = scribble_paths(
                    rng, (x, y), (rad, rad), 0.0, self.tool.width_mm * s * 0.6, 1.0, True
                )
            elif kind == "tick":
                paths = tick_paths(rng, (x, y), rng.uniform(2.0, 4.0) * s)
            else:
                length = rng.uniform(3.0, 20.0) * s
                theta = rng.choice([0.0, np.pi / 2, rng.uniform(0, np.pi)])
                d = np.array([np.cos(theta), np.sin(theta)]) * length / 2
                paths = [np.array([[x - d[0], y - d[1]], [x + d[0], y + d[1]]])]
            if self._clear_of_bubbles(paths, self.tool.width_mm):
                draw_polylines(self.page, paths, self.tool, s, rng)
                return kind
        return None


def _densify(p: PointsPx, step_px: float = 2.0) -> PointsPx:
    out = [p[:1]]
    for a, b in zip(p[:-1], p[1:], strict=True):
        n = max(1, int(np.ceil(np.hypot(*(b - a)) / step_px)))
        t = np.linspace(0, 1, n + 1)[1:, None]
        out.append(a + t * (b - a))
    return np.concatenate(out)


def fill_sheet(
    page: ColorImage,
    meta: dict[str, Any],
    dpi: float,
    rng: np.random.Generator,
    *,
    blank: bool = False,
    blank_id_digit: bool = False,
    stray_marks: int | None = None,
    erasures: bool = False,
) -> SheetTruth:
    """Mark a rendered page as a student would, in place, and return the truth.

    Args:
        page: BGR page rendered from ``meta`` at ``dpi`` (H, W, 3) uint8, modified in place.
        meta: Template meta (mm), see ``omr.template``.
        dpi: Resolution ``page`` was rendered at.
        rng: Random source; same seed, same marks.
        blank: Leave every question and the ID grid empty (the degenerate sheet).
        blank_id_digit: Leave one random ID column empty.
        stray_marks: Number of stray marks; random (Poisson, mean 1.5) when None.
        erasures: Draw questions from :data:`ERASURE_EVENTS` (erasure residue
            alone and beside a changed answer) instead of :data:`EVENTS`.

    Returns:
        Ground truth with empty ``condition``.

    Examples:
        >>> meta = {"page": {"size": {"width": 40, "height": 20}}, "markers": [],
        ...     "identifier": {"digits": 0, "bubbles": []}, "questions": [
        ...     {"question_number": 1, "choices": [{"label": "1", "center": {"x": 10, "y": 10}, "r": 2.5}]}]}
        >>> page = np.full((200, 400, 3), 255, np.uint8)
        >>> fill_sheet(page, meta, 254, np.random.default_rng(0), blank=True).answers
        {'1': []}
    """
    marker = _Marker(page, meta, dpi, rng)
    answers: dict[str, list[str]] = {}
    fills: dict[str, str] = {}
    flag_ok: list[str] = []
    for q in meta["questions"]:
        key = str(q["question_number"])
        choices = [(str(c["label"]), _bubble(c)) for c in q["choices"]]
        table = ERASURE_EVENTS if erasures else EVENTS
        event = "blank" if blank else str(rng.choice(list(table), p=list(table.values())))
        if event == "erased" and not marker.tool.is_pencil:
            event = "crossed"
        if event == "erased_refill" and not marker.tool.is_pencil:
            event = "crossed_refill"
        order = rng.permutation(len(choices))
        first, second = choices[order[0]], choices[order[-1] if len(choices) > 1 else 0]
        marked: list[str] = []
        if event in ("normal", "partial", "sloppy", "tiny"):
            cov = marker.shade(first[1], event)
            marked = [first[0]]
            fills[key] = f"{marker.tool.name}/{event}/{cov:.2f}"
        else:
            fills[key] = f"{marker.tool.name}/{event}"
        if event == "multi" and len(choices) > 1:
            marker.shade(first[1], "normal")
            marker.shade(second[1], "normal")
            marked = sorted([first[0], second[0]])
        elif event in ("erased", "erased_refill"):
            marker.erase(first[1])
        elif event in ("crossed", "crossed_refill"):
            marker.cross(first[1])
        elif event in ("residue", "residue_refill"):
            fills[key] += f"/{marker.residue(first[1]):.2f}"
        if event in ("erased_refill", "crossed_refill", "residue_refill") and len(choices) > 1:
            marker.shade(second[1], "normal")
            marked = [second[0]]
        answers[key] = marked
        if event in FLAG_OK_EVENTS:
            flag_ok.append(key)
    identifier = _fill_identifier(marker, meta, rng, blank, blank_id_digit)
    written = _handwrite(marker, meta, rng, identifier) if not blank else {}
    n_stray = 0 if blank else (int(rng.poisson(1.5)) if stray_marks is None else stray_marks)
    strays = [marker.stray() for _ in range(n_stray)]
    condition = {
        "instrument": marker.tool.name,
        "stray": [k for k in strays if k],
        "handwriting": written,
    }
    return SheetTruth(identifier, answers, flag_ok, fills, condition)


_SYLLABLES = ("ka", "mi", "ro", "sa", "len", "to", "an", "ne", "jo", "li", "ver", "du", "pa", "ri")


def _handwrite(
    marker: _Marker, meta: dict[str, Any], rng: np.random.Generator, identifier: str
) -> dict[str, int]:
    """Write the ID digits in the boxes above the ID grid and a name at the top.

    Returns:
        ``{"id_digits": digits written, "name": 1 if a name was written}``.
    """
    done = {"id_digits": 0, "name": 0}
    bubbles = meta["identifier"]["bubbles"]
    if bubbles and rng.uniform() < 0.8:
        top = min(float(b["center"]["y"]) - float(b["r"]) for b in bubbles)
        columns = sorted({(int(b["digit_index"]), float(b["center"]["x"])) for b in bubbles})
        for (_, x_mm), digit in zip(columns, identifier, strict=False):
            if digit.isdigit():
                y_mm = top - 4.2 + rng.normal(0, 0.3)
                done["id_digits"] += marker.write(digit, x_mm + rng.normal(0, 0.3), y_mm, 3.2)
    if rng.uniform() < 0.7:
        pw = float(meta["page"]["size"]["width"])
        first = "".join(rng.choice(_SYLLABLES, int(rng.integers(2, 4)))).capitalize()
        last = "".join(rng.choice(_SYLLABLES, int(rng.integers(2, 4)))).capitalize()
        x_mm = pw * rng.uniform(0.66, 0.74)
        done["name"] = int(marker.write(f"{first} {last}", x_mm, 13.0 + rng.normal(0, 0.4), 3.5))
    return done


def _fill_identifier(
    marker: _Marker, meta: dict[str, Any], rng: np.random.Generator, blank: bool, blank_digit: bool
) -> str:
    grid: dict[int, dict[int, Bubble]] = {}
    for b in meta["identifier"]["bubbles"]:
        grid.setdefault(int(b["digit_index"]), {})[int(b["number"])] = _bubble(b)
    columns = sorted(grid)
    skip = int(rng.integers(len(columns))) if blank_digit and columns else -1
    out = []
    for i, col in enumerate(columns):
        if blank or i == skip:
            out.append(BLANK_DIGIT)
            continue
        number = int(rng.choice(sorted(grid[col])))
        kind = str(rng.choice(["normal", "partial", "sloppy"], p=[0.85, 0.07, 0.08]))
        marker.shade(grid[col][number], kind)
        out.append(str(number))
    return "".join(out)
