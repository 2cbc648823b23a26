"""Seed a Hub through the real client (create_repo + upload_folder + refs): the lab Hub, the test Hub."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path


@contextlib.contextmanager
def classic_lfs() -> Iterator[None]:
    """Upload through the LFS path even in Xet mode, so that the server holds the bytes it serves."""
    from huggingface_hub import constants

    previous = constants.HF_HUB_DISABLE_XET
    constants.HF_HUB_DISABLE_XET = True
    try:
        yield
    finally:
        constants.HF_HUB_DISABLE_XET = previous


def seed_folder(
    endpoint: str,
    token: str,
    repo_id: str,
    folder: str | Path,
    *,
    repo_type: str = "dataset",
    private: bool = False,
    tags: Sequence[str] = (),
    branches: Sequence[str] = (),
    message: str = "seed",
) -> str:
    """Create ``repo_id`` (if missing), upload ``folder`` to main, add tags/branches; return the commit."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
    with classic_lfs():
        info = api.upload_folder(
            folder_path=str(folder), repo_id=repo_id, repo_type=repo_type, commit_message=message
        )
    for tag in tags:
        api.create_tag(repo_id, tag=tag, revision=info.oid, repo_type=repo_type)
    for branch in branches:
        api.create_branch(repo_id, branch=branch, revision=info.oid, repo_type=repo_type)
    return info.oid
