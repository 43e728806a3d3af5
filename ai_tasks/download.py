"""Safe download of presigned URLs into a per-job folder.

A presigned URL is a credential handed to us by the API, and the URL itself is
untrusted input: it may point at the cloud metadata service, at a private
address behind a public name (DNS rebinding), at an endless body or at a
server that never answers. :func:`download_to_dir` refuses all of these:

* only ``https`` (``http`` when :attr:`DownloadPolicy.allow_http`);
* the host is resolved here, every address is vetted (loopback, private,
  link-local, multicast, reserved, unspecified, CGNAT, metadata, IPv4 hidden
  in IPv6 forms) and the connection goes to the vetted address, keeping the
  ``Host`` header and TLS SNI / certificate check on the original name;
* redirects are followed by hand, each hop vetted again;
* size, connect, read and total wall-clock limits; partial files never stay.

Query strings and userinfo of URLs never appear in messages or logs; see
:func:`ai_tasks.redact.redact_url` (re-exported here).

Examples:
    >>> policy = DownloadPolicy(max_bytes=1024, allow_http=True)
    >>> policy.max_bytes, policy.allow_http
    (1024, True)
    >>> redact_url("https://bucket.example.com/a/b.png?X-Amz-Signature=secret")
    'https://bucket.example.com/a/b.png'
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from ai_tasks.errors import DownloadError, TransientDownloadError
from ai_tasks.redact import redact_url

__all__ = [
    "fetch_json",
    "DownloadPolicy",
    "download_to_dir",
    "is_address_allowed",
    "job_tmpdir",
    "redact_url",
    "url_origin",
]

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CHUNK_BYTES = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_RETRYABLE_4XX = frozenset({408, 429})
_USER_AGENT = "ai-worker-download/1"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# Always refused unless allowlisted, on top of what ``ipaddress`` calls
# non-global: CGNAT (RFC 6598) and the cloud metadata endpoints.
_BLOCKED_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("169.254.169.254/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64).
_NAT64_NETWORKS: tuple[ipaddress.IPv6Network, ...] = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)


@dataclass(frozen=True)
class DownloadPolicy:
    """Limits applied to one download (all hops together).

    Attributes:
        max_bytes: largest body accepted, checked on ``Content-Length`` and
            while streaming.
        connect_timeout_s: TCP (and TLS) connect limit per hop.
        read_timeout_s: limit on each wait for bytes from the server.
        total_timeout_s: wall-clock cap from the first DNS lookup to the last
            byte, redirects included.
        allow_http: accept plain ``http`` URLs (tests, private networks).
        allowlist: host names, IP addresses or CIDR networks that are
            accepted even when private (e.g. ``("127.0.0.1",)`` in tests, a
            MinIO at ``"10.0.5.0/24"``). A host name entry matches the URL's
            host name exactly (case-insensitive), not what it resolves to.
        max_redirects: redirects followed before giving up.

    Raises:
        ValueError: on a non-positive limit or an allowlist entry that is
            neither a host name nor an address / network.

    Examples:
        >>> DownloadPolicy(allowlist=("127.0.0.1", "10.0.0.0/8")).max_redirects
        3
        >>> DownloadPolicy(max_bytes=0)
        Traceback (most recent call last):
        ...
        ValueError: max_bytes must be > 0, got 0
    """

    max_bytes: int = 50 * 1024 * 1024
    connect_timeout_s: float = 5
    read_timeout_s: float = 30
    total_timeout_s: float = 120
    allow_http: bool = False
    allowlist: tuple[str, ...] = ()
    max_redirects: int = 3

    def __post_init__(self) -> None:
        for name in ("max_bytes", "connect_timeout_s", "read_timeout_s", "total_timeout_s"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if self.max_redirects < 0:
            raise ValueError(f"max_redirects must be >= 0, got {self.max_redirects}")
        if isinstance(self.allowlist, str):
            raise ValueError("allowlist must be a tuple of strings, got one string")
        for entry in self.allowlist:
            _parse_allow_entry(entry)


#: One label of a host name (RFC 1123): letters, digits, inner hyphens, 63 characters at most.
_HOST_LABEL_RE = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _parse_allow_entry(entry: str) -> IPNetwork | str:
    """An allow-list entry as a network, or as a lower-case host name.

    Refused: anything else, such as a port (``minio:9000``), a URL, a
    wildcard (``*.internal``), an empty label (``a..b``) or an address that
    is not one (``10.0.0.0/33``, ``256.1.1.1``: a host name never ends in a
    numeric label).

    Examples:
        >>> _parse_allow_entry(" MinIO.internal. "), _parse_allow_entry("10.1.0.0/16")
        ('minio.internal', IPv4Network('10.1.0.0/16'))
        >>> _parse_allow_entry("256.1.1.1")
        Traceback (most recent call last):
        ...
        ValueError: allowlist entry '256.1.1.1' is not a host name, IP address or CIDR
    """
    text = entry.strip()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        pass
    host = text.rstrip(".")
    labels = host.split(".")
    if (
        not host
        or len(host) > 253
        or not all(_HOST_LABEL_RE.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(f"allowlist entry {entry!r} is not a host name, IP address or CIDR")
    return host.lower()


def is_address_allowed(address: str, allowlist: tuple[str, ...] = ()) -> bool:
    """Tell whether a resolved IP address may be connected to.

    Refused: loopback, private, link-local, multicast, reserved, unspecified,
    CGNAT ``100.64.0.0/10``, cloud metadata (``169.254.169.254``,
    ``fd00:ec2::254``), and IPv4 addresses hidden in IPv6 forms
    (``::ffff:a.b.c.d``, 6to4, Teredo, NAT64) that would be refused
    themselves, unless an allowlist IP / CIDR entry contains the address.

    Args:
        address: an IPv4 or IPv6 address literal (scope ``%eth0`` allowed).
        allowlist: as :attr:`DownloadPolicy.allowlist`; host names are ignored.

    Returns:
        ``True`` when the address is public or allowlisted.

    Examples:
        >>> is_address_allowed("93.184.216.34")
        True
        >>> [is_address_allowed(a) for a in ("127.0.0.1", "10.1.2.3", "100.64.0.1",
        ...     "169.254.169.254", "0.0.0.0", "224.0.0.1", "::1", "::ffff:127.0.0.1",
        ...     "fd00:ec2::254", "fe80::1%eth0", "2002:7f00:1::")]
        [False, False, False, False, False, False, False, False, False, False, False]
        >>> is_address_allowed("127.0.0.1", ("127.0.0.0/8",))
        True
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for entry in allowlist:
        network = _parse_allow_entry(entry)
        if not isinstance(network, str) and ip.version == network.version and ip in network:
            return True
    return _is_public(ip)


