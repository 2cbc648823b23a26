#!/usr/bin/env bash
# Publish the Isaac-GR00T stand-in as a git repository at DEST, tagged like the pinned upstream
# release, so that roles clone it exactly as they would clone NVIDIA's repository.
# Usage: tests/standins/publish_repo.sh DEST [WHEELHOUSE]
# WHEELHOUSE: the directory of wheels the stand-in's [tool.uv.sources] send torch to (the lab's, or
# Molecule's), written into its pyproject.toml in place of @LAB_WHEELHOUSE@ (left as is without it).
# Re-running refreshes DEST and moves the tag to the new commit.
set -euo pipefail
if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 DEST [WHEELHOUSE]" >&2
    exit 2
fi
dest=$1
wheelhouse=${2:-}
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/isaac_groot"
tag=n1.6.1-release
mkdir -p "$dest"
# Copy the tree without caches so that the commit is reproducible.
tar -C "$src" --exclude='__pycache__' --exclude='*.pyc' --exclude='*.egg-info' -cf - . | tar -C "$dest" -xf -
cd "$dest"
if [[ -n "$wheelhouse" ]]; then
    # '|' delimits: the path has slashes, never a '|'.
    sed -i "s|@LAB_WHEELHOUSE@|${wheelhouse}|" pyproject.toml
fi
export GIT_AUTHOR_NAME="groot-ops standin" GIT_AUTHOR_EMAIL="standin@groot-ops.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="2026-04-22T00:00:00Z" GIT_COMMITTER_DATE="2026-04-22T00:00:00Z"
if [[ ! -d .git ]]; then
    git init -q -b main .
fi
git add -A .
if ! git diff --cached --quiet || ! git rev-parse -q --verify HEAD >/dev/null; then
    git commit -q -m "Isaac-GR00T stand-in (${tag})"
fi
git tag -f "$tag" >/dev/null
git rev-parse "$tag^{commit}"
