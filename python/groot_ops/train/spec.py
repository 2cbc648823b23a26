"""The run specification: everything the supervisor needs to launch one recipe on one node."""

from __future__ import annotations

import dataclasses
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groot_ops.errors import ConfigError
from groot_ops.train.flags import check_embodiment_tag, flag_value, normalize_flags

RECIPE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names that look like credentials must come through the secrets file, never through ``env``.
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|APIKEY)", re.IGNORECASE)


@dataclass(frozen=True)
class TrainSpec:
    recipe: str
    runs_root: str
    isaac_groot_dir: str
    dataset_path: str
    output_dir: str
    base_model_path: str
    embodiment_tag: str = "UNITREE_G1"
    python: str = sys.executable
    flags: dict[str, Any] = field(default_factory=dict)
    nnodes: int = 1
    node_rank: int = 0
    nproc_per_node: int = 1
    rdzv_endpoint: str = ""
    rdzv_id: str = ""
    # static: --node_rank decides the global ranks, so node 0 (the first host) is global rank 0 and holds
    # the checkpoints; c10d assigns ranks in joining order (any host may end up writing them).
    rdzv_backend: str = "static"
    warm_start_from: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    max_retries: int = 2
    disk_guard: dict[str, Any] | None = None
    quarantine_dir: str | None = None
    # Size hint for the disk watchdog before the first checkpoint exists (bytes).
    checkpoint_bytes: int = 0
    # Seconds before relaunch n is n times this (a rendezvous peer or the disk guard gets time to act).
    retry_backoff_s: float = 5.0
    # Provenance of the launch: the controller's groot-ops commit and whether its tree was dirty. Recorded
    # in the run directory for the model card; never part of the command, so a newer groot-ops commit
    # does not make a running or finished run look changed.
    groot_ops_commit: str | None = None
    groot_ops_dirty: bool | None = None
    # The datasets role's provenance file of this recipe (dataset repos, revisions, SHAs) and the base
    # model's pinned revision, both recorded in launch.json when a new run is launched.
    datasets_provenance: str | None = None
    base_model_revision: str | None = None
    # A warm start from the Hub: {repo_id, revision, sha} of the model in warm_start_from (the directory
    # groot_ops.hub.warm_start fetched it into), recorded in launch.json and the model card.
    warm_start_source: dict[str, str] | None = None

    # -- derived values -------------------------------------------------------------------
    @property
    def world_size(self) -> int:
        return self.nnodes * self.nproc_per_node

    def flag(self, name: str) -> Any:
        """The flag's effective value: the recipe's, else launch_finetune.py's default."""
        return flag_value(self.flags, name)

    @property
    def max_steps(self) -> int:
        return int(self.flag("max_steps"))

    @property
    def save_steps(self) -> int:
        return int(self.flag("save_steps"))

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_root) / self.recipe

    @property
    def checkpoint_dir(self) -> Path:
        """Where checkpoint-N directories appear: --experiment_name appends a sub-directory."""
        name = self.flags.get("experiment_name")
        return Path(self.output_dir) / name if name else Path(self.output_dir)

    @property
    def quarantine_path(self) -> Path:
        if self.quarantine_dir:
            return Path(self.quarantine_dir)
        return Path(self.output_dir).parent / ".quarantine" / self.recipe

    @property
    def rendezvous_id(self) -> str:
        return self.rdzv_id or self.recipe

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_FIELDS = {f.name: f for f in dataclasses.fields(TrainSpec)}
_REQUIRED = ("recipe", "runs_root", "isaac_groot_dir", "dataset_path", "output_dir", "base_model_path")
_INTS = ("nnodes", "node_rank", "nproc_per_node", "max_retries", "checkpoint_bytes")


def _fail(message: str) -> ConfigError:
    return ConfigError(f"training spec: {message}")


