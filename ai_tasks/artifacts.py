"""Pass large intermediate data between chain steps by key, not by value.

Only ids, keys and URLs cross the broker; the bytes themselves (a decoded
page, an embedding matrix) go to an :class:`ArtifactStore` and the next step
gets the key back. Two stores:

* :class:`LocalArtifactStore` - files under one folder, for a single machine
  (all chain steps run where the folder is).
* :class:`RedisArtifactStore` - keys with a TTL (``SET ... EX``), for several machines.

Artifacts live ``ttl_s`` seconds, long enough for a chain to finish; they
are scratch data, never a result of record. Keys are opaque strings made
here (``<uuid4 hex>.<kind>``) and checked before every use, so a key from a
message can never name a file outside the store.

Arrays go through :func:`pack_array` / :func:`unpack_array`: a small JSON
header and the raw buffer, no image codec (a 2 MB ``uint8`` page costs one
memcpy each way).

Examples:
    >>> import tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     store = open_artifact_store(tmp, ttl_s=600)
    ...     key = store.put_array(np.zeros((2, 3), np.uint8), {"page": 1})
    ...     arr, meta = store.get_array(key)
    >>> arr.shape, arr.dtype.name, meta
    ((2, 3), 'uint8', {'page': 1})
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import struct
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

import numpy as np
import numpy.typing as npt

from ai_tasks.errors import ArtifactMissingError, PermanentError, TransientError
from ai_tasks.redact import redact_url

__all__ = [
    "ArtifactStore",
    "LocalArtifactStore",
    "RedisArtifactStore",
    "new_key",
    "open_artifact_store",
    "pack_array",
    "unpack_array",
    "validate_key",
]

_KIND = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_KEY = re.compile(r"^[0-9a-f]{32}\.[a-z0-9][a-z0-9_-]{0,31}$")
_ARRAY_MAGIC = b"AIA1"
_HEADER_LEN = struct.Struct("<I")
_ARRAY_KIND = "array"
_TMP_PREFIX = ".tmp-"


@runtime_checkable
class ArtifactStore(Protocol):
    """Where chain steps leave data for each other, addressed by opaque keys."""

    def put(self, data: bytes, *, kind: str) -> str:
        """Store ``data`` for ``ttl_s`` seconds and return its new key."""
        ...

    def get(self, key: str) -> bytes:
        """Return the bytes under ``key``; :class:`ArtifactMissingError` if none."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` if present (no error when already gone)."""
        ...

    def put_array(self, arr: npt.NDArray[Any], meta: dict[str, Any]) -> str:
        """Store an array and a small JSON-able ``meta`` dict; return the key."""
        ...

    def get_array(self, key: str) -> tuple[npt.NDArray[Any], dict[str, Any]]:
        """Return the array and meta stored by :meth:`put_array`."""
        ...


def new_key(kind: str) -> str:
    """Return a fresh key ``<uuid4 hex>.<kind>``.

    Args:
        kind: short label, ``[a-z0-9][a-z0-9_-]{0,31}`` (``"page"``, ``"array"``).

    Raises:
        ValueError: ``kind`` does not match the pattern.

    Examples:
        >>> key = new_key("page")
        >>> len(key), key.endswith(".page"), validate_key(key) == key
        (37, True, True)
        >>> new_key("../x")
        Traceback (most recent call last):
        ...
        ValueError: kind must match [a-z0-9][a-z0-9_-]{0,31}, got '../x'
    """
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ValueError(f"kind must match [a-z0-9][a-z0-9_-]{{0,31}}, got {kind!r}")
    return f"{uuid.uuid4().hex}.{kind}"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a key :func:`new_key` could have made.

    Raises:
        ArtifactMissingError: ``artifact_key_invalid`` (permanent) otherwise;
            such a key can name no artifact, and is never used as a path.

    Examples:
        >>> validate_key("../../etc/passwd")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.ArtifactMissingError: artifact_key_invalid: malformed artifact key '../../etc/passwd'
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        shown = key[:80] if isinstance(key, str) else type(key).__name__
        raise ArtifactMissingError("artifact_key_invalid", f"malformed artifact key {shown!r}")
    return key


def pack_array(arr: npt.NDArray[Any], meta: dict[str, Any]) -> bytes:
    """Serialise an array and a JSON-able dict without any image codec.

    Layout: ``b"AIA1"``, a little-endian ``uint32`` header length, the UTF-8
    JSON header ``{"dtype", "shape", "meta"}``, then the C-ordered buffer.

    Args:
        arr: any numeric array (object dtypes are refused).
        meta: small JSON-serialisable dict (page number, size_wh, ...).

    Raises:
        ValueError: object dtype or meta that JSON cannot encode.

    Examples:
        >>> data = pack_array(np.arange(6, dtype="<u2").reshape(2, 3), {"k": "v"})
        >>> arr, meta = unpack_array(data)
        >>> arr.tolist(), arr.dtype.str, meta
        ([[0, 1, 2], [3, 4, 5]], '<u2', {'k': 'v'})
    """
    if arr.dtype.hasobject:
        raise ValueError(f"cannot pack an array of dtype {arr.dtype}")
    try:
        header = json.dumps(
            {"dtype": arr.dtype.str, "shape": list(arr.shape), "meta": meta},
            separators=(",", ":"),
            allow_nan=False,
        ).encode()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"meta must be JSON-serialisable: {exc}") from None
    # A view on the buffer: join copies it once, straight into the result.
    body = np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data
    return b"".join((_ARRAY_MAGIC, _HEADER_LEN.pack(len(header)), header, body))


