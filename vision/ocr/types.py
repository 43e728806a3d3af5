"""What OCR returns: words in lines in pages, all boxes in page pixels.

Frames:
    Boxes are ``box_xywh = (x, y, w, h)`` integers in the pixels of the page
    as loaded by :func:`vision.pages.load_pages` (origin top-left, y down),
    whatever resolution the engine worked at internally. Confidences are in
    ``0..1`` (Tesseract's 0..100 divided by 100; Google's as given).

Examples:
    >>> w = OCRWord("①", 0.99, (10, 20, 30, 30))
    >>> line = OCRLine("① 사과", 0.95, (10, 20, 120, 30), (w, OCRWord("사과", 0.91, (50, 20, 80, 30))))
    >>> page = OCRPage(width=800, height=600, lines=(line,))
    >>> result = OCRResult(engine="tesseract", pages=(page,))
    >>> result.text, round(result.confidence or 0, 2), result.status
    ('① 사과', 0.95, 'ok')
    >>> OCRResult.from_dict(result.to_dict()) == result
    True
    >>> OCRResult(engine="tesseract", pages=(OCRPage(800, 600, ()),)).status
    'empty'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BoxXYWH",
    "LOW_QUALITY_REASONS",
    "OCRLine",
    "OCRPage",
    "OCRResult",
    "OCRWord",
    "STATUS_EMPTY",
    "STATUS_LOW_QUALITY",
    "STATUS_OK",
]

BoxXYWH = tuple[int, int, int, int]
"""``(x, y, w, h)`` in page pixels."""

#: result status when text was found.
STATUS_OK = "ok"
#: result status of a page (or document) with no text at all: not an error.
STATUS_EMPTY = "empty"
#: result status when text was read but is probably wrong (expected CER above
#: 15 %, see :mod:`vision.ocr.quality`); ``reason`` says why.
STATUS_LOW_QUALITY = "low_quality"
#: why a read is ``low_quality``.
LOW_QUALITY_REASONS = ("blurred", "noisy", "too_small", "no_text_lines")


def _box(raw: Any) -> BoxXYWH:
    x, y, w, h = (int(v) for v in raw)
    return (x, y, w, h)


@dataclass(frozen=True)
class OCRWord:
    """One word: its text, confidence (0..1) and box in page pixels."""

    text: str
    confidence: float
    box: BoxXYWH

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "confidence": round(float(self.confidence), 4), "box": list(self.box)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OCRWord:
        return cls(text=str(data["text"]), confidence=float(data["confidence"]), box=_box(data["box"]))


@dataclass(frozen=True)
class OCRLine:
    """One text line in reading order: its words left to right."""

    text: str
    confidence: float
    box: BoxXYWH
    words: tuple[OCRWord, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "box": list(self.box),
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OCRLine:
        return cls(
            text=str(data["text"]),
            confidence=float(data["confidence"]),
            box=_box(data["box"]),
            words=tuple(OCRWord.from_dict(w) for w in data.get("words") or ()),
        )


@dataclass(frozen=True)
class OCRPage:
    """One page: its size in pixels and its lines in reading order.

    Args:
        width / height: the page's size in pixels.
        lines: its lines in reading order.
        engine: what read this page (``pdf_text``, ``tesseract``, ``google``); ``""`` when not said.
        reason: why a read is ``low_quality`` (one of :data:`LOW_QUALITY_REASONS`); ``""`` when it is not.
        text_layer: for a PDF page that was OCR'd, why its text layer was not used
            (``no_text``, ``unmapped``, ``poor_hidden_layer``, ``forced_ocr``); ``""`` otherwise.
    """

    width: int
    height: int
    lines: tuple[OCRLine, ...] = ()
    engine: str = ""
    reason: str = ""
    text_layer: str = ""

    @property
    def status(self) -> str:
        """``ok``, ``empty`` (no text) or ``low_quality`` (text that is probably wrong, see :attr:`reason`)."""
        if not self.text.strip():
            return STATUS_EMPTY
        return STATUS_LOW_QUALITY if self.reason else STATUS_OK

    @property
    def text(self) -> str:
        """The page's lines joined by newlines."""
        return "\n".join(line.text for line in self.lines)

    @property
    def words(self) -> tuple[OCRWord, ...]:
        """Every word of the page in reading order."""
        return tuple(w for line in self.lines for w in line.words)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "width": self.width,
            "height": self.height,
            "lines": [{k: v for k, v in line.to_dict().items() if k != "words"} for line in self.lines],
            "words": [w.to_dict() | {"line": i} for i, line in enumerate(self.lines) for w in line.words],
            "status": self.status,
        }
        for key in ("engine", "reason", "text_layer"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OCRPage:
        words_by_line: dict[int, list[OCRWord]] = {}
        for raw in data.get("words") or ():
            words_by_line.setdefault(int(raw["line"]), []).append(OCRWord.from_dict(raw))
        lines = tuple(
            OCRLine(
                text=str(raw["text"]),
                confidence=float(raw["confidence"]),
                box=_box(raw["box"]),
                words=tuple(words_by_line.get(i, ())),
            )
            for i, raw in enumerate(data.get("lines") or ())
        )
        return cls(
            width=int(data["width"]), height=int(data["height"]), lines=lines, engine=str(data.get("engine") or ""),
            reason=str(data.get("reason") or ""), text_layer=str(data.get("text_layer") or ""),
        )


@dataclass(frozen=True)
class OCRResult:
    """A document's OCR: the engine that read it and its pages.

    Args:
        engine: ``"tesseract"``, ``"google"`` or ``"pdf_text"`` (a PDF's own text layer):
            the engine that produced the text; engines joined by ``+`` when pages differ.
        pages: the pages in document order.
        fallback_reason: when ``auto`` fell back from Google to Tesseract,
            the reason code of why; ``None`` otherwise.
        timings_ms: wall time per stage (``load``, ``ocr``...), milliseconds.
    """

    engine: str
    pages: tuple[OCRPage, ...] = ()
    fallback_reason: str | None = None
    timings_ms: Mapping[str, float] = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        """All pages' text, pages separated by a form feed (``\\f``) as Tesseract does."""
        return "\f".join(page.text for page in self.pages).strip()

    @property
    def confidence(self) -> float | None:
        """Mean line confidence (0..1) weighted by characters; ``None`` with no text."""
        lines = [line for page in self.pages for line in page.lines if line.text.strip()]
        chars = sum(len(line.text) for line in lines)
        if not chars:
            return None
        return sum(line.confidence * len(line.text) for line in lines) / chars

    @property
    def status(self) -> str:
        """``"ok"``; ``"empty"`` when no page holds any text (a blank page is not an error);
        ``"low_quality"`` when a page with text was probably misread (:attr:`reason` says why)."""
        if not self.text:
            return STATUS_EMPTY
        return STATUS_LOW_QUALITY if self.reason else STATUS_OK

    @property
    def reason(self) -> str | None:
        """Why the read is ``low_quality``: the first such page's reason; ``None`` when it is not."""
        return next((p.reason for p in self.pages if p.status == STATUS_LOW_QUALITY), None)

    def to_dict(self) -> dict[str, Any]:
        """The job's result keys (``text`` and ``confidence`` as the legacy worker had them)."""
        confidence = self.confidence
        out: dict[str, Any] = {
            "text": self.text,
            "confidence": None if confidence is None else round(confidence, 4),
            "engine": self.engine,
            "status": self.status,
            "pages": [page.to_dict() for page in self.pages],
            "timings_ms": {k: round(float(v), 1) for k, v in self.timings_ms.items()},
        }
        if self.reason:
            out["reason"] = self.reason
        if self.fallback_reason:
            out["fallback_reason"] = self.fallback_reason
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OCRResult:
        return cls(
            engine=str(data["engine"]),
            pages=tuple(OCRPage.from_dict(p) for p in data.get("pages") or ()),
            fallback_reason=data.get("fallback_reason"),
            timings_ms=dict(data.get("timings_ms") or {}),
        )
