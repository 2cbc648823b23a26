"""Which GPUs the torch build of the env can run: CUDA's compatibility rules over torch's arch list.

The arch list of torch 2.7.1+cu128 (what Isaac-GR00T n1.6.1 installs) is cited in groot_ops.gpu; the
recorded H100 facts (tests/fixtures/nvidia-smi/h100-x1) and the GPUs of this project's hosts are held
against it. tests/fixtures/gpu/ (recorded on an H200 by the device run) is read when present.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groot_ops import gpu

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ARCH_2_7_1 = gpu.TORCH_ARCH_LISTS["2.7.1+cu128"]


@pytest.mark.parametrize(
    ("name", "cap", "ok"),
    [
        ("RTX PRO 6000 Blackwell (the workstation)", (12, 0), True),
        ("GB10 / DGX Spark (sm_121: runs sm_120 cubins)", (12, 1), True),
        ("H100 / H200", (9, 0), True),
        ("B200", (10, 0), True),
        ("L40S (sm_89: runs sm_86 cubins)", (8, 9), True),
        ("A100", (8, 0), True),
        ("T4", (7, 5), True),
        ("V100: dropped from the cu128 builds of 2.7", (7, 0), False),
        ("P100", (6, 0), False),
        ("a future 13.0 part: JIT from the compute_120 PTX", (13, 0), True),
    ],
)
def test_torch_2_7_1_cu128_covers(name: str, cap: tuple[int, int], ok: bool) -> None:
    assert gpu.arch_supports(cap, ARCH_2_7_1) is ok, name


def test_without_ptx_a_newer_major_is_not_covered() -> None:
    assert not gpu.arch_supports((13, 0), ["sm_90", "sm_120"])
    assert not gpu.arch_supports((9, 0), ["sm_86"])  # sm_86 cubins do not run on 9.0
    assert gpu.arch_supports((9, 0), ["sm_90a"])  # arch-specific variants count as their base


@pytest.mark.parametrize(
    ("value", "parsed"), [("12.0", (12, 0)), ((9, 0), (9, 0)), ([8, 6], (8, 6)), ("", None)]
)
def test_parse_capability(value: object, parsed: tuple[int, int] | None) -> None:
    assert gpu.parse_capability(value) == parsed


def test_recorded_h100_passes_and_a_v100_is_named() -> None:
    gpus = gpu.parse_query_gpu_csv((FIXTURES / "nvidia-smi/h100-x1/query-gpu.csv").read_text())
    assert gpu.arch_problems(gpus, ARCH_2_7_1, torch_build="2.7.1+cu128") == []
    v100 = [{"index": 1, "name": "Tesla V100-SXM2-32GB", "compute_cap": "7.0"}]
    (problem,) = gpu.arch_problems(v100, ARCH_2_7_1, torch_build="2.7.1+cu128")
    assert problem.startswith("GPU 1 (Tesla V100-SXM2-32GB) has compute capability 7.0")
    assert "sm_75 sm_80" in problem


def test_torch_check_of_a_report() -> None:
    blackwell = {"index": 0, "name": "NVIDIA RTX PRO 6000 Blackwell", "compute_cap": "12.0"}
    report = {"torch": "2.7.1+cu128", "arch_list": list(ARCH_2_7_1), "gpus": [blackwell]}
    assert gpu.torch_check(report) == []
    assert gpu.torch_check({**report, "gpus": []}) == [
        "torch 2.7.1+cu128 sees no CUDA GPU (torch.cuda.is_available() is False)"
    ]
    assert gpu.torch_check({**report, "arch_list": ["sm_80", "sm_90"]})[0].endswith(
        "which torch 2.7.1+cu128 (built for sm_80 sm_90) cannot run"
    )


def test_torch_check_cli_on_this_cpu_torch(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    assert gpu.main(["torch-check"]) == 1  # no CUDA GPU here: the check must fail, not pass
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["gpus"] == []
    assert gpu.main(["nonsense"]) == 2


H200 = FIXTURES / "gpu" / "h200-x1"


def _recorded_report() -> dict:
    """The H200 device run's torch facts, as groot_ops.gpu.torch_report() lays them out."""
    facts = json.loads((H200 / "torch-facts.json").read_text())
    gpus = [
        {"index": i, "name": d["name"], "compute_cap": "{}.{}".format(*d["capability"])}
        for i, d in enumerate(facts["devices"])
    ]
    return {"torch": facts["torch"], "cuda": facts["cuda"], "arch_list": facts["arch_list"], "gpus": gpus}


def test_recorded_h200_torch_covers_its_gpu_and_not_a_volta() -> None:
    report = _recorded_report()
    assert report["gpus"] == [{"index": 0, "name": "NVIDIA H200", "compute_cap": "9.0"}]
    assert gpu.torch_check(report) == []
    # That build (2.11.0+cu130) has no sm_70 and no PTX: a V100 or a newer major would be refused.
    assert gpu.torch_check({**report, "gpus": [{"index": 0, "name": "V100", "compute_cap": "7.0"}]})
    assert not gpu.arch_supports((13, 0), report["arch_list"])


def test_recorded_h200_nvidia_smi_meets_the_env_torch() -> None:
    gpus = gpu.parse_query_gpu_csv((H200 / "nvidia-smi-query.csv").read_text())
    assert [g["compute_cap"] for g in gpus] == ["9.0"]
    assert gpu.arch_problems(gpus, ARCH_2_7_1, torch_build="2.7.1+cu128") == []
