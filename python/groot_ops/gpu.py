"""GPU facts from ``nvidia-smi``: the CSV query for per-GPU data, the plain header for CUDA.

Standard library only, and no import of the rest of groot_ops at module level: the preflight
Ansible modules ship this file to hosts (through ``module_utils/groot_ops_gpu.py``) before the
project's package is installed anywhere.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

try:
    from groot_ops.errors import InputError
except ImportError:  # shipped as Ansible module_utils: groot_ops is not installed on the host yet

    class InputError(ValueError):  # type: ignore[no-redef]
        def __init__(self, message: str, *, path: str | None = None, **_: Any) -> None:
            super().__init__(f"{message} (file {path})" if path else message)


QUERY_FIELDS: tuple[str, ...] = (
    "index",
    "name",
    "uuid",
    "memory.total",
    "memory.used",
    "driver_version",
    "compute_cap",
)
_INT_FIELDS = {"index": "index", "memory.total": "memory_total_mib", "memory.used": "memory_used_mib"}
_MISSING = {"[N/A]", "[Not Supported]", "N/A", ""}
_CUDA_RE = re.compile(r"CUDA Version:\s*([0-9]+(?:\.[0-9]+)*|N/A)")
_DRIVER_RE = re.compile(r"Driver Version:\s*([0-9][0-9.]*)")

Runner = Callable[[Sequence[str]], tuple[int, str, str]]


def query_gpu_argv(nvidia_smi: str = "nvidia-smi") -> list[str]:
    return [
        nvidia_smi,
        f"--query-gpu={','.join(QUERY_FIELDS)}",
        "--format=csv,noheader,nounits",
    ]


def _field_key(field: str) -> str:
    return _INT_FIELDS.get(field, field.replace(".", "_"))


def _header_fields(line: str) -> list[str]:
    # "memory.total [MiB]" -> "memory.total": the unit suffix appears when nounits is not given.
    return [re.sub(r"\s*\[.*\]$", "", cell.strip()) for cell in line.split(",")]


def _value(field: str, raw: str, *, source: str, line_no: int) -> Any:
    text = raw.strip()
    if text in _MISSING:
        return None
    if field in _INT_FIELDS:
        number = re.sub(r"\s*MiB$", "", text)
        try:
            return int(number)
        except ValueError:
            raise InputError(
                f"nvidia-smi field {field} on line {line_no} is not a number: {text!r}", path=source
            ) from None
    return text


def parse_query_gpu_csv(
    text: str, fields: Sequence[str] = QUERY_FIELDS, *, source: str = "nvidia-smi output"
) -> list[dict[str, Any]]:
    """Parse ``nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]`` into one dict per GPU.

    A header line, when present, decides the column order; otherwise ``fields`` does. Keys are the
    field names with dots turned into underscores, memory in MiB as ``memory_total_mib``.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    columns = list(fields)
    if lines and all(re.fullmatch(r"[a-z_.]+", cell) for cell in _header_fields(lines[0])):
        columns = _header_fields(lines.pop(0))
    gpus: list[dict[str, Any]] = []
    for line_no, line in enumerate(lines, start=1):
        # GPU names contain no commas; nvidia-smi never quotes its CSV.
        cells = line.split(",")
        if len(cells) != len(columns):
            raise InputError(
                f"nvidia-smi line {line_no} has {len(cells)} fields, expected {len(columns)} "
                f"({', '.join(columns)}): {line.strip()!r}",
                path=source,
            )
        gpu = {
            _field_key(col): _value(col, cell, source=source, line_no=line_no)
            for col, cell in zip(columns, cells, strict=True)
        }
        gpus.append(gpu)
    return gpus


def parse_cuda_version(text: str) -> str | None:
    """The "CUDA Version: 13.0" of plain ``nvidia-smi`` output (None when absent or N/A)."""
    match = _CUDA_RE.search(text)
    if not match or match.group(1) == "N/A":
        return None
    return match.group(1)


def parse_driver_version(text: str) -> str | None:
    match = _DRIVER_RE.search(text)
    return match.group(1) if match else None


def summarize(gpus: list[dict[str, Any]], *, cuda_version: str | None) -> dict[str, Any]:
    """Facts for Ansible: counts and the weakest GPU (what a single-GPU recipe must fit into)."""
    memories = [g["memory_total_mib"] for g in gpus if g.get("memory_total_mib") is not None]
    drivers = sorted({g["driver_version"] for g in gpus if g.get("driver_version")})
    return {
        "present": bool(gpus),
        "count": len(gpus),
        "models": sorted({g["name"] for g in gpus if g.get("name")}),
        "min_memory_mib": min(memories) if memories else None,
        "total_memory_mib": sum(memories),
        "driver_version": drivers[0] if len(drivers) == 1 else (drivers or None),
        "cuda_version": cuda_version,
        "gpus": gpus,
    }


def _run(argv: Sequence[str]) -> tuple[int, str, str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def collect(nvidia_smi: str = "nvidia-smi", *, run: Runner = _run) -> dict[str, Any]:
    """Run nvidia-smi on this host; a host without it gets ``present: False`` and a reason."""
    exe = shutil.which(nvidia_smi)
    if exe is None:
        facts = summarize([], cuda_version=None)
        facts["reason"] = f"{nvidia_smi} not found on PATH"
        return facts
    rc, out, err = run(query_gpu_argv(exe))
    if rc != 0:
        facts = summarize([], cuda_version=None)
        facts["reason"] = f"{exe} --query-gpu exited {rc}: {(err or out).strip()[:500]}"
        return facts
    gpus = parse_query_gpu_csv(out, source=f"{exe} --query-gpu")
    rc_plain, plain, _ = run([exe])
    facts = summarize(gpus, cuda_version=parse_cuda_version(plain) if rc_plain == 0 else None)
    facts["reason"] = None
    return facts
