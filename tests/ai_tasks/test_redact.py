from __future__ import annotations

from ai_tasks.redact import MASK, redact, strip_secrets

LEGACY_PAYLOAD = {
    "download_url": "https://r2.example/sheet.jpg?X-Amz-Signature=abc",
    "template_fetch": {"base_url": "https://api", "cookie": "sessionid=s3", "bearer_token": "b3", "worker_token": "w3"},
    "headers": {"Authorization": "Bearer zz"},
    "openai_api_key": "sk-1",
}


def test_every_secret_is_masked_for_logs_and_flower() -> None:
    out = repr(redact(LEGACY_PAYLOAD))
    for secret in ("sessionid=s3", "b3", "w3", "Bearer zz", "sk-1", "X-Amz-Signature=abc"):
        assert secret not in out
    assert redact(LEGACY_PAYLOAD)["template_fetch"]["base_url"] == "https://api"
    assert redact(LEGACY_PAYLOAD)["template_fetch"]["cookie"] == MASK


def test_strip_keeps_the_presigned_url_but_drops_credentials() -> None:
    out = strip_secrets(LEGACY_PAYLOAD)
    assert out["download_url"] == LEGACY_PAYLOAD["download_url"]  # the chain still needs it
    assert out["template_fetch"] == {"base_url": "https://api"}
    assert "openai_api_key" not in out and out["headers"] == {}


def test_degenerate_values() -> None:
    assert redact({}) == {} and redact([]) == [] and redact(None) is None
    assert redact({"token": None}) == {"token": None}


def test_redacted_repr_hides_secrets_at_any_depth_and_length() -> None:
    from ai_tasks.redact import redacted_repr

    job = {"payload": {"template_fetch": {"cookie": "sessionid=COOKIE", "nested": [{"api_key": "KEY"}]},
                       "download_url": "https://u:PASS@b/x.jpg?X-Amz-Signature=SIG"}}
    for maxlen in (10, 50, 200, 1024):
        text = redacted_repr([job], maxlen=maxlen)
        assert len(text) <= maxlen
        for secret in ("COOKIE", "KEY", "PASS", "SIG"):
            assert secret not in text


def test_redacted_repr_cost_is_bounded_by_its_length() -> None:
    """A huge template in a message is walked only as far as the repr reaches."""
    from ai_tasks.redact import redacted_repr

    class Exploding(dict):  # type: ignore[type-arg]
        def items(self):  # type: ignore[no-untyped-def]
            raise AssertionError("walked past the budget")

    huge = {"bubbles": list(range(100_000)), "later": Exploding()}
    text = redacted_repr([huge], maxlen=100)
    assert text.endswith("...") and len(text) == 100


def test_one_url_redaction_everywhere() -> None:
    """Downloads, the artifact store and logs share ai_tasks.redact.redact_url (issue 8, section 3)."""
    import ai_tasks.artifacts
    import ai_tasks.download
    from ai_tasks.redact import redact_url

    assert ai_tasks.download.redact_url is redact_url
    assert not hasattr(ai_tasks.artifacts, "_redact_redis_url")
    url = "https://u:PASS@b.example:8443/x.jpg?X-Amz-Signature=SIG#frag"
    assert redact_url(url) == "https://b.example:8443/x.jpg"
    assert redact({"u": url}) == {"u": "https://b.example:8443/x.jpg"}
    assert "SIG" not in __import__("ai_tasks.redact").redact.redacted_repr([url])
