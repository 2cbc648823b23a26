"""Publish the Isaac-GR00T stand-in as a local git repository tagged ``n1.6.1-release``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from groot_ops import atomic
from groot_ops.errors import GrootOpsError
from groot_ops.lab.layout import LabPaths

PUBLISH_SCRIPT = "tests/standins/publish_repo.sh"
RELEASE_TAG = "n1.6.1-release"


def commit_file(paths: LabPaths) -> Path:
    """Where `lab up` writes the published release's commit (the lab inventory's groot_isaac_groot_commit)."""
    return paths.standin_repo.with_name(paths.standin_repo.name + ".commit")


def publish_standin(repo: Path, paths: LabPaths) -> bool:
    """(Re)publish the stand-in repo and record its commit; returns False when the script has not landed yet.

    Its pyproject.toml sends torch to the lab wheelhouse ([tool.uv.sources]), mounted at the same path in
    the trainers, so groot_env installs it exactly as it installs upstream's checkout.
    """
    script = repo / PUBLISH_SCRIPT
    paths.git.mkdir(parents=True, exist_ok=True)
    if not script.exists():
        return False
    dest = paths.standin_repo
    staging = dest.with_name(dest.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    proc = subprocess.run(
        ["bash", str(script), str(staging), str(paths.wheelhouse)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise GrootOpsError(f"{PUBLISH_SCRIPT} failed: {proc.stderr.strip()}")
    tags = subprocess.run(
        ["git", "--git-dir", str(_git_dir(staging)), "tag", "--list", RELEASE_TAG],
        capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    if RELEASE_TAG not in tags:
        raise GrootOpsError(f"{PUBLISH_SCRIPT} made {staging} without the tag {RELEASE_TAG}")
    if _same_release(staging, dest):
        shutil.rmtree(staging)
    else:
        shutil.rmtree(dest, ignore_errors=True)
        staging.rename(dest)
    commit = subprocess.run(
        ["git", "--git-dir", str(_git_dir(dest)), "rev-parse", f"{RELEASE_TAG}^{{commit}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    atomic.write_text(commit_file(paths), commit + "\n")
    return True


def _git_dir(repo: Path) -> Path:
    return repo / ".git" if (repo / ".git").is_dir() else repo


def _same_release(a: Path, b: Path) -> bool:
    # Keeping an unchanged repo keeps its commit, which trainers record as provenance.
    def tree(repo: Path) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(_git_dir(repo)), "rev-parse", f"{RELEASE_TAG}^{{tree}}"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip

    return b.exists() and tree(a) != "" and tree(a) == tree(b)
