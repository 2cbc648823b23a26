"""The training Python env inside dm-workstation, installed the way upstream Isaac-GR00T installs itself.

Upstream n1.6.1 installs with uv and resolves its ~30 pins through its own ``pyproject.toml``, whose
``[tool.uv.sources]`` send torch/torchvision to the PyTorch cu128 index and flash-attn to a prebuilt
wheel URL (``scripts/deployment/dgpu/install_deps.sh``: ``uv sync`` then ``uv pip install -e .``;
for another interpreter ``uv pip install --python <python> -e <checkout>`` honours the same sources).
This module does exactly that for a uv venv or a conda env: create the env (conda: Python 3.10, the
flash-attn wheels exist for cp310/cp312 only), bootstrap uv into it, then one ``uv pip install`` of the
checkout (editable) together with groot_ops' wheel, so that one resolution satisfies both.

The plan is computed from the desired state and the install record the last successful run left in
the env (``groot-ops-env.json``), so a second run with the same inputs runs no installer at all.
Standard library only, no module-level import of groot_ops: the ``groot_python_env`` Ansible module
ships this file (``module_utils/groot_ops_envsetup.py``) into containers where groot_ops is exactly
what is being installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

try:
    from groot_ops.errors import ConfigError
except ImportError:  # shipped as Ansible module_utils before groot_ops is installed

    class ConfigError(ValueError):  # type: ignore[no-redef]
        pass


STATE_FILE = "groot-ops-env.json"
# Written by the role after the env's checks (imports, the trainer's CLI) passed: the key they passed for.
VERIFIED_FILE = "groot-ops-env-verified.json"
# Written by an earlier version of this module (the checkout on sys.path through a .pth file); the
# editable install replaces it.
LEGACY_PTH_FILE = "groot-ops-sources.pth"
MANAGERS = ("uv", "conda")
# Upstream's pyproject.toml pins flash-attn wheels for cp310 and cp312 only (its [tool.uv.sources]).
CONDA_DEFAULT_PYTHON = "3.10"
# Files of the checkout whose content decides what the resolver installs.
PROJECT_FILES = ("pyproject.toml", "uv.lock")
# Keys of the install record that the install step depends on.
INSTALL_KEYS = ("manager", "project", "project_commit", "project_files", "packages", "requirements", "index")
# A run marker without a pid is a run being launched (groot_ops.train.runfiles.STARTING_GRACE_S).
STARTING_GRACE_S = 300.0
_WHEEL = re.compile(r"^(?P<path>.+\.whl)(?:\[(?P<extras>[A-Za-z0-9_.,-]+)\])?$")

Runner = Callable[[Sequence[str]], tuple[int, str, str]]


@dataclass
class EnvSpec:
    """What the env must contain.

    ``prefix`` is the env's directory for both managers (a conda env is created with ``--prefix``), so
    its interpreter ``<prefix>/bin/python`` is known before anything runs: the one value the trainers'
    ``ansible_python_interpreter`` and ``finetune_python`` are derived from.
    """

    manager: str
    prefix: str
    # uv: the interpreter that creates the venv. conda: unused (conda installs python itself).
    python: str = "python3"
    # Wanted "major.minor"; None accepts the creating interpreter's (uv). conda defaults to 3.10.
    python_version: str | None = None
    conda_exe: str = "conda"
    uv_spec: str = "uv"
    # The Isaac-GR00T checkout, installed editable so that its [tool.uv.sources] apply, and its HEAD.
    project: str = ""
    project_commit: str = ""
    # Local wheel files, optionally with extras: "/opt/w/groot_ops-0.1.0-py3-none-any.whl[workstation]".
    packages: list[str] = field(default_factory=list)
    # Further requirement specifiers, e.g. a local flash-attn wheel "flash-attn @ file:///opt/wheels/...whl".
    requirements: list[str] = field(default_factory=list)
    # Packages whose [tool.uv.sources] entry is ignored (the local flash-attn wheel replaces the URL).
    no_sources_packages: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    no_index: bool = False
    # No network at all: sources that name local indexes and find_links only (the lab, air-gapped hosts).
    offline: bool = False
    no_sources: bool = False
    # The training run marker; a live run blocks every change to its env unless force.
    run_marker: str = ""
    force: bool = False

    def __post_init__(self) -> None:
        if self.manager not in MANAGERS:
            raise ConfigError(f"groot_env_manager must be one of {', '.join(MANAGERS)}, got {self.manager!r}")
        if not self.prefix or not os.path.isabs(self.prefix):
            raise ConfigError(f"the env needs an absolute directory (groot_env_dir), got {self.prefix!r}")
        if self.manager == "conda" and not self.python_version:
            self.python_version = CONDA_DEFAULT_PYTHON
        if self.python_version and not re.fullmatch(r"\d+\.\d+", self.python_version):
            raise ConfigError(f"python_version must look like 3.10, got {self.python_version!r}")
        if not self.project:
            raise ConfigError("the Isaac-GR00T checkout to install (project) is empty")
        for package in self.packages:
            if not _WHEEL.match(package):
                raise ConfigError(f"packages must be wheel files (optionally with [extras]): {package!r}")

    @property
    def env_python(self) -> str:
        return env_python(self.prefix)


def env_python(prefix: str) -> str:
    """The env's interpreter: what the trainers' ansible_python_interpreter must name."""
    return str(Path(prefix) / "bin" / "python")


def env_uv(prefix: str) -> str:
    return str(Path(prefix) / "bin" / "uv")


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise ConfigError(f"file not found on the target: {path}") from None
    return digest.hexdigest()


def _package_key(package: str) -> str:
    wheel = wheel_requirement(package)
    return Path(wheel.path).name + (f"[{wheel.extras}]" if wheel.extras else "")


class WheelRequirement(NamedTuple):
    """A local wheel of ``packages``: its distribution, file, PEP 508 requirement and extras (``a,b``)."""

    dist: str
    path: str
    requirement: str
    extras: str


def wheel_requirement(package: str) -> WheelRequirement:
    """A local wheel (``/w/x.whl`` or ``/w/x.whl[a,b]``), the requirement as PEP 508 direct reference."""
    match = _WHEEL.match(package)
    if not match:
        raise ConfigError(f"not a wheel file: {package!r}")
    path = match["path"]
    # Wheel file names start with the distribution name, "_" standing for any of "-_." (PEP 427).
    dist = Path(path).name.split("-", 1)[0].replace("_", "-").lower()
    extras = match["extras"] or ""
    marked = f"[{extras}]" if extras else ""
    return WheelRequirement(dist, path, f"{dist}{marked} @ file://{path}", extras)


def pip_index_args(spec: EnvSpec) -> list[str]:
    """pip's spelling, for bootstrapping uv (offline means: no index, only the local wheel directories)."""
    args: list[str] = ["--no-index"] if spec.no_index or spec.offline else []
    for link in spec.find_links:
        args += ["--find-links", link]
    if spec.index_url and not spec.offline:
        args += ["--index-url", spec.index_url]
    for url in [] if spec.offline else spec.extra_index_urls:
        args += ["--extra-index-url", url]
    return args