def unpack_array(data: bytes) -> tuple[npt.NDArray[Any], dict[str, Any]]:
    """Inverse of :func:`pack_array`; returns a writable array.

    Raises:
        PermanentError: ``artifact_corrupt`` when ``data`` is not a packed array.

    Examples:
        >>> unpack_array(b"not an array")
        Traceback (most recent call last):
        ...
        ai_tasks.errors.PermanentError: artifact_corrupt: not a packed array (bad magic)
    """
    view = memoryview(data)
    if bytes(view[:4]) != _ARRAY_MAGIC or len(view) < 8:
        raise PermanentError("artifact_corrupt", "not a packed array (bad magic)")
    (header_len,) = _HEADER_LEN.unpack_from(view, 4)
    start = 8 + header_len
    try:
        header = json.loads(bytes(view[8:start]))
        dtype = np.dtype(header["dtype"])
        shape = tuple(int(n) for n in header["shape"])
        meta = header["meta"]
        if dtype.hasobject or not isinstance(meta, dict):
            raise ValueError("bad dtype or meta")
        arr = np.frombuffer(view, dtype=dtype, offset=start).reshape(shape)
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError("artifact_corrupt", f"packed array header invalid: {exc}") from None
    return arr.copy(), meta


class _ArrayMixin:
    """``put_array`` / ``get_array`` on top of ``put`` / ``get``."""

    def put(self, data: bytes, *, kind: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def get(self, key: str) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def put_array(self, arr: npt.NDArray[Any], meta: dict[str, Any]) -> str:
        """Store ``arr`` and ``meta`` (see :func:`pack_array`); return the key."""
        return self.put(pack_array(arr, meta), kind=_ARRAY_KIND)

    def get_array(self, key: str) -> tuple[npt.NDArray[Any], dict[str, Any]]:
        """Return what :meth:`put_array` stored under ``key``."""
        return unpack_array(self.get(key))


def _check_ttl(ttl_s: int) -> int:
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int) or ttl_s <= 0:
        raise ValueError(f"ttl_s must be a positive int, got {ttl_s!r}")
    return ttl_s


