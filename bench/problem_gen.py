"""Problem-generation benchmark: replayed model replies through the real client and our checks.

Run::

    .venv/bin/python bench/problem_gen.py [--cases 120] [--seed 1] [--server-ms 0]

A local HTTP server speaking the chat-completions wire format replays a
seeded set of model replies, one case at a time, to the real ``openai``
client through :func:`nlp.problem.generate_problem`:

==================  ==========================================================  ======================
case                server replies                                              expected
==================  ==========================================================  ======================
valid               a valid problem (labels ``③``/``C``/text, difficulty 1..7)  a problem
fenced              the same inside a markdown ```json fence                    a problem
repaired            wrong shape or answer not among choices, then valid         a problem (2 calls)
schema_fallback     400 "response_format json_schema unsupported", then valid  a problem (2 calls)
wrong_shape         wrong shape twice (a list, missing fields, prose)           ``llm_invalid_output``
refusal             ``message.refusal``                                         ``llm_refused``
truncated           ``finish_reason: length``                                   ``llm_truncated``
==================  ==========================================================  ======================

It prints the fraction of should-be-valid cases turned into valid problems,
the fraction of should-fail cases failed with the right reason code, and the
overhead our side adds per chat call: client wall time minus the time the
server spent handling the request (``--server-ms`` adds simulated model
latency, excluded the same way), split into our own code (prompt building,
JSON parsing, validation) and the ``openai`` client with its HTTP round trip.
Both with a client built per job (what the job does) and one client reused.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.errors import NLPError  # noqa: E402
from nlp.problem import ChatClient, ClientConfig, generate_problem  # noqa: E402
from nlp.problem.prompt import build_messages  # noqa: E402
from nlp.problem.schema import parse_reply, validate_problem  # noqa: E402
from tests.ai_tasks._http import Route  # noqa: E402
from tests.nlp.problem._chat_server import completion, error, scripted_server  # noqa: E402

KINDS = {  # kind -> (weight, expected reason code or None for a problem)
    "valid": (40, None),
    "fenced": (10, None),
    "repaired": (15, None),
    "schema_fallback": (5, None),
    "wrong_shape": (10, "llm_invalid_output"),
    "refusal": (10, "llm_refused"),
    "truncated": (10, "llm_truncated"),
}
SUBJECTS = ["수학", "과학", "국어", "영어", "사회"]
WORDS = "다음 중 옳은 것은 고르시오 함수 그래프 방정식 해 값 문장 의미 가장 적절한 설명 실험 결과 자료".split()


def _problem(rng: random.Random) -> dict[str, Any]:
    n = rng.choice([0, 4, 5, 5])
    choices = [f"{rng.randint(1, 99)} {rng.choice(WORDS)}" for _ in range(n)]
    k = rng.randrange(n) if n else 0
    answer: str | None
    if n == 0:
        answer = rng.choice(["x = 3", None])
    else:
        answer = rng.choice(["①②③④⑤"[k], "ABCDE"[k], str(k + 1), choices[k]])
    return {
        "body": " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40))) + "?",
        "choices": choices,
        "answer": answer,
        "difficulty": rng.choice([1, 2, 3, 3, 4, 5, 7]),
        "tag": rng.choice(SUBJECTS),
        "summary": " ".join(rng.choice(WORDS) for _ in range(6)),
        "explanation": " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 60))),
    }


def _wrong(rng: random.Random, good: dict[str, Any]) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return json.dumps([good], ensure_ascii=False)
    if kind == 1:
        return json.dumps({k: v for k, v in good.items() if k != "tag"}, ensure_ascii=False)
    if kind == 2:
        return "물론입니다! 정답은 ③번입니다."
    return json.dumps({**good, "choices": ["1", "2", "3", "4"], "answer": "⑨"}, ensure_ascii=False)


def build_cases(n: int, seed: int) -> list[tuple[str, list[Route]]]:
    """``n`` seeded cases: (kind, the replies the server gives for it)."""
    rng = random.Random(seed)
    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    cases: list[tuple[str, list[Route]]] = []
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        good = _problem(rng)
        text = json.dumps(good, ensure_ascii=False)
        usage = (rng.randint(300, 900), rng.randint(80, 600))
        if kind == "valid":
            script = [completion(text, usage=usage)]
        elif kind == "fenced":
            script = [completion(f"```json\n{text}\n```", usage=usage)]
        elif kind == "repaired":
            script = [completion(_wrong(rng, good), usage=usage), completion(text, usage=usage)]
        elif kind == "schema_fallback":
            script = [error(400, "response_format of type json_schema is not supported"), completion(text, usage=usage)]
        elif kind == "wrong_shape":
            bad = _wrong(rng, good)
            script = [completion(bad, usage=usage), completion(bad, usage=usage)]
        elif kind == "refusal":
            script = [completion(None, refusal="죄송하지만 도와드릴 수 없습니다.", usage=usage)]
        else:
            script = [completion(text[: len(text) // 2], finish_reason="length", usage=usage)]
        cases.append((kind, script))
    return cases


def _timed(route: Route, server_ms: float, log: list[float]) -> Route:
    def wrapped(h: BaseHTTPRequestHandler) -> None:
        t0 = time.perf_counter()
        if server_ms:
            time.sleep(server_ms / 1000.0)
        route(h)
        h.wfile.flush()
        log.append(time.perf_counter() - t0)

    return wrapped


def run(cases: list[tuple[str, list[Route]]], server_ms: float, reuse: bool) -> dict[str, Any]:
    outcomes: Counter[tuple[str, str]] = Counter()
    overhead_ms: list[float] = []
    server_log: list[float] = []
    calls = 0
    with scripted_server() as srv:
        cfg = ClientConfig(model="bench", api_key="sk-bench", base_url=srv.base_url, timeout_s=10.0)
        shared = ChatClient(cfg) if reuse else None
        try:
            for kind, script in cases:
                server_log.clear()
                srv.extend([_timed(r, server_ms, server_log) for r in script])
                t0 = time.perf_counter()
                try:
                    p = generate_problem("OCR 텍스트 " + kind, client_config=cfg, client=shared)
                    got = "problem"
                    n_calls = p.usage.calls + (1 if kind == "schema_fallback" else 0)
                except NLPError as exc:
                    got = exc.reason_code
                    n_calls = len(script)
                wall = time.perf_counter() - t0
                expected = KINDS[kind][1] or "problem"
                outcomes[(kind, "right" if got == expected else f"wrong:{got}")] += 1
                calls += n_calls
                overhead_ms.append((wall - sum(server_log)) * 1000.0 / max(n_calls, 1))
        finally:
            if shared is not None:
                shared.close()
    return {"outcomes": outcomes, "overhead_ms": overhead_ms, "calls": calls}


def own_code_ms(rng_seed: int, repeats: int = 200) -> float:
    """Our own code per call, without HTTP: build the prompt, parse and validate a reply."""
    good = json.dumps(_problem(random.Random(rng_seed)), ensure_ascii=False)
    t0 = time.perf_counter()
    for i in range(repeats):
        build_messages(f"OCR 텍스트 {i} " * 50)
        validate_problem(parse_reply(good))
    return (time.perf_counter() - t0) * 1000.0 / repeats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--server-ms", type=float, default=0.0, help="simulated model latency per request (excluded)")
    args = ap.parse_args(argv)

    cases = build_cases(args.cases, args.seed)
    print(f"cases: {args.cases} (seed {args.seed}): " + ", ".join(f"{k} {n}" for k, n in sorted(Counter(k for k, _ in cases).items())))
    results = {}
    for label, reuse in (("client per job", False), ("client reused", True)):
        # fresh routes per pass: a scripted route is one-shot only in the script list
        results[label] = run(build_cases(args.cases, args.seed), args.server_ms, reuse)

    res = results["client per job"]
    should_pass = [k for k in KINDS if KINDS[k][1] is None]
    total_pass = sum(n for (k, _), n in res["outcomes"].items() if k in should_pass)
    ok_pass = sum(n for (k, v), n in res["outcomes"].items() if k in should_pass and v == "right")
    total_fail = sum(n for (k, _), n in res["outcomes"].items() if k not in should_pass)
    ok_fail = sum(n for (k, v), n in res["outcomes"].items() if k not in should_pass and v == "right")
    print(f"valid problems from should-be-valid replies: {ok_pass}/{total_pass} = {ok_pass / max(total_pass, 1):.3f}")
    print(f"failed with the right reason code:          {ok_fail}/{total_fail} = {ok_fail / max(total_fail, 1):.3f}")
    wrong = {f"{k}->{v}": n for (k, v), n in res["outcomes"].items() if v != "right"}
    print(f"misclassified: {wrong or 'none'}")
    for label, r in results.items():
        o = sorted(r["overhead_ms"])
        print(
            f"overhead per chat call, {label}: median {statistics.median(o):.2f} ms, "
            f"p90 {o[int(0.9 * (len(o) - 1))]:.2f} ms ({r['calls']} calls; server time excluded)"
        )
    print(f"  of which our own code (prompt, parse, validate): {own_code_ms(args.seed):.3f} ms per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
