"""Set (c) of the reading benches: the real Korean PDFs under ``bench/real_documents/``.

``manifest.json`` there names every PDF with its source repository, commit,
path, git blob hash, licence (SPDX id) and copyright line; each source's
folder holds the licence text and a README. This module reads the manifest
and yields the pages the benches use, so ``bench/ocr_sets.py``,
``bench/_segment_sets.py`` and ``bench/reading_sets.py`` pick the same pages.

Truth:

* **text**: the page's own text layer (pdfium through
  :func:`vision.ocr.textlayer.read_text_layers`), with Unicode format and
  unassigned characters dropped (``U+2060`` word joiners in Typst tables of
  contents, ``U+FFFE`` where Word hyphenated): nothing is printed for them;
  and without the dot leaders of contents pages (``제1장 총칙 ..... 3``):
  a reader is not asked for them, and the benches drop them from the OCR
  output too before comparing (:func:`drop_leaders`).
  Only pages whose layer is usable and holds at least :data:`MIN_CHARS`
  non-space characters are used.
* **headings**: the text-layer lines that match :data:`HEADING_LINE`
  (numbered sections ``1.2 범위``, ``3.1.1 정책``, chapters and articles
  ``제1장 총칙``, ``제3조(목적)``, ``1) ...``, ``Chapter 2``, roman
  numerals), boxed in the rendered page's pixels. None of these documents
  is an exam, so a question box that starts at one of them is a heading
  returned as a question. The pattern was written from the documents' tables
  of contents, not tuned on any engine's output.

Frames:
    Heading boxes are ``(x, y, w, h)`` in pixels of the page rendered at
    ``dpi`` (:data:`DPI`), origin top-left, as :func:`vision.pages.load_pages` renders it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REAL_DIR = Path(__file__).resolve().parent / "real_documents"
MANIFEST = REAL_DIR / "manifest.json"
#: render resolution of every set-(c) page.
DPI = 200
#: a page with fewer non-space text-layer characters (a cover, a blank back) is not used.
MIN_CHARS = 150
#: render limits (the benches' own files; generous).
MAX_PAGES = 200
MAX_PIXELS = 10**8
#: a text-layer line that is a section heading (the heading truth).
#: (``1 서론``-style chapter lines only when short: a wrapped body line may start with a number.)
HEADING_LINE = re.compile(
    r"^\s*(?:제\s*\d+\s*[장절부편조]|\d+(?:\.\d+)+\.?\s+\S|\d+\)\s*\S|\d{1,2}\s+[가-힣A-Za-z].{0,30}$"
    r"|Chapter\s+\d+|[IVXⅠ-Ⅻ]+\.\s)"
)

#: a dot leader of a contents page: 4+ dots (or middle dots, ellipses), spaces between them allowed.
LEADER = re.compile(r"[.·…‥](?:\s*[.·…‥]){3,}")

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Document:
    """One PDF of the manifest with its provenance."""

    file: str
    source: str
    repo: str
    commit: str
    path: str
    git_blob: str
    licence: str
    licence_file: str
    copyright: str
    kind: str

    @property
    def pdf(self) -> Path:
        return REAL_DIR / self.file


@dataclass(frozen=True)
class RealPage:
    """One usable page: its document, 0-based index, truth text and heading boxes (``DPI`` pixels)."""

    document: Document
    index: int
    truth: str
    headings: tuple[Box, ...]

    @property
    def name(self) -> str:
        return f"{Path(self.document.file).stem} p{self.index + 1}"

    def image(self) -> np.ndarray:
        """The page rendered at :data:`DPI` (as :func:`vision.pages.load_pages` gives it)."""
        from vision.pages import load_pages

        data = self.document.pdf.read_bytes()
        return next(load_pages(data, max_pages=MAX_PAGES, max_pixels=MAX_PIXELS, dpi=DPI, only={self.index})).image


def documents() -> list[Document]:
    """The manifest's documents, in its order."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    out = []
    for d in manifest["documents"]:
        s = manifest["sources"][d["source"]]
        out.append(Document(d["file"], d["source"], s["repo"], s["commit"], d["path"], d["git_blob"], s["licence"],
                            s["licence_file"], s["copyright"], d["kind"]))
    return out


def drop_leaders(text: str) -> str:
    """``text`` without dot leaders (runs of 4+ ``.``/``·``/``…``, spaces between them allowed).

    Examples:
        >>> drop_leaders("제1장 총칙 . . . . . . 3 and 1.2.3 ok")
        '제1장 총칙  3 and 1.2.3 ok'
    """
    return LEADER.sub("", text)


def clean_truth(text: str) -> str:
    """The text layer without what no reader is asked to read.

    Characters nothing is printed for (Unicode categories Cf, Cn, Co) and dot
    leaders of contents pages (:func:`drop_leaders`; OCR output is compared
    after the same removal).
    """
    return drop_leaders("".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cn", "Co")))


def usable_pages(doc: Document) -> list[RealPage]:
    """Every page of ``doc`` with a usable layer of at least :data:`MIN_CHARS` characters."""
    from vision.ocr.textlayer import read_text_layers

    layers = read_text_layers(doc.pdf.read_bytes(), dpi=DPI, max_pages=MAX_PAGES, max_pixels=MAX_PIXELS)
    out = []
    for i, layer in enumerate(layers):
        truth = clean_truth(layer.page.text)
        if layer.usable and len("".join(truth.split())) >= MIN_CHARS:
            heads = tuple(ln.box for ln in layer.page.lines if HEADING_LINE.match(ln.text))
            out.append(RealPage(doc, i, truth, heads))
    return out


def spread(items: list[RealPage], n: int | None) -> list[RealPage]:
    """``n`` of ``items`` spread evenly from first to last (the middle one for 1; all when ``n`` is None or too large).

    Examples:
        >>> spread(list(range(10)), 3)  # type: ignore[arg-type]
        [0, 4, 9]
        >>> spread(list(range(10)), 1)  # type: ignore[arg-type]
        [5]
    """
    if n is None or n >= len(items):
        return list(items)
    if n <= 1:
        return list(items[len(items) // 2 : len(items) // 2 + n])
    return [items[round(k * (len(items) - 1) / (n - 1))] for k in range(n)]


def real_pages(per_document: int | None = None) -> Iterator[RealPage]:
    """Up to ``per_document`` usable pages of each document (all with None), spread over it."""
    for doc in documents():
        yield from spread(usable_pages(doc), per_document)
