"""groot_ops.deploy_fetch's Hub client: retries that honour Retry-After, no token across hosts, safe paths."""

from __future__ import annotations

import email.message
import http.server
import threading
import urllib.error
from collections.abc import Iterator
from typing import ClassVar

import pytest

from groot_ops.deploy_fetch import (
    HubAuthError,
    HubClient,
    HubFetchError,
    HubNotFound,
    _retry_after_s,
    remote_file,
)


def http_error(code: int, **headers: str) -> urllib.error.HTTPError:
    msg = email.message.Message()
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    return urllib.error.HTTPError("http://hub/x", code, "err", msg, None)


def flaky(*errors: BaseException):
    calls = {"n": 0}

    def func():
        calls["n"] += 1
        if calls["n"] <= len(errors):
            raise errors[calls["n"] - 1]
        return "ok"

    return func, calls


def test_429_waits_as_long_as_retry_after_says() -> None:
    waits: list[float] = []
    client = HubClient(endpoint="http://hub", backoff_s=1.0, sleep=waits.append)
    func, calls = flaky(http_error(429, Retry_After="120"), http_error(503), ConnectionResetError("reset"))
    assert client.call("resolve main", "org/m", func) == "ok"
    assert calls["n"] == 4
    assert waits == [120.0, 2.0, 4.0]  # Retry-After first, then the doubling backoff
    assert "HTTP 429" in client.retries[0] and "in 120s" in client.retries[0]


def test_the_budget_ends_in_an_error_naming_endpoint_and_repo() -> None:
    client = HubClient(endpoint="http://hub", max_retries=2, sleep=lambda s: None)
    func, calls = flaky(*[http_error(500)] * 5)
    with pytest.raises(
        HubFetchError, match=r"the Hub at http://hub still fails for org/m after 2 retries \(HTTP 500\)"
    ):
        client.call("list files", "org/m", func)
    assert calls["n"] == 3


def test_auth_and_not_found_fail_at_once() -> None:
    client = HubClient(
        endpoint="http://hub", token="hf_secret_token_value", sleep=lambda s: pytest.fail("slept")
    )
    with pytest.raises(HubAuthError, match="refused access to org/m at http://hub") as denied:
        client.call("resolve main", "org/m", flaky(http_error(401))[0])
    assert "hf_secret" not in str(denied.value)
    with pytest.raises(HubNotFound, match="revision not found"):
        client.call("resolve v9", "org/m", flaky(http_error(404, X_Error_Code="RevisionNotFound"))[0])
    with pytest.raises(HubNotFound, match="model repo org/m at http://hub not found"):
        client.call("resolve main", "org/m", flaky(http_error(404, X_Error_Code="RepoNotFound"))[0])


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert _retry_after_s("7") == 7.0
    assert _retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert _retry_after_s(None) is None and _retry_after_s("soon") is None


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../b", "a//b", ".groot_ops/x.json", "a\\b"])
def test_unsafe_tree_paths_are_refused(path: str) -> None:
    with pytest.raises(HubFetchError):
        remote_file({"type": "file", "path": path, "size": 1, "oid": "0" * 40})


def test_lfs_entries_carry_sha256_and_regular_ones_the_git_oid() -> None:
    lfs = remote_file(
        {"path": "m.safetensors", "size": 9, "oid": "1" * 40, "lfs": {"oid": "f" * 64, "size": 9}}
    )
    assert (lfs.algo, lfs.digest) == ("sha256", "f" * 64)
    plain = remote_file({"path": "config.json", "size": 3, "oid": "1" * 40})
    assert (plain.algo, plain.digest) == ("git-sha1", "1" * 40)


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[int, str | None]]] = []
    redirect_to = ""

    def do_GET(self) -> None:
        type(self).seen.append((self.server.server_address[1], self.headers.get("Authorization")))
        if self.redirect_to and self.path.startswith("/org/m/resolve/"):
            self.send_response(302)
            self.send_header("Location", f"{self.redirect_to}/blob")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


@pytest.fixture
def two_hosts() -> Iterator[tuple[str, str]]:
    class Hub(_Recorder):
        pass

    class Cdn(_Recorder):
        pass

    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), h) for h in (Hub, Cdn)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    hub_url, cdn_url = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
    Hub.redirect_to = cdn_url
    _Recorder.seen = []
    yield hub_url, cdn_url
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_token_never_follows_a_redirect_to_another_host(two_hosts, tmp_path) -> None:
    import hashlib

    hub_url, cdn_url = two_hosts
    client = HubClient(endpoint=hub_url, token="hf_secret_token_value", sleep=lambda s: None)
    digest = hashlib.sha256(b"hello").hexdigest()
    remote = remote_file({"path": "w.bin", "size": 5, "oid": "0" * 40, "lfs": {"oid": digest, "size": 5}})
    assert client.download("org/m", "c" * 40, remote, tmp_path / "w.bin.part") == digest
    hub_port, cdn_port = (int(u.rsplit(":", 1)[1]) for u in (hub_url, cdn_url))
    assert (hub_port, "Bearer hf_secret_token_value") in _Recorder.seen
    assert (cdn_port, None) in _Recorder.seen
    assert not [auth for port, auth in _Recorder.seen if port == cdn_port and auth]


def test_an_answer_that_is_not_json_is_named(two_hosts) -> None:
    hub_url, _ = two_hosts
    with pytest.raises(HubFetchError, match="answered something that is not JSON"):
        HubClient(endpoint=hub_url, sleep=lambda s: None).resolve("org/m", "main")
