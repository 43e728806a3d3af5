from omr.grade import grade_image_with_page
from omr.overlay import render_overlay
from omr.template import render_sheet


def test_overlay_marks_colours(meta10, sheet_factory) -> None:
    page = sheet_factory(meta10, {1: ["2"], 2: ["1", "3"]}, "12345678")
    r, wp = grade_image_with_page(page, meta10, mode="scan")
    img = render_overlay(wp, r, meta10)
    assert img.shape == (1260, 1782, 3)
    # red drawn for the multi question, green for the ok one
    assert ((img[:, :, 2] > 200) & (img[:, :, 1] < 60)).any()
    assert ((img[:, :, 1] > 150) & (img[:, :, 0] < 80) & (img[:, :, 2] < 80)).any()


def test_overlay_blank(meta10) -> None:
    r, wp = grade_image_with_page(render_sheet(meta10, dpi=150), meta10, mode="scan")
    assert render_overlay(wp, r, meta10).dtype.name == "uint8"
