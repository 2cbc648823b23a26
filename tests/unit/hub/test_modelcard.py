"""Model card: front matter parses, provenance complete, nothing private gets through."""

from __future__ import annotations

import copy

import pytest
import yaml

from groot_ops.errors import InputError
from groot_ops.hub.modelcard import public_flags, render_model_card, write_model_card

BASE = {
    "recipe": "hospitality-7ds",
    "datasets": [
        {"name": "fold", "repo_id": "unitreerobotics/G1_Fold_Towel", "revision": "v1.0", "sha": "1" * 40},
        {"name": "pour", "repo_id": "unitreerobotics/G1_Pour", "revision": "main", "sha": "2" * 40},
    ],
    "isaac_groot": {"repo": "https://github.com/NVIDIA/Isaac-GR00T", "commit": "3" * 40},
    "groot_ops_commit": "4" * 40,
    "base_model": "nvidia/GR00T-N1.6-3B",
    "embodiment_tag": "UNITREE_G1",
    "training_flags": {"max_steps": 20000, "global_batch_size": 64, "tune_visual": False},
    "steps": 20000,
    "final_loss": 0.0321,
    "loss_curve": "loss_curve.png",
    "files": [
        {"path": "config.json", "size": 900},
        {"path": "model-00001-of-00002.safetensors", "size": 5 << 30},
    ],
}


def test_card_front_matter_and_body_carry_the_provenance():
    card = render_model_card(BASE)
    assert card.startswith("---\n")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["base_model"] == "nvidia/GR00T-N1.6-3B"
    assert front["datasets"] == ["unitreerobotics/G1_Fold_Towel", "unitreerobotics/G1_Pour"]
    meta = front["groot_ops"]
    assert [d["sha"] for d in meta["datasets"]] == ["1" * 40, "2" * 40]
    assert meta["isaac_groot"]["commit"] == "3" * 40 and meta["groot_ops_commit"] == "4" * 40
    assert meta["steps"] == 20000 and meta["final_loss"] == 0.0321
    assert '"global_batch_size": 64' in card and '"tune_visual": false' in card
    assert "![training loss](loss_curve.png)" in card and "5.0 GiB" in card
    assert render_model_card(copy.deepcopy(BASE)) == card


@pytest.mark.parametrize(
    ("where", "value", "what"),
    [
        (("training_flags", "output_dir"), "/workspace/checkpoints/x", "local path"),
        (("training_flags", "dataset_path"), "~/data/x", "local path"),
        (("isaac_groot", "repo"), "http://192.168.1.205:8080/isaac.git", "host name"),
        (("training_flags", "note"), "trained on spark.local", "host name"),
        (("training_flags", "note"), "hf_AbCdEfGhIjKlMnOpQrStUv", "token"),
    ],
)
def test_private_values_are_refused(where, value, what):
    prov = copy.deepcopy(BASE)
    prov[where[0]][where[1]] = value
    with pytest.raises(InputError, match=f"{where[0]}.{where[1]} looks like a {what}"):
        render_model_card(prov)


def test_secret_keys_missing_fields_and_bad_shas_are_refused():
    prov = copy.deepcopy(BASE)
    prov["training_flags"]["hub_token"] = "x"
    with pytest.raises(InputError, match="must not carry secrets"):
        render_model_card(prov)
    prov = copy.deepcopy(BASE)
    del prov["base_model"]
    with pytest.raises(InputError, match="lacks: base_model"):
        render_model_card(prov)
    prov = copy.deepcopy(BASE)
    prov["datasets"][1]["sha"] = "main"
    with pytest.raises(InputError, match=r"datasets\[1\].sha must be a 40-hex commit sha"):
        render_model_card(prov)


def test_public_flags_strip_host_paths():
    flags = {
        "dataset_path": "/workspace/datasets/groot/hospitality-7ds-merged",
        "max_steps": 10,
        "paths": ["/data/a/", "b"],
    }
    assert public_flags(flags) == {
        "dataset_path": "hospitality-7ds-merged",
        "max_steps": 10,
        "paths": ["a", "b"],
    }
    render_model_card({**BASE, "training_flags": public_flags(flags)})


def test_write_model_card_is_idempotent_and_check_mode_writes_nothing(tmp_path):
    png = tmp_path / "curve.png"
    png.write_bytes(b"\x89PNG fake")
    export = tmp_path / "export"
    export.mkdir()
    assert write_model_card(export, BASE, loss_curve=png, check=True)["changed"] is True
    assert not (export / "README.md").exists()
    assert write_model_card(export, BASE, loss_curve=png)["changed"] is True
    assert (export / "loss_curve.png").read_bytes() == png.read_bytes()
    assert write_model_card(export, BASE, loss_curve=png)["changed"] is False
    with pytest.raises(InputError, match="loss curve image does not exist"):
        write_model_card(export, BASE, loss_curve=tmp_path / "nope.png")
