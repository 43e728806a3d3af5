"""aicore.fonts reads each font's cmap itself: the same coverage ReportLab finds, no third-party import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aicore.fonts import BOLD, REGULAR, FontChain, covered_code_points

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", [*REGULAR, *BOLD, "/usr/share/fonts/truetype/dejavu/DejaVuMathTeXGyre.ttf"])
def test_coverage_is_reportlabs(path: str) -> None:
    from reportlab.pdfbase.ttfonts import TTFont

    face = TTFont("cov-" + Path(path).stem, path).face
    assert covered_code_points(path) == frozenset(cp for cp, glyph in face.charToGlyph.items() if glyph)


def test_runs_missing_and_reason() -> None:
    chain = FontChain(REGULAR)
    assert [(Path(p).name, run) for p, run in chain.runs("3월 수학 ℝ 합")] == [
        ("NanumGothic.ttf", "3월 수학 "), ("DejaVuSans.ttf", "ℝ "), ("NanumGothic.ttf", "합")]
    assert chain.missing("") == [] and chain.describe_missing("가나") == ""
    assert "U+F0000" in chain.describe_missing("가\U000f0000") and "NanumGothic.ttf" in chain.describe_missing("\U000f0000")


def test_nothing_installed_draws_nothing(tmp_path: Path) -> None:
    not_a_font = tmp_path / "x.ttf"
    not_a_font.write_bytes(b"\x00\x01\x00\x00" + b"\x00" * 8)
    chain = FontChain((str(tmp_path / "absent.ttf"), str(not_a_font)))
    assert chain.paths == () and chain.missing("ab") == ["a", "b"]
    assert "none installed" in chain.describe_missing("a")


def test_imports_only_the_standard_library() -> None:
    code = "import sys, aicore.fonts; print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'reportlab', 'numpy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr
