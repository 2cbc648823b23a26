"""Benchmark: what a broken model costs on deploy, against this machine's Docker engine and a test Hub.

    flock /tmp/groot-docker.lock .venv/bin/python -m tests.integration.deploy.bench_rollback [--json]

Deploys a good revision, then times, with the lab's start-up timeout (120 s):
- ``second_run_s``: the same deploy again (verification, watch, probe; changed=0);
- ``broken_s``: a revision whose server exits at start (no statistics.json), rolled back to the good one;
- ``damaged_s``: a damaged file of the serving revision, repaired and the server restarted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from groot_ops.lab.hubseed import classic_lfs
from tests.ansible_helpers import run_playbook, write_local_inventory
from tests.hub_server.server import HubServer
from tests.standins.model_fixture import write_model_dir
from tests.standins.server_image import build_standin_server_image

TOKEN = "hf_benchtoken0123456789abcdef"
CONTAINER = "groot-ops-deploy-bench-server"
PLAYBOOK = Path(__file__).with_name("deploy_local.yml")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from huggingface_hub import HfApi

    image = build_standin_server_image()
    results: dict[str, object] = {}
    with (
        tempfile.TemporaryDirectory(prefix="groot-ops-deploy-bench-") as tmp,
        HubServer(Path(tmp) / "hub", tokens={TOKEN: "bench"}) as hub,
    ):
        root = Path(tmp)
        api = HfApi(endpoint=hub.url, token=TOKEN)
        api.create_repo("bench/model", private=True)
        broken = write_model_dir(root / "broken", seed=2)
        (broken / "statistics.json").unlink()
        for folder, tag in ((write_model_dir(root / "good", seed=1), "good"), (broken, "broken")):
            with classic_lfs():
                info = api.upload_folder(
                    folder_path=str(folder), repo_id="bench/model", delete_patterns=["*"]
                )
            api.create_tag("bench/model", tag=tag, revision=info.oid)
        inventory = write_local_inventory(root / "hosts.yml", {"inference": ["bench-host"]})
        secrets = root / "secrets.yml"
        secrets.write_text(json.dumps({"groot_server_hub_token": TOKEN}))
        base = {
            "groot_server_model_repo_id": "bench/model", "groot_server_hub_endpoint": hub.url,
            "groot_server_data_root": str(root / "host"), "groot_server_container_name": CONTAINER,
            "groot_server_image": image, "groot_server_gpus": False, "groot_server_shm_size": "64M",
            "groot_server_device": "cpu", "groot_server_published_port": 25599,
            "groot_server_bind_address": "127.0.0.1", "groot_server_probe_host": "127.0.0.1",
            "groot_server_probe_startup_timeout_s": 120,
        }  # fmt: skip

        def deploy(revision: str) -> tuple[float, object]:
            started = time.monotonic()
            result = run_playbook(PLAYBOOK, inventory=inventory, extra_vars_files=[secrets], timeout=600,
                                  extra_vars={**base, "groot_server_model_revision": revision})  # fmt: skip
            return round(time.monotonic() - started, 1), result

        try:
            results["first_deploy_s"], first = deploy("good")
            assert first.rc == 0, first.describe()
            results["second_run_s"], again = deploy("good")
            assert again.rc == 0 and again.changed() == 0, again.describe()
            results["broken_s"], bad = deploy("broken")
            assert bad.rc != 0 and "Rolled back to" in bad.stdout, bad.describe()
            line = next(x for x in bad.stdout.splitlines() if "Revision " in x and "failed on" in x)
            results["broken_first_error_line"] = line.strip()[:300]
            serving = next((root / "host" / "checkpoints").glob("*/statistics.json"))
            serving.write_text("{}")
            results["damaged_s"], fixed = deploy("good")
            assert fixed.rc == 0 and "repaired statistics.json" in fixed.stdout, fixed.describe()
        finally:
            subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True)
    print(json.dumps(results, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
