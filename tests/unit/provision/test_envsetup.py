"""The training env the upstream way: plans for fresh, adopted and current envs, the refusal under a live run,
and a real uv install of a checkout whose [tool.uv.sources] decide where a package comes from."""

from __future__ import annotations

import json
import os
import subprocess
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from groot_ops import envsetup
from groot_ops.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
WHEEL = "/opt/groot-ops/wheels/groot_ops-0.1.0-py3-none-any.whl"
PROD = {
    "manager": "conda",
    "prefix": "/opt/conda/envs/unitree_sim_env",
    "conda_exe": "/opt/conda/bin/conda",
    "uv_spec": "uv==0.13.9",
    "project": "/workspace/Isaac-GR00T",
    "project_commit": "5dc80c4afd726b34faad1d8f7e007a13b34e4c88",
    "packages": [f"{WHEEL}[workstation]"],
}


def _spec(**kw: object) -> envsetup.EnvSpec:
    return envsetup.EnvSpec(**{**PROD, **kw})  # type: ignore[arg-type]


def _wheel(dirpath: Path, name: str, body: str, version: str = "0.1") -> Path:
    """A minimal pure-Python wheel (one module) written by hand: no build backend needed."""
    dirpath.mkdir(parents=True, exist_ok=True)
    path = dirpath / f"{name}-{version}-py3-none-any.whl"
    dist = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}.py", body)
        zf.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        zf.writestr(
            f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        zf.writestr(f"{dist}/RECORD", "")
    return path


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"manager": "pip"}, "must be one of uv, conda"),
        ({"prefix": "unitree_sim_env"}, "absolute directory"),
        ({"project": ""}, "checkout to install"),
        ({"python_version": "3"}, "look like 3.10"),
        ({"packages": ["/opt/groot_ops.tar.gz"]}, "must be wheel files"),
    ],
)
def test_bad_spec_is_refused(kw: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        _spec(**kw)


def test_conda_defaults_to_python_3_10_for_the_flash_attn_wheels() -> None:
    assert _spec().python_version == "3.10"
    assert envsetup.EnvSpec(manager="uv", prefix="/opt/groot-env", project="/x").python_version is None


def test_fresh_production_env_is_one_upstream_install_of_the_checkout() -> None:
    spec = _spec()
    steps = envsetup.plan(spec, envsetup.Observed(env_exists=False), check=True)
    assert [s["name"] for s in steps] == ["create env", "bootstrap uv", "install"]
    assert steps[0]["argv"] == [
        "/opt/conda/bin/conda", "create", "--yes", "--quiet", "--prefix", "/opt/conda/envs/unitree_sim_env",
        "python=3.10",
    ]  # fmt: skip
    assert steps[1]["argv"][-1] == "uv==0.13.9"
    # uv installs the checkout editable, so its [tool.uv.sources] (cu128 torch, the flash-attn wheel)
    # apply; groot_ops is resolved in the same run; nothing disables the sources by default.
    assert steps[2]["argv"] == [
        "/opt/conda/envs/unitree_sim_env/bin/uv", "pip", "install",
        "--python", "/opt/conda/envs/unitree_sim_env/bin/python",
        "-e", "/workspace/Isaac-GR00T",
        f"groot-ops[workstation] @ file://{WHEEL}",
        "--reinstall-package", "gr00t", "--reinstall-package", "groot-ops",
    ]  # fmt: skip
    assert spec.env_python == "/opt/conda/envs/unitree_sim_env/bin/python"


def test_mirrors_and_a_local_flash_attn_wheel_override_the_sources() -> None:
    spec = _spec(
        index_url="https://pypi.mirror/simple",
        extra_index_urls=["https://mirror/whl/cu128"],
        requirements=["flash-attn @ file:///opt/wheels/flash_attn-2.7.4.post1-cp310-cp310-linux_x86_64.whl"],
        no_sources_packages=["flash-attn"],
    )
    argv = envsetup.install_argv(spec)
    assert argv[argv.index("--default-index") + 1] == "https://pypi.mirror/simple"
    assert argv[argv.index("--index") + 1] == "https://mirror/whl/cu128"
    assert argv[argv.index("--no-sources-package") + 1] == "flash-attn"
    assert "flash-attn @ file:///opt/wheels/flash_attn-2.7.4.post1-cp310-cp310-linux_x86_64.whl" in argv
    # pip (bootstrapping uv) gets the same mirror in its spelling
    assert envsetup.bootstrap_uv_argv(spec)[-5:] == [
        "--index-url", "https://pypi.mirror/simple", "--extra-index-url", "https://mirror/whl/cu128",
        "uv==0.13.9",
    ]  # fmt: skip


def test_offline_keeps_the_sources_and_uses_local_wheels_only() -> None:
    spec = _spec(manager="uv", prefix="/opt/groot-env", offline=True, find_links=["/wh"])
    argv = envsetup.install_argv(spec)
    # --no-index would disable the local index the stand-in's sources name; --offline does not.
    assert "--offline" in argv and "--no-index" not in argv and "--no-sources" not in argv
    assert envsetup.bootstrap_uv_argv(spec)[-4:] == ["--no-index", "--find-links", "/wh", "uv==0.13.9"]


def test_adopted_conda_env_of_python_3_11_is_recreated() -> None:
    observed = envsetup.Observed(env_exists=True, python_version="3.11", uv_present=False)
    steps = envsetup.plan(_spec(), observed, check=True)
    assert [s["name"] for s in steps] == ["remove env", "create env", "bootstrap uv", "install"]
    assert steps[0]["argv"] == [
        "/opt/conda/bin/conda", "env", "remove", "--yes", "--prefix", "/opt/conda/envs/unitree_sim_env",
    ]  # fmt: skip
    assert "3.11 -> 3.10" in steps[0]["why"]


def test_adopted_env_of_the_right_python_is_kept_and_installed_into() -> None:
    observed = envsetup.Observed(env_exists=True, python_version="3.10", uv_present=False)
    steps = envsetup.plan(_spec(), observed, check=True)
    assert [(s["name"], s["why"]) for s in steps] == [
        ("bootstrap uv", "uv==0.13.9"),
        ("install", "no install record"),
    ]


def test_a_venv_of_another_python_is_an_error_not_a_recreate() -> None:
    spec = envsetup.EnvSpec(manager="uv", prefix="/opt/groot-env", project="/x", python_version="3.10")
    with pytest.raises(ConfigError, match=r"runs Python 3\.11"):
        envsetup.plan(spec, envsetup.Observed(env_exists=True, python_version="3.11"), check=True)


def _checkout(tmp_path: Path, body: str = "") -> Path:
    project = tmp_path / "Isaac-GR00T"
    project.mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text(body or '[project]\nname = "gr00t"\nversion = "0.1.0"\n')
    return project


def test_a_matching_record_plans_nothing_and_each_input_reinstalls(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "w", "groot_ops", "VALUE = 1\n")
    project = _checkout(tmp_path)
    spec = _spec(project=str(project), packages=[f"{wheel}[workstation]"])
    record = envsetup.desired_state(spec)
    current = envsetup.Observed(env_exists=True, python_version="3.10", uv_present=True, state=record)
    assert envsetup.plan(spec, current) == []
    # Other extras install other dependencies: the same wheel file is not the same install.
    bare = _spec(project=str(project), packages=[str(wheel)])
    assert [s["why"] for s in envsetup.plan(bare, current)] == ["changed: packages"]

    _wheel(tmp_path / "w", "groot_ops", "VALUE = 2\n")
    assert [s["why"] for s in envsetup.plan(spec, current)] == ["changed: packages"]
    (project / "pyproject.toml").write_text('[project]\nname = "gr00t"\nversion = "0.2.0"\n')
    moved = _spec(project=str(project), packages=[f"{wheel}[workstation]"], project_commit="f" * 40)
    assert [s["why"] for s in envsetup.plan(moved, current)] == [
        "changed: project_commit, project_files, packages"
    ]


def test_install_record_keys_wheels_by_file_and_extras_as_recorded_before(tmp_path: Path) -> None:
    # Records written on existing hosts key a package by "<wheel file>[extras]": the key must not move,
    # or every env would reinstall once for nothing.
    wheel = _wheel(tmp_path / "w", "groot_ops", "VALUE = 1\n")
    spec = _spec(project=str(_checkout(tmp_path)), packages=[f"{wheel}[workstation,lab]", str(wheel)])
    keys = sorted(envsetup.desired_state(spec)["packages"])
    assert keys == [wheel.name, f"{wheel.name}[workstation,lab]"]
    parsed = envsetup.wheel_requirement(f"{wheel}[workstation,lab]")
    assert parsed.extras == "workstation,lab" and parsed.path == str(wheel)
    assert parsed.requirement == f"groot-ops[workstation,lab] @ file://{wheel}"
    assert envsetup.wheel_requirement(str(wheel)).extras == ""


def _current_env(tmp_path: Path, wheel: Path, project: Path) -> tuple[envsetup.EnvSpec, Path]:
    """An env whose install record matches the spec (nothing to install) with two packages installed."""
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").write_text("")
    (prefix / "bin" / "uv").write_text("")
    site = prefix / "lib" / "python3.10" / "site-packages"
    for dist in ("gr00t-0.1.0.dist-info", "torch-2.7.1.dist-info"):
        (site / dist).mkdir(parents=True)
    spec = _spec(prefix=str(prefix), project=str(project), packages=[f"{wheel}[workstation]"])
    (prefix / envsetup.STATE_FILE).write_text(json.dumps(envsetup.desired_state(spec)))
    return spec, site


def _version_only(argv: Sequence[str]) -> tuple[int, str, str]:
    # An env whose install record matches runs only its interpreter's version query.
    assert argv[1:3] == ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], argv
    return 0, "3.10\n", ""


