"""Independent synthetic phone-photo benchmark for the OMR engine.

Run (from the repository root)::

    .venv/bin/python bench/omr_independent.py                      # 100 photos, seed 1
    .venv/bin/python bench/omr_independent.py --photos 100 --seed 2 --save-failures
    .venv/bin/python bench/omr_independent.py --regrade            # same photos, current engine

Every photo gets a folder ``<out>/seed<S>/p<NNNN>/`` with ``image.jpg``,
``truth.json`` (labels per question, ``flag_ok``, the ID, every condition used)
and ``result.json`` (the engine's output of ``omr.grade.grade_image``).
``--save-failures`` copies failing photos with truth, result and rectified
crops of the failing rows into ``<out>/failures/``. A summary with a breakdown
by condition is printed and written to ``<out>/seed<S>/summary.{txt,json}``.

This generator was written without looking at the project's own generator
(``omr/synth``) or scorer. What it does its own way:

* **Physical camera model.** The sheet is a 3-D surface (flat, bowed, creased
  down the middle or with a lifted corner) seen by a pinhole camera with a
  phone's field of view (63-77 degrees), a random tilt (0-30 degrees, any
  direction) and roll (any angle, half the time near 0/90/180/270). The image
  is produced by inverse mapping (a fixed-point solve of the projection of the
  curved page) and ``cv2.remap``, not by one ``warpPerspective``.
* **Printing.** The template raster is re-printed at 96-100 % scale with a
  small shift/rotation, lighter toner and off-white textured paper.
* **Ink model.** Marks are strokes drawn at 4x super-sampling (zig-zag
  hatching, spirals, outline + hatching, felt-tip dabs, handwritten digits),
  composited multiplicatively (ink over print) with stroke overlap darkening,
  a per-sheet paper-tooth texture for pencil grain and bleed for felt tips.
* **Scene and light in linear RGB.** Wood / fabric / laminate backgrounds with
  clutter (pens, phone, sticky notes, other papers), a drop shadow of the page,
  an optional thumb holding the page edge, illumination gradient, vignette,
  a soft hand/phone shadow with a cooler tint, an optional glare spot, colour
  cast, depth-of-field blur gradient, motion blur, signal-dependent noise,
  then a phone-like tone curve, sharpening (halo) and Pillow JPEG with random
  chroma subsampling.

Scoring (per question of each sheet): *flagged* = status multi / ambiguous /
low_confidence / error, an ``alignment*`` review reason, or a rejected sheet
(``grade_image`` raised). A true two-answer question read as ``multi`` with
exactly those labels is right. ``flag_ok`` questions (very light / tiny marks,
crossed-out or erased bubbles) are right when read correctly or flagged.
*silent* = unflagged and wrong. A sheet is fully right when every mark is
right and the ID is read exactly (status ok).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from io import BytesIO
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DPI = 300
PPM = DPI / 25.4  # template raster px per mm
PAGE_W, PAGE_H = 297.0, 210.0
SS = 4  # super-sampling of ink strokes
TEMPLATES = [(20, 5), (20, 4), (30, 5), (30, 4), (40, 5), (50, 5), (50, 4)]
FRAMES = [(4000, 3000), (4032, 3024), (3648, 2736), (3456, 2592), (3264, 2448)]
FLAG_STATUSES = {"multi", "ambiguous", "low_confidence", "error"}

Items = list[tuple[Any, ...]]


# --------------------------------------------------------------------------- templates


def ensure_templates(out: Path) -> dict[str, Path]:
    """Write every template used (CLI ``ai-worker omr template``) once; return name -> dir."""
    exe = Path(sys.executable).parent / "ai-worker"
    cmd0 = [str(exe)] if exe.exists() else ["ai-worker"]
    dirs = {}
    for q, c in TEMPLATES:
        name = f"q{q}c{c}"
        d = out / "templates" / name
        if not (d / "meta.json").exists() or not (d / "sheet.png").exists():
            d.mkdir(parents=True, exist_ok=True)
            subprocess.run(cmd0 + ["omr", "template", "--questions", str(q), "--choices", str(c),
                                   "--out", str(d), "--dpi", str(DPI), "--force"],
                           check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        dirs[name] = d
    return dirs


# --------------------------------------------------------------------------- ink


def _u(rng: np.random.Generator, a: float, b: float) -> float:
    return float(rng.uniform(a, b))


def _wobble(pts: np.ndarray, rng: np.random.Generator, amp: float, per_seg: int = 5) -> np.ndarray:
    """Densify a polyline and add smooth hand tremor (mm)."""
    out = []
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        t = np.linspace(0, 1, per_seg, endpoint=False)[:, None]
        out.append(a + (b - a) * t)
    out.append(pts[-1:])
    p = np.concatenate(out)
    n = rng.normal(0, amp, p.shape)
    k = np.array([0.25, 0.5, 0.25])
    for j in range(2):
        n[:, j] = np.convolve(n[:, j], k, mode="same")
    return p + n


def zigzag(rng: np.random.Generator, c: np.ndarray, R: float, w: float, s: float, ang: float) -> Items:
    u = np.array([math.cos(ang), math.sin(ang)])
    nrm = np.array([-math.sin(ang), math.cos(ang)])
    rin = max(R - w / 2, 0.3)
    m = max(2, math.ceil(2 * rin / s) + 1)
    ts = np.linspace(-rin, rin, m) + rng.normal(0, 0.08 * s, m)
    pts = []
    for k, t in enumerate(np.clip(ts, -rin, rin)):
        h = math.sqrt(max(rin * rin - t * t, 0.0)) * _u(rng, 0.88, 1.12)
        side = -1 if k % 2 == 0 else 1
        pts.append(c + t * nrm + side * h * u)
    return [("line", _wobble(np.array(pts), rng, 0.03), w)]


def spiral(rng: np.random.Generator, c: np.ndarray, R: float, w: float, s: float) -> Items:
    rin = max(R - w / 2, 0.3)
    loops = max(2.0, rin / s + 0.7)
    th = np.linspace(0, 2 * math.pi * loops, int(36 * loops))
    rho = rin * (1 - th / th[-1]) + rng.normal(0, 0.03, th.size)
    ecc, rot = _u(rng, 0.85, 1.0), _u(rng, 0, math.pi)
    x, y = rho * np.cos(th), rho * ecc * np.sin(th)
    pts = np.stack([x * math.cos(rot) - y * math.sin(rot), x * math.sin(rot) + y * math.cos(rot)], 1)
    drift = rng.normal(0, 0.04, pts.shape).cumsum(0) * 0.2
    return [("line", c + pts + drift, w)]


def outline(rng: np.random.Generator, c: np.ndarray, R: float, w: float) -> Items:
    th = np.linspace(0, 2 * math.pi * _u(rng, 1.0, 1.25), 60) + _u(rng, 0, 6.3)
    rr = (R - w / 2) * (1 + rng.normal(0, 0.02, th.size))
    return [("line", c + np.stack([rr * np.cos(th), rr * np.sin(th)], 1), w)]


def dab(rng: np.random.Generator, c: np.ndarray, R: float) -> Items:
    th = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    k = np.convolve(rng.normal(0, 0.06, th.size), np.ones(5) / 5, mode="same")
    rr = R * (1 + k) * _u(rng, 0.93, 1.0)
    return [("poly", c + np.stack([rr * np.cos(th), rr * np.sin(th) * _u(rng, 0.9, 1.0)], 1))]


def cross(rng: np.random.Generator, c: np.ndarray, r: float, w: float) -> Items:
    items: Items = []
    a0 = _u(rng, -0.3, 0.3) + math.pi / 4
    for a in (a0, a0 + math.pi / 2 + _u(rng, -0.25, 0.25)):
        h = r * _u(rng, 1.0, 1.35)
        d = np.array([math.cos(a), math.sin(a)])
        items.append(("line", _wobble(np.array([c - h * d, c + h * d]), rng, 0.03, 8), w))
    return items


def _raster(items: Items, x0: int, y0: int, w: int, h: int, ppm: float) -> np.ndarray:
    """Per-pixel stroke count at SS x resolution for the page patch at (x0, y0)."""
    amount = np.zeros((h * SS, w * SS), np.float32)
    tmp = np.zeros_like(amount, dtype=np.uint8)

    def to_ss(p: np.ndarray) -> np.ndarray:
        q = (np.asarray(p, np.float64) * ppm - [x0, y0] + 0.5) * SS - 0.5
        return np.round(q * 16).astype(np.int32)

    for it in items:
        tmp[:] = 0
        if it[0] == "line":
            th = max(1, round(it[2] * ppm * SS))
            cv2.polylines(tmp, [to_ss(it[1])], False, 255, th, cv2.LINE_AA, 4)
        elif it[0] == "poly":
            cv2.fillPoly(tmp, [to_ss(it[1])], 255, cv2.LINE_AA, 4)
        elif it[0] == "text":
            _, text, org, h_mm, font, th_mm = it
            scale = h_mm * ppm * SS / 22.0
            o = to_ss(np.array(org))[None] // 16
            cv2.putText(tmp, text, (int(o[0, 0]), int(o[0, 1])), font, scale, 255,
                        max(1, round(th_mm * ppm * SS)), cv2.LINE_AA)
        amount += tmp.astype(np.float32) / 255.0
    return amount


class Paper:
    """The printed sheet (float RGB, 0..1, sRGB-encoded) being written on."""

    def __init__(self, rgb: np.ndarray, ppm: float, rng: np.random.Generator) -> None:
        self.rgb = rgb
        self.ppm = ppm
        h, w = rgb.shape[:2]
        tooth = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 0.8)
        self.tooth = tooth / (tooth.std() + 1e-6)

    def patch(self, bbox: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        x0 = max(int(math.floor(bbox[0] * self.ppm)) - 2, 0)
        y0 = max(int(math.floor(bbox[1] * self.ppm)) - 2, 0)
        x1 = min(int(math.ceil(bbox[2] * self.ppm)) + 3, self.rgb.shape[1])
        y1 = min(int(math.ceil(bbox[3] * self.ppm)) + 3, self.rgb.shape[0])
        return x0, y0, x1 - x0, y1 - y0

    def ink(self, items: Items, ink: dict[str, Any], rng: np.random.Generator,
            bbox: tuple[float, float, float, float], fade: float = 1.0,
            smear_mm: float = 0.0) -> tuple[np.ndarray, tuple[int, int]]:
        """Composite strokes with the instrument ``ink``; returns opacity patch and origin."""
        x0, y0, w, h = self.patch(bbox)
        amount = _raster(items, x0, y0, w, h, self.ppm)
        a_ss = 1.0 - np.power(1.0 - ink["a_pass"], amount)
        a = cv2.resize(a_ss, (w, h), interpolation=cv2.INTER_AREA)
        if ink["bleed_mm"] > 0:
            a = cv2.GaussianBlur(a, (0, 0), ink["bleed_mm"] * self.ppm)
        col = np.asarray(ink["color"], np.float32)
        if ink["grain"] > 0:
            t = self.tooth[y0:y0 + h, x0:x0 + w]
            gf = np.clip(1.0 - ink["grain"] * (t + 0.35), 0.0, 1.0)
            a *= gf
            if ink.get("tone_comp"):  # the colour is the mark's apparent tone: darken the graphite
                col = 1.0 - np.minimum((1.0 - col) / (ink["a_pass"] * float(gf.mean())), 0.95)
        if ink.get("pressure_var", 0) > 0:
            lf = cv2.resize(rng.standard_normal((4, 4)).astype(np.float32), (w, h),
                            interpolation=cv2.INTER_CUBIC)
            a *= np.clip(1.0 + ink["pressure_var"] * lf, 0.5, 1.1)
        a *= fade
        if smear_mm > 0:
            a = 0.6 * cv2.GaussianBlur(a, (0, 0), smear_mm * self.ppm) + 0.4 * a
        a = np.clip(a, 0.0, 1.0)
        self.last_dark = a * float(1.0 - col.mean())
        self.rgb[y0:y0 + h, x0:x0 + w] *= 1.0 - a[..., None] * (1.0 - col)
        return a, (x0, y0)

    def disc(self, a: np.ndarray, org: tuple[int, int], c: np.ndarray, R: float) -> np.ndarray:
        h, w = a.shape
        yy, xx = np.mgrid[0:h, 0:w]
        return np.hypot(xx + org[0] - c[0] * self.ppm, yy + org[1] - c[1] * self.ppm) <= R * self.ppm

    def coverage(self, a: np.ndarray, org: tuple[int, int], c: np.ndarray, R: float) -> float:
        m = self.disc(a, org, c, R)
        return float((a[m] > 0.4).mean()) if m.any() else 0.0


# --------------------------------------------------------------------------- the student


def sheet_style(rng: np.random.Generator) -> dict[str, Any]:
    """Pick the instrument of the sheet."""
    kind = str(rng.choice(["pencil", "ballpoint", "felt"], p=[0.45, 0.35, 0.20]))
    if kind == "pencil":
        grade = "2B" if rng.random() < 0.5 else "HB"
        grey = _u(rng, 60, 110) if grade == "2B" else _u(rng, 105, 150)
        return {"kind": "pencil", "name": f"pencil_{grade}", "grey": grey, "cast": (1.0, 1.0, 1.03),
                "width": _u(rng, 0.45, 0.9), "a_pass": _u(rng, 0.85, 0.97),
                "grain": _u(rng, 0.1, 0.3) if grade == "2B" else _u(rng, 0.2, 0.45),
                "bleed_mm": 0.0, "pressure_var": 0.12, "cov": (0.75, 1.0),
                "styles": (("zigzag", 0.5), ("spiral", 0.25), ("outline_zigzag", 0.25))}
    if kind == "ballpoint":
        blue = rng.random() < 0.5
        col = (_u(rng, 25, 45), _u(rng, 35, 60), _u(rng, 110, 160)) if blue else (_u(rng, 20, 50),) * 3
        return {"kind": "ballpoint", "name": "ballpoint_blue" if blue else "ballpoint_black",
                "rgb": col, "width": _u(rng, 0.3, 0.5), "a_pass": _u(rng, 0.8, 0.95),
                "grain": _u(rng, 0.03, 0.1), "bleed_mm": 0.0, "pressure_var": 0.08, "cov": (0.8, 1.0),
                "styles": (("spiral", 0.45), ("zigzag", 0.4), ("outline_zigzag", 0.15))}
    blue = rng.random() < 0.4
    col = (_u(rng, 20, 40), _u(rng, 40, 70), _u(rng, 120, 160)) if blue else (_u(rng, 10, 35),) * 3
    return {"kind": "felt", "name": "felt_blue" if blue else "felt_black", "rgb": col,
            "width": _u(rng, 0.9, 1.6), "a_pass": _u(rng, 0.9, 0.98), "grain": 0.02,
            "bleed_mm": 0.06, "pressure_var": 0.04, "cov": (0.85, 1.0),
            "styles": (("dab", 0.5), ("zigzag", 0.5))}


def ink_of(sty: dict[str, Any], rng: np.random.Generator, grey: float | None = None) -> dict[str, Any]:
    """Per-mark ink (pressure jitter) of the sheet's instrument."""
    if sty["kind"] == "pencil" or grey is not None:
        g = (grey if grey is not None else sty["grey"] + rng.normal(0, 8)) / 255.0
        col = tuple(min(1.0, g * k) for k in sty.get("cast", (1.0, 1.0, 1.03)))
        return {"color": col, "a_pass": sty.get("a_pass", 0.9), "grain": sty.get("grain", 0.35),
                "bleed_mm": 0.0, "pressure_var": 0.12, "tone_comp": True}
    col = tuple(min(1.0, (v + rng.normal(0, 4)) / 255.0) for v in sty["rgb"])
    return {"color": col, "a_pass": sty["a_pass"], "grain": sty["grain"],
            "bleed_mm": sty["bleed_mm"], "pressure_var": sty["pressure_var"]}


