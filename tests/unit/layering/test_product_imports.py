"""Layering: the product (``python/groot_ops``) never depends on the test tree at import level.

Tests import the product, never the other way round. The lab runs the test Hub as a container built
from its source files; that is a file the lab reads, not a module it imports.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "python" / "groot_ops"


def _test_tree_uses(path: Path, label: str) -> list[str]:
    """Every import of ``tests`` (static or through importlib) and every sys.path change in one file."""
    found = []
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call):
            func = node.func
            called = getattr(func, "attr", getattr(func, "id", ""))
            if called in ("import_module", "__import__") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names = [arg.value]
            target = func.value if isinstance(func, ast.Attribute) else None
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "path"
                and getattr(target.value, "id", "") == "sys"
            ):
                found.append(f"{label}:{node.lineno}: sys.path.{called}(...)")
        for name in names:
            if name == "tests" or name.startswith("tests."):
                found.append(f"{label}:{node.lineno}: imports {name}")
    return found


def test_no_product_module_imports_the_test_tree() -> None:
    offenders = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in _test_tree_uses(path, str(path.relative_to(REPO)))
    ]
    assert not offenders, "python/groot_ops must not import tests/:\n" + "\n".join(offenders)


def test_the_scan_sees_each_kind_of_use(tmp_path: Path) -> None:
    # The check above can fail: each way of reaching the test tree is caught.
    text = (
        "import sys\nimport importlib\nfrom tests.hub_server.server import HubServer\n"
        "def f():\n    import tests.lab\n    importlib.import_module('tests.hub_server')\n"
        "    sys.path.insert(0, '/repo')\n"
    )
    sample = tmp_path / "sample.py"
    sample.write_text(text)
    found = _test_tree_uses(sample, "sample.py")
    assert [line.split(": ", 1)[1] for line in found] == [
        "imports tests.hub_server.server",
        "imports tests.lab",
        "imports tests.hub_server",
        "sys.path.insert(...)",
    ]


def test_every_product_module_imports_without_the_test_tree() -> None:
    # Imported in a fresh interpreter where `tests` cannot be found at all.
    modules = sorted(
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in PACKAGE.rglob("*.py")
        if path.name != "__main__.py"  # runs the CLI
    )
    script = (
        "import importlib, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tests' or name.startswith('tests.'):\n"
        "            raise ImportError('the product imported ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError as exc:\n"
        "        if 'tests' in str(exc): raise\n"  # optional third-party extras may be absent
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
