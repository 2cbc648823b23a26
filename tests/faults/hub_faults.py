"""Measure the Hub and data faults of the README's fault table, as an operator meets them.

Each case runs ``groot-ops run datasets`` (the CLI, through ansible-runner, with the real datasets role)
against localhost as the training host and a test Hub on loopback, injects one fault, and records what
the user sees (exit code, first FAILED line, retry lines shown while it waited), what was kept, and how
long the run took; then the fault is removed and the same command is run again (time to recover).

    .venv/bin/python -m tests.faults.hub_faults [--json] [--only NAME] [--outage-s 40]

Budgets are the defaults (900 s for 429s, 120 s while the Hub is unreachable) except where a case says
so: a storm beyond the budget runs with ``datasets_retry_budget_s=30`` to keep the measurement short.
Needs no Docker; runs ~6-8 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from groot_ops.data.synth import synth_raw_dataset
from groot_ops.lab.hubseed import seed_folder
from tests.hub_server.server import HubServer

REPO = Path(__file__).resolve().parents[2]
TOKEN = "hf_faulttabletoken0123456789abcdef"
TOWEL = "unitreerobotics/G1_Dex1_Fold_Towel"
HOST = "trainer-1"


class Bench:
    """A workspace, a Hub and a recipe; ``run()`` is one ``groot-ops run datasets``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hub_root = root / "hub"
        self.server = HubServer(self.hub_root, tokens={TOKEN: "groot"}).start()
        self.workspace = root / "workspace"
        self.extra: dict[str, Any] = {}
        self.revision = "main"
        raw = root / "raw-towel"
        # A realistic episode length (1,000-2,400 frames) and 12 episodes, so that the download takes a while.
        synth_raw_dataset(raw, version="v2.1", episodes=12, min_len=1000, max_len=1400, seed=3)
        self.raw = raw
        self.sha = seed_folder(self.server.url, TOKEN, TOWEL, raw)

    def restart_hub(self) -> None:
        self.server.come_back()

    def stop_hub(self) -> None:
        self.server.go_down()

    def slow_transfers(self) -> None:
        """0.3 s per file request, so that an outage falls in the middle of the download."""
        self.server.inject("GET", r"/resolve/", mode="delay", delay_s=0.3, for_s=3600)

    def _inventory(self) -> Path:
        inventory = self.root / "hosts.yml"
        host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        inventory.write_text(yaml.safe_dump({"all": {"children": {"trainers": {"hosts": {HOST: host}}}}}))
        return inventory

    def _vars(self) -> Path:
        recipe = {
            "datasets": [
                {
                    "name": "fold_towel",
                    "repo_id": TOWEL,
                    "revision": self.revision,
                    "ego_camera": "cam_left_high",
                }
            ],
            "base_model": "nvidia/GR00T-N1.6-3B",
            "embodiment_tag": "UNITREE_G1",
            "training": {"max_steps": 2},
            "hub": {"repo_id": "test/model", "private": True},
        }
        data = {
            "groot_recipes": {"faults": recipe},
            "groot_recipe": "{{ groot_recipes[recipe] }}",
            "groot_workspace": str(self.workspace),
            "groot_hf_endpoint": self.server.url,
            "groot_hf_token": TOKEN,
            "groot_progress_poll_s": 2,
        } | self.extra
        path = self.root / "vars.yml"
        path.write_text(yaml.safe_dump(data))
        return path

    def run(self) -> dict[str, Any]:
        env = dict(os.environ, NO_COLOR="1", GROOT_OPS_STATE_DIR=str(self.root / "state"))
        env["HF_HOME"] = str(self.root / "hf-home")
        argv = [sys.executable, "-m", "groot_ops", "run", "datasets", "faults", "-i", str(self._inventory()),
                "-e", f"@{self._vars()}"]  # fmt: skip
        started = time.monotonic()
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
        took = time.monotonic() - started
        runs = sorted((self.root / "state" / "runs").iterdir())
        raw_stdout = (runs[-1] / "artifacts" / "run" / "stdout").read_text(errors="replace")
        failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
        return {
            "rc": proc.returncode,
            "seconds": round(took, 1),
            "first_error": failed[0] if failed else None,
            # The groot_progress callback's lines, printed under each poll while the job waited.
            "retry_lines_shown": [line.strip() for line in raw_stdout.splitlines() if " | Hub " in line],
        }

    def groot_files(self) -> dict[str, int]:
        out = self.workspace / "datasets" / "groot" / "fold_towel"
        return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted(out.rglob("*")) if p.is_file()}

    def raw_files(self) -> int:
        raw = self.workspace / "datasets" / "raw" / "fold_towel"
        return (
            sum(1 for p in raw.rglob("*") if p.is_file() and ".cache" not in p.parts) if raw.exists() else 0
        )