def load_spec(data: dict[str, Any]) -> TrainSpec:
    """Validate a plain dict (from the module, the CLI or spec.json) into a :class:`TrainSpec`."""
    if not isinstance(data, dict):
        raise _fail(f"expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise _fail(f"unknown key(s) {', '.join(unknown)}")
    values = {k: v for k, v in data.items() if v is not None}
    for name in _REQUIRED:
        if not isinstance(values.get(name), str) or not values[name].strip():
            raise _fail(f"'{name}' is required and must be a non-empty string")
    recipe = values["recipe"]
    if not RECIPE_NAME.match(recipe):
        raise _fail(f"recipe name {recipe!r} may only contain letters, digits, '.', '_' and '-'")
    for name in _INTS:
        if name in values:
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int):
                try:
                    values[name] = int(str(value))
                except ValueError:
                    raise _fail(f"'{name}' must be an integer, got {value!r}") from None
    raw_flags = values.get("flags") or {}
    if not isinstance(raw_flags, dict):
        raise _fail(f"'flags' must be a mapping, got {type(raw_flags).__name__}")
    # Typed like upstream's tyro config, before anything is launched (errors name the recipe and key).
    values["flags"] = normalize_flags(recipe, raw_flags)
    values["embodiment_tag"] = check_embodiment_tag(recipe, values.get("embodiment_tag", "UNITREE_G1"))
    env = {str(k): str(v) for k, v in (values.get("env") or {}).items()}
    values["env"] = env
    spec = TrainSpec(**values)
    _check(spec)
    return spec


def _check(spec: TrainSpec) -> None:
    if spec.nnodes < 1 or spec.nproc_per_node < 1:
        raise _fail(f"nnodes ({spec.nnodes}) and nproc_per_node ({spec.nproc_per_node}) must be >= 1")
    if not 0 <= spec.node_rank < spec.nnodes:
        raise _fail(f"node_rank {spec.node_rank} is outside 0..{spec.nnodes - 1}")
    if spec.nnodes > 1 and not spec.rdzv_endpoint:
        raise _fail(f"nnodes={spec.nnodes} needs rdzv_endpoint (host:port of the first training host)")
    if spec.rdzv_backend not in ("static", "c10d"):
        raise _fail(f"rdzv_backend must be static or c10d, got {spec.rdzv_backend!r}")
    if spec.rdzv_endpoint:
        host, _, port = spec.rdzv_endpoint.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise _fail(f"rdzv_endpoint {spec.rdzv_endpoint!r} must be host:port")
    if spec.max_retries < 0:
        raise _fail("max_retries must be >= 0")
    if spec.groot_ops_commit is not None and not isinstance(spec.groot_ops_commit, str):
        raise _fail(f"groot_ops_commit must be a string, got {spec.groot_ops_commit!r}")
    for name in ("datasets_provenance", "base_model_revision"):
        value = getattr(spec, name)
        if value is not None and not isinstance(value, str):
            raise _fail(f"{name} must be a string, got {value!r}")
    if spec.groot_ops_dirty is not None and not isinstance(spec.groot_ops_dirty, bool):
        raise _fail(f"groot_ops_dirty must be a boolean, got {spec.groot_ops_dirty!r}")
    if isinstance(spec.retry_backoff_s, bool) or not isinstance(spec.retry_backoff_s, (int, float)):
        raise _fail(f"retry_backoff_s must be a number, got {spec.retry_backoff_s!r}")
    batch = int(spec.flag("global_batch_size"))
    if batch % spec.world_size:
        raise _fail(
            f"global_batch_size {batch} is not divisible by the world size {spec.world_size} "
            f"(nnodes {spec.nnodes} x nproc_per_node {spec.nproc_per_node} = --num_gpus)"
        )
    for key in spec.env:
        if not ENV_NAME.match(key):
            raise _fail(f"env name {key!r} is not a valid environment variable name")
        if SECRET_NAME.search(key):
            raise _fail(f"env {key} looks like a secret: pass it as a secret (vault), not in env")
    if spec.warm_start_source is not None:
        _check_warm_start_source(spec)
    if spec.warm_start_from and Path(spec.warm_start_from).resolve() == spec.checkpoint_dir.resolve():
        raise _fail("warm_start_from points at output_dir itself; re-running the recipe already resumes")


def _check_warm_start_source(spec: TrainSpec) -> None:
    source = spec.warm_start_source
    if not isinstance(source, dict) or any(
        not isinstance(source.get(k), str) for k in ("repo_id", "revision", "sha")
    ):
        raise _fail(f"warm_start_source must be {{repo_id, revision, sha}} (strings), got {source!r}")
    if not re.fullmatch(r"[0-9a-f]{40}", source["sha"]):
        raise _fail(f"warm_start_source.sha must be a 40-hex commit sha, got {source['sha']!r}")
    if not spec.warm_start_from:
        raise _fail("warm_start_source needs warm_start_from (the directory the source was fetched into)")
