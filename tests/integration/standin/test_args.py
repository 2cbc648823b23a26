"""launch_finetune.py's command line: the n1.6.1 flags in both spellings, and what it rejects."""

from __future__ import annotations

import sys

import pytest

from tests.standins.model_fixture import STANDIN_ROOT

if str(STANDIN_ROOT) not in sys.path:
    sys.path.insert(0, str(STANDIN_ROOT))

from gr00t.experiment.args import parse_args

REQUIRED = ["--base_model_path", "m", "--dataset_path", "d", "--embodiment_tag", "UNITREE_G1"]


def test_defaults_match_the_contract() -> None:
    args = parse_args(REQUIRED)
    assert (args.global_batch_size, args.learning_rate, args.save_steps, args.save_total_limit) == (
        64,
        1e-4,
        1000,
        5,
    )
    assert (args.num_gpus, args.max_steps, args.weight_decay, args.warmup_ratio) == (1, 10000, 1e-5, 0.05)
    assert (args.tune_llm, args.tune_visual, args.tune_projector, args.tune_diffusion_model) == (
        False,
        False,
        True,
        True,
    )
    assert args.output_dir == "./outputs" and args.color_jitter_params is None and not args.use_wandb


def test_kebab_case_booleans_and_color_jitter() -> None:
    args = parse_args(
        ["--base-model-path", "m", "--dataset-path", "d", "--embodiment-tag", "UNITREE_G1", "--tune-llm",
         "--no-tune-projector", "--no_tune_diffusion_model", "--global-batch-size", "32", "--num-gpus", "2",
         "--color_jitter_params", "brightness", "0.3", "contrast", "0.4", "saturation", "0.5", "hue", "0.08"]
    )  # fmt: skip
    assert args.tune_llm and not args.tune_projector and not args.tune_diffusion_model
    assert args.global_batch_size == 32 and args.num_gpus == 2
    assert args.color_jitter_params == {"brightness": 0.3, "contrast": 0.4, "saturation": 0.5, "hue": 0.08}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resume"], "unrecognized arguments: --resume"),
        (["--modality_config_pat", "x"], "unrecognized arguments"),
        (["--global_batch_size", "10", "--num_gpus", "4"], "not divisible by --num_gpus 4"),
        (["--color_jitter_params", "brightness"], "KEY VALUE pairs"),
        (["--color_jitter_params", "blur", "0.1"], "unknown key 'blur'"),
        (["--color_jitter_params", "hue", "lots"], "hue value 'lots' is not a number"),
        (["--max_steps", "0"], "--max_steps must be >= 1"),
        (["--tune-llm", "--no-tune-llm"], "not allowed with argument"),
    ],
)
def test_rejected(extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args([*REQUIRED, *extra])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_embodiment_must_be_an_enum_member_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--base_model_path", "m", "--dataset_path", "d", "--embodiment_tag", "unitree_g1"])
    assert "'unitree_g1' is not one of ['UNITREE_G1']" in capsys.readouterr().err


def test_required_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--base_model_path", "m"])
    assert "the following arguments are required: --dataset_path" in capsys.readouterr().err
