"""Set (c), ``bench/real_documents/``: the manifest matches the files, every file keeps its licence, has a
Korean text layer, and the loader (``bench/_real_documents.py``) yields rendered pages (issue 16, point 7)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
import _real_documents as real  # noqa: E402

#: licences the issue accepts for set (c) (SPDX ids; KOGL type 1 has none).
PERMISSIVE = {"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "CC-BY-4.0", "CC-BY-3.0", "CC0-1.0", "KOGL-Type-1",
              "public-domain"}
#: a usable page of a Korean document holds at least this many Hangul syllables (the thinnest page measured: ~300).
MIN_HANGUL_PER_DOC = 100


def _git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_the_issue_asks_for_eight_pdfs_from_three_sources() -> None:
    docs = real.documents()
    assert len(docs) >= 8 and len({d.source for d in docs}) >= 3


def test_manifest_and_folder_hold_the_same_pdfs() -> None:
    listed = {d.file for d in real.documents()}
    on_disk = {str(p.relative_to(real.REAL_DIR)) for p in real.REAL_DIR.glob("*/*.pdf")}
    assert listed == on_disk


@pytest.mark.parametrize("doc", real.documents(), ids=lambda d: d.file)
def test_every_pdf_keeps_its_source_and_licence(doc: real.Document) -> None:
    assert doc.pdf.is_file()
    assert _git_blob(doc.pdf.read_bytes()) == doc.git_blob, "the file is not the repository's file"
    assert doc.licence in PERMISSIVE
    assert (real.REAL_DIR / doc.licence_file).is_file() and (real.REAL_DIR / doc.licence_file).stat().st_size > 500
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", doc.repo) and re.fullmatch(r"[0-9a-f]{40}", doc.commit)
    assert doc.copyright.strip()
    readme = (doc.pdf.parent / "README.md").read_text(encoding="utf-8")
    assert doc.repo in readme and doc.commit in readme and doc.path in readme


@pytest.mark.parametrize("doc", real.documents(), ids=lambda d: d.file)
def test_every_pdf_has_a_korean_text_layer(doc: real.Document) -> None:
    pages = real.usable_pages(doc)
    assert pages, "no page with a usable text layer"
    hangul = sum(len(re.findall("[가-힣]", p.truth)) for p in pages)
    assert hangul >= MIN_HANGUL_PER_DOC
    assert all(len("".join(p.truth.split())) >= real.MIN_CHARS for p in pages)


def test_the_loader_yields_rendered_pages_with_heading_truth() -> None:
    pages = list(real.real_pages(per_document=1))
    assert len(pages) == len(real.documents())
    assert sum(len(p.headings) for p in real.real_pages(per_document=None)) > 0
    image = pages[0].image()
    assert image.dtype == np.uint8 and image.ndim in (2, 3)
    assert 1000 < image.shape[0] < 4000 and 700 < image.shape[1] < 3000  # a page at 200 dpi


@pytest.mark.parametrize(("line", "heading"), [
    ("", False),
    ("제1장 총칙", True),
    ("제 1 절 소개", True),
    ("제3조 (목적) 이 법인은", True),
    ("3.1.1 정책", True),
    ("1) 소개", True),
    ("2 정의", True),
    ("2017 a", False),
    ("2 이상의 찬성으로 의결하여 해산등기를 완료한 후 지체 없이 주무관청에 보고한다", False),
    ("8 © Joint Development Foundation", False),
    ("이 규격은 오픈소스 라이선스 준수를 위한", False),
])
def test_heading_lines(line: str, heading: bool) -> None:
    assert bool(real.HEADING_LINE.match(line)) is heading


def test_truth_drops_leaders_and_unprinted_characters() -> None:
    assert real.clean_truth("제1장 총칙 . . . . . . \u20603") == "제1장 총칙  3"
    assert real.clean_truth("목차 ........ 4\nCC\ufffeBY 1.2.3") == "목차  4\nCCBY 1.2.3"


def test_manifest_is_plain_json() -> None:
    manifest = json.loads(real.MANIFEST.read_text(encoding="utf-8"))
    assert set(manifest) == {"about", "sources", "documents"}
