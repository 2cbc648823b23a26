"""Sub-folder dataset downloads and warm-start model fetches, with the real client against the test Hub."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from groot_ops.errors import InputError
from groot_ops.hub.download import MARKER, download_dataset
from groot_ops.hub.modelcard import render_model_card
from groot_ops.hub.warm_start import MARKER as MODEL_MARKER
from groot_ops.hub.warm_start import prepare_warm_start

TOWEL = "unitreerobotics/G1_Dex1_Fold_Towel"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts
    )


@pytest.fixture
def xembodiment(tmp_path: Path) -> Path:
    """A repo of several GR00T-layout sub-folders, as GR00T-X-Embodiment-Sim is laid out."""
    root = tmp_path / "xemb"
    for folder in ("unitree_g1.LMPnPAppleToPlateDC", "gr1_arms_only.CanSort"):
        _write(root / folder / "meta" / "info.json", b'{"codebase_version": "v2.1"}')
        _write(root / folder / "data" / "chunk-000" / "episode_000000.parquet", os.urandom(2000))
        _write(
            root / folder / "videos" / "chunk-000" / "observation.images.ego_view" / "episode_000000.mp4",
            os.urandom(3000),
        )
    _write(root / "README.md", b"# x-embodiment\n")
    return root


def test_subfolder_fetches_only_that_folder(hub, xembodiment, tmp_path):
    sha = hub.seed("nvidia/XEmb-Sim", xembodiment)
    out = tmp_path / "raw" / "loco"
    result = download_dataset(
        "nvidia/XEmb-Sim", "main", str(out), endpoint=hub.url, subfolder="unitree_g1.LMPnPAppleToPlateDC"
    )
    assert result["sha"] == sha and result["files"] == 3
    assert _files(out) == sorted(
        [
            MARKER,
            *(
                f"unitree_g1.LMPnPAppleToPlateDC/{p}"
                for p in _files(xembodiment / "unitree_g1.LMPnPAppleToPlateDC")
            ),
        ]
    )
    hub.server.clear_requests()
    again = download_dataset(
        "nvidia/XEmb-Sim", "main", str(out), endpoint=hub.url, subfolder="unitree_g1.LMPnPAppleToPlateDC"
    )
    assert again["changed"] is False and not hub.server.recorded(path_regex="/resolve/")


def test_missing_subfolder_fails_naming_repo_revision_and_folder(hub, xembodiment, tmp_path):
    sha = hub.seed("nvidia/XEmb-Sim", xembodiment, tags=["v1"])
    out = tmp_path / "raw" / "loco"
    for check in (True, False):
        with pytest.raises(InputError) as err:
            download_dataset(
                "nvidia/XEmb-Sim",
                "v1",
                str(out),
                endpoint=hub.url,
                subfolder="unitree_g1.NoSuchTask",
                check=check,
            )
        message = str(err.value)
        assert "unitree_g1.NoSuchTask" in message and "nvidia/XEmb-Sim" in message
        assert "revision v1" in message and sha in message
    assert not out.exists()
    with pytest.raises(InputError, match="subfolder must be a folder"):
        download_dataset("nvidia/XEmb-Sim", "v1", str(out), endpoint=hub.url, subfolder="../etc")


def _model(root: Path, datasets: list[dict] | None) -> Path:
    _write(root / "model-00001-of-00001.safetensors", os.urandom(4096))
    _write(root / "config.json", b'{"model_type": "Gr00tN1d6"}')
    if datasets is not None:
        card = render_model_card(
            {
                "recipe": "fold-towel",
                "datasets": datasets,
                "isaac_groot": {"repo": "NVIDIA/Isaac-GR00T", "commit": "c" * 40},
                "groot_ops_commit": "d" * 40,
                "base_model": "nvidia/GR00T-N1.6-3B",
                "embodiment_tag": "UNITREE_G1",
                "training_flags": {"max_steps": 6000},
                "steps": 6000,
                "files": [{"path": "config.json", "size": 10}],
                "data_fingerprint": "f" * 64,
            }
        )
        _write(root / "README.md", card.encode())
    return root


def _provenance(tmp_path: Path, sha: str) -> str:
    path = tmp_path / "provenance.json"
    path.write_text(
        json.dumps(
            {"datasets": [{"name": "fold_towel", "repo_id": TOWEL, "sha": sha}], "fingerprint": "e" * 64}
        )
    )
    return str(path)


def test_hub_source_is_fetched_by_sha_once_and_recorded(hub, tmp_path):
    data_sha = "a" * 40
    model_sha = hub.seed(
        "datamentorshf/groot-g1-gripper-fold-towel",
        _model(
            tmp_path / "m", [{"name": "fold_towel", "repo_id": TOWEL, "revision": "main", "sha": data_sha}]
        ),
        repo_type="model",
    )
    root = tmp_path / "models"
    source = {"repo_id": "datamentorshf/groot-g1-gripper-fold-towel", "revision": "main"}
    kwargs = {"endpoint": hub.url, "datasets_provenance": _provenance(tmp_path, data_sha)}

    planned = prepare_warm_start(source, root, check=True, **kwargs)
    assert planned["changed"] is True and planned["decision"] == "same" and not root.exists()

    first = prepare_warm_start(source, root, **kwargs)
    path = Path(first["path"])
    assert path == root / "datamentorshf--groot-g1-gripper-fold-towel" / model_sha
    assert first["source"] == {**source, "sha": model_sha}
    assert (path / "model-00001-of-00001.safetensors").stat().st_size == 4096 and (
        path / MODEL_MARKER
    ).is_file()
    assert [p.name for p in path.parent.iterdir()] == [model_sha]  # no staging left behind

    hub.server.clear_requests()
    again = prepare_warm_start(source, root, **kwargs)
    assert again["changed"] is False and again["path"] == str(path)
    assert not hub.server.recorded(path_regex="/resolve/")


def test_source_trained_on_other_data_is_refused_before_any_weight_moves(hub, tmp_path):
    hub.seed(
        "lab/phase1",
        _model(
            tmp_path / "m", [{"name": "fold_towel", "repo_id": TOWEL, "revision": "main", "sha": "a" * 40}]
        ),
        repo_type="model",
    )
    root = tmp_path / "models"
    provenance = _provenance(tmp_path, "b" * 40)
    with pytest.raises(InputError, match=r"warm start refused: lab/phase1@.*accept_other_data: true"):
        prepare_warm_start(
            {"repo_id": "lab/phase1", "revision": "main"},
            root,
            endpoint=hub.url,
            datasets_provenance=provenance,
        )
    assert not hub.server.recorded("GET", ".safetensors")
    accepted = prepare_warm_start(
        {"repo_id": "lab/phase1", "revision": "main", "accept_other_data": True},
        root,
        endpoint=hub.url,
        datasets_provenance=provenance,
    )
    assert accepted["decision"] == "accepted" and accepted["warnings"]


def test_source_without_card_warns_and_bad_revision_fails(hub, tmp_path):
    hub.seed("datamentorshf/handmade", _model(tmp_path / "m", None), repo_type="model")
    got = prepare_warm_start(
        {"repo_id": "datamentorshf/handmade", "revision": "main"}, tmp_path / "models", endpoint=hub.url
    )
    assert got["decision"] == "warn" and "no groot-ops model card" in got["warnings"][0]
    with pytest.raises(
        InputError, match="revision 'nope' does not exist in model repo datamentorshf/handmade"
    ):
        prepare_warm_start(
            {"repo_id": "datamentorshf/handmade", "revision": "nope"}, tmp_path / "m2", endpoint=hub.url
        )
    with pytest.raises(InputError, match="model repo datamentorshf/absent not found"):
        prepare_warm_start(
            {"repo_id": "datamentorshf/absent", "revision": "main"}, tmp_path / "m3", endpoint=hub.url
        )


def test_pending_decides_from_the_controller_reading_nothing_of_the_host(hub, tmp_path):
    # plan before provision: the training host's root and dataset record are not there to read; a
    # record on this machine (which would refuse: other SHAs) is ignored, the recipe's repos compared.
    model_sha = hub.seed(
        "datamentorshf/groot-g1-gripper-fold-towel",
        _model(
            tmp_path / "m", [{"name": "fold_towel", "repo_id": TOWEL, "revision": "main", "sha": "a" * 40}]
        ),
        repo_type="model",
    )
    root = tmp_path / "host-models"
    source = {"repo_id": "datamentorshf/groot-g1-gripper-fold-towel", "revision": "main"}
    planned = prepare_warm_start(
        source,
        str(root),
        endpoint=hub.url,
        datasets=[{"name": "fold_towel", "repo_id": TOWEL, "revision": "main"}],
        datasets_provenance=_provenance(tmp_path, "b" * 40),
        pending=True,
    )
    assert planned["pending"] is True and planned["changed"] is True and planned["decision"] == "same"
    assert planned["source"] == {**source, "sha": model_sha}
    assert planned["summary"].startswith(
        f"warm start from datamentorshf/groot-g1-gripper-fold-towel@main -> {model_sha} (card matches: same "
        "dataset repos"
    )
    assert (
        f"into {root}/datamentorshf--groot-g1-gripper-fold-towel/{model_sha} once provision"
        in planned["summary"]
    )
    assert not root.exists()
    assert not hub.server.recorded("GET", ".safetensors")


def test_pending_fails_on_other_data_and_on_a_missing_source_naming_the_repo(hub, tmp_path):
    trained_elsewhere = [{"name": "x", "repo_id": "nvidia/Other", "revision": "main", "sha": "a" * 40}]
    hub.seed("lab/phase1", _model(tmp_path / "m", trained_elsewhere), repo_type="model", tags=["v1"])
    recipe = {"endpoint": hub.url, "datasets": [{"repo_id": TOWEL, "revision": "main"}], "pending": True}
    root = str(tmp_path / "host-models")
    with pytest.raises(
        InputError, match=r"warm start refused: lab/phase1@\w{12} was trained on nvidia/Other"
    ):
        prepare_warm_start({"repo_id": "lab/phase1", "revision": "v1"}, root, **recipe)
    acknowledged = prepare_warm_start(
        {"repo_id": "lab/phase1", "revision": "v1", "accept_other_data": True}, root, **recipe
    )
    assert (
        "(other data acknowledged by accept_other_data: trained on nvidia/Other@" in acknowledged["summary"]
    )
    with pytest.raises(InputError, match="revision 'v2' does not exist in model repo lab/phase1"):
        prepare_warm_start({"repo_id": "lab/phase1", "revision": "v2"}, root, **recipe)
    with pytest.raises(InputError, match="model repo lab/absent not found"):
        prepare_warm_start({"repo_id": "lab/absent", "revision": "main"}, root, **recipe)
    assert not hub.server.recorded("GET", ".safetensors")
    assert not (tmp_path / "host-models").exists()
