"""Wrong-note rendering speed: ms per note and per page for seeded notes.

Run::

    .venv/bin/python bench/wrong_note.py [--items 30 300] [--runs 5] [--seed 1]

Each note has items spread over exams of up to 20 questions, each with a
Korean/English/maths question text of 10-80 words; the first run in a
process also pays loading the fonts (reported apart).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.wrong_note import parse_note, render_note  # noqa: E402

WORDS = ("다음 중 옳은 것은 함수 그래프 방정식 해 값 문장 의미 가장 적절한 설명 실험 결과 자료 "
         "which of the following is true ① ② ③ ④ ⑤ x² √2 ≤ π ∞ α+β=5").split()


def note(n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    items = [
        {"exam_id": i // 20 + 1, "exam_title": f"{i // 20 + 1}주차 테스트", "question_id": i % 20 + 1,
         "answer": rng.choice("①②③④⑤"), "correct_answer": rng.choice("①②③④⑤"),
         "question_text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 80)))}
        for i in range(n)
    ]
    return {"enrollment_id": 1, "created_at": "2026-03-02", "items": items}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, nargs="+", default=[30, 300])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    render_note(parse_note(note(1, args.seed)))
    print(f"first render in this process (loads fonts): {(time.perf_counter() - t0) * 1000:.0f} ms")
    for n in args.items:
        doc = parse_note(note(n, args.seed))
        times, pages = [], 0
        for _ in range(args.runs):
            t = time.perf_counter()
            out = render_note(doc)
            times.append(time.perf_counter() - t)
            pages = out.pages
        med = statistics.median(times) * 1000
        print(f"{n} items, {pages} pages, {len(out.pdf) / 1024:.0f} KB: median {med:.0f} ms per note, {med / pages:.1f} ms per page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
