"""The server image: upstream's Dockerfile per architecture, a tag per commit, a detached build that
outlives the caller, reported until it is done; a fake docker CLI stands in for the engine here (the lab
builds the real image with the real engine)."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from groot_ops import serverimage
from groot_ops.errors import ConfigError
from tests.unit.modules.harness import run_module

COMMIT = "5dc80c4afd726b34faad1d8f7e007a13b34e4c88"
UPSTREAM = Path("/work/upstream")


@pytest.mark.parametrize(
    ("arch", "profile", "dockerfile"),
    [
        ("aarch64", "auto", "scripts/deployment/spark/Dockerfile"),
        ("arm64", "auto", "scripts/deployment/spark/Dockerfile"),
        ("x86_64", "auto", "docker/Dockerfile"),
        ("aarch64", "default", "docker/Dockerfile"),  # a GB200 is aarch64 too
    ],
)
def test_upstream_dockerfile_per_architecture(arch: str, profile: str, dockerfile: str) -> None:
    plan = serverimage.build_plan(context="/srv/Isaac-GR00T", commit=COMMIT, arch=arch, profile=profile)
    assert plan.dockerfile == f"/srv/Isaac-GR00T/{dockerfile}"
    assert plan.image == f"groot-server:{plan.profile}-{COMMIT}"
    assert plan.argv == [
        "docker", "build", "--network", "host", "-f", plan.dockerfile, "-t", plan.image,
        "--label", f"org.groot-ops.isaac-groot-commit={COMMIT}",
        "--label", f"org.groot-ops.dockerfile={dockerfile}",
        "/srv/Isaac-GR00T",
    ]  # fmt: skip
    assert plan.env == {"DOCKER_BUILDKIT": "1"}


def test_the_dockerfiles_exist_where_upstream_and_the_stand_in_keep_them() -> None:
    standin = Path(__file__).resolve().parents[2] / "standins" / "isaac_groot"
    roots = [standin] + ([UPSTREAM] if (UPSTREAM / "docker").is_dir() else [])
    for root in roots:
        for path in serverimage.DOCKERFILES.values():
            assert (root / path).is_file(), root / path


def test_unknown_architecture_and_bad_commit_are_named() -> None:
    with pytest.raises(ConfigError, match="no upstream Dockerfile for architecture 'riscv64'"):
        serverimage.build_plan(context="/c", commit=COMMIT, arch="riscv64")
    with pytest.raises(ConfigError, match="40 hex digits"):
        serverimage.build_plan(context="/c", commit="n1.6.1-release", arch="x86_64")
    with pytest.raises(ConfigError, match="groot_server_image_profile"):
        serverimage.profile_for("x86_64", "thor")


def _fake_docker(tmp_path: Path, *, build_s: float, rc: int) -> Path:
    """A docker CLI whose `build` sleeps, then records the tag (or fails); `image inspect` reads it."""
    images = tmp_path / "images"
    images.mkdir()
    exe = tmp_path / "docker"
    exe.write_text(
        "#!/bin/sh\n"
        f'images="{images}"\n'
        'if [ "$1" = image ] && [ "$2" = inspect ]; then\n'
        "  for last; do :; done\n"
        '  f="$images/$(echo "$last" | tr /: __)"\n'
        '  [ -f "$f" ] && { echo sha256:1; exit 0; }\n'
        '  echo "Error: No such image: $last" >&2; exit 1\n'
        "fi\n"
        'if [ "$1" = build ]; then\n'
        '  shift; tag=""\n'
        '  while [ $# -gt 0 ]; do [ "$1" = -t ] && tag=$2; shift; done\n'
        f'  echo "step 1/2: building $tag (DOCKER_BUILDKIT=$DOCKER_BUILDKIT)"; sleep {build_s}\n'
        f'  if [ {rc} -ne 0 ]; then echo "ERROR: failed to solve: apt-get install exit 100"; exit {rc}; fi\n'
        '  touch "$images/$(echo "$tag" | tr /: __)"; echo done; exit 0\n'
        "fi\n"
        "exit 2\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def _runner(argv: Sequence[str]) -> tuple[int, str, str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def _wait(plan: serverimage.BuildPlan, logs: Path, docker: str) -> dict:
    for _ in range(100):
        result = serverimage.ensure_image(plan, log_root=str(logs), run=_runner, wait=True, docker=docker)
        if result["exists"]:
            return result
        time.sleep(0.1)
    raise AssertionError("the build never finished")


def test_detached_build_runs_once_and_is_followed_to_the_end(tmp_path: Path) -> None:
    docker = str(_fake_docker(tmp_path, build_s=1.0, rc=0))
    plan = serverimage.build_plan(context=str(tmp_path), commit=COMMIT, arch="aarch64", docker=docker)
    logs = tmp_path / "builds"
    planned = serverimage.ensure_image(plan, log_root=str(logs), run=_runner, check=True, docker=docker)
    assert planned["changed"] and planned["would_build"] and not logs.exists()

    started = serverimage.ensure_image(plan, log_root=str(logs), run=_runner, docker=docker)
    assert started["started"] and started["changed"] and started["build"]["state"] == "running"
    pid = started["build"]["pid"]
    # A second call while it runs follows the same build instead of starting another.
    again = serverimage.ensure_image(plan, log_root=str(logs), run=_runner, docker=docker)
    assert not again["started"] and again["build"]["pid"] == pid
    # The build is its own session: it survives the caller (an SSH session ending).
    assert os.getsid(pid) == pid

    done = _wait(plan, logs, docker)
    assert done["build"]["state"] == "succeeded" and done["build"]["exit_code"] == 0
    log = Path(done["build"]["log"]).read_text()
    assert f"building {plan.image} (DOCKER_BUILDKIT=1)" in log
    # Present now: nothing to do, also in check mode.
    assert serverimage.ensure_image(plan, log_root=str(logs), run=_runner, docker=docker)["changed"] is False
    assert (
        serverimage.ensure_image(plan, log_root=str(logs), run=_runner, check=True, docker=docker)["changed"]
        is False
    )


def test_failed_build_fails_the_wait_with_its_log_and_a_rerun_retries(tmp_path: Path) -> None:
    docker = str(_fake_docker(tmp_path, build_s=0.2, rc=100))
    plan = serverimage.build_plan(context=str(tmp_path), commit=COMMIT, arch="x86_64", docker=docker)
    logs = tmp_path / "builds"
    serverimage.ensure_image(plan, log_root=str(logs), run=_runner, docker=docker)
    with pytest.raises(
        ConfigError, match=r"(?s)building groot-server:default-.* failed \(exit 100\).*apt-get"
    ):
        _wait(plan, logs, docker)
    retried = serverimage.ensure_image(plan, log_root=str(logs), run=_runner, docker=docker)
    assert retried["started"]


def test_module_in_check_mode_reports_the_build(tmp_path: Path) -> None:
    docker = str(_fake_docker(tmp_path, build_s=0.1, rc=0))
    machine = os.uname().machine
    args = {"context": str(tmp_path / "Isaac-GR00T"), "commit": COMMIT, "docker": docker, "profile": "spark",
            "log_root": str(tmp_path / "builds")}  # fmt: skip
    result = run_module("groot_server_image", args, check=True)
    assert result["changed"] and result["would_build"] and not result["exists"]
    assert result["image"] == f"groot-server:spark-{COMMIT}"
    assert result["dockerfile"].endswith("scripts/deployment/spark/Dockerfile")
    assert result["arch"] == machine  # read by the module itself: no uname task
    assert not (tmp_path / "builds").exists()
    same = run_module("groot_server_image", {**args, "arch": machine}, check=True)
    assert not same.get("failed") and same["arch"] == machine
    other = "aarch64" if machine != "aarch64" else "x86_64"
    wrong = run_module("groot_server_image", {**args, "arch": other}, check=True)
    assert wrong["failed"] and f"is {machine}, the inventory says groot_server_arch: {other}" in wrong["msg"]


def test_host_arch_is_the_machine_unless_the_inventory_says_another() -> None:
    assert serverimage.host_arch("auto", machine="aarch64") == "aarch64"
    assert serverimage.host_arch("x86_64", machine="x86_64") == "x86_64"
    with pytest.raises(ConfigError, match="spark is aarch64, the inventory says groot_server_arch: x86_64"):
        serverimage.host_arch("x86_64", machine="aarch64", host="spark")