def _is_public(ip: IPAddress) -> bool:
    if (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return False
    if any(ip.version == net.version and ip in net for net in _BLOCKED_NETWORKS):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return False
        embedded: list[ipaddress.IPv4Address] = []
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if any(ip in net for net in _NAT64_NETWORKS):
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return all(_is_public(v4) for v4 in embedded)
    return True


@dataclass(frozen=True)
class _Target:
    """One vetted hop: where to connect and what to ask for."""

    scheme: str
    hostname: str
    host_header: str
    port: int
    request_target: str
    addresses: tuple[str, ...]


def _deadline_left_s(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TransientDownloadError(
            "download_timeout", f"total time limit exceeded downloading {redact_url(url)}"
        )
    return left


def _resolve(hostname: str, port: int, timeout_s: float, url: str) -> list[str]:
    """``getaddrinfo`` with a timeout (the libc call has none of its own)."""
    box: dict[str, Any] = {}

    def lookup() -> None:
        try:
            box["infos"] = socket.getaddrinfo(
                hostname, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (OSError, UnicodeError) as exc:
            box["error"] = exc

    thread = threading.Thread(target=lookup, name="ai-download-dns", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise TransientDownloadError(
            "download_timeout", f"DNS lookup timed out for {redact_url(url)}"
        )
    if "error" in box:
        raise TransientDownloadError(
            "download_dns_failed",
            f"cannot resolve host of {redact_url(url)} ({type(box['error']).__name__})",
        )
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in box["infos"]:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TransientDownloadError(
            "download_dns_failed", f"no address for host of {redact_url(url)}"
        )
    return addresses


def _vet(url: str, policy: DownloadPolicy, deadline: float) -> _Target:
    """Check scheme and host of one hop, resolve it and vet every address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DownloadError("download_url_invalid", f"cannot parse URL {redact_url(url)}") from None
    scheme = parts.scheme.lower()
    allowed_schemes = ("https", "http") if policy.allow_http else ("https",)
    if scheme not in allowed_schemes:
        raise DownloadError(
            "download_scheme_refused",
            f"scheme {scheme or '(none)'!r} refused, expected one of {allowed_schemes}: "
            f"{redact_url(url)}",
        )
    hostname = (parts.hostname or "").rstrip(".")
    if not hostname or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise DownloadError("download_url_invalid", f"URL has no usable host: {redact_url(url)}")
    port = port or (443 if scheme == "https" else 80)

    allow_by_name = hostname.lower() in {
        entry for entry in map(_parse_allow_entry, policy.allowlist) if isinstance(entry, str)
    }
    timeout_s = min(policy.connect_timeout_s, _deadline_left_s(deadline, url))
    addresses = _resolve(hostname, port, timeout_s, url)
    if not allow_by_name:
        refused = [a for a in addresses if not is_address_allowed(a, policy.allowlist)]
        if refused:
            raise DownloadError(
                "download_address_refused",
                f"host of {redact_url(url)} resolves to a non-public address {refused[0]}",
            )
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return _Target(
        scheme=scheme,
        hostname=hostname,
        host_header=parts.netloc.rpartition("@")[2],
        port=port,
        request_target=target,
        addresses=tuple(addresses),
    )


def _open_pool(
    target: _Target, address: str, policy: DownloadPolicy, deadline: float, url: str
) -> urllib3.HTTPConnectionPool:
    left_s = _deadline_left_s(deadline, url)
    timeout = urllib3.Timeout(
        connect=min(policy.connect_timeout_s, left_s), read=min(policy.read_timeout_s, left_s)
    )
    if target.scheme == "http":
        return urllib3.HTTPConnectionPool(
            address, target.port, timeout=timeout, retries=False, maxsize=1
        )
    tls: dict[str, Any] = {}
    if target.hostname != address:
        # Connect to the vetted IP, but send SNI and verify the certificate
        # for the name in the URL.
        tls = {"server_hostname": target.hostname, "assert_hostname": target.hostname}
    import certifi  # requests' own CA bundle, always installed beside it

    return urllib3.HTTPSConnectionPool(
        address,
        target.port,
        timeout=timeout,
        retries=False,
        maxsize=1,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
        **tls,
    )


def _request(
    target: _Target,
    policy: DownloadPolicy,
    deadline: float,
    url: str,
    extra_headers: Mapping[str, str] | None = None,
) -> tuple[urllib3.HTTPConnectionPool, urllib3.BaseHTTPResponse]:
    """Send the GET to the first vetted address that accepts a connection."""
    headers = {
        **(extra_headers or {}),
        "Host": target.host_header,
        "User-Agent": _USER_AGENT,
        "Accept-Encoding": "identity",
    }
    for index, address in enumerate(target.addresses):
        pool = _open_pool(target, address, policy, deadline, url)
        try:
            response = pool.urlopen(
                "GET",
                target.request_target,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                release_conn=False,
                assert_same_host=False,
            )
        except NewConnectionError:
            pool.close()
            if index + 1 < len(target.addresses):
                continue
            raise TransientDownloadError(
                "download_connection_failed", f"cannot connect to {redact_url(url)}"
            ) from None
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            pool.close()
            raise TransientDownloadError(
                "download_timeout", f"{type(exc).__name__} from {redact_url(url)}"
            ) from None
        except (HTTPError, OSError) as exc:
            pool.close()
            raise TransientDownloadError(
                "download_connection_failed", f"{type(exc).__name__} from {redact_url(url)}"
            ) from None
        return pool, response
    raise AssertionError("resolver returned no address")  # pragma: no cover


def _check_status(status: int, url: str) -> None:
    where = redact_url(url)
    if 500 <= status:
        raise TransientDownloadError("download_http_5xx", f"HTTP {status} from {where}")
    if status in _RETRYABLE_4XX:
        raise TransientDownloadError(
            "download_http_error", f"HTTP {status} from {where} (retry later)"
        )
    if not 200 <= status < 300:
        raise DownloadError("download_http_error", f"HTTP {status} from {where}")


def _content_length(response: urllib3.BaseHTTPResponse) -> int | None:
    raw = response.headers.get("Content-Length")
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw)


def _stream_body(
    response: urllib3.BaseHTTPResponse,
    part: Path,
    policy: DownloadPolicy,
    deadline: float,
    url: str,
) -> int:
    """Write the body to ``part``; return the bytes written."""
    where = redact_url(url)
    expected = _content_length(response)
    if expected is not None and expected > policy.max_bytes:
        raise DownloadError(
            "download_too_large",
            f"Content-Length {expected} exceeds max_bytes {policy.max_bytes}: {where}",
        )
    sock = getattr(getattr(response, "connection", None), "sock", None)
    written = 0
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        while True:
            left_s = _deadline_left_s(deadline, url)
            if sock is not None:
                # Each wait is bounded by the read timeout AND the total cap.
                sock.settimeout(min(policy.read_timeout_s, left_s))
            try:
                chunk = response.read1(_CHUNK_BYTES, decode_content=False)
            except ReadTimeoutError:
                raise TransientDownloadError(
                    "download_timeout", f"read timed out after {written} bytes: {where}"
                ) from None
            except (ProtocolError, OSError) as exc:
                raise TransientDownloadError(
                    "download_truncated",
                    f"connection dropped after {written} bytes ({type(exc).__name__}): {where}",
                ) from None
            except HTTPError as exc:
                raise TransientDownloadError(
                    "download_connection_failed", f"{type(exc).__name__} from {where}"
                ) from None
            if not chunk:
                break
            written += len(chunk)
            if written > policy.max_bytes:
                raise DownloadError(
                    "download_too_large",
                    f"body exceeds max_bytes {policy.max_bytes}: {where}",
                )
            out.write(chunk)
    if expected is not None and written < expected:
        raise TransientDownloadError(
            "download_truncated", f"got {written} of {expected} bytes: {where}"
        )
    return written


def download_to_dir(
    url: str,
    dest_dir: Path,
    *,
    policy: DownloadPolicy,
    filename: str = "input",
    headers: Mapping[str, str] | None = None,
) -> Path:
    """Download ``url`` to ``dest_dir / filename`` under ``policy``.

    The body goes to ``<filename>.part`` first and is renamed atomically;
    on any failure neither file is left behind.

    Args:
        url: presigned ``https`` URL (its query string is never logged).
        dest_dir: existing folder, normally from :func:`job_tmpdir`.
        policy: limits and allowlist.
        filename: plain file name (letters, digits, ``._-``), no path.
        headers: extra request headers (e.g. credentials of an API call);
            dropped when a redirect leaves the original origin.

    Returns:
        The path of the complete file.

    Raises:
        DownloadError: permanent; ``reason_code`` one of
            ``download_url_invalid``, ``download_scheme_refused``,
            ``download_address_refused``, ``download_too_large``,
            ``download_http_error`` (4xx), ``download_too_many_redirects``.
        TransientDownloadError: retryable; ``reason_code`` one of
            ``download_timeout``, ``download_http_5xx``,
            ``download_http_error`` (408, 429), ``download_truncated``,
            ``download_dns_failed``, ``download_connection_failed``.
        ValueError: ``filename`` is not a plain file name.

    Examples:
        >>> import tempfile
        >>> def reason(url):
        ...     with tempfile.TemporaryDirectory() as tmp:
        ...         try:
        ...             download_to_dir(url, Path(tmp), policy=DownloadPolicy())
        ...         except DownloadError as err:
        ...             return err.reason_code, "secret" in str(err), os.listdir(tmp)
        >>> reason("file:///etc/passwd")
        ('download_scheme_refused', False, [])
        >>> reason("https://169.254.169.254/latest/meta-data?sig=secret")
        ('download_address_refused', False, [])
    """
    if not _SAFE_NAME.fullmatch(filename) or filename in {".", ".."}:
        raise ValueError(f"filename must be a plain file name, got {filename!r}")
    final = Path(dest_dir) / filename
    part = Path(dest_dir) / f"{filename}.part"
    deadline = time.monotonic() + policy.total_timeout_s
    current = url
    try:
        for hop in range(policy.max_redirects + 1):
            target = _vet(current, policy, deadline)
            same_origin = url_origin(current) == url_origin(url)
            pool, response = _request(target, policy, deadline, current, headers if same_origin else None)
            try:
                if response.status in _REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise DownloadError(
                            "download_http_error",
                            f"HTTP {response.status} without Location: {redact_url(current)}",
                        )
                    logger.debug(
                        "redirect %d: %s -> %s",
                        hop + 1,
                        redact_url(current),
                        redact_url(urljoin(current, location)),
                    )
                    current = urljoin(current, location)
                    continue
                _check_status(response.status, current)
                written = _stream_body(response, part, policy, deadline, current)
            finally:
                response.release_conn()
                response.close()
                pool.close()
            os.replace(part, final)
            logger.debug("downloaded %d bytes from %s", written, redact_url(current))
            return final
        raise DownloadError(
            "download_too_many_redirects",
            f"more than {policy.max_redirects} redirects from {redact_url(url)}",
        )
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise


def url_origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``: credentials never leave their origin.

    Examples:
        >>> url_origin("https://API.example:8443/a?b") == url_origin("https://api.example:8443/c")
        True
    """
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def fetch_json(
    url: str, *, policy: DownloadPolicy, headers: Mapping[str, str] | None = None, max_bytes: int = 4 * 1024 * 1024
) -> Any:
    """GET a small JSON document under the same rules as :func:`download_to_dir`.

    Raises:
        DownloadError: as :func:`download_to_dir`, or ``download_invalid_json``.
        TransientDownloadError: as :func:`download_to_dir`.
    """
    small = dataclasses.replace(policy, max_bytes=min(policy.max_bytes, max_bytes))
    with tempfile.TemporaryDirectory(prefix="ai-json-") as tmp:
        path = download_to_dir(url, Path(tmp), policy=small, filename="doc.json", headers=headers)
        try:
            return json.loads(path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DownloadError(
                "download_invalid_json", f"{redact_url(url)} did not return JSON: {exc}"
            ) from None


_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@contextlib.contextmanager
def job_tmpdir(base: Path | None, job_id: str) -> Iterator[Path]:
    """Create a private folder for one job and remove it when the job ends.

    The folder is unique (two runs of one job never share it), mode ``0700``,
    and removed with everything in it on exit, whether the body returned or
    raised.

    Args:
        base: parent folder (created if missing); ``None`` for the system
            temp folder.
        job_id: job id, used (sanitised, shortened) in the folder name only.

    Yields:
        The new folder.

    Examples:
        >>> with job_tmpdir(None, "job/../42") as tmp:
        ...     oct(tmp.stat().st_mode & 0o777), tmp.name.startswith("ai-job-job____42-")
        ('0o700', True)
        >>> tmp.exists()
        False
    """
    if base is not None:
        Path(base).mkdir(parents=True, exist_ok=True, mode=0o700)
    safe_id = _JOB_ID_UNSAFE.sub("_", job_id)[:64] or "job"
    path = Path(tempfile.mkdtemp(prefix=f"ai-job-{safe_id}-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
