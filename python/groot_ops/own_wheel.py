"""The groot_ops wheel of a checkout, built once per content (controller side, module ``groot_own_wheel``).

The provision stage installs groot_ops into every training env from a wheel of the controller's checkout.
Building it takes ``pip wheel`` (seconds on a busy machine) on every run; the wheel only depends on the
files the build reads, so it is kept under the digest of those files and rebuilt only when one changes.
The same sources give the same wheel bytes (fixed zip timestamps), so the env reinstalls follow content.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from groot_ops.errors import ConfigError

# Files of the checkout the build reads besides the package: its metadata (the readme is the long
# description in METADATA).
BUILD_FILES = ("pyproject.toml", "README.md", "setup.py", "setup.cfg", "MANIFEST.in")
PACKAGE_DIR = Path("python") / "groot_ops"
# 1980-01-01: zip's earliest timestamp; the same sources give the same bytes.
SOURCE_DATE_EPOCH = "315532800"
Runner = Callable[[Sequence[str], dict[str, str]], tuple[int, str]]


def source_digest(src: Path) -> str:
    """sha256 over the relative path and bytes of every file the wheel is built from (compiled files and
    caches left out): a changed, added or removed file gives another digest."""
    src = Path(src)
    package = src / PACKAGE_DIR
    if not package.is_dir() or not (src / "pyproject.toml").is_file():
        raise ConfigError(f"{src} is not a groot-ops checkout (no pyproject.toml or {PACKAGE_DIR}/)")
    files = [src / name for name in BUILD_FILES if (src / name).is_file()]
    for root, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.endswith(".egg-info"))
        files += [Path(root) / n for n in sorted(names) if not n.endswith((".pyc", ".pyo"))]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(src).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _pip_wheel(python: str) -> Runner:
    def run(argv: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
        done = subprocess.run([python, *argv], env=env, capture_output=True, text=True, check=False)
        return done.returncode, (done.stderr or done.stdout)

    return run


def ensure_wheel(
    src: Path,
    cache_dir: Path,
    *,
    python: str = sys.executable,
    run: Runner | None = None,
    check: bool = False,
) -> dict[str, Any]:
    """The wheel of ``src`` under ``cache_dir/<digest>/``, built when no wheel of this digest exists.

    Returns ``path``, ``sha256``, ``digest``, ``built`` (whether this call built it). ``changed`` is always
    False: the wheel is the controller's cache, what changes on the hosts is the copied wheel. Check mode
    builds too (the plan compares the hosts' wheels with it), as the role always did.
    """
    del check  # a controller-side cache: built in check mode as well
    digest = source_digest(src)
    cache_dir = Path(cache_dir)
    target = cache_dir / digest[:16]
    wheel = _the_wheel(target)
    built = False
    if wheel is None:
        staging = cache_dir / f".building-{digest[:16]}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
        argv = ["-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir"]
        rc, err = (run or _pip_wheel(python))([*argv, str(staging), str(src)], env)
        if rc != 0 or _the_wheel(staging) is None:
            shutil.rmtree(staging, ignore_errors=True)
            raise ConfigError(
                f"building the groot_ops wheel of {src} failed (exit {rc}): {err.strip()[-2000:]}"
            )
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
        wheel = _the_wheel(target)
        assert wheel is not None
        built = True
    # Only the current wheel is kept: the cache does not grow with every edit.
    for old in cache_dir.iterdir():
        if old.is_dir() and old != target and not old.name.startswith(".building-"):
            shutil.rmtree(old, ignore_errors=True)
    return {
        "changed": False,
        "path": str(wheel),
        "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "digest": digest,
        "built": built,
    }


def _the_wheel(directory: Path) -> Path | None:
    wheels = sorted(directory.glob("groot_ops-*.whl")) if directory.is_dir() else []
    return wheels[0] if len(wheels) == 1 else None
