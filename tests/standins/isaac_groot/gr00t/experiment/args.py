"""Command line of launch_finetune.py, with the flags, defaults and spellings of n1.6.1 (tyro):
``--snake_case`` and ``--kebab-case`` both work, booleans are ``--flag`` / ``--no-flag``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gr00t.data.embodiment import EMBODIMENT_TAGS

COLOR_JITTER_KEYS = ("brightness", "contrast", "saturation", "hue")

# name -> (type, default); None as the default of a required flag is spelled out by REQUIRED.
VALUE_FLAGS: dict[str, tuple[type, object]] = {
    "base_model_path": (str, None),
    "dataset_path": (str, None),
    "embodiment_tag": (str, None),
    "global_batch_size": (int, 64),
    "dataloader_num_workers": (int, 2),
    "learning_rate": (float, 1e-4),
    "gradient_accumulation_steps": (int, 1),
    "output_dir": (str, "./outputs"),
    "save_steps": (int, 1000),
    "save_total_limit": (int, 5),
    "num_gpus": (int, 1),
    "max_steps": (int, 10000),
    "weight_decay": (float, 1e-5),
    "warmup_ratio": (float, 0.05),
    "experiment_name": (str, None),
}
REQUIRED = ("base_model_path", "dataset_path", "embodiment_tag")
BOOL_FLAGS = {
    "tune_llm": False,
    "tune_visual": False,
    "tune_projector": True,
    "tune_diffusion_model": True,
    "use_wandb": False,
}


def _spellings(name: str, prefix: str = "") -> list[str]:
    snake = f"--{prefix}{name}"
    kebab = f"--{prefix.replace('_', '-')}{name.replace('_', '-')}"
    return [snake] if snake == kebab else [snake, kebab]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # tyro's wording, which failure classifiers know
        self.print_usage()
        self.exit(2, f"{self.prog}: error: {message}\nParsing error: see --help for the accepted flags\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="launch_finetune.py",
        allow_abbrev=False,
        description="Fine-tune GR00T N1.6 (groot-ops stand-in).",
    )
    for name, (kind, default) in VALUE_FLAGS.items():
        parser.add_argument(
            *_spellings(name), dest=name, type=kind, default=default, required=name in REQUIRED
        )
    for name, default in BOOL_FLAGS.items():
        group = parser.add_mutually_exclusive_group()
        group.add_argument(*_spellings(name), dest=name, action="store_true", default=default)
        group.add_argument(*_spellings(name, "no_"), dest=name, action="store_false")
    parser.add_argument(
        *_spellings("color_jitter_params"), dest="color_jitter_params", nargs="+", default=None
    )
    return parser


def _color_jitter(values: list[str] | None) -> dict[str, float] | None:
    if values is None:
        return None
    if len(values) % 2:
        raise ValueError(f"--color_jitter_params needs KEY VALUE pairs, got {values}")
    result = {}
    for key, raw in zip(values[::2], values[1::2], strict=True):
        if key not in COLOR_JITTER_KEYS:
            raise ValueError(
                f"--color_jitter_params: unknown key {key!r} (expected {list(COLOR_JITTER_KEYS)})"
            )
        try:
            result[key] = float(raw)
        except ValueError:
            raise ValueError(f"--color_jitter_params: {key} value {raw!r} is not a number") from None
    return result


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.color_jitter_params = _color_jitter(args.color_jitter_params)
    except ValueError as exc:
        parser.error(str(exc))
    if args.embodiment_tag not in EMBODIMENT_TAGS:
        parser.error(f"--embodiment_tag: {args.embodiment_tag!r} is not one of {sorted(EMBODIMENT_TAGS)}")
    for name in ("global_batch_size", "save_steps", "save_total_limit", "num_gpus", "max_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.gradient_accumulation_steps < 1:
        parser.error("--gradient_accumulation_steps must be >= 1")
    if args.global_batch_size % args.num_gpus:
        parser.error(
            f"--global_batch_size {args.global_batch_size} is not divisible by --num_gpus {args.num_gpus}"
        )
    return args