def uv_index_args(spec: EnvSpec) -> list[str]:
    """uv's spelling. ``--no-index`` would also disable the indexes the checkout's sources name, so an
    offline install is ``--offline`` plus local find-links: sources pointing at local indexes still apply."""
    args: list[str] = []
    if spec.offline:
        args.append("--offline")
    if spec.no_index:
        args.append("--no-index")
    for link in spec.find_links:
        args += ["--find-links", link]
    if spec.index_url:
        args += ["--default-index", spec.index_url]
    for url in spec.extra_index_urls:
        args += ["--index", url]
    if spec.no_sources:
        args.append("--no-sources")
    for package in spec.no_sources_packages:
        args += ["--no-sources-package", package]
    return args


def create_argv(spec: EnvSpec) -> list[str]:
    if spec.manager == "conda":
        return [
            spec.conda_exe, "create", "--yes", "--quiet", "--prefix", spec.prefix,
            f"python={spec.python_version}",
        ]  # fmt: skip
    return [spec.python, "-m", "venv", spec.prefix]


def remove_argv(spec: EnvSpec) -> list[str]:
    # Only conda envs are recreated for another Python; a venv's Python is its creator's.
    return [spec.conda_exe, "env", "remove", "--yes", "--prefix", spec.prefix]


def bootstrap_uv_argv(spec: EnvSpec) -> list[str]:
    py = spec.env_python
    return [
        py,
        "-m",
        "pip",
        "install",
        "--no-input",
        "--disable-pip-version-check",
        *pip_index_args(spec),
        spec.uv_spec,
    ]


