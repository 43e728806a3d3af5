"""Fuzz the OMR meta parser, the legacy-questions parser and the image loader with hypothesis.

Each target gets ``--seconds`` of generated inputs: mutations of the real
sample meta (values replaced by hostile JSON: NaN, huge numbers, wrong types,
deep nesting, missing keys), arbitrary legacy question lists, and byte
strings (random, and the sample photo and a PNG with bytes flipped, cut or
inserted). An input passes when it is accepted or refused with an
:class:`omr.errors.OMRError` carrying a reason code; anything else
(``ValueError``, ``KeyError``, ``TypeError``, a crash, a hang past
``--deadline-ms``) is a finding, printed with the smallest example
hypothesis found.

    .venv/bin/python bench/fuzz_inputs.py                 # 20 s per target
    .venv/bin/python bench/fuzz_inputs.py --seconds 120
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Flaky  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "omr" / "samples"

#: JSON-ish values an attacker (or a buggy API) can put anywhere in a meta.
HOSTILE_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from([0, -1, 1e308, -1e308, float("nan"), float("inf"), "", "1", "NaN", [], {}]),
    st.floats(0.5, 300.0),  # plausible millimetres: some mutations stay valid
)
JSONISH = st.recursive(
    HOSTILE_LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _paths(v, (*prefix, i))
    return out


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    value[head] = _set(value[head], tuple(rest), new)
    return value


def _png_bytes() -> bytes:
    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray((np.arange(64 * 48) % 251).astype("uint8").reshape(48, 64)).save(buf, format="PNG")
    return buf.getvalue()


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, pos, val in edits:
        if not out:
            break
        i = pos % len(out)
        if kind == 0:
            out[i] = val
        elif kind == 1:
            del out[i:]
        else:
            out[i:i] = bytes([val]) * (1 + val % 64)
    return bytes(out)


class Finding(Exception):
    pass


def _check(fn: Callable[[Any], Any], value: Any, deadline_ms: float, stats: Counter[str]) -> None:
    from omr.errors import OMRError

    t0 = time.perf_counter()
    try:
        fn(value)
        stats["accepted"] += 1
    except OMRError as exc:
        if not getattr(exc, "reason_code", None):
            raise Finding(f"OMRError without a reason code: {exc!r}") from None
        stats[exc.reason_code] += 1
    except Exception as exc:
        raise Finding(f"{type(exc).__name__}: {exc}") from None
    ms = (time.perf_counter() - t0) * 1000
    if ms > deadline_ms:
        raise Finding(f"took {ms:.0f} ms (limit {deadline_ms:.0f})")


def fuzz(name: str, strategy: Any, fn: Callable[[Any], Any], seconds: float, deadline_ms: float) -> dict[str, Any]:
    stats: Counter[str] = Counter()
    findings: list[str] = []
    stop_at = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < stop_at:
        rounds += 1

        @settings(max_examples=200, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def prop(value: Any) -> None:
            _check(fn, value, deadline_ms, stats)

        try:
            prop()
        except Finding as exc:
            findings.append(str(exc))
        except Flaky as exc:
            findings.append(f"flaky: {exc}")
        if len(findings) >= 5:
            break
    total = sum(stats.values())
    return {"target": name, "inputs": total, "rounds": rounds, "outcomes": dict(stats.most_common(8)),
            "findings": findings}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=20.0, help="time per target")
    p.add_argument("--deadline-ms", type=float, default=5000.0, help="slower than this is a finding")
    args = p.parse_args(argv)

    from omr.image import decode_image
    from omr.meta import as_sheet_meta, meta_from_legacy_questions

    meta = json.loads((SAMPLES / "meta_20q.json").read_text())
    meta_paths = _paths(meta)
    photo = (SAMPLES / "photo_20q.jpg").read_bytes()
    png = _png_bytes()

    @st.composite
    def mutated_meta(draw: Any) -> Any:
        m = copy.deepcopy(meta)
        for _ in range(draw(st.integers(1, 3))):
            path = draw(st.sampled_from(meta_paths))
            try:
                m = _set(m, path, draw(JSONISH))
            except (KeyError, IndexError, TypeError):
                pass
        return m

    edits = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2**31), st.integers(0, 255)), max_size=8)
    images = st.one_of(
        st.binary(max_size=2048),
        st.builds(_mutate, st.just(png), edits),
        st.builds(_mutate, st.just(photo), edits),
    )
    legacy = st.lists(st.one_of(JSONISH, st.fixed_dictionaries(
        {"question_number": HOSTILE_LEAVES, "choices": HOSTILE_LEAVES})), max_size=6)

    rows = [
        fuzz("omr.meta.as_sheet_meta (mutated sample meta)", mutated_meta(), as_sheet_meta, args.seconds,
             args.deadline_ms),
        fuzz("omr.meta.as_sheet_meta (arbitrary JSON)", JSONISH, as_sheet_meta, args.seconds / 2, args.deadline_ms),
        fuzz("omr.meta.meta_from_legacy_questions", legacy, meta_from_legacy_questions, args.seconds / 2,
             args.deadline_ms),
        fuzz("omr.image.decode_image (bytes, mutated PNG/JPEG)", images, decode_image, args.seconds,
             args.deadline_ms),
    ]
    for r in rows:
        print(f"{r['target']}: {r['inputs']} inputs, {len(r['findings'])} finding(s); outcomes {r['outcomes']}")
        for f in r["findings"]:
            print(f"  FINDING: {f}")
    return 0 if not any(r["findings"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
