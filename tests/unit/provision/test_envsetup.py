"""Env setup command logic (uv and conda) and a real uv env created, left alone, then updated."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from groot_ops import envsetup
from groot_ops.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def _spec(**kw: object) -> envsetup.EnvSpec:
    base: dict[str, object] = {"manager": "uv", "env": "/opt/groot-env"}
    base.update(kw)
    return envsetup.EnvSpec(**base)  # type: ignore[arg-type]


def _wheel(dirpath: Path, name: str, body: str) -> Path:
    """A minimal pure-Python wheel (one module) written by hand: no build backend needed."""
    path = dirpath / f"{name}-0.1-py3-none-any.whl"
    dist = f"{name}-0.1.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}.py", body)
        zf.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
        zf.writestr(
            f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        zf.writestr(f"{dist}/RECORD", "")
    return path


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"manager": "pip"}, "must be one of uv, conda"),
        ({"env": "relative/dir"}, "absolute directory"),
        ({"manager": "conda", "env": "/opt/conda/envs/x"}, "named, not a path"),
    ],
)
def test_bad_spec_is_refused(kw: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        _spec(**kw)


def test_uv_commands() -> None:
    spec = _spec(python="/usr/bin/python3", find_links=["/opt/wheels"], no_index=True)
    assert envsetup.create_argv(spec) == ["/usr/bin/python3", "-m", "venv", "/opt/groot-env"]
    assert envsetup.install_argv(spec, "/opt/groot-env", ["torch==2.13.0"]) == [
        "/opt/groot-env/bin/uv", "pip", "install", "--python", "/opt/groot-env/bin/python",
        "--no-index", "--find-links", "/opt/wheels", "torch==2.13.0",
    ]  # fmt: skip


def test_conda_commands_match_production() -> None:
    spec = _spec(
        manager="conda",
        env="unitree_sim_env",
        python="3.11",
        conda_exe="/opt/conda/bin/conda",
        index_url="https://pypi.example/simple",
        extra_index_urls=["https://download.pytorch.org/whl/cu128"],
    )
    assert envsetup.create_argv(spec) == [
        "/opt/conda/bin/conda", "create", "--yes", "--quiet", "--name", "unitree_sim_env", "python=3.11",
    ]  # fmt: skip
    argv = envsetup.install_argv(spec, "/opt/conda/envs/unitree_sim_env", ["transformers==4.51.3"])
    assert argv[:4] == ["/opt/conda/envs/unitree_sim_env/bin/python", "-m", "pip", "install"]
    assert argv[-5:] == [
        "--index-url", "https://pypi.example/simple",
        "--extra-index-url", "https://download.pytorch.org/whl/cu128",
        "transformers==4.51.3",
    ]  # fmt: skip


def test_conda_prefix_from_env_list() -> None:
    listing = json.dumps(
        {"envs": ["/opt/conda", "/opt/conda/envs/unitree_sim_env", "/home/u/envs/other", "/srv/loose"]}
    )
    assert envsetup.conda_prefix(listing, "unitree_sim_env") == "/opt/conda/envs/unitree_sim_env"
    assert envsetup.conda_prefix(listing, "other") == "/home/u/envs/other"
    assert envsetup.conda_prefix(listing, "loose") is None  # not in an envs/ directory: not a named env
    assert envsetup.conda_prefix(listing, "missing") is None
    with pytest.raises(ConfigError, match="did not print JSON"):
        envsetup.conda_prefix("conda: command not found", "x")


def test_conda_env_is_planned_against_the_conda_that_exists() -> None:
    calls: list[list[str]] = []

    def fake_conda(argv: Sequence[str]) -> tuple[int, str, str]:
        calls.append(list(argv))
        return 0, json.dumps({"envs": ["/opt/conda/envs/unitree_sim_env"]}), ""

    spec = _spec(manager="conda", env="unitree_sim_env", requirements=["tyro==0.9.17"])
    result = envsetup.ensure_env(spec, fake_conda, check=True)
    assert calls == [["conda", "env", "list", "--json"]]
    assert result["steps"] == ["install requirements", "link sources"] or result["steps"] == [
        "install requirements"
    ]
    assert result["python"] == "/opt/conda/envs/unitree_sim_env/bin/python"


def test_missing_conda_is_a_clear_error() -> None:
    spec = _spec(manager="conda", env="unitree_sim_env")
    with pytest.raises(ConfigError, match="is conda installed"):
        envsetup.ensure_env(spec, lambda argv: (127, "", "conda: not found"), check=True)


def test_plan_is_empty_when_the_record_matches(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, "demo_pkg", "VALUE = 1\n")
    spec = _spec(
        requirements=["torch==2.13.0"], packages=[str(wheel)], source_paths=["/workspace/Isaac-GR00T"]
    )
    state = {**envsetup.desired_state(spec), "uv_bootstrapped": True}
    assert envsetup.plan(spec, prefix="/opt/groot-env", env_exists=True, state=state) == []
    _wheel(tmp_path, "demo_pkg", "VALUE = 2\n")
    steps = envsetup.plan(spec, prefix="/opt/groot-env", env_exists=True, state=state)
    assert [s["name"] for s in steps] == ["install packages"]
    assert "--reinstall" in steps[0]["argv"] and "--no-deps" in steps[0]["argv"]


def test_missing_package_file_names_it() -> None:
    with pytest.raises(ConfigError, match=r"/nowhere/groot_ops\.whl"):
        envsetup.desired_state(_spec(packages=["/nowhere/groot_ops.whl"]))


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    script = REPO / "tests/molecule/prepare-wheelhouse.sh"
    out = subprocess.run(
        ["bash", str(script), str(REPO / ".cache/molecule-wheelhouse")],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.split()[-1])


def _runner(argv: Sequence[str]) -> tuple[int, str, str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.timeout(300)
def test_real_uv_env_installs_once_and_follows_the_wheel(tmp_path: Path, wheelhouse: Path) -> None:
    src = tmp_path / "Isaac-GR00T"
    (src / "gr00t").mkdir(parents=True)
    (src / "gr00t" / "__init__.py").write_text("")
    wheel = _wheel(tmp_path, "demo_pkg", "VALUE = 1\n")
    spec = _spec(
        env=str(tmp_path / "env"), python="python3", find_links=[str(wheelhouse)], no_index=True,
        packages=[str(wheel)], source_paths=[str(src)],
    )  # fmt: skip
    planned = envsetup.ensure_env(spec, _runner, check=True)
    assert planned["changed"] and planned["steps"][0] == "create env"
    assert not (tmp_path / "env").exists()

    first = envsetup.ensure_env(spec, _runner)
    assert first["steps"] == ["create env", "bootstrap uv", "install packages", "link sources"]
    probe = [first["python"], "-c", "import demo_pkg, gr00t; print(demo_pkg.VALUE, gr00t.__file__)"]
    assert subprocess.run(probe, capture_output=True, text=True, check=True).stdout.startswith(f"1 {src}")

    second = envsetup.ensure_env(spec, _runner)
    assert second == {**second, "changed": False, "steps": []}

    _wheel(tmp_path, "demo_pkg", "VALUE = 2\n")
    third = envsetup.ensure_env(spec, _runner)
    assert third["steps"] == ["install packages"]
    assert subprocess.run(probe, capture_output=True, text=True, check=True).stdout.startswith("2 ")
    record = json.loads((tmp_path / "env" / envsetup.STATE_FILE).read_text())
    assert record["packages"] == {wheel.name: envsetup.sha256_file(str(wheel))}


def test_check_mode_plans_a_wheel_not_copied_yet(tmp_path: Path) -> None:
    # In --check the copy task before the module is skipped: the wheel is absent, the plan says "install".
    spec = _spec(env=str(tmp_path / "env"), packages=[str(tmp_path / "groot_ops-0.1.0-py3-none-any.whl")])
    result = envsetup.ensure_env(spec, _runner, check=True)
    assert result["steps"] == ["create env", "bootstrap uv", "install packages"]
    assert not (tmp_path / "env").exists()
