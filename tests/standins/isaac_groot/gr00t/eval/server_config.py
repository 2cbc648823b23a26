"""run_gr00t_server.py's command line, parsed as upstream's tyro ``ServerConfig`` parses it.

tyro accepts ``--kebab-case`` and ``--snake_case`` spellings, ``--flag=value``, ``--no-<flag>`` for
booleans (which take no value), ``None`` for optional values, enum members by name only, no
abbreviations; the last of a repeated flag wins; unknown flags or stray words exit 2.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from gr00t.data.embodiment_tags import EmbodimentTag


# Mirrors gr00t/eval/run_gr00t_server.py ServerConfig: fields, types and defaults.
@dataclass
class ServerConfig:
    model_path: str | None = None
    embodiment_tag: EmbodimentTag = EmbodimentTag.NEW_EMBODIMENT
    device: str = "cuda"
    dataset_path: str | None = None
    modality_config_path: str | None = None
    execution_horizon: int | None = None
    host: str = "0.0.0.0"
    port: int = 5555
    strict: bool = True
    use_sim_policy_wrapper: bool = False


def _optional(kind):
    # Mirrors tyro's parse of ``X | None``: the word None is None.
    def parse(text: str):
        return None if text == "None" else kind(text)

    parse.__name__ = kind.__name__
    return parse


def _spellings(name: str) -> list[str]:
    return sorted({f"--{name}", f"--{name.replace('_', '-')}"})


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_gr00t_server.py", allow_abbrev=False)
    defaults = ServerConfig()
    for name, kind in (
        ("model_path", _optional(str)),
        ("dataset_path", _optional(str)),
        ("modality_config_path", _optional(str)),
        ("execution_horizon", _optional(int)),
        ("device", str),
        ("host", str),
        ("port", int),
    ):
        p.add_argument(*_spellings(name), dest=name, type=kind, default=getattr(defaults, name))
    p.add_argument(
        *_spellings("embodiment_tag"),
        dest="embodiment_tag",
        choices=[tag.name for tag in EmbodimentTag],
        default=defaults.embodiment_tag.name,
    )
    for name in ("strict", "use_sim_policy_wrapper"):
        p.add_argument(*_spellings(name), dest=name, action="store_true", default=getattr(defaults, name))
        p.add_argument(*_spellings(f"no_{name}"), dest=name, action="store_false")
    return p


def parse_server_config(argv: list[str] | None = None) -> ServerConfig:
    args = vars(parser().parse_args(argv))
    args["embodiment_tag"] = EmbodimentTag[args["embodiment_tag"]]
    return ServerConfig(**args)
