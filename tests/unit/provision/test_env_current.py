"""groot_env_current: one check that every step of the env would find everything in place.

A real git checkout, a real wheel file and a real interpreter at the env's bin/python; only dpkg is
answered by the runner (the test machine's package set is not the container's).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from groot_ops.env_current import env_current, env_spec
from groot_ops.envsetup import STATE_FILE, VERIFIED_FILE, desired_state, verification_state
from groot_ops.errors import ConfigError

CHECKS = {"imports": ["gr00t"], "trainer_cli": "gr00t/experiment/launch_finetune.py --help", "gpu": []}


def _git(repo: Path, *argv: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *argv],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


class Host:
    """A host where everything is in place: the test then breaks one thing at a time."""

    def __init__(self, root: Path) -> None:
        self.checkout = root / "Isaac-GR00T"
        self.checkout.mkdir()
        _git(self.checkout, "init", "-q")
        (self.checkout / "pyproject.toml").write_text("[project]\nname = 'gr00t'\n")
        _git(self.checkout, "add", "pyproject.toml")
        _git(self.checkout, "commit", "-q", "-m", "release")
        self.commit = _git(self.checkout, "rev-parse", "HEAD")
        wheels = root / "wheels"
        wheels.mkdir(mode=0o755)
        os.chmod(wheels, 0o755)
        self.wheel = wheels / "groot_ops-0.1.0-py3-none-any.whl"
        self.wheel.write_bytes(b"wheel bytes " * 1000)
        os.chmod(self.wheel, 0o644)
        self.sha256 = hashlib.sha256(self.wheel.read_bytes()).hexdigest()
        self.prefix = root / "env"
        (self.prefix / "bin").mkdir(parents=True)
        (self.prefix / "bin" / "python").symlink_to(sys.executable)
        (self.prefix / "bin" / "uv").write_text("")
        site = self.prefix / "lib" / "python3.11" / "site-packages"
        (site / "torch-2.7.1.dist-info").mkdir(parents=True)
        self.install = {
            "manager": "uv",
            "prefix": str(self.prefix),
            "project": str(self.checkout),
            "project_commit": self.commit,
            "packages": [f"{self.wheel}[workstation]"],
            "python_version": None,  # as the role's omit-able options arrive when unset
        }
        self.installed: set[str] = {"ffmpeg", "libaio1"}
        spec = env_spec(self.install)
        want = desired_state(spec)
        (self.prefix / STATE_FILE).write_text(json.dumps(want))
        key = verification_state(spec, want, CHECKS)["key"]
        (self.prefix / VERIFIED_FILE).write_text(json.dumps({"key": key}))

    def run(self, argv: Sequence[str]) -> tuple[int, str, str]:
        if argv[0] == "dpkg-query":
            names = argv[4:]
            return (
                0 if set(names) <= self.installed else 1,
                "".join(f"{n} installed\n" for n in names if n in self.installed),
                "",
            )
        proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def current(self) -> dict:
        return env_current(
            self.install,
            self.run,
            checks=CHECKS,
            system_packages=["ffmpeg", "libaio1"],
            checkout_dir=str(self.checkout),
            checkout_commit=self.commit,
            wheel_path=str(self.wheel),
            wheel_sha256=self.sha256,
        )


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return Host(tmp_path)


def test_everything_in_place_is_current(host: Host) -> None:
    assert host.current() == {"current": True, "reasons": [], "python": str(host.prefix / "bin" / "python")}


def test_a_missing_system_package_is_named(host: Host) -> None:
    host.installed.discard("libaio1")
    assert host.current()["reasons"] == ["system package libaio1 is missing"]


def test_a_checkout_at_another_commit_or_with_changed_files_is_not_current(host: Host) -> None:
    (host.checkout / "pyproject.toml").write_text("[project]\nname = 'patched'\n")
    assert host.current()["reasons"] == [f"checkout {host.checkout} has changed tracked files"]
    _git(host.checkout, "commit", "-q", "-am", "local patch")
    head = _git(host.checkout, "rev-parse", "HEAD")
    moved = f"checkout {host.checkout} is at {head}, not the pinned {host.commit}"
    assert host.current()["reasons"] == [moved]


def test_a_wheel_with_other_bytes_or_mode_is_not_current(host: Host) -> None:
    os.chmod(host.wheel, 0o600)
    assert host.current()["reasons"] == [f"file {host.wheel} has mode 0600, not 0644"]
    os.chmod(host.wheel, 0o644)
    host.wheel.write_bytes(b"another build")
    assert host.current()["reasons"] == [f"wheel {host.wheel} differs from the controller's"]
    host.wheel.unlink()
    assert host.current()["reasons"] == [f"file {host.wheel} is missing"]


def test_an_env_whose_record_or_checks_differ_is_not_current(host: Host) -> None:
    (host.prefix / VERIFIED_FILE).unlink()
    assert host.current()["reasons"] == ["the env's checks have not passed for its current inputs"]
    (host.prefix / STATE_FILE).write_text(json.dumps({"manager": "uv"}))
    reasons = host.current()["reasons"]
    assert len(reasons) == 1 and reasons[0].startswith("env step install: changed: project")
    # No env at all: every step of a first run.
    (host.prefix / "bin" / "python").unlink()
    steps = [reason.split(":")[0] for reason in host.current()["reasons"]]
    assert steps == ["env step create env", "env step bootstrap uv", "env step install"]


def test_an_unknown_install_option_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown groot_python_env option\(s\) colour"):
        env_spec({"manager": "uv", "prefix": "/opt/env", "project": "/p", "colour": "red"})
