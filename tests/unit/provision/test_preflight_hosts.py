"""Preflight checks for the real hosts: the NVIDIA container toolkit, the inference host's architecture,
the Hub answering, and the GPUs against the torch build the env installs."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from groot_ops import gpu, preflight

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _facts(csv: Path) -> dict:
    return gpu.summarize(gpu.parse_query_gpu_csv(csv.read_text()), cuda_version="13.0")


def test_toolkit_found_or_named_with_its_fix() -> None:
    found = preflight.toolkit_check({}, which=lambda exe: f"/usr/bin/{exe}" if exe == "nvidia-ctk" else None)
    assert found["ok"] and "nvidia-ctk" in found["observed"]
    missing = preflight.toolkit_check({"require_gpu": True}, which=lambda exe: None)
    if missing["ok"]:
        pytest.skip("this machine has the NVIDIA container toolkit installed")
    assert missing["severity"] == "hard" and "nvidia-ctk runtime configure" in missing["fix"]
    assert preflight.toolkit_check({"require_gpu": False}, which=lambda exe: None)["severity"] == "soft"


def test_architecture_of_the_inference_host() -> None:
    ok = preflight.architecture_check("aarch64", observed="aarch64")
    assert ok["ok"]
    wrong = preflight.architecture_check("aarch64", observed="x86_64")
    assert not wrong["ok"] and wrong["severity"] == "hard"
    assert "says aarch64" in wrong["fix"] and "is x86_64" in wrong["fix"]


class _Hub(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401 if "private" in self.path else 200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_hub_answers_even_with_401(hub_url: str) -> None:
    probe = preflight.hub_reachable(hub_url, repo="nvidia/GR00T-N1.6-3B", timeout=5)
    assert probe["reachable"] and probe["status"] == 200
    assert probe["url"] == f"{hub_url}/api/models/nvidia/GR00T-N1.6-3B"
    assert preflight.hub_reachable(hub_url, repo="org/private", timeout=5)["status"] == 401
    assert preflight.hub_check(probe)["ok"]


def test_unreachable_hub_is_a_hard_failure_with_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    probe = preflight.hub_reachable(f"http://127.0.0.1:{port}", timeout=2)
    assert probe["reachable"] is False and probe["error"]
    result = preflight.hub_check(probe)
    assert not result["ok"] and result["severity"] == "hard"
    assert f"127.0.0.1:{port}/api/models/" in result["required"] and "HTTPS_PROXY" in result["fix"]


def test_gpus_against_the_env_torch_build() -> None:
    h200 = _facts(FIXTURES / "gpu/h200-x1/nvidia-smi-query.csv")
    ok = preflight.torch_arch_check(h200, "2.7.1+cu128", {})
    assert ok["ok"] and ok["observed"]["compute_capabilities"] == ["9.0"]
    v100 = dict(h200, gpus=[dict(h200["gpus"][0], name="Tesla V100-SXM2-32GB", compute_cap="7.0")])
    refused = preflight.torch_arch_check(v100, "2.7.1+cu128", {})
    assert not refused["ok"] and refused["severity"] == "hard"
    assert "compute capability 7.0" in refused["message"]
    unknown = preflight.torch_arch_check(h200, "1.0.0+cu99", {})
    assert not unknown["ok"] and unknown["severity"] == "soft"


def test_run_preflight_wires_the_host_checks(tmp_path: Path, hub_url: str) -> None:
    h100 = _facts(FIXTURES / "nvidia-smi/h100-x1/query-gpu.csv")
    result = preflight.run_preflight(
        gpu=h100,
        requirements={"min_gpu_count": 1},
        paths={"server_models": str(tmp_path)},
        budget=preflight.disk_budget(export_bytes=1024),
        expected_architecture="riscv64",
        hub=preflight.hub_reachable(hub_url, timeout=5),
        torch_build="2.7.1+cu128",
    )
    names = {c["name"]: c["ok"] for c in result["checks"]}
    assert names["host:architecture"] is False and names["hub:reachable"] is True
    assert names["gpu:torch_arch"] is True and names["disk:server_models"] is True
    assert result["failed"] == ["host:architecture"] and result["architecture"]


@pytest.mark.parametrize(
    ("probe", "ok"),
    [
        ({"cli": "20.10.24+dfsg1", "buildx": None}, True),  # DOCKER_BUILDKIT=1 uses the engine's BuildKit
        ({"cli": "28.2.2", "buildx": None}, False),  # 23+ refuses BuildKit without the plugin
        ({"cli": "28.2.2", "buildx": "github.com/docker/buildx v0.20.1"}, True),
        ({"cli": None, "error": "docker not found"}, False),
    ],
)
def test_buildkit_for_the_image_build(probe: dict, ok: bool) -> None:
    result = preflight.buildkit_check(probe)
    assert result["ok"] is ok and result["severity"] == "hard"
    if not ok:
        assert "docker-buildx-plugin" in result["fix"]


@pytest.mark.docker
def test_this_machines_docker_cli_is_probed() -> None:
    probe = preflight.docker_cli_buildkit()
    assert probe["cli"] and probe["cli"][0].isdigit()
    assert preflight.buildkit_check(probe)["ok"] is (
        bool(probe["buildx"]) or not preflight.version_at_least(probe["cli"], "23.0")
    )