def install_argv(spec: EnvSpec) -> list[str]:
    """The one install: the checkout editable (its sources apply) with groot_ops and any extra wheel."""
    argv = [env_uv(spec.prefix), "pip", "install", "--python", spec.env_python, *uv_index_args(spec)]
    argv += ["-e", spec.project]
    reinstall = ["gr00t"]
    for package in spec.packages:
        wheel = wheel_requirement(package)
        argv.append(wheel.requirement)
        # A rebuilt wheel keeps its version: uv would keep the installed copy without this.
        reinstall.append(wheel.dist)
    argv += list(spec.requirements)
    for dist in reinstall:
        argv += ["--reinstall-package", dist]
    return argv


def project_files(project: str, *, check: bool = False) -> dict[str, str]:
    """sha256 of the checkout's packaging files that exist (pyproject.toml is required)."""
    found: dict[str, str] = {}
    for name in PROJECT_FILES:
        path = Path(project) / name
        if path.is_file():
            found[name] = sha256_file(str(path))
    if "pyproject.toml" not in found and not check:
        raise ConfigError(f"{project} has no pyproject.toml: not an Isaac-GR00T checkout")
    return found


def desired_state(spec: EnvSpec, *, check: bool = False) -> dict[str, Any]:
    """What the install record must say. In check mode files that earlier tasks would have created (the
    copied wheel, the checkout) count as "to be installed" instead of an error."""

    def digest(path: str) -> str:
        if check and not os.path.exists(path):
            return "missing-in-check-mode"
        return sha256_file(path)

    return {
        "manager": spec.manager,
        "python_version": spec.python_version,
        "project": spec.project,
        "project_commit": spec.project_commit,
        "project_files": project_files(spec.project, check=check),
        # Keyed by file name and extras: another extras set installs other dependencies.
        "packages": {_package_key(p): digest(wheel_requirement(p).path) for p in spec.packages},
        "requirements": sorted(spec.requirements),
        "index": uv_index_args(spec),
    }


@dataclass
class Observed:
    """What exists on the target before the run."""

    env_exists: bool
    python_version: str | None = None
    uv_present: bool = False
    state: dict[str, Any] = field(default_factory=dict)


def observe(spec: EnvSpec, run: Runner) -> Observed:
    python = spec.env_python
    if not Path(python).exists():
        return Observed(env_exists=False)
    rc, out, err = run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    if rc != 0:
        raise ConfigError(f"{python} exists but does not run: {(err or out).strip()[-500:]}")
    return Observed(
        env_exists=True,
        python_version=out.strip(),
        uv_present=Path(env_uv(spec.prefix)).exists(),
        state=read_state(spec.prefix),
    )


