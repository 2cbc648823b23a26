"""The stand-in's groot-server image for tests that deploy a given image (groot_server_image set).

Built the way the groot_server role builds it on an inference host (groot_ops.serverimage.build_plan:
the published stand-in checkout as context, its docker/Dockerfile), except that the build runs here with
whatever builder the local docker CLI has (the role asks for BuildKit, which a CLI without buildx lacks).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from groot_ops.serverimage import build_plan

REPO = Path(__file__).resolve().parents[2]
TAG_NAME = "groot-ops-test/groot-server"


def build_standin_server_image() -> str:
    """Publish the stand-in, build its x86_64 server image (Docker's layer cache makes re-runs cheap)."""
    with tempfile.TemporaryDirectory(prefix="groot-ops-standin-") as tmp:
        checkout = Path(tmp) / "Isaac-GR00T"
        commit = subprocess.run(
            ["bash", str(REPO / "tests/standins/publish_repo.sh"), str(checkout)],
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        plan = build_plan(context=str(checkout), commit=commit, arch="x86_64", name=TAG_NAME, network="")
        argv = [plan.argv[0], "build", "--pull=false", "-q", *plan.argv[2:]]
        subprocess.run(argv, check=True, capture_output=True, text=True)
    return plan.image
