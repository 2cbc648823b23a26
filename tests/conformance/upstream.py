"""Where the real Isaac-GR00T checkout and its interpreter are, and how to run our probes in it.

The conformance suite and ``record.py`` never import upstream code into this process: upstream
pins numpy, transformers and torch versions of its own. Scripts under ``upstream_side/`` (our code)
run in upstream's interpreter with the checkout on ``PYTHONPATH`` and answer in JSON or files.

``GROOT_UPSTREAM_SRC``: an Isaac-GR00T checkout at ``n1.6.1-release``.
``GROOT_UPSTREAM_PYTHON``: the interpreter of a venv holding upstream's pins (default
``$GROOT_UPSTREAM_SRC/.venv/bin/python``).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
UPSTREAM_SIDE = HERE / "upstream_side"
PINNED_COMMIT = "5dc80c4afd726b34faad1d8f7e007a13b34e4c88"


class UpstreamMissing(RuntimeError):
    """No usable upstream checkout or interpreter; the message says what is missing."""


@dataclass(frozen=True)
class Upstream:
    src: Path
    python: Path

    @classmethod
    def from_env(cls) -> Upstream:
        src = os.environ.get("GROOT_UPSTREAM_SRC", "")
        if not src:
            raise UpstreamMissing(
                "GROOT_UPSTREAM_SRC is not set: the conformance suite runs only against a real "
                "Isaac-GR00T n1.6.1 checkout and its venv (docs/conformance.md)"
            )
        root = Path(src).expanduser().resolve()
        if not (root / "gr00t").is_dir():
            raise UpstreamMissing(f"GROOT_UPSTREAM_SRC={root} holds no gr00t/ package")
        python = Path(os.environ.get("GROOT_UPSTREAM_PYTHON", root / ".venv" / "bin" / "python"))
        if not python.exists():
            raise UpstreamMissing(
                f"no upstream interpreter at {python}: set GROOT_UPSTREAM_PYTHON to a venv holding "
                "upstream's pins"
            )
        return cls(src=root, python=python)

    def commit(self) -> str:
        out = subprocess.run(
            ["git", "-C", str(self.src), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
        return out.stdout.strip()

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        paths = [str(UPSTREAM_SIDE), str(self.src)]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        env.setdefault("WANDB_MODE", "disabled")
        env.update(extra or {})
        return env

    def run(
        self,
        script: str,
        *args: str,
        timeout_s: float = 600,
        extra_env: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``upstream_side/<script>`` in upstream's interpreter."""
        proc = subprocess.run(
            [str(self.python), str(UPSTREAM_SIDE / script), *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=self.env(extra_env),
            cwd=str(self.src),
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{script} {' '.join(args)} failed in upstream's interpreter (exit {proc.returncode}):\n"
                f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        return proc

    def run_json(self, script: str, *args: str, **kwargs: Any) -> Any:
        """Run a script whose last stdout line is one JSON document."""
        proc = self.run(script, *args, **kwargs)
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        if not lines:
            raise AssertionError(f"{script} printed nothing; stderr:\n{proc.stderr[-4000:]}")
        return json.loads(lines[-1])
