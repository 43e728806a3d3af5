"""Rules of a page for layout analysis: rules split from text, and the page's furniture.

Part of :mod:`vision.segment.layout` (step 3): page-wide horizontal rules
(under the header, above the footer) and tall vertical rules (column
dividers) are page furniture; shorter lines (frames, tables, figures) stay
with their question but are left out when finding text lines.
"""

from __future__ import annotations

import cv2
import numpy as np

from vision.segment.ink import RULE_SLANT_PX, SPECK_TEXT, Mask

#: A horizontal run at least this many text heights long is a rule, not a letter.
HRULE_TEXT = 4.0
#: A vertical run at least this many text heights tall is a rule (frame side, table, divider).
VRULE_TEXT = 2.2
#: A horizontal rule wider than this fraction of the page is page furniture (header/footer rule).
PAGE_RULE_W = 0.55
#: A vertical rule taller than this fraction of the page is a column divider.
PAGE_RULE_H = 0.25
#: The header rule is searched in this top fraction of the page, the footer rule in the bottom one.
HEADER_BAND, FOOTER_BAND = 0.3, 0.2
#: A divider rule this close to a gutter (text heights) confirms it, whatever the rows say.
DIVIDER_TOL_TEXT = 1.0


def _rules(ink: Mask, text_px: float) -> tuple[Mask, Mask, Mask]:
    """Split ``ink`` into (horizontal rules, vertical rules, text).

    The mask is first smeared across the rule's direction by :data:`RULE_SLANT_PX`
    so that a rule a degree or two off axis (a flattened photo) stays one run.
    """
    u8 = ink.astype(np.uint8)
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, int(HRULE_TEXT * text_px)), 1))
    vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(8, int(VRULE_TEXT * text_px))))
    smear_v = cv2.dilate(u8, np.ones((RULE_SLANT_PX, 1), np.uint8))
    smear_h = cv2.dilate(u8, np.ones((1, RULE_SLANT_PX), np.uint8))
    hr = cv2.morphologyEx(smear_v, cv2.MORPH_OPEN, hk).astype(bool) & ink
    vr = cv2.morphologyEx(smear_h, cv2.MORPH_OPEN, vk).astype(bool) & ink
    return hr, vr, ink & ~hr & ~vr


def _page_rules(hr: Mask, vr: Mask) -> tuple[int, int, Mask, list[int]]:
    """The body's top and bottom (below the header rule, above the footer rule) and the furniture mask.

    Furniture is the header rule (the topmost page-wide rule in the header
    band), the footer rule (the lowest one in the footer band) and column
    dividers (tall vertical rules). Other page-wide rules, such as the frame
    of a passage in a one-column page, stay: they belong to a question.
    """
    H, W = hr.shape
    furniture = np.zeros_like(hr)
    top, bottom = 0, H
    header: tuple[int, int, int, int, int] | None = None
    footer: tuple[int, int, int, int, int] | None = None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hr.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if w < PAGE_RULE_W * W:
            continue
        if y < HEADER_BAND * H and (header is None or y < header[1]):
            header = (i, y, x, w, h)
        if y > (1 - FOOTER_BAND) * H and (footer is None or y > footer[1]):
            footer = (i, y, x, w, h)
    for rule in (header, footer):
        if rule is not None:
            i, y, x, w, h = rule
            furniture[y : y + h, x : x + w] |= labels[y : y + h, x : x + w] == i
    if header is not None:
        top = header[1] + header[4]
    if footer is not None:
        bottom = footer[1]
    dividers: list[int] = []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(vr.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if h >= PAGE_RULE_H * H:
            furniture[y : y + h, x : x + w] |= labels[y : y + h, x : x + w] == i
            dividers.append(x + w // 2)
    return top, bottom, furniture, dividers


def _near_dividers(text: Mask, dividers: list[int], text_px: float) -> Mask:
    """Thin ink components within :data:`DIVIDER_TOL_TEXT` of a divider rule: pieces of the rule
    a photo broke, which would otherwise set the margin of the column beside it."""
    out = np.zeros_like(text)
    if not dividers:
        return out
    n, labels, stats, _ = cv2.connectedComponentsWithStats(text.astype(np.uint8), connectivity=8)
    x, w = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_WIDTH]
    tol = DIVIDER_TOL_TEXT * text_px / 2
    thin = w <= max(3, SPECK_TEXT * text_px)
    hit = np.zeros(n, bool)
    for d in dividers:
        hit |= thin & (x >= d - tol) & (x + w <= d + tol)
    hit[0] = False
    piece: Mask = hit[labels]
    return piece