def draw_fill(paper: Paper, rng: np.random.Generator, sty: dict[str, Any], c: np.ndarray, r: float,
              *, scale_r: tuple[float, float] = (0.85, 1.15), ink: dict[str, Any] | None = None,
              fade: float = 1.0, smear_mm: float = 0.0) -> dict[str, float]:
    """Fill the bubble at ``c`` (paper mm) of radius ``r``; returns what was drawn."""
    R = r * _u(rng, *scale_r)
    off = r * _u(rng, 0.0, 0.25)
    phi = _u(rng, 0, 2 * math.pi)
    fc = c + off * np.array([math.cos(phi), math.sin(phi)])
    cov_t = _u(rng, *sty["cov"])
    w = sty["width"] * _u(rng, 0.9, 1.1)
    s = w / cov_t * _u(rng, 0.95, 1.15)
    names, probs = zip(*sty["styles"], strict=True)
    style = str(rng.choice(names, p=probs))
    ang = _u(rng, -0.6, 0.6) + (math.pi / 2 if rng.random() < 0.3 else 0.0)
    if style == "zigzag":
        items = zigzag(rng, fc, R, w, s, ang)
    elif style == "spiral":
        items = spiral(rng, fc, R, w, s)
    elif style == "outline_zigzag":
        items = outline(rng, fc, R, w) + zigzag(rng, fc, R * 0.92, w, s, ang)
    else:
        items = dab(rng, fc, R) + zigzag(rng, fc, R * 0.9, w, s * 1.4, ang)
    ink = ink or ink_of(sty, rng)
    bbox = (fc[0] - R - 1, fc[1] - R - 1, fc[0] + R + 1, fc[1] + R + 1)
    # cross-hatch until the target coverage is (about) reached, like a student would
    x0, y0, pw, ph = paper.patch(bbox)
    yy, xx = np.mgrid[0:ph * SS, 0:pw * SS]
    d = np.hypot((xx + 0.5) / SS - 0.5 + x0 - fc[0] * paper.ppm, (yy + 0.5) / SS - 0.5 + y0 - fc[1] * paper.ppm)
    m = d <= R * paper.ppm
    for _ in range(3):
        amt = _raster(items, x0, y0, pw, ph, paper.ppm)
        if (amt[m] > 0.5).mean() >= max(cov_t - 0.02, 0.78):
            break
        items += zigzag(rng, fc, R * 0.95, w, s * 1.2, ang + _u(rng, 0.9, 1.6))
    else:
        amt = _raster(items, x0, y0, pw, ph, paper.ppm)
    stroke_cov = float((amt[m] > 0.5).mean())
    a, org = paper.ink(items, ink, rng, bbox, fade=fade, smear_mm=smear_mm)
    return {"R_over_r": R / r, "offset_over_r": off / r, "stroke_coverage": stroke_cov,
            "coverage": paper.coverage(a, org, fc, R),
            "bubble_coverage": paper.coverage(a, org, c, r - 0.25), "style": style,
            "grey": float(np.mean(ink["color"]) * 255),
            "inner_mean_dark": float(paper.last_dark[paper.disc(a, org, c, r - 0.65)].mean())}


