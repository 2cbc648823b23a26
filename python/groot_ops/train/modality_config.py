"""A NEW_EMBODIMENT modality config file (``--modality_config_path``), read without running it, and checked
against a dataset's ``meta/modality.json`` before any GPU time is spent.

Upstream (n1.6.1 ``gr00t/experiment/launch_finetune.py`` ``load_modality_config``) appends the file's
directory to ``sys.path`` and imports it by its stem; the file calls ``register_modality_config(config,
embodiment_tag=EmbodimentTag.NEW_EMBODIMENT)``. A key the dataset lacks is only noticed late: a state or
action key as a bare ``KeyError: 'neck'`` while the processor reads statistics (after the base model is
loaded), a language key at the first training step (recorded: tests/fixtures/upstream/modality_config/).

The file is Python, so it is parsed with :mod:`ast` and only literal forms are accepted (the ones upstream's
examples use: list literals, ``list(range(...))``, ``ActionConfig(rep=ActionRepresentation.X, ...)``);
nothing in it is executed on the controller or the trainer before upstream imports it itself.

Optional groot-ops extension: a module-level literal ``GROOT_OPS_WIDTHS = {"state": {key: width}, "action":
{...}}`` pins the group widths the config was written for (upstream ignores the variable); a dataset whose
modality.json gives other widths is refused.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groot_ops.errors import ConfigError, InputError

MODALITIES = ("video", "state", "action", "language")
# Parquet columns of a group without original_key (lerobot_episode_loader.py DEFAULT_COLUMN_NAMES).
DEFAULT_COLUMNS = {"state": "observation.state", "action": "action"}
REPRESENTATIONS = ("RELATIVE", "DELTA", "ABSOLUTE")
WIDTHS_NAME = "GROOT_OPS_WIDTHS"


@dataclass(frozen=True)
class ActionSpec:
    rep: str
    type: str = "NON_EEF"
    format: str = "DEFAULT"
    state_key: str | None = None


@dataclass(frozen=True)
class ModalitySpec:
    delta_indices: tuple[int, ...]
    keys: tuple[str, ...]
    actions: tuple[ActionSpec, ...] | None = None


@dataclass(frozen=True)
class ModalityConfigFile:
    path: Path
    embodiment_tag: str  # the EmbodimentTag member name it registers under
    modalities: dict[str, ModalitySpec]
    widths: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name


def _where(path: Path, node: ast.AST) -> str:
    return f"modality config {path.name} line {getattr(node, 'lineno', '?')}"


def _unreadable(path: Path, node: ast.AST, what: str) -> ConfigError:
    return ConfigError(
        f"{_where(path, node)}: cannot read {what} without running the file "
        f"({ast.unparse(node)[:80]!r}); write it as a literal"
    )


def _callee(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return None


def _enum_member(path: Path, node: ast.AST, enum: str) -> str:
    # EmbodimentTag.NEW_EMBODIMENT / ActionRepresentation.RELATIVE (any module prefix).
    if isinstance(node, ast.Attribute):
        owner = node.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        if owner_name == enum:
            return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value  # upstream's dict form: {"rep": "RELATIVE", ...}
    raise _unreadable(path, node, f"a {enum} member")


def _int_list(path: Path, node: ast.AST) -> tuple[int, ...]:
    if _callee(node) == "list" and isinstance(node, ast.Call) and len(node.args) == 1:
        node = node.args[0]
    if _callee(node) == "range" and isinstance(node, ast.Call):
        try:
            args = [ast.literal_eval(arg) for arg in node.args]
        except ValueError:
            raise _unreadable(path, node, "delta_indices") from None
        if not all(isinstance(a, int) for a in args) or not 1 <= len(args) <= 3:
            raise _unreadable(path, node, "delta_indices")
        return tuple(range(*args))
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise _unreadable(path, node, "delta_indices") from None
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise _unreadable(path, node, "delta_indices (a list of integers)")
    return tuple(value)


def _str_list(path: Path, node: ast.AST) -> tuple[str, ...]:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise _unreadable(path, node, "modality_keys") from None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _unreadable(path, node, "modality_keys (a list of strings)")
    return tuple(value)


def _action(path: Path, node: ast.AST) -> ActionSpec:
    if isinstance(node, ast.Dict):
        items = {ast.literal_eval(k): v for k, v in zip(node.keys, node.values, strict=True) if k is not None}
    elif _callee(node) == "ActionConfig" and isinstance(node, ast.Call):
        items = {kw.arg: kw.value for kw in node.keywords if kw.arg}
    else:
        raise _unreadable(path, node, "an ActionConfig")
    if "rep" not in items:
        raise ConfigError(f"{_where(path, node)}: ActionConfig without rep")
    rep = _enum_member(path, items["rep"], "ActionRepresentation")
    if rep not in REPRESENTATIONS:
        raise ConfigError(f"{_where(path, node)}: unknown ActionRepresentation {rep}")
    state_key = None
    if "state_key" in items:
        value = ast.literal_eval(items["state_key"])
        if value is not None and not isinstance(value, str):
            raise _unreadable(path, items["state_key"], "state_key")
        state_key = value
    return ActionSpec(
        rep=rep,
        type=_enum_member(path, items["type"], "ActionType") if "type" in items else "NON_EEF",
        format=_enum_member(path, items["format"], "ActionFormat") if "format" in items else "DEFAULT",
        state_key=state_key,
    )


def _modality(path: Path, modality: str, node: ast.AST) -> ModalitySpec:
    if _callee(node) != "ModalityConfig" or not isinstance(node, ast.Call) or node.args:
        raise _unreadable(path, node, f"the {modality} ModalityConfig (keyword arguments only)")
    kw = {k.arg: k.value for k in node.keywords if k.arg}
    for name in ("delta_indices", "modality_keys"):
        if name not in kw:
            raise ConfigError(f"{_where(path, node)}: {modality} ModalityConfig lacks {name}")
    actions = None
    if "action_configs" in kw and not (
        isinstance(kw["action_configs"], ast.Constant) and kw["action_configs"].value is None
    ):
        if not isinstance(kw["action_configs"], (ast.List, ast.Tuple)):
            raise _unreadable(path, kw["action_configs"], "action_configs (a list)")
        actions = tuple(_action(path, item) for item in kw["action_configs"].elts)
    return ModalitySpec(_int_list(path, kw["delta_indices"]), _str_list(path, kw["modality_keys"]), actions)


def _check_module_name(path: Path) -> None:
    # load_modality_config imports the file by its stem after appending its directory to the END of
    # sys.path: a stem that names an importable module (json, types, gr00t...) silently imports that one.
    stem = path.stem
    if path.suffix != ".py" or not stem.isidentifier():
        raise ConfigError(
            f"modality config {path.name}: must be a .py file whose name is a Python identifier"
        )
    if stem in sys.stdlib_module_names or stem.split("_")[0] in ("gr00t", "groot"):
        raise ConfigError(
            f"modality config {path.name}: upstream imports it as module '{stem}', which names an existing "
            "module; rename the file"
        )


def parse_modality_config(path: str | Path, *, text: str | None = None) -> ModalityConfigFile:
    """The config dict registered by the file, read with :mod:`ast` (never executed).

    ``text``: the file's content when it lives on another machine (the datasets stage runs on the
    training host, the recipe's file is on the controller); ``path`` then only names it.
    """
    path = Path(path)
    _check_module_name(path)
    try:
        source = path.read_text(encoding="utf-8") if text is None else text
        tree = ast.parse(source, filename=str(path))
    except OSError as exc:
        raise ConfigError(f"modality config {path}: cannot read it ({exc.strerror or exc})") from None
    except SyntaxError as exc:
        raise ConfigError(
            f"modality config {path.name} line {exc.lineno}: syntax error ({exc.msg})"
        ) from None
    dicts: dict[str, ast.Dict] = {}
    widths: dict[str, dict[str, int]] = {}
    registered: list[tuple[ast.Call, str, str]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target == WIDTHS_NAME:
                widths = _widths(path, node.value)
            elif isinstance(node.value, ast.Dict):
                dicts[target] = node.value
        elif isinstance(node, ast.Expr) and _callee(node.value) == "register_modality_config":
            call = node.value
            assert isinstance(call, ast.Call)
            args = list(call.args)
            tag_node = next((k.value for k in call.keywords if k.arg == "embodiment_tag"), None)
            if tag_node is None and len(args) > 1:
                tag_node = args[1]
            tag = "NEW_EMBODIMENT" if tag_node is None else _enum_member(path, tag_node, "EmbodimentTag")
            config_node = (
                args[0] if args else next((k.value for k in call.keywords if k.arg == "config"), None)
            )
            if not isinstance(config_node, ast.Name):
                raise _unreadable(path, call, "the registered config (pass a module-level dict by name)")
            registered.append((call, config_node.id, tag))
    if len(registered) != 1:
        raise ConfigError(
            f"modality config {path.name}: expected exactly one module-level register_modality_config(...) "
            f"call, found {len(registered)}"
        )
    call, name, tag = registered[0]
    if name not in dicts:
        raise ConfigError(f"{_where(path, call)}: registers {name}, which is not a module-level dict literal")
    modalities: dict[str, ModalitySpec] = {}
    for key_node, value in zip(dicts[name].keys, dicts[name].values, strict=True):
        if not (isinstance(key_node, ast.Constant) and isinstance(key_node.value, str)):
            raise _unreadable(path, value, "a modality name")
        modalities[key_node.value] = _modality(path, key_node.value, value)
    return ModalityConfigFile(path=path, embodiment_tag=tag.upper(), modalities=modalities, widths=widths)


def _widths(path: Path, node: ast.AST) -> dict[str, dict[str, int]]:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise _unreadable(path, node, WIDTHS_NAME) from None
    ok = isinstance(value, dict) and all(
        m in ("state", "action")
        and isinstance(groups, dict)
        and all(isinstance(k, str) and isinstance(w, int) and w > 0 for k, w in groups.items())
        for m, groups in value.items()
    )
    if not ok:
        raise ConfigError(f"{_where(path, node)}: {WIDTHS_NAME} must be {{'state'|'action': {{key: width}}}}")
    return value


# -- the check against a dataset ---------------------------------------------------------------------------
def _config_problems(config: ModalityConfigFile, embodiment_tag: str) -> list[str]:
    """What upstream refuses from the config alone (its own asserts and ValueErrors), one line each."""
    name, problems = config.name, []
    if config.embodiment_tag != embodiment_tag:
        problems.append(
            f"modality config {name}: registers under {config.embodiment_tag}, the recipe trains "
            f"{embodiment_tag} (upstream would use its built-in config and ignore this file)"
        )
    for modality in config.modalities:
        if modality not in MODALITIES:
            problems.append(f"modality config {name}: invalid modality '{modality}' (allowed: {MODALITIES})")
    for modality in ("state", "action", "language"):
        if modality not in config.modalities:
            problems.append(f"modality config {name}: no '{modality}' ModalityConfig")
    language = config.modalities.get("language")
    if language and (len(language.keys) != 1 or language.delta_indices != (0,)):
        problems.append(f"modality config {name}: language needs exactly one key and delta_indices [0]")
    action = config.modalities.get("action")
    if action and action.actions is not None and len(action.actions) != len(action.keys):
        problems.append(
            f"modality config {name}: {len(action.actions)} action_configs for {len(action.keys)} action keys"
        )
    return problems


def _column_width(info: dict, column: str) -> int | None:
    shape = ((info.get("features") or {}).get(column) or {}).get("shape")
    if isinstance(shape, list) and len(shape) == 1 and isinstance(shape[0], int):
        return shape[0]
    return None


def check_against_dataset(
    config: ModalityConfigFile, dataset_dir: str | Path, *, embodiment_tag: str = "NEW_EMBODIMENT"
) -> list[str]:
    """Every problem, one line each naming the config file, the key and the dataset; [] when it matches."""
    root = Path(dataset_dir)
    meta_path = root / "meta" / "modality.json"
    name, where = config.name, f"dataset {root.name} ({meta_path})"
    problems = _config_problems(config, embodiment_tag)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [*problems, f"modality config {name}: cannot read {meta_path} ({exc})"]
    try:
        info = json.loads((root / "meta" / "info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    widths: dict[str, dict[str, int]] = {"state": {}, "action": {}}
    for modality in ("state", "action", "video"):
        spec = config.modalities.get(modality)
        section = meta.get(modality) if isinstance(meta.get(modality), dict) else {}
        for key in spec.keys if spec else ():
            if key not in section:
                problems.append(
                    f"modality config {name}: {modality} key '{key}' not in {where}; "
                    f"it has {sorted(section) or 'none'}"
                )
                continue
            if modality == "video":
                continue
            group = section[key]
            try:
                start, end = int(group["start"]), int(group["end"])
            except (KeyError, TypeError, ValueError):
                problems.append(f"modality config {name}: {modality} key '{key}' has no start/end in {where}")
                continue
            column = group.get("original_key") or DEFAULT_COLUMNS[modality]
            width = _column_width(info, column)
            if end <= start or start < 0 or (width is not None and end > width):
                problems.append(
                    f"modality config {name}: {modality} key '{key}' spans {start}..{end} of column "
                    f"'{column}' ({width if width is not None else '?'} wide) in {where}"
                )
                continue
            widths[modality][key] = end - start
            pinned = config.widths.get(modality, {}).get(key)
            if pinned is not None and pinned != end - start:
                problems.append(
                    f"modality config {name}: {modality} key '{key}' is {end - start} wide in {where}, "
                    f"{WIDTHS_NAME} says {pinned}"
                )
    language = config.modalities.get("language")
    if language and language.keys:
        key = language.keys[0]
        sub = key[len("annotation.") :] if key.startswith("annotation.") else None
        annotations = meta.get("annotation") if isinstance(meta.get("annotation"), dict) else {}
        if sub is None or sub not in annotations:
            problems.append(
                f"modality config {name}: language key '{key}' not in {where}; it has "
                f"{sorted('annotation.' + a for a in annotations) or 'none'}"
            )
    problems.extend(_relative_problems(config, widths, where))
    return problems


def _relative_problems(
    config: ModalityConfigFile, widths: dict[str, dict[str, int]], where: str
) -> list[str]:
    # gr00t/data/stats.py RelativeActionLoader: a RELATIVE action is action - state, so its state key must
    # be a configured state key of the same width, and the state's last delta the action's first.
    action, state = config.modalities.get("action"), config.modalities.get("state")
    if not action or not action.actions or not state:
        return []
    problems = []
    for key, spec in zip(action.keys, action.actions, strict=False):
        if spec.rep != "RELATIVE":
            continue
        state_key = spec.state_key or key
        if state_key not in state.keys:
            problems.append(
                f"modality config {config.name}: RELATIVE action key '{key}' needs state key '{state_key}' "
                "in the state ModalityConfig"
            )
            continue
        a, s = widths["action"].get(key), widths["state"].get(state_key)
        if spec.type == "NON_EEF" and a is not None and s is not None and a != s:
            problems.append(
                f"modality config {config.name}: RELATIVE action key '{key}' is {a} wide but its state "
                f"'{state_key}' is {s} wide in {where}"
            )
        if (
            state.delta_indices
            and action.delta_indices
            and state.delta_indices[-1] != action.delta_indices[0]
        ):
            problems.append(
                f"modality config {config.name}: RELATIVE action key '{key}': the state's last delta index "
                f"({state.delta_indices[-1]}) must be the action's first ({action.delta_indices[0]})"
            )
    return problems


def check_modality_config(
    config_path: str | Path, dataset_dir: str | Path, *, embodiment_tag: str = "NEW_EMBODIMENT"
) -> dict[str, Any]:
    """Parse and check; raise :class:`InputError` whose line is the first problem (all in ``problems``)."""
    config = parse_modality_config(config_path)
    problems = check_against_dataset(config, dataset_dir, embodiment_tag=embodiment_tag)
    if problems:
        extra = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        error = InputError(problems[0] + extra)
        error.problems = problems  # type: ignore[attr-defined]
        raise error
    return {
        "ok": True,
        "config": str(config_path),
        "embodiment_tag": config.embodiment_tag,
        "keys": {m: list(s.keys) for m, s in config.modalities.items()},
        "horizon": len(config.modalities["action"].delta_indices),
    }
