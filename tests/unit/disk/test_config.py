from __future__ import annotations

import pytest

from groot_ops.disk.config import DiskGuardConfig
from groot_ops.errors import ConfigError


def test_defaults_and_coercion() -> None:
    cfg = DiskGuardConfig.from_dict(
        {
            "watch_path": "/ws",
            "act_below_percent": "10",
            "runs": [{"output_dir": "/ws/c/a", "state": "finished"}],
        }
    )
    assert cfg.act_below_percent == 10.0
    assert cfg.stop_at_percent == 25.0
    assert cfg.runs[0].retention == 2
    assert cfg.base_model_repo_ids == ("nvidia/GR00T-N1.6-3B",)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({}, "watch_path is required"),
        ({"watch_path": "/ws", "act_below_precent": 5}, "act_below_precent"),
        ({"watch_path": "/ws", "act_below_percent": 30, "stop_at_percent": 20}, "stop_at_percent"),
        ({"watch_path": "/ws", "act_below_percent": 130}, "between 0 and 100"),
        ({"watch_path": "/ws", "checkpoint_margin": 0.5}, "checkpoint_margin"),
        ({"watch_path": "/ws", "target": "everything"}, "target"),
        ({"watch_path": "/ws", "datasets_in_use": "/ws/datasets"}, "datasets_in_use must be a list"),
        ({"watch_path": "/ws", "docker_prune": "yes"}, "docker_prune must be true or false"),
        ({"watch_path": "/ws", "docker_prune_filter": "groot"}, "label=KEY=VALUE"),
        ({"watch_path": "/ws", "steps": ["hf_incomplete", "rm_rf"]}, "rm_rf"),
        ({"watch_path": "/ws", "runs": [{"output_dir": "/ws/c/a", "state": "done"}]}, "/ws/c/a"),
        ({"watch_path": "/ws", "runs": [{"output_dir": "/ws/c/a", "retention": 0}]}, "retention"),
        ({"watch_path": "/ws", "runs": [{"state": "finished"}]}, "runs[0]: output_dir is required"),
        ({"watch_path": "/ws", "tmp_max_age_days": True}, "tmp_max_age_days must be a number"),
        ({"watch_path": "ws"}, "watch_path must be an absolute path"),
        (
            {"watch_path": "/ws", "pip_cache_dirs": ["/a", "b"]},
            "pip_cache_dirs must be an absolute path, got 'b'",
        ),
        ({"watch_path": "/ws", "runs": [{"output_dir": "c/a"}]}, "runs[0].output_dir must be an absolute"),
    ],
)
def test_bad_config_names_the_key(raw: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        DiskGuardConfig.from_dict(raw)
    assert words in str(err.value)


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        DiskGuardConfig.from_dict(["/ws"])  # type: ignore[arg-type]