def handwrite(paper: Paper, rng: np.random.Generator, sty: dict[str, Any], text: str,
              org: tuple[float, float], h_mm: float) -> None:
    font = int(rng.choice([cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SIMPLEX | cv2.FONT_ITALIC,
                           cv2.FONT_HERSHEY_PLAIN]))
    th = _u(rng, 0.25, 0.45) if sty["kind"] != "felt" else _u(rng, 0.5, 0.8)
    ink = ink_of(sty, rng)
    bbox = (org[0] - 1, org[1] - h_mm * 1.6, org[0] + h_mm * 0.9 * len(text) + 2, org[1] + h_mm * 0.6)
    paper.ink([("text", text, org, h_mm, font, th)], ink, rng, bbox)


def bubble_free(meta: dict[str, Any], x: float, y: float, margin: float) -> bool:
    for q in meta["questions"]:
        for ch in q["choices"]:
            if abs(ch["center"]["x"] - x) < margin + ch["r"] and abs(ch["center"]["y"] - y) < margin + ch["r"]:
                return False
    for b in meta["identifier"]["bubbles"]:
        if abs(b["center"]["x"] - x) < margin + b["r"] and abs(b["center"]["y"] - y) < margin + b["r"]:
            return False
    return True


def write_sheet(paper: Paper, rng: np.random.Generator, meta: dict[str, Any],
                to_paper: Callable[[float, float], np.ndarray], scale: float) -> dict[str, Any]:
    """Fill in the sheet like a student; returns the truth."""
    sty = sheet_style(rng)
    special_rate = 0.06 if rng.random() < 0.4 else 0.0
    answers: dict[str, Any] = {}
    drawn: list[dict[str, Any]] = []
    for q in meta["questions"]:
        labels = [c["label"] for c in q["choices"]]
        pos = {c["label"]: (to_paper(c["center"]["x"], c["center"]["y"]), c["r"] * scale) for c in q["choices"]}
        x = rng.random()
        qn = str(q["question_number"])
        if x < 0.15:
            answers[qn] = {"labels": [], "flag_ok": False, "kind": "blank"}
            continue
        if x < 0.18:
            two = sorted(rng.choice(labels, 2, replace=False).tolist())
            det = [draw_fill(paper, rng, sty, *pos[lb]) for lb in two]
            drawn += det
            answers[qn] = {"labels": two, "flag_ok": False, "kind": "two", "detail": det}
            continue
        lb = str(rng.choice(labels))
        if x < 0.18 + special_rate:
            kinds = ["light", "tiny", "crossed", "erased"] if sty["kind"] == "pencil" else ["tiny", "crossed"]
            kind = str(rng.choice(kinds))
            other = str(rng.choice([v for v in labels if v != lb]))
            info: dict[str, Any] = {"kind": kind, "flag_ok": True}
            if kind == "light":
                g = _u(rng, 165, 205)
                ink = {"color": (g / 255,) * 3, "a_pass": _u(rng, 0.7, 0.9), "grain": _u(rng, 0.3, 0.5),
                       "bleed_mm": 0.0, "pressure_var": 0.15, "tone_comp": True}
                info["detail"] = draw_fill(paper, rng, sty, *pos[lb], ink=ink)
                info["labels"] = [lb]
            elif kind == "tiny":
                info["detail"] = draw_fill(paper, rng, sty, *pos[lb], scale_r=(0.3, 0.5))
                info["labels"] = [lb]
            elif kind == "crossed":
                c_o, r_o = pos[other]
                filled_first = rng.random() < 0.5
                if filled_first:
                    draw_fill(paper, rng, sty, c_o, r_o)
                ink = ink_of(sty, rng)
                wx = max(sty["width"], 0.35) if sty["kind"] != "felt" else sty["width"] * 0.8
                bbox = (c_o[0] - 2 * r_o, c_o[1] - 2 * r_o, c_o[0] + 2 * r_o, c_o[1] + 2 * r_o)
                paper.ink(cross(rng, c_o, r_o, wx), ink, rng, bbox)
                info["detail"] = draw_fill(paper, rng, sty, *pos[lb])
                info["crossed"] = other
                info["crossed_over_fill"] = filled_first
                info["labels"] = [lb]
            else:  # erased pencil residue, maybe a replacement answer
                draw_fill(paper, rng, sty, *pos[other], fade=_u(rng, 0.06, 0.16), smear_mm=0.3)
                info["erased"] = other
                if rng.random() < 0.6:
                    info["detail"] = draw_fill(paper, rng, sty, *pos[lb])
                    info["labels"] = [lb]
                else:
                    info["labels"] = []
            answers[qn] = info
            continue
        drawn.append(draw_fill(paper, rng, sty, *pos[lb]))
        answers[qn] = {"labels": [lb], "flag_ok": False, "kind": "single", "detail": drawn[-1]}

    digits = "".join(str(int(d)) for d in rng.integers(0, 10, 8))
    cols: dict[int, dict[int, Any]] = defaultdict(dict)
    for b in meta["identifier"]["bubbles"]:
        cols[int(b["digit_index"])][int(b["number"])] = b
    id_detail = []
    for i, ch in enumerate(digits, start=1):
        b = cols[i][int(ch)]
        id_detail.append(draw_fill(paper, rng, sty, to_paper(b["center"]["x"], b["center"]["y"]), b["r"] * scale))
    drawn += id_detail
    extras = []
    if rng.random() < 0.8:  # digits written in the boxes above the grid
        for i, ch in enumerate(digits, start=1):
            b = cols[i][0]
            x, y = b["center"]["x"] - 1.3 + rng.normal(0, 0.3), b["center"]["y"] - b["r"] - 2.2 + rng.normal(0, 0.3)
            handwrite(paper, rng, sty, ch, tuple(to_paper(x, y)), _u(rng, 3.0, 3.8))
        extras.append("id_boxes")
    if rng.random() < 0.8:
        name = "".join(rng.choice(list("abcdefghijklmnoprstuvy"), int(rng.integers(5, 11))))
        handwrite(paper, rng, sty, name.capitalize(), tuple(to_paper(_u(rng, 182, 200), 14.8)), _u(rng, 3.5, 5))
        extras.append("name")
    if rng.random() < 0.3 and bubble_free(meta, 240, 110, 45):
        for _ in range(int(rng.integers(1, 4))):
            txt = str(rng.choice(["12x4=48", "Q7?", "check 3", "3.14", "ok", "v=at", "25+17"]))
            handwrite(paper, rng, sty, txt, tuple(to_paper(_u(rng, 205, 250), _u(rng, 50, 170))), _u(rng, 3, 5))
        extras.append("margin_notes")
    if rng.random() < 0.15:  # ticks next to some question numbers (outside every bubble)
        for q in rng.choice(meta["questions"], int(rng.integers(1, 4)), replace=False):
            c0 = q["choices"][0]["center"]
            p = to_paper(c0["x"] - 12.5, c0["y"] + 0.5)
            tick = np.array([p + [-0.8, -0.2], p + [-0.2, 0.7], p + [1.0, -1.1]])
            paper.ink([("line", tick, 0.4)], ink_of(sty, rng), rng, (p[0] - 2, p[1] - 2, p[0] + 2, p[1] + 2))
        extras.append("ticks")
    covs = [d["coverage"] for d in drawn] or [1.0]
    return {"answers": answers, "id": digits, "id_detail": id_detail, "instrument": sty["name"], "special_rate": special_rate,
            "extras": extras, "fill_coverage_mean": float(np.mean(covs)),
            "fill_coverage_min": float(np.min(covs)),
            "fill_grey_mean": float(np.mean([d["grey"] for d in drawn])) if drawn else None,
            "inner_dark_min": float(np.min([d["inner_mean_dark"] for d in drawn])) if drawn else None,
            "inner_dark_mean": float(np.mean([d["inner_mean_dark"] for d in drawn])) if drawn else None}


