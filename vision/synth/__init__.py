"""Seeded synthetic exam pages with exact truth, clean or as phone photos.

Pure numpy/Pillow/OpenCV, used by the vision benches and tests::

    from vision.synth.exam import render_exam_page
    from vision.synth.photo import to_photo, map_box
    page = render_exam_page(1, columns=2, lang="mixed")
    photo, H = to_photo(page.image, 1)
    boxes = [map_box(q.box_xywh, H) for q in page.questions]
"""

from vision.synth.exam import ExamPage, LineTruth, QuestionTruth, render_exam_page
from vision.synth.photo import map_box, map_points, to_photo

__all__ = ["ExamPage", "LineTruth", "QuestionTruth", "map_box", "map_points", "render_exam_page", "to_photo"]