def plan(spec: EnvSpec, observed: Observed, *, check: bool = False) -> list[dict[str, Any]]:
    """Ordered steps ``{"name", "argv", "why"}`` that bring the env to ``desired_state``."""
    want = desired_state(spec, check=check)
    steps: list[dict[str, Any]] = []
    state = observed.state
    fresh = not observed.env_exists
    if observed.env_exists and spec.python_version and observed.python_version != spec.python_version:
        if spec.manager == "uv":
            raise ConfigError(
                f"the venv {spec.prefix} runs Python {observed.python_version}, python_version is "
                f"{spec.python_version}: remove it or point groot_env_system_python at Python "
                f"{spec.python_version}"
            )
        steps.append(
            {
                "name": "remove env",
                "argv": remove_argv(spec),
                "why": f"Python {observed.python_version} -> {spec.python_version} "
                "(flash-attn wheels: cp310, cp312)",
            }
        )
        fresh = True
    if fresh:
        steps.append(
            {"name": "create env", "argv": create_argv(spec), "why": f"{spec.manager} env {spec.prefix}"}
        )
        state = {}
    if fresh or not observed.uv_present:
        steps.append({"name": "bootstrap uv", "argv": bootstrap_uv_argv(spec), "why": spec.uv_spec})
    changed_keys = [key for key in INSTALL_KEYS if state.get(key) != want[key]]
    if changed_keys:
        why = (
            "new env"
            if fresh
            else ("no install record" if not state else "changed: " + ", ".join(changed_keys))
        )
        steps.append({"name": "install", "argv": install_argv(spec), "why": why})
    return steps


def package_set(prefix: str) -> list[str]:
    """The distributions installed in the env (``name-version`` of each ``*.dist-info``), read without
    starting its interpreter: any install, upgrade or removal inside the env changes it."""
    found: list[str] = []
    for site in sorted(Path(prefix).glob("lib/python*/site-packages")):
        found += [
            entry.name[: -len(".dist-info")] for entry in site.iterdir() if entry.name.endswith(".dist-info")
        ]
    return sorted(found)


def verification_key(want: Mapping[str, Any], packages: Sequence[str], checks: Any) -> str:
    """What the env's checks depend on: the install inputs (checkout commit and packaging files, the
    wheels' hashes, the index options), the installed package set, and the checks themselves."""
    material = {"install": dict(want), "packages": list(packages), "checks": checks}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def verification_needed(recorded: Mapping[str, Any], key: str) -> bool:
    """The checks run again unless the record of the last passed checks carries exactly this key."""
    return recorded.get("key") != key


def read_verified(prefix: str) -> dict[str, Any]:
    return _read_json(Path(prefix) / VERIFIED_FILE)


def read_state(prefix: str) -> dict[str, Any]:
    return _read_json(Path(prefix) / STATE_FILE)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        # No or a damaged record only means "unknown": installing is the safe answer.
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, text: str) -> None:
    try:
        from groot_ops.atomic import write_text
    except ImportError:  # module_utils copy: the same stage-and-rename, inline
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
        return
    write_text(path, text)


