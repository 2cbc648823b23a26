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
from groot_ops.engine.forward import stop_forwards
from groot_ops.errors import GrootOpsError
from groot_ops.lab import hub, images, layout, owner, seedplan, ssh, standin, vault, wheelhouse
from groot_ops.lab.docker import (
    container_running,
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
    claim_names(paths, say=say)
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


def _lab_containers() -> dict[str, dict[str, Any]]:
    """``{name: inspect}`` of every container that belongs to some checkout's lab."""
    found = {}
    for name in docker(["ps", "-a", "--format", "{{.Names}}"]).split():
        info = inspect("container", name) or {}
        if owner.lab_root_of(info) is not None:
            found[name] = info
    return found


def claim_names(paths: LabPaths, *, say: Say = _quiet) -> None:
    """Fail, saying whose and how to take it down, when another checkout's lab holds the names and ports.

    A lab whose checkout is gone is removed (nobody else could); a container of the same name that is
    no lab's is named, never touched.
    """
    names = [host.name for host in layout.HOSTS] + [layout.HUB_CONTAINER]
    infos = {name: info for name in names if (info := inspect("container", name)) is not None}
    found = owner.foreign(_lab_containers(), paths.root)
    if found:
        raise owner.LabInUseError(owner.in_use_message(found))
    for name, info in infos.items():
        root = owner.lab_root_of(info)
        if root is None:
            raise owner.LabInUseError(
                f"container {name} exists and is not a groot-ops lab container: the lab needs the name "
                f"(remove or rename it: docker rm -f {name})"
            )
        if root != paths.root:
            remove_container(name)
            say(f"removed {name}, left by a lab whose checkout {root.parent} no longer exists")


def down(repo: Path, *, say: Say = _quiet, remove_images: bool = False) -> dict[str, Any]:
    """Remove every container, network and file the lab created (images stay cached unless asked)."""
    paths = LabPaths(repo)
    removed: list[str] = []
    left: list[str] = []
    stop_forwards(paths.root / "engines")
    if engine_answers():
        labs = _lab_containers()
        others = owner.foreign(labs, paths.root)
        # Ours, and those of a lab whose checkout is gone; another checkout's lab is left alone.
        for name in sorted(set(labs) - {item.container for item in others}):
            if remove_container(name):
                removed.append(name)
        left = [item.container for item in others]
        if others:
            say(f"left alone: {', '.join(left)} (the lab of {others[0].checkout})")
        for net in (layout.NETWORK, layout.EDGE_NETWORK) if not others else ():
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
    return {
        "changed": bool(removed),
        "removed": removed,
        "left_alone": left,
        "images_kept": not remove_images,
    }


def status(repo: Path) -> dict[str, Any]:
    paths = LabPaths(repo)
    state: dict[str, Any] = {}
    if paths.state_file.exists():
        state = json.loads(paths.state_file.read_text())
    running = {h.name: container_running(h.name) for h in layout.HOSTS}
    running[layout.HUB_CONTAINER] = container_running(layout.HUB_CONTAINER)
    return {"up": all(running.values()), "running": running, **state}
