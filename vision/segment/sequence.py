"""Choose which margin lines open questions, and their numbers, as one consecutive sequence.

Question numbers on a page run consecutively in reading order (column by
column, top to bottom). OCR of the anchors is noisy: a number is misread
(``[4]`` as ``[14]``), missed (``문제`` garbled), or read where there is none
(a continuation line starting ``Read`` read as ``8.``). :func:`assign_numbers`
picks the subset of candidate lines and the starting number that best agree
with what was read, by dynamic programming over (candidate, last number
given), so one bad read cannot shift every number after it. Numbers are
consecutive by construction: a missing read is filled, never skipped.

A candidate is scored when it opens a question with number ``n``:
``READ_EXACT`` when one of its reads is ``n``, ``READ_INSIDE`` when ``n``
hides in a read (``112`` for ``12``), ``READ_OTHER`` when it was read as
another number, and ``UNREAD_APART`` / ``UNREAD_CLOSE`` when nothing was read,
by whether it is set apart from the line above (questions are). Leaving a
line out costs ``SKIP_READ_APART`` / ``SKIP_READ_CLOSE`` when a number was
read on it, nothing otherwise.

Examples:
    >>> c = [Candidate((12,), True), Candidate((13,), True), Candidate((), True),
    ...      Candidate((), False), Candidate((15,), True), Candidate((116,), True)]
    >>> [(a.number, a.exact) if a else None for a in assign_numbers(c)]
    [(12, True), (13, True), (14, False), None, (15, True), (16, False)]
    >>> c = [Candidate((4,), True), Candidate((8,), False), Candidate((5,), True)]
    >>> [a.number if a else None for a in assign_numbers(c)]  # "Read" misread as 8.: left out
    [4, None, 5]
    >>> assign_numbers([Candidate((8,), False)])[0].number
    8
    >>> [a.number for a in assign_numbers([Candidate((114,), True), Candidate((115,), True)]) if a]
    [14, 15]
    >>> assign_numbers([])
    []
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Assigned", "Candidate", "assign_numbers"]

#: Score of opening a question whose number was read exactly.
READ_EXACT = 3.0
#: ... whose read is the number with one stray digit before or after (``[14]`` for ``[4]``, ``114`` for ``14``).
READ_STRAY = 2.0
#: ... whose number hides elsewhere inside the read; weak evidence.
READ_INSIDE = 1.0
#: ... that was read as another number (a misread the sequence corrects); worse than leaving
#: a read line out, so a stray read at either end ("(1)" of a choice list) is not taken.
READ_OTHER = -1.5
#: ... that was not read, set apart from the line above (a question's spacing): slightly
#: negative, so an unread line joins only to bridge a gap between reads, never for free at the ends.
UNREAD_APART = -0.25
#: ... that was not read and sits a line gap under the line above (a continuation line).
UNREAD_CLOSE = -3.0
#: Cost of leaving out a line read as a number, set apart / close under the line above.
SKIP_READ_APART, SKIP_READ_CLOSE = -1.0, -0.5
#: Largest question number considered.
MAX_NUMBER = 200
#: Numbers above this are rare on exams; each costs this much (``[14]`` read as ``[114]`` on every anchor).
LIKELY_MAX, UNLIKELY_COST = 60, 2.5


@dataclass(frozen=True)
class Candidate:
    """A margin line: the question numbers read on it (any crop), and whether it is set apart."""

    reads: tuple[int, ...]
    apart: bool


@dataclass(frozen=True)
class Assigned:
    """A line chosen to open a question: its number, and whether a read gave exactly that number."""

    number: int
    exact: bool


def _open_score(c: Candidate, n: int) -> float:
    return _read_score(c, n) - (UNLIKELY_COST if n > LIKELY_MAX else 0.0)


def _read_score(c: Candidate, n: int) -> float:
    if not c.reads:
        return UNREAD_APART if c.apart else UNREAD_CLOSE
    if n in c.reads:
        return READ_EXACT
    if any(str(r)[1:] == str(n) or str(r)[:-1] == str(n) for r in c.reads):
        return READ_STRAY
    if any(str(n) in str(r) for r in c.reads):
        return READ_INSIDE
    return READ_OTHER


def _skip_score(c: Candidate) -> float:
    if not c.reads:
        return 0.0
    return SKIP_READ_APART if c.apart else SKIP_READ_CLOSE


def assign_numbers(candidates: Sequence[Candidate]) -> list[Assigned | None]:
    """The number each candidate opens a question with, ``None`` for lines that open none.

    When nothing at all was read, no line is chosen (``[None, ...]``): there
    is no number to anchor the sequence on.
    """
    reads = {r for c in candidates for r in c.reads}
    if not reads:
        return [None] * len(candidates)
    top = min(MAX_NUMBER, max(reads) + len(candidates))
    neg = float("-inf")
    # best[m]: best score so far when the last question opened had number m (0: none yet)
    best = [neg] * (top + 1)
    best[0] = 0.0
    back: list[list[tuple[int, bool]]] = []  # per candidate: for each m, (previous m, opened here)
    for c in candidates:
        skip = _skip_score(c)
        new = [neg] * (top + 1)
        choice: list[tuple[int, bool]] = [(0, False)] * (top + 1)
        for m in range(top + 1):
            if best[m] == neg:
                continue
            if best[m] + skip > new[m]:
                new[m] = best[m] + skip
                choice[m] = (m, False)
            starts = range(1, top + 1) if m == 0 else (m + 1,)
            for n in starts:
                if n > top:
                    continue
                score = best[m] + _open_score(c, n)
                if score > new[n]:
                    new[n] = score
                    choice[n] = (m, True)
        best = new
        back.append(choice)
    m = max(range(top + 1), key=lambda k: (best[k], -k))
    out: list[Assigned | None] = [None] * len(candidates)
    for j in range(len(candidates) - 1, -1, -1):
        prev, opened = back[j][m]
        if opened:
            out[j] = Assigned(m, m in candidates[j].reads)
        m = prev
    return out
