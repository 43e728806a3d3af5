"""Tests of ai_tasks/download.py against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import subprocess
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_tasks.download import (
    DownloadPolicy,
    download_to_dir,
    fetch_json,
    is_address_allowed,
    job_tmpdir,
    redact_url,
)
from ai_tasks.errors import AIWorkerError, DownloadError, PermanentError, TransientDownloadError
from tests.ai_tasks import _http
from tests.ai_tasks._http import LocalServer, body, redirect, serve

pytestmark = pytest.mark.timeout(10)

SECRET = "X-Amz-Signature=SECRETSIG"
MAX_BYTES = 1000
POLICY = DownloadPolicy(
    max_bytes=MAX_BYTES,
    connect_timeout_s=1,
    read_timeout_s=0.3,
    total_timeout_s=1.0,
    allow_http=True,
    allowlist=("127.0.0.1",),
    max_redirects=3,
)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as srv:
        yield srv


def _expect_failure(
    url: str, dest: Path, reason_code: str, *, retryable: bool, policy: DownloadPolicy = POLICY
) -> AIWorkerError:
    with pytest.raises((DownloadError, TransientDownloadError)) as info:
        download_to_dir(url, dest, policy=policy)
    err = info.value
    assert err.reason_code == reason_code, str(err)
    assert err.retryable is retryable
    assert os.listdir(dest) == []
    rendered = "".join(traceback.format_exception(err))
    assert "SECRETSIG" not in rendered
    assert "SECRETSIG" not in repr(err)
    return err


# --- success -----------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, MAX_BYTES])
def test_downloads_body_to_named_file(server: LocalServer, tmp_path: Path, size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    server.route("/obj", _http.body(payload))

    path = download_to_dir(
        server.url(f"/obj?{SECRET}"), tmp_path, policy=POLICY, filename="page.png"
    )

    assert path == tmp_path / "page.png"
    assert path.read_bytes() == payload
    assert os.listdir(tmp_path) == ["page.png"]
    (request,) = server.requests
    assert request.path == f"/obj?{SECRET}"  # the signature still reaches the server
    assert request.headers["Host"] == f"127.0.0.1:{server.port}"


def test_body_without_content_length_under_cap(server: LocalServer, tmp_path: Path) -> None:
    server.route("/obj", _http.body(b"y" * 500, content_length=False))

    assert download_to_dir(server.url("/obj"), tmp_path, policy=POLICY).read_bytes() == b"y" * 500


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_follows_redirects(server: LocalServer, tmp_path: Path, code: int) -> None:
    server.route("/obj", _http.body(b"data"))
    server.route("/hop2", _http.redirect(f"/obj?{SECRET}", code))  # relative
    server.route("/hop1", _http.redirect(server.url("/hop2"), code))  # absolute

    path = download_to_dir(server.url("/hop1"), tmp_path, policy=POLICY)

    assert path.read_bytes() == b"data"
    assert [r.path for r in server.requests] == ["/hop1", "/hop2", f"/obj?{SECRET}"]


def test_logs_never_carry_the_query(
    server: LocalServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("/obj", _http.body(b"data"))
    server.route("/hop", _http.redirect(f"/obj?{SECRET}"))
    caplog.set_level(logging.DEBUG, logger="ai_tasks.download")

    download_to_dir(server.url(f"/hop?{SECRET}"), tmp_path, policy=POLICY)

    assert "/obj" in caplog.text
    assert "SECRETSIG" not in caplog.text


def test_allowlisted_host_name(server: LocalServer, tmp_path: Path) -> None:
    server.route("/obj", _http.body(b"data"))
    policy = DownloadPolicy(allow_http=True, allowlist=("LocalHost",), read_timeout_s=0.5)

    path = download_to_dir(f"http://localhost:{server.port}/obj", tmp_path, policy=policy)

    assert path.read_bytes() == b"data"
    assert server.requests[0].headers["Host"] == f"localhost:{server.port}"


# --- failures against a live server -------------------------------------------------

FAILURES = [
    # (route, reason_code, retryable)
    pytest.param(
        _http.body(b"x" * (MAX_BYTES + 1)), "download_too_large", False, id="content-length"
    ),
    pytest.param(
        _http.body(b"x" * 5000, content_length=False),
        "download_too_large",
        False,
        id="no-content-length",
    ),
    pytest.param(_http.forever(), "download_too_large", False, id="stream-forever"),
    pytest.param(_http.truncated(500, 900), "download_truncated", True, id="short-body"),
    pytest.param(_http.truncated_chunked(100), "download_truncated", True, id="chunked-cut"),
    pytest.param(
        _http.sleep_then(1.0, _http.body(b"late")), "download_timeout", True, id="no-headers"
    ),
    pytest.param(_http.drip(0.1, 900), "download_timeout", True, id="drip-total-cap"),
    pytest.param(_http.status(400), "download_http_error", False, id="400"),
    pytest.param(_http.status(403), "download_http_error", False, id="403"),
    pytest.param(_http.status(404), "download_http_error", False, id="404"),
    pytest.param(_http.status(304), "download_http_error", False, id="304-not-a-redirect"),
    pytest.param(_http.status(408), "download_http_error", True, id="408"),
    pytest.param(_http.status(429), "download_http_error", True, id="429"),
    pytest.param(_http.status(500), "download_http_5xx", True, id="500"),
    pytest.param(_http.status(503), "download_http_5xx", True, id="503"),
    pytest.param(
        _http.redirect("http://10.0.0.1/obj"),
        "download_address_refused",
        False,
        id="redirect-private",
    ),
    pytest.param(
        _http.redirect("http://169.254.169.254/latest/meta-data/"),
        "download_address_refused",
        False,
        id="redirect-metadata",
    ),
    pytest.param(
        _http.redirect("http://[::1]/x"),
        "download_address_refused",
        False,
        id="redirect-ipv6-loopback",
    ),
    pytest.param(
        _http.redirect("file:///etc/passwd"), "download_scheme_refused", False, id="redirect-file"
    ),
    pytest.param(
        _http.redirect("ftp://example.com/x"), "download_scheme_refused", False, id="redirect-ftp"
    ),
    pytest.param(_http.redirect("/loop"), "download_too_many_redirects", False, id="loop"),
    pytest.param(_http.body(b"", code=302), "download_http_error", False, id="302-no-location"),
]


@pytest.mark.parametrize(("route", "reason_code", "retryable"), FAILURES)
def test_failure_leaves_nothing(
    server: LocalServer,
    tmp_path: Path,
    route: _http.Route,
    reason_code: str,
    retryable: bool,
) -> None:
    server.route("/loop", route)

    _expect_failure(server.url(f"/loop?{SECRET}"), tmp_path, reason_code, retryable=retryable)


def test_redirect_to_other_loopback_address_is_refused(server: LocalServer, tmp_path: Path) -> None:
    with serve({"/obj": _http.body(b"internal")}, host="127.0.0.2") as internal:
        server.route("/hop", _http.redirect(internal.url("/obj")))

        _expect_failure(server.url("/hop"), tmp_path, "download_address_refused", retryable=False)

        assert internal.requests == []


def test_redirect_to_localhost_name_is_refused_without_allowlist(
    server: LocalServer, tmp_path: Path
) -> None:
    server.route("/obj", _http.body(b"internal"))
    target = f"http://localhost:{server.port}/obj"
    with serve({"/hop": _http.redirect(target)}, host="127.0.0.2") as front:
        only_front = DownloadPolicy(allow_http=True, allowlist=("127.0.0.2",), read_timeout_s=1)
        with_name = DownloadPolicy(
            allow_http=True, allowlist=("127.0.0.2", "localhost"), read_timeout_s=1
        )

        _expect_failure(
            front.url("/hop"),
            tmp_path,
            "download_address_refused",
            retryable=False,
            policy=only_front,
        )
        assert server.requests == []

        path = download_to_dir(front.url("/hop"), tmp_path, policy=with_name)
        assert path.read_bytes() == b"internal"


def test_localhost_is_refused_without_allowlist(server: LocalServer, tmp_path: Path) -> None:
    _expect_failure(
        f"http://localhost:{server.port}/obj",
        tmp_path,
        "download_address_refused",
        retryable=False,
        policy=DownloadPolicy(allow_http=True),
    )
    assert server.requests == []


def test_max_redirects_zero_refuses_first_redirect(server: LocalServer, tmp_path: Path) -> None:
    server.route("/obj", _http.body(b"data"))
    server.route("/hop", _http.redirect("/obj"))
    policy = DownloadPolicy(allow_http=True, allowlist=("127.0.0.1",), max_redirects=0)

    _expect_failure(
        server.url("/hop"), tmp_path, "download_too_many_redirects", retryable=False, policy=policy
    )


def test_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on the port any more

    _expect_failure(
        f"http://127.0.0.1:{port}/x?{SECRET}",
        tmp_path,
        "download_connection_failed",
        retryable=True,
    )


def test_https_to_plain_http_server_fails_tls(server: LocalServer, tmp_path: Path) -> None:
    server.route("/obj", _http.body(b"data"))

    _expect_failure(
        f"https://127.0.0.1:{server.port}/obj?{SECRET}",
        tmp_path,
        "download_connection_failed",
        retryable=True,
    )


def test_stale_part_file_is_removed_on_failure(server: LocalServer, tmp_path: Path) -> None:
    server.route("/obj", _http.truncated(10, 100))
    (tmp_path / "input.part").write_bytes(b"from a crashed run")

    _expect_failure(server.url("/obj"), tmp_path, "download_truncated", retryable=True)


@pytest.fixture
def localhost_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` (needs the openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def test_https_pins_address_but_verifies_the_host_name(
    tmp_path: Path, localhost_cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import certifi

    # Trust our test CA instead of the public bundle; nothing else changes.
    monkeypatch.setattr(certifi, "where", lambda: str(localhost_cert[0]))
    with serve({"/obj": _http.body(b"tls")}, tls=localhost_cert) as tls_server:
        by_name = DownloadPolicy(allowlist=("localhost",), read_timeout_s=1)
        path = download_to_dir(
            f"https://localhost:{tls_server.port}/obj?{SECRET}", tmp_path, policy=by_name
        )
        assert path.read_bytes() == b"tls"
        assert tls_server.requests[0].headers["Host"] == f"localhost:{tls_server.port}"
        path.unlink()

        # Same server by IP: the certificate does not name 127.0.0.1.
        by_ip = DownloadPolicy(allowlist=("127.0.0.1",), read_timeout_s=1)
        _expect_failure(
            f"https://127.0.0.1:{tls_server.port}/obj?{SECRET}",
            tmp_path,
            "download_connection_failed",
            retryable=True,
            policy=by_ip,
        )


# --- refused before any connection ---------------------------------------------------

REFUSED = [
    # (url, policy allows http?, reason_code)
    ("", True, "download_scheme_refused"),
    ("file:///etc/passwd", True, "download_scheme_refused"),
    ("ftp://example.com/x", True, "download_scheme_refused"),
    ("gopher://example.com/x", True, "download_scheme_refused"),
    ("data:text/plain,hello", True, "download_scheme_refused"),
    ("http://example.com/x", False, "download_scheme_refused"),
    ("https://127.0.0.1/x", False, "download_address_refused"),
    ("http://127.0.0.1/x", True, "download_address_refused"),
    ("http://[::1]/x", True, "download_address_refused"),
    ("http://0.0.0.0/x", True, "download_address_refused"),
    ("http://[::]/x", True, "download_address_refused"),
    ("http://2130706433/x", True, "download_address_refused"),
    ("http://0x7f.1/x", True, "download_address_refused"),
    ("http://017700000001/x", True, "download_address_refused"),
    ("http://localhost/x", True, "download_address_refused"),
    ("http://LOCALHOST./x", True, "download_address_refused"),
    ("http://[::ffff:127.0.0.1]/x", True, "download_address_refused"),
    ("http://[::ffff:a9fe:a9fe]/x", True, "download_address_refused"),
    ("http://10.0.0.1/x", True, "download_address_refused"),
    ("http://172.16.0.1/x", True, "download_address_refused"),
    ("http://192.168.1.1/x", True, "download_address_refused"),
    ("http://100.64.0.1/x", True, "download_address_refused"),
    ("http://169.254.169.254/latest/meta-data/", True, "download_address_refused"),
    ("http://[fd00:ec2::254]/x", True, "download_address_refused"),
    ("http://[fe80::1]/x", True, "download_address_refused"),
    ("http://224.0.0.1/x", True, "download_address_refused"),
    ("http://255.255.255.255/x", True, "download_address_refused"),
    ("http://user:pw@127.0.0.1/x", True, "download_address_refused"),
    ("http:///x", True, "download_url_invalid"),
    ("http://example.com:99999/x", True, "download_url_invalid"),
    ("http://no-such-host.invalid/x", True, "download_dns_failed"),
]


@pytest.mark.parametrize(("url", "allow_http", "reason_code"), REFUSED)
def test_refused_urls(tmp_path: Path, url: str, allow_http: bool, reason_code: str) -> None:
    policy = DownloadPolicy(allow_http=allow_http, connect_timeout_s=1, total_timeout_s=2)
    retryable = reason_code == "download_dns_failed"

    err = _expect_failure(
        f"{url}?{SECRET}" if url else url, tmp_path, reason_code, retryable=retryable, policy=policy
    )

    assert isinstance(err, PermanentError) is not retryable


# --- pieces ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo, client 10.0.0.1
        ("2002:0a00:0001::", False),  # 6to4 of 10.0.0.1
        ("198.18.0.1", False),
    ],
)
def test_is_address_allowed(address: str, allowed: bool) -> None:
    assert is_address_allowed(address) is allowed


def test_allowlist_cidr_and_mapped_address() -> None:
    assert is_address_allowed("10.1.2.3", ("10.0.0.0/8",))
    assert is_address_allowed("::ffff:10.1.2.3", ("10.0.0.0/8",))
    assert not is_address_allowed("10.1.2.3", ("example.com", "192.168.0.0/16"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_bytes": 0},
        {"connect_timeout_s": 0},
        {"read_timeout_s": -1},
        {"total_timeout_s": 0},
        {"max_redirects": -1},
        {"allowlist": ("not a host!",)},
        {"allowlist": "127.0.0.1"},
    ],
)
def test_policy_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DownloadPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("filename", ["", ".", "..", "../x", "a/b", ".hidden"])
def test_filename_must_be_plain(tmp_path: Path, filename: str) -> None:
    with pytest.raises(ValueError):
        download_to_dir("https://example.com/", tmp_path, policy=POLICY, filename=filename)


def test_redact_url_drops_credentials() -> None:
    assert (
        redact_url(f"https://u:p@h.example:8443/a%20b?{SECRET}#f") == "https://h.example:8443/a%20b"
    )


def test_job_tmpdir_removed_on_success_and_failure(tmp_path: Path) -> None:
    base = tmp_path / "jobs"
    with job_tmpdir(base, "job-1") as first, job_tmpdir(base, "job-1") as second:
        assert first != second
        assert first.parent == base
        assert stat.S_IMODE(first.stat().st_mode) == 0o700
        (first / "input").write_bytes(b"x")
    assert not first.exists() and not second.exists()

    with pytest.raises(RuntimeError), job_tmpdir(base, "job-2") as third:
        (third / "nested").mkdir()
        (third / "nested" / "f").write_bytes(b"x")
        raise RuntimeError("job failed")
    assert not third.exists()
    assert os.listdir(base) == []


# --- fetch_json: small API documents (template meta) ------------------------


def test_fetch_json_sends_headers_and_parses(server: LocalServer) -> None:
    server.route("/meta", body(b'{"version": "objective_v1"}'))
    doc = fetch_json(server.url("/meta"), policy=POLICY, headers={"X-Worker-Token": "tok"})
    assert doc == {"version": "objective_v1"}
    assert server.requests[-1].headers.get("X-Worker-Token") == "tok"


def test_fetch_json_refuses_non_json(server: LocalServer) -> None:
    server.route("/meta", body(b"<html>login</html>"))
    with pytest.raises(DownloadError) as err:
        fetch_json(server.url("/meta"), policy=POLICY)
    assert err.value.reason_code == "download_invalid_json"


def test_fetch_json_drops_credentials_on_cross_origin_redirect(server: LocalServer) -> None:
    with serve(host="127.0.0.2") as other:
        other.route("/meta", body(b"{}"))
        server.route("/meta", redirect(other.url("/meta")))
        policy = DownloadPolicy(allow_http=True, allowlist=("127.0.0.1", "127.0.0.2"), read_timeout_s=2)
        assert fetch_json(server.url("/meta"), policy=policy, headers={"X-Worker-Token": "tok"}) == {}
        assert server.requests[-1].headers.get("X-Worker-Token") == "tok"
        assert "X-Worker-Token" not in other.requests[-1].headers
