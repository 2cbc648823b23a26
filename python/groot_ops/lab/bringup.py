"""``groot-ops lab up|down|status``: create, inspect and remove everything the lab consists of."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from groot_ops import atomic
from groot_ops.errors import GrootOpsError
from groot_ops.lab import hub, images, layout, seedplan, ssh, standin, vault, wheelhouse
from groot_ops.lab.docker import (
    container_running,
    containers_with_label,
    docker,
    engine_answers,
    ensure_network,
    inspect,
    remove_container,
    remove_network,
)
from groot_ops.lab.hosts import start_host
from groot_ops.lab.layout import LabPaths

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def up(repo: Path, *, say: Say = _quiet, build_images: bool = True) -> dict[str, Any]:
    """Bring the lab up (idempotent: running parts are kept, missing ones created)."""
    if not engine_answers():
        raise GrootOpsError("no Docker engine answers; run `make docker` (tests/lab/ensure-docker.sh)")
    paths = LabPaths(repo)
    started = time.monotonic()
    paths.root.mkdir(parents=True, exist_ok=True)
    ssh.ensure_key_pair(paths)
    token = vault.ensure_vault(paths)
    if build_images:
        say("building lab images (cached after the first time)")
        built = images.build_all(repo, paths)
    else:
        built = []
    say("offline wheelhouse for the training env (downloaded once)")
    wheels = wheelhouse.ensure_wheelhouse(repo, paths.wheelhouse)
    ensure_network(layout.NETWORK, internal=True)
    ensure_network(layout.EDGE_NETWORK, internal=False)
    has_standin = standin.publish_standin(repo, paths)
    say(f"Isaac-GR00T stand-in: {paths.standin_repo if has_standin else 'not available yet'}")
    created = [host.name for host in layout.HOSTS if start_host(paths, host)]
    entries = [(host, ssh.read_host_key(host)) for host in layout.HOSTS]
    ssh.write_trust(paths, entries)
    for host in layout.HOSTS:
        ssh.wait_for_ssh(paths, host)
    say(f"ssh hosts up: {', '.join(h.name for h in layout.HOSTS)} (keys pinned in {paths.known_hosts})")
    if hub.start_hub(paths):
        created.append(layout.HUB_CONTAINER)
    hub.wait_for_hub()
    plan = seedplan.seed_plan(repo / "inventory" / "lab")
    seeded = hub.seed_datasets(paths, token, plan)
    say(f"lab hub {hub.LOCAL_URL} seeded: {', '.join(sorted(seeded))}")
    state = {
        "hosts": {h.name: {"ssh": f"127.0.0.1:{h.ssh_port}", "role": h.role} for h in layout.HOSTS},
        "hub": {"local_url": hub.LOCAL_URL, "lab_url": hub.LAB_URL, "datasets": seeded},
        "standin_repo": str(paths.standin_repo) if has_standin else None,
        "images": built,
        "wheelhouse": str(wheels),
        "created": created,
        "network": layout.NETWORK,
        "vault_password_file": str(paths.vault_password_file),
        "vault_file": str(paths.vault_file),
        "ssh_config": str(paths.ssh_config),
        "seconds": round(time.monotonic() - started, 1),
    }
    atomic.write_json(paths.state_file, state)
    return {"changed": bool(created), **state}


def _role_containers(paths: LabPaths) -> list[str]:
    # Containers the roles create through the lab hosts' engine socket: attached to the lab
    # network or mounting lab paths; found by what they mount, so none is missed.
    names = []
    out = docker(["ps", "-a", "--format", "{{.Names}}"])
    for name in out.splitlines():
        info = inspect("container", name) or {}
        mounts = [m.get("Source", "") for m in info.get("Mounts", [])]
        if any(src == str(paths.root) or src.startswith(f"{paths.root}/") for src in mounts):
            names.append(name)
    return names


def down(repo: Path, *, say: Say = _quiet, remove_images: bool = False) -> dict[str, Any]:
    """Remove every container, network and file the lab created (images stay cached unless asked)."""
    paths = LabPaths(repo)
    removed: list[str] = []
    if engine_answers():
        for name in {*containers_with_label(layout.LABEL), *_role_containers(paths)}:
            if remove_container(name):
                removed.append(name)
        for net in (layout.NETWORK, layout.EDGE_NETWORK):
            if remove_network(net):
                removed.append(f"network {net}")
        if remove_images:
            fmt = "{{.Repository}}:{{.Tag}}"
            out = docker(["images", "--filter", f"label={layout.LABEL}", "--format", fmt])
            for tag in out.split():
                docker(["rmi", tag], check=False)
                removed.append(f"image {tag}")
    if paths.root.exists():
        # Files written by root inside containers are removed the same way they were made.
        subprocess.run(["rm", "-rf", str(paths.root)], check=False)
        if paths.root.exists():
            shutil.rmtree(paths.root, ignore_errors=True)
        removed.append(str(paths.root))
    for item in removed:
        say(f"removed {item}")
    return {"changed": bool(removed), "removed": removed, "images_kept": not remove_images}


def status(repo: Path) -> dict[str, Any]:
    paths = LabPaths(repo)
    state: dict[str, Any] = {}
    if paths.state_file.exists():
        state = json.loads(paths.state_file.read_text())
    running = {h.name: container_running(h.name) for h in layout.HOSTS}
    running[layout.HUB_CONTAINER] = container_running(layout.HUB_CONTAINER)
    return {"up": all(running.values()), "running": running, **state}
