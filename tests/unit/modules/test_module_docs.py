"""Every module's documented options match its argument_spec, doc fragments included.

ansible-doc only checks that DOCUMENTATION renders; an option whose default or type differs between
the docs and the spec (or that one of them lacks) would pass it. The docs are taken from ansible-doc
itself so that ``extends_documentation_fragment`` is resolved exactly as for an operator.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from typing import Any

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule

from tests.ansible_helpers import REPO_ROOT, VENV_BIN, ansible_env
from tests.unit.modules.harness import load_action, load_module

MODULES = sorted(path.stem for path in (REPO_ROOT / "library").glob("*.py"))


class _SpecSeen(Exception):
    def __init__(self, argument_spec: dict[str, dict[str, Any]]) -> None:
        super().__init__("argument_spec captured")
        self.argument_spec = argument_spec


@pytest.fixture(scope="module")
def documented_options() -> dict[str, dict[str, dict[str, Any]]]:
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-doc"), "-M", "library", "-t", "module", "--json", *MODULES],
        cwd=REPO_ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {name: entry["doc"].get("options", {}) for name, entry in json.loads(proc.stdout).items()}


def _argument_spec(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """The spec ``main()`` builds its AnsibleModule with (the module stops right there), or the spec of
    the action plugin of that name, for the steps that run on the controller."""
    if (REPO_ROOT / "action_plugins" / f"{name}.py").is_file():
        module = load_module(name)
        # Documentation only: Ansible runs the action plugin, never a main() of the module file.
        assert not hasattr(module, "main"), f"library/{name}.py: the action plugin runs it, drop main()"
        return load_action(name).ActionModule.ARGUMENT_SPEC

    def capture(self: AnsibleModule, argument_spec: dict[str, dict[str, Any]], **kwargs: Any) -> None:
        raise _SpecSeen(argument_spec)

    monkeypatch.setattr(AnsibleModule, "__init__", capture)
    with pytest.raises(_SpecSeen) as seen:
        load_module(name).main()
    return seen.value.argument_spec


def _contract(option: dict[str, Any]) -> dict[str, Any]:
    """What the docs and the spec must agree on, with Ansible's implicit defaults made explicit."""
    return {
        "type": option.get("type", "str"),
        "elements": option.get("elements"),
        "required": option.get("required", False),
        "default": option.get("default"),
        "choices": option.get("choices"),
    }


@pytest.mark.parametrize("name", MODULES)
def test_documented_options_match_the_argument_spec(
    name: str, documented_options: dict[str, dict[str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _argument_spec(name, monkeypatch)
    docs = documented_options[name]
    assert sorted(docs) == sorted(spec)
    mismatched = {
        option: {"docs": _contract(docs[option]), "spec": _contract(spec[option])}
        for option in spec
        if _contract(docs[option]) != _contract(spec[option])
    }
    assert mismatched == {}


def test_the_hub_fragment_documents_exactly_the_hub_argument_spec() -> None:
    # Importable only once the harness has put module_utils/ on ansible.module_utils' path.
    from ansible.module_utils.groot_ops_common import hub_argument_spec

    path = REPO_ROOT / "doc_fragments" / "groot_hub.py"
    spec = importlib.util.spec_from_file_location("groot_hub_doc_fragment", path)
    assert spec and spec.loader
    fragment = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fragment)
    options = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)["options"]
    arguments = hub_argument_spec()
    assert {name: _contract(option) for name, option in options.items()} == {
        name: _contract(option) for name, option in arguments.items()
    }
    assert arguments["token"]["no_log"] is True
    assert hub_argument_spec(token_required=True)["token"]["required"] is True
