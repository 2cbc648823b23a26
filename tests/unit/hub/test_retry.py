"""Retry policy against real failures: a closed port, and the status classes."""

from __future__ import annotations

import socket

import pytest

from groot_ops.errors import GrootOpsError
from groot_ops.hub.retry import HubAuthError, HubUnavailableError, is_transient, with_retries


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_is_retried_then_reported(tmp_path):
    from groot_ops.hub.upload import publish_folder

    (tmp_path / "f.txt").write_text("x")
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(HubUnavailableError, match="repo lookup on me/m still failing after 2 retries"):
        publish_folder(str(tmp_path), "me/m", token="hf_x", endpoint=endpoint, max_retries=2, backoff_s=0.01)


def test_status_classes():
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    def error(status: int) -> HfHubHTTPError:
        request = httpx2.Request("GET", "http://127.0.0.1/x")
        return HfHubHTTPError(f"{status}", response=httpx2.Response(status, request=request))

    assert is_transient(error(429)) and is_transient(error(503))
    assert not is_transient(error(404)) and not is_transient(ValueError("x"))
    with pytest.raises(HubAuthError, match=r"upload on me/m \(HTTP 403\)"):
        with_retries("upload", "me/m", lambda: (_ for _ in ()).throw(error(403)), backoff_s=5)
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise error(500)
        return "ok"

    assert with_retries("commit", "me/m", flaky, backoff_s=0.001) == "ok" and len(calls) == 3
    with pytest.raises(GrootOpsError, match="still failing after 1 retries"):
        with_retries(
            "commit", "me/m", lambda: (_ for _ in ()).throw(error(502)), max_retries=1, backoff_s=0.001
        )
