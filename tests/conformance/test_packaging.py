"""The recorded packaging facts are still what the pinned checkout says (re-derived from its files)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conformance.upstream import Upstream

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "upstream" / "packaging" / "facts.json"


def test_packaging_facts_match_the_checkout(upstream: Upstream) -> None:
    assert upstream.run_json("packaging_facts.py") == json.loads(FIXTURE.read_text())
