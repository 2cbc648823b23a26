"""nvidia-smi parsing on output recorded on a real H100 (tests/fixtures/nvidia-smi/h100-x1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from groot_ops import gpu
from groot_ops.errors import InputError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nvidia-smi"
H100 = FIXTURES / "h100-x1"


def test_parses_recorded_noheader_csv() -> None:
    gpus = gpu.parse_query_gpu_csv((H100 / "query-gpu.csv").read_text())
    assert gpus == [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "uuid": "GPU-9e638ba8-b996-5d5e-a4a8-3f5d16a3d55a",
            "memory_total_mib": 81559,
            "memory_used_mib": 0,
            "driver_version": "580.159.04",
            "compute_cap": "9.0",
        }
    ]


def test_header_csv_with_units_gives_the_same_facts() -> None:
    with_header = gpu.parse_query_gpu_csv((H100 / "query-gpu-header.csv").read_text())
    assert with_header == gpu.parse_query_gpu_csv((H100 / "query-gpu.csv").read_text())


def test_header_decides_column_order() -> None:
    text = "name, index, memory.total [MiB]\nNVIDIA A100-SXM4-40GB, 3, 40960 MiB\n"
    assert gpu.parse_query_gpu_csv(text) == [
        {"name": "NVIDIA A100-SXM4-40GB", "index": 3, "memory_total_mib": 40960}
    ]


def test_cuda_and_driver_from_plain_header() -> None:
    plain = (H100 / "nvidia-smi.txt").read_text()
    assert gpu.parse_cuda_version(plain) == "13.0"
    assert gpu.parse_driver_version(plain) == "580.159.04"
    assert gpu.parse_cuda_version("| NVIDIA-SMI 470.1  Driver Version: 470.1  CUDA Version: N/A |") is None
    assert gpu.parse_cuda_version("no header here") is None


def test_multi_gpu_summary_takes_the_smallest_memory() -> None:
    text = (
        "0, NVIDIA RTX PRO 6000 Blackwell, GPU-a, 97887, 10, 590.10, 12.0\n"
        "1, NVIDIA L4, GPU-b, 23034, [N/A], 590.10, 8.9\n"
    )
    facts = gpu.summarize(gpu.parse_query_gpu_csv(text), cuda_version="13.0")
    assert facts["count"] == 2
    assert facts["min_memory_mib"] == 23034
    assert facts["total_memory_mib"] == 97887 + 23034
    assert facts["driver_version"] == "590.10"
    assert facts["gpus"][1]["memory_used_mib"] is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("0, NVIDIA H100, GPU-x, 81559\n", "line 1 has 4 fields, expected 7"),
        ("0, NVIDIA H100, GPU-x, lots, 0, 580.1, 9.0\n", "memory.total on line 1 is not a number"),
    ],
)
def test_malformed_output_names_the_source_and_line(text: str, needle: str) -> None:
    with pytest.raises(InputError) as err:
        gpu.parse_query_gpu_csv(text, source="host lab-ws nvidia-smi")
    assert needle in str(err.value)
    assert "host lab-ws nvidia-smi" in str(err.value)


def test_collect_runs_a_real_nvidia_smi_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The replay script stands in for the driver tool; collect() really executes it twice.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "nvidia-smi").symlink_to(FIXTURES / "fake-nvidia-smi.sh")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GROOT_OPS_NVIDIA_SMI_FIXTURE", str(H100))
    facts = gpu.collect()
    assert facts["present"] is True
    assert facts["cuda_version"] == "13.0"
    assert facts["models"] == ["NVIDIA H100 80GB HBM3"]


def test_collect_without_nvidia_smi_reports_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    facts = gpu.collect()
    assert facts["present"] is False
    assert facts["count"] == 0
    assert "not found" in facts["reason"]


def test_failing_nvidia_smi_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate' >&2\nexit 9\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    facts = gpu.collect()
    assert facts["present"] is False
    assert "exited 9" in facts["reason"] and "could not communicate" in facts["reason"]
