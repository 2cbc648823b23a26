"""The served policy (stand-in of gr00t/policy/gr00t_policy.py): upstream's checks, the stand-in's model.

``Gr00tPolicy`` takes the nested observation ``{"video": {...}, "state": {...}, "language": {...}}``;
``Gr00tSimPolicyWrapper`` (``--use-sim-policy-wrapper``) takes flat ``video.<key>`` / ``state.<group>``
keys and the language under its own key. The checks run in upstream's order and fail with upstream's
messages, so a client sees exactly what the real server would answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from gr00t.data.normalization import Normalizer
from gr00t.model.policy import numpy_forward, task_ids
from gr00t.policy.modality_config import ModalityConfig, served_modality_configs
from gr00t.policy.policy import BasePolicy, PolicyWrapper
from gr00t.utils.safetensors_io import index_shards, load_sharded

REQUIRED_FILES = (
    "config.json",
    "model.safetensors.index.json",
    "processor_config.json",
    "statistics.json",
    "embodiment_id.json",
)


def missing_model_files(model_dir: Path) -> list[str]:
    """The stand-in's own start-up check (upstream fails inside from_pretrained with a traceback)."""
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if "model.safetensors.index.json" not in missing:
        try:
            missing += [s for s in index_shards(model_dir) if not (model_dir / s).is_file()]
        except (ValueError, KeyError) as exc:
            missing.append(f"model.safetensors.index.json (unreadable: {exc})")
    return missing


