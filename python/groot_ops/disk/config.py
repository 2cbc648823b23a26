"""Disk-guard configuration: one validated dataclass built from the plain dict the module/CLI/supervisor pass.

Every key is optional except ``watch_path``. Unknown keys and wrong types are refused with the key named,
because a typo in a watermark silently falling back to a default is how disks fill up.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groot_ops.errors import ConfigError

RUN_STATES = ("finished", "running")
TARGETS = ("watermark", "all")
DEFAULT_BASE_MODELS = ("nvidia/GR00T-N1.6-3B",)


@dataclass(frozen=True)
class RunConfig:
    """One training run: ``output_dir`` (its checkpoint-N dirs), state and checkpoints to keep."""

    output_dir: str
    state: str = "running"
    retention: int = 2


@dataclass(frozen=True)
class DiskGuardConfig:
    watch_path: str
    # Act when free space drops below this percentage of the filesystem...
    act_below_percent: float = 15.0
    # ...or below the next checkpoint's size times this margin.
    checkpoint_margin: float = 1.5
    # Once acting, keep cleaning until this percentage is free (hysteresis: avoids cleaning at every save).
    stop_at_percent: float = 25.0
    # "watermark": clean only as much as the watermarks ask; "all": reclaim everything reclaimable.
    target: str = "watermark"
    hf_cache: str | None = None
    # Interrupted downloads younger than this may still be in progress.
    hf_incomplete_min_age_minutes: float = 60.0
    # A cached repo counts as unused only when nobody read it for this many days.
    hf_repo_min_idle_days: float = 7.0
    base_model_repo_ids: tuple[str, ...] = DEFAULT_BASE_MODELS
    # Dataset repos (HF cache) that a recipe uses: protected like the base model.
    dataset_repo_ids: tuple[str, ...] = ()
    pip_cache_dirs: tuple[str, ...] = ()
    uv_cache_dirs: tuple[str, ...] = ()
    conda_pkgs_dirs: tuple[str, ...] = ()
    quarantine_dir: str | None = None
    quarantine_max_age_days: float = 3.0
    runs: tuple[RunConfig, ...] = ()
    # Runs discovered on disk: every directory under checkpoints_root is a recipe's output_dir; it counts as
    # finished only when runs_root/<recipe>/status.json says so (a missing status is treated as running).
    checkpoints_root: str | None = None
    runs_root: str | None = None
    run_retention: int = 1
    exports_dir: str | None = None
    datasets_in_use: tuple[str, ...] = ()
    protected_paths: tuple[str, ...] = ()
    docker_prune: bool = False
    docker_host: str | None = None
    # e.g. "label=groot-ops-test=disk": restricts every prune to matching objects (tests share one engine).
    docker_prune_filter: str | None = None
    tmp_dir: str | None = None
    tmp_max_age_days: float = 7.0
    # The watchdog measures only once the running runs' output dirs were quiet this long (a save and the
    # rotation after it finished), waiting at most the timeout: deciding mid-save misjudges free space.
    save_settle_seconds: float = 2.0
    save_settle_timeout_seconds: float = 300.0
    # Step names to run, in this order; None means every step in the default order.
    steps: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | DiskGuardConfig) -> DiskGuardConfig:
        if isinstance(raw, DiskGuardConfig):
            return raw
        if not isinstance(raw, dict):
            raise ConfigError(f"disk guard config must be a mapping, got {type(raw).__name__}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ConfigError(f"disk guard config: unknown key(s) {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if value is None and name != "watch_path":
                continue
            values[name] = _coerce(name, value)
        if not values.get("watch_path"):
            raise ConfigError("disk guard config: watch_path is required (the checkpoint filesystem)")
        config = cls(**values)
        config._validate()
        return config

    def _validate(self) -> None:
        for name in ("act_below_percent", "stop_at_percent"):
            value = getattr(self, name)
            if not 0 <= value <= 100:
                raise ConfigError(f"disk guard config: {name} must be between 0 and 100, got {value}")
        if self.stop_at_percent < self.act_below_percent:
            raise ConfigError(
                f"disk guard config: stop_at_percent ({self.stop_at_percent}) must not be below "
                f"act_below_percent ({self.act_below_percent})"
            )
        if self.checkpoint_margin < 1:
            raise ConfigError(
                f"disk guard config: checkpoint_margin must be >= 1, got {self.checkpoint_margin}"
            )
        if self.target not in TARGETS:
            raise ConfigError(f"disk guard config: target must be one of {TARGETS}, got {self.target!r}")
        for name in (
            "hf_incomplete_min_age_minutes",
            "hf_repo_min_idle_days",
            "quarantine_max_age_days",
            "tmp_max_age_days",
            "save_settle_seconds",
            "save_settle_timeout_seconds",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"disk guard config: {name} must be >= 0")
        if self.steps is not None:
            from groot_ops.disk.steps import STEP_NAMES

            bad = [s for s in self.steps if s not in STEP_NAMES]
            if bad:
                raise ConfigError(
                    f"disk guard config: unknown step(s) {', '.join(bad)}; known: {', '.join(STEP_NAMES)}"
                )
        self._validate_paths()
        if self.docker_prune_filter is not None and "=" not in self.docker_prune_filter:
            raise ConfigError(
                "disk guard config: docker_prune_filter must look like label=KEY=VALUE, "
                f"got {self.docker_prune_filter!r}"
            )

    def _validate_paths(self) -> None:
        # Modules run from a temporary cwd on the managed host: a relative path would point anywhere.
        single = (
            "watch_path",
            "hf_cache",
            "quarantine_dir",
            "checkpoints_root",
            "runs_root",
            "exports_dir",
            "tmp_dir",
        )
        lists = ("pip_cache_dirs", "uv_cache_dirs", "conda_pkgs_dirs", "datasets_in_use", "protected_paths")
        named = [(name, getattr(self, name)) for name in single if getattr(self, name)]
        named += [(name, path) for name in lists for path in getattr(self, name)]
        named += [(f"runs[{i}].output_dir", run.output_dir) for i, run in enumerate(self.runs)]
        for name, path in named:
            if not Path(path).is_absolute():
                raise ConfigError(f"disk guard config: {name} must be an absolute path, got {path!r}")

    def all_runs(self) -> tuple[RunConfig, ...]:
        """The configured runs plus those discovered under ``checkpoints_root``."""
        listed = {Path(run.output_dir) for run in self.runs}
        root = Path(self.checkpoints_root) if self.checkpoints_root else None
        if root is None or not root.is_dir():
            return self.runs
        found = []
        for entry in sorted(root.iterdir()):
            if entry.name.startswith(".") or not entry.is_dir() or entry in listed:
                continue
            found.append(RunConfig(str(entry), _run_state(self.runs_root, entry.name), self.run_retention))
        return (*self.runs, *found)


def _run_state(runs_root: str | None, recipe: str) -> str:
    if not runs_root:
        return "running"
    try:
        status = json.loads((Path(runs_root) / recipe / "status.json").read_text())
    except (OSError, ValueError):
        return "running"
    return "finished" if isinstance(status, dict) and status.get("state") == "finished" else "running"


_FLOATS = {
    "save_settle_seconds",
    "save_settle_timeout_seconds",
    "act_below_percent",
    "checkpoint_margin",
    "stop_at_percent",
    "hf_incomplete_min_age_minutes",
    "hf_repo_min_idle_days",
    "quarantine_max_age_days",
    "tmp_max_age_days",
}
_STR_LISTS = {
    "base_model_repo_ids",
    "dataset_repo_ids",
    "pip_cache_dirs",
    "uv_cache_dirs",
    "conda_pkgs_dirs",
    "datasets_in_use",
    "protected_paths",
    "steps",
}
_STRS = {
    "watch_path",
    "target",
    "hf_cache",
    "quarantine_dir",
    "exports_dir",
    "docker_host",
    "docker_prune_filter",
    "tmp_dir",
    "checkpoints_root",
    "runs_root",
}


def _coerce(name: str, value: Any) -> Any:
    if name in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"disk guard config: {name} must be a number, got {value!r}")
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"disk guard config: {name} must be a number, got {value!r}") from None
    if name in _STR_LISTS:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"disk guard config: {name} must be a list of strings, got {value!r}")
        if not all(isinstance(item, str) and item for item in value):
            raise ConfigError(f"disk guard config: {name} must contain non-empty strings only")
        return tuple(value)
    if name in _STRS:
        if not isinstance(value, str):
            raise ConfigError(f"disk guard config: {name} must be a string, got {value!r}")
        return value
    if name == "docker_prune":
        if not isinstance(value, bool):
            raise ConfigError(f"disk guard config: docker_prune must be true or false, got {value!r}")
        return value
    if name == "run_retention":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"disk guard config: run_retention must be an integer >= 1, got {value!r}")
        return value
    if name == "runs":
        return tuple(_run(i, item) for i, item in enumerate(_as_list(name, value)))
    raise ConfigError(f"disk guard config: unhandled key {name}")  # pragma: no cover


def _as_list(name: str, value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"disk guard config: {name} must be a list, got {value!r}")
    return list(value)


def _run(index: int, item: Any) -> RunConfig:
    if isinstance(item, RunConfig):
        return item
    where = f"disk guard config: runs[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a mapping with output_dir, state, retention")
    unknown = sorted(set(item) - {"output_dir", "state", "retention", "name"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    output_dir = item.get("output_dir")
    if not isinstance(output_dir, str) or not output_dir:
        raise ConfigError(f"{where}: output_dir is required")
    state = item.get("state", "running")
    if state not in RUN_STATES:
        raise ConfigError(f"{where} ({output_dir}): state must be one of {RUN_STATES}, got {state!r}")
    retention = item.get("retention", 2)
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
        raise ConfigError(f"{where} ({output_dir}): retention must be an integer >= 1, got {retention!r}")
    return RunConfig(output_dir=output_dir, state=state, retention=retention)


def field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(DiskGuardConfig)]


__all__ = ["DiskGuardConfig", "RunConfig", "field_names"]
