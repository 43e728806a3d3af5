"""Seeded texts for the embedding benchmarks: academy questions in Korean, English and a mix."""

from __future__ import annotations

import random

__all__ = ["QUESTION_TEMPLATES", "question_groups", "speed_texts"]

_KO_WORDS = (
    "학생 수학 문제 삼각형 넓이 공식 함수 그래프 방정식 풀이 정답 시험 영어 단어 문장 해석 오답 노트 숙제 "
    "선생님 수업 학원 과학 실험 결과 분석 역사 사건 원인 설명 다음 중 옳은 것을 고르시오 계산 하시오 이유 "
    "서술 하라 확률 경우의 수 미분 적분 도형 둘레 원 반지름 지름 속력 거리 시간 비율 백분율 평균 자료"
).split()
_EN_WORDS = (
    "student math problem triangle area formula function graph equation solve answer exam english word "
    "sentence translate wrong note homework teacher class academy science experiment result analysis history "
    "event cause explain which following correct choose calculate reason describe probability derivative "
    "integral circle radius diameter speed distance time ratio percent average data"
).split()


def speed_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` texts of 5-40 words: 40 % Korean, 30 % English, 30 % mixed (seeded).

    Examples:
        >>> t = speed_texts(10)
        >>> len(t), t == speed_texts(10)
        (10, True)
    """
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        words = rng.randint(5, 40)
        kind = i % 10
        pool = _KO_WORDS if kind < 4 else _EN_WORDS if kind < 7 else _KO_WORDS + _EN_WORDS
        out.append(" ".join(rng.choice(pool) for _ in range(words)))
    rng.shuffle(out)
    return out


#: (language, paraphrase a, paraphrase b, same topic, slot values): ``{x}`` is filled from the slot values.
QUESTION_TEMPLATES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("ko", "{x}의 넓이를 구하는 공식은 무엇인가요?", "{x} 넓이는 어떻게 계산하나요?", "{x}의 둘레는 어떻게 구하나요?",
     ("삼각형", "사각형", "원", "사다리꼴", "평행사변형", "마름모", "정육각형")),
    ("ko", "{x}년에 일어난 사건의 원인을 설명하시오.", "{x}년 사건이 왜 일어났는지 서술하시오.",
     "{x}년 사건의 결과는 무엇인가?", ("1392", "1592", "1876", "1919", "1945", "1950", "1987")),
    ("ko", "영어 단어 '{x}'의 뜻은 무엇인가요?", "'{x}'라는 영어 단어는 무슨 의미인가요?", "'{x}'의 철자를 쓰시오.",
     ("necessary", "separate", "environment", "library", "government", "knowledge", "describe")),
    ("ko", "{x}의 값을 구하는 과정을 자세히 설명해 주세요.", "{x}는 어떻게 계산하는지 풀이를 보여 주세요.",
     "{x}의 값이 음수가 될 수 있나요?", ("판별식", "기울기", "평균", "분산", "확률", "극한값", "도함수")),
    ("ko", "숙제를 {x}까지 제출해야 하나요?", "과제 마감이 {x}인가요?", "{x}에 보강 수업이 있나요?",
     ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "다음 주")),
    ("ko", "{x} 실험에서 변인을 통제하는 이유는?", "{x} 실험은 왜 변인을 통제해야 하나요?",
     "{x} 실험에 필요한 준비물은?", ("광합성", "증산 작용", "산화", "중화 반응", "자유 낙하", "굴절", "전기 분해")),
    ("en", "What is the formula for the area of a {x}?", "How do you calculate the area of a {x}?",
     "How do you find the perimeter of a {x}?", ("triangle", "square", "circle", "trapezoid", "rhombus", "hexagon",
                                                  "parallelogram")),
    ("en", "Explain the causes of the {x}.", "Why did the {x} happen?", "What were the results of the {x}?",
     ("French Revolution", "Cold War", "Great Depression", "Industrial Revolution", "First World War",
      "Korean War", "fall of Rome")),
    ("en", "What does the word '{x}' mean?", "What is the meaning of '{x}'?", "How do you spell '{x}'?",
     ("necessary", "separate", "environment", "library", "government", "knowledge", "describe")),
    ("en", "Is the homework due on {x}?", "Do we have to hand in the assignment by {x}?",
     "Is there a make-up class on {x}?", ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                                          "next week")),
    ("en", "Why must variables be controlled in the {x} experiment?",
     "What is the reason for controlling variables in the {x} experiment?",
     "What equipment does the {x} experiment need?", ("photosynthesis", "transpiration", "oxidation",
                                                       "neutralisation", "free fall", "refraction",
                                                       "electrolysis")),
    ("en", "Show me step by step how to compute the {x}.", "How is the {x} calculated? Please show the working.",
     "Can the {x} be negative?", ("discriminant", "slope", "mean", "variance", "probability", "limit",
                                  "derivative")),
)

_PREFIXES_KO = ("", "질문: ", "선생님, ", "궁금한데요, ", "시험 범위 질문: ")
_PREFIXES_EN = ("", "Question: ", "Teacher, ", "Quick question: ", "About the test: ")


def question_groups(language: str) -> list[dict[str, list[str]]]:
    """One group per (template, slot) in ``language``: ``a`` questions, ``b`` paraphrases, ``c`` same topic.

    Each list holds the same sentence under every polite prefix, so a pool of
    1,000 others holds many near neighbours (same template, another slot).

    Examples:
        >>> g = question_groups("ko")
        >>> len(g), len(g[0]["a"]), g[0]["a"][0]
        (42, 5, '삼각형의 넓이를 구하는 공식은 무엇인가요?')
    """
    prefixes = _PREFIXES_KO if language == "ko" else _PREFIXES_EN
    groups = []
    for lang, a, b, c, slots in QUESTION_TEMPLATES:
        if lang != language:
            continue
        for x in slots:
            groups.append({k: [p + t.format(x=x) for p in prefixes] for k, t in (("a", a), ("b", b), ("c", c))})
    return groups
