"""Where a page's character errors come from: by character class and by line.

Used by ``bench/ocr_sets.py --errors``. Two views of one page:

* **characters**: the CER alignment's edits (:func:`bench._ocr_cer.align`,
  whitespace removed) counted by edit (``sub``, ``del``, ``ins``) and by the
  class of the truth character (the read one for an insertion): ``hangul``,
  ``latin``, ``digit``, ``punct`` (other ASCII), ``circled``, ``other``;
* **lines**: each truth line matched to its most similar unmatched read line
  (similarity of the characters, :data:`LINE_MATCH` at least): ``missing``
  (truth lines without a match), ``garbage`` (read lines without one, and
  their characters), ``order_breaks`` (matched lines read out of order:
  a column or table read in the wrong order).
"""

from __future__ import annotations

import difflib
from collections import Counter

from _ocr_cer import align, char_class, squash

#: a read line is the same line as a truth line at this similarity (difflib ratio) or more.
LINE_MATCH = 0.5


def fine_class(ch: str) -> str:
    """``hangul``, ``latin``, ``digit``, ``punct``, ``circled`` or ``other``."""
    cls = char_class(ch)
    if cls != "ascii":
        return cls
    return "latin" if ch.isalpha() else "digit" if ch.isdigit() else "punct"


def page_errors(truth: str, hyp: str) -> Counter[str]:
    """Edit counts by ``edit:class`` plus the line counts (``lines``, ``missing``, ``garbage``,
    ``garbage_chars``, ``order_breaks``) of one page.

    Examples:
        >>> page_errors("The OSS licence", "The 055 licence")["sub:latin"]
        3
        >>> e = page_errors("1. 사과는 빨갛다\\nThe OSS licence\\n2. 하늘", "The OSS licence\\n1. 사과는 빨갛다\\nQOnss")
        >>> e["missing"], e["garbage"], e["order_breaks"]
        (1, 1, 1)
    """
    out: Counter[str] = Counter()
    for op, tc, hc in align(squash(truth), squash(hyp)):
        if op != "eq":
            out[f"{op}:{fine_class(tc if tc is not None else hc or '')}"] += 1
    t_lines = [line for line in truth.splitlines() if line.strip()]
    h_lines = [line for line in hyp.splitlines() if line.strip()]
    used: set[int] = set()
    order: list[int] = []
    for t in t_lines:
        scores = [(difflib.SequenceMatcher(None, squash(t), squash(h)).ratio(), j)
                  for j, h in enumerate(h_lines) if j not in used]
        best, j = max(scores, default=(0.0, -1))
        if best >= LINE_MATCH:
            used.add(j)
            order.append(j)
        else:
            out["missing"] += 1
    garbage = [h for j, h in enumerate(h_lines) if j not in used]
    out["lines"] += len(t_lines)
    out["garbage"] += len(garbage)
    out["garbage_chars"] += sum(len(squash(h)) for h in garbage)
    out["order_breaks"] += sum(1 for a, b in zip(order, order[1:], strict=False) if b < a)
    return out


def describe(errors: Counter[str], chars: int, top: int = 8) -> str:
    """One line: the largest edit classes as shares of the truth's characters, then the line counts."""
    edits = sorted(((k, v) for k, v in errors.items() if ":" in k), key=lambda kv: -kv[1])[:top]
    head = ", ".join(f"{k} {v / max(1, chars):.1%}" for k, v in edits)
    return (f"{head} | lines {errors['lines']}: missing {errors['missing']}, garbage {errors['garbage']} "
            f"({errors['garbage_chars']} chars), order breaks {errors['order_breaks']}")