def test_the_env_checks_run_once_per_install_inputs_package_set_and_checks(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "w", "groot_ops", "VALUE = 1\n")
    spec, site = _current_env(tmp_path, wheel, _checkout(tmp_path))
    checks = {"imports": ["gr00t.experiment.experiment", "groot_ops"], "gpu": []}

    first = envsetup.ensure_env(spec, _version_only, checks=checks)
    assert first["changed"] is False and first["verification"]["needed"] is True
    assert first["verification"]["file"] == str(Path(spec.prefix) / envsetup.VERIFIED_FILE)
    # What the role writes once the checks passed: the next run skips them.
    Path(first["verification"]["file"]).write_text(json.dumps(first["verification"]["record"]))
    again = envsetup.ensure_env(spec, _version_only, checks=checks)
    assert (
        again["verification"]["needed"] is False
        and again["verification"]["key"] == first["verification"]["key"]
    )
    assert (
        envsetup.ensure_env(spec, _version_only, check=True, checks=checks)["verification"]["needed"] is False
    )

    # Other checks (the GPU ones where they run), another package set, another wheel: the checks run again.
    assert envsetup.ensure_env(spec, _version_only, checks={**checks, "gpu": ["flash_attn"]})["verification"][
        "needed"
    ]
    (site / "torch-2.7.1.dist-info").rename(site / "torch-2.8.0.dist-info")
    assert envsetup.ensure_env(spec, _version_only, checks=checks)["verification"]["needed"]
    (site / "torch-2.8.0.dist-info").rename(site / "torch-2.7.1.dist-info")
    assert not envsetup.ensure_env(spec, _version_only, checks=checks)["verification"]["needed"]
    (site / "torch-2.7.1.dist-info").rmdir()
    assert envsetup.ensure_env(spec, _version_only, checks=checks)["verification"]["needed"]


