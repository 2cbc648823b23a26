"""``launch_finetune.py`` flags: the fields, types and defaults of n1.6.1's tyro config, checked and rendered.

Upstream parses its command line with tyro into ``FinetuneConfig`` (``gr00t/configs/finetune_config.py``);
``tests/fixtures/upstream/train/`` holds that dataclass's fields and tyro's parse of every recipe's argv,
recorded from the real code, and CI holds this table and :func:`flag_args` against them.

Recipes are data that reach us through YAML, Jinja and ``-e`` (where everything is a string), so each
value is checked against the field's type before anything is launched: unambiguous spellings are
normalised (``"false"`` is False, ``"64"`` is 64, as Ansible's own type checks do), anything else is
refused with an error naming the recipe and the key. tyro itself would reject ``--tune_llm false``
("Unrecognized arguments: false"), a lowercase embodiment tag, ``--global_batch_size 64.0``; and it
would quietly parse a bare ``--color_jitter_params`` (what ``{}`` rendered to) as ``{}``: jitter with
all-zero parameters instead of the base model's setting.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from groot_ops.errors import ConfigError

# n1.6.1's EmbodimentTag members (gr00t/data/embodiment_tags.py); tyro takes the member *name*.
EMBODIMENT_TAGS: tuple[str, ...] = (
    "ROBOCASA_PANDA_OMRON",
    "GR1",
    "UNITREE_G1",
    "LIBERO_PANDA",
    "OXE_GOOGLE",
    "OXE_WIDOWX",
    "OXE_DROID",
    "BEHAVIOR_R1_PRO",
    "NEW_EMBODIMENT",
)
# Keys torchvision's ColorJitter accepts (upstream passes the dict on as ColorJitter(**params)).
COLOR_JITTER_KEYS: tuple[str, ...] = ("brightness", "contrast", "saturation", "hue")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_INT = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Flag:
    name: str
    kind: str  # bool | int | float | str | color_jitter | json
    default: Any
    optional: bool = False  # the field's type is ``X | None``
    # Product policy on top of the type (tyro accepts e.g. --max_steps -5): the smallest sensible value.
    minimum: float | None = None
    exclusive_minimum: bool = False
    maximum: float | None = None

    @property
    def annotation(self) -> str:
        """The field's type as upstream's dataclass spells it (compared with the recorded fixture)."""
        base = {"color_jitter": "dict[str, float]", "json": "str"}.get(self.kind, self.kind)
        return f"{base} | None" if self.optional else base

    @property
    def usage(self) -> str:
        kebab = self.name.replace("_", "-")
        if self.kind == "bool":
            return f"--{kebab}/--no-{kebab}"
        shown = {"color_jitter": "KEY VALUE ...", "json": "JSON"}.get(self.kind, self.kind.upper())
        return f"--{self.name} {shown}"


def _flag(name: str, kind: str, default: Any, **kw: Any) -> Flag:
    return Flag(name, kind, default, **kw)


# Every FinetuneConfig field a recipe may set, in the dataclass's order. The paths, the embodiment and
# --num_gpus are not among them: the supervisor derives those (DERIVED_FLAGS) so they cannot disagree.
FLAGS: dict[str, Flag] = {
    f.name: f
    for f in (
        _flag("modality_config_path", "str", None, optional=True),
        _flag("tune_llm", "bool", False),
        _flag("tune_visual", "bool", False),
        _flag("tune_projector", "bool", True),
        _flag("tune_diffusion_model", "bool", True),
        _flag("state_dropout_prob", "float", 0.0, minimum=0.0, maximum=1.0),
        _flag("random_rotation_angle", "int", None, optional=True, minimum=0),
        _flag("color_jitter_params", "color_jitter", None, optional=True),
        _flag("extra_augmentation_config", "json", None, optional=True),
        _flag("global_batch_size", "int", 64, minimum=1),
        _flag("dataloader_num_workers", "int", 2, minimum=0),
        _flag("learning_rate", "float", 1e-4, minimum=0.0, exclusive_minimum=True),
        _flag("gradient_accumulation_steps", "int", 1, minimum=1),
        _flag("experiment_name", "str", None, optional=True),
        _flag("wandb_project", "str", "finetune-gr00t-n1d6"),
        _flag("save_steps", "int", 1000, minimum=1),
        _flag("save_total_limit", "int", 5, minimum=1),
        _flag("use_wandb", "bool", False),
        _flag("max_steps", "int", 10000, minimum=1),
        _flag("weight_decay", "float", 1e-5, minimum=0.0),
        _flag("warmup_ratio", "float", 0.05, minimum=0.0, maximum=1.0),
        _flag("shard_size", "int", 2**10, minimum=1),
        _flag("episode_sampling_rate", "float", 0.1, minimum=0.0, exclusive_minimum=True, maximum=1.0),
        _flag("num_shards_per_epoch", "int", 10**5, minimum=1),
    )
}
# Fields the supervisor sets from the spec's own values, with their upstream annotations.
DERIVED_FLAGS: dict[str, str] = {
    "base_model_path": "str",
    "dataset_path": "str",
    "embodiment_tag": "EmbodimentTag",
    "output_dir": "str",
    "num_gpus": "int",
}


def _fail(recipe: str, key: str, flag: Flag, value: Any, wanted: str) -> ConfigError:
    return ConfigError(
        f"recipe {recipe}: training flag {key} must be {wanted} (launch_finetune.py {flag.usage}), "
        f"got {value!r}"
    )


def _number(recipe: str, flag: Flag, value: Any, kind: str) -> int | float:
    wanted = "an integer" if kind == "int" else "a number"
    if isinstance(value, bool):
        raise _fail(recipe, flag.name, flag, value, wanted)
    if kind == "int":
        if isinstance(value, int):
            number: int | float = value
        elif isinstance(value, str) and _INT.match(value.strip()):
            number = int(value.strip())
        else:
            # tyro: "invalid literal for int() with base 10: '64.0'"
            raise _fail(recipe, flag.name, flag, value, wanted)
    else:
        if isinstance(value, (int, float)):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                raise _fail(recipe, flag.name, flag, value, wanted) from None
        if not math.isfinite(number):
            raise _fail(recipe, flag.name, flag, value, "a finite number")
    _check_range(recipe, flag, number)
    return number


def _check_range(recipe: str, flag: Flag, number: float) -> None:
    low, high = flag.minimum, flag.maximum
    too_low = low is not None and (number <= low if flag.exclusive_minimum else number < low)
    if too_low or (high is not None and number > high):
        parts = []
        if low is not None:
            parts.append(f"{'>' if flag.exclusive_minimum else '>='} {low:g}")
        if high is not None:
            parts.append(f"<= {high:g}")
        raise ConfigError(
            f"recipe {recipe}: training flag {flag.name} must be {' and '.join(parts)}, got {number!r}"
        )


def _bool(recipe: str, flag: Flag, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _fail(recipe, flag.name, flag, value, "a boolean")


def _color_jitter(recipe: str, flag: Flag, value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise _fail(recipe, flag.name, flag, value, f"a mapping of {', '.join(COLOR_JITTER_KEYS)} to numbers")
    if not value:
        raise ConfigError(
            f"recipe {recipe}: training flag color_jitter_params is empty ({{}}): launch_finetune.py would "
            "parse that as color jitter with all-zero parameters. Leave the key out (or null) to keep the "
            f"base model's augmentation, or give some of {', '.join(COLOR_JITTER_KEYS)}."
        )
    unknown = sorted(str(k) for k in value if k not in COLOR_JITTER_KEYS)
    if unknown:
        raise ConfigError(
            f"recipe {recipe}: training flag color_jitter_params has unknown key(s) {', '.join(unknown)} "
            f"(known: {', '.join(COLOR_JITTER_KEYS)})"
        )
    result: dict[str, float] = {}
    for key in COLOR_JITTER_KEYS:
        if key in value:
            item = Flag(f"color_jitter_params.{key}", "float", None, minimum=0.0)
            result[key] = float(_number(recipe, item, value[key], "float"))
    return result


def _json_text(recipe: str, flag: Flag, value: Any) -> str:
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return value
    raise _fail(recipe, flag.name, flag, value, "a JSON object (a mapping, or its JSON text)")


def normalize_flag(recipe: str, key: str, value: Any) -> Any:
    """The value of ``key`` as upstream's field type holds it; None means "leave the flag out"."""
    flag = FLAGS[key]
    if value is None or (flag.optional and isinstance(value, str) and value.strip() in ("", "None", "null")):
        if not flag.optional:
            raise _fail(recipe, key, flag, value, f"set (its default is {flag.default!r})")
        return None
    if flag.kind == "bool":
        return _bool(recipe, flag, value)
    if flag.kind in ("int", "float"):
        return _number(recipe, flag, value, flag.kind)
    if flag.kind == "color_jitter":
        return _color_jitter(recipe, flag, value)
    if flag.kind == "json":
        return _json_text(recipe, flag, value)
    if not isinstance(value, str) or not value.strip():
        raise _fail(recipe, key, flag, value, "a non-empty string")
    return value


