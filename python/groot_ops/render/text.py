"""The render as text for a reviewer: per host what it gets, the exact commands, then the checks."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any


def _cmd(argv: list[Any], env: Mapping[str, str] | None = None) -> str:
    prefix = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in (env or {}).items())
    return "$ " + (prefix + " " if prefix else "") + shlex.join(str(a) for a in argv)


def _gpus(container: Mapping[str, Any]) -> str:
    requests = container.get("device_requests") or []
    if not requests:
        return "none"
    return ", ".join(f"{r.get('driver')} count={r.get('count')}" for r in requests)


def _network(container: Mapping[str, Any]) -> str:
    names = ",".join(n.get("name", "?") for n in container.get("networks") or [])
    return str(container.get("network_mode") or names or "default")


def _container(lines: list[str], container: Mapping[str, Any]) -> None:
    lines.append(f"  container {container.get('name')}: image {container.get('image')}")
    options = [
        f"gpus {_gpus(container)}",
        f"ipc {container.get('ipc_mode', 'default')}",
        f"shm {container.get('shm_size', 'default')}",
        f"network {_network(container)}",
        f"restart {container.get('restart_policy', 'no')}",
    ]
    if container.get("init"):
        options.append("init")
    if container.get("working_dir"):
        options.append(f"workdir {container['working_dir']}")
    lines.append("    " + " | ".join(options))
    for volume in container.get("volumes") or []:
        lines.append(f"    mount {volume}")
    for port in container.get("published_ports") or []:
        lines.append(f"    port {port}")
    env = container.get("env") or {}
    if env:
        lines.append("    env " + " ".join(f"{k}={v}" for k, v in sorted(env.items())))
    if container.get("command"):
        lines.append("    " + _cmd(container["command"]))


def _connection(name: str, host: Mapping[str, Any]) -> str:
    conn = host.get("connection") or {}
    kind = str(conn.get("ansible_connection", "ssh")).rsplit(".", 1)[-1]
    if conn.get("ansible_docker_docker_host"):
        return f"{kind} via {conn['ansible_docker_docker_host']}"
    # Without ansible_host the inventory name is the address (or an ssh alias).
    where = conn.get("ansible_host") or name
    user = conn.get("ansible_user")
    return f"{kind} {user + '@' if user else ''}{where}".rstrip()


def render_text(result: Mapping[str, Any]) -> str:
    pinned = result.get("isaac_groot") or {}
    lines = [
        f"recipe {result['recipe']} on {result['inventory']} "
        f"({'production' if result['production'] else 'lab'})",
        f"Isaac-GR00T {pinned.get('repo_url')} {pinned.get('ref')} @ {pinned.get('commit')}",
    ]
    for name, host in result["hosts"].items():
        lines += ["", f"{name} [{', '.join(host['groups'])}] {_connection(name, host)}"]
        if "image_source" in host:
            lines.append(f"  image source: {host.get('image_source')}; run marker {host.get('run_marker')}")
            _container(lines, host["container"])
        if "env" in host:
            env, isaac = host["env"], host["isaac_groot"]
            lines.append(
                f"  interpreter: {host['interpreter']} (finetune_python {host.get('finetune_python')})"
            )
            lines.append(f"  Isaac-GR00T {isaac['ref']} @ {isaac['commit']} at {isaac['dir']}")
            lines.append(
                f"  env: {env['manager']} {env['prefix']} "
                f"(Python {env['python_version'] or 'of the creator'}); "
                f"system packages {' '.join(env['system_packages'])}"
            )
            lines.append("  install (fresh env):")
            lines += [f"    {_cmd(step['argv'])}" for step in env["install_fresh"]]
            lines.append("  verify:")
            lines += [f"    {_cmd(v['argv'])}{'   [gpu]' if v['gpu_only'] else ''}" for v in host["verify"]]
            lines.append(f"  torchrun (node {host['node']['rank'] + 1}/{host['node']['nodes']}):")
            lines.append(f"    {_cmd(host['torchrun'])}")
        if "server_image" in host:
            image = host["server_image"]
            if image["mode"] == "named":
                lines.append(
                    f"  server image: {image['image']} (named by the inventory, pull {image['pull']})"
                )
            else:
                checkout = image["checkout"]
                lines.append(f"  server image: {image['image']} built on the host ({image['arch']})")
                lines.append(
                    f"    checkout {checkout['repo_url']} {checkout['ref']} @ {checkout['commit']} "
                    f"at {checkout['dir']}"
                )
                builds = image.get("builds_by_arch") or {image["arch"]: image["build"]}
                for arch, build in builds.items():
                    lines.append(f"    {arch}: {build['dockerfile']} (context {build['context']})")
                    lines.append(f"      {_cmd(build['argv'], build['env'])}")
            _container(lines, host["container"])
            probe = host["probe"]
            lines.append(
                f"  probe: {probe['host']}:{probe['port']} ({probe['embodiment']}, "
                f"start-up {probe['startup_timeout_s']} s)"
            )
    failed = [c for c in result["checks"] if not c["ok"]]
    lines += ["", f"checks: {len(result['checks']) - len(failed)} ok, {len(failed)} failed"]
    lines += [f"  FAILED {c['name']}: {c['message']}" for c in failed]
    return "\n".join(lines)
