"""``python -m omr.synth OUT_DIR --kind photo --count 20``: write a synthetic dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from omr.synth.dataset import KINDS, generate_dataset


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m omr.synth", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--kind", choices=KINDS, default="photo")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    from omr.template import build_template

    meta = build_template(args.questions)
    paths = generate_dataset(
        args.out_dir, args.kind, args.count, meta, seed=args.seed, workers=args.workers
    )
    print(f"wrote {len(paths)} {args.kind} sheets to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
