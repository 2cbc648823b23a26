"""Which action keys get relative stats, from which parquet slices, over which horizon.

Upstream n1.6.1 (``gr00t/data/stats.py`` ``generate_rel_stats``) computes ``meta/relative_stats.json`` for
every action key whose ``ActionConfig`` in the embodiment's modality config has ``rep=RELATIVE``, in sorted
order; ``RelativeActionLoader.load_relative_actions`` takes for chunk ``i`` the actions at
``action.delta_indices + i`` minus the state at ``state.delta_indices[-1] + i`` (the state key is the
ActionConfig's ``state_key``, else the action key), for ``i`` in ``range(len(episode) -
action.delta_indices[-1])``; the groups are sliced out of their parquet columns by ``meta/modality.json``
(``start``/``end``, column ``original_key`` or ``observation.state`` / ``action``).

- UNITREE_G1 (built into upstream): ``left_arm`` and ``right_arm``, horizon 30 (:func:`unitree_g1_spec`).
- NEW_EMBODIMENT: the recipe's own modality config (:func:`config_spec`), read by
  :mod:`groot_ops.train.modality_config` without running it.

Only what upstream's NON_EEF path computes is implemented (``action - state``, action delta indices
``0..H-1``, the state's last delta index 0); anything else is refused with a clear error instead of stats
that differ from upstream's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groot_ops.data import schema
from groot_ops.errors import ConfigError, InputError

if TYPE_CHECKING:
    from groot_ops.train.modality_config import ModalityConfigFile

# Parquet columns of a group without original_key (lerobot_episode_loader.py DEFAULT_COLUMN_NAMES).
DEFAULT_COLUMNS = {"state": schema.STATE_KEY, "action": schema.ACTION_KEY}


@dataclass(frozen=True)
class RelativeGroup:
    """One RELATIVE action key: ``action[action_column][action] - state[state_column][state]``."""

    name: str
    state_key: str
    state_column: str
    state: slice
    action_column: str
    action: slice

    @property
    def width(self) -> int:
        return self.action.stop - self.action.start


@dataclass(frozen=True)
class RelativeSpec:
    horizon: int
    groups: tuple[RelativeGroup, ...]
    # The modality config the keys come from (file name); None for UNITREE_G1's built-in config.
    config: str | None = None

    def record(self) -> dict[str, Any] | None:
        """What ``meta/groot_ops.json`` records so that other keys or slices make the stats stale.

        None for UNITREE_G1's keys, whoever asks for them (a NEW_EMBODIMENT config with relative arms over 30
        steps on a UNITREE_G1-layout dataset, as recipe lab-teleop, computes the very same numbers): that
        record stays as it always was (horizon alone), and recipes sharing a dataset share its stats.
        """
        keys = self._keys()
        if self.config is None or (self.horizon == schema.ACTION_HORIZON and keys == _UNITREE_G1_KEYS):
            return None
        return {"keys": keys}

    def _keys(self) -> dict[str, Any]:
        return {
            g.name: {
                "state": [g.state_key, g.state_column, g.state.start, g.state.stop],
                "action": [g.action_column, g.action.start, g.action.stop],
            }
            for g in self.groups
        }

    def columns(self) -> set[str]:
        return {c for g in self.groups for c in (g.state_column, g.action_column)}


def read_modality(root: Path) -> dict[str, Any]:
    path = root / "meta/modality.json"
    try:
        modality = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read modality.json: {exc}", path=str(path)) from exc
    if not isinstance(modality, dict):
        raise InputError("modality.json is not an object", path=str(path))
    return modality


def _group(modality: dict[str, Any], kind: str, key: str, path: Path) -> tuple[str, slice]:
    group = (modality.get(kind) or {}).get(key)
    try:
        start, end = int(group["start"]), int(group["end"])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"modality.json lacks {kind} group {key} (start/end)", path=str(path)) from None
    return str(group.get("original_key") or DEFAULT_COLUMNS[kind]), slice(start, end)


def unitree_g1_spec(root: Path, horizon: int = schema.ACTION_HORIZON) -> RelativeSpec:
    """UNITREE_G1: the arms, relative to the arm state of the same step (upstream's built-in config)."""
    path = root / "meta/modality.json"
    modality = read_modality(root)
    groups = []
    for name in schema.RELATIVE_GROUPS:
        try:
            s, a = modality["state"][name], modality["action"][name]
        except (KeyError, TypeError):
            raise InputError(f"modality.json lacks state/action group {name}", path=str(path)) from None
        groups.append(
            RelativeGroup(
                name,
                name,
                schema.STATE_KEY,
                slice(s["start"], s["end"]),
                schema.ACTION_KEY,
                slice(a["start"], a["end"]),
            )
        )
    return RelativeSpec(horizon, tuple(groups))


def config_spec(config: ModalityConfigFile, root: Path) -> RelativeSpec:
    """NEW_EMBODIMENT: the RELATIVE action keys of the recipe's modality config, sliced by modality.json."""
    name = config.name
    action, state = config.modalities.get("action"), config.modalities.get("state")
    if action is None or state is None:
        raise ConfigError(f"modality config {name}: no state or action ModalityConfig")
    horizon = len(action.delta_indices)
    if action.actions is None:
        # generate_rel_stats returns before writing anything: no key is relative.
        return RelativeSpec(horizon, (), name)
    relative = sorted(
        key for key, spec in zip(action.keys, action.actions, strict=False) if spec.rep == "RELATIVE"
    )
    if not relative:
        return RelativeSpec(horizon, (), name)
    if action.delta_indices != tuple(range(horizon)) or not state.delta_indices or state.delta_indices[-1]:
        raise ConfigError(
            f"modality config {name}: relative stats are implemented for action delta_indices 0..H-1 and a "
            f"state whose last delta index is 0 (got action {list(action.delta_indices)}, state "
            f"{list(state.delta_indices)})"
        )
    specs = dict(zip(action.keys, action.actions, strict=False))
    path = root / "meta/modality.json"
    modality = read_modality(root)
    groups = []
    for key in relative:
        spec = specs[key]
        if spec.type != "NON_EEF":
            raise ConfigError(
                f"modality config {name}: RELATIVE action key '{key}' is {spec.type}; groot-ops computes "
                "relative stats for NON_EEF (joint) actions only"
            )
        state_key = spec.state_key or key
        state_column, state_slice = _group(modality, "state", state_key, path)
        action_column, action_slice = _group(modality, "action", key, path)
        if state_slice.stop - state_slice.start != action_slice.stop - action_slice.start:
            raise InputError(
                f"modality config {name}: RELATIVE action key '{key}' and state '{state_key}' differ in "
                "width",
                path=str(path),
            )
        groups.append(RelativeGroup(key, state_key, state_column, state_slice, action_column, action_slice))
    return RelativeSpec(horizon, tuple(groups), name)


# UNITREE_G1's fixed relative groups: the spec validation uses for a dataset without a modality config,
# and the keys a config must match to share the UNITREE_G1 stats record.
UNITREE_G1_SPEC = RelativeSpec(
    schema.ACTION_HORIZON,
    tuple(
        RelativeGroup(
            name,
            name,
            schema.STATE_KEY,
            schema.group_slice(schema.STATE_GROUPS, name),
            schema.ACTION_KEY,
            schema.group_slice(schema.ACTION_GROUPS, name),
        )
        for name in schema.RELATIVE_GROUPS
    ),
)
_UNITREE_G1_KEYS = UNITREE_G1_SPEC._keys()
