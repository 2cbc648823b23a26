"""NEW_EMBODIMENT modality configs against the real n1.6.1 launch_finetune.py (opt-in, see conftest.py).

Upstream's verdicts must equal the recorded ones (tests/fixtures/upstream/modality_config/verdicts.json),
and our checker must refuse exactly the configs upstream fails on, before upstream would.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from groot_ops.train.modality_config import check_against_dataset, parse_modality_config
from tests.conformance.recorders.modality_config import cases_argv
from tests.conformance.upstream import Upstream
from tests.data_factory import make_groot, make_raw
from tests.modality_cases import EDITS, recorded, write_config


def test_upstream_verdicts_match_the_fixture_and_our_checker(upstream: Upstream) -> None:
    with tempfile.TemporaryDirectory(prefix="groot-modality-conf-") as name:
        tmp = Path(name)
        dataset = make_groot(tmp / "g1", make_raw(tmp / "raw"))
        cases_file = tmp / "cases.json"
        cases_file.write_text(json.dumps(cases_argv(tmp, dataset)))
        found = upstream.run_json("modality_config_verdict.py", str(cases_file))
        want = recorded()
        for case, verdict in found.items():
            assert verdict["ok"] == want[case]["ok"], (case, verdict)
            assert verdict["stage"] == want[case]["stage"], (case, verdict)
            if verdict["error"]:
                message = verdict["error"]["message"].replace(str(tmp / "cfgs"), "<CONFIG_DIR>")
                assert (verdict["error"]["type"], message) == (
                    want[case]["error"]["type"],
                    want[case]["error"]["message"],
                )
        for case in EDITS:
            ours = check_against_dataset(parse_modality_config(write_config(tmp / "ours", case)), dataset)
            assert (not ours) == found[case]["ok"], (case, ours)
