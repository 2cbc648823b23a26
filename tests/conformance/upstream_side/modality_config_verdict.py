"""What the real n1.6.1 trainer does with a ``--modality_config_path`` file on a dataset, up to training.

    python modality_config_verdict.py CASES.json

``CASES.json``: ``[{"name", "argv": [launch_finetune.py flags ...]}, ...]``. Each case runs the real
``gr00t/experiment/launch_finetune.py`` as ``__main__`` (tyro, ``load_modality_config``: the config file
is imported and registers itself), with ``gr00t.experiment.experiment`` replaced by a ``run(config)`` that
does what the real one does with the data before the model matters: ``config.validate()``, then
``DatasetFactory.build``'s steps (``generate_stats``, ``generate_rel_stats``, ``ShardedSingleStepDataset``
with the config's modality configs), ``get_dataset_statistics()`` (processor set-up) and the first
shard's first step (``extract_step_data``). Video decodes with the ``opencv`` backend. Each case runs in
a fresh interpreter state for the registry: ``MODALITY_CONFIGS`` is restored between cases.

Prints one JSON document: ``{name: {"ok", "stage", "error": {"type", "message"} | null, "output"}}``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import runpy
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "stubs"))
import data_torchvision_shim  # noqa: F401 - before gr00t: video_utils imports torchvision

UPSTREAM = Path(os.environ.get("GROOT_UPSTREAM_SRC", Path(__file__).resolve().parents[3]))
SCRIPT = UPSTREAM / "gr00t" / "experiment" / "launch_finetune.py"


class _Done(Exception):
    pass


def _data_path(config) -> tuple[str, str]:
    spec = config.data.datasets[0]
    return spec.dataset_paths[0], spec.embodiment_tag


def _run_factory(config, stage: dict) -> None:
    from gr00t.data.dataset.sharded_single_step_dataset import ShardedSingleStepDataset, extract_step_data
    from gr00t.data.embodiment_tags import EmbodimentTag
    from gr00t.data.stats import generate_rel_stats, generate_stats

    stage["name"] = "validate"
    config.validate()
    path, tag = _data_path(config)
    stage["name"] = "generate_stats"
    generate_stats(path)
    stage["name"] = "generate_rel_stats"
    generate_rel_stats(path, EmbodimentTag(tag))
    stage["name"] = "dataset"
    modality_configs = config.data.modality_configs[tag]
    dataset = ShardedSingleStepDataset(
        dataset_path=path,
        embodiment_tag=EmbodimentTag(tag),
        modality_configs=modality_configs,
        video_backend="opencv",
    )
    stage["name"] = "statistics"
    dataset.get_dataset_statistics()
    stage["name"] = "step"
    episode = dataset.episode_loader[0]
    extract_step_data(episode, 0, modality_configs, EmbodimentTag(tag))
    stage["name"] = "done"
    raise _Done


def _case(argv: list[str]) -> dict:
    from gr00t.configs.data import embodiment_configs

    saved = copy.copy(embodiment_configs.MODALITY_CONFIGS)
    stage = {"name": "launch"}

    def run(config):
        _run_factory(config, stage)

    stub = types.ModuleType("gr00t.experiment.experiment")
    stub.run = run
    sys.modules["gr00t.experiment.experiment"] = stub
    out = io.StringIO()
    error = None
    sys.argv = [str(SCRIPT), *argv]
    before = list(sys.path)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            runpy.run_path(str(SCRIPT), run_name="__main__")
    except _Done:
        pass
    except SystemExit as exc:
        error = {"type": "SystemExit", "message": str(exc.code)}
    except BaseException as exc:  # the verdict is the exception upstream raises
        error = {"type": type(exc).__name__, "message": str(exc)[:400]}
    finally:
        embodiment_configs.MODALITY_CONFIGS.clear()
        embodiment_configs.MODALITY_CONFIGS.update(saved)
        sys.path[:] = before
        for name in [
            m
            for m, mod in sys.modules.items()
            if getattr(mod, "__file__", "") and "cfgs" in str(mod.__file__)
        ]:
            del sys.modules[name]
    return {"ok": error is None, "stage": stage["name"], "error": error, "output": out.getvalue()[-1500:]}


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps({case["name"]: _case(case["argv"]) for case in cases}))


if __name__ == "__main__":
    main()
