"""groot_dataset, groot_export and groot_hub_upload run for real by ansible-playbook against the test Hub.

The token travels the way production sends it: from an Ansible Vault file. Every run is -vvv so that
a token leaking through module invocation logs, diffs or errors would be caught.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.ansible_helpers import VENV_BIN, VENV_PYTHON, run_playbook, write_local_inventory
from tests.checkpoint_factory import write_checkpoint

VAULT_PASSWORD = "hub-module-tests-vault-password"


def _vault(tmp_path: Path, token: str) -> tuple[Path, Path]:
    secret = tmp_path / "vault.yml"
    secret.write_text(yaml.safe_dump({"vault_hf_token": token}))
    password = tmp_path / "vault-pass"
    password.write_text(VAULT_PASSWORD)
    subprocess.run(
        [str(VENV_BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password), str(secret)],
        check=True,
        capture_output=True,
    )
    return secret, password


def _play(tmp_path: Path, name: str, tasks: list[dict]) -> Path:
    play = [{"name": name, "hosts": "box", "gather_facts": False, "tasks": tasks}]
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


def _run(tmp_path: Path, playbook: Path, secret: Path, password: Path, **kwargs):
    inventory = write_local_inventory(tmp_path / "inventory.yml", {"hub": ["box"]})
    return run_playbook(
        playbook,
        inventory=inventory,
        extra_vars_files=[secret],
        args=["--vault-password-file", str(password), "-vvv"],
        **kwargs,
    )


def test_groot_dataset_module_check_diff_idempotent_no_token_leak(hub, raw_dataset, tmp_path):
    sha = hub.seed("groot/private-fold", raw_dataset, private=True)
    secret, password = _vault(tmp_path, hub.token)
    out = tmp_path / "raw" / "fold"
    task = {
        "name": "Download",
        "groot_dataset": {
            "repo_id": "groot/old-name",
            "aliases": ["groot/private-fold"],
            "revision": "main",
            "local_dir": str(out),
            "ego_camera": "cam_left_high",
            "endpoint": hub.url,
            "token": "{{ vault_hf_token }}",
        },
        "register": "dl",
    }
    report = {"name": "Report", "ansible.builtin.debug": {"msg": "SHA={{ dl.sha }} FROM={{ dl.repo_id }}"}}
    playbook = _play(tmp_path, "dataset", [task, report])

    check = _run(tmp_path, playbook, secret, password, check=True, diff=True)
    assert check.rc == 0, check.describe()
    assert check.changed() == 1 and not out.exists()
    assert f"SHA={sha} FROM=groot/private-fold" in check.output and "+    sha: " in check.output

    first = _run(tmp_path, playbook, secret, password)
    assert first.rc == 0 and first.changed() == 1, first.describe()
    assert (out / "meta" / "info.json").is_file()
    second = _run(tmp_path, playbook, secret, password, diff=True)
    assert second.rc == 0 and second.changed() == 0, second.describe()
    for result in (check, first, second):
        assert hub.token not in result.output


def test_export_and_upload_modules_end_to_end(hub, tmp_path):
    runs = tmp_path / "checkpoints" / "demo"
    write_checkpoint(runs, 5)
    write_checkpoint(runs, 10, multi_gpu=True)
    export = tmp_path / "exports" / "demo" / "step-10"
    secret, password = _vault(tmp_path, hub.token)
    provenance = {
        "recipe": "demo",
        "datasets": [{"name": "fold", "repo_id": "groot/fold", "revision": "main", "sha": "d" * 40}],
        "isaac_groot": {"repo": "NVIDIA/Isaac-GR00T", "commit": "e" * 40},
        "groot_ops_commit": "f" * 40,
        "base_model": "nvidia/GR00T-N1.6-3B",
        "embodiment_tag": "UNITREE_G1",
        "training_flags": {"max_steps": 10},
        "steps": 10,
        "final_loss": 0.5,
    }
    tasks = [
        {
            "name": "Export",
            "groot_export": {
                "checkpoint_dir": str(runs),
                "export_dir": str(export),
                "provenance": provenance,
            },
        },
        {
            "name": "Upload",
            "groot_hub_upload": {
                "folder": str(export),
                "repo_id": "groot/demo-model",
                "token": "{{ vault_hf_token }}",
                "tag": "step-10",
                "endpoint": hub.url,
                "backoff_s": 0.05,
            },
            "register": "up",
            # Upload needs the export on disk, which check mode does not write.
            "when": "not ansible_check_mode",
        },
    ]
    playbook = _play(tmp_path, "publish", tasks)

    check = _run(tmp_path, playbook, secret, password, check=True, diff=True)
    assert check.rc == 0 and check.changed() == 1 and not export.exists(), check.describe()
    assert "README.md" in check.output and "model-00001-of-00002.safetensors" in check.output

    hub.server.inject("POST", r"/commit/main$", status=429, times=1)
    first = _run(tmp_path, playbook, secret, password)
    assert first.rc == 0 and first.changed() == 2, first.describe()
    assert sorted(p.name for p in export.iterdir()) == [
        "README.md",
        "config.json",
        "embodiment_id.json",
        "experiment_cfg",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
        "processor_config.json",
        "statistics.json",
    ]
    assert [r.status for r in hub.server.recorded("POST", "/commit/main")] == [429, 200]

    hub.server.clear_requests()
    second = _run(tmp_path, playbook, secret, password, diff=True)
    assert second.rc == 0 and second.changed() == 0, second.describe()
    assert not [r for r in hub.server.recorded() if r.method != "GET"]

    (tmp_path / "bad").mkdir()
    secret_bad, _ = _vault(tmp_path / "bad", "hf_revokedtoken1234567890abcdef")
    failed = _run(tmp_path, playbook, secret_bad, password)
    assert failed.rc != 0 and "groot/demo-model" in failed.output and "HTTP 401" in failed.output
    for result in (check, first, second, failed):
        assert hub.token not in result.output
    assert "hf_revokedtoken1234567890abcdef" not in failed.output


def test_missing_groot_ops_on_target_says_what_to_install(tmp_path):
    inventory = write_local_inventory(
        tmp_path / "inventory.yml", {"hub": ["box"]}, {"ansible_python_interpreter": "/usr/bin/python3"}
    )
    play = _play(
        tmp_path,
        "missing",
        [
            {
                "name": "Export",
                "groot_export": {"checkpoint_dir": str(tmp_path), "export_dir": str(tmp_path / "x")},
            }
        ],
    )
    result = run_playbook(play, inventory=inventory, env={"PYTHONPATH": ""})
    assert result.rc != 0
    assert "groot_ops" in result.output and "pip install 'groot-ops[workstation]'" in result.output
    assert str(VENV_PYTHON) not in result.output or "/usr/bin/python3" in result.output
