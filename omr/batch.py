"""Grade a stack of sheets to CSV: a folder, a PDF, a multi-page TIFF or a zip.

Teachers scan a class set into one multi-page PDF, a folder of TIFFs or a
zip. :func:`list_sheets` turns any of them into :class:`SheetRef` (one per
page, in document order), each of which reads its own bytes when asked; a
page that cannot be read becomes one error row, never a failed batch.
:func:`grade_sheets` grades them (optionally in a process pool),
:func:`row_from_result` turns one OMR result into one CSV row and
:func:`summarize` computes the per-question statistics. The distributed
path (``ai-worker omr grade-batch --broker``) grades the same bytes on the
Celery cluster and feeds its results through the same :func:`row_from_result`,
so both paths write the same CSV.

Every page travels as *encoded bytes*: an image file's own bytes, or a PNG
of a PDF page (rendered gray at ``pdf_dpi``) or of a TIFF frame. Both paths
decode those bytes with :func:`omr.image.decode_image`, so they cannot drift.

CSV columns: ``file, page, status, reason_code, message, identifier,
id_status, review_needed, review_reasons, alignment_method, fit_error_mm,
total, max, q1..qN``. ``page`` is the 1-based page inside a PDF or TIFF
(empty for a single image); ``qN`` holds the detected labels joined by
``|``, suffixed ``?`` when the question is flagged. ``status`` is ``ok`` or
``error`` (then ``reason_code`` says why, e.g. ``image_truncated``,
``alignment_failed``, ``pdf_page_unreadable``, ``zip_member_unsafe``).

Zips are read in memory, never extracted: members with absolute paths or
``..`` are refused (``zip_member_unsafe``), and member count, member size,
total size and compression ratio are capped (a zip bomb fails its members,
not the process).

Examples:
    >>> import tempfile, pathlib
    >>> from omr.template import build_template
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (pathlib.Path(d) / "bad.jpg").write_bytes(b"not an image")
    ...     rows = grade_folder(d, build_template(10), pathlib.Path(d) / "out.csv")
    ...     rows[0]["status"], rows[0]["reason_code"]
    ('error', 'image_invalid')
"""

from __future__ import annotations

import csv
import functools
import io
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from aicore.page.errors import PageLayerError
from aicore.page.pdf import PDF_POINTS_PER_INCH, open_pdf, render_page
from omr.errors import ImageError, OMRError
from omr.meta import as_sheet_meta
from omr.types import SheetMeta

