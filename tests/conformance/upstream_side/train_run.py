"""Run upstream's real ``launch_finetune.py`` (tyro parse, ``experiment.run``, ``Gr00tTrainer``, HF Trainer
4.51.3, ``CheckpointFormatCallback``, logging set-up, tqdm bars) on CPU with only the model pipeline replaced.

    python train_run.py [launch_finetune.py flags ...]

What is replaced, and why: ``gr00t.model`` (``MODEL_REGISTRY``: the Eagle VLM, its processor and the
sharded dataset need flash-attn, torchvision and a GPU). Our pipeline hands ``experiment.run`` a tiny
``PreTrainedModel``, an iterable dataset with upstream's ``seed``/``reset_seed`` interface, a collator and a
processor whose ``save_pretrained`` writes the three files upstream's processor writes. ``tf32`` is turned
off on the config (TrainingArguments refuses tf32 without an Ampere GPU); nothing else is changed.

Test knobs (environment):
    GROOT_CONFORMANCE_NAN_FROM_STEP   the loss is NaN from this optimizer step on (a diverging run)
    GROOT_CONFORMANCE_CRASH           "optimizer": die after a checkpoint's weights, before its optimizer
                                      and trainer_state.json; "processor_copy": die after trainer_state.json,
                                      when CheckpointFormatCallback starts copying into checkpoint-N
    GROOT_CONFORMANCE_CRASH_AT_SAVE   the save step at which GROOT_CONFORMANCE_CRASH fires (default: first)
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import types
from pathlib import Path

import torch

UPSTREAM = Path(os.environ.get("GROOT_UPSTREAM_SRC", Path(__file__).resolve().parents[3]))


def _knob(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else None


class _Dataset(torch.utils.data.IterableDataset):
    """Endless samples; ``seed``/``reset_seed`` are what ``Gr00tTrainer.get_train_dataloader`` calls."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def reset_seed(self, seed: int) -> None:
        self.seed = seed

    def __iter__(self):
        gen = torch.Generator().manual_seed(self.seed)
        while True:
            x = torch.randn(4, generator=gen)
            yield {"x": x, "y": x.sum(dim=0, keepdim=True)}


def _build_model():
    from transformers import PretrainedConfig, PreTrainedModel

    class ToyConfig(PretrainedConfig):
        model_type = "groot_conformance_toy"

    class ToyModel(PreTrainedModel):
        config_class = ToyConfig

        def __init__(self, config: ToyConfig) -> None:
            super().__init__(config)
            self.linear = torch.nn.Linear(4, 1)
            self.forward_calls = 0

        def forward(self, x: torch.Tensor, y: torch.Tensor):
            self.forward_calls += 1
            loss = torch.nn.functional.mse_loss(self.linear(x), y)
            nan_from = _knob("GROOT_CONFORMANCE_NAN_FROM_STEP")
            if nan_from is not None and self.forward_calls >= nan_from:
                loss = loss * float("nan")
            return {"loss": loss}

    return ToyModel(ToyConfig())


class _Processor:
    def save_pretrained(self, save_directory: Path) -> list[Path]:
        save_directory = Path(save_directory)
        save_directory.mkdir(parents=True, exist_ok=True)
        files = {
            "processor_config.json": {"processor_class": "ToyProcessor"},
            "statistics.json": {"unitree_g1": {}},
            "embodiment_id.json": {"unitree_g1": 0},
        }
        for name, payload in files.items():
            (save_directory / name).write_text(json.dumps(payload))
        return [save_directory / name for name in files]


class _Pipeline:
    def __init__(self, config, save_cfg_dir) -> None:
        self.config = config
        config.training.tf32 = False  # TrainingArguments: tf32 needs an Ampere GPU (CPU recording)

    def setup(self) -> None:
        self.model = _build_model()

    def return_model(self):
        return self.model

    def return_dataset(self):
        return _Dataset(self.config.data.seed), None

    def return_collator(self):
        def collate(samples):
            return {key: torch.stack([s[key] for s in samples]) for key in samples[0]}

        return collate

    def return_processor(self) -> _Processor:
        return _Processor()


class _Registry:
    def get(self, _config_type):
        return _Pipeline


def _install_crash_knob() -> None:
    crash = os.environ.get("GROOT_CONFORMANCE_CRASH", "").strip()
    if not crash:
        return
    at_save = _knob("GROOT_CONFORMANCE_CRASH_AT_SAVE")
    import transformers

    def due(step: int) -> bool:
        return at_save is None or step == at_save

    if crash == "optimizer":
        original = transformers.Trainer._save_optimizer_and_scheduler

        def dying(self, output_dir):
            if due(self.state.global_step):
                print(f"GROOT_CONFORMANCE_CRASH=optimizer at {output_dir}", flush=True)
                os._exit(1)
            return original(self, output_dir)

        transformers.Trainer._save_optimizer_and_scheduler = dying
    elif crash == "processor_copy":
        import gr00t.experiment.utils as utils

        original_on_save = utils.CheckpointFormatCallback.on_save

        def dying_on_save(self, args, state, control, **kwargs):
            if due(state.global_step):
                print(f"GROOT_CONFORMANCE_CRASH=processor_copy at step {state.global_step}", flush=True)
                os._exit(1)
            return original_on_save(self, args, state, control, **kwargs)

        utils.CheckpointFormatCallback.on_save = dying_on_save
    else:
        raise SystemExit(f"GROOT_CONFORMANCE_CRASH={crash!r}: expected optimizer or processor_copy")


def main() -> None:
    stub = types.ModuleType("gr00t.model")
    stub.MODEL_REGISTRY = _Registry()
    sys.modules["gr00t.model"] = stub
    _install_crash_knob()
    script = UPSTREAM / "gr00t" / "experiment" / "launch_finetune.py"
    sys.argv = [str(script), *sys.argv[1:]]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
