"""launch_finetune.py's command line, parsed the way tyro 0.9.17 parses n1.6.1's ``FinetuneConfig``.

Upstream calls ``tyro.cli(FinetuneConfig)`` (gr00t/experiment/launch_finetune.py). The rules that matter to
groot-ops, each held against tyro's own parse in ``tests/fixtures/upstream/train/parse-*.json``:
``--snake_case`` and ``--kebab-case`` spellings; booleans are bare ``--flag`` / ``--no-flag`` (any mix of
``-``/``_``; the last one wins; a value after them is an unrecognized argument); ``X | None`` fields take the
literal ``None``; ``dict[str, float]`` takes KEY VALUE pairs (a bare flag is ``{}``); an enum takes the member
name; no range checks. Errors print tyro's panel title and message and exit 2.
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap
import typing
from collections.abc import Sequence

from gr00t.configs.finetune_config import EmbodimentTag, FinetuneConfig

PANEL_WIDTH = 80  # rich's width for a pipe, which is what torchrun's output is


class ParseError(Exception):
    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


def _panel(title: str, message: str) -> str:
    inner = PANEL_WIDTH - 4
    lines = [f"╭─ {title} " + "─" * (PANEL_WIDTH - len(title) - 5) + "╮"]
    for paragraph in message.split("\n"):
        for line in textwrap.wrap(paragraph, inner) or [""]:
            lines.append(f"│ {line.ljust(inner)} │")
    lines.append(f"│ {'─' * inner} │")
    lines.append(f"│ {'For full helptext, run launch_finetune.py --help'.ljust(inner)} │")
    lines.append("╰" + "─" * (PANEL_WIDTH - 2) + "╯")
    return "\n".join(lines) + "\n"


def _kebab(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def _field_types() -> dict[str, str]:
    return {f.name: str(f.type) for f in dataclasses.fields(FinetuneConfig)}


def _spellings(name: str) -> set[str]:
    return {f"--{name}", _kebab(name)}


def _negations(name: str) -> set[str]:
    return {f"--no{sep}{body}" for sep in ("-", "_") for body in (name, name.replace("_", "-"))}


def _convert(name: str, kind: str, values: list[str]) -> object:
    flag = _kebab(name)
    if kind.endswith(" | None") and values == ["None"]:
        return None
    base = kind.removesuffix(" | None")
    if base == "dict[str, float]":
        if len(values) % 2:
            raise ParseError(
                "Value error",
                f"Error parsing {flag}: no type in [<class 'NoneType'>, dict] could be instantiated from "
                f"{values}.\n\nGot errors:\n- <class 'NoneType'>: {values} does not match choices "
                "('None',)\n- dict: Incomplete set of key-value pairs!",
            )
        result: dict[str, float] = {}
        for key, raw in zip(values[::2], values[1::2], strict=True):
            try:
                result[key] = float(raw)
            except ValueError as exc:
                raise ParseError(
                    "Value error",
                    f"Error parsing {flag}: no type in [<class 'NoneType'>, dict] could be instantiated "
                    f"from {values}.\n\nGot errors:\n- <class 'NoneType'>: {values} does not match choices "
                    f"('None',)\n- dict: {exc}",
                ) from None
        return result
    if len(values) != 1:
        raise ParseError("Parsing error", f"Argument {flag}: expected 1 argument")
    raw = values[0]
    if base == "EmbodimentTag":
        names = [member.name for member in EmbodimentTag]
        if raw not in names:
            choices = ", ".join(repr(n) for n in names)
            raise ParseError(
                "Parsing error", f"Argument {flag}: invalid choice: {raw!r} (choose from {choices})"
            )
        return EmbodimentTag[raw]
    converters: dict[str, typing.Callable[[str], object]] = {"int": int, "float": float, "str": str}
    try:
        return converters[base](raw)
    except ValueError as exc:
        raise ParseError("Value error", f"Error parsing {flag}: {exc}") from None


def parse(argv: Sequence[str]) -> FinetuneConfig:
    """The config tyro would build from ``argv``; :class:`ParseError` with tyro's words otherwise."""
    types = _field_types()
    options: dict[str, tuple[str, bool]] = {}  # spelling -> (field, value of a boolean flag)
    for name, kind in types.items():
        for spelling in _spellings(name):
            options[spelling] = (name, True)
        if kind == "bool":
            for spelling in _negations(name):
                options[spelling] = (name, False)
    values: dict[str, object] = {}
    unknown_options: list[str] = []
    stray: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("--"):
            stray.append(arg)
            continue
        if arg not in options:
            unknown_options.append(arg)
            continue
        name, truth = options[arg]
        if types[name] == "bool":
            values[name] = truth
            continue
        taken: list[str] = []
        while i < len(args) and not args[i].startswith("--"):
            taken.append(args[i])
            i += 1
            if types[name].removesuffix(" | None") != "dict[str, float]":
                break
        if not taken and not types[name].startswith("dict"):
            raise ParseError("Parsing error", f"Argument {_kebab(name)}: expected 1 argument")
        values[name] = _convert(name, types[name], taken)
    if unknown_options:
        raise ParseError("Unrecognized options", f"Unrecognized options: {' '.join(unknown_options)}")
    if stray:
        raise ParseError("Parsing error", f"Unrecognized arguments: {' '.join(stray)}")
    required = [f.name for f in dataclasses.fields(FinetuneConfig) if f.default is dataclasses.MISSING]
    missing = [_kebab(name) for name in required if name not in values]
    if missing:
        raise ParseError("Required options", f"The following arguments are required: {', '.join(missing)}")
    return FinetuneConfig(**values)  # type: ignore[arg-type]


def helptext() -> str:
    """What ``--help`` prints: usage and one line per field (tyro's layout is richer; its exit code is 0)."""
    lines = [
        "usage: launch_finetune.py [-h] [OPTIONS]",
        "",
        "options:",
        "  -h, --help  show this help message and exit",
    ]
    for name, kind in _field_types().items():
        lines.append(f"  {_kebab(name)} {kind.upper().replace(' | NONE', '|None')}")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> FinetuneConfig:
    """Parse ``argv`` (default ``sys.argv[1:]``); on error print tyro's panel to stderr and exit 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    # tyro.cli: -h/--help anywhere prints the help to stdout and exits 0 (the env check runs it).
    if "-h" in args or "--help" in args:
        sys.stdout.write(helptext())
        sys.stdout.flush()
        raise SystemExit(0)
    try:
        return parse(args)
    except ParseError as exc:
        sys.stderr.write(_panel(exc.title, exc.message))
        sys.stderr.flush()
        raise SystemExit(2) from None
