"""Parse command lines exactly as upstream's ``launch_finetune.py`` does, without training.

    python train_parse.py CASES.json

``CASES.json``: ``[{"name": ..., "argv": [launch_finetune.py flags ...]}, ...]``. Each case runs the real
script as ``__main__`` (``tyro.cli(FinetuneConfig)``, the embodiment lookup, ``get_default_config()``
and the copy of every flag onto the config); only ``gr00t.experiment.experiment`` is replaced, because
its ``run(config)`` is training itself (and it imports the model stack: torchvision, flash-attn), which
the parse path never needs. Our ``run`` records the config it is handed and stops.

Prints one JSON document: ``{"fields": [...], "embodiment_tags": [...], "cases": {name: {"exit_code",
"parsed", "config", "output"}}}``; ``output`` is what tyro printed (stdout and stderr, 80 columns).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import io
import json
import os
import runpy
import sys
import types
from pathlib import Path

UPSTREAM = Path(os.environ.get("GROOT_UPSTREAM_SRC", Path(__file__).resolve().parents[3]))
SCRIPT = UPSTREAM / "gr00t" / "experiment" / "launch_finetune.py"


class _Stop(Exception):
    """Raised by the replaced ``run``: the parse is complete."""


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return "nan"
    return value


def _config_view(config) -> dict:
    model = config.model
    training = config.training
    return {
        "model": {
            name: _plain(getattr(model, name))
            for name in (
                "tune_llm",
                "tune_visual",
                "tune_projector",
                "tune_diffusion_model",
                "state_dropout_prob",
                "random_rotation_angle",
                "color_jitter_params",
                "extra_augmentation_config",
            )
        },
        "training": {
            name: _plain(getattr(training, name))
            for name in (
                "experiment_name",
                "start_from_checkpoint",
                "global_batch_size",
                "dataloader_num_workers",
                "learning_rate",
                "gradient_accumulation_steps",
                "output_dir",
                "save_steps",
                "save_total_limit",
                "num_gpus",
                "use_wandb",
                "max_steps",
                "weight_decay",
                "warmup_ratio",
                "wandb_project",
            )
        },
        "data": {
            "datasets": [
                {"dataset_paths": list(d.dataset_paths), "embodiment_tag": _plain(d.embodiment_tag)}
                for d in config.data.datasets
            ],
            "shard_size": config.data.shard_size,
            "episode_sampling_rate": config.data.episode_sampling_rate,
            "num_shards_per_epoch": config.data.num_shards_per_epoch,
        },
    }


def _parse(argv: list[str]) -> dict:
    import tyro

    captured: dict = {}
    real_cli = tyro.cli

    def recording_cli(*args, **kwargs):
        result = real_cli(*args, **kwargs)
        captured["parsed"] = {f.name: _plain(getattr(result, f.name)) for f in dataclasses.fields(result)}
        return result

    def run(config):
        captured["config"] = _config_view(config)
        raise _Stop

    stub = types.ModuleType("gr00t.experiment.experiment")
    stub.run = run
    sys.modules["gr00t.experiment.experiment"] = stub
    tyro.cli = recording_cli
    out = io.StringIO()
    code = 0
    sys.argv = [str(SCRIPT), *argv]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            runpy.run_path(str(SCRIPT), run_name="__main__")
    except _Stop:
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        tyro.cli = real_cli
    return {
        "exit_code": code,
        "parsed": captured.get("parsed"),
        "config": captured.get("config"),
        "output": out.getvalue(),
    }


def main() -> None:
    os.environ.pop("COLUMNS", None)  # rich's width for a pipe: 80, as under torchrun
    cases = json.loads(Path(sys.argv[1]).read_text())
    from gr00t.configs.finetune_config import FinetuneConfig
    from gr00t.data.embodiment_tags import EmbodimentTag

    fields = []
    for field in dataclasses.fields(FinetuneConfig):
        default = None if field.default is dataclasses.MISSING else _plain(field.default)
        annotation = (
            field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))
        )
        fields.append(
            {
                "name": field.name,
                "annotation": annotation,
                "required": field.default is dataclasses.MISSING,
                "default": default,
            }
        )
    result = {
        "fields": fields,
        "embodiment_tags": [member.name for member in EmbodimentTag],
        "cases": {case["name"]: _parse(case["argv"]) for case in cases},
    }
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