# --------------------------------------------------------------------------- camera


def curl_fn(rng: np.random.Generator) -> tuple[str, float, Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """Height of the paper towards the camera (negative z), mm."""
    x = rng.random()
    if x < 0.45:
        return "flat", 0.0, lambda X, Y: np.zeros_like(X)
    if x < 0.75:
        a = _u(rng, -4, 5)
        if rng.random() < 0.6:
            return "bow_x", a, lambda X, Y: -a * ((X - PAGE_W / 2) / (PAGE_W / 2)) ** 2
        return "bow_y", a, lambda X, Y: -a * ((Y - PAGE_H / 2) / (PAGE_H / 2)) ** 2
    if x < 0.88:
        a = _u(rng, 1.5, 5)
        return "crease", a, lambda X, Y: -a * (1 - np.abs(X - PAGE_W / 2) / (PAGE_W / 2))
    a = _u(rng, 2, 6)
    cx, cy = (0.0, PAGE_W)[int(rng.integers(2))], (0.0, PAGE_H)[int(rng.integers(2))]
    return "corner_lift", a, lambda X, Y: -a * np.clip(1 - np.hypot(X - cx, Y - cy) / 70.0, 0, 1) ** 2


class Camera:
    """Pinhole camera looking at the (possibly curved) page; paper mm <-> image px."""

    def __init__(self, rng: np.random.Generator, W: int, H: int, tilt: float, az: float, roll: float,
                 fill: float, hfov: float, z: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
        self.W, self.H, self.z = W, H, z
        self.f = 0.5 * max(W, H) / math.tan(math.radians(hfov) / 2)
        rt = cv2.Rodrigues(np.array([math.cos(az), math.sin(az), 0.0]) * math.radians(tilt))[0]
        cr, sr = math.cos(math.radians(roll)), math.sin(math.radians(roll))
        self.R = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1.0]]) @ rt
        self.axis = self.R.T @ np.array([0, 0, 1.0])
        self.target = np.array([_u(rng, -15, 15), _u(rng, -10, 10), 0.0])
        self.c = np.zeros(2)
        t = np.linspace(0, 1, 30)
        bx = np.concatenate([t * PAGE_W, np.full(30, PAGE_W), (1 - t) * PAGE_W, np.zeros(30)])
        by = np.concatenate([np.zeros(30), t * PAGE_H, np.full(30, PAGE_H), (1 - t) * PAGE_H])
        lo, hi = 50.0, 50000.0
        for _ in range(60):
            self.D = math.sqrt(lo * hi)
            p = self.project(bx, by)
            ext = max(np.ptp(p[:, 0]) / W, np.ptp(p[:, 1]) / H)
            lo, hi = (self.D, hi) if ext > fill else (lo, self.D)
        p = self.project(bx, by)
        m = 0.015 * max(W, H)
        lo_c = np.array([m - p[:, 0].min(), m - p[:, 1].min()])
        hi_c = np.array([W - m - p[:, 0].max(), H - m - p[:, 1].max()])
        self.c = lo_c + (hi_c - lo_c) * rng.beta(3, 3, 2)  # people centre the page, roughly
        corners = np.array([[0, 0], [PAGE_W, 0], [PAGE_W, PAGE_H], [0, PAGE_H]], np.float64)
        img = self.project(corners[:, 0], corners[:, 1], flat=True)
        self.Hflat = cv2.getPerspectiveTransform(corners.astype(np.float32), img.astype(np.float32))
        self.Hinv = np.linalg.inv(self.Hflat)

    def project(self, x: np.ndarray, y: np.ndarray, flat: bool = False) -> np.ndarray:
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        zz = np.zeros_like(x) if flat else self.z(x, y)
        P = np.stack([x - PAGE_W / 2, y - PAGE_H / 2, zz], -1)
        Pc = (P - (self.target - self.D * self.axis)) @ self.R.T
        return self.f * Pc[..., :2] / Pc[..., 2:3] + self.c

    @staticmethod
    def _h(M: np.ndarray, p: np.ndarray) -> np.ndarray:
        q = p @ M[:, :2].T + M[:, 2]
        return q[..., :2] / q[..., 2:3]

    def inverse(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Image px -> paper mm on the curved page (fixed-point on the projection)."""
        p = np.stack([u, v], -1).astype(np.float64)
        q = self._h(self.Hinv, p)
        for _ in range(6):
            e = p - self.project(q[..., 0], q[..., 1])
            q = self._h(self.Hinv, self._h(self.Hflat, q) + e)
        return q

    def scale_range(self) -> tuple[float, float, float]:
        gx, gy = np.meshgrid(np.linspace(5, PAGE_W - 5, 30), np.linspace(5, PAGE_H - 5, 22))
        p = self.project(gx, gy)
        jx = np.linalg.norm(self.project(gx + 1, gy) - p, axis=-1)
        jy = np.linalg.norm(self.project(gx, gy + 1) - p, axis=-1)
        s = np.sqrt(jx * jy)
        return float(s.min()), float(s.mean()), float(s.max())


# --------------------------------------------------------------------------- scene


def background(rng: np.random.Generator, W: int, H: int) -> tuple[np.ndarray, str]:
    """Desk/fabric/laminate albedo (float32 RGB 0..1) at full size."""
    w2, h2 = W // 2, H // 2
    kind = str(rng.choice(["wood", "fabric", "laminate", "dark"], p=[0.35, 0.2, 0.3, 0.15]))
    yy, xx = np.mgrid[0:h2, 0:w2].astype(np.float32)
    low = cv2.resize(rng.standard_normal((12, 16)).astype(np.float32), (w2, h2), interpolation=cv2.INTER_CUBIC)
    if kind == "wood":
        a = _u(rng, 0, math.pi)
        t = xx * math.cos(a) + yy * math.sin(a)
        n = yy * math.cos(a) - xx * math.sin(a)
        nn = (n - n.min()) / (np.ptp(n) + 1e-6) * 399
        fib = np.interp(nn, np.arange(400), np.convolve(rng.standard_normal(400), np.ones(3) / 3, "same"))
        grain1d = np.interp(nn, np.arange(400), np.cumsum(rng.normal(0, 0.15, 400)))
        rings = 0.5 + 0.5 * np.sin(2 * math.pi * (n / _u(rng, 60, 160) + grain1d + 0.25 * low + 0.0005 * t))
        streak = fib.astype(np.float32)
        c1 = np.array([_u(rng, 0.45, 0.7), _u(rng, 0.3, 0.45), _u(rng, 0.15, 0.3)], np.float32)
        c2 = c1 * _u(rng, 0.65, 0.85)
        img = c1 * (1 - rings[..., None]) + c2 * rings[..., None]
        img *= (1 + 0.03 * streak)[..., None]
    elif kind == "fabric":
        p = _u(rng, 3, 6)
        weave = np.sin(2 * math.pi * xx / p) * np.sin(2 * math.pi * yy / p)
        col = rng.uniform(0.15, 0.7, 3).astype(np.float32)
        img = col * (1 + 0.08 * weave + 0.05 * low)[..., None]
    elif kind == "laminate":
        col = np.full(3, _u(rng, 0.55, 0.92), np.float32) * rng.uniform(0.9, 1.05, 3).astype(np.float32)
        img = col * (1 + 0.02 * low)[..., None]
    else:
        col = rng.uniform(0.05, 0.25, 3).astype(np.float32)
        img = col * (1 + 0.06 * low)[..., None]
    img = img + rng.normal(0, 0.01, img.shape).astype(np.float32)
    return cv2.resize(np.clip(img, 0, 1).astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR), kind


def clutter(rng: np.random.Generator, img: np.ndarray, s: float) -> list[str]:
    """Objects on the desk (under the page): pens, phone, sticky notes, other paper."""
    H, W = img.shape[:2]
    placed = []
    for _ in range(int(rng.integers(0, 4))):
        kind = str(rng.choice(["pen", "phone", "sticky", "paper"]))
        w_mm, h_mm, col = {
            "pen": (140, 9, rng.uniform(0.05, 0.8, 3)),
            "phone": (150, 72, np.full(3, _u(rng, 0.03, 0.12))),
            "sticky": (76, 76, np.array([_u(rng, 0.85, 1), _u(rng, 0.8, 0.95), _u(rng, 0.2, 0.5)])),
            "paper": (210, 297, np.full(3, _u(rng, 0.85, 0.95))),
        }[kind]
        c = np.array([_u(rng, 0, W), _u(rng, 0, H)])
        a = _u(rng, 0, math.pi)
        rect = ((float(c[0]), float(c[1])), (w_mm * s, h_mm * s), math.degrees(a))
        pts = cv2.boxPoints(rect).astype(np.int32)
        cv2.fillConvexPoly(img, pts, tuple(float(v) for v in col), cv2.LINE_AA)
        if kind == "paper":
            for k in range(12):
                off = (k - 6) * 8 * s
                d = np.array([math.cos(a), math.sin(a)])
                n = np.array([-d[1], d[0]])
                p0 = c + n * off - d * 80 * s
                p1 = c + n * off + d * _u(rng, 20, 80) * s
                cv2.line(img, tuple(int(v) for v in p0), tuple(int(v) for v in p1), (0.35, 0.35, 0.35),
                         max(1, int(0.6 * s)), cv2.LINE_AA)
        placed.append(kind)
    return placed


def hand_shadow(rng: np.random.Generator, W: int, H: int, cam: Camera) -> tuple[np.ndarray, dict[str, Any]]:
    """Soft shadow mask (0..1, 1/8 size) of a hand or phone entering from a frame edge."""
    w8, h8 = W // 8, H // 8
    m = np.zeros((h8, w8), np.float32)
    tgt = cam.project(np.array([_u(rng, 20, 277)]), np.array([_u(rng, 20, 190)]))[0] / 8
    s = cam.scale_range()[1] / 8
    size = _u(rng, 45, 110) * s
    edge = int(rng.integers(4))
    ep = [np.array([tgt[0], -50]), np.array([w8 + 50, tgt[1]]), np.array([tgt[0], h8 + 50]),
          np.array([-50, tgt[1]])][edge]
    ep = ep + rng.normal(0, 0.2, 2) * [w8, h8]
    blob = cv2.ellipse2Poly(tuple(int(v) for v in tgt), (int(size), int(size * _u(rng, 0.5, 0.9))),
                            int(_u(rng, 0, 180)), 0, 360, 10)
    cv2.fillPoly(m, [blob], 1.0)
    cv2.line(m, tuple(int(v) for v in tgt), tuple(int(v) for v in ep), 1.0, int(size * _u(rng, 0.7, 1.2)))
    feather = _u(rng, 0.01, 0.05) * math.hypot(w8, h8)
    m = cv2.GaussianBlur(m, (0, 0), feather)
    mk = cam.project(np.array([12, 285, 285, 12, 148.5, 148.5]), np.array([12, 12, 198, 198, 12, 198]))
    on = [bool(m[int(np.clip(y / 8, 0, h8 - 1)), int(np.clip(x / 8, 0, w8 - 1))] > 0.5) for x, y in mk]
    return m, {"markers_in_shadow": int(sum(on)), "feather_px": feather * 8}


def draw_thumb(rng: np.random.Generator, img: np.ndarray, cam: Camera) -> dict[str, Any]:
    """A thumb holding one page edge, at most 18 mm into the page (never over bubbles)."""
    edge = int(rng.integers(4))
    depth = _u(rng, 6, 18)
    if edge in (0, 2):
        x = _u(rng, 5, PAGE_W - 5)
        y = depth - 34 if edge == 0 else PAGE_H - depth + 34
        ang = math.pi / 2 + _u(rng, -0.4, 0.4)
    else:
        y = _u(rng, 5, PAGE_H - 5)
        x = depth - 34 if edge == 3 else PAGE_W - depth + 34
        ang = _u(rng, -0.4, 0.4)
    th = np.linspace(0, 2 * math.pi, 60)
    a, b = 34.0, _u(rng, 10, 13)
    ex, ey = a * np.cos(th), b * np.sin(th)
    px = x + ex * math.cos(ang) - ey * math.sin(ang)
    py = y + ex * math.sin(ang) + ey * math.cos(ang)
    poly = cam.project(px, py, flat=True).astype(np.float32)
    H, W = img.shape[:2]
    mask = np.zeros((H, W), np.float32)
    shadow = np.zeros((H, W), np.float32)
    cv2.fillPoly(shadow, [np.round((poly + rng.normal(0, 8, 2) + [10, 14]) * 16).astype(np.int32)], 1.0,
                 cv2.LINE_AA, 4)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 12)
    img *= (1 - 0.45 * shadow)[..., None]
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.5)
    skin = np.array([_u(rng, 0.75, 0.9), _u(rng, 0.55, 0.68), _u(rng, 0.45, 0.55)], np.float32)
    yy = np.linspace(0.8, 1.05, W, dtype=np.float32)[None, :, None]
    img[:] = img * (1 - mask[..., None]) + (skin * yy) * mask[..., None]
    mk = np.array([[12, 12], [285, 12], [285, 198], [12, 198], [148.5, 12], [148.5, 198]])
    inside = 0
    for mx, my in mk:
        d = np.hypot(*(np.array([[math.cos(ang), math.sin(ang)], [-math.sin(ang), math.cos(ang)]])
                       @ np.array([mx - x, my - y])) / np.array([a, b]))
        inside += int(d < 1.0)
    return {"edge": edge, "depth_mm": depth, "markers_under_thumb": inside}


def apply_blur(rng: np.random.Generator, lin: np.ndarray) -> dict[str, Any]:
    """Optics blur (uniform + focus gradient) and hand motion, in linear light."""
    H, W = lin.shape[:2]
    info: dict[str, Any] = {}
    sig = _u(rng, 0.0, 1.0) if rng.random() < 0.6 else _u(rng, 1.0, 2.2)
    info["gauss_sigma"] = sig
    if sig > 0.3:
        cv2.GaussianBlur(lin, (0, 0), sig, dst=lin)
    info["focus_gradient_sigma"] = 0.0
    if rng.random() < 0.25:
        s2 = _u(rng, 1.0, 2.5)
        blurred = cv2.GaussianBlur(lin, (0, 0), s2)
        a = _u(rng, 0, 2 * math.pi)
        ramp = (np.cos(a) * np.linspace(-1, 1, W)[None, :] + np.sin(a) * np.linspace(-1, 1, H)[:, None])
        wgt = np.clip(ramp * 0.7 + 0.2, 0, 1).astype(np.float32)[..., None]
        lin[:] = lin * (1 - wgt) + blurred * wgt
        info["focus_gradient_sigma"] = s2
    info["motion_px"] = 0.0
    if rng.random() < 0.25:
        n = _u(rng, 2, 7)
        k = np.zeros((15, 15), np.float32)
        a = _u(rng, 0, math.pi)
        d = np.array([math.cos(a), math.sin(a)]) * n / 2
        cv2.line(k, (int(round((7 - d[0]) * 16)), int(round((7 - d[1]) * 16))),
                 (int(round((7 + d[0]) * 16)), int(round((7 + d[1]) * 16))), 1.0, 1, cv2.LINE_AA, 4)
        cv2.filter2D(lin, -1, k / k.sum(), dst=lin)
        info["motion_px"] = n
    eff = math.sqrt(sig ** 2 + (info["motion_px"] / 3.5) ** 2 + (0.6 * info["focus_gradient_sigma"]) ** 2)
    info["effective_sigma"] = eff
    return info


def photograph(rng: np.random.Generator, page_rgb: np.ndarray) -> tuple[bytes, dict[str, Any], Camera]:
    """Place the written sheet on a desk and take a phone photo of it."""
    W, H = FRAMES[int(rng.integers(len(FRAMES)))]
    if rng.random() < 0.5:
        W, H = H, W
    cond: dict[str, Any] = {"frame": [W, H], "megapixels": round(W * H / 1e6, 1),
                            "orientation": "portrait" if H > W else "landscape"}
    if rng.random() < 0.55:
        roll = 90.0 * int(rng.integers(4)) + rng.normal(0, 4)
    else:
        roll = _u(rng, 0, 360)
    tilt, az = _u(rng, 0, 30), _u(rng, 0, 2 * math.pi)
    fill, hfov = _u(rng, 0.55, 0.9), _u(rng, 63, 77)
    cname, camp, z = curl_fn(rng)
    cam = Camera(rng, W, H, tilt, az, roll, fill, hfov, z)
    smin, smean, smax = cam.scale_range()
    tl, tr = cam.project(np.array([0.0, PAGE_W]), np.array([0.0, 0.0]))
    app_rot = math.degrees(math.atan2(tr[1] - tl[1], tr[0] - tl[0])) % 360
    cond.update(tilt_deg=tilt, tilt_azimuth_deg=math.degrees(az), roll_deg=roll % 360,
                apparent_rotation_deg=app_rot, fill=fill, hfov_deg=hfov, curl=cname, curl_mm=camp,
                px_per_mm_min=smin, px_per_mm_mean=smean, px_per_mm_max=smax)

    # --- page texture at a resolution near the image's (anti-aliasing)
    ppm2 = min(PPM, 1.15 * smax)
    src = page_rgb
    k = ppm2 / PPM
    if k < 0.95:
        src = cv2.resize(page_rgb, (round(page_rgb.shape[1] * k), round(page_rgb.shape[0] * k)),
                         interpolation=cv2.INTER_AREA)
    kx, ky = src.shape[1] / page_rgb.shape[1], src.shape[0] / page_rgb.shape[0]
    g = 8
    nx, ny = math.ceil(W / g), math.ceil(H / g)
    gu, gv = np.meshgrid((np.arange(nx) + 0.5) * g - 0.5, (np.arange(ny) + 0.5) * g - 0.5)
    q = cam.inverse(gu, gv)
    mx = ((q[..., 0] * PPM + 0.5) * kx - 0.5).astype(np.float32)
    my = ((q[..., 1] * PPM + 0.5) * ky - 0.5).astype(np.float32)
    mx = cv2.resize(mx, (nx * g, ny * g), interpolation=cv2.INTER_LINEAR)[:H, :W]
    my = cv2.resize(my, (nx * g, ny * g), interpolation=cv2.INTER_LINEAR)[:H, :W]
    rgba = np.dstack([src, np.ones(src.shape[:2], np.float32)])
    warped = cv2.remap(rgba, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    del mx, my, rgba
    alpha = warped[..., 3:4]

    # --- desk, clutter, page drop shadow, page, thumb (albedo, sRGB)
    img, bg_kind = background(rng, W, H)
    cond["background"] = bg_kind
    cond["clutter"] = clutter(rng, img, smean)
    dsx, dsy = rng.normal(0, 6, 2)
    sh = cv2.GaussianBlur(alpha[..., 0], (0, 0), _u(rng, 4, 15))
    sh = cv2.warpAffine(sh, np.float32([[1, 0, dsx], [0, 1, dsy]]), (W, H))
    img *= (1 - _u(rng, 0.15, 0.4) * sh)[..., None]
    img = img * (1 - alpha) + warped[..., :3] * alpha
    del warped, sh
    cond["thumb"] = draw_thumb(rng, img, cam) if rng.random() < 0.1 else None

    # --- light (linear): gradient, vignette, hand shadow, colour cast, exposure, glare
    w8, h8 = W // 8, H // 8
    yy, xx = np.mgrid[0:h8, 0:w8].astype(np.float32)
    xn, yn = xx / w8 * 2 - 1, yy / h8 * 2 - 1
    gx, gy = rng.normal(0, 0.12, 2)
    light = 1 + gx * xn + gy * yn + _u(rng, -0.08, 0.08) * xn * yn
    vig = _u(rng, 0.05, 0.35)
    light *= 1 - vig * (xn ** 2 + yn ** 2) / 2
    L = np.repeat(light[..., None], 3, axis=2)
    cond["vignette"] = vig
    cond["shadow"] = None
    if rng.random() < 0.5:
        m, sinfo = hand_shadow(rng, W, H, cam)
        depth = _u(rng, 0.25, 0.6)
        tint = np.array([0.94, 1.0, 1.08], np.float32)
        L *= (1 - depth * m[..., None]) * (1 + (tint - 1) * m[..., None])
        sinfo["depth"] = depth
        cond["shadow"] = sinfo
    cast = np.array([_u(rng, 0.88, 1.1), 1.0, _u(rng, 0.82, 1.12)], np.float32)
    L *= cast
    cond["color_cast"] = cast.tolist()
    pm = cv2.resize(alpha[..., 0], (w8, h8), interpolation=cv2.INTER_AREA) > 0.99
    ref = np.percentile(L[pm].max(axis=1), 97) if pm.any() else 1.0
    expo = _u(rng, 0.68, 1.02) / (float(ref) * 0.8)
    L *= expo
    cond["exposure_paper_lin"] = float(ref * expo * 0.8)
    L = cv2.resize(L, (W, H), interpolation=cv2.INTER_LINEAR)
    lin = np.power(np.clip(img, 0, 1), 2.2, dtype=np.float32)
    del img
    lin *= L
    del L
    cond["glare"] = None
    if rng.random() < 0.12:
        c = cam.project(np.array([_u(rng, 40, 257)]), np.array([_u(rng, 30, 180)]))[0]
        s = _u(rng, 0.05, 0.14) * max(W, H)
        gl = np.zeros((h8, w8), np.float32)
        gl[int(np.clip(c[1] / 8, 0, h8 - 1)), int(np.clip(c[0] / 8, 0, w8 - 1))] = 1
        gl = cv2.GaussianBlur(gl, (0, 0), s / 8)
        gl = cv2.resize(gl / gl.max(), (W, H), interpolation=cv2.INTER_LINEAR)
        amp = _u(rng, 0.05, 0.16)
        lin += (amp * gl * alpha[..., 0])[..., None]
        cond["glare"] = {"amp_lin": amp, "radius_px": s}
    del alpha

    # --- optics, sensor, phone ISP
    cond["blur"] = apply_blur(rng, lin)
    a_shot, b_read = _u(rng, 1e-4, 2e-3), _u(rng, 2e-3, 6e-3) ** 2
    sd = np.sqrt(a_shot * np.clip(lin, 0, None) + b_read)
    nz = rng.standard_normal((H // 2, W // 2, 3), dtype=np.float32)
    nz = cv2.resize(nz, (W, H), interpolation=cv2.INTER_LINEAR) * 0.8
    nz += rng.standard_normal((H, W, 3), dtype=np.float32) * 0.6
    lin += sd * nz
    del sd, nz
    cond["noise"] = {"shot": a_shot, "read_sd": math.sqrt(b_read)}
    out = np.power(np.clip(lin, 0, 1), 1 / 2.2, dtype=np.float32)
    del lin
    sc = _u(rng, 0.0, 0.35)
    out = (1 - sc) * out + sc * out * out * (3 - 2 * out)
    blk = _u(rng, 0.0, 0.04)
    out = blk + (1 - blk) * out
    amt, ss = _u(rng, 0.2, 1.1), _u(rng, 1.0, 2.2)
    out = cv2.addWeighted(out, 1 + amt, cv2.GaussianBlur(out, (0, 0), ss), -amt, 0)
    cond["tone"] = {"s_curve": sc, "black": blk, "sharpen": amt, "sharpen_sigma": ss}
    u8 = np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)
    del out
    qual = int(rng.integers(50, 93))
    sub = int(rng.choice([2, 1, 0], p=[0.7, 0.2, 0.1]))
    buf = BytesIO()
    Image.fromarray(u8).save(buf, "JPEG", quality=qual, subsampling=sub)
    cond["jpeg_quality"] = qual
    cond["jpeg_subsampling"] = {2: "4:2:0", 1: "4:2:2", 0: "4:4:4"}[sub]
    return buf.getvalue(), cond, cam


# --------------------------------------------------------------------------- one photo


def make_photo(meta: dict[str, Any], sheet_png: Path, rng: np.random.Generator) -> tuple[bytes, dict[str, Any]]:
    """Print, fill in and photograph one sheet; returns (jpeg, truth)."""
    gray = cv2.imread(str(sheet_png), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255.0
    h, w = gray.shape
    # printer: scale 96-100 %, small shift / skew, toner darkness
    scale = 1.0 if rng.random() < 0.4 else _u(rng, 0.96, 1.0)
    rot = math.radians(rng.normal(0, 0.2))
    shift = rng.normal(0, 0.8, 2)
    cx, cy = PAGE_W / 2, PAGE_H / 2
    A = np.array([[scale * math.cos(rot), -scale * math.sin(rot), 0], [scale * math.sin(rot), scale * math.cos(rot), 0]])
    A[:, 2] = np.array([cx, cy]) + shift - A[:, :2] @ [cx, cy]
    Apx = A.copy()
    Apx[:, 2] *= PPM
    printed = cv2.warpAffine(gray, Apx, (w, h), flags=cv2.INTER_LINEAR, borderValue=1.0)
    toner = _u(rng, 0.78, 1.0)
    printed = 1 - (1 - printed) * toner
    tint = np.array([_u(rng, 0.95, 1.0), _u(rng, 0.94, 1.0), _u(rng, 0.88, 0.99)], np.float32)
    mott = cv2.resize(rng.standard_normal((20, 28)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    fib = rng.standard_normal((h, w)).astype(np.float32)
    paper_tex = 1 + 0.008 * mott + 0.006 * fib
    rgb = (printed * paper_tex)[..., None] * tint
    paper = Paper(np.ascontiguousarray(rgb, dtype=np.float32), PPM, rng)

    def to_paper(x: float, y: float) -> np.ndarray:
        return A[:, :2] @ [x, y] + A[:, 2]

    truth = write_sheet(paper, rng, meta, to_paper, scale)
    jpeg, cond, cam = photograph(rng, np.clip(paper.rgb, 0, 1))
    cond.update(print_scale=scale, print_rot_deg=math.degrees(rot), print_shift_mm=shift.tolist(),
                toner=toner, instrument=truth.pop("instrument"))
    A3 = np.vstack([A, [0, 0, 1]])
    truth["H_template_mm_to_image_px"] = (cam.Hflat @ A3).tolist()
    truth["conditions"] = cond
    return jpeg, truth


# --------------------------------------------------------------------------- scoring


def score_photo(truth: dict[str, Any], result: dict[str, Any] | None) -> dict[str, Any]:
    """Per-mark outcomes of one photo (``result`` None = rejected)."""
    marks = []
    align_flag = False
    got: dict[str, Any] = {}
    if result is not None:
        align_flag = any(str(r).startswith("alignment") for r in result.get("review", {}).get("reasons", []))
        got = {str(a["question_id"]): a for a in result.get("answers", [])}
    for qn, t in truth["answers"].items():
        tl = set(t["labels"])
        a = got.get(qn)
        if result is None or a is None:
            det, status = None, "rejected" if result is None else "missing"
        else:
            det, status = sorted(str(x) for x in (a.get("detected") or [])), str(a.get("status"))
        flagged = result is None or a is None or align_flag or status in FLAG_STATUSES
        if det is not None and len(tl) >= 2 and status == "multi" and set(det) == tl and not align_flag:
            outcome = "right"
        elif flagged:
            outcome = "right" if t["flag_ok"] else "flagged"
        else:
            outcome = "right" if set(det or []) == tl else "silent"
        marks.append({"q": qn, "truth": sorted(tl), "detected": det, "status": status, "flagged": flagged,
                      "outcome": outcome, "kind": t["kind"], "flag_ok": t["flag_ok"]})
    ident = (result or {}).get("identifier") or {}
    id_read = ident.get("identifier")
    id_ok = result is not None and not align_flag and ident.get("status") == "ok" and id_read == truth["id"]
    if id_ok:
        id_outcome = "exact"
    elif result is None or align_flag or ident.get("status") != "ok":
        id_outcome = "flagged"
    else:
        id_outcome = "silent"
    full = id_ok and all(m["outcome"] == "right" for m in marks)
    return {"marks": marks, "id_outcome": id_outcome, "id_read": id_read,
            "id_raw": ident.get("raw_identifier"), "id_status": ident.get("status"),
            "rejected": result is None, "fully_right": full}


def buckets(cond: dict[str, Any]) -> dict[str, str]:
    t = cond["tilt_deg"]
    r = cond["apparent_rotation_deg"]
    k = round(r / 90) % 4
    dev = abs((r - 90 * round(r / 90) + 180) % 360 - 180)
    b = cond["blur"]["effective_sigma"]
    q = cond["jpeg_quality"]
    s = cond["px_per_mm_mean"]
    return {
        "tilt": "0-10" if t < 10 else "10-20" if t < 20 else "20-30",
        "rotation": f"~{90 * k}" if dev <= 10 else "oblique",
        "instrument": cond["instrument"],
        "shadow": "yes" if cond["shadow"] else "no",
        "blur": "sharp<0.8" if b < 0.8 else "mild<1.6" if b < 1.6 else "strong>=1.6",
        "jpeg": "50-64" if q < 65 else "65-79" if q < 80 else "80-92",
        "megapixels": f"{cond['megapixels']:.0f}MP",
        "px_per_mm": "<6" if s < 6 else "6-8" if s < 8 else ">=8",
        "curl": cond["curl"],
        "thumb": "yes" if cond["thumb"] else "no",
        "glare": "yes" if cond["glare"] else "no",
    }


# --------------------------------------------------------------------------- worker


def _init_worker() -> None:
    cv2.setNumThreads(1)


def run_one(task: dict[str, Any]) -> dict[str, Any]:
    """Generate, save and grade one photo (runs in a worker process)."""
    from omr.grade import grade_image

    t0 = time.perf_counter()
    d = Path(task["dir"])
    if task.get("regrade") and (d / "image.jpg").exists() and (d / "truth.json").exists():
        # same photos as the last run, graded by the current engine
        jpeg, truth = (d / "image.jpg").read_bytes(), json.loads((d / "truth.json").read_text())
        tname = truth["template"]
        meta = json.loads((Path(task["templates"][tname]) / "meta.json").read_text())
    else:
        rng = np.random.default_rng([task["seed"], task["idx"], 20240917])
        names = sorted(task["templates"])
        tname = names[int(rng.integers(len(names)))]
        tdir = Path(task["templates"][tname])
        meta = json.loads((tdir / "meta.json").read_text())
        jpeg, truth = make_photo(meta, tdir / "sheet.png", rng)
        truth["template"] = tname
        d.mkdir(parents=True, exist_ok=True)
        (d / "image.jpg").write_bytes(jpeg)
    t_gen = time.perf_counter() - t0
    result = None
    err = None
    t1 = time.perf_counter()
    try:
        result = grade_image(jpeg, meta, mode="auto")
    except Exception as e:  # noqa: BLE001 - a rejected sheet, whatever the reason
        err = {"type": type(e).__name__, "reason_code": getattr(e, "reason_code", None), "message": str(e),
               "traceback": traceback.format_exc(limit=3)}
    t_grade = time.perf_counter() - t1
    truth["timing_s"] = {"generate": t_gen, "grade": t_grade}
    (d / "truth.json").write_text(json.dumps(truth, indent=1, default=float))
    (d / "result.json").write_text(json.dumps(result if result is not None else {"rejected": err},
                                              indent=1, default=float))
    sc = score_photo(truth, result)
    return {"idx": task["idx"], "dir": str(d), "template": tname, "buckets": buckets(truth["conditions"]),
            "score": sc, "error": err, "truth_id": truth["id"], "timing": truth["timing_s"],
            "alignment": (result or {}).get("alignment"), "review": (result or {}).get("review")}


# --------------------------------------------------------------------------- report


def _pct(a: float, b: float) -> str:
    return f"{100.0 * a / b:.3f}%" if b else "n/a"


def summarize(rows: Sequence[dict[str, Any]], seed: int) -> tuple[str, dict[str, Any]]:
    """Text report and JSON summary of one run."""
    def agg(rs: Sequence[dict[str, Any]]) -> dict[str, Any]:
        ms = [m for r in rs for m in r["score"]["marks"]]
        clear = [m for m in ms if not m["flag_ok"]]
        return {
            "sheets": len(rs), "marks": len(ms),
            "right": sum(m["outcome"] == "right" for m in ms),
            "right_unflagged": sum(m["outcome"] == "right" and not m["flagged"] for m in ms),
            "silent": sum(m["outcome"] == "silent" for m in ms),
            "flagged": sum(m["flagged"] for m in ms),
            "flagged_clear": sum(m["outcome"] == "flagged" for m in clear),
            "clear_marks": len(clear),
            "fully_right": sum(r["score"]["fully_right"] for r in rs),
            "id_exact": sum(r["score"]["id_outcome"] == "exact" for r in rs),
            "id_silent": sum(r["score"]["id_outcome"] == "silent" for r in rs),
            "rejected": sum(r["score"]["rejected"] for r in rs),
        }

    a = agg(rows)
    L = [f"=== omr_independent seed={seed}: {a['sheets']} photos, {a['marks']} marks "
         f"({a['clear_marks']} clear, {a['marks'] - a['clear_marks']} flag_ok) ==="]
    L.append(f"marks right (rules)     : {a['right']}/{a['marks']} = {_pct(a['right'], a['marks'])}"
             f"   [target >= 99.9%: {'PASS' if a['right'] >= 0.999 * a['marks'] else 'FAIL'}]")
    L.append(f"  of which unflagged    : {a['right_unflagged']} ({_pct(a['right_unflagged'], a['marks'])})")
    L.append(f"silent errors           : {a['silent']} = {_pct(a['silent'], a['marks'])}"
             f"   [target <= 0.01%: {'PASS' if a['silent'] <= 0.0001 * a['marks'] else 'FAIL'}]")
    L.append(f"flagged marks           : {a['flagged']} = {_pct(a['flagged'], a['marks'])}"
             f"  (on clear marks, counted wrong: {a['flagged_clear']} = {_pct(a['flagged_clear'], a['clear_marks'])})")
    L.append(f"sheets fully right      : {a['fully_right']}/{a['sheets']} = {_pct(a['fully_right'], a['sheets'])}"
             f"   [target >= 98%: {'PASS' if a['fully_right'] >= 0.98 * a['sheets'] else 'FAIL'}]")
    L.append(f"ID exact                : {a['id_exact']}/{a['sheets']} = {_pct(a['id_exact'], a['sheets'])}"
             f"   [target >= 99.5%: {'PASS' if a['id_exact'] >= 0.995 * a['sheets'] else 'FAIL'}]"
             f"   (ID silent wrong: {a['id_silent']})")
    L.append(f"rejected sheets         : {a['rejected']}")
    tg = [r["timing"]["grade"] for r in rows]
    tgen = [r["timing"]["generate"] for r in rows]
    L.append(f"timing: generate {np.mean(tgen):.1f}s/photo, grade mean {np.mean(tg) * 1000:.0f} ms, "
             f"max {np.max(tg) * 1000:.0f} ms")
    L.append("")
    L.append(f"{'condition':<11}{'bucket':<16}{'sheets':>6}{'marks':>7}{'right%':>9}{'silent':>7}"
             f"{'flag%':>8}{'fullOK%':>9}{'IDok%':>8}{'rej':>5}")
    by: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for k, v in r["buckets"].items():
            by[k][v].append(r)
        by["template"][r["template"]].append(r)
    breakdown: dict[str, Any] = {}
    for k in by:
        for v in sorted(by[k]):
            b = agg(by[k][v])
            breakdown.setdefault(k, {})[v] = b
            L.append(f"{k:<11}{v:<16}{b['sheets']:>6}{b['marks']:>7}"
                     f"{100 * b['right'] / max(b['marks'], 1):>9.2f}{b['silent']:>7}"
                     f"{100 * b['flagged'] / max(b['marks'], 1):>8.2f}"
                     f"{100 * b['fully_right'] / max(b['sheets'], 1):>9.1f}"
                     f"{100 * b['id_exact'] / max(b['sheets'], 1):>8.1f}{b['rejected']:>5}")
    L.append("")
    L.append("failures (silent / flagged clear mark / rejected / ID not exact):")
    fails = failures(rows)
    for f in fails:
        L.append("  " + f["line"])
    if not fails:
        L.append("  none")
    return "\n".join(L), {"seed": seed, "totals": a, "breakdown": breakdown,
                          "failures": [f["line"] for f in fails]}


def failures(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in sorted(rows, key=lambda r: r["idx"]):
        img = str(Path(r["dir"]) / "image.jpg")
        sc = r["score"]
        if sc["rejected"]:
            e = r["error"] or {}
            out.append({"row": r, "q": None, "line": f"{img} REJECTED {e.get('reason_code') or e.get('type')}: "
                                                     f"{e.get('message', '')[:120]}"})
            continue
        for m in sc["marks"]:
            if m["outcome"] in ("silent", "flagged"):
                out.append({"row": r, "q": m["q"], "line": (
                    f"{img} q{m['q']} {m['outcome'].upper()} truth={m['truth']} ({m['kind']}) "
                    f"detected={m['detected']} status={m['status']}")})
        if sc["id_outcome"] != "exact":
            out.append({"row": r, "q": "id", "line": (
                f"{img} ID {sc['id_outcome'].upper()} truth={r['truth_id']} read={sc['id_read']} "
                f"raw={sc['id_raw']} status={sc['id_status']}")})
        if r.get("review") and any(x.startswith("alignment") for x in r["review"]["reasons"]):
            out.append({"row": r, "q": None, "line": f"{img} ALIGNMENT {r['review']['reasons']} {r['alignment']}"})
    return out


def save_failures(rows: Sequence[dict[str, Any]], out: Path, seed: int) -> None:
    """Copy failing photos + truth + result and rectified crops of the failing rows."""
    fdir = out / "failures"
    for f in failures(rows):
        r = f["row"]
        src = Path(r["dir"])
        dst = fdir / f"seed{seed}_{src.name}"
        dst.mkdir(parents=True, exist_ok=True)
        for n in ("image.jpg", "truth.json", "result.json"):
            if not (dst / n).exists():
                shutil.copy2(src / n, dst / n)
        if f["q"] is None:
            continue
        truth = json.loads((src / "truth.json").read_text())
        Ht = np.array(truth["H_template_mm_to_image_px"])
        tdir = out / "templates" / truth["template"]
        meta = json.loads((tdir / "meta.json").read_text())
        if f["q"] == "id":
            xs = [b["center"]["x"] for b in meta["identifier"]["bubbles"]]
            box = (min(xs) - 5, 38.0, max(xs) + 5, 112.0)
        else:
            q = next(q for q in meta["questions"] if str(q["question_number"]) == f["q"])
            xs = [c["center"]["x"] for c in q["choices"]]
            y = q["choices"][0]["center"]["y"]
            box = (min(xs) - 12, y - 5, max(xs) + 5, y + 5)
        s = 16.0
        T = np.array([[1 / s, 0, box[0]], [0, 1 / s, box[1]], [0, 0, 1]])
        size = (int((box[2] - box[0]) * s), int((box[3] - box[1]) * s))
        img = cv2.imread(str(src / "image.jpg"))
        crop = cv2.warpPerspective(img, Ht @ T, size, flags=cv2.WARP_INVERSE_MAP | cv2.INTER_CUBIC)
        cv2.imwrite(str(dst / f"crop_{f['q']}.png"), crop)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "independent")
    ap.add_argument("--save-failures", action="store_true")
    ap.add_argument("--start", type=int, default=0, help="first photo index (to redo a slice)")
    ap.add_argument("--regrade", action="store_true",
                    help="grade the photos already generated under --out (after an engine change)")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    tpl = {k: str(v) for k, v in ensure_templates(out).items()}
    run_dir = out / f"seed{args.seed}"
    tasks = [{"seed": args.seed, "idx": i, "templates": tpl, "dir": str(run_dir / f"p{i:04d}"), "regrade": args.regrade}
             for i in range(args.start, args.start + args.photos)]
    t0 = time.time()
    rows = []
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with ProcessPoolExecutor(max_workers=max(1, min(args.workers, 2)), initializer=_init_worker) as ex:
        for n, r in enumerate(ex.map(run_one, tasks), start=1):
            rows.append(r)
            bad = [m for m in r["score"]["marks"] if m["outcome"] != "right"]
            print(f"[{n}/{len(tasks)}] p{r['idx']:04d} {r['template']} "
                  f"{'REJECTED' if r['score']['rejected'] else ''}"
                  f"bad={len(bad)} id={r['score']['id_outcome']} ({time.time() - t0:.0f}s)", flush=True)
    text, js = summarize(rows, args.seed)
    text += f"\nwall time {time.time() - t0:.0f}s, workers {args.workers}"
    print(text)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "summary.txt").write_text(text + "\n")
    (run_dir / "summary.json").write_text(json.dumps(js, indent=1, default=float))
    (run_dir / "rows.json").write_text(json.dumps(rows, indent=1, default=float))
    if args.save_failures:
        save_failures(rows, out, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