def test_a_reinstall_needs_the_checks_again(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "w", "groot_ops", "VALUE = 1\n")
    spec, _ = _current_env(tmp_path, wheel, _checkout(tmp_path))
    first = envsetup.ensure_env(spec, _version_only, checks=None)
    Path(first["verification"]["file"]).write_text(json.dumps(first["verification"]["record"]))
    _wheel(tmp_path / "w", "groot_ops", "VALUE = 2\n")
    ran: list[list[str]] = []

    def runner(argv: Sequence[str]) -> tuple[int, str, str]:
        ran.append(list(argv))
        return (0, "3.10\n", "") if "-c" in argv else (0, "", "")

    result = envsetup.ensure_env(spec, runner, checks=None)
    assert result["steps"] == ["install"] and result["verification"]["needed"] is True
    # A damaged record only means "not verified".
    Path(first["verification"]["file"]).write_text("{not json")
    assert envsetup.verification_needed(envsetup.read_verified(spec.prefix), result["verification"]["key"])


def test_a_checkout_without_pyproject_is_named() -> None:
    with pytest.raises(ConfigError, match=r"/nowhere has no pyproject.toml"):
        envsetup.desired_state(_spec(project="/nowhere", packages=[]))


def _marker(tmp_path: Path, pid: int | None) -> Path:
    marker = tmp_path / "runs" / "active.json"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"recipe": "fold-towel", "pid": pid, "created_at": time.time()}))
    return marker


