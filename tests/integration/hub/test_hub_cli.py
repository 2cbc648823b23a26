"""``groot-ops hub ...`` as an operator runs it: a real process against the test Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.checkpoint_factory import write_checkpoint

REPO_ROOT = Path(__file__).resolve().parents[3]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "python"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "groot_ops", "hub", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_export_card_publish_and_download(hub, raw_dataset, tmp_path):
    sha = hub.seed("groot/ds", raw_dataset, tags=["v1"])
    dry = _cli("download", "groot/ds", "--revision", "v1", "--local-dir", str(tmp_path / "raw"),
               "--endpoint", hub.url, "--check")  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"would download: groot/ds@v1 -> {sha} ("), dry.stdout
    assert not (tmp_path / "raw").exists()
    got = _cli(
        "download",
        "groot/ds",
        "--revision",
        "v1",
        "--local-dir",
        str(tmp_path / "raw"),
        "--endpoint",
        hub.url,
        "--json",
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["sha"] == sha

    write_checkpoint(tmp_path / "out", 7)
    export = tmp_path / "export"
    assert _cli("export", str(tmp_path / "out"), str(export)).returncode == 0
    prov = {
        "recipe": "demo",
        "datasets": [{"name": "ds", "repo_id": "groot/ds", "revision": "v1", "sha": sha}],
        "isaac_groot": {"repo": "NVIDIA/Isaac-GR00T", "commit": "e" * 40},
        "groot_ops_commit": "f" * 40,
        "base_model": "nvidia/GR00T-N1.6-3B",
        "embodiment_tag": "UNITREE_G1",
        "training_flags": {"max_steps": 7},
        "steps": 7,
        "final_loss": 1.5,
    }
    (tmp_path / "prov.json").write_text(json.dumps(prov))
    card = _cli("card", str(export), "--provenance", str(tmp_path / "prov.json"))
    assert card.returncode == 0 and "wrote" in card.stdout, card.stderr
    assert "model-00001-of-00002.safetensors" in (export / "README.md").read_text()

    no_token = _cli("publish", str(export), "groot/demo", "--endpoint", hub.url, env={"HF_TOKEN": ""})
    assert no_token.returncode == 1 and "environment variable HF_TOKEN" in no_token.stderr
    args = ("publish", str(export), "groot/demo", "--tag", "step-7", "--endpoint", hub.url, "--json")
    first = _cli(*args, env={"HF_TOKEN": hub.token})
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["changed"] is True
    second = json.loads(_cli(*args, env={"HF_TOKEN": hub.token}).stdout)
    assert second["changed"] is False and second["uploaded_files"] == []
    assert hub.token not in first.stdout + first.stderr


def test_cli_bad_input_exits_non_zero_with_the_path(tmp_path):
    write_checkpoint(tmp_path / "out", 3, complete=False)
    result = _cli("export", str(tmp_path / "out" / "checkpoint-3"), str(tmp_path / "export"))
    assert result.returncode == 1
    assert "model-00002-of-00002.safetensors" in result.stderr and "checkpoint-3" in result.stderr
