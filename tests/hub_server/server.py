"""HTTP front of the test Hub: routing, auth, request log and fault injection."""

from __future__ import annotations

import base64
import binascii
import collections
import contextlib
import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from tests.hub_server.storage import HubError, Repo, Storage, git_blob_oid, lfs_pointer, wants_lfs

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
# huggingface.co's page sizes for tree listings (the pinned client's _iter_repo_tree_pages says so).
TREE_PAGE_SIZE = 1000
TREE_EXPAND_PAGE_SIZE = 50


@dataclass
class Fault:
    """Answer ``times`` matching requests with ``status`` (or cut the connection mid-body: ``drop``).

    ``for_s``: a storm instead of a count, every matching request answered so until ``for_s`` seconds
    after injection (huggingface.co's rate limits last a window, not a number of requests).
    ``retry_after``: seconds sent as ``Retry-After``; ``ratelimit``: a ``RateLimit`` header value as
    huggingface.co sends it (``'"api";r=0;t=55'``).
    """

    method: str
    path_regex: str
    status: int = 500
    times: int = 1
    mode: str = "status"  # "status" | "drop" | "delay" (answer normally after delay_s)
    hits: int = 0
    for_s: float | None = None
    delay_s: float = 0.0
    retry_after: int | None = None
    ratelimit: str | None = None
    until: float | None = None

    def __post_init__(self) -> None:
        if self.for_s is not None and self.until is None:
            self.until = time.monotonic() + self.for_s

    def active(self) -> bool:
        if self.until is not None:
            return time.monotonic() < self.until
        return self.times > 0

    def matches(self, method: str, path: str) -> bool:
        return self.active() and self.method in (method, "*") and re.search(self.path_regex, path) is not None

    def headers(self) -> dict[str, str]:
        found = {}
        if self.retry_after is not None:
            found["Retry-After"] = str(self.retry_after)
        if self.ratelimit is not None:
            found["RateLimit"] = self.ratelimit
        return found


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    body_bytes: int
    status: int = 0
    sent_bytes: int = 0
    authorized: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _summarize(body: bytes, content_type: str) -> Any:
    """A JSON-able summary of a request body; file contents never enter the log."""
    if not body:
        return None
    if "ndjson" in content_type:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        for line in lines:
            value = line.get("value", {})
            if isinstance(value, dict) and "content" in value:
                value["content"] = f"<{len(value['content'])} b64 chars>"
        return lines
    if "json" in content_type:
        try:
            parsed = json.loads(body)
        except ValueError:
            return f"<{len(body)} bytes, invalid json>"
        if isinstance(parsed, dict) and isinstance(parsed.get("files"), list):
            for item in parsed["files"]:
                if isinstance(item, dict) and "sample" in item:
                    item["sample"] = "<sample>"
        return parsed
    return f"<{len(body)} bytes>"