__all__ = [
    "FLAGGED_STATUSES",
    "IMAGE_SUFFIXES",
    "PDF_DPI",
    "PDF_DPI_RANGE",
    "BatchInputError",
    "SheetRef",
    "csv_fields",
    "error_row",
    "grade_folder",
    "grade_sheets",
    "list_images",
    "list_sheets",
    "pdf_page_count",
    "render_pdf_page",
    "row_from_result",
    "summarize",
    "write_csv",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
DOCUMENT_SUFFIXES = (".pdf",)
ZIP_SUFFIXES = (".zip",)
#: 200 dpi is what scanners default to for documents and gives ~7.9 px/mm,
#: twice what the grader needs (``omr.image.MIN_PAGE_PX_PER_MM``).
PDF_DPI = 200
#: ``pdf_dpi`` choices: 100 dpi (3.9 px/mm) is about the grader's floor; past 600 a page is ~35 MP for nothing.
PDF_DPI_RANGE = (100, 600)
#: A class set is tens of sheets; a whole school's is a few thousand.
MAX_PAGES = 5000
#: A rendered page past this many pixels is a poster, not an answer sheet (A3 at 300 dpi is 17 MP).
MAX_PAGE_PIXELS = 60_000_000
#: Zip caps: member count, one member's size, all members together.
ZIP_MAX_MEMBERS = 5000
ZIP_MAX_MEMBER_BYTES = 64 * 1024 * 1024
ZIP_MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
#: Images are already compressed (JPEG/PNG deflate to ~1:1); 100:1 only comes from a bomb.
ZIP_MAX_RATIO = 100.0
#: Answer statuses that send the question to review.
FLAGGED_STATUSES = frozenset({"ambiguous", "low_confidence", "error", "multi"})
_BASE_FIELDS = ("file", "page", "status", "reason_code", "message", "identifier", "id_status", "review_needed",
                "review_reasons", "alignment_method", "fit_error_mm", "total", "max")


class BatchInputError(OMRError):
    """A batch input (or one of its pages) cannot be read (``batch_*``, ``pdf_*``, ``zip_*``)."""


@dataclass(frozen=True)
class SheetRef:
    """One sheet of a batch: where it is, and how to read its encoded bytes.

    Args:
        file: the file name as the user knows it (a zip member's path inside the zip).
        page: 1-based page of a PDF or multi-page TIFF; ``None`` for a single image.
        reader: returns the sheet's encoded image bytes (JPEG, PNG, ...);
            raises :class:`~omr.errors.OMRError` when the page cannot be read.
    """

    file: str
    page: int | None
    reader: Callable[[], bytes]

    @property
    def name(self) -> str:
        """``file`` or ``file#page``: unique within a batch."""
        return self.file if self.page is None else f"{self.file}#{self.page}"

    def read(self) -> bytes:
        return self.reader()


def _failing(exc: OMRError) -> Callable[[], bytes]:
    def read() -> bytes:
        raise exc

    return read


def _const(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _png(gray: Any) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", gray)
    if not ok:  # pragma: no cover - a uint8 array always encodes
        raise ImageError("image_invalid", "page cannot be encoded as PNG")
    return bytes(buf.tobytes())


# --- PDF ------------------------------------------------------------------------------


def pdf_page_count(data: bytes) -> int:
    """The number of pages of a PDF (``pdf_unreadable``, or ``pdf_empty`` for a page tree of none)."""
    pdf = _open(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


def render_pdf_page(data: bytes, index: int, dpi: int = PDF_DPI) -> bytes:
    """Render page ``index`` (0-based) of a PDF gray at ``dpi``; returns PNG bytes.

    Raises:
        BatchInputError: ``pdf_unreadable`` / ``pdf_page_unreadable`` / ``page_too_large``.

    Examples:
        >>> import pypdfium2 as pdfium
        >>> pdf = pdfium.PdfDocument.new(); _ = pdf.new_page(72 * 8.27, 72 * 11.69)
        >>> buf = io.BytesIO(); _ = pdf.save(buf); _ = pdf.close()
        >>> from omr.image import decode_image
        >>> decode_image(render_pdf_page(buf.getvalue(), 0, dpi=100)).shape
        (1169, 828)
    """
    pdf = _open(data)
    try:
        arr, _dpi = render_page(pdf, index, dpi_for=functools.partial(_fit_dpi, index, dpi), gray=True)
    except PageLayerError as exc:
        raise BatchInputError(exc.reason_code, exc.message) from None
    finally:
        pdf.close()
    return _png(arr)


def _open(data: bytes) -> Any:
    try:
        return open_pdf(data)
    except PageLayerError as exc:
        raise BatchInputError(exc.reason_code, exc.message) from None


def _fit_dpi(index: int, dpi: int, w_pt: float, h_pt: float) -> float:
    """``dpi``, unless page ``index`` of ``w_pt`` x ``h_pt`` points would pass :data:`MAX_PAGE_PIXELS` at it."""
    scale = dpi / PDF_POINTS_PER_INCH
    if w_pt * scale * h_pt * scale > MAX_PAGE_PIXELS:
        raise BatchInputError(
            "page_too_large", f"PDF page {index + 1} is {w_pt:.0f}x{h_pt:.0f} pt: too large at {dpi} dpi"
        )
    return float(dpi)


def _pdf_sheets(file: str, data: bytes, dpi: int) -> list[SheetRef]:
    try:
        count = pdf_page_count(data)
    except BatchInputError as exc:
        return [SheetRef(file, None, _failing(exc))]
    if count == 0:
        return [SheetRef(file, None, _failing(BatchInputError("pdf_empty", "the PDF has no pages")))]
    if count > MAX_PAGES:
        err = BatchInputError("too_many_pages", f"the PDF has {count:,} pages, limit {MAX_PAGES:,}")
        return [SheetRef(file, None, _failing(err))]
    return [SheetRef(file, i + 1, functools.partial(render_pdf_page, data, i, dpi)) for i in range(count)]


# --- TIFF -----------------------------------------------------------------------------


def _tiff_frame(data: bytes, index: int) -> bytes:
    import numpy as np
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.seek(index)
            if img.width * img.height > MAX_PAGE_PIXELS:
                raise ImageError("image_too_large", f"TIFF page {index + 1} is {img.width}x{img.height} px")
            gray = np.array(img.convert("L"), dtype=np.uint8)
    except (OSError, ValueError, EOFError, SyntaxError) as exc:
        raise ImageError("image_invalid", f"TIFF page {index + 1} cannot be decoded ({exc})") from None
    return _png(gray)


def _tiff_sheets(file: str, data: bytes) -> list[SheetRef]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            frames = int(getattr(img, "n_frames", 1) or 1)
    except (OSError, ValueError, SyntaxError) as exc:
        return [SheetRef(file, None, _failing(ImageError("image_invalid", f"not a readable TIFF ({exc})")))]
    if frames <= 1:
        return [SheetRef(file, None, _const(data))]
    if frames > MAX_PAGES:
        err = BatchInputError("too_many_pages", f"the TIFF has {frames:,} pages, limit {MAX_PAGES:,}")
        return [SheetRef(file, None, _failing(err))]
    return [SheetRef(file, i + 1, functools.partial(_tiff_frame, data, i)) for i in range(frames)]


# --- one file, a zip, a folder -------------------------------------------------------------


def _sheets_of(file: str, data: bytes, dpi: int) -> list[SheetRef]:
    """The sheets in one file's bytes (a PDF or TIFF may hold several)."""
    if b"%PDF-" in data[:1024]:
        return _pdf_sheets(file, data, dpi)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_sheets(file, data)
    return [SheetRef(file, None, _const(data))]


def _file_sheets(path: Path, file: str, dpi: int) -> list[SheetRef]:
    if path.suffix.lower() in IMAGE_SUFFIXES and path.suffix.lower() not in (".tif", ".tiff"):
        return [SheetRef(file, None, path.read_bytes)]  # read lazily: a folder of photos stays on disk
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [SheetRef(file, None, _failing(BatchInputError("input_unreadable", f"cannot read {file}: {exc}")))]
    return _sheets_of(file, data, dpi)


def _unsafe_member(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or (len(name) > 1 and name[1] == ":")


def _wanted(name: str) -> bool:
    base = PurePosixPath(name).name
    return (not base.startswith(".") and not name.startswith("__MACOSX/")
            and PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES + DOCUMENT_SUFFIXES)


def _zip_sheets(path: Path, dpi: int) -> list[SheetRef]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [SheetRef(path.name, None, _failing(BatchInputError("zip_unreadable", f"not a readable zip ({exc})")))]
    out: list[SheetRef] = []
    total = 0
    err: OMRError | None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and _wanted(i.filename)]
        if len(infos) > ZIP_MAX_MEMBERS:
            many = BatchInputError("zip_too_many_members", f"the zip has {len(infos):,} sheets, limit {ZIP_MAX_MEMBERS:,}")
            return [SheetRef(path.name, None, _failing(many))]
        for info in sorted(infos, key=lambda i: i.filename):
            name = info.filename
            err = None
            if _unsafe_member(name):
                err = BatchInputError("zip_member_unsafe", f"zip member {name!r} has an absolute or '..' path")
            elif info.file_size > ZIP_MAX_MEMBER_BYTES:
                err = BatchInputError("zip_member_too_large", f"{name} is {info.file_size:,} bytes uncompressed")
            elif info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
                err = BatchInputError("zip_bomb", f"{name} expands {info.file_size / max(info.compress_size, 1):.0f}:1")
            elif total + info.file_size > ZIP_MAX_TOTAL_BYTES:
                err = BatchInputError("zip_too_large", f"the zip holds more than {ZIP_MAX_TOTAL_BYTES:,} bytes")
            if err is not None:
                out.append(SheetRef(name, None, _failing(err)))
                continue
            try:
                with zf.open(info) as fh:  # the header may lie: never read past the cap
                    data = fh.read(ZIP_MAX_MEMBER_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
                out.append(SheetRef(name, None, _failing(BatchInputError("zip_member_unreadable", f"{name}: {exc}"))))
                continue
            if len(data) > ZIP_MAX_MEMBER_BYTES:
                out.append(SheetRef(name, None, _failing(BatchInputError("zip_member_too_large", f"{name} is too large"))))
                continue
            total += len(data)
            out.extend(_sheets_of(name, data, dpi))
    return out


def list_sheets(source: str | Path, *, pdf_dpi: int = PDF_DPI) -> list[SheetRef]:
    """Every sheet in ``source``: a folder, a PDF, a (multi-page) TIFF, a zip or one image.

    A folder is read flat (not recursively): its images, PDFs and TIFFs,
    sorted by name, each PDF/TIFF expanded into its pages. Nothing is decoded
    here, except a PDF's page count and a TIFF's frame count.

    Raises:
        BatchInputError: ``input_not_found`` when ``source`` does not exist.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (Path(d) / "b.png").write_bytes(b"x"); _ = (Path(d) / "a.txt").write_bytes(b"x")
        ...     [s.name for s in list_sheets(d)]
        ['b.png']
    """
    path = Path(source)
    if path.is_dir():
        out: list[SheetRef] = []
        for p in sorted(path.iterdir()):
            if not p.is_file() or p.name.startswith("."):
                continue
            suffix = p.suffix.lower()
            if suffix in ZIP_SUFFIXES:
                out.extend(_zip_sheets(p, pdf_dpi))
            elif suffix in IMAGE_SUFFIXES + DOCUMENT_SUFFIXES:
                out.extend(_file_sheets(p, p.name, pdf_dpi))
        return out
    if not path.is_file():
        raise BatchInputError("input_not_found", f"{source} is neither a file nor a folder")
    if path.suffix.lower() in ZIP_SUFFIXES or (path.suffix.lower() not in IMAGE_SUFFIXES and zipfile.is_zipfile(path)):
        return _zip_sheets(path, pdf_dpi)
    return _file_sheets(path, path.name, pdf_dpi)


# --- rows ------------------------------------------------------------------------------


def csv_fields(sheet: SheetMeta) -> list[str]:
    """The CSV header for ``sheet``'s questions."""
    return [*_BASE_FIELDS, *(f"q{q.number}" for q in sheet.questions)]


def error_row(ref: SheetRef, reason_code: str, message: str) -> dict[str, Any]:
    """The row of a sheet that could not be graded."""
    return {"file": ref.file, "page": ref.page or "", "status": "error", "reason_code": reason_code,
            "message": message}


def row_from_result(ref: SheetRef, result: Mapping[str, Any]) -> dict[str, Any]:
    """One CSV row from one OMR result (the contract of :func:`omr.grade.grade_image`).

    The distributed path calls this too, on the result an ``ai.job`` returned.
    """
    row: dict[str, Any] = {"file": ref.file, "page": ref.page or "", "status": "ok", "reason_code": "",
                           "message": ""}
    ident = result.get("identifier") or {}
    alignment = result.get("alignment") or {}
    row.update(
        identifier=ident.get("identifier") or "", id_status=ident.get("status", "not_on_sheet"),
        review_needed=result["review"]["needed"], review_reasons=";".join(result["review"]["reasons"]),
        alignment_method=alignment.get("method", ""), fit_error_mm=alignment.get("fit_error_mm", ""),
    )
    if "score" in result:
        row.update(total=result["score"]["total"], max=result["score"]["max"])
    for a in result["answers"]:
        flag = "?" if a["status"] in FLAGGED_STATUSES else ""
        row[f"q{a['question_id']}"] = "|".join(a["detected"]) + flag
    return row


def write_csv(rows: Sequence[Mapping[str, Any]], sheet: SheetMeta, out_csv: str | Path) -> Path:
    """Write ``rows`` to ``out_csv`` (parents created); returns the path."""
    out = Path(out_csv)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=csv_fields(sheet), extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(row)
    return out


# --- grading --------------------------------------------------------------------------------


def _grade_bytes(args: tuple[bytes, Mapping[str, Any], str, Mapping[str, Any] | None]) -> dict[str, Any]:
    """Grade one sheet's bytes; an error becomes ``{"error": {reason_code, message}}``."""
    from omr.grade import grade_image

    data, meta_raw, mode, key = args
    try:
        return grade_image(data, meta_raw, mode=mode, key=key)
    except OMRError as exc:
        return {"error": exc.to_dict()}
    except Exception as exc:  # noqa: BLE001 - one crash is one error row, never a failed batch
        return {"error": {"reason_code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}}


def _read_all(refs: Iterable[SheetRef], meta_raw: Mapping[str, Any], mode: str,
              key: Mapping[str, Any] | None) -> Iterator[tuple[bytes, Mapping[str, Any], str, Mapping[str, Any] | None]
                                                        | dict[str, Any]]:
    for ref in refs:
        try:
            yield (ref.read(), meta_raw, mode, key)
        except OMRError as exc:
            yield {"error": exc.to_dict()}
        except OSError as exc:
            yield {"error": {"reason_code": "input_unreadable", "message": f"cannot read {ref.name}: {exc}"}}


def _grade_or_pass(item: Any) -> dict[str, Any]:
    return item if isinstance(item, dict) else _grade_bytes(item)


def grade_sheets(refs: Sequence[SheetRef], meta: SheetMeta | Mapping[str, Any], *, mode: str = "auto",
                 key: Mapping[str, Any] | None = None, processes: int = 1,
                 progress: Callable[[int, int, SheetRef], None] | None = None) -> list[dict[str, Any]]:
    """Grade every sheet; returns one CSV row per sheet, in order.

    Args:
        refs: the sheets (:func:`list_sheets`).
        meta: the sheet meta.
        mode: warp mode for every sheet.
        key: optional answer key (adds ``total``/``max``).
        processes: grade in this many processes (1: in this one).
        progress: called as ``progress(done, total, ref)`` after each sheet.
    """
    sheet = as_sheet_meta(meta)
    items = _read_all(refs, sheet.raw, mode, key)
    rows: list[dict[str, Any]] = []

    def collect(results: Iterable[dict[str, Any]]) -> None:
        for ref, result in zip(refs, results, strict=True):
            err = result.get("error")
            rows.append(error_row(ref, err["reason_code"], err["message"]) if err else row_from_result(ref, result))
            if progress is not None:
                progress(len(rows), len(refs), ref)

    if processes <= 1:
        collect(_grade_or_pass(item) for item in items)
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            collect(pool.imap(_grade_or_pass, items, chunksize=1))
    return rows


def grade_folder(folder: str | Path, meta: SheetMeta | Mapping[str, Any], out_csv: str | Path, *,
                 mode: str = "auto", key: Mapping[str, Any] | None = None,
                 progress: Callable[[int, int, Path], None] | None = None) -> list[dict[str, Any]]:
    """Grade every sheet of ``folder`` (or a PDF, TIFF or zip) and write the CSV.

    ``progress(done, total, path)`` gets the sheet's file as a path.
    """
    sheet = as_sheet_meta(meta)
    refs = list_sheets(folder)

    def _progress(done: int, total: int, ref: SheetRef) -> None:
        if progress is not None:
            progress(done, total, Path(ref.file))

    rows = grade_sheets(refs, sheet, mode=mode, key=key, progress=_progress)
    write_csv(rows, sheet, out_csv)
    return rows


# --- summary --------------------------------------------------------------------------------


def summarize(rows: Sequence[Mapping[str, Any]], meta: SheetMeta | Mapping[str, Any],
              key: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Per-question statistics and the sheets that need review.

    Returns ``{"sheets", "graded", "errors": {reason_code: n}, "review":
    [names], "questions": [{"question", "answered", "blank", "flagged",
    "choices": {label: n}, "correct_pct"}]}``; ``correct_pct`` (of graded
    sheets) only when ``key`` is given.

    Examples:
        >>> from omr.template import build_template
        >>> rows = [{"file": "a", "page": "", "status": "ok", "review_needed": False, "q1": "3", "q2": ""},
        ...         {"file": "b", "page": "", "status": "error", "reason_code": "image_invalid"}]
        >>> s = summarize(rows, build_template(2), {"1": "3", "2": "1"})
        >>> s["graded"], s["errors"], s["questions"][0]["choices"], s["questions"][0]["correct_pct"]
        (1, {'image_invalid': 1}, {'3': 1}, 100.0)
    """
    from omr.scoring import normalize_key

    sheet = as_sheet_meta(meta)
    graded = [r for r in rows if r.get("status") == "ok"]
    truth: dict[int, set[str]] = {}
    if key is not None:
        truth = normalize_key(key)[0]
    questions = []
    for q in sheet.questions:
        cells = [str(r.get(f"q{q.number}", "")) for r in graded]
        flagged = sum(c.endswith("?") for c in cells)
        labels = [c.rstrip("?") for c in cells]
        choices: Counter[str] = Counter(lab for lab in labels if lab)
        entry: dict[str, Any] = {"question": q.number, "answered": sum(bool(lab) for lab in labels),
                                 "blank": sum(not lab for lab in labels), "flagged": flagged,
                                 "choices": dict(sorted(choices.items()))}
        if q.number in truth and graded:
            right = sum(not c.endswith("?") and set(lab.split("|")) == truth[q.number]
                        for c, lab in zip(cells, labels, strict=True) if lab)
            entry["correct_pct"] = round(100.0 * right / len(graded), 1)
        questions.append(entry)
    return {
        "sheets": len(rows),
        "graded": len(graded),
        "errors": dict(Counter(str(r.get("reason_code")) for r in rows if r.get("status") != "ok")),
        "review": [_row_name(r) for r in rows if r.get("status") != "ok" or _truthy(r.get("review_needed"))],
        "questions": questions,
    }


def _row_name(row: Mapping[str, Any]) -> str:
    page = row.get("page")
    return f"{row.get('file')}#{page}" if page not in (None, "") else str(row.get("file"))


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
