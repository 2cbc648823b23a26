"""Atomic outputs: write into a staging place next to the target, then rename.

Every writer in groot_ops goes through these helpers so that a failure leaves the previous
good output intact and no partial output visible (defects 4 and 6 of the original system).

Permissions follow the process umask, as a plain ``open``/``mkdir`` would: ``mkstemp`` and ``mkdtemp``
create 0600 files and 0700 directories, which would lock every other user (the host's ``datamentors``,
a non-root container) out of datasets, stats and exports. Only secrets ask for ``mode=SECRET_MODE``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Files that hold a secret (a token for the trainer): owner read/write only, whatever the umask.
SECRET_MODE = 0o600


def current_umask() -> int:
    """The process umask, read without changing it where /proc says it (Linux >= 4.7)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    # Elsewhere the only way to read it is to set it; put it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(*, directory: bool = False) -> int:
    """What ``open(..., "w")`` (0666) or ``mkdir`` (0777) would give under the current umask."""
    return (0o777 if directory else 0o666) & ~current_umask()


def _fsync_dir(path: Path) -> None:
    # Without syncing the parent, a rename can be lost on power failure even though the data is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same directory, then rename).

    ``mode`` None: the umask decides (0644 under the usual 022); secrets pass ``SECRET_MODE``. The mode
    is set on the temp file before any byte is written, so a secret is never readable by others.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, default_mode() if mode is None else mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    write_bytes(path, text.encode("utf-8"), mode=mode)


def write_json(
    path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2, mode: int | None = None
) -> None:
    """Atomically write ``obj`` as JSON with a trailing newline and sorted-stable layout."""
    write_text(path, json.dumps(obj, indent=indent) + "\n", mode=mode)


@contextlib.contextmanager
def staged_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty staging directory; on success it replaces ``target`` in one step.

    The staging directory is a sibling of ``target`` (same filesystem, so rename is atomic and
    hardlinks stay possible). An existing ``target`` is moved aside and removed only after the
    new one is in place; on any exception the staging directory is removed and ``target`` is
    left exactly as it was.
    """
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.staging-", dir=final.parent))
    try:
        # mkdtemp's 0700 would become the output's mode after the rename.
        os.chmod(staging, default_mode(directory=True))
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old: Path | None = None
    if final.exists() or final.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
        old.rmdir()
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def link_or_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> str:
    """Hardlink ``src`` to ``dst``; copy only when they are on different filesystems.

    Returns ``"link"`` or ``"copy"`` so callers can report how many bytes were really written.
    """
    source, dest = Path(src), Path(dst)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)
        return "link"
    except OSError as exc:
        import errno

        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise
    shutil.copy2(source, dest)
    return "copy"
