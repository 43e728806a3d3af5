"""`ai-worker omr template --title "3월 모의고사 수학"` (issue 15): Hangul in the PDF's text; a glyph no font has exits 2."""

import json

import pypdfium2 as pdfium

from ai_tasks.cli.omr import main


def test_korean_title_reaches_the_pdf(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["omr", "template", "--questions", "20", "--title", "3월 모의고사 수학", "--out", str(tmp_path)]) == 0
    paths = json.loads(capsys.readouterr().out)
    pdf = pdfium.PdfDocument(paths["pdf"])
    try:
        assert pdf[0].get_textpage().get_text_range().startswith("3월 모의고사 수학")
    finally:
        pdf.close()


def test_title_without_a_glyph_is_a_json_error(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "sheet"
    assert main(["omr", "template", "--questions", "20", "--title", "수학 \U000f0000", "--out", str(out)]) == 2
    err = json.loads(capsys.readouterr().err)
    assert err["reason_code"] == "font_missing_glyph" and "U+F0000" in err["message"]
    assert not out.exists()
