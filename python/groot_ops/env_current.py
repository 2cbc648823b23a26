"""Whether the training env is exactly in place already: one check instead of the env's six steps.

A second provision of an unchanged host runs, without this, a dpkg query, a git checkout, a directory, a
wheel copy and the env's own plan: five module runs (~1 s each on a 2-core controller) that all find
nothing to do. This check reads the same things in one run, on the container's system python:

- every system package upstream needs is installed (``dpkg-query``, as the role's query);
- the Isaac-GR00T checkout's HEAD is the pinned commit and no tracked file differs from it;
- the groot_ops wheel on the host has the controller wheel's sha256, with the role's modes;
- the env's own plan (``groot_ops.envsetup.plan``) has no step and its checks last passed for the same key.

Any miss is a reason, and the role then runs its steps as on a first run. What the fast path does not
do: fetch the checkout's remote to see whether the pinned tag moved (the commit is what is pinned, and
the env is at it). Standard library only (shipped as ``module_utils/groot_ops_env_current.py``).
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Mapping, Sequence
from typing import Any

try:  # shipped as Ansible module_utils next to groot_ops_envsetup (the system python has no groot_ops)
    from ansible.module_utils import groot_ops_envsetup as envsetup  # type: ignore[attr-defined]
except ImportError:
    from groot_ops import envsetup

_SPEC_FIELDS = frozenset(f.name for f in dataclasses.fields(envsetup.EnvSpec))


def env_spec(install: Mapping[str, Any]) -> envsetup.EnvSpec:
    """The EnvSpec of groot_python_env's options (absent or null ones take its defaults)."""
    unknown = sorted(set(install) - _SPEC_FIELDS - {"checks"})
    if unknown:
        raise envsetup.ConfigError(f"install: unknown groot_python_env option(s) {', '.join(unknown)}")
    return envsetup.EnvSpec(**{k: v for k, v in install.items() if k in _SPEC_FIELDS and v is not None})


def missing_packages(names: Sequence[str], run: envsetup.Runner) -> list[str]:
    if not names:
        return []
    _, out, _ = run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\\n", *names])
    installed = {line.split()[0] for line in out.splitlines() if line.endswith(" installed")}
    return [name for name in names if name not in installed]


def checkout_reasons(directory: str, commit: str, run: envsetup.Runner) -> list[str]:
    rc, out, _ = run(["git", "-C", directory, "rev-parse", "HEAD"])
    head = out.strip()
    if rc != 0:
        return [f"no checkout at {directory}"]
    if head != commit:
        return [f"checkout {directory} is at {head}, not the pinned {commit}"]
    rc, out, _ = run(["git", "-C", directory, "status", "--porcelain", "--untracked-files=no"])
    if rc != 0 or out.strip():
        return [f"checkout {directory} has changed tracked files"]
    return []


def _mode_reason(path: str, want: int, kind: str) -> str | None:
    try:
        info = os.stat(path)
    except OSError:
        return f"{kind} {path} is missing"
    is_kind = stat.S_ISDIR(info.st_mode) if kind == "directory" else stat.S_ISREG(info.st_mode)
    if not is_kind:
        return f"{path} is not a {kind}"
    if stat.S_IMODE(info.st_mode) != want:
        return f"{kind} {path} has mode {stat.S_IMODE(info.st_mode):04o}, not {want:04o}"
    return None


def wheel_reasons(path: str, sha256: str, *, dir_mode: int, mode: int) -> list[str]:
    for where, want, kind in ((os.path.dirname(path), dir_mode, "directory"), (path, mode, "file")):
        reason = _mode_reason(where, want, kind)
        if reason:
            return [reason]
    if envsetup.sha256_file(path) != sha256:
        return [f"wheel {path} differs from the controller's"]
    return []


def env_current(
    install: Mapping[str, Any],
    run: envsetup.Runner,
    *,
    checks: Any,
    system_packages: Sequence[str],
    checkout_dir: str,
    checkout_commit: str,
    wheel_path: str,
    wheel_sha256: str,
    wheel_dir_mode: int = 0o755,
    wheel_mode: int = 0o644,
) -> dict[str, Any]:
    """``{current, reasons, python}``; ``current`` only when nothing of the env's steps would change."""
    spec = env_spec(install)
    reasons = [f"system package {name} is missing" for name in missing_packages(system_packages, run)]
    reasons += checkout_reasons(checkout_dir, checkout_commit, run)
    reasons += wheel_reasons(wheel_path, wheel_sha256, dir_mode=wheel_dir_mode, mode=wheel_mode)
    if not reasons:
        # Only when the rest is in place (the env's plan hashes the wheel and the checkout's files); the
        # plan alone, not groot_python_env's check mode, which would also dry-run the installer.
        steps = envsetup.plan(spec, envsetup.observe(spec, run), check=True)
        reasons += [f"env step {step['name']}: {step['why']}" for step in steps]
        if (
            not steps
            and envsetup.verification_state(spec, envsetup.desired_state(spec, check=True), checks)["needed"]
        ):
            reasons.append("the env's checks have not passed for its current inputs")
    return {"current": not reasons, "reasons": reasons, "python": spec.env_python}
