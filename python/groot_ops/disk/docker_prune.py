"""The docker step: prune stopped containers, dangling images, build cache and unused networks.

Never ``image prune -a``: images that are merely unused (the workstation image between runs) are worth
more than the bytes. In check mode the engine is only asked for estimates (``docker ps --size``,
``docker system df``). With ``docker_prune_filter`` set, every prune is restricted to matching objects;
the build cache cannot carry labels, so it is left alone then.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import TYPE_CHECKING

from groot_ops.errors import GrootOpsError

if TYPE_CHECKING:
    from groot_ops.disk.steps import StepContext, StepResult

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtTpP]?)(i?)B")
_TOTAL = re.compile(r"^Total(?: reclaimed space)?:\s*(.+)$", re.MULTILINE)


def parse_size(text: str) -> int:
    """Bytes in a docker human size ("1.5GB", "12kB", "0B", "3.2MiB"); decimal units unless ``i``."""
    match = _SIZE.search(text)
    if not match:
        raise GrootOpsError(f"cannot read a size from docker output {text!r}")
    number, prefix, binary = match.groups()
    scale = _UNITS[prefix.lower()]
    if binary:
        scale = {1: 1, 10**3: 2**10, 10**6: 2**20, 10**9: 2**30, 10**12: 2**40, 10**15: 2**50}[scale]
    return int(float(number) * scale)


def parse_reclaimed(output: str) -> int:
    """The "Total reclaimed space: X" (or builder's "Total: X") line of a prune; 0 when absent."""
    match = _TOTAL.search(output)
    return parse_size(match.group(1)) if match else 0


class DockerCli:
    def __init__(self, host: str | None, label_filter: str | None) -> None:
        self.base = ["docker", *(["-H", host] if host else [])]
        self.filters = ["--filter", label_filter] if label_filter else []

    def run(self, *args: str) -> str:
        argv = [*self.base, *args]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode != 0:
            raise GrootOpsError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def prune(self, kind: str) -> tuple[int, bool]:
        """(bytes reclaimed, whether anything was deleted)."""
        filters = [] if kind == "builder" else self.filters
        out = self.run(kind, "prune", "-f", *filters)
        deleted = any(line.startswith(("Deleted", "deleted", "ID:")) for line in out.splitlines())
        return parse_reclaimed(out), deleted

    def estimate(self, kind: str) -> int:
        if kind == "container":
            out = self.run(
                "ps", "-a", "--size", "--filter", "status=exited", "--filter", "status=created",
                *self.filters, "--format", "{{.Size}}",
            )  # fmt: skip
            # "12.3kB (virtual 117MB)": the first number is the container's own writable layer.
            return sum(parse_size(line) for line in out.splitlines() if line.strip())
        if kind == "image":
            listing = self.run("image", "ls", "-q", "--no-trunc", "--filter", "dangling=true", *self.filters)
            dangling = set(listing.split())
            if not dangling:
                return 0
            usage = json.loads(self.run("system", "df", "-v", "--format", "{{json .}}"))
            return sum(
                parse_size(image.get("UniqueSize", "0B"))
                for image in usage.get("Images") or []
                if image.get("ID") in dangling
            )
        if kind == "builder":
            for line in self.run("system", "df", "--format", "{{json .}}").splitlines():
                row = json.loads(line)
                if row.get("Type") == "Build Cache":
                    return parse_size(row.get("Reclaimable", "0B"))
            return 0
        return 0  # networks hold no bytes


KINDS = ("container", "image", "builder", "network")


def docker_prune_step(ctx: StepContext, result: StepResult) -> StepResult:
    config = ctx.config
    if not config.docker_prune:
        result.skipped = "docker_prune is off"
        return result
    if shutil.which("docker") is None:
        result.skipped = "no docker CLI on this host"
        return result
    cli = DockerCli(config.docker_host, config.docker_prune_filter)
    for kind in KINDS:
        if ctx.satisfied():
            break
        if kind == "builder" and config.docker_prune_filter:
            continue
        try:
            if ctx.check:
                freed, deleted = cli.estimate(kind), False
                ctx.simulated_freed += freed
            else:
                freed, deleted = cli.prune(kind)
        except (GrootOpsError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
            # One engine problem must not cost the other steps (or the watchdog) their verdict.
            result.errors.append(f"{kind}: {exc}")
            continue
        result.freed_bytes += freed
        if freed or deleted:
            result.items.append(f"{kind} prune: {freed} bytes")
    return result
