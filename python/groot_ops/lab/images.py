"""Build the lab's images locally (no registry pulls); Docker's layer cache makes rebuilds cheap."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from groot_ops.errors import GrootOpsError
from groot_ops.lab import layout
from groot_ops.lab.docker import docker
from groot_ops.lab.layout import LabPaths

BASE_IMAGE = "groot-ops-base:bookworm"


# The images the roles run are built by their owners' scripts (tests/images/build-<name>.sh, each
# printing the image it made); the lab runs whichever have landed.
ROLE_IMAGE_SCRIPTS = "tests/images/build-*.sh"
WORKSTATION_IMAGE = "groot-ops-lab/workstation:latest"
WORKSTATION_CONTEXT = "tests/images/workstation"


def ensure_base(repo: Path) -> str:
    proc = subprocess.run(
        ["bash", str(repo / "tests/images/build-base.sh")], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise GrootOpsError(f"tests/images/build-base.sh failed: {proc.stderr.strip()}")
    return proc.stdout.strip().splitlines()[-1]


def build(tag: str, context: Path, *, dockerfile: Path | None = None) -> None:
    args = ["build", "--pull=false", "-q", "--label", layout.LABEL, "-t", tag]
    if dockerfile is not None:
        args += ["-f", str(dockerfile)]
    docker([*args, str(context)])


def _stage_hub_context(repo: Path, paths: LabPaths) -> Path:
    # A small context: the whole repo would send the venv and .lab to the engine.
    ctx = paths.root / "build" / "hub"
    shutil.rmtree(ctx, ignore_errors=True)
    src = ctx / "src"
    shutil.copytree(repo / "tests/lab/hub-image", ctx, dirs_exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(repo / "tests/hub_server", src / "tests/hub_server", ignore=ignore)
    (src / "tests/__init__.py").write_text("")
    (src / "tests/lab").mkdir()
    (src / "tests/lab/__init__.py").write_text("")
    shutil.copy2(repo / "tests/lab/hub_service.py", src / "tests/lab/hub_service.py")
    shutil.copytree(repo / "python/groot_ops", src / "python/groot_ops", ignore=ignore)
    return ctx


def build_all(repo: Path, paths: LabPaths) -> list[str]:
    """Build every lab image; returns the tags built (optional ones only when present)."""
    ensure_base(repo)
    built = []
    build(layout.HOST_IMAGE, repo / "tests/images/lab-host")
    built.append(layout.HOST_IMAGE)
    build(layout.HUB_IMAGE, _stage_hub_context(repo, paths))
    built.append(layout.HUB_IMAGE)
    # The dm-workstation stand-in ships a Dockerfile only; the lab inventory names this tag.
    if (repo / WORKSTATION_CONTEXT / "Dockerfile").exists():
        build(WORKSTATION_IMAGE, repo / WORKSTATION_CONTEXT)
        built.append(WORKSTATION_IMAGE)
    for script in sorted(repo.glob(ROLE_IMAGE_SCRIPTS)):
        if script.name == "build-base.sh":
            continue
        built.append(_run_build_script(script))
    return built


def _run_build_script(script: Path) -> str:
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise GrootOpsError(f"{script.name} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if lines else script.name
