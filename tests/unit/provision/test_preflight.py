"""Preflight checks and verdicts: disk budget, GPU requirements, the real Docker engine, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from groot_ops import gpu, preflight

H100 = Path(__file__).resolve().parents[2] / "fixtures" / "nvidia-smi" / "h100-x1"
GIB = 1024**3


def _h100_facts() -> dict:
    return gpu.summarize(
        gpu.parse_query_gpu_csv((H100 / "query-gpu.csv").read_text()),
        cuda_version=gpu.parse_cuda_version((H100 / "nvidia-smi.txt").read_text()),
    )


def test_budget_counts_one_checkpoint_more_than_the_limit() -> None:
    budget = preflight.disk_budget(
        datasets_bytes=50 * GIB, checkpoint_bytes=22 * GIB, save_total_limit=2, export_bytes=8 * GIB
    )
    assert budget["checkpoints_bytes"] == 3 * 22 * GIB
    assert budget["total_bytes"] == int((50 + 66 + 8) * GIB * 1.1)


def test_budget_rejects_negative_sizes() -> None:
    with pytest.raises(ValueError, match="checkpoint_bytes must be >= 0"):
        preflight.disk_budget(checkpoint_bytes=-1)


@pytest.mark.parametrize(
    ("observed", "minimum", "ok"),
    [
        ("13.0", "12.8", True),
        ("12.4", "12.8", False),
        ("580.159.04", "550", True),
        ("20.10.24+dfsg1", "24.0", False),
        (None, "1.0", False),
        ("1.0", "", True),
    ],
)
def test_version_at_least(observed: str | None, minimum: str, ok: bool) -> None:
    assert preflight.version_at_least(observed, minimum) is ok


def test_paths_on_one_filesystem_add_up(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    paths = {"datasets": str(tmp_path / "datasets"), "checkpoints": str(tmp_path / "not" / "yet" / "there")}
    checks = preflight.check_disks(
        paths, {"datasets_bytes": free // 2, "checkpoints_bytes": free // 2 + GIB}, margin_ratio=0.0
    )
    assert len(checks) == 1
    (disk,) = checks
    assert disk["name"] == "disk:datasets+checkpoints"
    assert disk["ok"] is False
    assert disk["severity"] == "hard"
    assert "GiB needed by the recipe's disk budget" in disk["message"]
    assert disk["fix"].startswith("free ")


def test_disk_that_fits(tmp_path: Path) -> None:
    (check,) = preflight.check_disks({"datasets": str(tmp_path)}, {"datasets_bytes": 1024})
    assert check["ok"] and check["fix"] == ""


def test_h100_meets_the_gpu_requirements() -> None:
    checks = preflight.gpu_checks(
        _h100_facts(), {"min_gpu_count": 1, "min_gpu_memory_mib": 40000, "min_cuda_version": "12.8"}
    )
    assert {c["name"]: c["ok"] for c in checks} == {
        "gpu:present": True,
        "gpu:count": True,
        "gpu:memory": True,
        "gpu:cuda_version": True,
    }


def test_small_gpu_and_old_driver_are_refused_with_fixes() -> None:
    facts = _h100_facts()
    facts.update(min_memory_mib=24000, cuda_version="12.2")
    checks = preflight.gpu_checks(
        facts, {"min_gpu_count": 2, "min_gpu_memory_mib": 40000, "min_cuda_version": "12.8"}
    )
    failed = {c["name"]: c["fix"] for c in checks if not c["ok"]}
    assert set(failed) == {"gpu:count", "gpu:memory", "gpu:cuda_version"}
    assert "40 GB" in failed["gpu:memory"]


def test_no_gpu_is_soft_when_not_required() -> None:
    facts = gpu.summarize([], cuda_version=None)
    result = preflight.verdict(preflight.gpu_checks(facts, {"require_gpu": False}))
    assert result["ok"] is True
    assert result["checks"][0]["severity"] == "soft"
    hard = preflight.verdict(preflight.gpu_checks(facts, {"require_gpu": True}))
    assert hard["ok"] is False and hard["failed"] == ["gpu:present"]


@pytest.mark.docker
def test_real_docker_engine_without_nvidia_runtime() -> None:
    engine = preflight.docker_engine_info()
    assert engine["reachable"], engine.get("error")
    checks = {c["name"]: c for c in preflight.docker_checks(engine, {"min_docker_version": "20.10"})}
    assert checks["docker:engine"]["ok"] and checks["docker:version"]["ok"]
    # This machine's engine has no NVIDIA runtime: a GPU pipeline must be refused with the fix.
    assert checks["docker:nvidia_runtime"]["ok"] is False
    assert "nvidia-ctk runtime configure" in checks["docker:nvidia_runtime"]["fix"]
    assert checks["docker:root_dir"]["observed"]


def test_unreachable_engine_is_a_hard_failure(tmp_path: Path) -> None:
    engine = preflight.docker_engine_info(f"unix://{tmp_path}/no.sock", timeout=1)
    result = preflight.verdict(preflight.docker_checks(engine, {}))
    assert result["ok"] is False and result["failed"] == ["docker:engine"]
    assert "no.sock" in result["summary"]


def test_ansible_range() -> None:
    assert preflight.ansible_check("2.19.4", "2.18.0", "2.21.0")["ok"]
    assert not preflight.ansible_check("2.21.0", "2.18.0", "2.21.0")["ok"]


def test_cli_refuses_and_writes_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "verdict.json"
    rc = preflight.main(
        [
            "--workspace",
            str(tmp_path),
            "--checkpoint-gib",
            str(10**7),
            "--save-total-limit",
            "1",
            "--no-docker",
            "--out",
            str(out),
        ]
    )
    assert rc == 1
    saved = json.loads(out.read_text())
    assert saved == json.loads(capsys.readouterr().out)
    assert saved["ok"] is False
    assert any(name.startswith("disk:") for name in saved["failed"])


def test_recorded_device_verdict_is_a_disk_and_docker_refusal() -> None:
    saved = json.loads((H100 / "preflight-verdict.json").read_text())
    assert saved["ok"] is False
    assert sorted(saved["failed"]) == ["disk:datasets+hf_cache+checkpoints+exports", "docker:engine"]
    assert saved["gpu"]["cuda_version"] == "13.0"


def test_module_utils_copies_are_the_package_files() -> None:
    # The Ansible modules ship module_utils/groot_ops_*.py; they must be the package's own code.
    root = Path(__file__).resolve().parents[3]
    for name, source in (
        ("gpu", "gpu.py"),
        ("preflight", "preflight.py"),
        ("envsetup", "envsetup.py"),
        ("budget", "disk/budget.py"),
        ("serverimage", "serverimage.py"),
    ):
        link = root / "module_utils" / f"groot_ops_{name}.py"
        assert link.is_symlink()
        assert os.path.samefile(link, root / "python" / "groot_ops" / source)


def test_budget_and_preflight_load_without_the_package(tmp_path: Path) -> None:
    # As Ansible ships them: module_utils/ copies, groot_ops not importable, budget from module_utils.
    root = Path(__file__).resolve().parents[3]
    script = (
        "import sys\n"
        "sys.modules['groot_ops'] = None\n"  # import groot_ops.* raises ImportError
        "import ansible.module_utils\n"
        f"ansible.module_utils.__path__.append({str(root / 'module_utils')!r})\n"
        "from ansible.module_utils import groot_ops_budget, groot_ops_gpu, groot_ops_preflight\n"
        "from ansible.module_utils import groot_ops_envsetup, groot_ops_serverimage\n"
        "assert groot_ops_preflight.budget_parts is groot_ops_budget.budget_parts\n"
        "assert groot_ops_preflight.arch_problems is groot_ops_gpu.arch_problems\n"
        "assert groot_ops_serverimage.profile_for('aarch64') == 'spark'\n"
        "b = groot_ops_preflight.disk_budget(checkpoint_bytes=10, save_total_limit=2, margin_ratio=0)\n"
        "assert b['checkpoints_bytes'] == 30 and b['total_bytes'] == 30, b\n"
        "try:\n"
        "    groot_ops_budget.recipe_budget({}, checkpoint_bytes=-1, free_bytes=0)\n"
        "except ValueError as exc:\n"
        "    assert 'checkpoint_bytes' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('no error')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
