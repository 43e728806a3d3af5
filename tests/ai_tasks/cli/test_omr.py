import argparse
import json
from pathlib import Path

import cv2

from ai_tasks.cli.omr import main, register
from omr.template import build_template, render_sheet

SAMPLES = Path(__file__).resolve().parents[3] / "omr" / "samples"


def test_register_adds_omr() -> None:
    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="command"))
    args = p.parse_args(["omr", "grade", "x.jpg", "--meta", "m.json"])
    assert args.mode == "auto" and callable(args.func)


def test_template_and_grade(tmp_path, capsys) -> None:
    assert main(["omr", "template", "--questions", "10", "--choices", "4", "--out", str(tmp_path), "--dpi", "100"]) == 0
    assert (tmp_path / "sheet.pdf").exists()
    capsys.readouterr()
    rc = main(["omr", "grade", str(SAMPLES / "photo_20q.jpg"), "--meta", str(SAMPLES / "meta_20q.json"),
               "--key", str(SAMPLES / "key_20q.json"), "--overlay", str(tmp_path / "ov.png")])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score"]["total"] == 19.0 and (tmp_path / "ov.png").exists()


def test_grade_errors_exit_2(tmp_path, capsys) -> None:
    meta = tmp_path / "m.json"
    meta.write_text(json.dumps(build_template(10)))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    assert main(["omr", "grade", str(bad), "--meta", str(meta)]) == 2
    err = json.loads(capsys.readouterr().err)
    assert err["reason_code"] == "image_invalid" and err["message"]
    meta.write_text("{")
    assert main(["omr", "grade", str(bad), "--meta", str(meta)]) == 2
    assert json.loads(capsys.readouterr().err)["reason_code"] == "meta_invalid"


def test_grade_batch(tmp_path, capsys) -> None:
    m = build_template(10)
    (tmp_path / "meta.json").write_text(json.dumps(m))
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    cv2.imwrite(str(imgs / "a.png"), render_sheet(m, dpi=120))
    (imgs / "z.jpg").write_bytes(b"junk junk junk junk")
    rc = main(["omr", "grade-batch", str(imgs), "--meta", str(tmp_path / "meta.json"), "--out", str(tmp_path / "r.csv")])
    assert rc == 0
    assert json.loads(capsys.readouterr().out) == {"csv": str(tmp_path / "r.csv"), "images": 2, "errors": 1}
