"""groot_env's requirement lists carry groot_ops' runtime dependencies.

The groot_ops wheel is installed into the training env with ``--no-deps``: every dependency of its core
and of its ``workstation`` extra (pyproject.toml) must be in the requirement list of every inventory —
the role default that production uses, and the lab's override — or the env lacks it at run time (a
missing huggingface_hub only showed up on the target).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[3]
KEY = "groot_env_requirements"
# The n1.6.1 contract's pins, which production must keep.
CONTRACT_PINS = {
    "torch==2.7.1",
    "torchvision==0.22.1",
    "transformers==4.51.3",
    "deepspeed==0.17.6",
    "tyro==0.9.17",
    "torchcodec==0.4.0",
}


class _AnyTagLoader(yaml.SafeLoader):
    """Loads inventories that hold tags such as !vault (their values do not matter here)."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _name(requirement: str) -> str:
    """The canonical project name of a requirement specifier (PEP 503 normalised)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"not a requirement specifier: {requirement!r}"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _runtime_dependencies() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"]) + list(project["optional-dependencies"]["workstation"])
    return {_name(d) for d in deps}


def _definitions(root: Path) -> dict[str, list[str]]:
    """Every definition of groot_env_requirements in the YAML files under ``root``."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".yml", ".yaml") or not path.is_file():
            continue
        for doc in yaml.load_all(path.read_text(), Loader=_AnyTagLoader):
            if isinstance(doc, dict) and KEY in doc:
                found[str(path.relative_to(REPO))] = list(doc[KEY])
    return found


def _role_default() -> list[str]:
    data: dict[str, Any] = yaml.safe_load((REPO / "roles/groot_env/defaults/main.yml").read_text())
    return list(data[KEY])


def _production() -> dict[str, list[str]]:
    return _definitions(REPO / "inventory/production") or {
        "roles/groot_env/defaults/main.yml": _role_default()
    }


def test_runtime_dependencies_are_read_from_pyproject() -> None:
    deps = _runtime_dependencies()
    assert {"numpy", "pyarrow", "pyyaml", "huggingface-hub", "pyzmq", "msgpack", "matplotlib", "av"} <= deps


@pytest.mark.parametrize("inventory", ["production", "lab"])
def test_every_inventory_installs_groot_ops_runtime_dependencies(inventory: str) -> None:
    lists = _production() if inventory == "production" else _definitions(REPO / "inventory/lab")
    assert lists, f"no {KEY} for the {inventory} inventory"
    deps = _runtime_dependencies()
    for where, requirements in lists.items():
        missing = deps - {_name(r) for r in requirements}
        assert not missing, f"{where}: {KEY} lacks groot_ops runtime dependencies {sorted(missing)}"


def test_production_keeps_the_contract_pins() -> None:
    for where, requirements in _production().items():
        assert set(requirements) >= CONTRACT_PINS, f"{where}: contract pins missing"
        names = [_name(r) for r in requirements]
        assert len(names) == len(set(names)), f"{where}: a requirement is listed twice: {requirements}"
