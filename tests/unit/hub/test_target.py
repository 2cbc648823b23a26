"""HubTarget: one value for endpoint, token and retry budget; the token never shows in its repr."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

import pytest

from groot_ops.hub.download import download_dataset
from groot_ops.hub.retry import HubUnavailableError
from groot_ops.hub.target import HubTarget
from groot_ops.hub.upload import publish_folder

SECRET = "hf_TopSecretTokenValue123456789"


def test_token_is_left_out_of_repr_and_str() -> None:
    target = HubTarget(endpoint="http://127.0.0.1:1", token=SECRET, max_retries=3, backoff_s=0.5)
    for text in (repr(target), str(target), f"{target}", f"{[target]}"):
        assert SECRET not in text
        assert "token" not in text
        assert "http://127.0.0.1:1" in text and "max_retries=3" in text and "backoff_s=0.5" in text


def test_is_frozen() -> None:
    target = HubTarget(token=SECRET)
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.token = "other"  # type: ignore[misc]


@pytest.mark.parametrize("func", [download_dataset, publish_folder])
def test_defaults_match_the_public_functions(func: Callable[..., object]) -> None:
    # The public keyword defaults and the dataclass defaults must not drift apart.
    params = inspect.signature(func).parameters
    target = HubTarget()
    assert params["max_retries"].default == target.max_retries
    assert params["backoff_s"].default == target.backoff_s
    assert params["retry_budget_s"].default == target.retry_budget_s
    assert params["unreachable_budget_s"].default == target.unreachable_budget_s
    assert params["progress_file"].default is target.progress_file is None
    assert params["endpoint"].default is target.endpoint is None


def test_api_is_bound_to_endpoint_and_token() -> None:
    api = HubTarget(endpoint="http://127.0.0.1:9", token=SECRET).api()
    assert api.endpoint == "http://127.0.0.1:9"
    assert api.token == SECRET


def test_retry_uses_the_targets_budget() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        raise ConnectionError("connection reset")

    target = HubTarget(endpoint="http://hub.test", max_retries=2, backoff_s=0.0)
    with pytest.raises(HubUnavailableError, match=r"Hub http://hub\.test kept failing probe of me/m"):
        target.retry("probe", "me/m", flaky)
    assert len(calls) == 3
    # Every call of one target reports into the same list (one operation's retries).
    assert len(target.retry_lines) == 3 and target.retry_lines[-1].endswith("retry limit of 2 reached")


def test_retry_returns_the_result() -> None:
    assert HubTarget(max_retries=0).retry("probe", "me/m", lambda: 42) == 42
