"""The groot-server image, built on the inference host from the pinned Isaac-GR00T checkout.

Upstream builds its images from the repository root with its own Dockerfile per platform
(``docker/build.sh``: ``docker build --network host -f <Dockerfile> -t <name> <repo root>``, with
BuildKit): ``docker/Dockerfile`` for x86_64 (and GB200) and ``scripts/deployment/spark/Dockerfile`` for
DGX Spark (aarch64, CUDA 13, its own pyproject and lock). This module picks the Dockerfile for the
host's architecture, tags the image with the checkout's commit (so it is rebuilt exactly when the
commit changes) and runs the build detached on the host: a Spark build compiles flash-attn and
torchcodec and takes far longer than an SSH session should be trusted with, and the docker CLI
cancels a BuildKit build when it dies. The build writes ``build.log``, ``pid`` and ``exit_code`` into a
directory per image; later calls report on it.

Standard library only: the ``groot_server_image`` module ships this file to the inference host
(``module_utils/groot_ops_serverimage.py``), which has Docker and Python but not groot_ops.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from groot_ops.errors import ConfigError
except ImportError:  # shipped as Ansible module_utils: groot_ops is not installed on the host

    class ConfigError(ValueError):  # type: ignore[no-redef]
        pass


# Upstream docker/build.sh: --profile=spark -> scripts/deployment/spark/Dockerfile, else docker/Dockerfile.
DOCKERFILES: dict[str, str] = {
    "default": "docker/Dockerfile",
    "spark": "scripts/deployment/spark/Dockerfile",
}
# `uname -m` (and Docker's names) -> profile. DGX Spark is the aarch64 inference host of this project;
# a GB200 (also aarch64) takes docker/Dockerfile: say groot_server_image_profile: default.
ARCH_PROFILES: dict[str, str] = {
    "aarch64": "spark",
    "arm64": "spark",
    "x86_64": "default",
    "amd64": "default",
}
COMMIT = re.compile(r"^[0-9a-f]{40}$")
LABEL_COMMIT = "org.groot-ops.isaac-groot-commit"
LABEL_DOCKERFILE = "org.groot-ops.dockerfile"

Runner = Callable[[Sequence[str]], tuple[int, str, str]]


def profile_for(arch: str, profile: str = "auto") -> str:
    """The upstream build profile for an architecture (``auto``) or the one asked for."""
    if profile != "auto":
        if profile not in DOCKERFILES:
            raise ConfigError(
                f"groot_server_image_profile must be auto or one of {sorted(DOCKERFILES)}, got {profile!r}"
            )
        return profile
    try:
        return ARCH_PROFILES[arch]
    except KeyError:
        raise ConfigError(
            f"no upstream Dockerfile for architecture {arch!r} (known: {', '.join(sorted(ARCH_PROFILES))}); "
            "set groot_server_image_profile or name an image in groot_server_image"
        ) from None


def host_arch(expected: str = "auto", *, machine: str | None = None, host: str = "this host") -> str:
    """The host's architecture (``uname -m``), refused when the inventory says another (``groot_server_arch``:
    it decides the Dockerfile that ``groot-ops render`` shows offline, so a wrong one must not build)."""
    actual = machine if machine is not None else os.uname().machine
    if expected not in ("auto", "", actual):
        raise ConfigError(
            f"{host} is {actual}, the inventory says groot_server_arch: {expected}; "
            "fix the inventory (it decides the Dockerfile the render shows)."
        )
    return actual


def image_tag(name: str, profile: str, commit: str) -> str:
    """``<name>:<profile>-<commit>``: one image per checkout commit and Dockerfile."""
    if not COMMIT.match(commit):
        raise ConfigError(
            f"the Isaac-GR00T commit (groot_isaac_groot_commit) must be 40 hex digits, got {commit!r}"
        )
    return f"{name}:{profile}-{commit}"


@dataclass(frozen=True)
class BuildPlan:
    image: str
    profile: str
    arch: str
    commit: str
    context: str
    dockerfile: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "profile": self.profile,
            "arch": self.arch,
            "commit": self.commit,
            "context": self.context,
            "dockerfile": self.dockerfile,
            "argv": list(self.argv),
            "env": dict(self.env),
        }


def build_plan(
    *,
    context: str,
    commit: str,
    arch: str,
    profile: str = "auto",
    name: str = "groot-server",
    network: str = "host",
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    docker: str = "docker",
) -> BuildPlan:
    """The build command of a checkout: upstream's Dockerfile for the architecture, repo root as context."""
    chosen = profile_for(arch, profile)
    image = image_tag(name, chosen, commit)
    dockerfile = str(Path(context) / DOCKERFILES[chosen])
    argv = [docker, "build"]
    if network:
        argv += ["--network", network]
    argv += ["-f", dockerfile, "-t", image]
    argv += ["--label", f"{LABEL_COMMIT}={commit}", "--label", f"{LABEL_DOCKERFILE}={DOCKERFILES[chosen]}"]
    for key in sorted(labels or {}):
        argv += ["--label", f"{key}={(labels or {})[key]}"]
    for key in sorted(build_args or {}):
        argv += ["--build-arg", f"{key}={(build_args or {})[key]}"]
    argv.append(context)
    # upstream's Dockerfiles use BuildKit features (heredocs, cache mounts in docker/Dockerfile).
    return BuildPlan(
        image=image,
        profile=chosen,
        arch=arch,
        commit=commit,
        context=context,
        dockerfile=dockerfile,
        argv=argv,
        env={"DOCKER_BUILDKIT": "1"},
    )


