"""Spec validation and the torchrun command line (contract section 5)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from groot_ops.errors import ConfigError
from groot_ops.train.command import ALLOC_CONF, child_env, torchrun_argv
from groot_ops.train.spec import load_spec


def base(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "recipe": "fold-towel",
        "runs_root": "/ws/runs",
        "isaac_groot_dir": "/ws/Isaac-GR00T",
        "python": "/env/bin/python",
        "dataset_path": "/ws/datasets/groot/fold",
        "output_dir": "/ws/checkpoints/fold-towel",
        "base_model_path": "nvidia/GR00T-N1.6-3B",
        "flags": {"global_batch_size": 64, "max_steps": 10000, "save_steps": 2000},
    }
    spec.update(over)
    return spec


def test_single_node_command_has_contract_flags_and_num_gpus_equal_world_size() -> None:
    spec = load_spec(
        base(
            nproc_per_node=2,
            flags={
                "global_batch_size": 64,
                "max_steps": 10000,
                "save_steps": 2000,
                "save_total_limit": 2,
                "tune_llm": False,
                "tune_projector": True,
                "color_jitter_params": {"brightness": 0.3, "contrast": 0.4},
            },
        )
    )
    argv = torchrun_argv(spec)
    assert argv[:4] == ["/env/bin/python", "-m", "torch.distributed.run", "--nnodes=1"]
    assert "--standalone" in argv and "--nproc_per_node=2" in argv
    assert "/ws/Isaac-GR00T/gr00t/experiment/launch_finetune.py" in argv
    tail = argv[argv.index("/ws/Isaac-GR00T/gr00t/experiment/launch_finetune.py") + 1 :]
    pairs = dict(zip(tail[::2], tail[1::2], strict=False))
    assert pairs["--base_model_path"] == "nvidia/GR00T-N1.6-3B"
    assert pairs["--embodiment_tag"] == "UNITREE_G1"
    assert pairs["--num_gpus"] == "2"
    assert "--no-tune-llm" in tail and "--tune-projector" in tail
    jitter = tail.index("--color_jitter_params")
    assert tail[jitter + 1 : jitter + 5] == ["brightness", "0.3", "contrast", "0.4"]
    assert tail[tail.index("--save_total_limit") + 1] == "2"


def test_multi_node_command_rendezvous_on_the_first_host_with_static_ranks() -> None:
    spec = load_spec(base(nnodes=2, node_rank=1, nproc_per_node=2, rdzv_endpoint="ws1:29400"))
    argv = torchrun_argv(spec)
    assert {"--nnodes=2", "--node_rank=1", "--master_addr=ws1", "--master_port=29400"} <= set(argv)
    assert "--standalone" not in argv and not any(a.startswith("--rdzv") for a in argv)
    assert argv[argv.index("--num_gpus") + 1] == "4"


def test_multi_node_command_with_c10d() -> None:
    spec = load_spec(
        base(nnodes=2, node_rank=1, nproc_per_node=1, rdzv_endpoint="ws1:29400", rdzv_backend="c10d")
    )
    argv = torchrun_argv(spec)
    assert "--standalone" not in argv
    assert {"--nnodes=2", "--node_rank=1", "--rdzv_backend=c10d", "--rdzv_endpoint=ws1:29400"} <= set(argv)
    assert "--rdzv_id=fold-towel" in argv
    assert argv[argv.index("--num_gpus") + 1] == "2"


def test_warm_start_is_explicit_and_replaces_the_base_model_only() -> None:
    spec = load_spec(base(warm_start_from="/ws/checkpoints/old/checkpoint-6000"))
    argv = torchrun_argv(spec)
    assert argv[argv.index("--base_model_path") + 1] == "/ws/checkpoints/old/checkpoint-6000"
    assert argv[argv.index("--output_dir") + 1] == "/ws/checkpoints/fold-towel"


def test_a_hub_warm_start_source_goes_into_the_launch_record(tmp_path) -> None:
    from groot_ops.train.provenance import launch_record

    source = {"repo_id": "o/phase1", "revision": "main", "sha": "9" * 40}
    spec = load_spec(base(warm_start_from=str(tmp_path / "o--phase1" / ("9" * 40)), warm_start_source=source))
    assert launch_record(spec)["warm_start"] == source
    assert launch_record(load_spec(base()))["warm_start"] is None
    with pytest.raises(ConfigError, match=r"warm_start_source\.sha must be a 40-hex"):
        load_spec(base(warm_start_from="/x", warm_start_source={**source, "sha": "main"}))
    with pytest.raises(ConfigError, match="warm_start_source needs warm_start_from"):
        load_spec(base(warm_start_source=source))


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"nproc_per_node": 3}, "global_batch_size 64 is not divisible by the world size 3"),
        ({"flags": {"resume": True}}, "resume are not launch_finetune.py flags"),
        ({"flags": {"num_gpus": 2}}, "num_gpus are set from the recipe's own fields"),
        ({"nnodes": 2}, "needs rdzv_endpoint"),
        ({"nnodes": 2, "node_rank": 2, "rdzv_endpoint": "h:1"}, "node_rank 2 is outside 0..1"),
        ({"env": {"WANDB_API_KEY": "x"}}, "looks like a secret"),
        ({"bogus": 1}, "unknown key(s) bogus"),
        ({"recipe": "a b"}, "recipe name 'a b'"),
        ({"dataset_path": ""}, "'dataset_path' is required"),
        ({"nnodes": "two"}, "'nnodes' must be an integer"),
        ({"nnodes": 2, "rdzv_endpoint": "ws1"}, "rdzv_endpoint 'ws1' must be host:port"),
        ({"rdzv_backend": "etcd"}, "rdzv_backend must be static or c10d"),
        ({"flags": {"max_steps": 0}}, "recipe fold-towel: training flag max_steps must be >= 1, got 0"),
    ],
)
def test_bad_specs_are_refused_with_the_reason(over: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_spec(base(**over))
    assert needle in str(err.value)


def test_experiment_name_moves_the_checkpoint_dir() -> None:
    spec = load_spec(base(flags={"experiment_name": "exp1"}))
    assert str(spec.checkpoint_dir) == "/ws/checkpoints/fold-towel/exp1"
    assert str(load_spec(base()).quarantine_path) == "/ws/checkpoints/.quarantine/fold-towel"


def test_child_env_sets_allocator_and_pythonpath_and_keeps_secrets_out_of_argv(monkeypatch) -> None:
    monkeypatch.delenv("PYTORCH_CUDA_ALLOC_CONF", raising=False)
    monkeypatch.setenv("PYTHONPATH", "/other")
    spec = load_spec(base(env={"HF_HOME": "/ws/hf-cache"}))
    env = child_env(spec, {"WANDB_API_KEY": "s3cret"})
    assert env["PYTORCH_CUDA_ALLOC_CONF"] == ALLOC_CONF
    assert env["PYTHONPATH"].split(":")[:2] == ["/ws/Isaac-GR00T", "/other"]
    assert env["HF_HOME"] == "/ws/hf-cache"
    assert env["WANDB_API_KEY"] == "s3cret"
    assert not any("s3cret" in a for a in torchrun_argv(spec))


def test_defaults_fill_python_and_flags() -> None:
    spec = load_spec({k: v for k, v in base(flags={}).items() if k != "python"})
    assert spec.python == sys.executable
    assert spec.max_steps == 10000 and spec.save_steps == 1000


def test_launch_provenance_is_accepted_and_stays_out_of_the_command() -> None:
    spec = load_spec(base(groot_ops_commit="a" * 40, groot_ops_dirty=True))
    assert spec.groot_ops_commit == "a" * 40 and spec.groot_ops_dirty is True
    assert spec.to_dict()["groot_ops_commit"] == "a" * 40
    assert torchrun_argv(spec) == torchrun_argv(load_spec(base()))
    assert load_spec(base()).groot_ops_commit is None
    with pytest.raises(ConfigError, match="groot_ops_dirty must be a boolean"):
        load_spec(base(groot_ops_dirty="yes"))


def test_a_new_groot_ops_commit_does_not_make_a_finished_run_look_changed(tmp_path) -> None:
    from groot_ops.atomic import write_json
    from groot_ops.train import control as supervisor
    from groot_ops.train.runfiles import RunFiles

    spec = base(
        runs_root=str(tmp_path / "runs"),
        output_dir=str(tmp_path / "ckpt"),
        groot_ops_commit="a" * 40,
        groot_ops_dirty=False,
    )
    files = RunFiles(spec["runs_root"], spec["recipe"])
    files.dir.mkdir(parents=True)
    argv = torchrun_argv(load_spec(spec))
    write_json(files.cmdline, {"argv": argv, "command": "", "secret_env": [], "groot_ops_commit": "a" * 40})
    write_json(files.status, {"recipe": spec["recipe"], "state": "finished", "groot_ops_commit": "a" * 40})
    for commit in ("b" * 40, None):
        again = supervisor.start({**spec, "groot_ops_commit": commit, "groot_ops_dirty": True}, check=True)
        assert again["action"] == "noop" and again["changed"] is False
        assert again["diff"]["before"] == again["diff"]["after"]
    assert (supervisor.runfiles.read_json(files.cmdline) or {})["groot_ops_commit"] == "a" * 40
    # A different command (not a different commit) is what counts as a change.
    changed = supervisor.start({**spec, "flags": {**spec["flags"], "max_steps": 20000}}, check=True)
    assert changed["action"] == "launch" and changed["changed"] is True


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        # As -e gives them: strings. Unambiguous spellings become the field's type.
        ({"tune_llm": "false", "use_wandb": "True"}, ["--no-tune-llm", "--use-wandb"]),
        ({"global_batch_size": "32", "learning_rate": "1e-4"}, ["--global_batch_size", "32"]),
        ({"color_jitter_params": {"hue": "0.08", "brightness": 0.3}}, ["--color_jitter_params"]),
        ({"color_jitter_params": None, "experiment_name": None}, []),
    ],
)
def test_flags_are_normalised_to_upstream_types(flags: dict[str, Any], expected: list[str]) -> None:
    spec = load_spec(base(flags={"global_batch_size": 64, **flags}))
    tail = torchrun_argv(spec)
    for word in expected:
        assert word in tail
    if "color_jitter_params" in spec.flags:
        # Rendered in ColorJitter's key order, as floats tyro parses.
        at = tail.index("--color_jitter_params")
        assert tail[at + 1 : at + 5] == ["brightness", "0.3", "hue", "0.08"]
    assert "None" not in tail and "--experiment_name" not in tail


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (
            {"tune_llm": "fasle"},
            "training flag tune_llm must be a boolean (launch_finetune.py --tune-llm/--no-tune-llm)",
        ),
        ({"global_batch_size": "64.0"}, "training flag global_batch_size must be an integer"),
        ({"global_batch_size": True}, "training flag global_batch_size must be an integer"),
        ({"save_steps": 2.5}, "training flag save_steps must be an integer"),
        ({"learning_rate": "fast"}, "training flag learning_rate must be a number"),
        ({"learning_rate": "nan"}, "learning_rate must be a finite number"),
        ({"warmup_ratio": 1.5}, "warmup_ratio must be >= 0 and <= 1"),
        ({"color_jitter_params": {}}, "color_jitter_params is empty ({}): launch_finetune.py would parse"),
        ({"color_jitter_params": {"blur": 1}}, "color_jitter_params has unknown key(s) blur"),
        ({"color_jitter_params": "bright"}, "color_jitter_params must be a mapping"),
        ({"color_jitter_params": {"hue": "lots"}}, "color_jitter_params.hue must be a number"),
        ({"experiment_name": 7}, "training flag experiment_name must be a non-empty string"),
        ({"extra_augmentation_config": "[1]"}, "extra_augmentation_config must be a JSON object"),
        ({"tune_llm": None}, "training flag tune_llm must be set"),
    ],
)
def test_bad_flag_types_name_the_recipe_and_key(flags: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_spec(base(flags=flags))
    assert str(err.value).startswith("recipe fold-towel: ")
    assert needle in str(err.value)


def test_embodiment_tag_is_a_member_name() -> None:
    assert load_spec(base(embodiment_tag="NEW_EMBODIMENT")).embodiment_tag == "NEW_EMBODIMENT"
    with pytest.raises(ConfigError) as err:
        load_spec(base(embodiment_tag="unitree_g1"))
    assert "recipe fold-towel: embodiment_tag 'unitree_g1' is not an Isaac-GR00T n1.6.1 embodiment" in str(
        err.value
    )
    assert "launch_finetune.py takes the member name UNITREE_G1" in str(err.value)


def test_all_upstream_fields_are_accepted() -> None:
    spec = load_spec(
        base(
            flags={
                "state_dropout_prob": 0.1,
                "random_rotation_angle": 5,
                "extra_augmentation_config": {"masked_region_transforms": []},
                "wandb_project": "p",
                "shard_size": 512,
                "episode_sampling_rate": 0.2,
                "num_shards_per_epoch": 1000,
            }
        )
    )
    tail = torchrun_argv(spec)
    assert tail[tail.index("--extra_augmentation_config") + 1] == '{"masked_region_transforms":[]}'
    assert tail[tail.index("--random_rotation_angle") + 1] == "5"
