import csv

import cv2

from omr.batch import grade_folder
from omr.template import render_sheet


def test_batch_one_bad_image(tmp_path, meta10, sheet_factory) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), sheet_factory(meta10, {1: ["5"]}, "11112222"))
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    cv2.imwrite(str(tmp_path / "c.png"), render_sheet(meta10, dpi=120))
    seen = []
    rows = grade_folder(tmp_path, meta10, tmp_path / "out" / "r.csv", mode="scan",
                        progress=lambda d, t, p: seen.append((d, t)))
    assert seen[-1] == (3, 3)
    by = {r["file"]: r for r in rows}
    assert by["a.png"]["status"] == "ok" and by["a.png"]["q1"] == "5" and by["a.png"]["identifier"] == "11112222"
    assert by["b.jpg"]["status"] == "error" and by["b.jpg"]["reason_code"].startswith("image_")
    with (tmp_path / "out" / "r.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 3
