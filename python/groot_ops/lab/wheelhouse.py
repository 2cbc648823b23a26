"""The lab's offline wheelhouse: everything the training env installs, fetched on the controller.

Trainers sit on an internal network with no index; they install with ``--no-index --find-links``
from this directory, mounted read-only at the same path. Versions are pinned to the controller's
own environment so that the lab trains on what the tests ran with.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from groot_ops import atomic
from groot_ops.errors import GrootOpsError

TORCH_SPEC = "torch==2.13.0"
# Where this machine keeps the offline CPU torch wheel (anything else would pull CUDA builds).
LOCAL_WHEELS = Path("/opt/wheels")
BUILD_TOOLS = ("pip", "setuptools", "wheel")


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0]


STANDIN_PYPROJECT = "tests/standins/isaac_groot/pyproject.toml"


def _toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 controllers
        import tomli as tomllib
    return tomllib.loads(path.read_text())


def standin_requirements(repo: Path) -> list[str]:
    """What the Isaac-GR00T stand-in's pyproject.toml installs: its dependencies and build requirements."""
    data = _toml(repo / STANDIN_PYPROJECT)
    return [*data["project"]["dependencies"], *data["build-system"]["requires"]]


def requirements(repo: Path) -> list[str]:
    """Core + workstation extra of groot-ops, the Isaac-GR00T stand-in's dependencies (torch: the local
    CPU wheel), and build tools, pinned where installed here."""
    project = _toml(repo / "pyproject.toml")["project"]
    wanted = [
        *project["dependencies"],
        *project["optional-dependencies"]["workstation"],
        *(r for r in standin_requirements(repo) if _name(r) != "torch"),
        *BUILD_TOOLS,
    ]
    # groot_env bootstraps uv from the same offline wheelhouse: take its spec from the role itself so
    # the two cannot drift apart.
    pinned = [TORCH_SPEC, groot_env_uv_spec(repo)]
    for req in wanted:
        name = _name(req)
        try:
            pinned.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pinned.append(req)
    return sorted(set(pinned))


def groot_env_uv_spec(repo: Path) -> str:
    """The uv requirement the groot_env role installs (``groot_env_uv_spec`` in its defaults)."""
    import yaml

    defaults = yaml.safe_load((repo / "roles" / "groot_env" / "defaults" / "main.yml").read_text())
    return str(defaults["groot_env_uv_spec"])


def ensure_wheelhouse(repo: Path, dest: Path) -> Path:
    """Download the wheels once; a stamp of the requirement list makes re-runs free."""
    reqs = requirements(repo)
    digest = hashlib.sha256("\n".join(reqs).encode()).hexdigest()
    stamp = dest / ".groot-ops-stamp"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    req_file = dest / "requirements.txt"
    atomic.write_text(req_file, "\n".join(reqs) + "\n")
    argv = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--dest", str(dest),
            "-r", str(req_file)]  # fmt: skip
    if LOCAL_WHEELS.is_dir():
        argv += ["--find-links", str(LOCAL_WHEELS)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise GrootOpsError(f"wheelhouse download into {dest} failed: {proc.stderr.strip()[-2000:]}")
    atomic.write_text(stamp, digest + "\n")
    return dest
