"""The training Python env inside dm-workstation: a uv venv (upstream's way) or a conda env (production's).

The plan is computed from a desired state and the state file the last successful run left in the
env (``groot-ops-env.json``), so a second run with the same inputs runs no installer at all.
Standard library only, no module-level import of groot_ops: the ``groot_python_env`` Ansible
module ships this file (``module_utils/groot_ops_envsetup.py``) into containers where groot_ops is
exactly what is being installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from groot_ops.errors import ConfigError
except ImportError:  # shipped as Ansible module_utils before groot_ops is installed

    class ConfigError(ValueError):  # type: ignore[no-redef]
        pass


STATE_FILE = "groot-ops-env.json"
PTH_FILE = "groot-ops-sources.pth"
MANAGERS = ("uv", "conda")

Runner = Callable[[Sequence[str]], tuple[int, str, str]]


@dataclass
class EnvSpec:
    """What the env must contain. ``env`` is the venv directory (uv) or the env name (conda)."""

    manager: str
    env: str
    python: str = "python3"
    conda_exe: str = "conda"
    uv_spec: str = "uv"
    requirements: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    no_index: bool = False
    packages: list[str] = field(default_factory=list)
    source_paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.manager not in MANAGERS:
            raise ConfigError(f"groot_env_manager must be one of {', '.join(MANAGERS)}, got {self.manager!r}")
        if not self.env:
            raise ConfigError("the env path/name is empty")
        if self.manager == "uv" and not os.path.isabs(self.env):
            raise ConfigError(f"a uv venv needs an absolute directory, got {self.env!r}")
        if self.manager == "conda" and "/" in self.env:
            raise ConfigError(f"a conda env is named, not a path: {self.env!r}")


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise ConfigError(f"package file not found on the target: {path}") from None
    return digest.hexdigest()


def conda_prefix(env_list_json: str, name: str) -> str | None:
    """Prefix of conda env ``name`` from ``conda env list --json`` (None when it does not exist)."""
    try:
        envs = json.loads(env_list_json).get("envs", [])
    except ValueError:
        raise ConfigError("`conda env list --json` did not print JSON") from None
    for prefix in envs:
        if Path(prefix).name == name and Path(prefix).parent.name == "envs":
            return str(prefix)
    return None


def env_python(prefix: str) -> str:
    return str(Path(prefix) / "bin" / "python")


def index_args(spec: EnvSpec) -> list[str]:
    args: list[str] = ["--no-index"] if spec.no_index else []
    for link in spec.find_links:
        args += ["--find-links", link]
    if spec.index_url:
        args += ["--index-url", spec.index_url]
    for url in spec.extra_index_urls:
        args += ["--extra-index-url", url]
    return args


def create_argv(spec: EnvSpec) -> list[str]:
    if spec.manager == "conda":
        # conda picks the interpreter itself; spec.python is the version ("3.11").
        return [spec.conda_exe, "create", "--yes", "--quiet", "--name", spec.env, f"python={spec.python}"]
    return [spec.python, "-m", "venv", spec.env]


def install_argv(spec: EnvSpec, prefix: str, args: Sequence[str]) -> list[str]:
    """An install into the env: uv where it is the manager (fast, upstream's tool), pip in conda."""
    py = env_python(prefix)
    if spec.manager == "uv":
        return [str(Path(prefix) / "bin" / "uv"), "pip", "install", "--python", py, *index_args(spec), *args]
    return [py, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", *index_args(spec), *args]


def desired_state(spec: EnvSpec, *, check: bool = False) -> dict[str, Any]:
    """What the install record must say. In check mode a package file that an earlier task would
    have copied (skipped in check mode) counts as "to be installed" instead of an error."""

    def digest(path: str) -> str:
        if check and not os.path.exists(path):
            return "missing-in-check-mode"
        return sha256_file(path)

    return {
        "manager": spec.manager,
        "requirements": sorted(spec.requirements),
        "index": index_args(spec),
        "packages": {Path(p).name: digest(p) for p in spec.packages},
        "source_paths": list(spec.source_paths),
    }


def plan(
    spec: EnvSpec, *, prefix: str | None, env_exists: bool, state: Mapping[str, Any], check: bool = False
) -> list[dict[str, Any]]:
    """Ordered steps ``{"name", "argv"|"write"}`` that bring the env to ``desired_state``."""
    want = desired_state(spec, check=check)
    steps: list[dict[str, Any]] = []
    target = prefix or spec.env
    if not env_exists:
        steps.append({"name": "create env", "argv": create_argv(spec)})
        state = {}
    if spec.manager == "uv" and not state.get("uv_bootstrapped"):
        steps.append(
            {
                "name": "bootstrap uv",
                "argv": [
                    env_python(target),
                    "-m",
                    "pip",
                    "install",
                    "--no-input",
                    "--disable-pip-version-check",
                    *index_args(spec),
                    spec.uv_spec,
                ],
            }
        )
    if want["requirements"] and (
        state.get("requirements") != want["requirements"] or state.get("index") != want["index"]
    ):
        steps.append(
            {"name": "install requirements", "argv": install_argv(spec, target, want["requirements"])}
        )
    old_packages = state.get("packages") or {}
    changed = [p for p in spec.packages if old_packages.get(Path(p).name) != want["packages"][Path(p).name]]
    if changed:
        reinstall = "--reinstall" if spec.manager == "uv" else "--force-reinstall"
        steps.append(
            {
                "name": "install packages",
                "argv": install_argv(spec, target, ["--no-deps", reinstall, *changed]),
            }
        )
    if state.get("source_paths", []) != want["source_paths"]:
        steps.append({"name": "link sources", "write": PTH_FILE, "lines": want["source_paths"]})
    return steps


def _write_atomic(path: Path, text: str) -> None:
    try:
        from groot_ops.atomic import write_text
    except ImportError:  # module_utils copy: same stage-and-rename, inline
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
        return
    write_text(path, text)


def read_state(prefix: str) -> dict[str, Any]:
    path = Path(prefix) / STATE_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        # A damaged state file only means "unknown": reinstalling is the safe answer.
        return {}


def _site_packages(prefix: str, run: Runner) -> Path:
    rc, out, err = run(
        [env_python(prefix), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    )
    if rc != 0:
        raise ConfigError(f"cannot ask {env_python(prefix)} for its site-packages: {err.strip()}")
    return Path(out.strip())


def resolve_prefix(spec: EnvSpec, run: Runner) -> str | None:
    """The env's directory if it exists (conda: asks conda), else None."""
    if spec.manager == "uv":
        return spec.env if Path(env_python(spec.env)).exists() else None
    rc, out, err = run([spec.conda_exe, "env", "list", "--json"])
    if rc != 0:
        raise ConfigError(f"`{spec.conda_exe} env list --json` failed (is conda installed?): {err.strip()}")
    return conda_prefix(out, spec.env)


def ensure_env(spec: EnvSpec, run: Runner, *, check: bool = False) -> dict[str, Any]:
    """Bring the env to the spec; returns ``changed``, ``steps``, ``python``, ``diff``."""
    prefix = resolve_prefix(spec, run)
    state = read_state(prefix) if prefix else {}
    steps = plan(spec, prefix=prefix, env_exists=prefix is not None, state=state, check=check)
    want = desired_state(spec, check=check)
    before = {k: state.get(k) for k in want} if state else {}
    result: dict[str, Any] = {
        "changed": bool(steps),
        "steps": [s["name"] for s in steps],
        "python": env_python(prefix) if prefix else None,
        "diff": {"before": before, "after": want},
    }
    if check or not steps:
        return result
    if prefix is None:
        _run_checked(steps[0], run)
        prefix = resolve_prefix(spec, run)
        if prefix is None:
            raise ConfigError(f"the {spec.manager} env {spec.env} was created but cannot be found afterwards")
        # Plan again against the real prefix (a conda env's directory is only known now); it is empty.
        steps = plan(spec, prefix=prefix, env_exists=True, state={})
    new_state: dict[str, Any] = {}
    for step in steps:
        if "write" in step:
            _write_atomic(
                _site_packages(prefix, run) / step["write"], "".join(f"{p}\n" for p in step["lines"])
            )
        else:
            _run_checked(step, run)
    new_state["uv_bootstrapped"] = spec.manager == "uv"
    new_state.update(want)
    _write_atomic(Path(prefix) / STATE_FILE, json.dumps(new_state, indent=2, sort_keys=True) + "\n")
    result["python"] = env_python(prefix)
    return result


def _run_checked(step: Mapping[str, Any], run: Runner) -> None:
    rc, out, err = run(step["argv"])
    if rc != 0:
        tail = (err or out).strip()[-2000:]
        raise ConfigError(f"{step['name']} failed (exit {rc}): {' '.join(step['argv'])}\n{tail}")