def live_run(marker: str) -> dict[str, Any] | None:
    """The run marker's content when it names a live training run (the same rule as
    ``groot_ops.train.runfiles.lock_is_live``), else None."""
    if not marker:
        return None
    try:
        lock = json.loads(Path(marker).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(lock, dict):
        return None
    pid = lock.get("pid")
    if pid is None:
        return lock if time.time() - float(lock.get("created_at", 0)) < STARTING_GRACE_S else None
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return None
    return None if stat.rsplit(")", 1)[-1].split()[0] == "Z" else lock


def _dry_run(spec: EnvSpec, run: Runner) -> list[str]:
    """What the install would change in an existing env, from the installer itself (``--dry-run``)."""
    rc, out, err = run([*install_argv(spec), "--dry-run"])
    text = f"{out}\n{err}"
    if rc != 0:
        tail = text.strip().splitlines()[-3:]
        return [f"(dry run failed: {' '.join(tail)})"]
    return package_changes([line.strip() for line in text.splitlines() if re.match(r"^\s*[-+~] \S", line)])


def package_changes(lines: Sequence[str]) -> list[str]:
    """uv's ``- old`` / ``+ new`` lines; a local package removed and added again (the checkout, the groot_ops
    wheel: always reinstalled) is one ``~ name (reinstall)`` line, so the real changes stand out."""

    def name(line: str) -> str:
        return re.split(r"==| @ | \(", line[2:], maxsplit=1)[0].strip().lower()

    local = {name(line) for line in lines if "file://" in line}
    signs: dict[str, set[str]] = {}
    for line in lines:
        signs.setdefault(name(line), set()).add(line[0])
    out: list[str] = []
    for line in lines:
        key = name(line)
        if key in local and signs[key] >= {"-", "+"}:
            if line.startswith("+"):
                out.append(f"~ {key} (reinstall)")
            continue
        out.append(line)
    return out


def ensure_env(spec: EnvSpec, run: Runner, *, check: bool = False, checks: Any = None) -> dict[str, Any]:
    """Bring the env to the spec; returns ``changed``, ``steps``, ``commands``, ``python``, ``diff`` and
    ``verification`` (whether the env's ``checks`` must run now; see ``verification_state``)."""
    observed = observe(spec, run)
    steps = plan(spec, observed, check=check)
    want = desired_state(spec, check=check)
    before = {k: observed.state.get(k) for k in want} if observed.state else {}
    result: dict[str, Any] = {
        "changed": bool(steps),
        "steps": [s["name"] for s in steps],
        "commands": [{"name": s["name"], "why": s["why"], "argv": s["argv"]} for s in steps],
        "python": spec.env_python,
        "exists": observed.env_exists,
        "python_version_before": observed.python_version,
        "diff": {"before": before, "after": want},
    }
    result["summary"] = summary(spec, observed, steps)
    running = live_run(spec.run_marker) if steps else None
    if running is not None and not spec.force:
        message = (
            f"refusing to change the env {spec.prefix} ({', '.join(result['steps'])}): a training run is "
            f"active ({spec.run_marker}: recipe {running.get('recipe')}, pid {running.get('pid')}). Wait for "
            "it or stop it (groot-ops train stop), or pass -e groot_env_force=true"
        )
        if not check:
            raise ConfigError(message)
        result["refused"] = message
    if check:
        result["verification"] = verification_state(spec, want, checks)
        if observed.env_exists and observed.uv_present and "install" in result["steps"]:
            result["would_change_packages"] = _dry_run(spec, run)
            if result["would_change_packages"]:
                result["summary"] += " | packages: " + ", ".join(result["would_change_packages"])
        if "refused" in result:
            result["summary"] += f" | REFUSED: {result['refused']}"
        return result
    if steps:
        for step in steps:
            _run_checked(step, run)
        legacy = _legacy_pth(spec, run)
        if legacy is not None:
            legacy.unlink()
        _write_atomic(Path(spec.prefix) / STATE_FILE, json.dumps(want, indent=2, sort_keys=True) + "\n")
    result["verification"] = verification_state(spec, want, checks)
    return result


def verification_state(spec: EnvSpec, want: Mapping[str, Any], checks: Any) -> dict[str, Any]:
    """``{needed, key, file, record}``: the checks of the env as it is now run unless they last passed for
    the same key; ``record`` is what the role writes to ``file`` once they passed."""
    packages = package_set(spec.prefix)
    key = verification_key(want, packages, checks)
    return {
        "needed": verification_needed(read_verified(spec.prefix), key),
        "key": key,
        "file": str(Path(spec.prefix) / VERIFIED_FILE),
        "record": {"key": key, "project_commit": want.get("project_commit"), "packages": len(packages)},
    }


def summary(spec: EnvSpec, observed: Observed, steps: Sequence[Mapping[str, Any]]) -> str:
    """One plan line: the env, what exists, and each step with its reason."""
    where = f"{spec.manager} env {spec.prefix}"
    now = f"Python {observed.python_version}" if observed.env_exists else "missing"
    if not steps:
        return f"{where} ({now}): up to date"
    return f"{where} ({now}): " + "; ".join(f"{s['name']} ({s['why']})" for s in steps)


def _legacy_pth(spec: EnvSpec, run: Runner) -> Path | None:
    rc, out, _ = run([spec.env_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    path = Path(out.strip()) / LEGACY_PTH_FILE if rc == 0 else None
    return path if path is not None and path.exists() else None


def _run_checked(step: Mapping[str, Any], run: Runner) -> None:
    rc, out, err = run(step["argv"])
    if rc != 0:
        tail = (err or out).strip()[-3000:]
        raise ConfigError(f"{step['name']} failed (exit {rc}): {' '.join(step['argv'])}\n{tail}")
