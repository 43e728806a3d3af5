"""``omr.compiled``: one bounded cache of compiled sheets."""

import numpy as np
import pytest

from omr import compiled
from omr.compiled import COMPILED_CACHE_SIZE, CompiledSheet, clear_compiled, compile_sheet
from omr.meta import as_sheet_meta
from omr.template import build_template, render_sheet


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_compiled()
    yield
    clear_compiled()


def test_same_sheet_and_resolution_share_one_compiled_sheet() -> None:
    sheet = as_sheet_meta(build_template(10))
    a = compile_sheet(sheet)
    assert compile_sheet(sheet) is a and compile_sheet(sheet, 6.0) is a
    assert compile_sheet(sheet, 3.0) is not a
    assert a.masks("answers") is a.answer_masks and a.masks("identifier") is a.identifier_masks


def test_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    sheets = [as_sheet_meta(build_template(n)) for n in range(1, COMPILED_CACHE_SIZE + 2)]
    first = compile_sheet(sheets[0])
    for s in sheets[1:COMPILED_CACHE_SIZE]:
        compile_sheet(s)
    assert compile_sheet(sheets[0]) is first  # used again: now the most recent
    compile_sheet(sheets[COMPILED_CACHE_SIZE])  # one too many: sheets[1] goes
    assert len(compiled._CACHE) == COMPILED_CACHE_SIZE
    assert compile_sheet(sheets[0]) is first
    assert (sheets[1].meta_hash, 6.0) not in compiled._CACHE


def test_a_sheet_without_meta_hash_is_never_cached() -> None:
    from dataclasses import replace

    sheet = replace(as_sheet_meta(build_template(10)), meta_hash="")
    assert compile_sheet(sheet) is not compile_sheet(sheet)
    assert not compiled._CACHE


def test_parts_are_built_from_the_template() -> None:
    sheet = as_sheet_meta(build_template(10))
    cs = CompiledSheet(sheet, 6.0)
    assert np.array_equal(cs.printed, render_sheet(sheet.raw, dpi=6.0 * 25.4))
    assert cs.answer_masks.centers_px.shape == (50, 2) and cs.identifier_masks.centers_px.shape == (80, 2)
    assert cs.ring_template.dtype == np.float32 and cs.ring_template.shape == (630, 891)  # shrunk to 3 px/mm
    assert abs(float(np.sqrt((cs.thumbnail ** 2).sum())) - 1.0) < 1e-6  # unit norm: a dot product correlates
    assert [a.center_mm for a in cs.anchors[:1]] == [cs.anchors[0].center_mm] and len(cs.anchors) == 15
