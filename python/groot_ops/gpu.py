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


# What the torch build the env installs can run. Upstream n1.6.1 pins torch==2.7.1 from the PyTorch cu128
# index ([tool.uv.sources] in its pyproject.toml). Its wheels are built for compute capabilities 7.5, 8.0,
# 8.6, 9.0, 10.0 and 12.0 with PTX for 12.0: PyTorch dropped sm_50/sm_60 and then sm_70 from the CUDA 12.8
# builds before 2.7 (pytorch/pytorch#147607, merged 2025-03-05, following #146265), and only 2.8 put sm_70
# back (pytorch/pytorch#157517; "torch 2.7.1+cu128 not support sm_70", EutropicAI/vs-playground#59). A
# cu128 wheel of that time reports torch.cuda.get_arch_list() == ['sm_75', 'sm_80', 'sm_86', 'sm_90',
# 'sm_100', 'sm_120', 'compute_120'] (recorded in NVIDIA's 3dgrut install_env.sh). The installed env's own
# get_arch_list() is checked as well (groot_env, tag gpu), so a wrong entry here cannot pass a real GPU.
TORCH_ARCH_LISTS: dict[str, tuple[str, ...]] = {
    "2.7.1+cu128": ("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"),
}
_ARCH = re.compile(r"^(sm|compute)_(\d+)[a-z]?$")


def parse_capability(value: Any) -> tuple[int, int] | None:
    """``"12.0"``, ``(12, 0)`` or ``[9, 0]`` -> (major, minor); None when unknown."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", str(value or ""))
    return (int(match.group(1)), int(match.group(2))) if match else None


def arch_supports(capability: tuple[int, int], arch_list: Sequence[str]) -> bool:
    """Whether a torch built for ``arch_list`` has kernels for a GPU of ``capability`` (CUDA's rules).

    A cubin for sm_XY runs on X.Z with Z >= Y (same major; arch-specific ``a``/``f`` variants taken as
    their base), and PTX for compute_XY is JIT-compiled on any capability >= X.Y. torch's own warning
    (``torch.cuda._check_cubins``) only compares the major, so it is looser than this.
    """
    major, minor = capability
    for arch in arch_list:
        match = _ARCH.match(arch.strip())
        if not match:
            continue
        number = int(match.group(2))
        arch_major, arch_minor = divmod(number, 10)
        if match.group(1) == "sm" and arch_major == major and arch_minor <= minor:
            return True
        if match.group(1) == "compute" and (arch_major, arch_minor) <= (major, minor):
            return True
    return False


def arch_problems(gpus: Sequence[dict[str, Any]], arch_list: Sequence[str], *, torch_build: str) -> list[str]:
    """One message per GPU whose compute capability ``torch_build`` (with ``arch_list``) cannot run."""
    problems = []
    for gpu in gpus:
        cap = parse_capability(gpu.get("compute_cap"))
        if cap is None:
            problems.append(f"GPU {gpu.get('index')} ({gpu.get('name')}): compute capability unknown")
        elif not arch_supports(cap, arch_list):
            problems.append(
                f"GPU {gpu.get('index')} ({gpu.get('name')}) has compute capability {cap[0]}.{cap[1]}, which "
                f"torch {torch_build} (built for {' '.join(arch_list)}) cannot run"
            )
    return problems


def torch_report() -> dict[str, Any]:
    """What the installed torch says about itself and the GPUs it sees (run inside the training env)."""
    import torch  # only inside the env: this module is standard library otherwise

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "arch_list": list(torch.cuda.get_arch_list()),
        "gpus": [
            {
                "index": i,
                "name": torch.cuda.get_device_name(i),
                "compute_cap": "{}.{}".format(*torch.cuda.get_device_capability(i)),
            }
            for i in range(count)
        ],
    }


def torch_check(report: dict[str, Any]) -> list[str]:
    """Problems of a :func:`torch_report`: no GPU visible, or a GPU its arch list does not cover."""
    if not report.get("gpus"):
        return [f"torch {report.get('torch')} sees no CUDA GPU (torch.cuda.is_available() is False)"]
    return arch_problems(report["gpus"], report.get("arch_list") or [], torch_build=str(report.get("torch")))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m groot_ops.gpu torch-check``: exit 1 naming each GPU the env's torch cannot run."""
    import json
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["torch-check"]:
        print("usage: python -m groot_ops.gpu torch-check", file=sys.stderr)
        return 2
    report = torch_report()
    problems = torch_check(report)
    print(json.dumps({**report, "ok": not problems, "problems": problems}))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
