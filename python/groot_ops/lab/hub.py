"""The lab Hub: the Hub-compatible test server as a lab service, seeded through the real client."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from groot_ops import atomic
from groot_ops.errors import GrootOpsError
from groot_ops.lab import layout
from groot_ops.lab.docker import DockerError, container_running, docker, remove_container
from groot_ops.lab.layout import LabPaths
from groot_ops.lab.owner import CHECKOUT_LABEL, port_in_use

LOCAL_URL = f"http://127.0.0.1:{layout.HUB_LOCAL_PORT}"
# What the pipeline's containers use: the service name on the lab network.
LAB_URL = f"http://{layout.HUB_CONTAINER}:{layout.HUB_PORT}"


def start_hub(paths: LabPaths) -> bool:
    if container_running(layout.HUB_CONTAINER):
        return False
    remove_container(layout.HUB_CONTAINER)
    paths.hub_data.mkdir(parents=True, exist_ok=True)
    try:
        docker([
            "run", "-d", "--name", layout.HUB_CONTAINER, "--hostname", layout.HUB_CONTAINER,
            "--label", layout.LABEL,
            "--label", f"{CHECKOUT_LABEL}={paths.repo}",
            "--network", layout.EDGE_NETWORK,
            "-p", f"127.0.0.1:{layout.HUB_LOCAL_PORT}:{layout.HUB_PORT}",
            "-v", f"{paths.hub_data}:/data",
            "-v", f"{paths.hub_tokens}:/run/lab-hub/token:ro",
            layout.HUB_IMAGE,
        ])  # fmt: skip
    except DockerError as exc:
        remove_container(layout.HUB_CONTAINER)
        raise port_in_use(str(exc), layout.HUB_LOCAL_PORT) or exc from exc
    docker(["network", "connect", layout.NETWORK, layout.HUB_CONTAINER])
    return True


def wait_for_hub(*, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    err: Exception | None = None
    while time.monotonic() < deadline:
        try:
            # Any HTTP answer (a 404 for an unknown repo included) means the server is up.
            urllib.request.urlopen(f"{LOCAL_URL}/api/datasets/lab/none/revision/main", timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError as exc:
            err = exc
            time.sleep(0.3)
    logs = docker(["logs", "--tail", "20", layout.HUB_CONTAINER], check=False)
    raise GrootOpsError(f"lab hub on {LOCAL_URL} not answering ({err}); its log:\n{logs}")


def seed_datasets(paths: LabPaths, token: str, datasets: list[dict[str, Any]]) -> dict[str, str]:
    """Synthesize each raw dataset and upload it through ``huggingface_hub``; returns repo -> commit.

    A repo already seeded (recorded in ``.lab/seed/seeded.json`` and still on the Hub) is kept, so
    that its commit, which recipes may pin, does not move between ``lab up`` runs.
    """
    from huggingface_hub.utils import disable_progress_bars

    from groot_ops.data.synth import synth_raw_dataset
    from groot_ops.lab.hubseed import seed_folder

    disable_progress_bars()
    record_path = paths.seed / "seeded.json"
    record: dict[str, str] = {}
    if record_path.exists():
        import json

        record = json.loads(record_path.read_text())
    for spec in datasets:
        repo_id = spec["repo_id"]
        if repo_id in record and _commit_exists(repo_id, record[repo_id], token):
            continue
        folder = paths.seed / repo_id.replace("/", "__")
        if spec.get("groot_subfolders") is not None:
            groot_repo_folder(folder, spec)
            record[repo_id] = seed_folder(LOCAL_URL, token, repo_id, folder, message="lab seed")
            atomic.write_json(record_path, record)
            continue
        synth_raw_dataset(
            folder,
            version=spec.get("version", "v2.1"),
            episodes=int(spec.get("episodes", 3)),
            min_len=int(spec.get("min_len", 30)),
            max_len=int(spec.get("max_len", 45)),
            tasks=tuple(spec.get("tasks", ("Fold the towel.",))),
            seed=int(spec.get("seed", 0)),
        )
        tags = tuple(spec.get("tags", ()))
        record[repo_id] = seed_folder(LOCAL_URL, token, repo_id, folder, tags=tags, message="lab seed")
        atomic.write_json(record_path, record)
    return record


def groot_repo_folder(folder: Path, spec: dict[str, Any]) -> Path:
    """A repo like GR00T-X-Embodiment-Sim: GR00T-layout datasets in sub-folders, with shipped stats.

    Each named sub-folder holds a small synthetic dataset converted to the GR00T layout, as the Hub
    holds one: without groot-ops' record and with a ``meta/stats.json`` of made-up numbers (the lab
    proves these are never trained with). A decoy folder next to them must never be downloaded.
    """
    import json
    import shutil

    from groot_ops.data.convert import convert_dataset
    from groot_ops.data.fingerprint import RECORD_NAME
    from groot_ops.data.synth import synth_raw_dataset

    if folder.exists():
        shutil.rmtree(folder)
    for index, sub in enumerate(spec["groot_subfolders"]):
        raw = folder.parent / f"{folder.name}.raw-{index}"
        synth_raw_dataset(
            raw,
            version="v2.1",
            episodes=int(spec.get("episodes", 3)),
            min_len=int(spec.get("min_len", 30)),
            max_len=int(spec.get("max_len", 45)),
            tasks=tuple(spec.get("tasks", ("Pick the apple and place it on the plate.",))),
            seed=int(spec.get("seed", 0)) + index,
        )
        target = folder / sub if sub else folder
        convert_dataset(raw, target)
        shutil.rmtree(raw)
        (target / RECORD_NAME).unlink()
        (target / "meta" / "stats.json").write_text(json.dumps({"observation.state": {"mean": [1.0e6]}}))
    decoy = folder / "gr1_arms_only.Decoy" / "meta" / "info.json"
    decoy.parent.mkdir(parents=True, exist_ok=True)
    decoy.write_text('{"note": "a sub-folder no lab recipe names"}')
    return folder


def _commit_exists(repo_id: str, commit: str, token: str) -> bool:
    req = urllib.request.Request(
        f"{LOCAL_URL}/api/datasets/{repo_id}/revision/{commit}",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=5):
            return True
    except (urllib.error.HTTPError, OSError):
        return False
