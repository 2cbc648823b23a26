"""NEW_EMBODIMENT fixtures from the real Isaac-GR00T code (tests/fixtures/upstream/modality_config/).

``verdicts.json``: for each case of tests/modality_cases.py (plus NEW_EMBODIMENT without a config and a
config path that does not exist), what the real ``launch_finetune.py`` does with ``--embodiment_tag
NEW_EMBODIMENT --modality_config_path``: ok, or the exception type and message and the stage it came
from (validate, generate_stats, generate_rel_stats, dataset, statistics, step). Temporary paths in the
messages are replaced by ``<CONFIG_DIR>``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from tests.conformance.upstream import PINNED_COMMIT, Upstream

TOPIC = "modality_config"


def cases_argv(tmp: Path, dataset: Path) -> list[dict]:
    from tests.modality_cases import EDITS, write_config

    cases = []
    for name in EDITS:
        data = tmp / f"data-{name}"
        shutil.copytree(dataset, data)
        config = write_config(tmp / "cfgs", name)
        argv = ["--base_model_path", "x", "--dataset_path", str(data), "--embodiment_tag", "NEW_EMBODIMENT"]
        cases.append({"name": name, "argv": [*argv, "--modality_config_path", str(config)]})
    data = tmp / "data-none"
    shutil.copytree(dataset, data)
    base = ["--base_model_path", "x", "--dataset_path", str(data), "--embodiment_tag", "NEW_EMBODIMENT"]
    cases.append({"name": "new_embodiment_without_config", "argv": base})
    cases.append(
        {"name": "config_path_missing", "argv": [*base, "--modality_config_path", str(tmp / "cfgs/nope.py")]}
    )
    return cases


def record(upstream: Upstream, out_dir: Path) -> list[Path]:
    from tests.data_factory import make_groot, make_raw

    with tempfile.TemporaryDirectory(prefix="groot-modality-record-") as name:
        tmp = Path(name)
        dataset = make_groot(tmp / "g1", make_raw(tmp / "raw"))
        cases_file = tmp / "cases.json"
        cases_file.write_text(json.dumps(cases_argv(tmp, dataset)))
        found = upstream.run_json("modality_config_verdict.py", str(cases_file))
        verdicts = {}
        for case, verdict in found.items():
            error = verdict["error"]
            if error:
                error = {**error, "message": error["message"].replace(str(tmp / "cfgs"), "<CONFIG_DIR>")}
            verdicts[case] = {"ok": verdict["ok"], "stage": verdict["stage"], "error": error}
    out = out_dir / "verdicts.json"
    out.write_text(
        json.dumps({"upstream": PINNED_COMMIT, "cases": verdicts}, indent=1, sort_keys=True) + "\n"
    )
    return [out]
