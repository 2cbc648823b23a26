"""The suite's own contract: it runs against the pinned checkout, and our probes run in its interpreter."""

from __future__ import annotations

from tests.conformance.upstream import PINNED_COMMIT, Upstream


def test_upstream_interpreter_imports_the_checkout(upstream: Upstream) -> None:
    assert upstream.commit() == PINNED_COMMIT
    found = upstream.run_json("where_is_gr00t.py")
    assert found["gr00t"].startswith(str(upstream.src)), found
