"""Docker objects this project made and no longer needs: found, sized, and removed one by one.

Only objects that carry the project's label (``org.groot-ops.role``, set by every role that creates a
container or builds an image) are candidates, and never one whose role is protected: the workstation
(a stopped ``dm-workstation`` holds its env and the run's state) and the server. Candidates are:
stopped containers, dangling images, and networks no container uses. Tagged images are never removed
(no ``image prune -a``: the workstation image between runs is worth more than its bytes), and neither
is the build cache, which carries no labels and may be another project's on a shared engine.

Every removal goes through :func:`remove_objects`, which reads the object's labels again just before
removing it and refuses a protected role; ``docker rm``/``image rm``/``network rm`` without ``-f``
refuse an object that came into use meanwhile (a restarted container, an image a container needs).

Standard library only and no import of the rest of groot_ops: module ``groot_docker_prune`` ships this
file as ``module_utils/groot_ops_docker_prune.py`` to engine hosts, which have a docker CLI and python3
but not groot_ops.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

ROLE_LABEL = "org.groot-ops.role"
PROTECTED_ROLES = ("workstation", "server")
KINDS = ("container", "image", "network")

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtTpP]?)(i?)B")


class DockerPruneError(Exception):
    """The engine could not be asked or refused a command (the message names the command)."""


def parse_size(text: str) -> int:
    """Bytes in a docker human size ("1.5GB", "12kB", "0B", "3.2MiB"); decimal units unless ``i``."""
    match = _SIZE.search(text)
    if not match:
        raise DockerPruneError(f"cannot read a size from docker output {text!r}")
    number, prefix, binary = match.groups()
    scale = _UNITS[prefix.lower()]
    if binary:
        scale = {1: 1, 10**3: 2**10, 10**6: 2**20, 10**9: 2**30, 10**12: 2**40, 10**15: 2**50}[scale]
    return int(float(number) * scale)


def human_bytes(size: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


@dataclass
class Candidate:
    kind: str  # container | image | network
    id: str
    name: str
    role: str
    bytes: int = 0

    def line(self) -> str:
        return f"{self.kind} {self.name} ({self.id[:12]}, role {self.role}): {human_bytes(self.bytes)}"


@dataclass
class PruneOutcome:
    candidates: list[Candidate] = field(default_factory=list)
    removed: list[Candidate] = field(default_factory=list)
    # Objects of the project that were left alone because their role is protected.
    kept: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def freed_bytes(self) -> int:
        return sum(c.bytes for c in self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidates": [asdict(c) for c in self.candidates],
            "removed": [asdict(c) for c in self.removed],
            "items": [c.line() for c in self.removed],
            "kept": self.kept,
            "errors": self.errors,
            "freed_bytes": self.freed_bytes,
        }


class DockerCli:
    """The docker CLI of this host (``host``: a DOCKER_HOST such as ``unix:///var/run/docker.sock``)."""

    def __init__(self, host: str | None = None, *, binary: str = "docker", timeout_s: float = 600) -> None:
        self.base = [binary, *(["-H", host] if host else [])]
        self.timeout_s = timeout_s

    def run(self, *args: str) -> str:
        argv = [*self.base, *args]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DockerPruneError(f"{' '.join(argv)}: {exc}") from None
        if proc.returncode != 0:
            raise DockerPruneError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def labels(self, kind: str, object_id: str) -> dict[str, str] | None:
        """The object's labels, or None when it no longer exists."""
        path = "{{json .Labels}}" if kind == "network" else "{{json .Config.Labels}}"
        try:
            out = self.run(kind, "inspect", "--format", path, object_id)
        except DockerPruneError:
            return None
        return json.loads(out.strip() or "null") or {}


def _filters(role_label: str, extra_filters: tuple[str, ...]) -> list[str]:
    args = ["--filter", f"label={role_label}"]
    for extra in extra_filters:
        args += ["--filter", extra]
    return args


def _rows(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def find_candidates(
    cli: DockerCli,
    *,
    role_label: str = ROLE_LABEL,
    protected_roles: tuple[str, ...] = PROTECTED_ROLES,
    extra_filters: tuple[str, ...] = (),
) -> PruneOutcome:
    """Every removable object carrying ``role_label`` (and matching ``extra_filters``), with its size."""
    outcome = PruneOutcome()
    filters = _filters(role_label, extra_filters)
    listed: list[Candidate] = []
    stopped = cli.run(
        "ps", "-a", "--size", "--no-trunc", "--filter", "status=exited", "--filter", "status=created",
        "--filter", "status=dead", *filters, "--format", "{{json .}}",
    )  # fmt: skip
    for row in _rows(stopped):
        # "12.3kB (virtual 117MB)": the first number is the container's own writable layer.
        listed.append(
            Candidate("container", row["ID"], row.get("Names", ""), "", parse_size(row.get("Size", "0B")))
        )
    dangling = []
    for image_id in dict.fromkeys(
        cli.run("image", "ls", "-q", "--no-trunc", "--filter", "dangling=true", *filters).split()
    ):
        users = cli.run("ps", "-a", "-q", "--filter", f"ancestor={image_id}").split()
        if users:
            # The old image of a stopped container (its env): the engine would refuse anyway.
            outcome.kept.append(f"image {image_id[:19]}: used by container {', '.join(users)}")
            continue
        dangling.append(image_id)
    if dangling:
        usage = json.loads(cli.run("system", "df", "-v", "--format", "{{json .}}") or "{}")
        unique = {img.get("ID", ""): img.get("UniqueSize", "0B") for img in usage.get("Images") or []}
        for image_id in dangling:
            short = image_id.split(":")[-1][:12]
            size = next((v for k, v in unique.items() if short and short in k), "0B")
            listed.append(Candidate("image", image_id, "<none>", "", parse_size(size)))
    for row in _rows(cli.run("network", "ls", "--no-trunc", *filters, "--format", "{{json .}}")):
        inspect = json.loads(
            cli.run("network", "inspect", "--format", "{{json .Containers}}", row["ID"]) or "null"
        )
        if not inspect:
            listed.append(Candidate("network", row["ID"], row.get("Name", ""), ""))
    for candidate in listed:
        labels = cli.labels(candidate.kind, candidate.id)
        if labels is None:
            continue  # gone meanwhile
        candidate.role = labels.get(role_label, "")
        if candidate.role in protected_roles:
            outcome.kept.append(
                f"{candidate.kind} {candidate.name} ({candidate.id[:12]}): role {candidate.role} is protected"
            )
            continue
        outcome.candidates.append(candidate)
    return outcome


# Never -f: the engine refuses to remove a container that runs again or an image a container uses.
_REMOVE = {"container": ("rm",), "image": ("image", "rm"), "network": ("network", "rm")}


def remove_objects(
    cli: DockerCli,
    candidates: list[Candidate],
    *,
    role_label: str = ROLE_LABEL,
    protected_roles: tuple[str, ...] = PROTECTED_ROLES,
    check: bool = False,
    enough: Callable[[PruneOutcome], bool] | None = None,
) -> PruneOutcome:
    """Remove ``candidates`` in order (largest first is the caller's choice), re-checking each one.

    The one function that deletes docker objects. An object whose labels now say a protected role (or no
    longer say the project's) is refused and reported; a removal the engine refuses (in use) is reported
    and the rest go on. ``enough(outcome_so_far)``, when given, stops the removals once it returns True.
    """
    outcome = PruneOutcome(candidates=list(candidates))
    for candidate in candidates:
        if enough is not None and enough(outcome):
            break
        labels = cli.labels(candidate.kind, candidate.id)
        if labels is None:
            continue
        role = labels.get(role_label)
        if role is None or role in protected_roles:
            outcome.kept.append(f"refusing to remove {candidate.kind} {candidate.name}: role {role!r}")
            continue
        if not check:
            try:
                cli.run(*_REMOVE[candidate.kind], candidate.id)
            except DockerPruneError as exc:
                outcome.errors.append(f"{candidate.kind} {candidate.name}: {exc}")
                continue
        outcome.removed.append(candidate)
    return outcome


def free_bytes(path: str) -> tuple[int, int]:
    """(total, free) bytes of the filesystem holding ``path`` (what an unprivileged user may use)."""
    stats = os.statvfs(path)
    return stats.f_blocks * stats.f_frsize, stats.f_bavail * stats.f_frsize


def prune(
    *,
    state: str = "clean",
    target: str = "all",
    watch_path: str = "/",
    act_below_percent: float = 15.0,
    stop_at_percent: float = 25.0,
    docker_host: str | None = None,
    role_label: str = ROLE_LABEL,
    protected_roles: tuple[str, ...] = PROTECTED_ROLES,
    extra_filters: tuple[str, ...] = (),
    check: bool = False,
    cli: DockerCli | None = None,
) -> dict[str, Any]:
    """The engine host's cleanup: find the candidates, then remove all (``target=all``) or, below the
    act watermark, the largest first until the stop watermark (``target=watermark``); ``state=report``
    only lists them. Returns ``changed, candidates, removed, items, kept, errors, freed_bytes,
    free_before, free_after, total_bytes, acted, diff``."""
    cli = cli or DockerCli(docker_host)
    found = find_candidates(
        cli, role_label=role_label, protected_roles=protected_roles, extra_filters=extra_filters
    )
    total, free_before = free_bytes(watch_path)
    ordered = sorted(found.candidates, key=lambda c: (-c.bytes, c.kind, c.name))
    acted = target == "all" or free_before < total * act_below_percent / 100
    goal = total * stop_at_percent / 100

    def enough(so_far: PruneOutcome) -> bool:
        return target == "watermark" and free_before + so_far.freed_bytes >= goal

    outcome = PruneOutcome(candidates=ordered, kept=list(found.kept))
    if acted and state == "clean":
        done = remove_objects(
            cli, ordered, role_label=role_label, protected_roles=protected_roles, check=check, enough=enough
        )
        outcome.removed, outcome.kept, outcome.errors = done.removed, outcome.kept + done.kept, done.errors
    free_after = (
        free_bytes(watch_path)[1] if not check and state == "clean" else free_before + outcome.freed_bytes
    )
    result = outcome.as_dict()
    result["lines"] = _lines(outcome, ordered, state=state, check=check, acted=acted)
    result.update(
        changed=bool(outcome.removed) and state == "clean",
        acted=acted,
        reclaimable_bytes=sum(c.bytes for c in ordered),
        free_before=free_before,
        free_after=free_after,
        total_bytes=total,
        diff={
            "before": [c.line() for c in ordered],
            "after": [c.line() for c in ordered if c not in outcome.removed],
        },
    )
    return result


def _lines(
    outcome: PruneOutcome, ordered: list[Candidate], *, state: str, check: bool, acted: bool
) -> list[str]:
    """What the operator reads: each object with its size, what was kept and why, what failed."""
    if state == "report":
        lines = [f"reclaimable: {c.line()}" for c in ordered]
    elif not acted:
        lines = [f"above the watermark, nothing removed ({len(ordered)} candidate(s))"] if ordered else []
    else:
        verb = "would remove" if check else "removed"
        lines = [f"{verb}: {c.line()}" for c in outcome.removed]
    lines += [f"kept: {k}" for k in outcome.kept]
    lines += [f"failed: {e}" for e in outcome.errors]
    total = outcome.freed_bytes if state == "clean" else sum(c.bytes for c in ordered)
    what = "reclaimable" if state == "report" else ("would free" if check else "freed")
    return [*lines, f"{what} {human_bytes(total)} in {len(ordered)} candidate(s)"]
