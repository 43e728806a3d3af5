"""Lines break between words (eojeol) only; an over-long word is split as a last resort."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.wrong_note.linebreak import join, wrap


def unit(text: str, style: str) -> float:
    return float(len(text)) * (2.0 if style == "wide" else 1.0)


def test_empty_paragraph_has_no_lines() -> None:
    assert wrap([], 10, unit) == []
    assert wrap([("   ", "s")], 10, unit) == []


def test_korean_breaks_at_spaces_only() -> None:
    text = "이 문장은 줄바꿈이 어절 단위로 일어나는지 확인합니다"
    lines = [join(line) for line in wrap([(text, "s")], 12, unit)]
    assert " ".join(lines) == text
    assert all(len(line) <= 12 for line in lines)
    words = set(text.split())
    assert all(set(line.split()) <= words for line in lines)


def test_glued_pieces_stay_one_word() -> None:
    lines = wrap([("Q12", "label"), ("/답: ②", "s")], 7, unit)
    assert [join(line) for line in lines] == ["Q12/답:", "②"]
    assert lines[0] == [("Q12", "label"), ("/답:", "s")]


def test_styles_measure_their_own_width() -> None:
    lines = wrap([("ab", "wide"), (" cd ef", "s")], 7, unit)
    assert [join(line) for line in lines] == ["ab cd", "ef"]
    assert lines[0] == [("ab", "wide"), (" ", "s"), ("cd", "s")]


def test_an_over_long_word_is_split_between_characters() -> None:
    lines = [join(line) for line in wrap([("가 나다라마바사아자차 카", "s")], 4, unit)]
    assert lines == ["가", "나다라마", "바사아자", "차 카"]


words = st.lists(st.text(alphabet="가나다라마바사abc①√", min_size=1, max_size=8), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(words=words, width=st.integers(min_value=1, max_value=30))
def test_breaks_fall_on_spaces_of_the_source(words: list[str], width: int) -> None:
    text = " ".join(words)
    lines = [join(line) for line in wrap([(text, "s")], width, unit)]
    if all(len(w) <= width for w in words):
        assert " ".join(lines) == text  # every break replaced exactly one source space
        assert all(len(line) <= width for line in lines)
    else:
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