def _fresh(root: Path) -> Bench:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    return Bench(root)


def _stop_after_gets(bench: Bench, gets: int, down_s: float | None) -> threading.Thread:
    """Stop the Hub once the download has fetched ``gets`` files; bring it back after ``down_s``."""

    def watch() -> None:
        while len(bench.server.recorded("GET", "/resolve/")) < gets:
            time.sleep(0.05)
        bench.stop_hub()
        if down_s is not None:
            time.sleep(down_s)
            bench.restart_hub()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def case_outage(root: Path, outage_s: float) -> dict[str, Any]:
    bench = _fresh(root)
    bench.slow_transfers()
    thread = _stop_after_gets(bench, 4, outage_s)
    during = bench.run()
    thread.join()
    again = bench.run()
    return {"fault": f"Hub outage of {outage_s:.0f} s mid-download", "run": during, "rerun": again}


def case_long_outage(root: Path) -> dict[str, Any]:
    bench = _fresh(root)
    bench.slow_transfers()
    thread = _stop_after_gets(bench, 4, None)
    during = bench.run()
    thread.join()
    kept = bench.raw_files()
    bench.restart_hub()
    again = bench.run()
    return {
        "fault": "Hub outage longer than the unreachable budget (120 s), mid-download",
        "run": during,
        "kept": f"{kept} raw files already downloaded (resumed, not fetched again); no download record",
        "rerun": again,
    }


def case_storm(root: Path, storm_s: float, retry_after: int) -> dict[str, Any]:
    bench = _fresh(root)
    bench.server.inject("*", r".", status=429, for_s=storm_s, retry_after=retry_after)
    during = bench.run()
    return {
        "fault": f"429 storm of {storm_s:.0f} s on every request, Retry-After {retry_after}",
        "run": during,
    }


def case_storm_beyond_budget(root: Path) -> dict[str, Any]:
    bench = _fresh(root)
    bench.extra = {"datasets_retry_budget_s": 30}
    bench.server.inject("*", r".", status=429, for_s=600, retry_after=10)
    during = bench.run()
    bench.server.clear_faults()
    again = bench.run()
    return {"fault": "429 storm beyond the retry budget (budget 30 s here)", "run": during, "rerun": again}


def case_bad_revision(root: Path) -> dict[str, Any]:
    bench = _fresh(root)
    first = bench.run()
    before = bench.groot_files()
    bench.revision = "v9-does-not-exist"
    during = bench.run()
    kept = bench.groot_files() == before
    bench.revision = "main"
    again = bench.run()
    return {
        "fault": "bad revision in the recipe",
        "first": first,
        "run": during,
        "kept": "converted dataset untouched" if kept else "converted dataset CHANGED",
        "rerun": again,
    }


def case_corrupt_parquet(root: Path) -> dict[str, Any]:
    bench = _fresh(root)
    first = bench.run()
    before = bench.groot_files()
    assert first["rc"] == 0, first
    broken = root / "broken"
    shutil.copytree(bench.raw, broken)
    victim = sorted((broken / "data").rglob("*.parquet"))[0]
    victim.write_bytes(
        victim.read_bytes()[: victim.stat().st_size // 2]
    )  # truncated, as a cut transfer leaves it
    seed_folder(bench.server.url, TOKEN, TOWEL, broken)
    during = bench.run()
    kept = bench.groot_files() == before
    seed_folder(bench.server.url, TOKEN, TOWEL, bench.raw)  # the publisher fixes it with a new commit
    again = bench.run()
    return {
        "fault": "truncated parquet file in a new revision of a raw dataset",
        "run": during,
        "kept": "previous converted dataset untouched" if kept else "converted dataset CHANGED",
        "rerun": again,
    }


CASES = {
    "outage": lambda root, a: case_outage(root, a.outage_s),
    "long_outage": lambda root, a: case_long_outage(root),
    "storm": lambda root, a: case_storm(root, a.storm_s, a.retry_after),
    "storm_beyond_budget": lambda root, a: case_storm_beyond_budget(root),
    "bad_revision": lambda root, a: case_bad_revision(root),
    "corrupt_parquet": lambda root, a: case_corrupt_parquet(root),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(CASES))
    parser.add_argument("--outage-s", type=float, default=40)
    parser.add_argument("--storm-s", type=float, default=75)
    parser.add_argument("--retry-after", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="groot-ops-faults-"))
    results = {}
    try:
        for name in args.only or list(CASES):
            results[name] = CASES[name](base / name, args)
            if not args.json:
                print(json.dumps({name: results[name]}, indent=2), flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
