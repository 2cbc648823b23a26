"""Fine-tune GR00T N1.6 (groot-ops stand-in of Isaac-GR00T's gr00t/experiment/launch_finetune.py).

Run under torchrun exactly like upstream:
    torchrun --nproc_per_node 1 gr00t/experiment/launch_finetune.py --base_model_path nvidia/GR00T-N1.6-3B \
        --dataset_path DATA --embodiment_tag UNITREE_G1 --num_gpus 1 --output_dir OUT
Every launch resumes from the newest checkpoint-N in the output directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Upstream is installed with `pip install -e .`; the stand-in also works from a plain checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gr00t.experiment.args import parse_args


def load_modality_config(modality_config_path: str) -> None:
    # gr00t/experiment/launch_finetune.py load_modality_config: the file's directory goes to the END of
    # sys.path and the file is imported by its stem (it registers itself); anything else is refused.
    import importlib

    path = Path(modality_config_path)
    if path.exists() and path.suffix == ".py":
        sys.path.append(str(path.parent))
        importlib.import_module(path.stem)
        print(f"Loaded modality config: {path}")
    else:
        raise FileNotFoundError(f"Modality config path does not exist: {modality_config_path}")


def main() -> int:
    # gr00t/experiment/launch_finetune.py: tyro.cli(FinetuneConfig), then experiment.run.
    config = parse_args()
    # Every rank registers the config (launch_finetune.py __main__).
    if config.modality_config_path is not None:
        load_modality_config(config.modality_config_path)
    from gr00t.experiment.experiment import run

    run(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
