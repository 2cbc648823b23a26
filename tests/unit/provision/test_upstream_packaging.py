"""The product and the stand-in held against upstream's packaging (tests/fixtures/upstream/packaging, recorded
from the pinned checkout by tests/conformance/recorders/packaging.py), so neither drifts from it unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from groot_ops import envsetup, gpu, serverimage

REPO = Path(__file__).resolve().parents[3]
FACTS = json.loads((REPO / "tests/fixtures/upstream/packaging/facts.json").read_text())
UPSTREAM = FACTS["pyprojects"]["pyproject.toml"]
SCRIPT = REPO / "tests/conformance/upstream_side/packaging_facts.py"
STANDIN = REPO / "tests/standins/isaac_groot"


def _standin_facts() -> dict:
    out = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=STANDIN, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_the_server_image_is_built_with_upstreams_dockerfiles() -> None:
    assert set(serverimage.DOCKERFILES.values()) == set(FACTS["dockerfiles"])
    # docker/Dockerfile needs BuildKit (a syntax directive, heredocs, cache mounts): the build asks for it.
    assert (
        FACTS["dockerfiles"]["docker/Dockerfile"]["heredocs"]
        and FACTS["dockerfiles"]["docker/Dockerfile"]["mounts"]
    )
    plan = serverimage.build_plan(context="/c", commit="0" * 40, arch="x86_64")
    assert plan.env == {"DOCKER_BUILDKIT": "1"}


def test_the_server_runs_where_both_images_keep_the_checkout() -> None:
    workdir = yaml.safe_load((REPO / "roles/groot_server/defaults/main.yml").read_text())[
        "groot_server_workdir"
    ]
    x86, spark = (
        FACTS["dockerfiles"]["docker/Dockerfile"],
        FACTS["dockerfiles"]["scripts/deployment/spark/Dockerfile"],
    )
    assert x86["workdir"] == [workdir] and [".", "."] in x86["copies"]
    assert [".", f"{workdir}/"] in spark["copies"]
    # Spark's image ends in /workspace/gr00t, where the server's relative script path would not resolve:
    # the container sets its working directory to the checkout root instead.
    assert spark["workdir"] == [f"{workdir}/gr00t"]


def test_the_env_installs_the_torch_build_whose_arch_list_preflight_checks() -> None:
    torch_source = UPSTREAM["sources"]["torch"][0]
    assert torch_source["url"].endswith("/cu128")
    build = f"{UPSTREAM['pins']['torch']}+cu128"
    assert build == "2.7.1+cu128" and build in gpu.TORCH_ARCH_LISTS
    preflight = yaml.safe_load((REPO / "roles/preflight/defaults/main.yml").read_text())
    assert build in preflight["preflight_torch_build"]


def test_conda_envs_get_a_python_with_a_flash_attn_wheel() -> None:
    tags = {s["python_tag"] for s in UPSTREAM["sources"]["flash-attn"]}
    assert tags == {"cp310", "cp312"}
    assert "cp" + envsetup.CONDA_DEFAULT_PYTHON.replace(".", "") in tags
    defaults = (REPO / "roles/groot_env/defaults/main.yml").read_text()
    assert "'3.10' if groot_env_manager == 'conda'" in defaults


def test_the_stand_in_has_upstreams_packaging_shape() -> None:
    standin = _standin_facts()
    mine = standin["pyprojects"]["pyproject.toml"]
    for key in ("name", "requires_python", "build_requires", "build_backend", "packages_include"):
        assert mine[key] == UPSTREAM[key], key
    # torch is sent to a named, explicit index by [tool.uv.sources], as upstream sends it to cu128.
    assert [s["index"] for s in mine["sources"]["torch"]] == ["lab-wheelhouse"]
    assert mine["pins"]["torch"] and mine["pins"]["torchcodec"]
    assert set(standin["dockerfiles"]) == set(FACTS["dockerfiles"])
    for path, theirs in FACTS["dockerfiles"].items():
        ours = standin["dockerfiles"][path]
        assert ours["workdir"] == theirs["workdir"], path
        assert [c[-1] for c in ours["copies"]] == [c[-1] for c in theirs["copies"] if c[0] == "."], path
