from omr.identifier import read_identifier
from omr.template import render_sheet
from omr.warp import warp_page


def _ident(meta, page):
    return read_identifier(warp_page(page, meta, "scan"), meta)


def test_blank_id(meta10) -> None:
    r = _ident(meta10, render_sheet(meta10, dpi=150))
    assert r["identifier"] is None and r["status"] == "blank"
    assert [d["digit_index"] for d in r["digits"]] == list(range(1, 9))


def test_full_id_ok(meta10, sheet_factory, photo_factory) -> None:
    page = sheet_factory(meta10, {}, "20240917")
    r = read_identifier(warp_page(photo_factory(page, rotation=90), meta10, "photo"), meta10)
    assert r["identifier"] == "20240917" and r["status"] == "ok" and r["raw_identifier"] == "20240917"


def test_blank_digit(meta10, sheet_factory) -> None:
    r = _ident(meta10, sheet_factory(meta10, {}, "1234?678"))
    assert r["identifier"] is None and r["raw_identifier"] == "1234?678"
    d5 = r["digits"][4]
    assert d5["digit_index"] == 5 and d5["status"] == "blank"


def test_multi_digit(meta10, sheet_factory) -> None:
    page = sheet_factory(meta10, {}, "12345678")
    page2 = sheet_factory(meta10, {}, "12395678")
    page = page.copy()
    page[:] = (page.astype(int) + page2 - 255).clip(0, 255)
    r = _ident(meta10, page)
    assert r["identifier"] is None and r["status"] == "multi"
    assert r["digits"][3]["status"] == "multi" and r["raw_identifier"][3] == "*"
