"""Same pages, same reads? The OCR pipeline's full output per page, before and after a speed change.

``dump`` reads a fixed page list (:mod:`bench.ocr_sets`'s sets, clean and
photo, ``--pages`` each) and writes, per page, every line's text, confidence
and box, every word's, the status and reason, and the CPU seconds of
``read_page`` (``getrusage``, self and children: the CPU clock). ``compare``
says which pages differ (timings aside) and prints CPU s/page per set.
Run the "before" side from a ``git archive`` of the base commit, alternating
with "after" in the same minutes::

    git archive HEAD~2 | tar -x -C /tmp/base
    (cd /tmp/base && PYTHONPATH=$PWD nice .venv/bin/python $OLDPWD/bench/ocr_same.py dump /tmp/before1.json)
    PYTHONPATH=$PWD nice .venv/bin/python bench/ocr_same.py dump /tmp/after1.json
    .venv/bin/python bench/ocr_same.py compare /tmp/before1.json /tmp/after1.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or str(Path(__file__).resolve().parent.parent))

import ocr_sets  # noqa: E402


def dump(out: Path, sets: list[str], pages: int, seed: int) -> None:
    from vision.ocr.pipeline import read_page

    ocr_sets.warm_up()
    result: dict[str, dict[str, object]] = {}
    for name in sets:
        for kind in ("clean", "photo"):
            for k, (image, truth) in enumerate(ocr_sets.SETS[name](kind, pages, seed)):
                c0 = ocr_sets.cpu_s()
                page = read_page(image)
                cpu = ocr_sets.cpu_s() - c0
                key = f"{name}/{kind}/{k}"
                result[key] = {
                    "cpu_s": cpu, "status": page.status, "reason": page.reason, "cer": ocr_sets.page_cer(truth, page.text),
                    "lines": [[ln.text, ln.confidence, list(ln.box), [[w.text, w.confidence, list(w.box)] for w in ln.words]]
                              for ln in page.lines],
                }
                print(f"{key:26s} {cpu:5.2f} s cpu  {page.status}  CER {result[key]['cer']:.2%}", flush=True)
    out.write_text(json.dumps(result, ensure_ascii=False))


def compare(before: Path, after: Path) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    differ = 0
    for key in sorted(set(a) | set(b)):
        x, y = dict(a.get(key, {})), dict(b.get(key, {}))
        x.pop("cpu_s", None)
        y.pop("cpu_s", None)
        if x != y:
            differ += 1
            print(f"differs: {key} CER {x.get('cer')} -> {y.get('cer')}, status {x.get('status')} -> {y.get('status')}")
    for name in sorted({k.split("/")[0] for k in a}):
        cpu = [sum(d[k]["cpu_s"] for k in d if k.startswith(name + "/")) / sum(1 for k in d if k.startswith(name + "/"))
               for d in (a, b)]
        print(f"{name:16s} CPU s/page {cpu[0]:.2f} -> {cpu[1]:.2f}")
    print(f"pages {len(set(a) | set(b))}, differ {differ}")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--sets", nargs="+", choices=tuple(ocr_sets.SETS), default=["a_synth", "b_independent", "c_real"])
    d.add_argument("--pages", type=int, default=2, help="pages per set and condition")
    d.add_argument("--seed", type=int, default=7100)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "dump":
        dump(args.out, args.sets, args.pages, args.seed)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
