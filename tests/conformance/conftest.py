"""Opt-in conformance suite: the product against the real Isaac-GR00T n1.6.1 code.

Every test here skips, with the reason printed, unless ``GROOT_UPSTREAM_SRC`` (and its venv) is set.
"""

from __future__ import annotations

import pytest

from tests.conformance.upstream import PINNED_COMMIT, Upstream, UpstreamMissing


@pytest.fixture(scope="session")
def upstream() -> Upstream:
    try:
        found = Upstream.from_env()
    except UpstreamMissing as exc:
        pytest.skip(str(exc))
    commit = found.commit()
    if commit != PINNED_COMMIT:
        where = commit or "no git commit"
        pytest.fail(f"GROOT_UPSTREAM_SRC is at {where}, not n1.6.1-release {PINNED_COMMIT}")
    return found


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/conformance/" in str(item.fspath):
            item.add_marker(pytest.mark.conformance)
