"""HubTarget: one value for endpoint, token and retry budget; the token never shows in its repr."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from groot_ops.hub.download import download_dataset
from groot_ops.hub.retry import HubUnavailableError
from groot_ops.hub.target import HubOptions, HubTarget
from groot_ops.hub.upload import publish_folder
from groot_ops.hub.warm_start import ensure_warm_start
from tests.unit.modules import harness  # noqa: F401  (module_utils/ as ansible.module_utils)

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


def test_from_params_takes_the_modules_hub_options() -> None:
    # The spec the modules declare (module_utils/groot_ops_common.py) and the dataclass defaults agree:
    # a module that leaves an option unset gets exactly what a Python caller that omits it gets.
    from ansible.module_utils.groot_ops_common import hub_argument_spec, hub_kwargs

    spec = hub_argument_spec()
    assert set(spec) == HubOptions.__optional_keys__
    params = {name: option.get("default") for name, option in spec.items()}
    assert HubTarget.from_params(params) == HubTarget() == HubTarget.from_params(hub_kwargs(params))
    assert HubTarget.from_params({}) == HubTarget()
    # An Ansible option left empty means unset, as hub_kwargs always said.
    target = HubTarget.from_params({**params, "endpoint": "", "token": "", "progress_file": ""})
    assert target.endpoint is None and target.token is None and target.progress_file is None
    given = HubTarget.from_params(
        {"endpoint": "http://h:1", "token": SECRET, "max_retries": 4, "backoff_s": 0.5}
    )
    assert (given.endpoint, given.token, given.max_retries, given.backoff_s) == ("http://h:1", SECRET, 4, 0.5)


def test_from_params_refuses_an_unknown_option_like_a_keyword() -> None:
    with pytest.raises(TypeError, match=r"unexpected Hub option.*retry_budget"):
        HubTarget.from_params({"retry_budget": 10})


@pytest.mark.parametrize(
    ("func", "args"),
    [(download_dataset, ("o/d", "main", "/nonexistent")), (publish_folder, ("/nonexistent", "o/m")),
     (ensure_warm_start, ("o/m", "main", "/nonexistent"))],
)  # fmt: skip
def test_public_functions_refuse_a_misspelt_hub_option(func: Callable[..., object], args: tuple) -> None:
    # The options travel as **hub_options now: a typo must still fail, before any Hub call.
    with pytest.raises(TypeError, match=r"unexpected Hub option.*endpiont"):
        func(*args, token="t", endpiont="http://127.0.0.1:9")


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
