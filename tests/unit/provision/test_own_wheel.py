"""The groot_ops wheel of a checkout is built once per content of its sources, rebuilt when one changes."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from groot_ops import own_wheel
from groot_ops.errors import ConfigError


def _checkout(tmp_path: Path) -> Path:
    src = tmp_path / "groot-ops"
    package = src / "python" / "groot_ops"
    package.mkdir(parents=True)
    (src / "pyproject.toml").write_text('[project]\nname = "groot-ops"\nversion = "0.1.0"\n')
    (src / "README.md").write_text("groot-ops\n")
    (package / "__init__.py").write_text("VALUE = 1\n")
    return src


class _PipWheel:
    """pip wheel's effect: one wheel of the current sources in the wheel directory."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, argv: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
        assert env["SOURCE_DATE_EPOCH"] == own_wheel.SOURCE_DATE_EPOCH
        wheel_dir, src = Path(argv[argv.index("--wheel-dir") + 1]), Path(argv[-1])
        self.builds += 1
        with zipfile.ZipFile(wheel_dir / "groot_ops-0.1.0-py3-none-any.whl", "w") as zf:
            zf.writestr("groot_ops/__init__.py", (src / "python/groot_ops/__init__.py").read_text())
        return 0, ""


def test_the_digest_follows_the_built_files_only(tmp_path: Path) -> None:
    src = _checkout(tmp_path)
    first = own_wheel.source_digest(src)
    cache = src / "python" / "groot_ops" / "__pycache__"
    cache.mkdir()
    (cache / "__init__.cpython-311.pyc").write_bytes(b"\0")
    (src / "python" / "groot_ops.egg-info").mkdir()
    assert own_wheel.source_digest(src) == first
    (src / "python" / "groot_ops" / "new.py").write_text("")
    added = own_wheel.source_digest(src)
    assert added != first
    (src / "README.md").write_text("groot-ops, rewritten\n")
    assert own_wheel.source_digest(src) not in (first, added)


def test_a_wheel_is_built_once_per_sources_and_the_old_one_removed(tmp_path: Path) -> None:
    src, cache_dir, pip = _checkout(tmp_path), tmp_path / "cache", _PipWheel()
    first = own_wheel.ensure_wheel(src, cache_dir, run=pip)
    assert first["built"] is True and first["changed"] is False and pip.builds == 1
    again = own_wheel.ensure_wheel(src, cache_dir, run=pip, check=True)
    assert again["built"] is False and pip.builds == 1
    assert again["path"] == first["path"] and again["sha256"] == first["sha256"]

    (src / "python" / "groot_ops" / "__init__.py").write_text("VALUE = 2\n")
    changed = own_wheel.ensure_wheel(src, cache_dir, run=pip)
    assert changed["built"] is True and pip.builds == 2 and changed["sha256"] != first["sha256"]
    assert not Path(first["path"]).exists() and [p.name for p in cache_dir.iterdir()] == [
        Path(changed["path"]).parent.name
    ]


def test_a_failed_build_keeps_nothing_and_names_the_checkout(tmp_path: Path) -> None:
    src, cache_dir = _checkout(tmp_path), tmp_path / "cache"

    def failing(argv: Sequence[str], env: dict[str, str]) -> tuple[int, str]:
        return 1, "error: invalid pyproject.toml\n"

    with pytest.raises(
        ConfigError, match=rf"building the groot_ops wheel of {src} failed \(exit 1\).*invalid"
    ):
        own_wheel.ensure_wheel(src, cache_dir, run=failing)
    assert list(cache_dir.iterdir()) == []
    with pytest.raises(ConfigError, match="not a groot-ops checkout"):
        own_wheel.source_digest(tmp_path / "elsewhere")
