"""Upstream's packaging facts (pyproject pins and [tool.uv.sources], the Dockerfiles' layout) as groot-ops
builds on them: the env install, the server image build, the GPU arch check."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conformance.upstream import Upstream

TOPIC = "packaging"


def record(upstream: Upstream, out_dir: Path) -> list[Path]:
    facts = upstream.run_json("packaging_facts.py")
    path = out_dir / "facts.json"
    path.write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")
    return [path]
