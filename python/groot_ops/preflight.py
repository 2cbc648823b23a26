"""Preflight checks and their single JSON verdict ``{"ok": bool, "checks": [...]}``.

Every check says what was observed, what is required, whether it is hard (blocks the pipeline)
and how to fix it. Standard library only and no module-level import of the rest of groot_ops
except the disk budget (:mod:`groot_ops.disk.budget`, itself standard library only): the
``groot_preflight`` Ansible module ships this file to hosts (``module_utils/groot_ops_preflight.py``,
with the budget as ``module_utils/groot_ops_budget.py``) before the project's package exists there.
``python -m groot_ops.preflight`` runs the same checks outside Ansible (used on the GPU device machine).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    from groot_ops.disk.budget import budget_parts
    from groot_ops.gpu import TORCH_ARCH_LISTS, arch_problems
except ImportError:  # shipped as Ansible module_utils: groot_ops is not installed on the host yet
    from ansible.module_utils.groot_ops_budget import budget_parts  # type: ignore[no-redef]
    from ansible.module_utils.groot_ops_gpu import TORCH_ARCH_LISTS, arch_problems  # type: ignore[no-redef]

GIB = 1024**3

# What each filesystem role of the workspace must hold, from the recipe's disk budget.
PATH_NEEDS = {
    "datasets": ("datasets_bytes",),
    "hf_cache": ("caches_bytes",),
    "checkpoints": ("checkpoints_bytes",),
    "exports": ("export_bytes",),
    # The inference host keeps one export per deployed revision.
    "server_models": ("export_bytes",),
    "docker_root": ("docker_root_bytes",),
}
# Executables of the NVIDIA container toolkit (any one proves it is installed).
TOOLKIT_EXECUTABLES = (
    "nvidia-ctk",
    "nvidia-container-toolkit",
    "nvidia-container-runtime",
    "nvidia-container-cli",
)
TOOLKIT_DIRS = ("/usr/bin", "/usr/local/bin", "/usr/sbin")


def _version_tuple(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    parts = re.findall(r"\d+", str(text))
    return tuple(int(p) for p in parts[:4]) if parts else None


def version_at_least(observed: str | None, minimum: str | None) -> bool:
    if not minimum:
        return True
    have, need = _version_tuple(observed), _version_tuple(minimum)
    if have is None or need is None:
        return False
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


def check(
    name: str,
    ok: bool,
    *,
    observed: Any,
    required: Any,
    fix: str = "",
    hard: bool = True,
    message: str = "",
) -> dict[str, Any]:
    return {
        "name": name,
        "ok": bool(ok),
        "severity": "hard" if hard else "soft",
        "observed": observed,
        "required": required,
        "message": message or (f"{name}: ok" if ok else f"{name}: observed {observed}, required {required}"),
        "fix": "" if ok else fix,
    }


def disk_budget(
    *,
    datasets_bytes: int = 0,
    caches_bytes: int = 0,
    checkpoint_bytes: int = 0,
    save_total_limit: int = 0,
    export_bytes: int = 0,
    margin_ratio: float = 0.1,
) -> dict[str, int]:
    """Bytes each part of a run needs on disk, keyed as :data:`PATH_NEEDS` reads them.

    A thin wrapper over :func:`groot_ops.disk.budget.budget_parts`: checkpoints count
    ``save_total_limit + 1`` (the trainer writes the new checkpoint before its rotation deletes the
    oldest, so the peak holds one more than the limit; the original run died exactly at such a
    save), and a limit of 0 counts no checkpoints. ``margin_ratio`` keeps headroom for logs and
    temp files. Raises ``ValueError`` for a negative size.
    """
    parts = budget_parts(
        dataset_bytes=int(datasets_bytes),
        cache_bytes=int(caches_bytes),
        checkpoint_bytes=int(checkpoint_bytes),
        save_total_limit=int(save_total_limit),
        export_bytes=int(export_bytes),
    )
    result = {
        "datasets_bytes": parts["datasets"],
        "caches_bytes": parts["caches"],
        "checkpoints_bytes": parts["checkpoints"],
        "export_bytes": parts["export"],
    }
    total = sum(result.values())
    result["margin_bytes"] = int(total * float(margin_ratio))
    result["total_bytes"] = total + result["margin_bytes"]
    return result


def _existing_ancestor(path: Path) -> Path:
    # The workspace may not exist before provisioning; its filesystem is the nearest existing parent's.
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def check_disks(
    paths: Mapping[str, str], budget: Mapping[str, int], *, margin_ratio: float = 0.1
) -> list[dict[str, Any]]:
    """One check per filesystem: paths sharing a device add up their needs."""
    groups: dict[int, dict[str, Any]] = {}
    for label, raw in paths.items():
        if not raw:
            continue
        need = sum(int(budget.get(key, 0)) for key in PATH_NEEDS.get(label, ()))
        anchor = _existing_ancestor(Path(raw))
        dev = os.stat(anchor).st_dev
        group = groups.setdefault(dev, {"labels": [], "paths": [], "need": 0, "anchor": str(anchor)})
        group["labels"].append(label)
        group["paths"].append(str(raw))
        group["need"] += need
    checks = []
    for group in groups.values():
        need = group["need"] + int(group["need"] * margin_ratio)
        free = shutil.disk_usage(group["anchor"]).free
        ok = free >= need
        where = ", ".join(f"{lbl}={p}" for lbl, p in zip(group["labels"], group["paths"], strict=True))
        checks.append(
            check(
                f"disk:{'+'.join(group['labels'])}",
                ok,
                observed={"free_bytes": free, "filesystem_of": group["anchor"]},
                required={"free_bytes": need},
                message=(
                    f"free disk for {where}: {free / GIB:.1f} GiB free, "
                    f"{need / GIB:.1f} GiB needed by the recipe's disk budget"
                ),
                fix=(
                    f"free {(need - free) / GIB:.1f} GiB on the filesystem of {group['anchor']} "
                    "(run the cleanup stage, lower save_total_limit) or point the workspace at a larger disk"
                ),
            )
        )
    return checks


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


def docker_engine_info(docker_host: str = "", *, timeout: float = 10.0) -> dict[str, Any]:
    """``/info`` and ``/version`` of the engine on its unix socket (no docker CLI needed)."""
    host = docker_host or os.environ.get("DOCKER_HOST", "") or "unix:///var/run/docker.sock"
    if not host.startswith("unix://"):
        return {"reachable": False, "error": f"only unix:// engine sockets are probed here, got {host}"}
    path = host[len("unix://") :]
    result: dict[str, Any] = {"reachable": False, "socket": path}
    try:
        for endpoint in ("info", "version"):
            conn = _UnixHTTPConnection(path, timeout)
            try:
                conn.request("GET", f"/{endpoint}")
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    raise OSError(f"GET /{endpoint} answered {response.status}")
                result[endpoint] = json.loads(body)
            finally:
                conn.close()
    except (OSError, ValueError) as exc:
        result["error"] = f"{path}: {exc}"
        return result
    result["reachable"] = True
    return result


def gpu_checks(gpu: Mapping[str, Any], req: Mapping[str, Any]) -> list[dict[str, Any]]:
    require = bool(req.get("require_gpu", True))
    checks = [
        check(
            "gpu:present",
            bool(gpu.get("present")),
            observed=gpu.get("reason") or f"{gpu.get('count', 0)} GPU(s)",
            required="at least one NVIDIA GPU visible to nvidia-smi",
            hard=require,
            fix="install the NVIDIA driver (nvidia-smi must list the GPUs), or preflight_require_gpu: false",
        )
    ]
    if not gpu.get("present"):
        return checks
    min_count = int(req.get("min_gpu_count") or 1)
    checks.append(
        check(
            "gpu:count",
            int(gpu.get("count", 0)) >= min_count,
            observed=gpu.get("count"),
            required=min_count,
            hard=require,
            fix="the recipe's num_gpus exceeds this host's GPUs: lower it or use more training hosts",
        )
    )
    min_mem = req.get("min_gpu_memory_mib")
    if min_mem:
        checks.append(
            check(
                "gpu:memory",
                (gpu.get("min_memory_mib") or 0) >= int(min_mem),
                observed=gpu.get("min_memory_mib"),
                required=int(min_mem),
                hard=require,
                fix="GR00T N1.6 fine-tuning runs out of memory below ~40 GB per GPU: use a larger GPU",
            )
        )
    for key, label, fix in (
        ("min_driver_version", "driver_version", "upgrade the NVIDIA driver"),
        ("min_cuda_version", "cuda_version", "upgrade the NVIDIA driver to one supporting this CUDA version"),
    ):
        if req.get(key):
            observed = gpu.get(label)
            observed_text = observed if isinstance(observed, str) else None
            checks.append(
                check(
                    f"gpu:{label}",
                    version_at_least(observed_text, str(req[key])),
                    observed=observed,
                    required=f">= {req[key]}",
                    hard=require,
                    fix=fix,
                )
            )
    return checks


def docker_checks(engine: Mapping[str, Any], req: Mapping[str, Any]) -> list[dict[str, Any]]:
    reachable = bool(engine.get("reachable"))
    checks = [
        check(
            "docker:engine",
            reachable,
            observed=engine.get("error") or engine.get("socket"),
            required="a reachable Docker engine",
            fix="install docker and add the Ansible user to the docker group (then reconnect)",
        )
    ]
    if not reachable:
        return checks
    version = str(engine.get("version", {}).get("Version", ""))
    minimum = str(req.get("min_docker_version") or "")
    checks.append(
        check(
            "docker:version",
            version_at_least(version, minimum),
            observed=version,
            required=f">= {minimum}" if minimum else "any",
            fix="upgrade the Docker engine",
        )
    )
    info = engine.get("info", {})
    runtimes = sorted((info.get("Runtimes") or {}).keys())
    cdi = info.get("CDISpecDirs") or []
    has_nvidia = "nvidia" in runtimes or any("nvidia" in str(d) for d in info.get("DiscoveredDevices") or [])
    checks.append(
        check(
            "docker:nvidia_runtime",
            has_nvidia,
            observed={"runtimes": runtimes, "cdi_spec_dirs": cdi},
            required="the nvidia runtime registered with docker",
            hard=bool(req.get("require_gpu", True)),
            fix=(
                "install nvidia-container-toolkit, run `nvidia-ctk runtime configure --runtime=docker` "
                "and restart docker"
            ),
        )
    )
    checks.append(
        check(
            "docker:root_dir",
            True,
            observed=info.get("DockerRootDir"),
            required="informational",
            hard=False,
        )
    )
    return checks


def toolkit_check(req: Mapping[str, Any], *, which: Any = shutil.which) -> dict[str, Any]:
    """The NVIDIA container toolkit on the host (the engine's nvidia runtime comes from it)."""
    found = [
        exe
        for exe in TOOLKIT_EXECUTABLES
        if which(exe) or any(os.path.exists(f"{d}/{exe}") for d in TOOLKIT_DIRS)
    ]
    return check(
        "docker:nvidia_container_toolkit",
        bool(found),
        observed=found or "none of " + ", ".join(TOOLKIT_EXECUTABLES),
        required="the NVIDIA container toolkit installed",
        hard=bool(req.get("require_gpu", True)),
        fix=(
            "install nvidia-container-toolkit "
            "(https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/), "
            "run `sudo nvidia-ctk runtime configure --runtime=docker` and restart docker"
        ),
    )


def docker_cli_buildkit(docker: str = "docker", *, timeout: float = 30.0) -> dict[str, Any]:
    """What this host's docker CLI builds with: its version and whether the buildx plugin answers."""
    import subprocess

    def run(argv: list[str]) -> tuple[int, str]:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return 127, str(exc)
        return proc.returncode, (proc.stdout or proc.stderr).strip()

    rc, version = run([docker, "version", "--format", "{{.Client.Version}}"])
    if rc != 0 and not version[:1].isdigit():
        return {"cli": None, "error": version or f"{docker} not found"}
    brc, buildx = run([docker, "buildx", "version"])
    return {"cli": version.splitlines()[0] if version else None, "buildx": buildx if brc == 0 else None}


def buildkit_check(probe: Mapping[str, Any]) -> dict[str, Any]:
    """BuildKit for the image build: the buildx plugin, or a CLI before 23.0 (DOCKER_BUILDKIT=1 then
    uses the engine's built-in BuildKit; from 23.0 on the CLI refuses without buildx)."""
    cli = probe.get("cli")
    ok = bool(probe.get("buildx")) or (cli is not None and not version_at_least(cli, "23.0"))
    return check(
        "docker:buildkit",
        ok,
        observed=probe.get("error") or {"cli": cli, "buildx": probe.get("buildx")},
        required="docker buildx (or a docker CLI older than 23.0)",
        fix=(
            "install the buildx plugin (Docker CE: apt install docker-buildx-plugin), or name a prebuilt "
            "image in groot_server_image"
        ),
    )


def architecture_check(expected: str, observed: str | None = None) -> dict[str, Any]:
    """The host's architecture against the inventory's (it decides the server image's Dockerfile)."""
    machine = observed or platform.machine()
    return check(
        "host:architecture",
        machine == expected,
        observed=machine,
        required=expected,
        fix=(
            f"the inventory says {expected} (groot_server_arch) but the host is {machine}: correct the "
            "inventory, the image is built with upstream's Dockerfile for the host's architecture"
        ),
    )


def hub_reachable(
    endpoint: str, *, repo: str = "nvidia/GR00T-N1.6-3B", timeout: float = 10.0
) -> dict[str, Any]:
    """GET <endpoint>/api/models/<repo> from this host. Any HTTP answer (also 401/404) proves the Hub
    answers; only connection errors and timeouts fail. No token is sent."""
    url = f"{endpoint.rstrip('/')}/api/models/{repo}"
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return {
            "reachable": False,
            "url": url,
            "error": str(reason),
            "seconds": round(time.monotonic() - started, 2),
        }
    return {"reachable": True, "url": url, "status": status, "seconds": round(time.monotonic() - started, 2)}


def hub_check(probe: Mapping[str, Any]) -> dict[str, Any]:
    return check(
        "hub:reachable",
        bool(probe.get("reachable")),
        observed=probe.get("error") or f"HTTP {probe.get('status')} in {probe.get('seconds')} s",
        required=f"an answer from {probe.get('url')}",
        fix=(
            "let this host reach the Hub (proxy: HTTPS_PROXY in the environment; DNS; firewall), or point "
            "groot_hf_endpoint at a reachable mirror"
        ),
    )


def torch_arch_check(gpu: Mapping[str, Any], torch_build: str, req: Mapping[str, Any]) -> dict[str, Any]:
    """Every GPU's compute capability against the arch list of the torch build the env will install."""
    arch_list = TORCH_ARCH_LISTS.get(torch_build)
    if arch_list is None:
        return check(
            "gpu:torch_arch",
            False,
            observed=f"no known arch list for torch {torch_build}",
            required=f"one of {sorted(TORCH_ARCH_LISTS)}",
            hard=False,
            fix="add the build's torch.cuda.get_arch_list() to groot_ops.gpu.TORCH_ARCH_LISTS",
        )
    gpus = list(gpu.get("gpus") or [])
    problems = arch_problems(gpus, arch_list, torch_build=torch_build)
    caps = sorted({str(g.get("compute_cap")) for g in gpus})
    return check(
        "gpu:torch_arch",
        bool(gpus) and not problems,
        observed={"compute_capabilities": caps, "problems": problems},
        required=f"torch {torch_build}: {' '.join(arch_list)}",
        hard=bool(req.get("require_gpu", True)),
        message="" if not problems else "; ".join(problems),
        fix=(
            "use a GPU of a supported capability, or a torch build for it (pin it in Isaac-GR00T's pyproject "
            "and in preflight_torch_build)"
        ),
    )


def ansible_check(version: str | None, minimum: str | None, below: str | None) -> dict[str, Any]:
    ok = version_at_least(version, minimum) and (not below or not version_at_least(version, below))
    return check(
        "ansible:core_version",
        ok,
        observed=version,
        required=f">= {minimum}, < {below}" if below else f">= {minimum}",
        fix="install the supported range: pip install 'ansible>=12,<13' (ansible-core 2.19)",
    )


def verdict(checks: Sequence[Mapping[str, Any]], **extra: Any) -> dict[str, Any]:
    """``ok`` is false when any hard check failed; soft failures are reported, not fatal."""
    failed = [c for c in checks if c["severity"] == "hard" and not c["ok"]]
    result = {
        "ok": not failed,
        "checks": list(checks),
        "failed": [c["name"] for c in failed],
        "summary": (
            "all hard requirements met"
            if not failed
            else "; ".join(f"{c['message']} -> fix: {c['fix']}" for c in failed)
        ),
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    result.update(extra)
    return result


def run_preflight(
    *,
    gpu: Mapping[str, Any],
    requirements: Mapping[str, Any],
    paths: Mapping[str, str],
    budget: Mapping[str, int],
    engine: Mapping[str, Any] | None = None,
    docker_root_need_bytes: int = 0,
    margin_ratio: float = 0.1,
    expected_architecture: str = "",
    hub: Mapping[str, Any] | None = None,
    torch_build: str = "",
    check_toolkit: bool = False,
    buildkit: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every check of one host; ``hub`` is a :func:`hub_reachable` result (None skips the Hub check)."""
    checks: list[dict[str, Any]] = []
    if requirements.get("ansible_version") is not None:
        checks.append(
            ansible_check(
                requirements.get("ansible_version"),
                requirements.get("ansible_min"),
                requirements.get("ansible_below"),
            )
        )
    if expected_architecture:
        checks.append(architecture_check(expected_architecture))
    checks.extend(gpu_checks(gpu, requirements))
    if torch_build and gpu.get("present"):
        checks.append(torch_arch_check(gpu, torch_build, requirements))
    if engine is not None:
        checks.extend(docker_checks(engine, requirements))
    if check_toolkit:
        checks.append(toolkit_check(requirements))
    if buildkit is not None:
        checks.append(buildkit_check(buildkit))
    if hub is not None:
        checks.append(hub_check(hub))
    disk_paths = dict(paths)
    need = dict(budget)
    root = (engine or {}).get("info", {}).get("DockerRootDir") if engine else None
    if root and docker_root_need_bytes and Path(root).exists():
        disk_paths["docker_root"] = root
        need["docker_root_bytes"] = int(docker_root_need_bytes)
    checks.extend(check_disks(disk_paths, need, margin_ratio=margin_ratio))
    return verdict(checks, gpu=dict(gpu), budget=dict(budget), architecture=platform.machine())


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m groot_ops.preflight", description=__doc__)
    parser.add_argument("--workspace", default="/workspace", help="data root holding datasets/checkpoints")
    parser.add_argument("--datasets-gib", type=float, default=0.0)
    parser.add_argument("--caches-gib", type=float, default=0.0)
    parser.add_argument("--checkpoint-gib", type=float, default=0.0)
    parser.add_argument("--save-total-limit", type=int, default=0)
    parser.add_argument("--export-gib", type=float, default=0.0)
    parser.add_argument("--min-gpu-count", type=int, default=1)
    parser.add_argument("--min-gpu-memory-mib", type=int, default=0)
    parser.add_argument("--no-docker", action="store_true", help="skip the Docker engine checks")
    parser.add_argument("--expected-arch", default="", help="the architecture the host must have")
    parser.add_argument("--hub-endpoint", default="", help="check that the Hub answers at this endpoint")
    parser.add_argument(
        "--torch-build", default="", help="check the GPUs against this torch build's arch list"
    )
    parser.add_argument("--out", help="write the verdict JSON here (atomically) as well as stdout")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    from groot_ops.gpu import collect

    budget = disk_budget(
        datasets_bytes=int(args.datasets_gib * GIB),
        caches_bytes=int(args.caches_gib * GIB),
        checkpoint_bytes=int(args.checkpoint_gib * GIB),
        save_total_limit=args.save_total_limit,
        export_bytes=int(args.export_gib * GIB),
    )
    ws = args.workspace.rstrip("/")
    result = run_preflight(
        gpu=collect(),
        requirements={"min_gpu_count": args.min_gpu_count, "min_gpu_memory_mib": args.min_gpu_memory_mib},
        paths={
            "datasets": f"{ws}/datasets",
            "hf_cache": f"{ws}/hf-cache",
            "checkpoints": f"{ws}/checkpoints",
            "exports": f"{ws}/exports",
        },
        budget=budget,
        engine=None if args.no_docker else docker_engine_info(),
        margin_ratio=0.0,
        expected_architecture=args.expected_arch,
        hub=hub_reachable(args.hub_endpoint) if args.hub_endpoint else None,
        torch_build=args.torch_build,
        check_toolkit=not args.no_docker,
    )
    text = json.dumps(result, indent=2)
    if args.out:
        from groot_ops.atomic import write_text

        write_text(args.out, text + "\n")
    print(text)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