class LocalArtifactStore(_ArrayMixin):
    """Artifacts as files under ``root`` (one machine).

    Writes are atomic (temporary file, then ``os.replace``). An artifact
    older than ``ttl_s`` (by file mtime) reads as missing; expired files and
    stale temporary files are swept at most once per ``min(ttl_s, 60)``
    seconds, on ``put``.

    Args:
        root: folder for the artifacts (created, mode ``0700``).
        ttl_s: lifetime of an artifact in seconds.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     store = LocalArtifactStore(Path(tmp), ttl_s=60)
        ...     key = store.put(b"hello", kind="text")
        ...     data = store.get(key)
        ...     store.delete(key)
        ...     try:
        ...         store.get(key)
        ...     except ArtifactMissingError as err:
        ...         code = err.reason_code
        >>> data, code
        (b'hello', 'artifact_missing')
    """

    def __init__(self, root: Path, ttl_s: int) -> None:
        self.root = Path(root)
        self.ttl_s = _check_ttl(ttl_s)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._sweep_every_s = float(min(ttl_s, 60))
        self._next_sweep_at = 0.0
        self._sweep_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalArtifactStore(root={str(self.root)!r}, ttl_s={self.ttl_s})"

    def put(self, data: bytes, *, kind: str) -> str:
        """Write ``data`` atomically and return its key."""
        key = new_key(kind)
        tmp = self.root / f"{_TMP_PREFIX}{key}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, self.root / key)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        self._maybe_sweep()
        return key

    def get(self, key: str) -> bytes:
        """Return the bytes under ``key``.

        Raises:
            ArtifactMissingError: ``artifact_key_invalid`` or ``artifact_missing``
                (never written, deleted or expired).
        """
        path = self.root / validate_key(key)
        try:
            with open(path, "rb") as src:
                if self._expired(os.fstat(src.fileno()).st_mtime, time.time()):
                    raise FileNotFoundError(path)
                return src.read()
        except FileNotFoundError:
            raise ArtifactMissingError(
                "artifact_missing", f"artifact {key} expired or never written"
            ) from None

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it is already gone."""
        with contextlib.suppress(FileNotFoundError):
            (self.root / validate_key(key)).unlink()

    def sweep(self) -> int:
        """Remove expired artifacts and stale temporary files; return how many."""
        now = time.time()
        removed = 0
        with os.scandir(self.root) as entries:
            for entry in entries:
                name = entry.name
                if not (_KEY.fullmatch(name) or name.startswith(_TMP_PREFIX)):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False) and self._expired(
                        entry.stat(follow_symlinks=False).st_mtime, now
                    ):
                        os.unlink(entry.path)
                        removed += 1
                except FileNotFoundError:
                    continue
        return removed

    def _expired(self, mtime: float, now: float) -> bool:
        return now - mtime > self.ttl_s

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep_at or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep_at = now + self._sweep_every_s
            self.sweep()
        finally:
            self._sweep_lock.release()


_POOLS: dict[str, Any] = {}
_POOLS_LOCK = threading.Lock()
_REDIS_TIMEOUT_S = 5.0


def _redis_pool(url: str) -> Any:
    """One connection pool per URL per process (redis-py resets it after fork)."""
    import redis

    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None:
            pool = redis.ConnectionPool.from_url(
                url,
                socket_timeout=_REDIS_TIMEOUT_S,
                socket_connect_timeout=_REDIS_TIMEOUT_S,
                health_check_interval=30,
            )
            _POOLS[url] = pool
        return pool


class RedisArtifactStore(_ArrayMixin):
    """Artifacts as Redis strings with a TTL (several machines).

    Args:
        url: ``redis://[:password@]host:port/db`` (``rediss://``, ``unix://``
            too). The password never appears in ``repr`` or errors.
        ttl_s: lifetime of an artifact in seconds (``SET ... EX``, as ``SETEX``).
        prefix: Redis key prefix in front of every artifact key.

    Raises:
        TransientError: ``artifact_store_unavailable`` from any method when
            Redis cannot be reached (the task retries).
    """

    def __init__(self, url: str, ttl_s: int, prefix: str = "ai:artifact:") -> None:
        import redis

        self.ttl_s = _check_ttl(ttl_s)
        self.prefix = prefix
        self._where = redact_url(url)
        self._client = redis.Redis(connection_pool=_redis_pool(url))
        self._errors: tuple[type[Exception], ...] = (
            redis.ConnectionError,
            redis.TimeoutError,
        )

    def __repr__(self) -> str:
        return (
            f"RedisArtifactStore(url={self._where!r}, ttl_s={self.ttl_s}, prefix={self.prefix!r})"
        )

    @contextlib.contextmanager
    def _talking(self) -> Any:
        try:
            yield
        except self._errors as exc:
            raise TransientError(
                "artifact_store_unavailable",
                f"Redis at {self._where} unavailable ({type(exc).__name__})",
            ) from None

    def put(self, data: bytes, *, kind: str) -> str:
        """``SET ... EX``: store ``data`` for ``ttl_s`` seconds and return its key."""
        key = new_key(kind)
        with self._talking():
            self._client.set(self.prefix + key, data, ex=self.ttl_s)
        return key

    def get(self, key: str) -> bytes:
        """Return the bytes under ``key``.

        Raises:
            ArtifactMissingError: ``artifact_key_invalid`` or ``artifact_missing``.
        """
        name = self.prefix + validate_key(key)
        with self._talking():
            data = self._client.get(name)
        if data is None:
            raise ArtifactMissingError(
                "artifact_missing", f"artifact {key} expired or never written"
            )
        if not isinstance(data, bytes):  # a client built with decode_responses
            raise PermanentError("artifact_corrupt", f"artifact {key} did not come back as bytes")
        return data

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it is already gone."""
        name = self.prefix + validate_key(key)
        with self._talking():
            self._client.delete(name)


def open_artifact_store(url: str, ttl_s: int) -> ArtifactStore:
    """Build the store named by ``url`` (the ``AI_WORKER_ARTIFACT_URL`` setting).

    Args:
        url: ``file:///abs/path`` or a plain path for :class:`LocalArtifactStore`;
            ``redis://``, ``rediss://`` or ``unix://`` for :class:`RedisArtifactStore`.
        ttl_s: lifetime of an artifact in seconds.

    Raises:
        ValueError: an unknown scheme, a ``file:`` URL with a remote host,
            an empty URL or a bad ``ttl_s``.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     store = open_artifact_store(f"file://{tmp}/pages", ttl_s=60)
        ...     store.root == Path(tmp) / "pages", store.ttl_s
        (True, 60)
        >>> open_artifact_store("redis://:pw@127.0.0.1:6379/15", ttl_s=60)
        RedisArtifactStore(url='redis://127.0.0.1:6379/15', ttl_s=60, prefix='ai:artifact:')
        >>> open_artifact_store("s3://bucket/x", ttl_s=60)
        Traceback (most recent call last):
        ...
        ValueError: artifact store URL must be file://, a path or redis://, got scheme 's3'
    """
    if not url:
        raise ValueError("artifact store URL is empty")
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("redis", "rediss", "unix"):
        return RedisArtifactStore(url, ttl_s)
    if scheme == "file":
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file:// artifact URL must be local, got host {parts.netloc!r}")
        return LocalArtifactStore(Path(unquote(parts.path)), ttl_s)
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        return LocalArtifactStore(Path(url), ttl_s)
    raise ValueError(
        f"artifact store URL must be file://, a path or redis://, got scheme {scheme!r}"
    )