def build_dir(log_root: str, image: str) -> Path:
    return Path(log_root) / re.sub(r"[^A-Za-z0-9_.-]+", "_", image)


def image_exists(image: str, run: Runner, *, docker: str = "docker") -> bool:
    rc, _, err = run([docker, "image", "inspect", "--format", "{{.Id}}", image])
    if rc != 0 and "No such" not in err and "no such" not in err.lower():
        raise ConfigError(
            f"`{docker} image inspect {image}` failed (is the docker CLI installed and usable?): "
            f"{err.strip()}"
        )
    return rc == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def build_status(directory: Path) -> dict[str, Any]:
    """``state``: none | running | failed | succeeded, with the exit code and the log's tail."""
    if not directory.is_dir():
        return {"state": "none"}
    rc_file, pid_file, log = directory / "exit_code", directory / "pid", directory / "build.log"
    tail = log.read_text(errors="replace").splitlines()[-40:] if log.exists() else []
    if rc_file.exists():
        try:
            code = int(rc_file.read_text().strip())
        except ValueError:
            code = -1
        return {
            "state": "succeeded" if code == 0 else "failed",
            "exit_code": code,
            "log": str(log),
            "tail": tail,
        }
    if pid_file.exists():
        try:
            pid = int(pid_file.read_text().strip())
        except ValueError:
            pid = -1
        if pid > 0 and _pid_alive(pid):
            return {"state": "running", "pid": pid, "log": str(log), "tail": tail}
        return {
            "state": "failed",
            "exit_code": None,
            "log": str(log),
            "tail": [*tail, "(the build process vanished)"],
        }
    return {"state": "none"}


def start_build(plan: BuildPlan, directory: Path) -> int:
    """Start the build in its own session (it outlives the SSH connection); returns its pid."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("exit_code", "pid", "build.log"):
        (directory / name).unlink(missing_ok=True)
    (directory / "build.json").write_text(json.dumps(plan.to_dict(), indent=2) + "\n")
    # The shell records docker's own exit status (no pipe in between) once the build ends.
    script = '"$@" >build.log 2>&1; echo $? >exit_code.tmp && mv exit_code.tmp exit_code'
    env = {**os.environ, **plan.env}
    proc = subprocess.Popen(
        ["sh", "-c", script, "groot-server-image-build", *plan.argv],
        cwd=directory,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    (directory / "pid").write_text(f"{proc.pid}\n")
    return proc.pid


def stop_build(directory: Path) -> None:
    status = build_status(directory)
    if status["state"] == "running":
        os.killpg(status["pid"], signal.SIGTERM)


def ensure_image(
    plan: BuildPlan,
    *,
    log_root: str,
    run: Runner,
    check: bool = False,
    wait: bool = False,
    docker: str = "docker",
) -> dict[str, Any]:
    """Bring the image to present: nothing when the tag exists, else start (or follow) the build.

    ``wait=False`` starts a missing build and returns at once; ``wait=True`` reports the build's state,
    failing when it failed, so that a caller can poll until ``exists``.
    """
    directory = build_dir(log_root, plan.image)
    result: dict[str, Any] = {**plan.to_dict(), "log_dir": str(directory), "changed": False, "started": False}
    if image_exists(plan.image, run, docker=docker):
        result.update(exists=True, build=build_status(directory) if directory.exists() else {"state": "none"})
        return result
    result["exists"] = False
    status = build_status(directory)
    if check:
        result.update(changed=True, build=status, would_build=status["state"] != "running")
        return result
    if status["state"] == "failed" and wait:
        raise ConfigError(_failure(plan, status))
    if status["state"] in ("none", "failed", "succeeded"):
        # succeeded without the tag: someone removed the image since; build again.
        start_build(plan, directory)
        result.update(changed=True, started=True)
        time.sleep(0.5)
        status = build_status(directory)
    result["build"] = status
    if status["state"] == "succeeded":
        result["exists"] = image_exists(plan.image, run, docker=docker)
    elif status["state"] == "failed" and wait:
        raise ConfigError(_failure(plan, status))
    return result


def _failure(plan: BuildPlan, status: Mapping[str, Any]) -> str:
    tail = "\n".join(status.get("tail") or [])[-3000:]
    return (
        f"building {plan.image} from {plan.dockerfile} failed (exit {status.get('exit_code')}); "
        f"log {status.get('log')}:\n{tail}"
    )
