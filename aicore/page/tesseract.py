"""Tesseract, called the one way: an image in, ``image_to_data``'s columns out.

The engine call shared by ``vision.ocr`` (:mod:`vision.ocr.tesseract`, which
groups the words into lines) and ``vision.segment`` (the anchor strip of
:mod:`vision.segment.anchors`). Two ways to call the same engine with the same
traineddata (Debian's ``tesseract-ocr-kor``/``-eng``):

* :func:`inprocess_api` and :func:`inprocess_data`: ``tesserocr`` (the C++ API
  in this process; the models load once per process, ~35 % less CPU per page
  on the OCR bench) when it is installed and finds the language's data;
* :func:`image_to_data`: the ``tesseract`` command through ``pytesseract``
  (one process and one model load per call).

``OMP_THREAD_LIMIT=1`` (:func:`ensure_single_thread`): Debian's Tesseract is
built with OpenMP and, left alone, spins up to 8 threads that fight each other
on a busy worker (7-8x slower for the same text).

Errors are :class:`aicore.page.errors.PageLayerError` (none retryable: the
same image fails the same way again): ``tesseract_missing``,
``tesseract_language_missing`` (when asked to tell it apart),
``tesseract_failed``, and a timeout under the caller's code
(``ocr_timeout`` for OCR, ``tesseract_timeout`` for the anchors).

Examples:
    >>> sorted(_parse_tsv("5\\t1\\t1\\t1\\t1\\t1\\t10\\t5\\t40\\t20\\t96\\t사과")["text"])
    ['사과']
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from aicore.page.errors import PageLayerError

__all__ = [
    "MISSING_HINT",
    "ensure_single_thread",
    "image_to_data",
    "inprocess_api",
    "inprocess_data",
    "tesseract_version",
]

#: what the operator installs when the engine or its Korean data is missing.
MISSING_HINT = "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-kor)"
#: where Debian (and most distributions) keep the traineddata files.
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata")
#: the columns of Tesseract's TSV, as ``image_to_data`` names them.
TSV_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height",
               "conf", "text")
_API_LOCK = threading.Lock()
_APIS: dict[tuple[str, int], Any] = {}


def ensure_single_thread() -> None:
    """Make every Tesseract child process run one OpenMP thread (see module docstring).

    Tesseract reads ``OMP_THREAD_LIMIT`` from its environment, which it
    inherits from this process; an explicit value set by the operator wins.
    """
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def tesseract_version() -> str:
    """The installed Tesseract's version, or raise ``tesseract_missing``."""
    import pytesseract

    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError:
        raise PageLayerError("tesseract_missing", MISSING_HINT) from None


def image_to_data(
    image: npt.NDArray[np.uint8],
    *,
    lang: str,
    args: str,
    timeout_s: float,
    timeout_code: str = "ocr_timeout",
    tell_missing_language: bool = True,
) -> dict[str, list[Any]]:
    """``pytesseract.image_to_data`` of ``image`` (``(H, W)`` or ``(H, W, 3)`` uint8) as a dict of columns.

    Args:
        image: the pixels Tesseract reads; boxes come back in them.
        lang: traineddata names joined by ``+``.
        args: Tesseract's command-line options (``--psm 6 ...``).
        timeout_s: kill Tesseract after this long.
        timeout_code: the reason code of a timeout.
        tell_missing_language: answer ``tesseract_language_missing`` when
            Tesseract cannot load ``lang`` (otherwise ``tesseract_failed``).
    """
    import pytesseract

    try:
        data: dict[str, list[Any]] = pytesseract.image_to_data(
            image, lang=lang, config=args, output_type=pytesseract.Output.DICT, timeout=timeout_s
        )
    except pytesseract.TesseractNotFoundError:
        raise PageLayerError("tesseract_missing", MISSING_HINT) from None
    except pytesseract.TesseractError as exc:
        message = str(exc.message if hasattr(exc, "message") else exc)
        if tell_missing_language and ("Failed loading language" in message or "Error opening data file" in message):
            raise PageLayerError(
                "tesseract_language_missing", f"tesseract language data missing for {lang!r} (apt-get install tesseract-ocr-kor)"
            ) from None
        raise PageLayerError("tesseract_failed", f"tesseract failed: {message[:300]}") from None
    except RuntimeError as exc:  # pytesseract's timeout
        raise PageLayerError(timeout_code, f"tesseract took longer than {timeout_s:g} s on one image ({exc})") from None
    return data


def _tessdata_dir(lang: str) -> str | None:
    env = os.environ.get("TESSDATA_PREFIX")
    for folder in ((env,) if env else ()) + TESSDATA_DIRS:
        if all(os.path.exists(os.path.join(folder, f"{part}.traineddata")) for part in lang.split("+")):
            return folder
    return None


def inprocess_api(lang: str, psm: int) -> Any:
    """A loaded ``tesserocr.PyTessBaseAPI`` for ``lang``/``psm`` (kept for the process), or ``None``."""
    key = (lang, psm)
    with _API_LOCK:
        if key in _APIS:
            return _APIS[key]
        api = None
        try:
            import tesserocr

            folder = _tessdata_dir(lang)
            if folder is not None:
                api = tesserocr.PyTessBaseAPI(path=folder, lang=lang, psm=psm)
                api.SetVariable("preserve_interword_spaces", "1")
        except (ImportError, RuntimeError):
            api = None
        _APIS[key] = api
        return api


def inprocess_data(
    api: Any, image: npt.NDArray[np.uint8], *, dpi: int, timeout_s: float, timeout_code: str = "ocr_timeout"
) -> dict[str, list[Any]]:
    """What :func:`image_to_data` gives, read by an :func:`inprocess_api` (one caller at a time)."""
    from PIL import Image

    with _API_LOCK:  # one API object is not thread-safe
        api.SetImage(Image.fromarray(image))
        api.SetSourceResolution(int(dpi))
        if not api.Recognize(timeout=int(timeout_s * 1000)):
            api.Clear()
            raise PageLayerError(timeout_code, f"tesseract took longer than {timeout_s:g} s on one image")
        tsv = api.GetTSVText(0)
        api.Clear()
    return _parse_tsv(tsv)


def _parse_tsv(tsv: str) -> dict[str, list[Any]]:
    """Tesseract's TSV rows (no header) as ``image_to_data``'s dict of columns."""
    data: dict[str, list[Any]] = {name: [] for name in TSV_COLUMNS}
    for row in tsv.splitlines():
        cells = row.split("\t")
        if len(cells) < len(TSV_COLUMNS) - 1:
            continue
        cells += [""] * (len(TSV_COLUMNS) - len(cells))
        for name, cell in zip(TSV_COLUMNS, cells, strict=False):
            data[name].append(cell)
    return data
