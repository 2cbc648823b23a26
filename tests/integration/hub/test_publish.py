"""Export + model card + publish_folder against the test Hub (Xet off and Xet local:// CAS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from groot_ops.errors import GrootOpsError
from groot_ops.hub.export import export_inference_model
from groot_ops.hub.modelcard import write_model_card
from groot_ops.hub.retry import HubAuthError
from groot_ops.hub.upload import publish_folder
from tests.checkpoint_factory import write_checkpoint
from tests.hub_server.fixtures import OTHER_TOKEN, READ_TOKEN

REPO = "groot/g1-hospitality-7ds"
SHA_A = "a" * 40
SHA_B = "b" * 40


def provenance(files: list[dict]) -> dict:
    return {
        "recipe": "hospitality-7ds",
        "datasets": [
            {"name": "fold", "repo_id": "unitreerobotics/G1_Fold_Towel", "revision": "v1.0", "sha": SHA_A}
        ],
        "isaac_groot": {"repo": "NVIDIA/Isaac-GR00T", "commit": SHA_B},
        "groot_ops_commit": "c" * 40,
        "base_model": "nvidia/GR00T-N1.6-3B",
        "embodiment_tag": "UNITREE_G1",
        "training_flags": {"max_steps": 20, "global_batch_size": 8, "dataset_path": "hospitality-7ds-merged"},
        "steps": 20,
        "final_loss": 0.0412,
        "files": files,
    }


@pytest.fixture
def export(tmp_path: Path) -> Path:
    runs = tmp_path / "checkpoints" / "hospitality-7ds"
    write_checkpoint(runs, 10)
    write_checkpoint(runs, 20)
    target = tmp_path / "exports" / "step-20"
    result = export_inference_model(runs, target)
    png = tmp_path / "loss.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(64)))
    write_model_card(target, provenance(result["files"]), loss_curve=png)
    return target


def test_publish_private_tags_commit_and_rerun_sends_nothing(hub_any, export):
    first = publish_folder(str(export), REPO, token=hub_any.token, tag="step-20", endpoint=hub_any.url)

    assert first["changed"] is True and first["created"] is True
    sent = sorted(first["uploaded_files"])
    assert "model-00001-of-00002.safetensors" in sent and "README.md" in sent and "loss_curve.png" in sent
    assert not [
        p for p in sent if "optimizer" in p or "rng_state" in p or "global_step" in p or "trainer" in p
    ]
    create = hub_any.server.recorded("POST", "/api/repos/create")
    # hub 2.x sends visibility, 1.x sent private: either way the request must ask for a private repo.
    assert create and (create[0].body.get("visibility") == "private" or create[0].body.get("private") is True)
    commits = hub_any.server.recorded("POST", "/commit/main")
    assert len(commits) == 1 and commits[0].extra["commit"] == first["commit"]
    lfs_paths = {line["value"]["path"] for line in commits[0].body if line["key"] == "lfsFile"}
    assert {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"} <= lfs_paths
    tag = hub_any.server.recorded("POST", "/tag/")
    assert tag[0].path.endswith(f"/tag/{first['commit']}") and tag[0].body["tag"] == "step-20"
    if hub_any.xet:
        assert hub_any.server.recorded("GET", "/xet-write-token/")
        assert not hub_any.server.recorded("PUT", "/_lfs/")
        assert [p for p in hub_any.server.xet_cas_dir.rglob("*") if p.is_file()], "no chunks in the local CAS"
    else:
        assert hub_any.server.recorded("PUT", "/_lfs/")

    hub_any.server.clear_requests()
    again = publish_folder(str(export), REPO, token=hub_any.token, tag="step-20", endpoint=hub_any.url)
    assert again["changed"] is False and again["commit"] == first["commit"] and again["uploaded_files"] == []
    methods = {
        (r.method, r.path.split("/")[-2] if r.method != "GET" else "") for r in hub_any.server.recorded()
    }
    assert all(m == "GET" for m, _ in methods), methods
    assert sum(r.body_bytes for r in hub_any.server.recorded()) == 0


def test_remote_card_matches_and_has_no_secrets(hub, export):
    result = publish_folder(str(export), REPO, token=hub.token, tag="step-20", endpoint=hub.url)
    from huggingface_hub import hf_hub_download

    card = Path(
        hf_hub_download(REPO, "README.md", revision="step-20", token=hub.token, endpoint=hub.url)
    ).read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["groot_ops"]["datasets"][0]["sha"] == SHA_A
    assert front["groot_ops"]["isaac_groot"]["commit"] == SHA_B
    assert front["base_model"] == "nvidia/GR00T-N1.6-3B" and front["groot_ops"]["steps"] == 20
    assert "loss_curve.png" in card and "model-00002-of-00002.safetensors" in card
    assert hub.token not in card and str(export) not in card and "/tmp" not in card
    assert result["url"].endswith(REPO)


def test_changed_content_makes_one_new_commit_and_tag_conflict_fails(hub, export, tmp_path):
    first = publish_folder(str(export), REPO, token=hub.token, tag="step-20", endpoint=hub.url)
    (export / "statistics.json").unlink()  # break the hardlink before editing
    (export / "statistics.json").write_text(json.dumps({"unitree_g1": {"state": {"mean": [1.0]}}}))
    hub.server.clear_requests()
    with pytest.raises(GrootOpsError, match=f"tag step-20 of {REPO} already points at {first['commit']}"):
        publish_folder(str(export), REPO, token=hub.token, tag="step-20", endpoint=hub.url)
    commit = hub.server.recorded("POST", "/commit/main")[0]
    assert [line["value"]["path"] for line in commit.body if line["key"] in ("file", "lfsFile")] == [
        "statistics.json"
    ]
    second = publish_folder(str(export), REPO, token=hub.token, tag="step-21", endpoint=hub.url)
    assert second["changed"] is True and second["uploaded_files"] == []
    assert second["commit"] != first["commit"]


def test_stale_remote_files_are_deleted(hub, export):
    publish_folder(str(export), REPO, token=hub.token, endpoint=hub.url)
    (export / "loss_curve.png").unlink()
    result = publish_folder(str(export), REPO, token=hub.token, endpoint=hub.url)
    assert result["deleted_files"] == ["loss_curve.png"] and result["changed"] is True
    assert publish_folder(str(export), REPO, token=hub.token, endpoint=hub.url)["changed"] is False


def test_check_mode_reports_and_sends_nothing(hub, export):
    result = publish_folder(str(export), REPO, token=hub.token, tag="step-20", endpoint=hub.url, check=True)
    assert result["changed"] is True and result["created"] is True and len(result["uploaded_files"]) >= 9
    assert not [r for r in hub.server.recorded() if r.method != "GET"]
    publish_folder(str(export), REPO, token=hub.token, tag="step-20", endpoint=hub.url)
    again = publish_folder(str(export), REPO, token=hub.token, tag="step-20", endpoint=hub.url, check=True)
    assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"]


def test_429_on_commit_then_success(hub, export):
    hub.server.inject("POST", r"/commit/main$", status=429, times=1)
    result = publish_folder(
        str(export), REPO, token=hub.token, tag="step-20", endpoint=hub.url, backoff_s=0.05
    )
    statuses = [r.status for r in hub.server.recorded("POST", "/commit/main")]
    assert statuses == [429, 200] and result["changed"] is True


def test_persistent_500_gives_up_after_bounded_retries(hub, export):
    hub.server.inject("GET", r"/revision/", status=503, times=100)
    with pytest.raises(GrootOpsError, match=f"Hub {hub.url} kept failing repo lookup of {REPO}: HTTP 503"):
        publish_folder(str(export), REPO, token=hub.token, endpoint=hub.url, max_retries=1, backoff_s=0.01)


def test_bad_token_fails_fast_naming_the_repo(hub, export):
    bad = "hf_notavalidtoken000000000000"
    with pytest.raises(HubAuthError, match=REPO) as info:
        publish_folder(str(export), REPO, token=bad, endpoint=hub.url, backoff_s=5)
    assert bad not in str(info.value)
    assert len(hub.server.recorded()) == 1


def test_missing_token_is_refused_before_any_request(hub, export):
    with pytest.raises(GrootOpsError, match="needs a Hub token"):
        publish_folder(str(export), REPO, token="", endpoint=hub.url)
    assert not hub.server.recorded()


def test_other_users_token_can_read_public_only(hub, export):
    publish_folder(str(export), REPO, token=hub.token, endpoint=hub.url, private=False)
    from huggingface_hub import HfApi

    assert HfApi(endpoint=hub.url, token=OTHER_TOKEN).repo_info(REPO).private is False


def test_read_only_token_fails_fast_with_403(hub, export):
    publish_folder(str(export), REPO, token=hub.token, endpoint=hub.url)
    (export / "config.json").unlink()
    (export / "config.json").write_text("{}")
    hub.server.clear_requests()
    with pytest.raises(HubAuthError, match=rf"on {REPO} \(HTTP 403\)") as info:
        publish_folder(str(export), REPO, token=READ_TOKEN, endpoint=hub.url, backoff_s=5)
    assert READ_TOKEN not in str(info.value)
    assert [r.status for r in hub.server.recorded() if r.status >= 400] == [403]
