"""Character error rate without whitespace, overall and per character class.

CER = (substitutions + deletions + insertions) / truth characters, with all
whitespace removed from both sides (Korean spacing is a matter of taste;
the characters are not). Per class (Hangul, ASCII, circled numbers): a
truth character of that class counts as an error when it is substituted or
deleted; an inserted character is charged to the class of the truth
character before it. ``circled_right`` is the share of truth ``①..⑤`` read
exactly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

CIRCLED = set("①②③④⑤⑥⑦⑧⑨⑩")
CLASSES = ("hangul", "ascii", "circled", "other")


def char_class(ch: str) -> str:
    code = ord(ch)
    if ch in CIRCLED:
        return "circled"
    if 0xAC00 <= code <= 0xD7A3 or 0x3131 <= code <= 0x318E:
        return "hangul"
    if code < 128:
        return "ascii"
    return "other"


def squash(text: str) -> str:
    return "".join(text.split())


def align(truth: str, hyp: str) -> list[tuple[str, str | None, str | None]]:
    """Levenshtein alignment: ops ``("eq"|"sub"|"del"|"ins", truth_char, hyp_char)``."""
    n, m = len(truth), len(hyp)
    t = np.frombuffer(truth.encode("utf-32-le"), dtype=np.uint32)
    h = np.frombuffer(hyp.encode("utf-32-le"), dtype=np.uint32)
    dist = np.zeros((n + 1, m + 1), dtype=np.int32)
    dist[0] = np.arange(m + 1)
    j = np.arange(m + 1, dtype=np.int32)
    for i in range(1, n + 1):
        prev = dist[i - 1]
        cand = np.empty(m + 1, dtype=np.int32)
        cand[0] = i
        cand[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (h != t[i - 1]))
        dist[i] = np.minimum.accumulate(cand - j) + j
    ops: list[tuple[str, str | None, str | None]] = []
    i, k = n, m
    while i > 0 or k > 0:
        if i > 0 and k > 0 and dist[i, k] == dist[i - 1, k - 1] + (truth[i - 1] != hyp[k - 1]):
            ops.append(("eq" if truth[i - 1] == hyp[k - 1] else "sub", truth[i - 1], hyp[k - 1]))
            i, k = i - 1, k - 1
        elif i > 0 and dist[i, k] == dist[i - 1, k] + 1:
            ops.append(("del", truth[i - 1], None))
            i -= 1
        else:
            ops.append(("ins", None, hyp[k - 1]))
            k -= 1
    ops.reverse()
    return ops


@dataclass
class CERCounter:
    """Errors and truth characters per class, summed over pages."""

    errors: Counter[str] = field(default_factory=Counter)
    chars: Counter[str] = field(default_factory=Counter)
    circled_right: int = 0
    circled_total: int = 0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, truth: str, hyp: str) -> None:
        last = "other"
        for op, tc, hc in align(squash(truth), squash(hyp)):
            if tc is not None:
                last = char_class(tc)
                self.chars[last] += 1
                self.chars["all"] += 1
                if last == "circled":
                    self.circled_total += 1
                    self.circled_right += op == "eq"
            if op != "eq":
                self.errors[last] += 1
                self.errors["all"] += 1
                self.confusions[(tc or "", hc or "")] += 1

    def cer(self, cls: str = "all") -> float:
        return self.errors[cls] / self.chars[cls] if self.chars[cls] else float("nan")

    @property
    def circled_accuracy(self) -> float:
        return self.circled_right / self.circled_total if self.circled_total else float("nan")
