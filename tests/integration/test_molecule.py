"""Every Molecule scenario of the provision roles, run from pytest so that `make test` runs them.

Each scenario is `create -> converge -> idempotence -> check -> verify -> destroy` on containers of
the local `groot-ops-dm-workstation:test` image (built only when its Dockerfile changed). The
groot_env scenario installs offline from a host-side wheelhouse, clones the Isaac-GR00T stand-in
and installs a snapshot of this checkout (other work may change the tree during the run).

The scenarios share nothing (each its own containers, Molecule ephemeral directory and, for the
workstation scenario, its own data root), so the selected ones run at once: groot_env's install
waits mostly on disk and uv, not on the CPU the other two use. Each test then waits for its own
scenario and asserts on its output alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SCENARIOS = [("preflight", "default"), ("workstation", "default"), ("groot_env", "default")]
# Containers a scenario can leave behind when it is interrupted.
CONTAINERS = [
    "groot-ops-molecule-preflight",
    "groot-ops-molecule-ws-host",
    "groot-ops-molecule-dm-workstation",
    "groot-ops-molecule-groot-env",
]

pytestmark = [pytest.mark.docker, pytest.mark.slow]
# A started `molecule test`: the process, its combined output, when it started (time.monotonic()).
Run = tuple[subprocess.Popen[bytes], Path, float]


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]


def _remove_containers() -> None:
    subprocess.run(["docker", "rm", "-f", *CONTAINERS], capture_output=True, check=False)


@pytest.fixture(scope="module")
def molecule_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode:
        pytest.fail("the molecule scenarios need a running Docker engine (make docker)")
    work = tmp_path_factory.mktemp("molecule")
    image = _run(["bash", str(REPO / "tests/molecule/build-images.sh")]).stdout.split()[-1]
    # The lab's wheelhouse (groot_ops.lab.wheelhouse), shared: downloaded once for both.
    wheelhouse = REPO / ".cache" / "wheelhouse"
    _run(["bash", str(REPO / "tests/molecule/prepare-wheelhouse.sh"), str(wheelhouse)])
    standin = work / "Isaac-GR00T"
    # Its pyproject's [tool.uv.sources] name the wheelhouse where the instance mounts it.
    commit = _run(
        ["bash", str(REPO / "tests/standins/publish_repo.sh"), str(standin), "/opt/wheelhouse"]
    ).stdout
    commit = commit.strip()
    snapshot = work / "groot-ops-src"
    shutil.copytree(
        REPO / "python",
        snapshot / "python",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, snapshot / name)
    ws_root = Path("/tmp/groot-ops-molecule-ws")
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "GROOT_OPS_WORKSTATION_IMAGE": image,
            "GROOT_OPS_MOLECULE_WHEELHOUSE": str(wheelhouse),
            "GROOT_OPS_MOLECULE_STANDIN_REPO": str(standin),
            "GROOT_OPS_MOLECULE_STANDIN_COMMIT": commit,
            "GROOT_OPS_MOLECULE_GROOT_OPS_SRC": str(snapshot),
            "GROOT_OPS_MOLECULE_WS_ROOT": str(ws_root),
            "ANSIBLE_FORCE_COLOR": "0",
            "PY_COLORS": "0",
            "NO_COLOR": "1",
        }
    )
    _remove_containers()
    yield env
    _remove_containers()
    shutil.rmtree(ws_root, ignore_errors=True)


@pytest.fixture(scope="module")
def molecule_runs(
    request: pytest.FixtureRequest, molecule_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[tuple[str, str], Run]]:
    """``molecule test`` of every scenario this session selected, all started at once."""
    selected = {
        (item.callspec.params["role"], item.callspec.params["scenario"])
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_molecule_scenario" and hasattr(item, "callspec")
    }
    logs = tmp_path_factory.mktemp("molecule-logs")
    started: dict[tuple[str, str], Run] = {}
    try:
        for role, scenario in SCENARIOS:
            if (role, scenario) not in selected:
                continue
            log = logs / f"{role}-{scenario}.log"
            with log.open("wb") as handle:
                proc = subprocess.Popen(
                    ["molecule", "test", "-s", scenario],
                    cwd=REPO / "roles" / role, env=molecule_env,
                    stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )  # fmt: skip
            started[(role, scenario)] = (proc, log, time.monotonic())
        yield started
    finally:
        for proc, _, _ in started.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("role", "scenario"), SCENARIOS, ids=[f"{r}-{s}" for r, s in SCENARIOS])
def test_molecule_scenario(molecule_runs: dict[tuple[str, str], Run], role: str, scenario: str) -> None:
    proc, log, started = molecule_runs[(role, scenario)]
    try:
        returncode = proc.wait(timeout=max(1.0, started + 580 - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        returncode = None
    output = log.read_text(errors="replace")
    assert returncode is not None, f"molecule test {role}/{scenario} ran past 580 s:\n{output[-12000:]}"
    assert returncode == 0, f"molecule test {role}/{scenario} failed:\n{output[-12000:]}"
    assert "failed=0" in output and "Executed: Successful" in output