class Gr00tPolicy(BasePolicy):
    def __init__(self, embodiment_tag: Any, model_path: str, *, device: int | str, strict: bool = True):
        super().__init__(strict=strict)
        model_dir = Path(model_path)
        missing = missing_model_files(model_dir)
        if missing:
            raise FileNotFoundError(
                f"Model directory {model_dir} is missing required files: {', '.join(missing)}"
            )
        embodiment = embodiment_tag.value
        self.config = json.loads((model_dir / "config.json").read_text())
        # Mirrors gr00t_policy.py Gr00tPolicy.__init__: processor.get_modality_configs()[tag], i.e. the
        # modality configs that Gr00tN1d6Processor.save_pretrained wrote into processor_config.json at
        # training time (a NEW_EMBODIMENT model carries its --modality_config_path registration there);
        # a tag the checkpoint was not trained for is a KeyError naming it.
        processor_config = json.loads((model_dir / "processor_config.json").read_text())
        self.modality_configs: dict[str, ModalityConfig] = served_modality_configs(
            processor_config, embodiment
        )
        statistics = json.loads((model_dir / "statistics.json").read_text())
        embodiments = json.loads((model_dir / "embodiment_id.json").read_text())
        # The stand-in's own check (upstream would fail later, on the first normalization).
        if embodiment not in statistics or embodiment not in embodiments:
            raise ValueError(
                f"{model_dir} has no statistics for embodiment {embodiment!r}: not fine-tuned for it"
            )
        self.normalizer = Normalizer(statistics[embodiment])
        self.weights = load_sharded(model_dir)
        self.embodiment_tag = embodiment_tag
        self.device = device
        language_keys = self.modality_configs["language"].modality_keys
        language_delta_indices = self.modality_configs["language"].delta_indices
        assert len(language_keys) == 1, "Only one language key is supported"
        assert len(language_delta_indices) == 1, "Only one language delta index is supported"
        self.language_key = language_keys[0]

    # ----- observation checks

    def check_observation(self, observation: dict[str, Any]) -> None:
        # Mirrors gr00t_policy.py Gr00tPolicy.check_observation: the three modality maps first.
        for modality in ["video", "state", "language"]:
            assert modality in observation, f"Observation must contain a '{modality}' key"
            assert isinstance(observation[modality], dict), (
                f"Observation '{modality}' must be a dictionary. Got {type(observation[modality])}: "
                f"{observation[modality]}"
            )
        configs = self.modality_configs
        bs = -1
        for key in configs["video"].modality_keys:
            # Mirrors check_observation: the batch size is taken before the key is looked for, so a
            # missing key surfaces as a KeyError naming it.
            bs = _batch(bs, observation["video"][key], f"Video key '{key}'")
            assert key in observation["video"], f"Video key '{key}' must be in observation"
            _check_video(key, observation["video"][key], len(configs["video"].delta_indices))
        for key in configs["state"].modality_keys:
            bs = _batch(bs, observation["state"][key], f"State key '{key}'")
            assert key in observation["state"], f"State key '{key}' must be in observation"
            _check_state(key, observation["state"][key], len(configs["state"].delta_indices))
        horizon = len(configs["language"].delta_indices)
        for key in configs["language"].modality_keys:
            bs = _batch(bs, observation["language"][key], f"Language key '{key}'")
            assert key in observation["language"], f"Language key '{key}' must be in observation"
            batched = observation["language"][key]
            assert isinstance(batched, list), f"Language key '{key}' must be a list. Got {type(batched)}"
            for item in batched:
                # Mirrors check_observation, including its message quoting the batch's length.
                assert len(item) == horizon, (
                    f"Language key '{key}'s horizon must be {horizon}. Got {len(batched)}"
                )
                assert isinstance(item, list), f"Language batch item must be a list. Got {type(item)}"
                assert len(item) == 1, f"Language batch item must have exactly one item. Got {len(item)}"
                assert isinstance(item[0], str), f"Language batch item must be a string. Got {type(item[0])}"

    def check_action(self, action: dict[str, Any]) -> None:
        # Mirrors gr00t_policy.py Gr00tPolicy.check_action.
        _check_actions(action, self.modality_configs["action"], prefix="")

    # ----- inference

    def _unbatch_observation(self, value: dict[str, Any]) -> list[dict[str, Any]]:
        # Mirrors gr00t_policy.py Gr00tPolicy._unbatch_observation: B from the first video key (an empty
        # video map fails with IndexError, as upstream's does).
        batch_size = value["video"][list(value["video"].keys())[0]].shape[0]  # noqa: RUF015
        return [
            {
                "video": {k: v[i] for k, v in value["video"].items()},
                "state": {k: v[i] for k, v in value["state"].items()},
                "language": {k: v[i] for k, v in value["language"].items()},
            }
            for i in range(batch_size)
        ]

    def _get_action(
        self, observation: dict[str, Any], options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        samples = self._unbatch_observation(observation)
        states = np.zeros((len(samples), self.config["state_dim"]), dtype=np.float32)
        texts = []
        for i, sample in enumerate(samples):
            # Mirrors gr00t_policy.py Gr00tPolicy._to_vla_step_data: the prompt is the first text.
            texts.append(sample["language"][self.language_key][0])
            for key in self.modality_configs["state"].modality_keys:
                a, b = self.normalizer.state_ranges[key]
                value = np.asarray(sample["state"][key])
                _check_width(value, b - a)
                states[i, a:b] = value[-1]  # the last step is the reference (state_action_processor.py)
        normalized = numpy_forward(
            self.weights, self.config, self.normalizer.state(states), task_ids(self.config, texts)
        )
        actions = self.normalizer.absolute_actions(normalized, states)
        horizon = len(self.modality_configs["action"].delta_indices)
        result = {}
        for key in self.modality_configs["action"].modality_keys:
            a, b = self.normalizer.action_ranges[key]
            # Mirrors gr00t_policy.py Gr00tPolicy._get_action: every group cast to float32.
            result[key] = np.ascontiguousarray(actions[:, :horizon, a:b]).astype(np.float32)
        return result, {}

    def get_modality_config(self) -> dict[str, ModalityConfig]:
        return self.modality_configs

    def reset(self, options: dict[str, Any] | None = None) -> dict[str, Any]:
        # Mirrors gr00t_policy.py Gr00tPolicy.reset.
        return {}


class Gr00tSimPolicyWrapper(PolicyWrapper):
    def __init__(self, policy: Gr00tPolicy, *, strict: bool = True):
        # run_gr00t_server.py wraps with the default strict=True whatever --no-strict says.
        super().__init__(policy, strict=strict)
        self.policy: Gr00tPolicy = policy
        assert len(self.policy.modality_configs["language"].delta_indices) == 1, (
            "Only one language delta index is supported"
        )

    def check_observation(self, observation: dict[str, Any]) -> None:
        # Mirrors gr00t_policy.py Gr00tSimPolicyWrapper.check_observation: flat keys, no batch checks.
        configs = self.get_modality_config()
        for key in configs["video"].modality_keys:
            parsed = f"video.{key}"
            assert parsed in observation, f"Video key '{parsed}' must be in observation"
            _check_video(key, observation[parsed], len(configs["video"].delta_indices))
        for key in configs["state"].modality_keys:
            parsed = f"state.{key}"
            assert parsed in observation, f"State key '{parsed}' must be in observation"
            _check_state(key, observation[parsed], len(configs["state"].delta_indices))
        for key in configs["language"].modality_keys:
            # Mirrors the wrapper's legacy patch: a "task" key may arrive as annotation.human.coarse_action.
            if key == "task" and "annotation.human.coarse_action" in observation:
                key = "annotation.human.coarse_action"
            assert key in observation, f"Language key '{key}' must be in observation"
            batched = observation[key]
            assert isinstance(batched, tuple | list), (
                f"Language key '{key}' must be a tuple or list. Got {type(batched)}"
            )
            assert isinstance(batched[0], str), (
                f"Language batch item must be a string. Got {type(batched[0])}"
            )

    def _get_action(
        self, observation: dict[str, Any], options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        # Mirrors gr00t_policy.py Gr00tSimPolicyWrapper._get_action: flat -> nested, language (B,) ->
        # (B, 1), then the wrapped policy (with its own checks), actions back as action.<group>.
        nested: dict[str, dict[str, Any]] = {}
        for modality in ["video", "state", "language"]:
            nested[modality] = {}
            for key in self.policy.modality_configs[modality].modality_keys:
                if modality == "language":
                    parsed = (
                        "annotation.human.coarse_action"
                        if key == "task" and "annotation.human.coarse_action" in observation
                        else key
                    )
                else:
                    parsed = f"{modality}.{key}"
                value = observation[parsed]
                nested[modality][key] = [[str(item)] for item in value] if modality == "language" else value
        action, info = self.policy.get_action(nested, options)
        return {f"action.{key}": action[key] for key in action}, info

    def check_action(self, action: dict[str, Any]) -> None:
        # Mirrors gr00t_policy.py Gr00tSimPolicyWrapper.check_action.
        _check_actions(action, self.get_modality_config()["action"], prefix="action.")

    def get_modality_config(self) -> dict[str, ModalityConfig]:
        return self.policy.get_modality_config()


def _batch(bs: int, value: Any, what: str) -> int:
    # Mirrors check_observation: the first key sets the batch size, later keys must match it.
    if bs == -1:
        return len(value)
    assert len(value) == bs, f"{what} must have batch size {bs}. Got {len(value)}"
    return bs


def _check_video(key: str, value: Any, horizon: int) -> None:
    # Mirrors check_observation's video checks (both layouts name the bare key).
    assert isinstance(value, np.ndarray), f"Video key '{key}' must be a numpy array. Got {type(value)}"
    assert value.dtype == np.uint8, (
        f"Video key '{key}' must be a numpy array of type np.uint8. Got {value.dtype}"
    )
    assert value.ndim == 5, (
        f"Video key '{key}' must be a numpy array of shape (B, T, H, W, C), got {value.shape}"
    )
    assert value.shape[1] == horizon, f"Video key '{key}'s horizon must be {horizon}. Got {value.shape[1]}"
    assert value.shape[-1] == 3, f"Video key '{key}'s channel 'C' must be 3. Got {value.shape[-1]}"


def _check_state(key: str, value: Any, horizon: int) -> None:
    # Mirrors check_observation's state checks (the width D is not checked here, see _check_width).
    assert isinstance(value, np.ndarray), f"State key '{key}' must be a numpy array. Got {type(value)}"
    assert value.dtype == np.float32, (
        f"State key '{key}' must be a numpy array of type np.float32. Got {value.dtype}"
    )
    assert value.ndim == 3, f"State key '{key}' must be a numpy array of shape (B, T, D), got {value.shape}"
    assert value.shape[1] == horizon, f"State key '{key}'s horizon must be {horizon}. Got {value.shape[1]}"


def _check_width(value: np.ndarray, width: int) -> None:
    # Mirrors gr00t/data/utils.py normalize_values_minmax: a (T, D) state of the wrong width fails the
    # boolean mask of the statistics' width, with numpy's message.
    if value.ndim < 1 or value.shape[-1] != width:
        axis = max(value.ndim - 1, 0)
        got = value.shape[-1] if value.ndim else 0
        raise IndexError(
            f"boolean index did not match indexed array along dimension {axis}; dimension is {got} "
            f"but corresponding boolean dimension is {width}"
        )


def _check_actions(action: dict[str, Any], config: ModalityConfig, *, prefix: str) -> None:
    horizon = len(config.delta_indices)
    for key in config.modality_keys:
        parsed = prefix + key
        assert parsed in action, f"Action key '{parsed}' must be in action"
        value = action[parsed]
        assert isinstance(value, np.ndarray), f"Action key '{key}' must be a numpy array. Got {type(value)}"
        assert value.dtype == np.float32, (
            f"Action key '{key}' must be a numpy array of type np.float32. Got {value.dtype}"
        )
        assert value.ndim == 3, (
            f"Action key '{key}' must be a numpy array of shape (B, T, D), got {value.shape}"
        )
        assert value.shape[1] == horizon, (
            f"Action key '{key}'s horizon must be {horizon}. Got {value.shape[1]}"
        )
