import json

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from omr.errors import MetaError
from omr.meta import load_meta
from omr.template import build_template, render_sheet, write_sheet


@pytest.mark.parametrize("n", [1, 10, 20, 30, 55, 100])
def test_build_template_valid_for_every_size(n: int) -> None:
    meta = build_template(n)
    sheet = load_meta(meta)
    assert len(sheet.questions) == n
    assert meta["page"]["size"] == {"width": 297.0, "height": 210.0}
    assert all(2.2 <= c["r"] <= 2.6 for q in meta["questions"] for c in q["choices"])


@pytest.mark.parametrize("n,choices", [(0, 5), (101, 5), (10, 3), (10, 6)])
def test_build_template_rejects(n: int, choices: int) -> None:
    with pytest.raises(MetaError):
        build_template(n, choices=choices)


def test_four_choices_labels() -> None:
    meta = build_template(10, choices=4)
    assert [c["label"] for c in meta["questions"][0]["choices"]] == ["1", "2", "3", "4"]


def test_markers_asymmetric() -> None:
    meta = build_template(10)
    kinds = [m["kind"] for m in meta["markers"]]
    assert kinds.count("hollow") == 1
    page = render_sheet(meta, dpi=100)
    assert not np.array_equal(page, np.rot90(page, 2))


def test_render_size() -> None:
    assert render_sheet(build_template(10), dpi=200).shape == (1654, 2339)


def test_write_sheet(tmp_path) -> None:
    """The PNG is the raster render itself, the JSON the meta; the PDF is checked in test_render_pdf."""
    meta = build_template(20, title="Quiz")
    paths = write_sheet(meta, tmp_path, dpi=50)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json", "sheet.pdf", "sheet.png"]
    png = cv2.imread(str(paths["png"]), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(png, render_sheet(meta, dpi=50))
    assert json.loads(paths["meta"].read_text()) == meta
    assert pdfium.PdfDocument(str(paths["pdf"]))[0].get_size() == pytest.approx((297 / 25.4 * 72, 210 / 25.4 * 72))
