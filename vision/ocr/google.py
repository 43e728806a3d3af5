"""Google Cloud Vision ``document_text_detection`` through the official client library.

Credentials come from the worker's environment: a service-account JSON file
(``GOOGLE_APPLICATION_CREDENTIALS``), or Application Default Credentials.
``endpoint`` overrides the API host (``client_options.api_endpoint``) and
switches the client to its REST transport; with an endpoint and no
credentials file the client sends anonymous requests, which is how the tests
point the real client at a local server speaking the Vision REST wire format
(``POST /v1/images:annotate``).

Errors, mapped once here:

==============================================  ===========================  =========
what happened                                   reason_code                  retryable
==============================================  ===========================  =========
429, ``RESOURCE_EXHAUSTED``                     ``google_rate_limited``      yes
500, 502, 503, 504, ``UNAVAILABLE``, ...         ``google_unavailable``       yes
timeout, connection refused/reset               ``google_timeout`` /         yes
                                                ``google_unreachable``
400, ``INVALID_ARGUMENT``                       ``google_bad_request``       no
401, 403 (bad key, API off, no billing)         ``google_auth_failed``       no
``responses[].error`` (any other code)          ``google_image_error``       no
a body that is not the Vision JSON              ``google_bad_response``      no
no credentials anywhere                         ``google_not_configured``    no
==============================================  ===========================  =========

Retryable errors are retried here (``attempts``, exponential backoff) before
they reach the caller as :class:`~vision.errors.EngineUnavailableError`.

Examples:
    >>> GoogleConfig(endpoint="http://127.0.0.1:9").anonymous
    True
    >>> GoogleConfig().configured, GoogleConfig(credentials_path="/k.json").configured
    (False, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.errors import EngineError, EngineUnavailableError, VisionError
from vision.ocr.tesseract import make_line
from vision.ocr.types import BoxXYWH, OCRLine, OCRPage, OCRWord

__all__ = ["GoogleConfig", "classify_http_error", "make_client", "page_from_annotation", "read_page_google"]

#: Vision accepts images up to 20 MB per request; past this a page goes as JPEG.
MAX_PNG_BYTES = 8 * 1024 * 1024
#: JPEG quality for pages too large as PNG (text stays sharp at 90).
JPEG_QUALITY = 90
#: gRPC status codes (google.rpc.Code) that ``responses[].error`` may carry.
_RETRYABLE_RPC = {4: "google_timeout", 8: "google_rate_limited", 13: "google_unavailable", 14: "google_unavailable"}
_AUTH_RPC = {7, 16}  # PERMISSION_DENIED, UNAUTHENTICATED
#: Google's detected breaks that end a line.
_LINE_BREAKS = {"EOL_SURE_SPACE", "LINE_BREAK"}
_SPACE_BREAKS = {"SPACE", "SURE_SPACE", "EOL_SURE_SPACE"}


@dataclass(frozen=True)
class GoogleConfig:
    """How to reach Google Vision.

    Args:
        credentials_path: service-account JSON file; ``None`` uses the
            environment's default credentials (or anonymous with ``endpoint``).
        endpoint: API endpoint override, e.g. ``http://127.0.0.1:8080`` (REST).
        timeout_s: per request.
        attempts: tries for a retryable failure before giving up.
        backoff_s: first wait between tries (doubles each time).
        language_hints: BCP-47 hints sent with the request.
    """

    credentials_path: str | None = None
    endpoint: str | None = None
    timeout_s: float = 30.0
    attempts: int = 3
    backoff_s: float = 0.5
    language_hints: tuple[str, ...] = ("ko", "en")

    @property
    def configured(self) -> bool:
        """Whether this worker is set up for Google (credentials, or an endpoint override)."""
        return bool(self.credentials_path or self.endpoint)

    @property
    def anonymous(self) -> bool:
        """Send unauthenticated requests (an endpoint override without a key file)."""
        return bool(self.endpoint) and not self.credentials_path


def make_client(config: GoogleConfig) -> Any:
    """An ``ImageAnnotatorClient`` for ``config`` (REST + anonymous with an endpoint override)."""
    from google.api_core.client_options import ClientOptions
    from google.auth import exceptions as auth_exceptions
    from google.cloud import vision

    kwargs: dict[str, Any] = {}
    if config.endpoint:
        kwargs["client_options"] = ClientOptions(api_endpoint=config.endpoint)
        kwargs["transport"] = "rest"
    try:
        if config.credentials_path:
            from google.oauth2 import service_account

            kwargs["credentials"] = service_account.Credentials.from_service_account_file(
                config.credentials_path, scopes=["https://www.googleapis.com/auth/cloud-platform"]
            )
        elif config.anonymous:
            from google.auth.credentials import AnonymousCredentials

            kwargs["credentials"] = AnonymousCredentials()
        return vision.ImageAnnotatorClient(**kwargs)
    except (OSError, ValueError, KeyError) as exc:
        raise EngineError(
            "google_credentials_invalid", f"cannot read Google credentials ({type(exc).__name__}: {exc})"
        ) from None
    except auth_exceptions.DefaultCredentialsError:
        raise EngineError(
            "google_not_configured", "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS or use engine tesseract"
        ) from None


def classify_http_error(exc: BaseException) -> VisionError:
    """Map an exception from the client library to our error with its reason code.

    Examples:
        >>> from google.api_core import exceptions as gexc
        >>> e = classify_http_error(gexc.TooManyRequests("quota"))
        >>> e.reason_code, e.retryable
        ('google_rate_limited', True)
        >>> classify_http_error(gexc.Forbidden("billing")).reason_code
        'google_auth_failed'
    """
    import requests
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exceptions
    from google.protobuf import json_format

    if isinstance(exc, gexc.TooManyRequests | gexc.ResourceExhausted):
        return EngineUnavailableError("google_rate_limited", f"Google Vision rate limit: {_short(exc)}")
    if isinstance(exc, gexc.DeadlineExceeded | requests.Timeout):
        return EngineUnavailableError("google_timeout", f"Google Vision timed out: {_short(exc)}")
    if isinstance(exc, gexc.ServerError | gexc.ServiceUnavailable):
        return EngineUnavailableError("google_unavailable", f"Google Vision unavailable: {_short(exc)}")
    if isinstance(exc, requests.ConnectionError):
        return EngineUnavailableError("google_unreachable", f"cannot reach Google Vision: {_short(exc)}")
    if isinstance(exc, gexc.Unauthorized | gexc.Forbidden | gexc.PermissionDenied | gexc.Unauthenticated
                  | auth_exceptions.GoogleAuthError):  # a 401 makes the session refresh the token, which fails
        return EngineError("google_auth_failed", f"Google Vision refused the credentials: {_short(exc)}")
    if isinstance(exc, gexc.BadRequest | gexc.InvalidArgument):
        return EngineError("google_bad_request", f"Google Vision refused the image: {_short(exc)}")
    if isinstance(exc, json_format.ParseError | ValueError | TypeError | KeyError):
        return EngineError("google_bad_response", f"Google Vision sent a malformed answer: {_short(exc)}")
    if isinstance(exc, gexc.GoogleAPICallError):
        return EngineError("google_error", f"Google Vision error: {_short(exc)}")
    return EngineError("google_error", f"Google Vision call failed: {type(exc).__name__}: {_short(exc)}")


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."


def _encode(image: npt.NDArray[np.uint8]) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", image)
    if ok and buf.size <= MAX_PNG_BYTES:
        return bytes(buf)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return bytes(buf)


def read_page_google(
    image: npt.NDArray[np.uint8],
    config: GoogleConfig,
    *,
    client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> OCRPage:
    """OCR one page (``(H, W)`` or ``(H, W, 3)`` uint8) with ``document_text_detection``.

    Args:
        image: the page, in page pixels (boxes come back in them).
        config: endpoint, credentials, timeout and retries.
        client: an ``ImageAnnotatorClient`` to reuse (one is made otherwise).
        sleep: how to wait between tries (tests pass a no-op).

    Raises:
        EngineUnavailableError: retryable failure after ``config.attempts`` tries.
        EngineError: permanent failure (see the module table).
    """
    from google.cloud import vision

    if not config.configured:
        raise EngineError("google_not_configured", "Google Vision is not configured (no credentials, no endpoint)")
    client = client or make_client(config)
    content = _encode(image)
    request_image = vision.Image(content=content)
    context = vision.ImageContext(language_hints=list(config.language_hints))
    last: VisionError | None = None
    for attempt in range(max(1, config.attempts)):
        if attempt:
            sleep(config.backoff_s * 2 ** (attempt - 1))
        try:
            response = client.document_text_detection(
                image=request_image, image_context=context, retry=None, timeout=config.timeout_s
            )
        except Exception as exc:  # the client raises many families; each is classified
            last = classify_http_error(exc)
            if not last.retryable:
                raise last from None
            continue
        error = _response_error(response)
        if error is not None:
            if not error.retryable:
                raise error
            last = error
            continue
        return page_from_annotation(
            vision.AnnotateImageResponse.to_dict(response).get("full_text_annotation") or {},
            size_wh=(int(image.shape[1]), int(image.shape[0])),
        )
    assert last is not None
    raise EngineUnavailableError(last.reason_code, f"{last.message} (after {config.attempts} tries)")


def _response_error(response: Any) -> VisionError | None:
    err = getattr(response, "error", None)
    code = int(getattr(err, "code", 0) or 0)
    message = str(getattr(err, "message", "") or "")
    if not code and not message:
        return None
    text = f"Google Vision answered error {code}: {message[:300]}"
    if code in _RETRYABLE_RPC:
        return EngineUnavailableError(_RETRYABLE_RPC[code], text)
    if code in _AUTH_RPC:
        return EngineError("google_auth_failed", text)
    if code == 3:  # INVALID_ARGUMENT
        return EngineError("google_bad_request", text)
    return EngineError("google_image_error", text)


def _box(vertices: Sequence[Mapping[str, Any]], size_wh: tuple[int, int]) -> BoxXYWH:
    xs = [int(v.get("x", 0) or 0) for v in vertices] or [0]
    ys = [int(v.get("y", 0) or 0) for v in vertices] or [0]
    w, h = size_wh
    x0, y0 = max(0, min(xs)), max(0, min(ys))
    x1, y1 = min(w, max(xs)), min(h, max(ys))
    return (x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def page_from_annotation(annotation: Mapping[str, Any], *, size_wh: tuple[int, int]) -> OCRPage:
    """Lines and words of one page from a ``full_text_annotation`` dict (REST/JSON field names).

    Words are joined with a space only where Google detected one (Korean
    spacing kept); a line ends at Google's line breaks.

    Examples:
        >>> sym = lambda t, brk=None: {"text": t, **({"property": {"detected_break": {"type_": brk}}} if brk else {})}
        >>> word = lambda syms, x: {"symbols": syms, "confidence": 0.9,
        ...     "bounding_box": {"vertices": [{"x": x, "y": 5}, {"x": x + 20, "y": 5}, {"x": x + 20, "y": 25}, {"x": x, "y": 25}]}}
        >>> ann = {"pages": [{"blocks": [{"paragraphs": [{"words": [
        ...     word([sym("사"), sym("과", "SPACE")], 0), word([sym("①", "LINE_BREAK")], 30)]}]}]}]}
        >>> [(l.text, l.box) for l in page_from_annotation(ann, size_wh=(100, 50)).lines]
        [('사과 ①', (0, 5, 50, 20))]
    """
    width, height = size_wh
    lines: list[OCRLine] = []
    current: list[OCRWord] = []
    spaced: list[bool] = []

    def flush() -> None:
        if current:
            line = make_line(current)
            text = "".join(w.text + (" " if s else "") for w, s in zip(current, spaced, strict=True)).strip()
            lines.append(OCRLine(text=text, confidence=line.confidence, box=line.box, words=tuple(current)))
            current.clear()
            spaced.clear()

    for page in annotation.get("pages") or ():
        for block in page.get("blocks") or ():
            for paragraph in block.get("paragraphs") or ():
                for word in paragraph.get("words") or ():
                    symbols = word.get("symbols") or ()
                    text = "".join(str(s.get("text", "")) for s in symbols)
                    if not text:
                        continue
                    brk = _break(symbols[-1]) if symbols else ""
                    box = _box((word.get("bounding_box") or {}).get("vertices") or (), (width, height))
                    current.append(OCRWord(text=text, confidence=float(word.get("confidence", 0.0) or 0.0), box=box))
                    spaced.append(brk in _SPACE_BREAKS)
                    if brk in _LINE_BREAKS:
                        flush()
                flush()
    return OCRPage(width=width, height=height, lines=tuple(lines))


def _break(symbol: Mapping[str, Any]) -> str:
    detected = (symbol.get("property") or {}).get("detected_break") or {}
    value = detected.get("type_", detected.get("type", ""))
    names = {0: "UNKNOWN", 1: "SPACE", 2: "SURE_SPACE", 3: "EOL_SURE_SPACE", 4: "HYPHEN", 5: "LINE_BREAK"}
    return names.get(value, str(value)) if isinstance(value, int) else str(value)
