"""Consistency checks over a render: what must hold before anything is run against an inventory.

- no value of a production inventory names the lab (images, hosts, paths, endpoints);
- every trainer's ``ansible_python_interpreter`` and ``finetune_python`` are the env groot_env builds,
  and torchrun runs it;
- every role a host's plays run has its required variables (argument specs) and its defaults template;
- the pinned Isaac-GR00T commit is the one the env checkout and the server image use;
- the containers of a production inventory get the GPUs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from groot_ops.errors import ConfigError
from groot_ops.render.ansible_view import AnsibleView

# What only the lab has: its image and network names, its state directory, its wheelhouse, the stand-in,
# loopback services.
LAB_PATTERN = re.compile(
    r"(groot-ops-lab|\blab-(ws|spark|demo|cli)|/\.lab(/|$)|\.cache/wheelhouse|wheelhouse|stand-?in|"
    r"127\.0\.0\.1|\blocalhost\b|\blab\b)",
    re.IGNORECASE,
)
# Keys whose values are not production settings (the render's own notes and stand-ins).
NOTE_KEYS = {"note"}
# Defaults that name results registered at run time by the role itself or facts another role sets in
# the same play (they cannot be templated offline, and are not inventory settings).
RUNTIME_NAMES = {"disk_guard_config"}


def check(name: str, ok: bool, message: str) -> dict[str, Any]:
    return {"name": name, "ok": bool(ok), "message": message}


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in NOTE_KEYS:
                continue
            yield from strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def lab_leaks(hosts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One check per host: none of its rendered values names the lab."""
    checks = []
    for host, rendered in hosts.items():
        hits = [f"{path} = {text!r}" for path, text in strings(rendered) if LAB_PATTERN.search(text)]
        checks.append(
            check(
                f"no-lab-values:{host}",
                not hits,
                "no value names the lab" if not hits else "lab values in production: " + "; ".join(hits[:8]),
            )
        )
    return checks


def interpreters(hosts: Mapping[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for host, rendered in hosts.items():
        env = rendered.get("env")
        if not env:
            continue
        python = env["python"]
        seen = {
            "ansible_python_interpreter": rendered.get("interpreter"),
            "finetune_python": rendered.get("finetune_python") or rendered.get("interpreter"),
            "torchrun": (rendered.get("torchrun") or [None])[0],
        }
        wrong = {k: v for k, v in seen.items() if v != python}
        checks.append(
            check(
                f"interpreter:{host}",
                not wrong,
                f"all run {python}, the env groot_env builds"
                if not wrong
                else f"the env groot_env builds is {python}, but "
                + ", ".join(f"{k} is {v}" for k, v in wrong.items()),
            )
        )
    return checks


def commits(pinned: Mapping[str, Any], hosts: Mapping[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for host, rendered in hosts.items():
        used = []
        if "isaac_groot" in rendered:
            used.append(("env checkout", rendered["isaac_groot"]))
        image = rendered.get("server_image") or {}
        if image.get("mode") == "build":
            used.append(("server image checkout", image["checkout"]))
        for label, checkout in used:
            wrong = [k for k in ("commit", "ref", "repo_url") if checkout.get(k) != pinned.get(k)]
            checks.append(
                check(
                    f"pinned-commit:{host}:{label}",
                    not wrong and bool(pinned.get("commit")),
                    f"{label} {checkout.get('repo_url')} {checkout.get('ref')} at {checkout.get('commit')}"
                    + ("" if not wrong else f", but the inventory pins {[pinned.get(k) for k in wrong]}"),
                )
            )
        if image.get("mode") == "build" and "build" in image:
            tagged = image["build"]["image"].endswith(str(pinned.get("commit")))
            checks.append(check(f"image-tag:{host}", tagged, f"server image {image['build']['image']}"))
    return checks


def gpus(hosts: Mapping[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for host, rendered in hosts.items():
        container = rendered.get("container")
        if not container:
            continue
        requests = container.get("device_requests") or []
        has = any(r.get("driver") == "nvidia" and r.get("count") == -1 for r in requests)
        checks.append(
            check(f"gpus:{host}", has, "container requests all GPUs" if has else "container gets no GPU")
        )
    return checks


def _argument_specs(role_dir: Path) -> dict[str, Any]:
    path = role_dir / "meta" / "argument_specs.yml"
    if not path.exists():
        return {}
    return (
        (yaml.safe_load(path.read_text()) or {}).get("argument_specs", {}).get("main", {}).get("options", {})
    )


def required_variables(view: AnsibleView) -> list[dict[str, Any]]:
    """For every play's hosts and roles: required options are defined and every default templates."""
    checks = []
    for play in view.plays:
        for role in play.roles:
            role_dir = view.repo / "roles" / role
            defaults_file = role_dir / "defaults" / "main.yml"
            defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.exists() else {}
            options = _argument_specs(role_dir)
            for host in play.hosts:
                variables = view.host_vars(host, play)
                problems = []
                for name, option in options.items():
                    if option.get("required") and name not in variables:
                        problems.append(f"{name} (required) is not set")
                for name in defaults or {}:
                    try:
                        view.template(variables[name], variables)
                    except ConfigError as exc:
                        if not any(runtime in str(exc) for runtime in RUNTIME_NAMES):
                            problems.append(f"{name}: {exc}")
                checks.append(
                    check(
                        f"variables:{host}:{role}",
                        not problems,
                        "every required variable is set" if not problems else "; ".join(problems[:6]),
                    )
                )
    return checks