def _encode_cursor(commit: str, offset: int, scope: str) -> str:
    raw = json.dumps({"commit": commit, "offset": offset, "scope": scope}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[str, int, str]:
    """(commit, offset, scope) of a cursor this server issued; anything else is a 400."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HubError(400, "Invalid cursor: not a cursor returned by this server") from None
    if not isinstance(data, dict):
        raise HubError(400, "Invalid cursor: not a cursor returned by this server")
    commit, offset, scope = data.get("commit"), data.get("offset"), data.get("scope")
    if (
        not isinstance(commit, str)
        or not isinstance(scope, str)
        or isinstance(offset, bool)
        or not isinstance(offset, int)
    ):
        raise HubError(400, "Invalid cursor: not a cursor returned by this server")
    return commit, offset, scope


class HubServer:
    """A loopback Hub. ``with HubServer(root, tokens={...}) as hub: hub.url``."""

    def __init__(
        self,
        root: str | Path,
        *,
        tokens: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        xet_cas_dir: str | Path | None = None,
        read_only_tokens: set[str] | frozenset[str] = frozenset(),
        max_recorded: int = 50_000,
        tree_page_size: int = TREE_PAGE_SIZE,
    ) -> None:
        self.storage = Storage(Path(root))
        self.tree_page_size = tree_page_size
        # token -> user name; every valid token may write except those in read_only_tokens (403).
        self.tokens = dict(tokens or {})
        self.read_only_tokens = frozenset(read_only_tokens)
        self.xet_cas_dir = Path(xet_cas_dir) if xet_cas_dir else None
        self.faults: list[Fault] = []
        # Bounded so that a long-lived lab Hub does not grow without limit.
        self.requests: collections.deque[RecordedRequest] = collections.deque(maxlen=max_recorded)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.down = False

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def tree_page_size(self) -> int:
        """Entries per tree page (``expand=true`` pages hold at most ``TREE_EXPAND_PAGE_SIZE``).

        Settable on a running server: tests shrink it so that a handful of files spans pages.
        """
        return self._tree_page_size

    @tree_page_size.setter
    def tree_page_size(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"tree_page_size must be a positive integer, got {size!r}")
        self._tree_page_size = size

    def start(self) -> HubServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def go_down(self) -> None:
        """An outage: new connections are refused and open keep-alive connections are cut mid-request."""
        self.down = True
        self.stop()

    def come_back(self) -> None:
        """The end of an outage: the same port, the same repos."""
        host, port = self._httpd.server_address[:2]
        self._httpd = ThreadingHTTPServer((str(host), int(port)), _make_handler(self))
        self._httpd.daemon_threads = True
        self.down = False
        self.start()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test API -------------------------------------------------------------------------------
    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 500,
        times: int = 1,
        mode: str = "status",
        for_s: float | None = None,
        retry_after: int | None = None,
        ratelimit: str | None = None,
        delay_s: float = 0.0,
    ):
        fault = Fault(
            method=method.upper(),
            path_regex=path_regex,
            status=status,
            times=times,
            mode=mode,
            for_s=for_s,
            retry_after=retry_after,
            ratelimit=ratelimit,
            delay_s=delay_s,
        )
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def recorded(self, method: str | None = None, path_regex: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            items = list(self.requests)
        return [
            r
            for r in items
            if (method is None or r.method == method)
            and (path_regex is None or re.search(path_regex, r.path))
        ]

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    fault.hits += 1
                    return fault
        return None

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)


def _make_handler(hub: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_HubHandler):
        server_state = hub

    return Handler


class _HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: HubServer

    def log_message(self, format: str, *args: Any) -> None:  # the request log replaces stderr noise
        return

    # -- plumbing -------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        hub = self.server_state
        if hub.down:
            # A keep-alive connection that outlived the listener: cut it as a dead server would.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        split = urlsplit(self.path)
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        auth = headers.pop("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else None
        if auth:
            headers["authorization"] = "<redacted>"
        self.rec = RecordedRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query),
            headers=headers,
            body=_summarize(body, headers.get("content-type", "")),
            body_bytes=len(body),
            authorized=token in hub.tokens,
        )
        hub.record(self.rec)
        self.token = token
        self.raw_body = body
        self.query = self.rec.query
        self.raw_query = split.query
        fault = hub.take_fault(self.command, split.path)
        if fault is not None and fault.mode == "status":
            self._error(
                HubError(fault.status, f"injected fault {fault.status}"), extra_headers=fault.headers()
            )
            return
        self.drop_after_half = fault is not None and fault.mode == "drop"
        if fault is not None and fault.mode == "delay":
            time.sleep(fault.delay_s)
        try:
            if token is not None and token not in hub.tokens:
                raise HubError(401, "Invalid credentials in Authorization header")
            self._route(split.path)
        except HubError as exc:
            self._error(exc)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _handle

    def _send(
        self, status: int, payload: Any = None, *, raw: bytes | None = None, headers: dict | None = None
    ):
        data = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        self.rec.status = status
        self.send_response(status)
        if raw is None:
            self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if self.drop_after_half and len(data) > 1:
            # Promise the whole body, deliver half, then cut: the client must resume with Range.
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.rec.sent_bytes = len(data) // 2
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data)
        self.rec.sent_bytes = len(data)

    def _error(self, exc: HubError, *, extra_headers: dict[str, str] | None = None) -> None:
        headers = {"X-Error-Message": str(exc), **(extra_headers or {})}
        if exc.code:
            headers["X-Error-Code"] = exc.code
        self.drop_after_half = False
        self._send(exc.status, {"error": str(exc)}, headers=headers)

    def _json(self) -> Any:
        try:
            return json.loads(self.raw_body or b"{}")
        except ValueError as exc:
            raise HubError(400, f"invalid JSON body: {exc}") from None

    def _require_write(self) -> None:
        if self.token is None:
            raise HubError(401, "You must be authenticated to write")
        if self.token in self.server_state.read_only_tokens:
            raise HubError(403, "You don't have the rights to write with this (read) token")

    def _repo(self, repo_type: str, repo_id: str, *, write: bool = False) -> Repo:
        if write:
            self._require_write()
        repo = self.server_state.storage.get(repo_type, repo_id)
        if repo.private and self.token is None:
            raise HubError(401, "Repository Not Found (private, authentication required)", "RepoNotFound")
        return repo

    # -- routing --------------------------------------------------------------------------------
    def _route(self, path: str) -> None:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        method = self.command
        if parts[:1] == ["_test"]:
            return self._test_api(parts[1:])
        if parts[:2] == ["api", "whoami-v2"]:
            if self.token is None:
                raise HubError(401, "You must be authenticated")
            user = self.server_state.tokens[self.token or ""]
            return self._send(
                200, {"type": "user", "name": user, "orgs": [], "auth": {"type": "access_token"}}
            )
        if parts[:2] == ["api", "validate-yaml"]:
            return self._send(200, {})
        if parts[:3] == ["api", "repos", "create"] and method == "POST":
            return self._create_repo()
        if parts[:3] == ["api", "repos", "delete"] and method == "DELETE":
            body = self._json()
            repo_id = f"{body['organization']}/{body['name']}" if body.get("organization") else body["name"]
            repo = self._repo(body.get("type") or "model", repo_id, write=True)
            self.server_state.storage.delete_repo(repo)
            return self._send(200, {})
        if parts[:3] == ["api", "repos", "move"] and method == "POST":
            body = self._json()
            repo = self._repo(body.get("type") or "model", body["fromRepo"], write=True)
            self.server_state.storage.move_repo(repo, body["toRepo"])
            return self._send(200, {})
        if parts[0] == "api" and len(parts) >= 4 and parts[1] in REPO_TYPES:
            return self._repo_api(REPO_TYPES[parts[1]], f"{parts[2]}/{parts[3]}", parts[4:])
        repo_type = "model"
        if parts[0] in ("datasets", "spaces"):
            repo_type, parts = REPO_TYPES[parts[0]], parts[1:]
        if len(parts) >= 2 and parts[1].endswith(".git") and parts[2:] == ["info", "lfs", "objects", "batch"]:
            return self._lfs_batch(repo_type, f"{parts[0]}/{parts[1][:-4]}")
        if len(parts) >= 5 and parts[2] == "resolve":
            return self._resolve(repo_type, f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]))
        if parts[:1] == ["_lfs"] and method == "PUT" and len(parts) == 2:
            return self._lfs_put(parts[1])
        raise HubError(404, f"no route for {method} {path}")

    def _test_api(self, rest: list[str]) -> None:
        hub = self.server_state
        if rest == ["faults"] and self.command == "POST":
            body = self._json()
            hub.inject(
                body["method"],
                body["path_regex"],
                status=int(body.get("status", 500)),
                times=int(body.get("times", 1)),
                mode=body.get("mode", "status"),
                for_s=float(body["for_s"]) if body.get("for_s") is not None else None,
                retry_after=int(body["retry_after"]) if body.get("retry_after") is not None else None,
                ratelimit=body.get("ratelimit"),
                delay_s=float(body.get("delay_s", 0.0)),
            )
            return self._send(200, {"ok": True})
        if rest == ["faults"] and self.command == "DELETE":
            hub.clear_faults()
            return self._send(200, {"ok": True})
        if rest == ["requests"] and self.command == "GET":
            return self._send(200, [r.as_dict() for r in hub.recorded() if r is not self.rec])
        if rest == ["requests"] and self.command == "DELETE":
            hub.clear_requests()
            return self._send(200, {"ok": True})
        raise HubError(404, f"unknown test endpoint {'/'.join(rest)}")

    def _create_repo(self) -> None:
        self._require_write()
        body = self._json()
        name = body["name"]
        repo_id = f"{body['organization']}/{name}" if body.get("organization") else name
        if "/" not in repo_id:
            repo_id = f"{self.server_state.tokens[self.token or '']}/{repo_id}"
        repo_type = body.get("type") or "model"
        private = bool(body.get("private")) or body.get("visibility") == "private"
        _, created = self.server_state.storage.create(repo_type, repo_id, private)
        url = f"{self.server_state.url}/{URL_PREFIX[repo_type]}{repo_id}"
        if not created:
            return self._send(409, {"error": "You already created this repo", "url": url})
        return self._send(200, {"url": url, "name": repo_id})

    def _repo_api(self, repo_type: str, repo_id: str, rest: list[str]) -> None:
        method = self.command
        action = rest[0] if rest else ""
        if action == "preupload" and method == "POST":
            return self._preupload(self._repo(repo_type, repo_id, write=True), "/".join(rest[1:]))
        if action == "commit" and method == "POST":
            return self._commit(self._repo(repo_type, repo_id, write=True), "/".join(rest[1:]))
        if action == "tag" and method == "POST":
            repo = self._repo(repo_type, repo_id, write=True)
            commit = repo.resolve("/".join(rest[1:]))
            self.server_state.storage.set_ref(repo, "tag", self._json()["tag"], commit)
            return self._send(200, {})
        if action == "branch" and method == "POST":
            repo = self._repo(repo_type, repo_id, write=True)
            start = self._json().get("startingPoint") or "main"
            self.server_state.storage.set_ref(repo, "branch", "/".join(rest[1:]), repo.resolve(start))
            return self._send(200, {})
        if action == "xet-write-token" and method == "GET":
            self._repo(repo_type, repo_id, write=True)
            return self._xet_token()
        repo = self._repo(repo_type, repo_id)
        if action in ("", "revision") and method == "GET":
            revision = "/".join(rest[1:]) or "main"
            return self._send(200, self._repo_info(repo, repo.resolve(revision)))
        if action == "tree" and method == "GET":
            return self._tree(repo, rest[1], "/".join(rest[2:]))
        if action == "refs" and method == "GET":
            return self._send(200, self._refs(repo))
        raise HubError(404, f"no route for {method} /api/{repo_type}s/{repo_id}/{'/'.join(rest)}")

    # -- read side ------------------------------------------------------------------------------
    def _repo_info(self, repo: Repo, commit: str) -> dict[str, Any]:
        files = repo.files(commit)
        return {
            "id": repo.repo_id,
            "_id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit,
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "lastModified": time.strftime(
                "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(repo.commits[commit]["time"])
            ),
            "siblings": [{"rfilename": p} for p in sorted(files)],
        }

    def _refs(self, repo: Repo) -> dict[str, Any]:
        def refs(kind: str, items: dict[str, str]) -> list[dict[str, str]]:
            return [
                {"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": c} for n, c in sorted(items.items())
            ]

        return {"branches": refs("heads", repo.branches), "tags": refs("tags", repo.tags), "converts": []}

    def _tree(self, repo: Repo, revision: str, prefix: str) -> None:
        pairs = parse_qsl(self.raw_query, keep_blank_values=True)
        flags: dict[str, bool] = {}
        for key, value in pairs:
            if key in ("recursive", "expand"):
                flags.setdefault(key, value.lower() in ("true", "1"))
        recursive, expand = flags.get("recursive", False), flags.get("expand", False)
        base = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # A cursor only fits the listing it came from: same repo, revision as asked, path, recursion.
        scope = hashlib.sha256(
            json.dumps([repo.repo_type, repo.repo_id, revision, base, recursive]).encode()
        ).hexdigest()[:16]
        cursors = [v for k, v in pairs if k == "cursor"]
        if cursors:
            # The cursor pins the commit of the first page: a push to the branch between two
            # pages cannot mix two trees, and the offset stays meaningful.
            commit, offset, cursor_scope = _decode_cursor(cursors[-1])
            if cursor_scope != scope or commit not in repo.commits:
                raise HubError(400, "Invalid cursor: it belongs to another tree listing")
        else:
            commit, offset = repo.resolve(revision), 0
        entries = self._tree_entries(repo, commit, base, recursive)
        if base and not entries:
            raise HubError(404, f"Entry not found: {prefix}", "EntryNotFound")
        if cursors and not 0 < offset < len(entries):
            raise HubError(400, f"Invalid cursor: offset {offset} is outside this listing")
        size = self.server_state.tree_page_size
        if expand:
            size = min(size, TREE_EXPAND_PAGE_SIZE)
        page = entries[offset : offset + size]
        headers: dict[str, str] = {}
        if offset + size < len(entries):
            rest = [(k, v) for k, v in pairs if k != "cursor"]
            rest.append(("cursor", _encode_cursor(commit, offset + size, scope)))
            next_url = f"{self.server_state.url}{urlsplit(self.path).path}?{urlencode(rest)}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        self.rec.extra["tree_page"] = {"offset": offset, "entries": len(page), "next": bool(headers)}
        self._send(200, page, headers=headers)

    def _tree_entries(self, repo: Repo, commit: str, base: str, recursive: bool) -> list[dict[str, Any]]:
        """The whole listing in page order: files by sorted path, each folder just before its first file."""
        entries: dict[str, dict[str, Any]] = {}
        for path, meta in sorted(repo.files(commit).items()):
            if not path.startswith(base):
                continue
            rel = path[len(base) :].split("/")
            for depth in range(1, len(rel)):
                folder = base + "/".join(rel[:depth])
                if recursive or depth == 1:
                    entries.setdefault(
                        folder,
                        {
                            "type": "directory",
                            "oid": git_blob_oid(folder.encode()),
                            "size": 0,
                            "path": folder,
                        },
                    )
                if not recursive:
                    break
            if recursive or len(rel) == 1:
                entry: dict[str, Any] = {
                    "type": "file",
                    "oid": meta["oid"],
                    "size": meta["size"],
                    "path": path,
                }
                if meta["lfs"]:
                    pointer = lfs_pointer(meta["lfs"], meta["size"])
                    entry["lfs"] = {"oid": meta["lfs"], "size": meta["size"], "pointerSize": len(pointer)}
                entries[path] = entry
        return list(entries.values())

    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        repo = self._repo(repo_type, repo_id)
        commit = repo.resolve(revision)
        meta = repo.files(commit).get(path)
        if meta is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        blob_key = meta["lfs"] or meta["oid"]
        data = self.server_state.storage.read_object(blob_key)
        headers = {"X-Repo-Commit": commit, "ETag": f'"{blob_key}"', "Accept-Ranges": "bytes"}
        if meta["lfs"]:
            headers["X-Linked-Etag"] = f'"{meta["lfs"]}"'
            headers["X-Linked-Size"] = str(meta["size"])
        status = 200
        match = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            if start >= len(data):
                headers["Content-Range"] = f"bytes */{len(data)}"
                return self._send(416, raw=b"", headers=headers)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start : end + 1], 206
        self.rec.extra["file"] = path
        self._send(status, raw=data, headers=headers)

    # -- write side -----------------------------------------------------------------------------
    def _preupload(self, repo: Repo, revision: str) -> None:
        try:
            files = repo.files(repo.resolve(revision))
        except HubError:
            files = {}
        answer = []
        for item in self._json().get("files", []):
            sample = base64.b64decode(item.get("sample", ""))
            mode = "lfs" if wants_lfs(item["path"], int(item.get("size", 0)), sample) else "regular"
            entry: dict[str, Any] = {"path": item["path"], "uploadMode": mode, "shouldIgnore": False}
            existing = files.get(item["path"])
            if existing is not None:
                # The client compares this with its local oid (sha256 for LFS, git sha1 otherwise).
                entry["oid"] = existing["lfs"] or existing["oid"]
            answer.append(entry)
        self._send(200, {"files": answer})

    def _lfs_batch(self, repo_type: str, repo_id: str) -> None:
        self._repo(repo_type, repo_id, write=True)
        objects = []
        for obj in self._json().get("objects", []):
            entry: dict[str, Any] = {"oid": obj["oid"], "size": int(obj["size"])}
            if not self.server_state.storage.has_object(obj["oid"]):
                entry["actions"] = {"upload": {"href": f"{self.server_state.url}/_lfs/{obj['oid']}"}}
            objects.append(entry)
        self._send(200, {"transfer": "basic", "objects": objects})

    def _lfs_put(self, oid: str) -> None:
        import hashlib

        if hashlib.sha256(self.raw_body).hexdigest() != oid:
            raise HubError(400, f"sha256 of the uploaded bytes does not match {oid}")
        self.server_state.storage.put_object(oid, self.raw_body)
        self._send(200, {})

    def _xet_token(self) -> None:
        cas = self.server_state.xet_cas_dir
        if cas is None:
            raise HubError(
                400,
                "this test Hub has no Xet CAS (start it with xet_cas_dir / --xet-cas-dir) - "
                "or set HF_HUB_DISABLE_XET=1 on the client to upload through LFS",
            )
        exp = int(time.time()) + 3600
        url = f"local://{cas}"
        headers = {"X-Xet-Cas-Url": url, "X-Xet-Access-Token": "xet-local", "X-Xet-Token-Expiration": exp}
        self._send(200, {"casUrl": url, "accessToken": "xet-local", "exp": exp}, headers=headers)

    def _commit(self, repo: Repo, revision: str) -> None:
        regular: dict[str, bytes] = {}
        lfs: dict[str, tuple[str, int]] = {}
        deleted_files: list[str] = []
        deleted_folders: list[str] = []
        header: dict[str, Any] = {}
        for line in self.raw_body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                header = value
            elif key == "file":
                regular[value["path"]] = base64.b64decode(value["content"])
            elif key == "lfsFile":
                lfs[value["path"]] = (value["oid"], int(value["size"]))
            elif key == "deletedFile":
                deleted_files.append(value["path"])
            elif key == "deletedFolder":
                deleted_folders.append(value["path"])
            else:
                raise HubError(400, f"unsupported commit operation {key}")
        oid = self.server_state.storage.commit(
            repo,
            revision,
            message=header.get("summary", ""),
            parent=header.get("parentCommit"),
            regular=regular,
            lfs=lfs,
            deleted_files=deleted_files,
            deleted_folders=deleted_folders,
            allow_missing_lfs=self.server_state.xet_cas_dir is not None,
        )
        self.rec.extra["commit"] = oid
        url = f"{self.server_state.url}/{URL_PREFIX[repo.repo_type]}{repo.repo_id}/commit/{oid}"
        self._send(200, {"success": True, "commitOid": oid, "commitUrl": url})
