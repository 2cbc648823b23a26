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


def with_stop_signal(image: str, signal: str = "SIGINT") -> str:
    """``image`` with ``STOPSIGNAL signal``: a test image that ``docker stop`` ends at once.

    Upstream's server (and the stand-in) runs ``python`` as PID 1, which the kernel spares a SIGTERM it has
    no handler for, so each ``docker stop``/``restart``/revision switch waits out Docker's 10 s grace and
    ends in SIGKILL. The server handles SIGINT (KeyboardInterrupt, as upstream's run_gr00t_server.py does),
    so tests that switch the container many times serve from this image and skip those waits; nothing they
    assert depends on how the old container stops. bench_rollback keeps the plain image: its numbers are
    what a host sees.
    """
    tag = f"{image}-stop-{signal.lower()}"
    dockerfile = f"FROM {image}\nSTOPSIGNAL {signal}\n"
    subprocess.run(["docker", "build", "-q", "-t", tag, "-"], input=dockerfile, check=True,
                   capture_output=True, text=True)  # fmt: skip
    return tag
