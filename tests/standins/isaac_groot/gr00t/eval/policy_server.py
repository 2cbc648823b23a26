"""The policy behind run_gr00t_server.py: load a checkpoint directory, answer the five endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gr00t.data.embodiment import ACTION_HORIZON, ACTION_KEYS, LANGUAGE_KEY, STATE_KEYS, modality_config
from gr00t.data.normalization import Normalizer
from gr00t.model.policy import numpy_forward, task_ids
from gr00t.utils.safetensors_io import index_shards, load_sharded

REQUIRED_FILES = (
    "config.json",
    "model.safetensors.index.json",
    "processor_config.json",
    "statistics.json",
    "embodiment_id.json",
)


class RequestError(Exception):
    """A bad request: answered with ``{"error": ...}``, the server keeps running."""


def missing_model_files(model_dir: Path) -> list[str]:
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if "model.safetensors.index.json" not in missing:
        try:
            missing += [s for s in index_shards(model_dir) if not (model_dir / s).is_file()]
        except (ValueError, KeyError) as exc:
            missing.append(f"model.safetensors.index.json (unreadable: {exc})")
    return missing


class Policy:
    def __init__(self, model_dir: Path, embodiment: str, *, strict: bool = True, sim_wrapper: bool = False):
        missing = missing_model_files(model_dir)
        if missing:
            raise FileNotFoundError(
                f"Model directory {model_dir} is missing required files: {', '.join(missing)}"
            )
        self.config = json.loads((model_dir / "config.json").read_text())
        statistics = json.loads((model_dir / "statistics.json").read_text())
        embodiments = json.loads((model_dir / "embodiment_id.json").read_text())
        if embodiment not in statistics or embodiment not in embodiments:
            raise ValueError(
                f"{model_dir} has no statistics for embodiment {embodiment!r}: not fine-tuned for it"
            )
        self.normalizer = Normalizer(statistics[embodiment])
        self.weights = load_sharded(model_dir)
        self.strict = strict
        self.sim_wrapper = sim_wrapper
        self.state_dim = self.config["state_dim"]

    def modality_config(self) -> dict:
        config = modality_config()
        config["state"]["dims"] = {k: b - a for k, (a, b) in self.normalizer.state_ranges.items()}
        config["action"]["dims"] = {k: b - a for k, (a, b) in self.normalizer.action_ranges.items()}
        return config

    def _get(self, observation: dict, group: str, key: str):
        flat = f"{group}.{key}"
        if flat in observation:
            return observation[flat]
        nested = observation.get(group)
        if isinstance(nested, dict) and key in nested:
            return nested[key]
        raise RequestError(f"observation is missing '{flat}'")

    def get_action(self, observation: dict) -> tuple[dict, dict]:
        if not isinstance(observation, dict):
            raise RequestError("'observation' must be a map")
        video = self._get(observation, "video", "ego_view")
        if self.strict and (
            not isinstance(video, np.ndarray)
            or video.dtype != np.uint8
            or video.ndim != 5
            or video.shape[-1] != 3
        ):
            raise RequestError(f"video.ego_view must be uint8 (B,1,H,W,3), got {_describe(video)}")
        batch = video.shape[0] if isinstance(video, np.ndarray) else 1
        state = np.zeros((batch, self.state_dim), dtype=np.float32)
        for key in STATE_KEYS:
            a, b = self.normalizer.state_ranges[key]
            value = self._get(observation, "state", key)
            if not isinstance(value, np.ndarray) or value.shape != (batch, 1, b - a):
                raise RequestError(
                    f"state.{key} must have shape ({batch}, 1, {b - a}), got {_describe(value)}"
                )
            state[:, a:b] = value[:, 0, :].astype(np.float32)
        language = observation.get(f"language.{LANGUAGE_KEY}", observation.get(LANGUAGE_KEY))
        if language is None and isinstance(observation.get("language"), dict):
            language = observation["language"].get(LANGUAGE_KEY)
        if self.strict and (not isinstance(language, list) or len(language) != batch):
            raise RequestError(f"language.{LANGUAGE_KEY} must be a list of {batch} [text] lists")
        texts = [item[0] if isinstance(item, list | tuple) and item else str(item) for item in language or []]
        texts += [""] * (batch - len(texts))
        normalized = numpy_forward(
            self.weights, self.config, self.normalizer.state(state), task_ids(self.config, texts)
        )
        actions = self.normalizer.absolute_actions(normalized, state)
        prefix = "action." if self.sim_wrapper else ""
        result = {}
        for key in ACTION_KEYS:
            a, b = self.normalizer.action_ranges[key]
            result[prefix + key] = np.ascontiguousarray(actions[:, :ACTION_HORIZON, a:b])
        return result, {}


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} {tuple(value.shape)}"
    return type(value).__name__
