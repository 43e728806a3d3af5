from omr.review import review

AL = {"method": "fiducials", "fit_error_mm": 0.1, "markers_found": 6}


def test_nothing_to_review() -> None:
    assert review(AL, {"status": "ok"}, []) == {"needed": False, "reasons": []}


def test_reasons() -> None:
    r = review({"method": "outline", "fit_error_mm": 1.2, "markers_found": 2}, {"status": "blank"},
               [{"question_id": 3, "status": "ambiguous"}, {"question_id": 4, "status": "blank"}])
    assert r["needed"]
    assert r["reasons"] == ["alignment_fit_error", "alignment_unrefined", "identifier_blank", "question_3_ambiguous"]