def normalize_flags(recipe: str, flags: Mapping[str, Any]) -> dict[str, Any]:
    """Every flag checked and normalised; unknown and derived keys refused. Flags that are None drop out."""
    derived = sorted(set(flags) & set(DERIVED_FLAGS))
    if derived:
        raise ConfigError(
            f"recipe {recipe}: training flag(s) {', '.join(derived)} are set from the recipe's own fields "
            "(base model, datasets, embodiment tag, checkpoint directory, GPU count); remove them"
        )
    unknown = sorted(str(k) for k in flags if k not in FLAGS)
    if unknown:
        raise ConfigError(
            f"recipe {recipe}: training flag(s) {', '.join(unknown)} are not launch_finetune.py flags of "
            f"n1.6.1-release (known: {', '.join(FLAGS)})"
        )
    normalized = {key: normalize_flag(recipe, key, value) for key, value in flags.items()}
    return {key: value for key, value in normalized.items() if value is not None}


def check_embodiment_tag(recipe: str, tag: Any) -> str:
    """The tag as tyro wants it: an EmbodimentTag member name of n1.6.1."""
    if isinstance(tag, str) and tag in EMBODIMENT_TAGS:
        return tag
    hint = ""
    if isinstance(tag, str) and tag.upper() in EMBODIMENT_TAGS:
        hint = f"; {tag!r} is the enum's value, launch_finetune.py takes the member name {tag.upper()}"
    raise ConfigError(
        f"recipe {recipe}: embodiment_tag {tag!r} is not an Isaac-GR00T n1.6.1 embodiment "
        f"(one of {', '.join(EMBODIMENT_TAGS)}){hint}"
    )


def flag_value(flags: Mapping[str, Any], key: str) -> Any:
    """A flag's effective value: the recipe's, else upstream's default."""
    return flags[key] if key in flags else FLAGS[key].default


def flag_args(name: str, value: Any) -> list[str]:
    """argv for one normalised flag, spelled the way tyro parses it."""
    if isinstance(value, bool):
        # tyro spells booleans as --flag / --no-flag (kebab-case; it also accepts the snake forms).
        kebab = name.replace("_", "-")
        return [f"--{kebab}" if value else f"--no-{kebab}"]
    if isinstance(value, dict):
        pairs: list[str] = []
        for key, item in value.items():
            pairs += [str(key), repr(float(item))]
        return [f"--{name}", *pairs]
    if isinstance(value, float):
        return [f"--{name}", repr(value)]
    return [f"--{name}", str(value)]
