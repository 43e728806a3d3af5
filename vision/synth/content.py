"""Text pools for synthetic exam pages: Korean and English stems, passages, choices.

Plain data and seeded pickers; :mod:`vision.synth.exam` lays them out. ASCII
``-`` stands for minus (Nanum fonts lack U+2212).

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> stem = pick_stem(rng, "ko")
    >>> isinstance(stem, str) and len(stem) > 5
    True
    >>> len(pick_choices(rng, "en"))
    5
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EQUATIONS",
    "pick_choices",
    "pick_passage",
    "pick_stem",
]

_STEMS = {
    "ko": (
        "다음 중 옳은 것은?",
        "다음 식을 만족하는 x의 값을 구하시오.",
        "그림과 같이 삼각형 ABC에서 변 AB의 길이는?",
        "다음 표는 어느 반 학생들의 수학 점수를 나타낸 것이다. 평균을 구하면?",
        "이차방정식의 두 근의 합은?",
        "다음 중 글쓴이의 주장으로 가장 적절한 것은?",
        "밑줄 친 부분의 의미로 알맞은 것을 고르시오.",
        "다음 설명에 해당하는 물질은 무엇인가?",
        "일차함수의 그래프가 점 (2, 5)를 지날 때 상수 a의 값은?",
        "다음 중 소수가 아닌 것은?",
    ),
    "en": (
        "Which of the following is correct?",
        "Find the value of x that satisfies the equation below.",
        "The table shows the scores of five students. What is the mean score?",
        "What is the main idea of the passage?",
        "Choose the word that best fits the blank.",
        "In the figure, triangle ABC is isosceles. Find the length of AB.",
        "Which number is not a prime number?",
        "What does the underlined phrase mean?",
        "Solve the equation and choose the sum of its roots.",
        "Which statement about the graph is true?",
    ),
}

_FILLERS = {
    "ko": (
        "단, 계산 과정을 모두 쓰시오.",
        "풀이 과정과 답을 함께 쓰시오.",
        "보기에서 알맞은 것을 모두 고른 것은?",
        "이때 주어진 조건을 모두 만족해야 한다.",
        "철수는 매일 아침 같은 시각에 집을 나서서 학교까지 일정한 속력으로 걸어간다.",
        "어떤 수에 3을 더한 후 2배 한 값은 처음 수의 4배보다 2만큼 작다.",
    ),
    "en": (
        "Show all of your work.",
        "Give your answer in simplest form.",
        "Assume that all lengths are measured in centimeters.",
        "A train leaves the station at noon and travels at a constant speed of 60 km per hour.",
        "Tom has twice as many books as Jane, and together they have 36 books.",
        "Read each statement carefully before you answer.",
    ),
}

_PASSAGES = {
    "ko": (
        "우리 조상들은 계절의 변화를 관찰하여 농사에 필요한 지식을 쌓아 왔다.",
        "봄이 되면 씨를 뿌리고 여름에는 김을 매며 가을에는 곡식을 거두었다.",
        "이러한 지혜는 세대를 거쳐 전해지며 오늘날의 달력에도 남아 있다.",
        "과학 기술이 발달한 지금도 많은 사람들이 절기를 기준으로 생활한다.",
        "특히 입춘과 동지 같은 절기는 명절처럼 여겨지기도 한다.",
        "계절을 읽는 능력은 자연과 더불어 살아가는 삶의 태도에서 비롯되었다.",
    ),
    "en": (
        "Many cities are planting trees along their streets to fight rising heat.",
        "Trees cool the air by giving shade and by releasing water from their leaves.",
        "A street with tall trees can be several degrees cooler than a bare one.",
        "Planting trees is cheap compared with building new cooling systems.",
        "However, young trees need water and care for several years.",
        "City planners must therefore choose species that suit the local climate.",
    ),
}

_HEADERS = {
    "ko": "다음 글을 읽고 물음에 답하시오.",
    "en": "Read the passage and answer the questions.",
}

_WORD_CHOICES = {
    "ko": ("사과", "바다", "우정", "평화", "기술", "자연", "역사", "과학", "문화", "경제"),
    "en": ("apple", "ocean", "friend", "peace", "science", "nature", "history", "culture"),
}

_SENTENCE_CHOICES = {
    "ko": (
        "모든 자연수는 소수이다.",
        "두 짝수의 합은 항상 짝수이다.",
        "정삼각형의 한 내각은 60도이다.",
        "원의 넓이는 반지름에 비례한다.",
        "일차함수의 그래프는 직선이다.",
        "음수의 제곱은 음수이다.",
    ),
    "en": (
        "Every natural number is prime.",
        "The sum of two even numbers is even.",
        "Each angle of an equilateral triangle is 60 degrees.",
        "The area of a circle is proportional to its radius.",
        "The graph of a linear function is a line.",
        "The square of a negative number is negative.",
    ),
}

#: Simple equations drawn on their own line (superscripts and a/b fractions).
EQUATIONS = (
    "x² + 3x = 10",
    "2x + 5 = 3/4",
    "y = 2x² - 4x + 1",
    "(a + b)² = a² + 2ab + b²",
    "3/5 + 1/2 = ?",
    "x² - 9 = 0",
    "4(x - 2) = 2x + 6",
)


def pick_stem(rng: np.random.Generator, lang: str) -> str:
    """A question stem: one base sentence plus zero to two fillers (wraps to 1-3 lines)."""
    parts = [str(rng.choice(_STEMS[lang]))]
    fillers = _FILLERS[lang]
    for i in rng.choice(len(fillers), size=int(rng.integers(0, 3)), replace=False):
        parts.append(fillers[int(i)])
    return " ".join(parts)


def pick_passage(rng: np.random.Generator, lang: str) -> tuple[str, list[str]]:
    """A shared passage: its instruction (without the range) and 3-5 sentences."""
    sentences = _PASSAGES[lang]
    idx = sorted(rng.choice(len(sentences), size=int(rng.integers(3, 6)), replace=False))
    return _HEADERS[lang], [sentences[int(i)] for i in idx]


def pick_choices(rng: np.random.Generator, lang: str) -> list[str]:
    """Five answer choices: numbers, words or sentences."""
    kind = rng.choice(["number", "word", "sentence"], p=[0.5, 0.25, 0.25])
    if kind == "number":
        start = int(rng.integers(-5, 20))
        step = int(rng.integers(1, 4))
        return [str(start + step * i) for i in range(5)]
    pool = _WORD_CHOICES[lang] if kind == "word" else _SENTENCE_CHOICES[lang]
    return [pool[int(i)] for i in rng.choice(len(pool), size=5, replace=False)]