def test_a_live_training_run_blocks_any_change(tmp_path: Path) -> None:
    # This test process is alive: a marker naming it is a live run.
    live = _marker(tmp_path, os.getpid())
    spec = _spec(
        prefix=str(tmp_path / "env"), project=str(_checkout(tmp_path)), run_marker=str(live), packages=[]
    )

    def runner(argv: Sequence[str]) -> tuple[int, str, str]:
        raise AssertionError(f"nothing may run under a live training run: {argv}")

    planned = envsetup.ensure_env(spec, runner, check=True)
    assert "refused" in planned and "fold-towel" in planned["refused"] and "REFUSED" in planned["summary"]
    with pytest.raises(ConfigError, match=r"refusing to change the env .* a training run is active"):
        envsetup.ensure_env(spec, runner)
    # A dead pid (a crashed supervisor) does not block.
    assert envsetup.live_run(str(_marker(tmp_path, 2**22 + 12345))) is None


def test_check_mode_reports_the_installers_own_dry_run(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    for name in ("python", "uv"):
        (prefix / "bin" / name).write_text("")
    project = _checkout(tmp_path)
    spec = _spec(prefix=str(prefix), project=str(project), packages=[])
    calls: list[list[str]] = []

    def runner(argv: Sequence[str]) -> tuple[int, str, str]:
        calls.append(list(argv))
        if argv[-1] == "--dry-run":
            return (
                0,
                "",
                "Would install 2 packages\n - torch==2.7.0\n + torch==2.7.1+cu128\n"
                " + flash-attn==2.7.4.post1\n",
            )
        return 0, "3.10\n", ""

    result = envsetup.ensure_env(spec, runner, check=True)
    assert result["steps"] == ["install"]
    assert result["would_change_packages"] == [
        "- torch==2.7.0",
        "+ torch==2.7.1+cu128",
        "+ flash-attn==2.7.4.post1",
    ]
    assert "packages: - torch==2.7.0" in result["summary"]
    assert calls[-1][:3] == [str(prefix / "bin" / "uv"), "pip", "install"] and calls[-1][-1] == "--dry-run"


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    script = REPO / "tests/molecule/prepare-wheelhouse.sh"
    out = subprocess.run(
        ["bash", str(script), str(REPO / ".cache/wheelhouse")], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.split()[-1])


def _runner(argv: Sequence[str]) -> tuple[int, str, str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.timeout(300)
def test_real_uv_install_honours_the_checkouts_sources(tmp_path: Path, wheelhouse: Path) -> None:
    # Two wheels of demo_pkg 0.1: the checkout's [tool.uv.sources] pin it to its own index ("pinned"),
    # the other copy sits in find-links with every other wheel. Only an install that applies the
    # checkout's sources (uv pip install -e, what upstream does) gets the pinned one.
    pinned = _wheel(tmp_path / "pinned-index", "demo_pkg", "WHERE = 'pinned'\n")
    links = tmp_path / "links"
    links.mkdir()
    for wheel in wheelhouse.glob("*.whl"):
        os.symlink(wheel, links / wheel.name)
    _wheel(links, "demo_pkg", "WHERE = 'find-links'\n")
    project = _checkout(
        tmp_path,
        "[build-system]\nrequires = ['setuptools>=67', 'wheel']\nbuild-backend = 'setuptools.build_meta'\n"
        "[project]\nname = 'gr00t'\nversion = '0.1.0'\ndependencies = ['demo_pkg==0.1']\n"
        "[tool.setuptools.packages.find]\ninclude = ['gr00t*']\n"
        "[tool.uv.sources]\ndemo_pkg = [{ index = 'pinned' }]\n"
        f"[[tool.uv.index]]\nname = 'pinned'\nurl = '{pinned.parent}'\nformat = 'flat'\nexplicit = true\n",
    )
    (project / "gr00t").mkdir()
    (project / "gr00t" / "__init__.py").write_text("")
    tool = _wheel(tmp_path / "w", "groot_tool", "VALUE = 1\n")
    spec = envsetup.EnvSpec(
        manager="uv", prefix=str(tmp_path / "env"), python="python3", uv_spec="uv", project=str(project),
        project_commit="a" * 40, packages=[str(tool)], find_links=[str(links)], offline=True,
    )  # fmt: skip
    planned = envsetup.ensure_env(spec, _runner, check=True)
    assert planned["steps"] == ["create env", "bootstrap uv", "install"] and not (tmp_path / "env").exists()

    first = envsetup.ensure_env(spec, _runner)
    assert first["steps"] == ["create env", "bootstrap uv", "install"]
    probe = [
        first["python"],
        "-c",
        "import demo_pkg, gr00t, groot_tool; print(demo_pkg.WHERE, gr00t.__file__)",
    ]
    out = subprocess.run(probe, capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == "pinned", out
    assert out.split()[1].startswith(str(project))  # editable: imported from the checkout itself

    second = envsetup.ensure_env(spec, _runner)
    assert second["changed"] is False and second["steps"] == []

    _wheel(tmp_path / "w", "groot_tool", "VALUE = 2\n")
    third = envsetup.ensure_env(spec, _runner)
    assert third["steps"] == ["install"]
    value = subprocess.run(
        [first["python"], "-c", "import groot_tool; print(groot_tool.VALUE)"], capture_output=True, text=True
    )
    assert value.stdout.strip() == "2"
    record = json.loads((tmp_path / "env" / envsetup.STATE_FILE).read_text())
    assert record["project_commit"] == "a" * 40 and record["packages"] == {
        tool.name: envsetup.sha256_file(str(tool))
    }


def test_module_check_mode_plans_a_fresh_env_and_writes_nothing(tmp_path: Path) -> None:
    from tests.unit.modules.harness import run_module

    project = _checkout(tmp_path)
    wheel = f"{tmp_path}/w/groot_ops-0.1.0-py3-none-any.whl[workstation]"
    args = {
        "manager": "conda",
        "prefix": str(tmp_path / "envs" / "unitree_sim_env"),
        "project": str(project),
        "conda_exe": "/opt/conda/bin/conda",
        "packages": [wheel],
    }
    result = run_module("groot_python_env", args, check=True, diff=True)
    assert result["changed"] and result["steps"] == ["create env", "bootstrap uv", "install"]
    assert result["commands"][0]["argv"][-1] == "python=3.10"
    assert result["python"] == str(tmp_path / "envs/unitree_sim_env/bin/python")
    assert result["diff"]["before"] == {} and result["diff"]["after"]["project"] == str(project)
    assert not (tmp_path / "envs").exists()
    bad = run_module("groot_python_env", {**args, "prefix": "relative"}, check=True)
    assert bad["failed"] and "absolute directory" in bad["msg"]


def test_reinstalled_local_packages_are_folded_in_the_dry_run() -> None:
    lines = [
        "- gr00t==0.1.0 (from file:///workspace/Isaac-GR00T)",
        "+ gr00t @ file:///workspace/Isaac-GR00T",
        "- torch==2.7.0",
        "+ torch==2.7.1+cu128",
        "- groot-ops==0.1.0 (from file:///opt/w/groot_ops-0.1.0-py3-none-any.whl)",
        "+ groot-ops @ file:///opt/w/groot_ops-0.1.0-py3-none-any.whl",
    ]
    assert envsetup.package_changes(lines) == [
        "~ gr00t (reinstall)", "- torch==2.7.0", "+ torch==2.7.1+cu128", "~ groot-ops (reinstall)",
    ]  # fmt: skip
